// The health of one pool's endpoints: active checks and passive outlier
// detection combined into the single "usable" flag per endpoint that the
// load balancer needs, plus everything stats want to show.
//
// Where this runs — one owner, not one per core:
// * Active checks run on one core (the lead's data plane picks it). Probing
//   from every core would multiply probe traffic by the core count and give
//   each core a different opinion of the same backend.
// * Outlier detection is aggregated on that same owner. Each core forwards
//   its per-request outcomes (endpoint index + Outcome, a few bytes) through
//   its SPSC ring to the owner; the owner calls OnOutcome. We chose this
//   over per-core detectors because with per-core detection (a) a failing
//   backend must fail consecutive_5xx times on *every* core before it is
//   out everywhere (16 cores x 5 = 80 failed user requests instead of 5),
//   (b) max_ejection_percent would be enforced per core and ejection times
//   would diverge between cores, and (c) stats would need merging. The cost
//   is one ring hop of latency before an ejection takes effect, and, if a
//   ring is full, dropped outcomes (which only delay detection; the caller
//   counts them). "Consecutive" is then consecutive in arrival order at the
//   owner, which interleaves cores — the same as Envoy's main-thread
//   detector.
// * The owner publishes the result as an immutable lb::PoolSnapshot (see
//   proxy/lb/pool_snapshot.h) whenever version() changed; every core's
//   Balancer swaps to it. OutlierDetector has no global state, so a per-core
//   deployment remains possible if measurements ever favour it.
#ifndef LOCUS_PROXY_HEALTH_POOL_HEALTH_H_
#define LOCUS_PROXY_HEALTH_POOL_HEALTH_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "proxy/health/active_checker.h"
#include "proxy/health/config.h"
#include "proxy/health/outlier.h"
#include "stack/base/time.h"

namespace locus::proxy::health {

// One endpoint as stats show it.
struct EndpointHealth {
  bool usable = true;
  bool active_checked = false;
  ActiveState active_state = ActiveState::kUnknown;
  uint32_t consecutive_check_successes = 0;
  uint32_t consecutive_check_failures = 0;
  bool ejected = false;
  Instant ejected_until;
  uint32_t ejection_level = 0;
  uint64_t total_ejections = 0;
  uint32_t consecutive_5xx = 0;
  uint32_t consecutive_connect_failures = 0;
};

class PoolHealth {
 public:
  // Either part may be absent; without both every endpoint is usable.
  PoolHealth(const std::optional<HealthCheckConfig>& health_check,
             const std::optional<OutlierDetectionConfig>& outlier,
             size_t endpoint_count, Instant now);

  ActiveChecker* active() { return active_ ? &*active_ : nullptr; }
  OutlierDetector* outlier() { return outlier_ ? &*outlier_ : nullptr; }

  // Runs the time-driven parts: probe timeouts and un-ejections.
  void Advance(Instant now);
  // When Advance or TakeDueProbes next has something to do.
  Instant NextWakeup() const;

  bool usable(size_t endpoint) const;
  // usable(i) for every endpoint, in the form lb::PoolSnapshot takes.
  std::vector<bool> UsableSet() const;
  EndpointHealth Query(size_t endpoint) const;
  size_t size() const { return size_; }
  // Changes whenever any endpoint's usable() may have changed.
  uint64_t version() const;

 private:
  size_t size_;
  std::optional<ActiveChecker> active_;
  std::optional<OutlierDetector> outlier_;
};

}  // namespace locus::proxy::health

#endif  // LOCUS_PROXY_HEALTH_POOL_HEALTH_H_
