// Passive outlier detection for one pool: consecutive 5xx responses or
// consecutive connect failures eject an endpoint for a while.
//
// Ejection time is base_ejection_time * k, capped at max_ejection_time, where
// k counts recent ejections: it goes up by one on each ejection and down by
// one for every base_ejection_time the endpoint spends un-ejected (computed
// lazily at the next ejection, so no timer is needed for it). This is
// Envoy's rule: a flapping backend stays out longer each time, a backend
// that recovered for good is forgiven.
//
// At most floor(n * max_ejection_percent / 100) endpoints are ejected at
// once; an ejection that would exceed this is skipped and counted. Note that
// with small pools a small percentage allows no ejection at all (5 endpoints
// at 10% -> 0): that is the literal limit; Envoy >= 1.28 instead always
// allows one.
#ifndef LOCUS_PROXY_HEALTH_OUTLIER_H_
#define LOCUS_PROXY_HEALTH_OUTLIER_H_

#include <cstdint>
#include <vector>

#include "proxy/health/config.h"
#include "stack/base/time.h"

namespace locus::proxy::health {

enum class Outcome : uint8_t {
  kSuccess,         // a response that is not 5xx
  k5xx,             // a 5xx response (the connection worked)
  kConnectFailure,  // connect refused, reset or timed out before a response
};

enum class OutlierEvent : uint8_t {
  kNone,
  kEjected,
  kEjectionSkippedMaxPercent,
};

struct OutlierEndpointStatus {
  uint32_t consecutive_5xx = 0;
  uint32_t consecutive_connect_failures = 0;
  bool ejected = false;
  Instant ejected_until;     // meaningful while ejected
  Instant last_unejected;    // when the last ejection ended
  uint32_t ejection_level = 0;  // the k of base * k
  uint64_t total_ejections = 0;
};

class OutlierDetector {
 public:
  OutlierDetector(const OutlierDetectionConfig& config, size_t endpoint_count);

  // Outcomes for an ejected endpoint (requests that were in flight when it
  // was ejected) are ignored: they carry no news.
  OutlierEvent OnOutcome(size_t endpoint, Outcome outcome, Instant now);

  // Ends every ejection whose time has come. Returns how many ended.
  size_t Uneject(Instant now);

  // Earliest ejected_until, or INT64_MAX nanos when none is ejected.
  Instant NextUnejection() const;

  bool ejected(size_t endpoint) const { return status_[endpoint].ejected; }
  const OutlierEndpointStatus& status(size_t endpoint) const {
    return status_[endpoint];
  }
  size_t size() const { return status_.size(); }
  size_t ejected_count() const { return ejected_count_; }
  size_t max_ejected() const { return max_ejected_; }
  uint64_t ejections_skipped_max_percent() const { return skipped_; }
  // Incremented on every ejection and un-ejection.
  uint64_t version() const { return version_; }
  const OutlierDetectionConfig& config() const { return config_; }

  // Carries an endpoint's state over from the detector of the previous
  // config (the same endpoint, found by address). An ejection carries over
  // even if it now exceeds max_ejection_percent: it ends on its own time.
  void Restore(size_t endpoint, const OutlierEndpointStatus& old);

 private:
  OutlierEvent Eject(OutlierEndpointStatus& s, Instant now);

  OutlierDetectionConfig config_;
  std::vector<OutlierEndpointStatus> status_;
  size_t max_ejected_;
  size_t ejected_count_ = 0;
  uint64_t skipped_ = 0;
  uint64_t version_ = 0;
};

}  // namespace locus::proxy::health

#endif  // LOCUS_PROXY_HEALTH_OUTLIER_H_
