// Per-core TCP counters. One core writes them; readers on other threads
// (stats export) read them racily, which is fine for monotonically growing
// 64-bit counters on x86-64.
#ifndef LOCUS_STACK_TCP_TCP_COUNTERS_H_
#define LOCUS_STACK_TCP_TCP_COUNTERS_H_

#include <array>
#include <cstdint>

#include "stack/tcp/tcp_types.h"

namespace locus::tcp {

struct TcpCounters {
  uint64_t segments_in = 0;
  uint64_t segments_out = 0;
  uint64_t bytes_in = 0;   // payload accepted in order
  uint64_t bytes_out = 0;  // payload sent, including retransmissions
  uint64_t retransmits = 0;
  uint64_t fast_retransmits = 0;
  uint64_t rto_timeouts = 0;
  uint64_t resets_in = 0;
  uint64_t resets_out = 0;
  uint64_t active_opens = 0;
  uint64_t passive_opens = 0;
  uint64_t failed_opens = 0;  // refused or timed out handshakes
  uint64_t established_resets = 0;
  uint64_t syn_cookies_sent = 0;
  uint64_t syn_cookies_valid = 0;
  uint64_t syn_cookies_invalid = 0;
  uint64_t challenge_acks = 0;
  uint64_t challenge_acks_suppressed = 0;
  uint64_t delayed_acks = 0;
  uint64_t window_probes = 0;
  uint64_t keepalive_probes = 0;
  uint64_t time_wait_entered = 0;
  uint64_t time_wait_reused = 0;
  uint64_t ooo_segments = 0;
  uint64_t sack_recoveries = 0;
  uint64_t reno_recoveries = 0;
  uint64_t connections_current = 0;  // Tcbs alive
  uint64_t request_socks_current = 0;
  uint64_t time_wait_current = 0;
  std::array<uint64_t, static_cast<size_t>(TcpDrop::kCount)> drops{};

  void Drop(TcpDrop reason) { ++drops[static_cast<size_t>(reason)]; }
  uint64_t dropped(TcpDrop reason) const { return drops[static_cast<size_t>(reason)]; }
};

}  // namespace locus::tcp

#endif  // LOCUS_STACK_TCP_TCP_COUNTERS_H_
