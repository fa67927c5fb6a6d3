#include "stack/wire/ipv4.h"

#include <cassert>

namespace locus::wire {
namespace {

constexpr uint8_t kFlagDontFragment = 0x40;
constexpr uint8_t kFlagMoreFragments = 0x20;
constexpr uint16_t kFragmentOffsetMask = 0x1fff;

}  // namespace

ParseResult<Ipv4View> Ipv4View::Parse(std::span<const uint8_t> packet, RxChecksum checksum) {
  if (packet.size() < kIpv4MinHeaderLength) return WireError::kTruncated;
  const uint8_t* p = packet.data();
  if ((p[0] >> 4) != 4) return WireError::kBadVersion;
  size_t header_length = size_t{p[0] & 0x0fu} * 4;
  if (header_length < kIpv4MinHeaderLength) return WireError::kBadHeaderLength;
  size_t total_length = LoadBe16(p + 2);
  if (total_length < header_length) return WireError::kBadTotalLength;
  if (packet.size() < total_length) return WireError::kTruncated;
  if (checksum == RxChecksum::kVerify && !ChecksumIsValid(packet.first(header_length))) {
    return WireError::kBadChecksum;
  }
  // Checked after the checksum so that only intact fragments count as such.
  if ((p[6] & kFlagMoreFragments) != 0 || (LoadBe16(p + 6) & kFragmentOffsetMask) != 0) {
    return WireError::kFragment;
  }
  return Ipv4View(packet.first(total_length));
}

ParseResult<Ipv4Header> Ipv4Header::Parse(std::span<const uint8_t> packet, RxChecksum checksum) {
  ParseResult<Ipv4View> v = Ipv4View::Parse(packet, checksum);
  if (!v.ok()) return v.error();
  return Ipv4Header{v->tos(),      v->total_length(), v->id(),     v->dont_fragment(),
                    v->ttl(),      v->protocol(),     v->source(), v->destination()};
}

void Ipv4Header::Emit(std::span<uint8_t> out, TxChecksum checksum) const {
  assert(out.size() >= kIpv4MinHeaderLength);
  uint8_t* p = out.data();
  p[0] = 0x45;  // version 4, IHL 5
  p[1] = tos;
  StoreBe16(p + 2, total_length);
  StoreBe16(p + 4, id);
  p[6] = dont_fragment ? kFlagDontFragment : 0;
  p[7] = 0;
  p[8] = ttl;
  p[9] = protocol;
  StoreBe16(p + 10, 0);
  StoreBe32(p + 12, source.value());
  StoreBe32(p + 16, destination.value());
  if (checksum == TxChecksum::kCompute) {
    StoreBe16(p + 10, ComputeChecksum(out.first(kIpv4MinHeaderLength)));
  }
}

}  // namespace locus::wire
