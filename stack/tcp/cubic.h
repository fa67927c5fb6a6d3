// CUBIC congestion control (RFC 9438).
//
// Window growth in congestion avoidance follows
//   W_cubic(t) = C * (t - K)^3 + W_max,  K = cbrt((W_max - cwnd_epoch) / C)
// (RFC 9438 §4.2, in segments; stored here in bytes), with the Reno-friendly
// estimate W_est (§4.3) taking over where it is larger, multiplicative
// decrease by beta_cubic = 0.7 (§4.6), fast convergence (§4.7) and the
// post-timeout rules of §4.8. Slow start is the standard one (§4.10), done
// by CongestionControl; the fast-recovery window arithmetic is shared with
// NewReno there as well.
//
// Doubles are used for W_max, K, W_est and the fractional part of cwnd: the
// per-ACK cost is two cubes and a few multiplies; cbrt runs once per epoch.
//
// Not implemented: HyStart++ (RFC 9406, §4.10 MAY), the spurious congestion
// undo of §4.9 (needs a spurious-loss detector, F-RTO/Eifel/DSACK, which
// the connection does not have yet), ECN reduction (no ECN negotiation).
#ifndef LOCUS_STACK_TCP_CUBIC_H_
#define LOCUS_STACK_TCP_CUBIC_H_

#include <cstdint>

#include "stack/base/time.h"
#include "stack/tcp/congestion_control.h"

namespace locus::tcp {

class Cubic final : public CongestionControl {
 public:
  static constexpr double kC = 0.4;     // RFC 9438 §5.1
  static constexpr double kBeta = 0.7;  // RFC 9438 §4.6
  // RFC 9438 §4.3: AIMD(alpha, beta) as fair to Reno as AIMD(1, 0.5).
  static constexpr double kAlphaCubic = 3.0 * (1.0 - kBeta) / (1.0 + kBeta);

  explicit Cubic(uint32_t smss, uint32_t iw_segments = kDefaultInitialWindowSegments,
                 bool fast_convergence = true);

  // W_cubic(t) in bytes, t seconds after the start of the current
  // congestion avoidance stage.
  double WCubic(double t_seconds) const;

  // Current state, for tests and diagnostics. Bytes and seconds.
  double w_max() const { return w_max_; }
  double k() const { return k_; }
  double w_est() const { return w_est_; }
  uint32_t cwnd_prior() const { return cwnd_prior_; }
  bool epoch_started() const { return epoch_valid_; }
  Instant epoch_start() const { return epoch_start_; }

 private:
  uint32_t SsthreshAfterLoss(Instant now, uint32_t flight_size, LossKind kind) override;
  void GrowInCongestionAvoidance(const AckEvent& ack, uint32_t acked) override;
  void OnAppLimitedAck(const AckEvent& ack) override;
  void OnIdle(Instant now) override;
  void StartEpoch(Instant now);

  double w_max_ = 0;  // W_max: cwnd just before the last reduction
  double k_ = 0;      // K, seconds
  double w_est_ = 0;  // W_est
  double carry_ = 0;  // fraction of a byte of cwnd not yet applied
  Instant epoch_start_;  // t_epoch
  Instant last_ack_;
  uint32_t cwnd_prior_ = 0;  // cwnd when ssthresh was last set (§4.6)
  bool epoch_valid_ = false;
  bool epoch_after_timeout_ = false;  // §4.8 applies to the next epoch
  bool fast_convergence_;
};

}  // namespace locus::tcp

#endif  // LOCUS_STACK_TCP_CUBIC_H_
