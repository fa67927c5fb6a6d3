#include "proxy/health/active_checker.h"

#include <limits>

namespace locus::proxy::health {

ActiveChecker::ActiveChecker(const HealthCheckConfig& config,
                             size_t endpoint_count, Instant now)
    : config_(config), status_(endpoint_count) {
  const int64_t n = static_cast<int64_t>(endpoint_count);
  for (int64_t i = 0; i < n; ++i) {
    status_[i].next_probe_due =
        now + Duration::Nanos(config_.interval.nanos() / n * i);
  }
}

size_t ActiveChecker::TakeDueProbes(Instant now, absl::Span<ProbeTicket> out) {
  size_t written = 0;
  for (size_t i = 0; i < status_.size() && written < out.size(); ++i) {
    ActiveEndpointStatus& s = status_[i];
    if (s.probe_in_flight || s.next_probe_due > now) continue;
    s.probe_in_flight = true;
    ++s.sequence;
    ++s.probes_sent;
    s.probe_deadline = now + config_.timeout;
    out[written++] = ProbeTicket{static_cast<uint32_t>(i), s.sequence};
  }
  return written;
}

Transition ActiveChecker::OnProbeResult(ProbeTicket ticket, bool passed,
                                        Instant now) {
  if (ticket.endpoint >= status_.size()) return Transition::kNone;
  ActiveEndpointStatus& s = status_[ticket.endpoint];
  if (!s.probe_in_flight || s.sequence != ticket.sequence) {
    return Transition::kNone;
  }
  return Record(s, passed, now);
}

size_t ActiveChecker::ExpireTimedOut(Instant now, size_t* transitions) {
  size_t expired = 0;
  size_t changed = 0;
  for (ActiveEndpointStatus& s : status_) {
    if (!s.probe_in_flight || s.probe_deadline > now) continue;
    ++expired;
    if (Record(s, /*passed=*/false, now) != Transition::kNone) ++changed;
  }
  if (transitions != nullptr) *transitions = changed;
  return expired;
}

void ActiveChecker::Restore(size_t endpoint, const ActiveEndpointStatus& old) {
  ActiveEndpointStatus& s = status_[endpoint];
  const bool was_usable = s.state != ActiveState::kUnhealthy;
  s = old;
  if (s.probe_in_flight) {
    s.probe_in_flight = false;
    s.next_probe_due = s.probe_deadline;
  }
  if (was_usable != (s.state != ActiveState::kUnhealthy)) ++version_;
}

Instant ActiveChecker::NextWakeup() const {
  Instant next = Instant::FromNanos(std::numeric_limits<int64_t>::max());
  for (const ActiveEndpointStatus& s : status_) {
    const Instant t = s.probe_in_flight ? s.probe_deadline : s.next_probe_due;
    if (t < next) next = t;
  }
  return next;
}

Transition ActiveChecker::Record(ActiveEndpointStatus& s, bool passed,
                                 Instant now) {
  s.probe_in_flight = false;
  // The interval is measured from the end of the previous probe, so a slow
  // backend is not probed back to back.
  s.next_probe_due = now + config_.interval;
  const ActiveState before = s.state;
  if (passed) {
    ++s.consecutive_successes;
    s.consecutive_failures = 0;
    if (s.state == ActiveState::kUnknown ||
        (s.state == ActiveState::kUnhealthy &&
         s.consecutive_successes >= config_.rise)) {
      s.state = ActiveState::kHealthy;
    }
  } else {
    ++s.probes_failed;
    ++s.consecutive_failures;
    s.consecutive_successes = 0;
    if (s.state == ActiveState::kUnknown ||
        (s.state == ActiveState::kHealthy &&
         s.consecutive_failures >= config_.fall)) {
      s.state = ActiveState::kUnhealthy;
    }
  }
  const bool was_usable = before != ActiveState::kUnhealthy;
  const bool is_usable = s.state != ActiveState::kUnhealthy;
  if (was_usable != is_usable) ++version_;
  if (before == s.state || s.state == ActiveState::kUnknown) {
    return Transition::kNone;
  }
  // kUnknown -> kHealthy is reported as a transition but does not change
  // usability; callers that only care about routing look at version().
  return s.state == ActiveState::kHealthy ? Transition::kBecameHealthy
                                          : Transition::kBecameUnhealthy;
}

}  // namespace locus::proxy::health
