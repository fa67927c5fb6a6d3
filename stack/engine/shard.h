// One shard: a core's stack and the application that runs on it, driven by
// a busy-polling loop (mTCP's per-core thread). A shard shares nothing with
// other shards on the fast path.
#ifndef LOCUS_STACK_ENGINE_SHARD_H_
#define LOCUS_STACK_ENGINE_SHARD_H_

#include <atomic>
#include <cstdint>
#include <span>
#include <vector>

#include "stack/base/time.h"
#include "stack/core/stack.h"
#include "stack/tcp/tcp_layer.h"

namespace locus::engine {

class Shard;

// The application side of a shard. All calls come from the shard's thread.
class ShardApp {
 public:
  virtual ~ShardApp() = default;
  virtual void OnStart(Shard& shard, Instant now) {}
  // The events of one poll iteration, in one batch.
  virtual void OnEvents(Shard& shard, std::span<const tcp::EventRecord> events, Instant now) = 0;
  // Called once per iteration after events; for timers of the application
  // and work that is not driven by TCP events. Returns work done (0 = idle).
  virtual size_t OnPoll(Shard& shard, Instant now) { return 0; }
  virtual void OnStop(Shard& shard, Instant now) {}
};

// Busy and idle loop iterations: a busy-polling core shows 100% CPU all
// the time, so useful work is measured by iterations that did something.
struct ShardLoopStats {
  std::atomic<uint64_t> iterations{0};
  std::atomic<uint64_t> busy_iterations{0};
  std::atomic<uint64_t> busy_nanos{0};  // time spent in iterations that did work
};

class Dispatcher;
class SteeredPorts;

class Shard {
 public:
  // `dispatcher` is null for a single shard (nothing to steer).
  Shard(unsigned index, core::Stack& stack, Dispatcher* dispatcher = nullptr);

  // One poll iteration: input, events, application poll, output. Returns
  // the work done (frames + events + application work).
  size_t PollOnce(ShardApp& app, Instant now);
  // Runs until `stop` is set: OnStart, PollOnce in a loop, OnStop.
  void Run(ShardApp& app, const std::atomic<bool>& stop);

  unsigned index() const { return index_; }
  core::Stack& stack() { return stack_; }
  tcp::TcpLayer& tcp() { return stack_.tcp(); }
  Dispatcher* dispatcher() { return dispatcher_; }
  // The local-port allocator of this shard's active opens (may be null).
  SteeredPorts* ports() { return ports_; }
  void set_ports(SteeredPorts* ports) { ports_ = ports; }
  const ShardLoopStats& loop_stats() const { return loop_stats_; }

 private:
  unsigned index_;
  core::Stack& stack_;
  Dispatcher* dispatcher_;
  SteeredPorts* ports_ = nullptr;
  std::vector<tcp::EventRecord> events_;
  ShardLoopStats loop_stats_;
};

}  // namespace locus::engine

#endif  // LOCUS_STACK_ENGINE_SHARD_H_
