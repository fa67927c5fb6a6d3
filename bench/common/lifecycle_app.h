// Short connections on Locus: a client that keeps `concurrency` lifecycles
// in flight and a server that answers them. One lifecycle: SYN, SYN-ACK,
// ACK, a 64-byte request, a 64-byte response, the client's FIN, the
// server's FIN, the last ACK. The client closes first and so keeps the
// TIME-WAIT; it starts the next lifecycle of a slot only once the old one
// has reached TIME-WAIT. Ports come from the shard's port allocator, which
// reuses a TIME-WAIT port after 1 s (RFC 6191, as Linux's tcp_tw_reuse),
// spread over several server ports so the range never runs out.
#ifndef LOCUS_BENCH_COMMON_LIFECYCLE_APP_H_
#define LOCUS_BENCH_COMMON_LIFECYCLE_APP_H_

#include <atomic>
#include <cstdint>
#include <vector>

#include "bench/common/kernel_lifecycle.h"
#include "stack/engine/shard.h"
#include "stack/tcp/tcb.h"
#include "stack/wire/addresses.h"

namespace locus::bench {

struct LifecycleStats {
  std::atomic<uint64_t> completed{0};  // reached TIME-WAIT with the full response
  std::atomic<uint64_t> failed{0};     // reset, refused, timed out, short response
  std::atomic<uint64_t> connect_errors{0};
};

class LifecycleClient final : public engine::ShardApp {
 public:
  LifecycleClient(wire::Ipv4Address server, std::vector<uint16_t> ports, uint32_t concurrency,
                  LifecycleStats& stats)
      : server_(server), ports_(std::move(ports)), concurrency_(concurrency), stats_(stats) {}

  void OnStart(engine::Shard& shard, Instant now) override;
  void OnEvents(engine::Shard& shard, std::span<const tcp::EventRecord> events,
                Instant now) override;
  size_t OnPoll(engine::Shard& shard, Instant now) override;
  // Stop opening new connections.
  void Drain() { draining_ = true; }

 private:
  struct Slot {
    tcp::Tcb* tcb = nullptr;
    uint32_t received = 0;
    bool sent = false;
    bool shut = false;
  };
  void Open(engine::Shard& shard, uint32_t slot, Instant now);
  void Finish(engine::Shard& shard, uint32_t slot, bool ok, Instant now);

  wire::Ipv4Address server_;
  std::vector<uint16_t> ports_;
  uint32_t concurrency_;
  LifecycleStats& stats_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> retry_;  // slots whose Connect failed; retried next poll
  uint32_t next_port_ = 0;
  bool draining_ = false;
};

class LifecycleServer final : public engine::ShardApp {
 public:
  explicit LifecycleServer(std::vector<uint16_t> ports) : ports_(std::move(ports)) {}
  void OnStart(engine::Shard& shard, Instant now) override;
  void OnEvents(engine::Shard& shard, std::span<const tcp::EventRecord> events,
                Instant now) override;
  uint64_t served() const { return served_; }

 private:
  void Service(tcp::Tcb* tcb);
  std::vector<uint16_t> ports_;
  uint64_t served_ = 0;
};

}  // namespace locus::bench

#endif  // LOCUS_BENCH_COMMON_LIFECYCLE_APP_H_
