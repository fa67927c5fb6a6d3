// Software steering between shards (Fastsocket's Receive Flow Deliver, and
// RSS done in software where the port cannot do it): every frame a shard
// receives goes to the shard that owns its flow, through single-producer,
// single-consumer rings, one per ordered pair of shards, in batches.
//
// Which shard owns a flow is steer::FlowSteering's decision. ARP frames are
// handled where they land and a copy goes to every other shard, so that
// each shard's own ARP cache learns (docs/architecture.md explains why
// cloning beats a shared table here).
#ifndef LOCUS_STACK_ENGINE_DISPATCHER_H_
#define LOCUS_STACK_ENGINE_DISPATCHER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "stack/base/spsc_ring.h"
#include "stack/base/time.h"
#include "stack/core/stack.h"
#include "stack/link/packet.h"
#include "stack/steer/flow_steering.h"
#include "stack/steer/listener_ports.h"

namespace locus::engine {

// Frames in flight from one shard to another. At 32-frame bursts this is 32
// polls of backlog; beyond it frames are dropped (and counted), and TCP
// recovers them by retransmission.
inline constexpr uint32_t kRedirectRingSize = 1024;

class RingMesh {
 public:
  static absl::StatusOr<std::unique_ptr<RingMesh>> Create(unsigned shards,
                                                          uint32_t ring_size = kRedirectRingSize);
  ~RingMesh();
  SpscRing<link::Packet*>& ring(unsigned from, unsigned to) { return *rings_[from * shards_ + to]; }
  unsigned shards() const { return shards_; }

 private:
  RingMesh(unsigned shards) : shards_(shards) {}
  unsigned shards_;
  std::vector<std::unique_ptr<SpscRing<link::Packet*>>> rings_;  // [from * n + to]; diagonal null
};

// One shard's steering counters. Written by that shard only; read by
// anyone (stats export).
struct SteeringCounters {
  std::atomic<uint64_t> tcp_frames{0};       // TCP frames this shard received from the port
  std::atomic<uint64_t> local{0};            // ... that it owned
  std::atomic<uint64_t> redirects_out{0};    // ... handed to another shard
  std::atomic<uint64_t> redirects_in{0};     // frames other shards handed to us
  std::atomic<uint64_t> ring_full_drops{0};  // redirects dropped: ring full
  std::atomic<uint64_t> arp_clones{0};       // ARP copies sent to other shards
  std::atomic<uint64_t> hash_mismatches{0};  // NIC RSS hash != ours (RSS mode)
  std::atomic<uint64_t> redirects_active{0};  // redirected replies on active flows
};

class Dispatcher {
 public:
  Dispatcher(unsigned index, const steer::FlowSteering& steering, RingMesh& mesh);

  // The listening ports (they decide active vs passive). The pointee must
  // stay alive until replaced.
  void set_listeners(const steer::ListenerPortSet* listeners) { listeners_ = listeners; }
  const steer::ListenerPortSet& listeners() const { return *listeners_; }

  // Receives a burst from the stack's queue, processes what this shard
  // owns, hands the rest over, and processes what other shards handed
  // here. Returns the frames processed or moved.
  size_t Poll(core::Stack& stack, Instant now);

  const SteeringCounters& counters() const { return counters_; }
  unsigned index() const { return index_; }

  // Which shard owns a frame: kLocal for non-TCP frames.
  static constexpr unsigned kLocal = ~0u;
  unsigned OwnerOf(const link::Packet& frame, bool* active) const;

 private:
  void CloneArp(const link::Packet& frame, core::Stack& stack);
  void FlushOutgoing();

  unsigned index_;
  unsigned shards_;
  steer::FlowSteering steering_;  // a copy: its tables sit in this core's cache
  RingMesh& mesh_;
  const steer::ListenerPortSet* listeners_;
  mutable SteeringCounters counters_;
  std::vector<std::vector<link::Packet*>> outgoing_;  // per destination shard
};

}  // namespace locus::engine

#endif  // LOCUS_STACK_ENGINE_DISPATCHER_H_
