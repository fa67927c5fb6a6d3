#include "bench/common/locus_lifecycle.h"

#include <algorithm>
#include <memory>
#include <thread>

#include "bench/common/bench_util.h"
#include "bench/common/lifecycle_app.h"

namespace locus::bench {

LocusLifecycleResult RunLocusLifecycles(const LocusLifecycleOptions& o) {
  LocusLifecycleResult result;
  LocusPairOptions po;
  po.shards = o.shards;
  po.rss = o.rss;
  for (uint32_t i = 0; i < o.server_ports; ++i) po.server_ports.push_back(static_cast<uint16_t>(80 + i));
  absl::StatusOr<std::unique_ptr<LocusPair>> pair = LocusPair::Create(po);
  if (!pair.ok()) {
    result.error = pair.status().ToString();
    return result;
  }
  LocusPair& p = **pair;
  std::vector<LifecycleStats> stats(o.shards);
  result.threads.resize(o.shards);
  std::vector<std::thread> threads;
  for (uint16_t i = 0; i < o.shards; ++i) {
    threads.emplace_back([&, i] {
      if (i < o.cpus.size()) PinThread(o.cpus[i]);
      engine::Shard& cs = p.client().shard(i);
      engine::Shard& ss = p.server().shard(i);
      LifecycleServer server(po.server_ports);
      LifecycleClient client(kServerIp, po.server_ports, o.concurrency, stats[i]);
      Instant now = MonotonicNow();
      server.OnStart(ss, now);
      ss.stack().Flush(now);
      client.OnStart(cs, now);
      cs.stack().Flush(now);
      const int64_t start = WallNanos();
      const int64_t measure_at = start + static_cast<int64_t>(o.warmup_seconds * 1e9);
      const int64_t end = measure_at + static_cast<int64_t>(o.seconds * 1e9);
      PhaseResult at_start;
      bool measuring = false;
      int64_t busy = 0;
      for (;;) {
        now = MonotonicNow();
        const int64_t wall = now.nanos();
        if (!measuring && wall >= measure_at) {
          measuring = true;
          at_start = {stats[i].completed.load(), stats[i].failed.load(), WallNanos(),
                      ThreadCpuNanos()};
          busy = 0;
        }
        if (wall >= end) break;
        size_t work = cs.PollOnce(client, now);
        work += ss.PollOnce(server, now);
        if (work > 0) busy += MonotonicNow().nanos() - wall;
      }
      PhaseResult& r = result.threads[i];
      r.completed = stats[i].completed.load() - at_start.completed;
      r.failed = stats[i].failed.load() - at_start.failed;
      r.wall_nanos = WallNanos() - at_start.wall_nanos;
      r.cpu_nanos = ThreadCpuNanos() - at_start.cpu_nanos;
      r.busy_nanos = busy;
      // Let the connections in flight finish before the stacks go.
      client.Drain();
      const int64_t drain_end = WallNanos() + 200000000;
      while (WallNanos() < drain_end) {
        now = MonotonicNow();
        cs.PollOnce(client, now);
        ss.PollOnce(server, now);
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const PhaseResult& r : result.threads) {
    result.total.completed += r.completed;
    result.total.failed += r.failed;
    result.total.cpu_nanos += r.cpu_nanos;
    result.total.busy_nanos += r.busy_nanos;
    result.total.wall_nanos = std::max(result.total.wall_nanos, r.wall_nanos);
  }
  for (const LifecycleStats& s : stats) result.connect_errors += s.connect_errors.load();
  result.client = SumTcp(p.client());
  result.server = SumTcp(p.server());
  result.redirects = SumRedirects(p.client()) + SumRedirects(p.server());
  return result;
}

}  // namespace locus::bench
