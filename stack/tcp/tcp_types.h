// Vocabulary shared by the per-core TCP: the 4-tuple, the states of RFC 9293
// §3.3.2, the knobs, and why a segment was dropped.
#ifndef LOCUS_STACK_TCP_TCP_TYPES_H_
#define LOCUS_STACK_TCP_TCP_TYPES_H_

#include <cstdint>
#include <string_view>

#include "stack/base/time.h"
#include "stack/tcp_support/ipv4_tuple.h"
#include "stack/wire/addresses.h"

namespace locus::tcp {

// The connection's name; "local" is our side. Shared with the ISN and
// SYN-cookie code, which hash it.
using FourTuple = Ipv4Tuple;

// RFC 9293 §3.3.2. LISTEN belongs to Listener objects and the passive
// SYN-RECEIVED of a fresh handshake to RequestSocks; a Tcb sees SYN-RECEIVED
// only after a simultaneous open, or once promoted from a RequestSock.
enum class TcpState : uint8_t {
  kClosed,
  kListen,
  kSynSent,
  kSynReceived,
  kEstablished,
  kFinWait1,
  kFinWait2,
  kCloseWait,
  kClosing,
  kLastAck,
  kTimeWait,
};

std::string_view TcpStateName(TcpState s);

enum class CongestionAlgorithm : uint8_t { kNewReno, kCubic };

// Per-core TCP configuration. Defaults follow Linux where the RFCs leave a
// choice, because the peers Locus talks to are mostly Linux.
struct TcpConfig {
  // MSS we announce: MTU 1500 - 20 (IPv4) - 20 (TCP).
  uint16_t mss = 1460;
  // RFC 6298 §2.4 says 1 s; Linux uses 200 ms and so do we, since the
  // peers are on the same LAN or datacentre and 1 s stalls short requests.
  Duration min_rto = Duration::Millis(200);
  Duration max_rto = Duration::Seconds(60);
  Duration initial_rto = Duration::Seconds(1);  // RFC 6298 §2.1
  // RFC 1122 §4.2.3.2: no more than 500 ms; Linux's 40 ms keeps request/
  // response latency low.
  Duration delayed_ack = Duration::Millis(40);
  // 2*MSL for TIME-WAIT (RFC 9293 §3.4.2). Linux uses 60 s.
  Duration time_wait = Duration::Seconds(60);
  Duration fin_wait2_timeout = Duration::Seconds(60);
  // Keepalive (RFC 1122 §4.2.3.6): off unless enabled per connection.
  Duration keepalive_idle = Duration::Seconds(7200);
  Duration keepalive_interval = Duration::Seconds(75);
  uint8_t keepalive_probes = 9;
  // Retransmission limits (RFC 9293 §3.8.3 R1/R2, as counts like Linux).
  uint8_t syn_retries = 6;
  uint8_t synack_retries = 5;
  uint8_t max_retries = 15;
  uint32_t receive_buffer = 256 * 1024;  // bytes we are willing to queue
  uint32_t send_buffer = 256 * 1024;
  uint32_t initial_window_segments = 10;  // RFC 6928
  bool nagle = false;                     // off for proxying
  bool timestamps = true;                 // RFC 7323
  bool window_scaling = true;             // RFC 7323
  bool sack = true;                       // RFC 2018
  CongestionAlgorithm congestion = CongestionAlgorithm::kCubic;
  // Passive opens: half-open RequestSocks per listener before SYN cookies.
  uint32_t syn_backlog = 1024;
  uint32_t accept_backlog = 4096;
  bool syn_cookies = true;
  // RFC 5961 §7: challenge ACKs per second, per core.
  uint32_t challenge_ack_limit = 1000;
};

// Why an inbound segment was dropped. Each bumps its own counter.
enum class TcpDrop : uint8_t {
  kBadChecksum,
  kMalformed,          // header or options did not parse
  kNoListener,         // answered with RST (RFC 9293 §3.10.7.1)
  kSynBacklogFull,     // and SYN cookies off
  kAcceptQueueFull,
  kBadCookie,
  kOutOfWindow,        // unacceptable segment (§3.10.7.4 first check)
  kPaws,               // RFC 7323 §5
  kRstInvalid,         // RST outside the window
  kSynInWindow,        // RFC 5961 §4: answered with a challenge ACK
  kAckInvalid,         // ACK of unsent data
  kNoMemory,           // packet pool or object pool exhausted
  kTimeWait,           // segment for a TIME-WAIT connection, answered with ACK
  kNotAcceptable,      // other state-machine rejections
  kCount,
};

std::string_view TcpDropName(TcpDrop d);

}  // namespace locus::tcp

#endif  // LOCUS_STACK_TCP_TCP_TYPES_H_
