// Retransmission timer computation (RFC 6298): SRTT/RTTVAR smoothing,
// RTO = SRTT + max(G, K*RTTVAR), clamping and exponential backoff.
//
// Pure state: the caller measures RTT samples (it owns the clock) and tells
// how each one was obtained, because that decides whether it may be used
// (Karn's rule, RFC 6298 §3, versus timestamps, RFC 7323 §4).
#ifndef LOCUS_STACK_TCP_RTT_ESTIMATOR_H_
#define LOCUS_STACK_TCP_RTT_ESTIMATOR_H_

#include <cstdint>

#include "stack/base/time.h"

namespace locus::tcp {

// Where an RTT sample came from. This decides whether it is ambiguous.
enum class RttSampleKind : uint8_t {
  // The segment was timed by the sender and sent exactly once: valid.
  kTimedSegment,
  // The acknowledged segment had been retransmitted, so the ACK may belong
  // to any transmission. Karn's algorithm (RFC 6298 §3) discards it.
  kRetransmittedSegment,
  // Now minus the echoed TSecr (RFC 7323 §4.1). The echo names the
  // transmission it answers, so it stays valid after a retransmission.
  // RFC 7323 §4.2: the caller should only pass echoes from ACKs that advance
  // SND.UNA, so delayed/duplicate ACKs do not bias the estimate.
  kTimestampEcho,
};

class RttEstimator {
 public:
  struct Config {
    // RFC 6298 §2.1: 1 s before any sample.
    Duration initial_rto = Duration::Seconds(1);
    // RFC 6298 §2.4 says RTO SHOULD be rounded up to 1 s. We default to
    // 200 ms as Linux (TCP_RTO_MIN) and FreeBSD (rexmit_min 30 ms) do: the
    // 1 s floor dates from coarse 500 ms timers; with a fine timer wheel it
    // turns every tail loss on a short edge connection (RTT in the
    // milliseconds) into a stall of a second, which dominates the completion
    // time of small HTTP exchanges. 200 ms still exceeds the usual delayed
    // ACK timers (40 ms Linux, 100-200 ms elsewhere; RFC 9293 §3.8.6.3 caps
    // it at 500 ms); a spurious RTO needs a peer whose delayed-ACK timer
    // nears 200 ms on a lone segment, and then costs one extra segment.
    Duration min_rto = Duration::Millis(200);
    // RFC 6298 §2.5: a cap MAY be used provided it is at least 60 s.
    Duration max_rto = Duration::Seconds(60);
    // Clock granularity G (RFC 6298 §2): the resolution of whatever arms
    // the timer (the RTO wheel tick), not of the clock that measures RTT.
    Duration granularity = Duration::Millis(1);

    // All positive, min_rto <= initial_rto <= max_rto, everything at most
    // kMaxConfigRto. A constructor given an invalid config clamps it.
    bool IsValid() const;
  };

  // RFC 6298 §2.3.
  static constexpr int64_t kAlphaDenominator = 8;  // alpha = 1/8
  static constexpr int64_t kBetaDenominator = 4;   // beta = 1/4
  static constexpr int64_t kK = 4;
  // Largest configurable duration; lets the config live in 32-bit
  // microseconds (keeps the object at 40 bytes).
  static constexpr Duration kMaxConfigRto = Duration::Seconds(600);
  // Backoff doublings stop here (2^16 x even a 1 µs RTO is past any sane
  // max_rto); max_rto is the effective cap, this one only bounds the shift.
  static constexpr uint8_t kMaxBackoffShift = 16;
  // RFC 6298 §5 (last paragraph) MAY clear SRTT/RTTVAR after several
  // backoffs since they are likely bogus. FreeBSD does it on the 4th
  // (t_rxtshift > TCP_MAXRXTSHIFT / 4); so do we. The current RTO is kept;
  // only the next valid sample is treated as a first one (§2.2).
  static constexpr uint8_t kBackoffsBeforeDiscardingEstimate = 4;
  // RFC 6298 §5.7: RTO after a timed-out SYN when data transfer begins.
  static constexpr Duration kSynTimeoutFallbackRto = Duration::Seconds(3);

  RttEstimator() : RttEstimator(Config{}) {}
  explicit RttEstimator(const Config& config);

  // Feeds one measurement R. Returns false if it was not used: a negative
  // duration or an ambiguous (Karn) sample.
  //
  // samples_per_rtt implements RFC 7323 Appendix G: with a sample on every
  // ACK, the gains become alpha/ExpectedSamples and beta/ExpectedSamples,
  // ExpectedSamples = ceil(FlightSize / (2*SMSS)). Pass 1 (the default) for
  // the classic one-sample-per-RTT behaviour; Linux does not scale, and we
  // leave the choice to the connection. Values below 1 are treated as 1.
  //
  // A used sample resets the backoff: the new measurement "collapses" the
  // backed-off RTO (RFC 6298 §5, note after rule 5.7), which Karn's rule
  // keeps until then (§3).
  bool AddSample(Duration rtt, RttSampleKind kind, uint32_t samples_per_rtt = 1);

  // RFC 6298 §5.5: the retransmission timer expired; RTO doubles (up to
  // max_rto).
  void OnRetransmitTimeout();

  // RFC 6298 §5.7: the SYN (or SYN-ACK) timed out and no RTT sample was
  // taken during the handshake: the RTO becomes 3 s when data transfer
  // starts, with the handshake's backoff cleared. No effect once a sample
  // exists; a configured initial RTO above 3 s is kept.
  void ApplySynTimeoutFallback();

  // The value to arm the retransmission timer with, backoff included.
  Duration rto() const;
  // SRTT/RTTVAR; zero before the first sample.
  Duration srtt() const { return srtt_; }
  Duration rttvar() const { return rttvar_; }
  bool has_estimate() const { return has_estimate_; }
  // Consecutive timeouts since the last valid sample, saturating at
  // kMaxBackoffShift.
  uint8_t backoff() const { return backoff_; }

 private:
  Duration Clamp(Duration rto) const;

  Duration srtt_;
  Duration rttvar_;
  Duration base_rto_;  // RTO without backoff, already clamped
  uint32_t min_rto_us_;
  uint32_t max_rto_us_;
  uint32_t granularity_us_;
  uint8_t backoff_ = 0;
  bool has_estimate_ = false;  // SRTT/RTTVAR valid (cleared by §5 MAY)
  bool ever_sampled_ = false;  // for §5.7
};

}  // namespace locus::tcp

#endif  // LOCUS_STACK_TCP_RTT_ESTIMATOR_H_
