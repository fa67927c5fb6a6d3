// Fuzzes TcpOptions::Parse on raw option bytes (the whole input is the
// option space, so lengths past 40 are exercised too). Properties: more
// than kTcpMaxOptionsLength bytes never parse; what parses re-emits within
// 40 bytes in 4-byte units and parses back to the same options, less any
// SACK blocks that did not fit.
#include <cstdint>
#include <span>

#include "stack/wire/tcp.h"
#include "tests/fuzz/fuzz_check.h"

using namespace locus::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ParseResult<TcpOptions> o = TcpOptions::Parse(std::span<const uint8_t>(data, size));
  if (size > kTcpMaxOptionsLength) FUZZ_CHECK(!o.ok());
  if (!o.ok()) {
    FUZZ_CHECK(o.error() == WireError::kBadOption);
    return 0;
  }
  FUZZ_CHECK(o->sack_block_count <= kTcpMaxSackBlocks);
  const size_t length = o->length();
  FUZZ_CHECK(length <= kTcpMaxOptionsLength && length % 4 == 0);
  uint8_t out[kTcpMaxOptionsLength];
  o->Emit(std::span<uint8_t>(out, length));
  ParseResult<TcpOptions> back = TcpOptions::Parse(std::span<const uint8_t>(out, length));
  TcpOptions expected = *o;
  expected.sack_block_count = static_cast<uint8_t>(o->emitted_sack_blocks());
  FUZZ_CHECK(back.ok() && *back == expected);
  return 0;
}
