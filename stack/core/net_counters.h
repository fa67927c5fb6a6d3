// Per-core link, ARP, IPv4 and ICMP counters, with a reason for every drop.
#ifndef LOCUS_STACK_CORE_NET_COUNTERS_H_
#define LOCUS_STACK_CORE_NET_COUNTERS_H_

#include <array>
#include <cstdint>
#include <string_view>

namespace locus::core {

enum class NetDrop : uint8_t {
  kEthernetMalformed,
  kNotOurMac,          // unicast frame for another host (promiscuous port)
  kUnsupportedEtherType,
  kArpMalformed,
  kIpv4Malformed,      // header, length or version
  kIpv4BadChecksum,
  kIpv4Fragment,       // not reassembled (issue: fragments are dropped)
  kIpv4NotOurAddress,
  kIpv4BadSource,      // broadcast, multicast or our own address as source
  kIcmpMalformed,
  kIcmpUnsupported,    // ICMP other than echo request
  kUnsupportedProtocol,
  kNoRoute,
  kArpUnresolved,      // neighbour queue full or table full
  kTxRingFull,
  kNoBuffer,
  kCount,
};

std::string_view NetDropName(NetDrop d);

struct NetCounters {
  uint64_t rx_frames = 0;
  uint64_t rx_bytes = 0;
  uint64_t tx_frames = 0;
  uint64_t tx_bytes = 0;
  uint64_t arp_requests_in = 0;
  uint64_t arp_replies_in = 0;
  uint64_t arp_requests_out = 0;
  uint64_t arp_replies_out = 0;
  uint64_t icmp_echo_in = 0;
  uint64_t icmp_echo_out = 0;
  uint64_t icmp_unreachable_out = 0;
  uint64_t ipv4_in = 0;
  uint64_t ipv4_out = 0;
  std::array<uint64_t, static_cast<size_t>(NetDrop::kCount)> drops{};

  void Drop(NetDrop reason) { ++drops[static_cast<size_t>(reason)]; }
  uint64_t dropped(NetDrop reason) const { return drops[static_cast<size_t>(reason)]; }
};

}  // namespace locus::core

#endif  // LOCUS_STACK_CORE_NET_COUNTERS_H_
