// Pluggable congestion control: the window arithmetic of RFC 5681, RFC 6582
// and RFC 6675, with the growth and decrease rules supplied by an algorithm
// (NewReno, CUBIC).
//
// Split of responsibilities with the connection (stack/tcp/tcb.*):
//  - The connection detects events: it counts duplicate ACKs (RFC 5681 §3.2,
//    or via SackScoreboard for RFC 6675), keeps `recover` (RFC 6582 §3.2
//    step 1), decides full versus partial ACKs and what to retransmit, and
//    computes FlightSize (SND.NXT - SND.UNA, RFC 5681 §2; segments sent by
//    Limited Transmit excluded, RFC 5681 §3.2 step 2 note).
//  - This class owns cwnd and ssthresh and every change to them. The
//    connection calls exactly one of the hooks below per event.
//
// Per ACK in the open state:   OnAck                     (RFC 5681 §3.1)
// Fast retransmit:             EnterRecovery             (RFC 5681 §3.2 step 2,
//                                                          RFC 6582 §3.2 step 2,
//                                                          RFC 6675 §5 step 4.2)
// In recovery, dup ACK:        OnDupAckInRecovery        (RFC 6582 §3.2 step 3)
// In recovery, partial ACK:    OnPartialAck              (RFC 6582 §3.2 step 5)
// Full ACK (ACK >= recover):   ExitRecovery              (RFC 6582 §3.2 step 6)
// Retransmission timeout:      OnRetransmitTimeout       (RFC 5681 §3.1)
//
// Units are bytes. Nothing here allocates; one virtual call per ACK.
#ifndef LOCUS_STACK_TCP_CONGESTION_CONTROL_H_
#define LOCUS_STACK_TCP_CONGESTION_CONTROL_H_

#include <cstdint>
#include <limits>

#include "stack/base/time.h"

namespace locus::tcp {

// One ACK that advanced SND.UNA outside loss recovery.
struct AckEvent {
  Instant now;
  // SRTT from the RttEstimator (zero before the first sample). CUBIC aims
  // at W_cubic(t + RTT) with RTT the smoothed RTT (RFC 9438 §4.2).
  Duration srtt;
  // Bytes newly acknowledged by the cumulative ACK (RFC 3465 counts bytes,
  // not ACKs).
  uint32_t acked_bytes = 0;
  // False when the sender did not fill cwnd in the last flight (application
  // or receiver window limited). The window must not grow from ACKs that
  // did not test it (congestion window validation, RFC 7661; RFC 9438 §5.8
  // for CUBIC). The connection decides, e.g. as Linux's
  // tcp_is_cwnd_limited does.
  bool cwnd_limited = true;
};

// How loss recovery paces transmissions.
enum class RecoveryKind : uint8_t {
  // RFC 6582 (no SACK): cwnd = ssthresh + 3*SMSS, inflated per dup ACK,
  // deflated per partial ACK; the sender sends while FlightSize < cwnd.
  kNewReno,
  // RFC 6675 (SACK): cwnd = ssthresh for the whole episode; the sender
  // sends while cwnd - pipe >= SMSS (pipe from SackScoreboard).
  kSack,
};

class CongestionControl {
 public:
  // RFC 6928 IW10.
  static constexpr uint32_t kDefaultInitialWindowSegments = 10;
  // RFC 3465 §2.2: L, the cap on slow-start growth per ACK, in SMSS.
  static constexpr uint32_t kAbcLimitSegments = 2;
  // RFC 3465 §2.3: L during the slow start that follows an RTO.
  static constexpr uint32_t kAbcLimitAfterRtoSegments = 1;
  // cwnd never exceeds the largest scaled window (RFC 7323 §2.3: 2^30).
  static constexpr uint32_t kMaxCwndBytes = 1u << 30;
  // RFC 5681 §3.1: ssthresh starts "arbitrarily high".
  static constexpr uint32_t kInfiniteSsthresh = std::numeric_limits<uint32_t>::max();

  // The initial window for `iw_segments`:
  //  - iw_segments <= 4: RFC 5681 §3.1 table (2, 3 or 4 segments depending
  //    on SMSS, never more than iw_segments);
  //  - otherwise RFC 6928 §2's generalisation,
  //    min(N*SMSS, max(2*SMSS, N*1460)).
  // iw_segments of 0 is treated as 1.
  static uint32_t InitialWindow(uint32_t smss, uint32_t iw_segments);

  CongestionControl(const CongestionControl&) = delete;
  CongestionControl& operator=(const CongestionControl&) = delete;
  virtual ~CongestionControl() = default;

  uint32_t cwnd() const { return cwnd_; }
  uint32_t ssthresh() const { return ssthresh_; }
  uint32_t smss() const { return smss_; }
  // RFC 5681 §3.1: slow start while cwnd < ssthresh.
  bool in_slow_start() const { return cwnd_ < ssthresh_; }
  bool in_recovery() const { return in_recovery_; }
  RecoveryKind recovery_kind() const { return recovery_kind_; }

  // New data acknowledged in the open state. Grows cwnd: slow start with
  // byte counting capped at L*SMSS per ACK (RFC 5681 §3.1 eq. 2, RFC 3465
  // §2.2), capped at ssthresh with the rest of the ACK counted in
  // congestion avoidance, whose rule is the algorithm's. Ignored while in
  // recovery (use OnPartialAck / ExitRecovery).
  void OnAck(const AckEvent& ack);

  // Loss detected by duplicate ACKs or SACK: sets ssthresh with the
  // algorithm's multiplicative decrease (NewReno: RFC 5681 eq. 4, CUBIC:
  // RFC 9438 §4.6) and cwnd per `kind`. flight_size is FlightSize when the
  // loss was detected. Ignored if already in recovery (one reduction per
  // episode, RFC 6582 §3.2 step 1 / RFC 6675 §5).
  void EnterRecovery(Instant now, uint32_t flight_size, RecoveryKind kind);

  // RFC 6582 §3.2 step 3 (RFC 5681 §3.2 step 4): one more dup ACK in
  // NewReno recovery inflates cwnd by SMSS. No-op for kSack.
  void OnDupAckInRecovery();

  // RFC 6582 §3.2 step 5: a partial ACK deflates cwnd by the newly acked
  // bytes, then adds back SMSS if at least SMSS was acked. No-op for kSack,
  // where pipe accounts for delivered data.
  void OnPartialAck(uint32_t acked_bytes);

  // RFC 6582 §3.2 step 6 option (1): cwnd = min(ssthresh, max(FlightSize,
  // SMSS) + SMSS), with FlightSize measured after the full ACK. This avoids
  // a line-rate burst when little is outstanding. Applied to kSack exits
  // too (RFC 6675 leaves exit to RFC 5681, and the same burst risk exists).
  void ExitRecovery(Instant now, uint32_t flight_size);

  // RFC 5681 §3.1: ssthresh per the algorithm (eq. 4 for NewReno, β_cubic
  // for CUBIC, RFC 9438 §4.8), cwnd = LW = 1 SMSS. Ends any recovery. If
  // the retransmission timer expires again before any new data is
  // acknowledged, ssthresh is held (RFC 5681 §3.1 implementation note).
  void OnRetransmitTimeout(Instant now, uint32_t flight_size);

  // RFC 5681 §3.1 / RFC 6928 §2: if the SYN or SYN-ACK was retransmitted,
  // the initial window is one segment. Call before any data is sent.
  void OnHandshakeRetransmitted();

  // RFC 5681 §4.1: after an idle period longer than the RTO,
  // cwnd = min(cwnd, RW) with RW = min(IW, cwnd). The connection decides
  // that the idle period was long enough.
  void OnIdleRestart(Instant now);

 protected:
  enum class LossKind : uint8_t { kFastRetransmit, kTimeout };

  // iw_segments as for InitialWindow; smss of 0 is treated as 1.
  CongestionControl(uint32_t smss, uint32_t iw_segments);

  // Returns the new ssthresh for a congestion event and updates the
  // algorithm's own state (cwnd_ still holds the pre-event window). The
  // caller floors the result at 2*SMSS.
  virtual uint32_t SsthreshAfterLoss(Instant now, uint32_t flight_size, LossKind kind) = 0;
  // Congestion avoidance growth for `acked` bytes (cwnd_ >= ssthresh_).
  virtual void GrowInCongestionAvoidance(const AckEvent& ack, uint32_t acked) = 0;
  // An ACK arrived while the window was not the limit.
  virtual void OnAppLimitedAck(const AckEvent& /*ack*/) {}
  virtual void OnIdle(Instant /*now*/) {}

  void set_cwnd(uint64_t cwnd);

  uint32_t cwnd_;
  uint32_t ssthresh_ = kInfiniteSsthresh;
  uint32_t smss_;
  uint32_t initial_window_;

 private:
  void ReduceAfterLoss(Instant now, uint32_t flight_size, LossKind kind);

  // Ceiling for dup-ACK inflation in kNewReno recovery.
  uint32_t inflation_cap_ = 0;
  RecoveryKind recovery_kind_ = RecoveryKind::kNewReno;
  bool in_recovery_ = false;
  // Slow start following an RTO (L = 1 SMSS, RFC 3465 §2.3).
  bool slow_start_after_rto_ = false;
  // An RTO fired and no new data has been acknowledged since.
  bool timeout_pending_ = false;
};

}  // namespace locus::tcp

#endif  // LOCUS_STACK_TCP_CONGESTION_CONTROL_H_
