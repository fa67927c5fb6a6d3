// Runs LifecycleClient/LifecycleServer over a LocusPair: thread i polls
// client shard i and server shard i in turn (one core plays both ends, as
// the kernel peer's thread does).
#ifndef LOCUS_BENCH_COMMON_LOCUS_LIFECYCLE_H_
#define LOCUS_BENCH_COMMON_LOCUS_LIFECYCLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "bench/common/kernel_lifecycle.h"
#include "bench/common/locus_pair.h"

namespace locus::bench {

struct LocusLifecycleOptions {
  uint16_t shards = 1;
  uint32_t concurrency = 64;  // per shard
  uint32_t server_ports = 64;  // 28k ephemeral ports each, reusable after 1 s
  double warmup_seconds = 0.5;
  double seconds = 3;
  std::vector<int> cpus;  // thread i pinned to cpus[i] when present
  bool rss = false;       // see LocusPairOptions::rss
};

struct LocusLifecycleResult {
  std::vector<PhaseResult> threads;
  PhaseResult total;  // completed/failed summed; wall = longest; cpu and busy summed
  TcpTotals client, server;
  uint64_t connect_errors = 0;
  uint64_t redirects = 0;
  std::string error;
};

LocusLifecycleResult RunLocusLifecycles(const LocusLifecycleOptions& options);

}  // namespace locus::bench

#endif  // LOCUS_BENCH_COMMON_LOCUS_LIFECYCLE_H_
