// The packet I/O interface every port implements: burst receive and
// transmit per queue. Queue q is used by exactly one core, which also owns
// pool(q), so no call here takes a lock.
#ifndef LOCUS_STACK_LINK_LINK_H_
#define LOCUS_STACK_LINK_LINK_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "stack/link/packet.h"
#include "stack/wire/addresses.h"

namespace locus::link {

inline constexpr uint16_t kMaxBurst = 32;
inline constexpr size_t kRssKeyLength = 40;

struct LinkInfo {
  std::string driver;            // "net_tap", "net_af_packet", "memory", ...
  wire::MacAddress mac;
  uint16_t mtu = 1500;
  uint16_t rx_queues = 1;
  uint16_t tx_queues = 1;
  // Offloads the port really has; when false the stack computes in software.
  bool tx_ipv4_checksum = false;
  bool tx_tcp_checksum = false;
  bool rx_checksum = false;
  // RSS as configured on the port. When rss is false the port spreads flows
  // with a hash we do not know (or not at all) and the stack must steer in
  // software.
  bool rss = false;
  std::array<uint8_t, kRssKeyLength> rss_key{};
  std::vector<uint16_t> reta;    // redirection table: hash % size -> queue
};

struct QueueStats {
  uint64_t rx_packets = 0;
  uint64_t rx_bytes = 0;
  uint64_t tx_packets = 0;
  uint64_t tx_bytes = 0;
  uint64_t tx_full = 0;          // packets the port refused (ring full)
  // Frames that reached the port but never the caller: no free buffer in
  // the queue's pool, or a frame that does not fit one buffer.
  uint64_t rx_dropped = 0;
};

class Link {
 public:
  virtual ~Link() = default;

  virtual const LinkInfo& info() const = 0;

  // Moves up to `max` received packets into `packets`; the caller owns them.
  virtual uint16_t Receive(uint16_t queue, Packet** packets, uint16_t max) = 0;

  // Hands `count` packets to the port and returns how many it took. The port
  // owns those; the caller still owns packets[returned..count). Packets
  // should come from this link's pools (any queue's; a received packet may
  // be sent back as it is); a DpdkLink copies any other packet into an
  // mbuf first, which is slow.
  virtual uint16_t Transmit(uint16_t queue, Packet** packets, uint16_t count) = 0;

  // The buffer pool of the core that uses `queue`.
  virtual PacketPool& pool(uint16_t queue) = 0;

  // Counters kept by the queue's owner; readable from any thread.
  virtual QueueStats stats(uint16_t queue) const = 0;
};

}  // namespace locus::link

#endif  // LOCUS_STACK_LINK_LINK_H_
