// The same short-connection lifecycle as lifecycle_app.h on Linux kernel
// sockets over loopback: one thread runs both the client and the server
// side with non-blocking sockets and one epoll (edge-triggered), keeps
// `concurrency` lifecycles in flight, and the client shuts down first, so
// the client keeps TIME-WAIT (net.ipv4.tcp_tw_reuse, 2 by default, lets
// loopback connects reuse it after 1 s, the rule Locus follows).
#ifndef LOCUS_BENCH_COMMON_KERNEL_LIFECYCLE_H_
#define LOCUS_BENCH_COMMON_KERNEL_LIFECYCLE_H_

#include <cstddef>
#include <cstdint>

namespace locus::bench {

// Request and response size of one lifecycle.
inline constexpr size_t kMessageBytes = 64;

struct PhaseResult {
  uint64_t completed = 0;
  uint64_t failed = 0;
  int64_t wall_nanos = 0;
  int64_t cpu_nanos = 0;  // the measuring thread's user + system time
  // Time in loop iterations that did work. A busy-polling Locus thread
  // burns CPU while idle; the kernel loop sleeps in epoll_wait instead, so
  // for it this equals cpu_nanos.
  int64_t busy_nanos = 0;
};

struct KernelLifecycleOptions {
  uint32_t concurrency = 64;
  uint32_t server_ports = 64;  // 28k ephemeral ports each, reusable after 1 s
  double warmup_seconds = 0.5;
  double seconds = 3;
  int cpu = -1;  // pin to this CPU when >= 0
};

// Runs on the calling thread; returns what the measured phase did.
PhaseResult RunKernelLifecycles(const KernelLifecycleOptions& options);

}  // namespace locus::bench

#endif  // LOCUS_BENCH_COMMON_KERNEL_LIFECYCLE_H_
