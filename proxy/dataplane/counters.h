// Per-shard proxy counters. Each is written by its shard only (relaxed
// load + store, no locked instructions) and read by any thread (stats,
// Prometheus, the control plane).
#ifndef LOCUS_PROXY_DATAPLANE_COUNTERS_H_
#define LOCUS_PROXY_DATAPLANE_COUNTERS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "proxy/lb/pool_config.h"

namespace locus::proxy::dataplane {

inline void Bump(std::atomic<uint64_t>& c, uint64_t by = 1) {
  c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}
inline void Drop(std::atomic<uint64_t>& c, uint64_t by = 1) {
  c.store(c.load(std::memory_order_relaxed) - by, std::memory_order_relaxed);
}

struct ProxyCounters {
  std::atomic<uint64_t> applied_version{0};
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_rejected{0};  // over a listener's limit
  std::atomic<uint64_t> active_connections{0};    // downstream, gauge
  std::atomic<uint64_t> requests{0};
  std::array<std::atomic<uint64_t>, 6> responses_by_class{};  // [1]..[5] = 1xx..5xx
  std::atomic<uint64_t> bytes_received{0};  // from clients
  std::atomic<uint64_t> bytes_sent{0};      // to clients
  std::atomic<uint64_t> upstream_connects{0};
  std::atomic<uint64_t> upstream_reused{0};  // requests sent on a kept-alive connection
  std::atomic<uint64_t> upstream_connect_failures{0};
  std::atomic<uint64_t> upstream_timeouts{0};
  std::atomic<uint64_t> upstream_idle{0};  // gauge: kept-alive connections
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> retries_budget_exhausted{0};  // allowed by policy, refused by budget
  std::atomic<uint64_t> no_healthy_upstream{0};
  std::atomic<uint64_t> no_route{0};
  std::atomic<uint64_t> bad_requests{0};  // rejected by the parser
  std::atomic<uint64_t> downstream_timeouts{0};
  std::atomic<uint64_t> tunnels{0};  // upgraded or L4 sessions
  std::atomic<uint64_t> route_cache_hits{0};
  std::atomic<uint64_t> route_cache_misses{0};
  std::atomic<uint64_t> route_cache_stale{0};
  std::atomic<uint64_t> health_probes{0};
  std::atomic<uint64_t> health_probe_failures{0};
};

// Kept per shard in an append-only table so that other threads can read it
// while the shard adds endpoints.
struct EndpointCounters {
  std::string pool;
  lb::EndpointKey key;
  std::atomic<uint64_t> active_connections{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> connect_failures{0};
  std::atomic<uint64_t> responses_5xx{0};
  std::atomic<uint64_t> ejections{0};
  // Written by the health owner (shard 0) only: 0 unknown, 1 healthy,
  // 2 unhealthy, 3 ejected.
  std::atomic<uint32_t> health{0};
};

}  // namespace locus::proxy::dataplane

#endif  // LOCUS_PROXY_DATAPLANE_COUNTERS_H_
