// The neighbour table of one core (RFC 826, with the timing of RFC 1122
// §2.3.2.1): IPv4 -> MAC with expiry, a short queue of packets waiting for
// resolution, and a rate limit on requests. Pure: time is passed in and the
// caller sends whatever requests and queued packets it is handed.
#ifndef LOCUS_STACK_NET_ARP_CACHE_H_
#define LOCUS_STACK_NET_ARP_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "stack/base/time.h"
#include "stack/link/packet.h"
#include "stack/wire/addresses.h"

namespace locus::net {

struct ArpCacheConfig {
  // How long a learned entry is used before it is confirmed again. Linux's
  // reachable time is 15-45 s; an edge proxy talks to few, stable
  // neighbours, so refresh every minute and keep using the old MAC while
  // the refresh is in flight.
  Duration reachable = Duration::Seconds(60);
  // An entry that was not refreshed this long after expiring is dropped.
  Duration stale_grace = Duration::Seconds(30);
  // RFC 1122 §2.3.2.1: no more than one request per second per address.
  Duration request_interval = Duration::Seconds(1);
  // Packets held per unresolved neighbour. Linux holds about 100 frames
  // (unres_qlen_bytes); a proxy opening many backend connections at once
  // toward a neighbour it has not resolved yet needs that many SYNs held,
  // or they wait for their retransmission timer.
  size_t max_pending_per_neighbor = 128;
  // Packets held across all neighbours. Held packets are mbufs of the
  // core's pool: without a global bound, a SYN flood from spoofed
  // on-link sources (nobody answers their ARP) parks every SYN-ACK
  // retransmission here and drains the pool until the core cannot send
  // to anyone, resolved neighbours included.
  size_t max_pending_total = 256;
  size_t max_entries = 4096;
};

class ArpCache {
 public:
  explicit ArpCache(ArpCacheConfig config = {}) : config_(config) {}
  ~ArpCache();
  ArpCache(const ArpCache&) = delete;
  ArpCache& operator=(const ArpCache&) = delete;

  struct Resolution {
    std::optional<wire::MacAddress> mac;  // set: use it now
    bool send_request = false;            // caller should send a request now
  };

  // Looks `ip` up for sending. When unresolved and `packet` is given, the
  // packet is queued (or, when the queue is full, left with the caller,
  // which must free it; `queued` tells which).
  Resolution Resolve(wire::Ipv4Address ip, Instant now, link::Packet* packet, bool* queued);

  // Records ip -> mac. Returns the packets that were waiting for it, linked
  // through Packet::next, for the caller to send.
  link::Packet* Learn(wire::Ipv4Address ip, wire::MacAddress mac, Instant now);

  // RFC 826 merge: update an existing entry only (for ARP packets not
  // addressed to us). Returns waiting packets as Learn does.
  link::Packet* Update(wire::Ipv4Address ip, wire::MacAddress mac, Instant now);

  // Drops entries past their grace period and frees their queued packets.
  // Returns how many entries went.
  size_t Expire(Instant now);

  std::optional<wire::MacAddress> Peek(wire::Ipv4Address ip) const;
  size_t size() const { return entries_.size(); }
  uint64_t pending_dropped() const { return pending_dropped_; }
  size_t pending_total() const { return pending_total_; }

 private:
  struct Entry {
    wire::MacAddress mac;
    bool resolved = false;
    Instant expires;        // resolved: refresh after this
    Instant last_request;   // for the rate limit
    bool requested = false;
    link::Packet* pending_head = nullptr;
    link::Packet* pending_tail = nullptr;
    size_t pending = 0;
  };
  link::Packet* Store(Entry& e, wire::MacAddress mac, Instant now);

  ArpCacheConfig config_;
  absl::flat_hash_map<wire::Ipv4Address, Entry> entries_;
  uint64_t pending_dropped_ = 0;
  size_t pending_total_ = 0;
};

}  // namespace locus::net

#endif  // LOCUS_STACK_NET_ARP_CACHE_H_
