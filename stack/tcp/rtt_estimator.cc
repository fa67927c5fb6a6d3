#include "stack/tcp/rtt_estimator.h"

#include <algorithm>

namespace locus::tcp {
namespace {

uint32_t ToMicros(Duration d) {
  return static_cast<uint32_t>(
      std::clamp<int64_t>(d.micros(), 1, RttEstimator::kMaxConfigRto.micros()));
}

}  // namespace

bool RttEstimator::Config::IsValid() const {
  const Duration zero = Duration::Zero();
  return granularity > zero && min_rto > zero && min_rto <= initial_rto &&
         initial_rto <= max_rto && max_rto <= kMaxConfigRto &&
         granularity <= kMaxConfigRto;
}

RttEstimator::RttEstimator(const Config& config)
    : min_rto_us_(ToMicros(config.min_rto)),
      max_rto_us_(std::max(ToMicros(config.max_rto), min_rto_us_)),
      granularity_us_(ToMicros(config.granularity)) {
  base_rto_ = Clamp(config.initial_rto);
}

Duration RttEstimator::Clamp(Duration rto) const {
  // RFC 6298 §2.4 (floor) and §2.5 (cap).
  return std::clamp(rto, Duration::Micros(min_rto_us_), Duration::Micros(max_rto_us_));
}

bool RttEstimator::AddSample(Duration rtt, RttSampleKind kind, uint32_t samples_per_rtt) {
  if (kind == RttSampleKind::kRetransmittedSegment) return false;  // Karn, §3
  if (rtt < Duration::Zero()) return false;  // clock went backwards: not a sample
  // Keep R small enough that K*RTTVAR and the sums below cannot overflow.
  rtt = std::min(rtt, kMaxConfigRto * 16);

  if (!has_estimate_) {
    // RFC 6298 §2.2: first measurement.
    srtt_ = rtt;
    rttvar_ = rtt / 2;
  } else {
    // RFC 6298 §2.3, RTTVAR first so it sees the old SRTT. Appendix G of
    // RFC 7323 divides both gains by the expected samples per RTT.
    const int64_t n = std::max<uint32_t>(samples_per_rtt, 1);
    Duration err = srtt_ - rtt;
    if (err < Duration::Zero()) err = Duration::Zero() - err;
    rttvar_ += (err - rttvar_) / (kBetaDenominator * n);
    srtt_ += (rtt - srtt_) / (kAlphaDenominator * n);
  }
  has_estimate_ = true;
  ever_sampled_ = true;
  // RFC 6298 §2.2/§2.3: RTO = SRTT + max(G, K*RTTVAR).
  base_rto_ = Clamp(srtt_ + std::max(Duration::Micros(granularity_us_), rttvar_ * kK));
  backoff_ = 0;
  return true;
}

void RttEstimator::OnRetransmitTimeout() {
  if (backoff_ < kMaxBackoffShift) ++backoff_;
  if (backoff_ >= kBackoffsBeforeDiscardingEstimate) has_estimate_ = false;
}

void RttEstimator::ApplySynTimeoutFallback() {
  if (ever_sampled_) return;
  // "Re-initialized": the handshake's backoff does not carry over.
  base_rto_ = std::max(base_rto_, Clamp(kSynTimeoutFallbackRto));
  backoff_ = 0;
}

Duration RttEstimator::rto() const {
  // RFC 6298 §5.5: RTO <- RTO * 2 per expiry, bounded by the §2.5 cap.
  const Duration max = Duration::Micros(max_rto_us_);
  Duration rto = base_rto_;
  for (uint8_t i = 0; i < backoff_ && rto < max; ++i) rto = rto * 2;
  return std::min(rto, max);
}

}  // namespace locus::tcp
