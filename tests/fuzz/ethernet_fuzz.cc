// Fuzzes EthernetView/EthernetHeader::Parse. Properties: a parsed frame's
// payload is the rest of the input, and Emit reproduces the header bytes.
#include <cstdint>
#include <cstring>
#include <span>

#include "stack/wire/ethernet.h"
#include "tests/fuzz/fuzz_check.h"

using namespace locus::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  ParseResult<EthernetView> v = EthernetView::Parse(in);
  ParseResult<EthernetHeader> h = EthernetHeader::Parse(in);
  FUZZ_CHECK(v.ok() == h.ok());
  if (!v.ok()) {
    FUZZ_CHECK(v.error() == h.error());
    return 0;
  }
  FUZZ_CHECK(v->payload().data() == data + kEthernetHeaderLength);
  FUZZ_CHECK(v->payload().size() == size - kEthernetHeaderLength);
  FUZZ_CHECK(h->ether_type >= kMinEtherType);
  uint8_t out[kEthernetHeaderLength];
  h->Emit(out);
  FUZZ_CHECK(std::memcmp(out, data, kEthernetHeaderLength) == 0);
  return 0;
}
