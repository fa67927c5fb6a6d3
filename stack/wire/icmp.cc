#include "stack/wire/icmp.h"

#include <cassert>

namespace locus::wire {

ParseResult<IcmpView> IcmpView::Parse(std::span<const uint8_t> message, RxChecksum checksum) {
  if (message.size() < kIcmpHeaderLength) return WireError::kTruncated;
  if (checksum == RxChecksum::kVerify && !ChecksumIsValid(message)) return WireError::kBadChecksum;
  return IcmpView(message);
}

ParseResult<IcmpHeader> IcmpHeader::Parse(std::span<const uint8_t> message, RxChecksum checksum) {
  ParseResult<IcmpView> v = IcmpView::Parse(message, checksum);
  if (!v.ok()) return v.error();
  return IcmpHeader{v->type(), v->code(), v->rest_of_header()};
}

void IcmpHeader::Emit(std::span<uint8_t> message) const {
  assert(message.size() >= kIcmpHeaderLength);
  uint8_t* p = message.data();
  p[0] = type;
  p[1] = code;
  StoreBe16(p + 2, 0);
  StoreBe32(p + 4, rest_of_header);
  StoreBe16(p + 2, ComputeChecksum(message));
}

void MakeEchoReplyInPlace(std::span<uint8_t> message) {
  assert(message.size() >= kIcmpHeaderLength);
  uint8_t* p = message.data();
  uint16_t old_word = LoadBe16(p);  // type and code
  p[0] = kIcmpTypeEchoReply;
  uint16_t updated = ChecksumUpdate16(LoadBe16(p + 2), old_word, LoadBe16(p));
  if (updated == 0) {
    // Either the message sums to -0 (then 0 is right) or it is all zero,
    // where RFC 1624 eqn. 3 cannot produce the 0xffff that verifies. Rare
    // (1 in 65536): recompute.
    StoreBe16(p + 2, 0);
    updated = ComputeChecksum(message);
  }
  StoreBe16(p + 2, updated);
}

}  // namespace locus::wire
