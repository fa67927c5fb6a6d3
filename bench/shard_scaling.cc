// shard_scaling: the short-connection rate with 1 shard and with 2 shards.
//
// Locus: client and server ShardGroups over the in-memory link with one
// queue per shard; the link steers each frame to the queue of the shard
// that owns its flow, using the same FlowSteering (kPortHash; software
// Toeplitz for passive flows) that the dispatchers use, so redirects are
// rare (counted). Thread i (pinned to CPU i) polls client shard i and server
// shard i. The lifecycle is tcp_lifecycle's. Peer, in the same run: the
// kernel lifecycle loop with 1 thread and with 2 independent threads.
// Scaling = rate(2) / rate(1) in lifecycles per wall-clock second; the
// per-CPU-second rates show the efficiency apart from what the machine's
// other load took.
//
//   bench/run shard_scaling [--seconds=3] [--concurrency=64] [--repeat=3]
#include <cstdio>
#include <thread>
#include <vector>

#include "bench/common/bench_util.h"
#include "bench/common/kernel_lifecycle.h"
#include "bench/common/locus_lifecycle.h"

using namespace locus::bench;

namespace {

PhaseResult KernelThreads(int n, const KernelLifecycleOptions& base) {
  std::vector<PhaseResult> r(n);
  std::vector<std::thread> t;
  for (int i = 0; i < n; ++i) {
    t.emplace_back([&, i] {
      KernelLifecycleOptions o = base;
      o.cpu = i;
      r[i] = RunKernelLifecycles(o);
    });
  }
  for (auto& th : t) th.join();
  PhaseResult total;
  for (const auto& x : r) {
    total.completed += x.completed;
    total.failed += x.failed;
    total.cpu_nanos += x.cpu_nanos;
    total.busy_nanos += x.busy_nanos;
    total.wall_nanos = std::max(total.wall_nanos, x.wall_nanos);
  }
  return total;
}

double Rate(const PhaseResult& r) { return r.completed / (r.wall_nanos / 1e9); }
// Lifecycles per second of busy time (iterations that did work).
double BusyRate(const PhaseResult& r) { return r.completed / (r.busy_nanos / 1e9); }

}  // namespace

int main(int argc, char** argv) {
  Flags flags(argc, argv);
  const double seconds = flags.Double("seconds", 3);
  const uint32_t concurrency = static_cast<uint32_t>(flags.Int("concurrency", 64));
  const int repeat = static_cast<int>(flags.Int("repeat", 3));
  std::printf("shard_scaling: tcp_lifecycle's lifecycle, %u in flight per thread; thread i "
              "pinned to CPU i\n",
              concurrency);
  std::printf("load average before: %s\n\n", LoadAverage().c_str());
  Table table({"run", "stack", "threads", "lifecycles", "failed", "per wall s", "cpu s",
               "busy s", "per busy s", "redirects", "scaling (wall)", "scaling (per busy s)"});
  double sum_ours = 0, sum_peer = 0, sum_rss = 0;
  for (int r = 1; r <= repeat; ++r) {
    struct Case {
      const char* name;
      uint16_t shards;
      bool rss;
    };
    const Case cases[] = {{"locus, port hash", 1, false},
                          {"locus, port hash", 2, false},
                          {"locus, symmetric RSS", 2, true}};
    PhaseResult lr[3];
    for (int c = 0; c < 3; ++c) {
      LocusLifecycleOptions o;
      o.shards = cases[c].shards;
      o.rss = cases[c].rss;
      o.concurrency = concurrency;
      o.seconds = seconds;
      o.cpus = o.shards == 1 ? std::vector<int>{1} : std::vector<int>{0, 1};
      LocusLifecycleResult res = RunLocusLifecycles(o);
      if (!res.error.empty()) {
        std::fprintf(stderr, "locus: %s\n", res.error.c_str());
        return 1;
      }
      lr[c] = res.total;
      std::fprintf(stderr,
                   "run %d %s %u shard(s): retransmits %llu, drops %llu, connect errors %llu\n", r,
                   cases[c].name, cases[c].shards,
                   (unsigned long long)(res.client.retransmits + res.server.retransmits),
                   (unsigned long long)(res.client.drops + res.server.drops),
                   (unsigned long long)res.connect_errors);
      const bool two = cases[c].shards == 2;
      table.Row({std::to_string(r), cases[c].name, std::to_string(cases[c].shards),
                 std::to_string(lr[c].completed), std::to_string(lr[c].failed), Fmt(Rate(lr[c])),
                 Fmt(lr[c].cpu_nanos / 1e9, 2), Fmt(lr[c].busy_nanos / 1e9, 2),
                 Fmt(BusyRate(lr[c])), std::to_string(res.redirects),
                 two ? Fmt(Rate(lr[c]) / Rate(lr[0]), 2) : "",
                 two ? Fmt(BusyRate(lr[c]) * 2 / BusyRate(lr[0]), 2) : ""});
    }
    KernelLifecycleOptions ko;
    ko.concurrency = concurrency;
    ko.seconds = seconds;
    PhaseResult kr[2] = {KernelThreads(1, ko), KernelThreads(2, ko)};
    for (int i = 0; i < 2; ++i) {
      table.Row({std::to_string(r), "linux (loopback)", std::to_string(i + 1),
                 std::to_string(kr[i].completed), std::to_string(kr[i].failed), Fmt(Rate(kr[i])),
                 Fmt(kr[i].cpu_nanos / 1e9, 2), Fmt(kr[i].busy_nanos / 1e9, 2),
                 Fmt(BusyRate(kr[i])), "-", i == 1 ? Fmt(Rate(kr[1]) / Rate(kr[0]), 2) : "",
                 i == 1 ? Fmt(BusyRate(kr[1]) * 2 / BusyRate(kr[0]), 2) : ""});
    }
    sum_ours += Rate(lr[1]) / Rate(lr[0]);
    sum_rss += Rate(lr[2]) / Rate(lr[0]);
    sum_peer += Rate(kr[1]) / Rate(kr[0]);
  }
  table.Print();
  std::printf("\nload average after: %s\n", LoadAverage().c_str());
  std::printf("mean scaling (wall): locus port hash %.2f, locus symmetric RSS %.2f, linux %.2f\n"
              "scaling (per busy s) = 2 x (rate per busy second with 2) / (rate per busy second "
              "with 1): what 2 cores would give if each did only its own work\n",
              sum_ours / repeat, sum_rss / repeat, sum_peer / repeat);
  PrintResultJson("shard_scaling",
                  "rate with 2 shards / rate with 1 shard, lifecycles per wall second (higher is "
                  "better; 2.0 is linear; mean of runs)",
                  sum_ours / repeat, "linux kernel, 2 threads / 1 thread (same run)",
                  sum_peer / repeat);
  return 0;
}
