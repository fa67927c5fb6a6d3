// Runs one shard per lcore over a DPDK port: EAL start-up, the port with a
// queue pair per shard, optional pcap capture and fault injection, one
// Stack per shard, and the busy-polling loops. Only this library (and
// stack/link) touch DPDK.
#ifndef LOCUS_STACK_ENGINE_ENGINE_H_
#define LOCUS_STACK_ENGINE_ENGINE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "stack/core/stack.h"
#include "stack/engine/shard.h"
#include "stack/engine/shard_group.h"
#include "stack/link/fault_injecting_link.h"
#include "stack/link/link.h"

namespace locus::engine {

struct EngineOptions {
  // DPDK device arguments, as for --vdev: "net_tap0,iface=locus0" or
  // "net_af_packet0,iface=eth1". Empty: the first port EAL finds (e.g. a
  // PCI device given with extra EAL arguments).
  std::string device = "net_tap0,iface=locus0";
  // EAL core list (-l): one shard per lcore.
  std::string lcores = "0";
  // Memory for DPDK in MB; without hugepages it comes from the heap.
  int memory_mb = 512;
  bool hugepages = false;
  std::vector<std::string> extra_eal_args;
  // Frames per queue pool; 0 sizes them from the descriptor rings.
  uint32_t mbufs_per_queue = 0;
  // Capture every frame to this pcap file ("" = off).
  std::string pcap;
  // Seeded fault injection on the port, for testing peers under loss.
  link::FaultConfig faults;
  core::StackConfig stack;
  SteeringChoice steering = SteeringChoice::kAuto;
};

// Builds options from the shared command-line flags (engine_flags.cc).
absl::StatusOr<EngineOptions> EngineOptionsFromFlags();

class Engine {
 public:
  static absl::StatusOr<std::unique_ptr<Engine>> Create(const EngineOptions& options);
  ~Engine();

  unsigned shard_count() const { return group_->size(); }
  const link::LinkInfo& link_info() const { return link_->info(); }
  link::QueueStats link_stats(unsigned shard) const {
    return link_->stats(static_cast<uint16_t>(shard));
  }
  core::Stack& stack(unsigned shard) { return group_->stack(shard); }
  Shard& shard(unsigned index) { return group_->shard(index); }
  ShardGroup& group() { return *group_; }
  // The fault injector on the port, or null when no --fault_* is set.
  const link::FaultInjectingLink* faults() const { return faults_; }

  // Runs every shard on its lcore until `stop` is set; returns when all
  // have stopped.
  absl::Status Run(const AppFactory& factory, std::atomic<bool>& stop);

 private:
  Engine() = default;

  std::unique_ptr<link::Link> dpdk_;
  std::unique_ptr<link::Link> faulty_;
  const link::FaultInjectingLink* faults_ = nullptr;  // faulty_, typed
  std::unique_ptr<link::Link> pcap_;
  link::Link* link_ = nullptr;
  Instant fault_clock_;
  std::unique_ptr<core::StackSecrets> secrets_;
  std::unique_ptr<ShardGroup> group_;
};

// Installs SIGINT/SIGTERM handlers that set `stop`.
void StopOnSignals(std::atomic<bool>* stop);

}  // namespace locus::engine

#endif  // LOCUS_STACK_ENGINE_ENGINE_H_
