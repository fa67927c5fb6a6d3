// Fuzzes Ipv4View/Ipv4Header::Parse with and without checksum verification.
// Properties: whatever verifies also parses without verification; the
// header, options and payload lie inside the input and the payload ends at
// the total length; a parsed header re-emitted with a fresh checksum
// (and padded to its total length) verifies and parses back to the same
// value, and for a plain 20-byte header it reproduces the input bytes.
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

#include "stack/wire/ipv4.h"
#include "tests/fuzz/fuzz_check.h"

using namespace locus::wire;

namespace {

bool Inside(std::span<const uint8_t> part, const uint8_t* data, size_t size) {
  return part.data() >= data && part.data() + part.size() <= data + size;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  ParseResult<Ipv4View> verified = Ipv4View::Parse(in, RxChecksum::kVerify);
  ParseResult<Ipv4View> skipped = Ipv4View::Parse(in, RxChecksum::kSkip);
  if (verified.ok()) FUZZ_CHECK(skipped.ok());
  if (!skipped.ok()) {
    FUZZ_CHECK(skipped.error() != WireError::kBadChecksum);
    return 0;
  }
  const Ipv4View& v = *skipped;
  FUZZ_CHECK(v.header_length() >= kIpv4MinHeaderLength);
  FUZZ_CHECK(v.header_length() <= kIpv4MaxHeaderLength);
  FUZZ_CHECK(v.header_length() <= v.total_length() && v.total_length() <= size);
  FUZZ_CHECK(Inside(v.header(), data, size) && Inside(v.options(), data, size));
  FUZZ_CHECK(Inside(v.payload(), data, size));
  FUZZ_CHECK(v.payload().data() + v.payload().size() == data + v.total_length());
  FUZZ_CHECK(v.header().size() + v.payload().size() == v.total_length());

  ParseResult<Ipv4Header> h = Ipv4Header::Parse(in, RxChecksum::kSkip);
  FUZZ_CHECK(h.ok());
  std::unique_ptr<uint8_t[]> out(new uint8_t[h->total_length]());
  h->Emit(std::span<uint8_t>(out.get(), h->total_length));
  ParseResult<Ipv4Header> back =
      Ipv4Header::Parse(std::span<const uint8_t>(out.get(), h->total_length), RxChecksum::kVerify);
  FUZZ_CHECK(back.ok() && *back == *h);
  if (verified.ok() && v.header_length() == kIpv4MinHeaderLength && (data[6] & 0x80) == 0) {
    // A sender may write 0xffff where the sum is -0 and we write 0x0000.
    uint16_t ours = LoadBe16(out.get() + 10), theirs = LoadBe16(data + 10);
    FUZZ_CHECK(ours == theirs || (ours == 0 && theirs == 0xffff));
    StoreBe16(out.get() + 10, theirs);
    FUZZ_CHECK(std::memcmp(out.get(), data, kIpv4MinHeaderLength) == 0);
  }
  return 0;
}
