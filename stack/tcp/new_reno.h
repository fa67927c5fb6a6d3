// NewReno congestion control: RFC 5681 §3.1 slow start and congestion
// avoidance with byte counting (RFC 3465), halving on loss (RFC 5681 eq. 4).
// The fast-recovery window arithmetic of RFC 6582 is shared with CUBIC and
// lives in CongestionControl; this class supplies only the AIMD rules.
#ifndef LOCUS_STACK_TCP_NEW_RENO_H_
#define LOCUS_STACK_TCP_NEW_RENO_H_

#include <cstdint>

#include "stack/tcp/congestion_control.h"

namespace locus::tcp {

class NewReno final : public CongestionControl {
 public:
  explicit NewReno(uint32_t smss, uint32_t iw_segments = kDefaultInitialWindowSegments);

  // Bytes counted towards the next +SMSS in congestion avoidance.
  uint32_t bytes_acked() const { return bytes_acked_; }

 private:
  uint32_t SsthreshAfterLoss(Instant now, uint32_t flight_size, LossKind kind) override;
  void GrowInCongestionAvoidance(const AckEvent& ack, uint32_t acked) override;
  void OnIdle(Instant now) override;

  uint32_t bytes_acked_ = 0;
};

}  // namespace locus::tcp

#endif  // LOCUS_STACK_TCP_NEW_RENO_H_
