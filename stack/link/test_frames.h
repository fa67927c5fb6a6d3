// Frames for link tests: Ethernet + IPv4 + UDP/TCP with correct checksums
// and a 32-bit tag at the start of the payload so tests can tell frames
// apart and check order.
#ifndef LOCUS_STACK_LINK_TEST_FRAMES_H_
#define LOCUS_STACK_LINK_TEST_FRAMES_H_

#include <cstdint>
#include <span>
#include <vector>

#include "stack/link/packet.h"
#include "stack/wire/addresses.h"

namespace locus::link::testing {

struct FrameSpec {
  wire::MacAddress source_mac = wire::MacAddress({0x02, 0, 0, 0, 0, 0x01});
  wire::MacAddress destination_mac = wire::MacAddress({0x02, 0, 0, 0, 0, 0x02});
  wire::Ipv4Address source_ip = wire::Ipv4Address::FromOctets(10, 0, 0, 1);
  wire::Ipv4Address destination_ip = wire::Ipv4Address::FromOctets(10, 0, 0, 2);
  uint16_t source_port = 1000;
  uint16_t destination_port = 2000;
  uint32_t tag = 0;           // first four payload bytes, big-endian
  uint16_t payload_length = 32;  // at least 4
};

inline constexpr size_t kEthernetLength = 14;
inline constexpr size_t kIpv4Length = 20;
inline constexpr size_t kUdpLength = 8;
inline constexpr size_t kTcpLength = 20;

// Complete frames with valid checksums.
std::vector<uint8_t> UdpFrame(const FrameSpec& spec);
std::vector<uint8_t> TcpFrame(const FrameSpec& spec);

// The tag of a frame built above (UDP or TCP), or -1 if it is not one.
int64_t TagOf(std::span<const uint8_t> frame);

// A packet from `pool` holding `frame`; null when the pool is empty.
Packet* MakePacket(PacketPool& pool, std::span<const uint8_t> frame);

}  // namespace locus::link::testing

#endif  // LOCUS_STACK_LINK_TEST_FRAMES_H_
