// Per-queue counters written only by the queue's owner and readable from
// any thread (a stats endpoint, a test) without a data race. Relaxed
// load + store is a plain add on x86: no locked instruction on the fast
// path, because there is exactly one writer.
#ifndef LOCUS_STACK_LINK_QUEUE_COUNTERS_H_
#define LOCUS_STACK_LINK_QUEUE_COUNTERS_H_

#include <atomic>
#include <cstdint>

#include "stack/link/link.h"

namespace locus::link {

class OwnerCounter {
 public:
  void Add(uint64_t n) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t Get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Aligned so that two queues' counters never share a cache line.
struct alignas(64) QueueCounters {
  OwnerCounter rx_packets, rx_bytes, tx_packets, tx_bytes, tx_full, rx_dropped;

  QueueStats Snapshot() const {
    QueueStats s;
    s.rx_packets = rx_packets.Get();
    s.rx_bytes = rx_bytes.Get();
    s.tx_packets = tx_packets.Get();
    s.tx_bytes = tx_bytes.Get();
    s.tx_full = tx_full.Get();
    s.rx_dropped = rx_dropped.Get();
    return s;
  }
};

}  // namespace locus::link

#endif  // LOCUS_STACK_LINK_QUEUE_COUNTERS_H_
