// The shards of one port: a Stack per queue, the steering between them, and
// a port allocator per shard that keeps active connections local. Works on
// any link; the DPDK Engine runs it on lcores, tests and benchmarks on
// threads over the in-memory link.
#ifndef LOCUS_STACK_ENGINE_SHARD_GROUP_H_
#define LOCUS_STACK_ENGINE_SHARD_GROUP_H_

#include <atomic>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "stack/core/stack.h"
#include "stack/engine/dispatcher.h"
#include "stack/engine/shard.h"
#include "stack/engine/steered_ports.h"
#include "stack/link/link.h"
#include "stack/steer/flow_steering.h"

namespace locus::engine {

enum class SteeringChoice : uint8_t {
  kAuto,      // RSS when the port's RSS covers every shard, else port hash
  kRss,       // software Toeplitz with the port's real key and RETA
  kPortHash,  // Fastsocket RFD: the local port names the shard
};

struct ShardGroupOptions {
  core::StackConfig stack;
  SteeringChoice steering = SteeringChoice::kAuto;
  // Secret for the per-destination port search start (RFC 6056 §3.3.3).
  uint64_t port_seed = 0;
  // Frames in flight between two shards (a power of two).
  uint32_t redirect_ring_size = kRedirectRingSize;
};

using AppFactory = std::function<std::unique_ptr<ShardApp>(unsigned shard_index)>;

class ShardGroup {
 public:
  // One shard per queue of `link`.
  static absl::StatusOr<std::unique_ptr<ShardGroup>> Create(link::Link& link,
                                                            const ShardGroupOptions& options,
                                                            const core::StackSecrets& secrets,
                                                            Instant now);
  ~ShardGroup();

  unsigned size() const { return static_cast<unsigned>(shards_.size()); }
  Shard& shard(unsigned i) { return *shards_[i]; }
  core::Stack& stack(unsigned i) { return *stacks_[i]; }
  // Null when there is a single shard.
  Dispatcher* dispatcher(unsigned i) { return dispatchers_.empty() ? nullptr : dispatchers_[i].get(); }
  SteeredPorts& ports(unsigned i) { return *ports_[i]; }
  steer::SteeringMode mode() const { return steering_->mode(); }
  const steer::FlowSteering& steering() const { return *steering_; }

  // Ports that listeners use: they decide which segments are passive.
  // Call before the shards run.
  void SetListenerPorts(std::span<const uint16_t> ports);

  // Runs shard i's loop on thread i until `stop`; for tests and benchmarks.
  void RunThreads(const AppFactory& factory, std::atomic<bool>& stop);

 private:
  ShardGroup() = default;

  std::unique_ptr<steer::FlowSteering> steering_;
  std::unique_ptr<RingMesh> mesh_;
  std::shared_ptr<const steer::ListenerPortSet> listeners_;
  std::vector<std::unique_ptr<core::Stack>> stacks_;
  std::vector<std::unique_ptr<SteeredPorts>> ports_;
  std::vector<std::unique_ptr<Dispatcher>> dispatchers_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace locus::engine

#endif  // LOCUS_STACK_ENGINE_SHARD_GROUP_H_
