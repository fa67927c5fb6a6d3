#include "proxy/health/pool_health.h"

#include <algorithm>
#include <limits>

namespace locus::proxy::health {

PoolHealth::PoolHealth(const std::optional<HealthCheckConfig>& health_check,
                       const std::optional<OutlierDetectionConfig>& outlier,
                       size_t endpoint_count, Instant now)
    : size_(endpoint_count) {
  if (health_check) active_.emplace(*health_check, endpoint_count, now);
  if (outlier) outlier_.emplace(*outlier, endpoint_count);
}

void PoolHealth::Advance(Instant now) {
  if (active_) active_->ExpireTimedOut(now);
  if (outlier_) outlier_->Uneject(now);
}

Instant PoolHealth::NextWakeup() const {
  Instant next = Instant::FromNanos(std::numeric_limits<int64_t>::max());
  if (active_) next = std::min(next, active_->NextWakeup());
  if (outlier_) next = std::min(next, outlier_->NextUnejection());
  return next;
}

bool PoolHealth::usable(size_t i) const {
  if (active_ && !active_->usable(i)) return false;
  if (outlier_ && outlier_->ejected(i)) return false;
  return true;
}

std::vector<bool> PoolHealth::UsableSet() const {
  std::vector<bool> set(size_);
  for (size_t i = 0; i < size_; ++i) set[i] = usable(i);
  return set;
}

EndpointHealth PoolHealth::Query(size_t i) const {
  EndpointHealth h;
  h.usable = usable(i);
  if (active_) {
    const ActiveEndpointStatus& a = active_->status(i);
    h.active_checked = true;
    h.active_state = a.state;
    h.consecutive_check_successes = a.consecutive_successes;
    h.consecutive_check_failures = a.consecutive_failures;
  }
  if (outlier_) {
    const OutlierEndpointStatus& o = outlier_->status(i);
    h.ejected = o.ejected;
    h.ejected_until = o.ejected_until;
    h.ejection_level = o.ejection_level;
    h.total_ejections = o.total_ejections;
    h.consecutive_5xx = o.consecutive_5xx;
    h.consecutive_connect_failures = o.consecutive_connect_failures;
  }
  return h;
}

uint64_t PoolHealth::version() const {
  // Both counters only grow, so their sum changes whenever either does.
  return (active_ ? active_->version() : 0) +
         (outlier_ ? outlier_->version() : 0);
}

}  // namespace locus::proxy::health
