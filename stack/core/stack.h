// The user-level TCP/IP stack of one core: its RX/TX queue, buffer pool,
// ARP cache, IPv4/ICMP handling, TCP and timers. One thread drives it; it
// shares nothing with other cores' stacks except read-only secrets.
//
// A poll iteration, as in mTCP: PollInput() receives a burst and runs
// timers, TakeEvents() hands the application its events in one batch, and
// Flush() sends the owed segments in one TX burst.
#ifndef LOCUS_STACK_CORE_STACK_H_
#define LOCUS_STACK_CORE_STACK_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "stack/base/time.h"
#include "stack/core/net_counters.h"
#include "stack/link/link.h"
#include "stack/net/arp_cache.h"
#include "stack/tcp/tcp_layer.h"
#include "stack/tcp_support/isn_generator.h"
#include "stack/tcp_support/siphash.h"
#include "stack/tcp_support/syn_cookie.h"
#include "stack/timer/timer_wheel.h"
#include "stack/wire/addresses.h"

namespace locus::core {

struct InterfaceConfig {
  wire::Ipv4Address address;
  uint8_t prefix_length = 24;
  wire::Ipv4Address gateway;  // 0.0.0.0: only the connected subnet is reachable
  uint16_t mtu = 1500;
  // The MAC the stack uses. Unset: the port's own. net_tap needs another
  // one (see engine.cc): the kernel side of a tap has the port's MAC, and a
  // Linux bridge keeps a port's own MAC for itself.
  std::optional<wire::MacAddress> mac;

  wire::Ipv4Prefix subnet() const { return {address, prefix_length}; }
};

struct StackConfig {
  InterfaceConfig interface;
  tcp::TcpConfig tcp;
  tcp::TcpLayer::Limits tcp_limits;
  net::ArpCacheConfig arp;
  Duration timer_tick = timer::TimerWheel::kDefaultTick;
};

// Keys every core's stack shares, read-only after start.
struct StackSecrets {
  explicit StackSecrets(const tcp::SecretKey& key) : isn(key), cookies(key) {}
  tcp::IsnGenerator isn;
  tcp::SynCookies cookies;
};

// ICMP destination-unreachable codes we send (RFC 792).
inline constexpr uint8_t kIcmpProtocolUnreachable = 2;
inline constexpr uint8_t kIcmpPortUnreachable = 3;
// ICMP errors per second per core, at most.
inline constexpr uint32_t kMaxUnreachablePerSecond = 100;

class Stack final : public tcp::SegmentTransmitter {
 public:
  Stack(const StackConfig& config, link::Link& link, uint16_t queue, const StackSecrets& secrets,
        Instant now);
  ~Stack() override;
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  // Receives and processes up to one burst, then runs due timers. Returns
  // the number of frames received.
  size_t PollInput(Instant now);
  // Receives up to one burst from this stack's queue without processing
  // it (the multi-core dispatcher decides where each frame goes).
  uint16_t ReceiveBurst(link::Packet** frames, uint16_t max) {
    return link_.Receive(queue_, frames, max);
  }
  // Fires due timers and runs periodic housekeeping.
  void RunTimers(Instant now);
  // Processes one frame that arrived some other way (e.g. redirected from
  // another core). Takes ownership.
  void ReceiveFrame(link::Packet* frame, Instant now);
  // Learns the sender of an ARP frame handled by another core, without
  // answering it: every core keeps its own ARP cache (docs/architecture.md).
  void LearnFromArp(link::Packet* frame, Instant now);
  // Appends pending events; see tcp::TcpLayer::TakeEvents.
  size_t TakeEvents(std::vector<tcp::EventRecord>& out) { return tcp_.TakeEvents(out); }
  // Sends owed TCP output and transmits everything queued.
  void Flush(Instant now);

  // Sends a gratuitous ARP announcing our address (RFC 5227 §2.3).
  void AnnounceAddress(Instant now);

  // SegmentTransmitter: IPv4 + Ethernet around a TCP segment whose checksum
  // field holds the pseudo-header sum (wire::TxChecksum::kOffload).
  void TransmitSegment(const tcp::FourTuple& tuple, link::Packet* segment) override;

  tcp::TcpLayer& tcp() { return tcp_; }
  const tcp::TcpLayer& tcp() const { return tcp_; }
  timer::TimerWheel& timers() { return wheel_; }
  net::ArpCache& arp() { return arp_; }
  const NetCounters& counters() const { return counters_; }
  const InterfaceConfig& interface() const { return config_.interface; }
  const wire::MacAddress& mac() const { return mac_; }
  link::PacketPool& pool() { return pool_; }
  uint16_t queue() const { return queue_; }

 private:
  void HandleArp(link::Packet* frame, std::span<const uint8_t> payload, Instant now);
  void HandleIpv4(link::Packet* frame, std::span<const uint8_t> payload, Instant now);
  void HandleIcmp(link::Packet* frame, size_t ip_offset, size_t ip_header_length,
                  std::span<const uint8_t> icmp, Instant now);
  // ICMP destination unreachable (RFC 792) about `frame`, an IPv4 datagram
  // addressed to us.
  void SendUnreachable(const link::Packet& frame, uint8_t code, Instant now);
  void SendArp(uint16_t op, wire::MacAddress target_mac, wire::Ipv4Address target_ip,
               wire::MacAddress ethernet_destination);
  // Routes an IPv4 packet (data() at the IPv4 header) to its next hop and
  // queues it for TX, resolving the MAC first if needed.
  void SendIpv4(link::Packet* packet, wire::Ipv4Address destination, Instant now);
  void QueueFrame(link::Packet* frame);
  void SendQueuedFor(link::Packet* chain, wire::MacAddress mac);

  StackConfig config_;
  link::Link& link_;
  uint16_t queue_;
  link::PacketPool& pool_;
  wire::MacAddress mac_;
  bool tx_ipv4_checksum_;
  bool tx_tcp_checksum_;
  timer::TimerWheel wheel_;
  net::ArpCache arp_;
  tcp::TcpLayer tcp_;
  NetCounters counters_;
  uint16_t next_ip_id_ = 0;
  Instant now_;  // of the current poll, for transmissions from TCP
  Instant next_arp_expire_;
  Instant unreachable_window_;
  uint32_t unreachable_sent_ = 0;
  std::vector<link::Packet*> tx_;
};

}  // namespace locus::core

#endif  // LOCUS_STACK_CORE_STACK_H_
