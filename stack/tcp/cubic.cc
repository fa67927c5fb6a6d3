#include "stack/tcp/cubic.h"

#include <algorithm>
#include <cmath>

namespace locus::tcp {

Cubic::Cubic(uint32_t smss, uint32_t iw_segments, bool fast_convergence)
    : CongestionControl(smss, iw_segments), fast_convergence_(fast_convergence) {}

double Cubic::WCubic(double t) const {
  // RFC 9438 eq. 1, scaled from segments to bytes.
  const double d = t - k_;
  return kC * smss_ * d * d * d + w_max_;
}

uint32_t Cubic::SsthreshAfterLoss(Instant /*now*/, uint32_t flight_size, LossKind kind) {
  epoch_valid_ = false;
  carry_ = 0;
  cwnd_prior_ = cwnd_;  // §4.6
  if (kind == LossKind::kFastRetransmit) {
    // §4.7 fast convergence: a flow whose W_max keeps shrinking releases
    // bandwidth to newcomers by aiming lower.
    if (fast_convergence_ && cwnd_ < w_max_) {
      w_max_ = cwnd_ * (1.0 + kBeta) / 2.0;
    } else {
      w_max_ = cwnd_;
    }
    epoch_after_timeout_ = false;
  } else {
    // §4.8: W_max and K are set when the next congestion avoidance stage
    // starts.
    epoch_after_timeout_ = true;
  }
  // §4.6 (and §4.8 for timeouts): ssthresh = flight_size * beta_cubic.
  // RFC 9438 uses FlightSize, not cwnd, so an application-limited sender
  // does not keep an ssthresh it never used.
  return static_cast<uint32_t>(flight_size * kBeta);
}

void Cubic::StartEpoch(Instant now) {
  epoch_valid_ = true;
  epoch_start_ = now;
  last_ack_ = now;
  carry_ = 0;
  const double cwnd_epoch = cwnd_;
  if (epoch_after_timeout_) {
    // §4.8: first stage after an RTO: K = 0, W_max = cwnd at its start.
    w_max_ = cwnd_epoch;
    k_ = 0;
    epoch_after_timeout_ = false;
  } else {
    // §4.2 eq. 2, in segments. cwnd_epoch above W_max (possible when
    // ssthresh came from a small FlightSize, or without any loss) gives a
    // negative K: the curve is then convex from t = 0 and still passes
    // through cwnd_epoch, as the formula intends.
    k_ = std::cbrt((w_max_ - cwnd_epoch) / smss_ / kC);
  }
  w_est_ = cwnd_epoch;  // §4.3
}

void Cubic::GrowInCongestionAvoidance(const AckEvent& ack, uint32_t acked) {
  if (!epoch_valid_) StartEpoch(ack.now);
  last_ack_ = ack.now;
  const double t = std::max(0.0, (ack.now - epoch_start_).seconds());
  const double cwnd = cwnd_ + carry_;

  // §4.3: W_est grows by alpha_cubic segments per cwnd of acknowledged
  // data, and alpha_cubic becomes 1 once W_est has reached cwnd_prior.
  const double alpha = w_est_ >= cwnd_prior_ ? 1.0 : kAlphaCubic;
  w_est_ += alpha * smss_ * (static_cast<double>(acked) / cwnd);

  double next;
  if (WCubic(t) < w_est_) {
    // Reno-friendly region (§4.3): cwnd = W_est. Never shrink on an ACK:
    // cwnd can be above W_est if the cubic target raised it earlier.
    next = std::max(cwnd, w_est_);
  } else {
    // Concave (§4.4) or convex (§4.5) region: close the gap to
    // target = W_cubic(t + RTT), clamped to [cwnd, 1.5*cwnd] (§4.2), by
    // (target - cwnd)/cwnd per acknowledged segment.
    const double target =
        std::clamp(WCubic(t + ack.srtt.seconds()), cwnd, 1.5 * cwnd);
    next = cwnd + (target - cwnd) * (static_cast<double>(acked) / cwnd);
  }
  next = std::min(next, static_cast<double>(kMaxCwndBytes));
  const double whole = std::floor(next);
  set_cwnd(static_cast<uint64_t>(whole));
  carry_ = next - whole;
}

void Cubic::OnAppLimitedAck(const AckEvent& ack) {
  // §5.8: t must not include application-limited periods, or W_cubic(t)
  // would be far ahead of what the path was shown to carry.
  if (epoch_valid_ && ack.now > last_ack_) epoch_start_ += ack.now - last_ack_;
  last_ack_ = ack.now;
}

void Cubic::OnIdle(Instant /*now*/) {
  epoch_valid_ = false;
  carry_ = 0;
}

}  // namespace locus::tcp
