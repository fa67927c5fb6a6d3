// Fuzzes TcpView/TcpHeader::Parse on whole segments, options included.
// Properties: whatever verifies also parses without verification; header,
// options and payload lie inside the input; a parsed header re-emitted over
// the same payload verifies and parses back to the same value (SACK blocks
// that do not fit Linux's layout are dropped from the end, nothing else
// changes); with offload the checksum field holds the pseudo-header sum.
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

#include "stack/wire/tcp.h"
#include "tests/fuzz/fuzz_check.h"

using namespace locus::wire;

namespace {

// The addresses of the seed corpus (corpus/tcp/*_checksummed).
const Ipv4Address kSource = Ipv4Address::FromOctets(127, 0, 0, 1);
const Ipv4Address kDestination = Ipv4Address::FromOctets(127, 0, 0, 1);

bool Inside(std::span<const uint8_t> part, const uint8_t* data, size_t size) {
  return part.data() >= data && part.data() + part.size() <= data + size;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  ParseResult<TcpView> verified = TcpView::Parse(in, kSource, kDestination, RxChecksum::kVerify);
  ParseResult<TcpView> skipped = TcpView::Parse(in, kSource, kDestination, RxChecksum::kSkip);
  if (verified.ok()) FUZZ_CHECK(skipped.ok());
  if (!skipped.ok()) {
    FUZZ_CHECK(skipped.error() != WireError::kBadChecksum);
    return 0;
  }
  const TcpView& v = *skipped;
  FUZZ_CHECK(v.header_length() >= kTcpMinHeaderLength && v.header_length() <= kTcpMaxHeaderLength);
  FUZZ_CHECK(Inside(v.options_bytes(), data, size) && Inside(v.payload(), data, size));
  FUZZ_CHECK(v.payload().data() + v.payload().size() == data + size);
  FUZZ_CHECK(v.options().sack_block_count <= kTcpMaxSackBlocks);
  ParseResult<TcpOptions> options = TcpOptions::Parse(v.options_bytes());
  FUZZ_CHECK(options.ok() && *options == v.options());

  ParseResult<TcpHeader> h = TcpHeader::Parse(in, kSource, kDestination, RxChecksum::kSkip);
  FUZZ_CHECK(h.ok());
  TcpHeader expected = *h;
  expected.options.sack_block_count = static_cast<uint8_t>(h->options.emitted_sack_blocks());
  FUZZ_CHECK(h->length() <= kTcpMaxHeaderLength && h->length() % 4 == 0);

  const size_t length = h->length() + v.payload().size();
  std::unique_ptr<uint8_t[]> segment(new uint8_t[length]);
  if (!v.payload().empty()) {
    std::memcpy(segment.get() + h->length(), v.payload().data(), v.payload().size());
  }
  std::span<uint8_t> out(segment.get(), length);
  h->Emit(out, kSource, kDestination);
  ParseResult<TcpHeader> back = TcpHeader::Parse(out, kSource, kDestination, RxChecksum::kVerify);
  FUZZ_CHECK(back.ok() && *back == expected);

  h->Emit(out, kSource, kDestination, TxChecksum::kOffload);
  FUZZ_CHECK(LoadBe16(segment.get() + 16) ==
             PseudoHeaderSum(kSource, kDestination, kIpProtocolTcp, static_cast<uint16_t>(length)));
  return 0;
}
