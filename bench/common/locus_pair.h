// A client and a server Locus stack over the in-memory link: two
// ShardGroups, one on each end of a MemoryLinkPair with `shards` queues, so
// each side has the same stack (Ethernet, ARP, IPv4, TCP, software
// checksums, timers, port allocator) that proxyd runs on a DPDK port.
//
// With more than one shard the link delivers each frame to the queue of the
// shard that owns its flow, computed by the same steer::FlowSteering the
// shards' dispatchers use (kPortHash, software Toeplitz for passive flows),
// as a NIC whose RSS matched would: redirects are then the exception.
#ifndef LOCUS_BENCH_COMMON_LOCUS_PAIR_H_
#define LOCUS_BENCH_COMMON_LOCUS_PAIR_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "stack/core/stack.h"
#include "stack/engine/shard_group.h"
#include "stack/link/memory_link.h"
#include "stack/wire/addresses.h"

namespace locus::bench {

inline constexpr wire::Ipv4Address kClientIp = wire::Ipv4Address::FromOctets(10, 0, 0, 1);
inline constexpr wire::Ipv4Address kServerIp = wire::Ipv4Address::FromOctets(10, 0, 0, 2);

struct LocusPairOptions {
  uint16_t shards = 1;
  size_t pool_size = 16384;  // packet buffers per queue
  size_t ring_size = 1024;
  tcp::TcpConfig tcp;
  tcp::TcpLayer::Limits limits;
  // Listening ports of the server (they steer passive flows).
  std::vector<uint16_t> server_ports;
  // With more than one shard: the link reports RSS (the symmetric Toeplitz
  // key, a round-robin RETA) and steers by it, as a NIC with RSS would, so
  // both groups run in kRss mode. Because the key is symmetric, the server
  // shard of a flow has the same index as the client shard that opened it:
  // each thread's connections stay on its own core. Without it, kPortHash
  // (the mode net_tap forces) and the software hash decide.
  bool rss = false;
  // Replaces the link's steering when set (e.g. everything to queue 0).
  link::SteeringFunction steering;
};

class LocusPair {
 public:
  static absl::StatusOr<std::unique_ptr<LocusPair>> Create(const LocusPairOptions& options);
  ~LocusPair();

  engine::ShardGroup& client() { return *client_; }
  engine::ShardGroup& server() { return *server_; }
  link::MemoryLinkPair& link() { return *link_; }

 private:
  LocusPair() = default;
  std::unique_ptr<core::StackSecrets> secrets_;
  std::unique_ptr<link::MemoryLinkPair> link_;
  std::unique_ptr<engine::ShardGroup> client_;
  std::unique_ptr<engine::ShardGroup> server_;
};

// Totals of the TCP counters of every shard of a group.
struct TcpTotals {
  uint64_t segments_in = 0, segments_out = 0, retransmits = 0, active_opens = 0,
           passive_opens = 0, time_wait_entered = 0, time_wait_reused = 0, resets_out = 0,
           drops = 0, delayed_acks = 0;
};
TcpTotals SumTcp(engine::ShardGroup& group);

// Redirected frames over every shard of a group.
uint64_t SumRedirects(engine::ShardGroup& group);

}  // namespace locus::bench

#endif  // LOCUS_BENCH_COMMON_LOCUS_PAIR_H_
