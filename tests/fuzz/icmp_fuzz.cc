// Fuzzes IcmpView/IcmpHeader::Parse. Properties: whatever verifies also
// parses without verification; the payload is the rest of the message; a
// header re-emitted over the same payload verifies and parses back, and for
// a message that verified it reproduces the input; an echo request turned
// into a reply in place (RFC 1624 checksum update) still verifies.
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

#include "stack/wire/icmp.h"
#include "tests/fuzz/fuzz_check.h"

using namespace locus::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  ParseResult<IcmpView> verified = IcmpView::Parse(in, RxChecksum::kVerify);
  ParseResult<IcmpView> skipped = IcmpView::Parse(in, RxChecksum::kSkip);
  if (verified.ok()) FUZZ_CHECK(skipped.ok());
  if (!skipped.ok()) {
    FUZZ_CHECK(skipped.error() == WireError::kTruncated && size < kIcmpHeaderLength);
    return 0;
  }
  FUZZ_CHECK(skipped->payload().data() == data + kIcmpHeaderLength);
  FUZZ_CHECK(skipped->payload().size() == size - kIcmpHeaderLength);

  ParseResult<IcmpHeader> h = IcmpHeader::Parse(in, RxChecksum::kSkip);
  FUZZ_CHECK(h.ok());
  std::unique_ptr<uint8_t[]> copy(new uint8_t[size]);
  std::memcpy(copy.get(), data, size);
  std::span<uint8_t> message(copy.get(), size);
  h->Emit(message);
  ParseResult<IcmpHeader> back = IcmpHeader::Parse(message, RxChecksum::kVerify);
  FUZZ_CHECK(back.ok() && *back == *h);
  if (verified.ok()) {
    // Same bytes, except that a sender may write 0xffff where the sum is -0
    // and we write 0x0000: both verify.
    uint16_t ours = LoadBe16(copy.get() + 2), theirs = LoadBe16(data + 2);
    FUZZ_CHECK(ours == theirs || (ours == 0 && theirs == 0xffff));
    StoreBe16(copy.get() + 2, theirs);
    FUZZ_CHECK(std::memcmp(copy.get(), data, size) == 0);
    StoreBe16(copy.get() + 2, ours);
  }

  if (back->type == kIcmpTypeEchoRequest) {
    MakeEchoReplyInPlace(message);
    ParseResult<IcmpHeader> reply = IcmpHeader::Parse(message, RxChecksum::kVerify);
    FUZZ_CHECK(reply.ok());
    FUZZ_CHECK(reply->type == kIcmpTypeEchoReply && reply->code == h->code);
    FUZZ_CHECK(reply->rest_of_header == h->rest_of_header);
  }
  return 0;
}
