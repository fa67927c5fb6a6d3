#include "stack/tcp/congestion_control.h"

#include <algorithm>

namespace locus::tcp {

uint32_t CongestionControl::InitialWindow(uint32_t smss, uint32_t iw_segments) {
  const uint64_t mss = std::max<uint32_t>(smss, 1);
  const uint64_t n = std::max<uint32_t>(iw_segments, 1);
  uint64_t iw;
  if (n <= 4) {
    // RFC 5681 §3.1: the SMSS-dependent table (RFC 3390).
    const uint64_t segments = mss > 2190 ? 2 : mss > 1095 ? 3 : 4;
    iw = std::min(segments, n) * mss;
  } else {
    // RFC 6928 §2: min(10*MSS, max(2*MSS, 14600)) for N = 10.
    iw = std::min(n * mss, std::max(2 * mss, n * 1460));
  }
  return static_cast<uint32_t>(std::min<uint64_t>(iw, kMaxCwndBytes));
}

CongestionControl::CongestionControl(uint32_t smss, uint32_t iw_segments)
    : smss_(std::max<uint32_t>(smss, 1)) {
  initial_window_ = InitialWindow(smss_, iw_segments);
  cwnd_ = initial_window_;
}

void CongestionControl::set_cwnd(uint64_t cwnd) {
  cwnd_ = static_cast<uint32_t>(std::min<uint64_t>(cwnd, kMaxCwndBytes));
}

void CongestionControl::OnAck(const AckEvent& ack) {
  if (in_recovery_ || ack.acked_bytes == 0) return;
  timeout_pending_ = false;  // new data acknowledged since the last RTO
  if (!ack.cwnd_limited) {
    OnAppLimitedAck(ack);
    return;
  }
  uint32_t acked = ack.acked_bytes;
  if (cwnd_ < ssthresh_) {
    // RFC 5681 §3.1 eq. 2 with RFC 3465 §2.2 byte counting: grow by the
    // bytes acked, at most L*SMSS per ACK.
    const uint64_t limit_segments =
        slow_start_after_rto_ ? kAbcLimitAfterRtoSegments : kAbcLimitSegments;
    const uint64_t grow = std::min<uint64_t>(acked, limit_segments * smss_);
    const uint64_t room = ssthresh_ - cwnd_;
    if (grow < room) {
      set_cwnd(cwnd_ + grow);
      return;
    }
    // Reaching ssthresh ends slow start; the rest of this ACK is counted
    // in congestion avoidance rather than overshooting ssthresh.
    set_cwnd(ssthresh_);
    acked -= static_cast<uint32_t>(std::min<uint64_t>(room, acked));
    slow_start_after_rto_ = false;
  }
  if (acked > 0 && cwnd_ >= ssthresh_) GrowInCongestionAvoidance(ack, acked);
}

void CongestionControl::ReduceAfterLoss(Instant now, uint32_t flight_size, LossKind kind) {
  const uint32_t ssthresh = SsthreshAfterLoss(now, flight_size, kind);
  // RFC 5681 eq. 4 / RFC 9438 §4.6: never below 2*SMSS.
  const uint32_t floor = static_cast<uint32_t>(std::min<uint64_t>(2ull * smss_, kMaxCwndBytes));
  ssthresh_ = std::max(ssthresh, floor);
}

void CongestionControl::EnterRecovery(Instant now, uint32_t flight_size, RecoveryKind kind) {
  if (in_recovery_) return;
  ReduceAfterLoss(now, flight_size, LossKind::kFastRetransmit);
  in_recovery_ = true;
  recovery_kind_ = kind;
  slow_start_after_rto_ = false;
  if (kind == RecoveryKind::kNewReno) {
    // RFC 6582 §3.2 step 2: the three dup ACKs left the network.
    set_cwnd(uint64_t{ssthresh_} + 3ull * smss_);
    // RFC 5681 §3.2 (note on [SCWA99]): a TCP MAY limit dup-ACK inflation
    // to the number of outstanding segments, against receivers that forge
    // dup ACKs. Every dup ACK stands for one segment of FlightSize.
    inflation_cap_ = static_cast<uint32_t>(
        std::min<uint64_t>(uint64_t{ssthresh_} + std::max(flight_size, 3 * smss_),
                           kMaxCwndBytes));
  } else {
    // RFC 6675 §5 step 4.2: cwnd = ssthresh; pipe does the accounting.
    set_cwnd(ssthresh_);
  }
}

void CongestionControl::OnDupAckInRecovery() {
  if (!in_recovery_ || recovery_kind_ != RecoveryKind::kNewReno) return;
  set_cwnd(std::min<uint64_t>(uint64_t{cwnd_} + smss_, inflation_cap_));
}

void CongestionControl::OnPartialAck(uint32_t acked_bytes) {
  if (!in_recovery_ || recovery_kind_ != RecoveryKind::kNewReno) return;
  // RFC 6582 §3.2 step 5: deflate by the amount acknowledged, add back one
  // SMSS if at least one SMSS was acknowledged, so that about ssthresh
  // bytes stay in flight when recovery ends.
  uint64_t cwnd = cwnd_ - std::min(acked_bytes, cwnd_);
  if (acked_bytes >= smss_) cwnd += smss_;
  set_cwnd(std::max<uint64_t>(cwnd, smss_));
}

void CongestionControl::ExitRecovery(Instant /*now*/, uint32_t flight_size) {
  if (!in_recovery_) return;
  in_recovery_ = false;
  // RFC 6582 §3.2 step 6, option (1).
  const uint64_t burst_limit = uint64_t{std::max(flight_size, smss_)} + smss_;
  set_cwnd(std::min<uint64_t>(ssthresh_, burst_limit));
}

void CongestionControl::OnRetransmitTimeout(Instant now, uint32_t flight_size) {
  // RFC 5681 §3.1: a segment already retransmitted by the timer keeps
  // ssthresh (implementation note), so repeated timeouts do not collapse it.
  if (!timeout_pending_) ReduceAfterLoss(now, flight_size, LossKind::kTimeout);
  timeout_pending_ = true;
  in_recovery_ = false;
  slow_start_after_rto_ = true;
  set_cwnd(smss_);  // LW = 1 SMSS
}

void CongestionControl::OnHandshakeRetransmitted() { set_cwnd(smss_); }

void CongestionControl::OnIdleRestart(Instant now) {
  // RFC 5681 §4.1: RW = min(IW, cwnd).
  set_cwnd(std::min(cwnd_, initial_window_));
  OnIdle(now);
}

}  // namespace locus::tcp
