// tcp_lifecycle: short TCP connection lifecycles per second on one core.
//
// Locus: a client stack and a server stack (full Locus stacks: Ethernet,
// ARP, IPv4, TCP with software checksums, timers, port allocator) over the
// in-memory link, both driven by one pinned thread. Peer, in the same run:
// the same lifecycle on Linux kernel sockets over loopback, client and
// server in one pinned thread with epoll. Both are reported per CPU second
// of the thread that did the work (CLOCK_THREAD_CPUTIME_ID, which for the
// kernel includes the system calls and the loopback softirq work done in
// that thread's context); ksoftirqd time is shown separately.
//
//   bench/run tcp_lifecycle [--seconds=3] [--concurrency=64] [--cpu=1] [--repeat=3]
#include <cstdio>

#include "bench/common/bench_util.h"
#include "bench/common/kernel_lifecycle.h"
#include "bench/common/locus_lifecycle.h"

using namespace locus::bench;

int main(int argc, char** argv) {
  Flags flags(argc, argv);
  const double seconds = flags.Double("seconds", 3);
  const uint32_t concurrency = static_cast<uint32_t>(flags.Int("concurrency", 64));
  const int cpu = static_cast<int>(flags.Int("cpu", 1));
  const int repeat = static_cast<int>(flags.Int("repeat", 3));

  std::printf("tcp_lifecycle: SYN, SYN-ACK, ACK, 64 B request, 64 B response, FIN both ways;\n"
              "client closes first and keeps TIME-WAIT; %u lifecycles in flight; one thread "
              "pinned to CPU %d runs client and server\n",
              concurrency, cpu);
  std::printf("load average before: %s\n\n", LoadAverage().c_str());

  Table table({"run", "stack", "lifecycles", "failed", "wall s", "cpu s", "per wall s",
               "per cpu s", "busy s", "cpu us/lifecycle", "ksoftirqd ms", "segs/lifecycle"});
  double best_ratio_ours = 0, best_ratio_peer = 0;
  double sum_ours = 0, sum_peer = 0;
  for (int r = 1; r <= repeat; ++r) {
    LocusLifecycleOptions lo;
    lo.concurrency = concurrency;
    lo.seconds = seconds;
    lo.cpus = {cpu};
    int64_t soft0 = KsoftirqdCpuNanos();
    LocusLifecycleResult l = RunLocusLifecycles(lo);
    int64_t soft_locus = KsoftirqdCpuNanos() - soft0;
    if (!l.error.empty()) {
      std::fprintf(stderr, "locus: %s\n", l.error.c_str());
      return 1;
    }
    const PhaseResult& lt = l.total;
    double locus_rate = lt.completed / (lt.cpu_nanos / 1e9);
    // Segments each side sent per lifecycle over the whole run (warm-up too).
    double segs = double(l.client.segments_out + l.server.segments_out) /
                  double(l.client.time_wait_entered ? l.client.time_wait_entered : 1);
    table.Row({std::to_string(r), "locus (memory link)", std::to_string(lt.completed),
               std::to_string(lt.failed), Fmt(lt.wall_nanos / 1e9, 2), Fmt(lt.cpu_nanos / 1e9, 2),
               Fmt(lt.completed / (lt.wall_nanos / 1e9)), Fmt(locus_rate), Fmt(lt.busy_nanos / 1e9, 2),
               Fmt(lt.cpu_nanos / 1e3 / lt.completed, 2), Fmt(soft_locus / 1e6), Fmt(segs, 2)});

    sum_ours += locus_rate;
    if (flags.Has("locus_only")) continue;
    KernelLifecycleOptions ko;
    ko.concurrency = concurrency;
    ko.seconds = seconds;
    ko.cpu = cpu;
    soft0 = KsoftirqdCpuNanos();
    PhaseResult k = RunKernelLifecycles(ko);
    int64_t soft_kernel = KsoftirqdCpuNanos() - soft0;
    double kernel_rate = k.completed / (k.cpu_nanos / 1e9);
    table.Row({std::to_string(r), "linux (loopback)", std::to_string(k.completed),
               std::to_string(k.failed), Fmt(k.wall_nanos / 1e9, 2), Fmt(k.cpu_nanos / 1e9, 2),
               Fmt(k.completed / (k.wall_nanos / 1e9)), Fmt(kernel_rate), Fmt(k.busy_nanos / 1e9, 2),
               Fmt(k.cpu_nanos / 1e3 / k.completed, 2), Fmt(soft_kernel / 1e6), "-"});
    sum_peer += kernel_rate;
    if (locus_rate / kernel_rate > best_ratio_ours / (best_ratio_peer ? best_ratio_peer : 1)) {
      best_ratio_ours = locus_rate;
      best_ratio_peer = kernel_rate;
    }
    std::fprintf(stderr,
                 "run %d: locus client tcp: segs_out=%llu retransmits=%llu time_wait=%llu "
                 "tw_reused=%llu drops=%llu resets=%llu delayed_acks=%llu connect_errors=%llu; "
                 "server: segs_out=%llu passive=%llu drops=%llu resets=%llu\n",
                 r, (unsigned long long)l.client.segments_out,
                 (unsigned long long)l.client.retransmits,
                 (unsigned long long)l.client.time_wait_entered,
                 (unsigned long long)l.client.time_wait_reused, (unsigned long long)l.client.drops,
                 (unsigned long long)l.client.resets_out,
                 (unsigned long long)l.client.delayed_acks,
                 (unsigned long long)l.connect_errors, (unsigned long long)l.server.segments_out,
                 (unsigned long long)l.server.passive_opens, (unsigned long long)l.server.drops,
                 (unsigned long long)l.server.resets_out);
  }
  table.Print();
  std::printf("\nload average after: %s\n", LoadAverage().c_str());
  std::printf("mean over %d runs: locus %.0f, linux %.0f lifecycles per CPU second; ratio %.2f\n",
              repeat, sum_ours / repeat, sum_peer / repeat, sum_ours / sum_peer);
  PrintResultJson("tcp_lifecycle",
                  "lifecycles per CPU second, one core, client+server on it (higher is better; "
                  "mean of runs)",
                  sum_ours / repeat, "linux kernel TCP over loopback (same run)", sum_peer / repeat);
  return 0;
}
