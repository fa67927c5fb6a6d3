// ARP for IPv4 over Ethernet (RFC 826): the 28-byte packet that follows an
// Ethernet header with EtherType 0x0806.
//
// Parsing checks only the format: hardware type 1 (Ethernet), protocol type
// 0x0800, address lengths 6 and 4, operation request or reply. Whether the
// addresses make sense (a multicast sender, a target that is not ours) is
// for the ARP layer to decide. Bytes after the 28 (Ethernet padding to 60
// bytes) are ignored.
#ifndef LOCUS_STACK_WIRE_ARP_H_
#define LOCUS_STACK_WIRE_ARP_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/wire/addresses.h"
#include "stack/wire/endian.h"
#include "stack/wire/wire_error.h"

namespace locus::wire {

inline constexpr size_t kArpLength = 28;
inline constexpr uint16_t kArpHardwareEthernet = 1;
inline constexpr uint16_t kArpProtocolIpv4 = 0x0800;  // same value as kEtherTypeIpv4

enum class ArpOp : uint16_t {
  kRequest = 1,
  kReply = 2,
};

class ArpView {
 public:
  // kTruncated below 28 bytes; kBadVersion when the hardware or protocol
  // type or either address length is not Ethernet/IPv4; kUnsupported for an
  // operation other than request or reply (RARP, InARP).
  static ParseResult<ArpView> Parse(std::span<const uint8_t> packet);

  ArpOp op() const { return static_cast<ArpOp>(LoadBe16(bytes_.data() + 6)); }
  MacAddress sender_mac() const { return MacAddress::FromBytes(bytes_.data() + 8); }
  Ipv4Address sender_ip() const { return Ipv4Address(LoadBe32(bytes_.data() + 14)); }
  MacAddress target_mac() const { return MacAddress::FromBytes(bytes_.data() + 18); }
  Ipv4Address target_ip() const { return Ipv4Address(LoadBe32(bytes_.data() + 24)); }

  ArpView() = default;  // for ParseResult; not a valid view

 private:
  explicit ArpView(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  std::span<const uint8_t> bytes_;
};

struct ArpPacket {
  ArpOp op = ArpOp::kRequest;
  MacAddress sender_mac;
  Ipv4Address sender_ip;
  MacAddress target_mac;  // zero in a request (RFC 826 leaves it unspecified)
  Ipv4Address target_ip;

  // "Who has target_ip? Tell sender_ip."
  static ArpPacket Request(MacAddress sender_mac, Ipv4Address sender_ip, Ipv4Address target_ip) {
    return {ArpOp::kRequest, sender_mac, sender_ip, MacAddress(), target_ip};
  }
  // The answer to `request` from the owner of its target address.
  static ArpPacket ReplyTo(const ArpPacket& request, MacAddress our_mac) {
    return {ArpOp::kReply, our_mac, request.target_ip, request.sender_mac, request.sender_ip};
  }

  static ParseResult<ArpPacket> Parse(std::span<const uint8_t> packet);
  static constexpr size_t length() { return kArpLength; }
  // Writes length() bytes at the front of `out`, which must be that long.
  void Emit(std::span<uint8_t> out) const;

  bool operator==(const ArpPacket&) const = default;
};

}  // namespace locus::wire

#endif  // LOCUS_STACK_WIRE_ARP_H_
