#include "proxy/health/outlier.h"

#include <algorithm>
#include <limits>

namespace locus::proxy::health {

OutlierDetector::OutlierDetector(const OutlierDetectionConfig& config,
                                 size_t endpoint_count)
    : config_(config),
      status_(endpoint_count),
      max_ejected_(endpoint_count * config.max_ejection_percent / 100) {}

OutlierEvent OutlierDetector::OnOutcome(size_t endpoint, Outcome outcome,
                                        Instant now) {
  if (endpoint >= status_.size()) return OutlierEvent::kNone;
  OutlierEndpointStatus& s = status_[endpoint];
  if (s.ejected) return OutlierEvent::kNone;
  switch (outcome) {
    case Outcome::kSuccess:
      s.consecutive_5xx = 0;
      s.consecutive_connect_failures = 0;
      return OutlierEvent::kNone;
    case Outcome::k5xx:
      // A response means the connect worked.
      s.consecutive_connect_failures = 0;
      ++s.consecutive_5xx;
      if (config_.consecutive_5xx != 0 &&
          s.consecutive_5xx >= config_.consecutive_5xx) {
        return Eject(s, now);
      }
      return OutlierEvent::kNone;
    case Outcome::kConnectFailure:
      ++s.consecutive_connect_failures;
      if (config_.consecutive_connect_failures != 0 &&
          s.consecutive_connect_failures >=
              config_.consecutive_connect_failures) {
        return Eject(s, now);
      }
      return OutlierEvent::kNone;
  }
  return OutlierEvent::kNone;
}

OutlierEvent OutlierDetector::Eject(OutlierEndpointStatus& s, Instant now) {
  // Either way the streak has been acted on; start counting afresh.
  s.consecutive_5xx = 0;
  s.consecutive_connect_failures = 0;
  if (ejected_count_ + 1 > max_ejected_) {
    ++skipped_;
    return OutlierEvent::kEjectionSkippedMaxPercent;
  }
  if (s.total_ejections > 0 && s.ejection_level > 0) {
    const int64_t calm = (now - s.last_unejected).nanos() /
                         config_.base_ejection_time.nanos();
    s.ejection_level = calm >= s.ejection_level
                           ? 0
                           : s.ejection_level - static_cast<uint32_t>(calm);
  }
  ++s.ejection_level;
  // base * level, capped; computed in a way that cannot overflow.
  const int64_t cap_levels =
      config_.max_ejection_time.nanos() / config_.base_ejection_time.nanos();
  const Duration eject_for =
      s.ejection_level > cap_levels
          ? config_.max_ejection_time
          : std::min(config_.base_ejection_time * s.ejection_level,
                     config_.max_ejection_time);
  s.ejected = true;
  s.ejected_until = now + eject_for;
  ++s.total_ejections;
  ++ejected_count_;
  ++version_;
  return OutlierEvent::kEjected;
}

void OutlierDetector::Restore(size_t endpoint, const OutlierEndpointStatus& old) {
  OutlierEndpointStatus& s = status_[endpoint];
  if (s.ejected) --ejected_count_;
  if (s.ejected != old.ejected) ++version_;
  s = old;
  if (s.ejected) ++ejected_count_;
}

size_t OutlierDetector::Uneject(Instant now) {
  size_t ended = 0;
  for (OutlierEndpointStatus& s : status_) {
    if (!s.ejected || s.ejected_until > now) continue;
    s.ejected = false;
    s.last_unejected = s.ejected_until;
    --ejected_count_;
    ++ended;
  }
  if (ended > 0) ++version_;
  return ended;
}

Instant OutlierDetector::NextUnejection() const {
  Instant next = Instant::FromNanos(std::numeric_limits<int64_t>::max());
  for (const OutlierEndpointStatus& s : status_) {
    if (s.ejected && s.ejected_until < next) next = s.ejected_until;
  }
  return next;
}

}  // namespace locus::proxy::health
