#include "stack/wire/arp.h"

#include <cassert>

namespace locus::wire {

ParseResult<ArpView> ArpView::Parse(std::span<const uint8_t> packet) {
  if (packet.size() < kArpLength) return WireError::kTruncated;
  const uint8_t* p = packet.data();
  if (LoadBe16(p) != kArpHardwareEthernet || LoadBe16(p + 2) != kArpProtocolIpv4 || p[4] != 6 ||
      p[5] != 4) {
    return WireError::kBadVersion;
  }
  uint16_t op = LoadBe16(p + 6);
  if (op != static_cast<uint16_t>(ArpOp::kRequest) && op != static_cast<uint16_t>(ArpOp::kReply)) {
    return WireError::kUnsupported;
  }
  return ArpView(packet.first(kArpLength));
}

ParseResult<ArpPacket> ArpPacket::Parse(std::span<const uint8_t> packet) {
  ParseResult<ArpView> view = ArpView::Parse(packet);
  if (!view.ok()) return view.error();
  return ArpPacket{view->op(), view->sender_mac(), view->sender_ip(), view->target_mac(),
                   view->target_ip()};
}

void ArpPacket::Emit(std::span<uint8_t> out) const {
  assert(out.size() >= kArpLength);
  uint8_t* p = out.data();
  StoreBe16(p, kArpHardwareEthernet);
  StoreBe16(p + 2, kArpProtocolIpv4);
  p[4] = 6;
  p[5] = 4;
  StoreBe16(p + 6, static_cast<uint16_t>(op));
  sender_mac.CopyTo(p + 8);
  StoreBe32(p + 14, sender_ip.value());
  target_mac.CopyTo(p + 18);
  StoreBe32(p + 24, target_ip.value());
}

}  // namespace locus::wire
