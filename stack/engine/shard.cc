#include "stack/engine/shard.h"

#include "stack/engine/dispatcher.h"

namespace locus::engine {

namespace {
void Bump(std::atomic<uint64_t>& counter, uint64_t by) {
  counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}
}  // namespace

Shard::Shard(unsigned index, core::Stack& stack, Dispatcher* dispatcher)
    : index_(index), stack_(stack), dispatcher_(dispatcher) {
  events_.reserve(256);
}

size_t Shard::PollOnce(ShardApp& app, Instant now) {
  size_t work;
  if (dispatcher_ != nullptr) {
    work = dispatcher_->Poll(stack_, now);
    stack_.RunTimers(now);
  } else {
    work = stack_.PollInput(now);
  }
  events_.clear();
  stack_.TakeEvents(events_);
  if (!events_.empty()) {
    app.OnEvents(*this, events_, now);
    work += events_.size();
  }
  work += app.OnPoll(*this, now);
  stack_.Flush(now);
  return work;
}

void Shard::Run(ShardApp& app, const std::atomic<bool>& stop) {
  Instant now = MonotonicNow();
  app.OnStart(*this, now);
  stack_.Flush(now);
  while (!stop.load(std::memory_order_relaxed)) {
    now = MonotonicNow();
    size_t work = PollOnce(app, now);
    // Single writer: plain relaxed stores, no locked read-modify-write.
    Bump(loop_stats_.iterations, 1);
    if (work > 0) {
      Bump(loop_stats_.busy_iterations, 1);
      Bump(loop_stats_.busy_nanos, static_cast<uint64_t>((MonotonicNow() - now).nanos()));
    }
  }
  now = MonotonicNow();
  app.OnStop(*this, now);
  stack_.Flush(now);
}

}  // namespace locus::engine
