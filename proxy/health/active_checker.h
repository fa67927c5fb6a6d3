// Active health checking of one pool's endpoints: a scheduler that says
// which probes are due and a rise/fall state machine fed with their results.
// It does no I/O: the data plane's health-owner core sends the probes
// (TCP connect, or the bytes of http_check.h) and reports back with the
// ticket it was given, so a late answer to a timed-out probe can never be
// credited to the next one.
#ifndef LOCUS_PROXY_HEALTH_ACTIVE_CHECKER_H_
#define LOCUS_PROXY_HEALTH_ACTIVE_CHECKER_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "proxy/health/config.h"
#include "stack/base/time.h"

namespace locus::proxy::health {

enum class ActiveState : uint8_t {
  // No probe has finished yet. Counted as usable so that a restart does not
  // turn every backend away; the first result decides directly.
  kUnknown,
  kHealthy,
  kUnhealthy,
};

enum class Transition : uint8_t { kNone, kBecameHealthy, kBecameUnhealthy };

struct ProbeTicket {
  uint32_t endpoint = 0;
  uint32_t sequence = 0;
};

struct ActiveEndpointStatus {
  ActiveState state = ActiveState::kUnknown;
  uint32_t consecutive_successes = 0;
  uint32_t consecutive_failures = 0;
  bool probe_in_flight = false;
  uint32_t sequence = 0;        // of the latest probe handed out
  Instant next_probe_due;       // meaningful when no probe is in flight
  Instant probe_deadline;       // meaningful when a probe is in flight
  uint64_t probes_sent = 0;
  uint64_t probes_failed = 0;
};

class ActiveChecker {
 public:
  // The first probes are spread over one interval (endpoint i is due at
  // now + interval*i/n) so a pool does not get probed all at once.
  ActiveChecker(const HealthCheckConfig& config, size_t endpoint_count,
                Instant now);

  // Hands out up to out.size() probes that are due at `now`, marking each in
  // flight with a deadline of now + timeout. Returns how many were written.
  size_t TakeDueProbes(Instant now, absl::Span<ProbeTicket> out);

  // The result of a probe. A ticket that is not the one in flight (late
  // answer after a timeout, or a duplicate) is ignored with kNone.
  Transition OnProbeResult(ProbeTicket ticket, bool passed, Instant now);

  // Probes in flight past their deadline count as failures. Returns how
  // many expired; `transitions` counts how many changed state.
  size_t ExpireTimedOut(Instant now, size_t* transitions = nullptr);

  // Earliest instant at which TakeDueProbes or ExpireTimedOut has work;
  // Instant::FromNanos(INT64_MAX) when there are no endpoints.
  Instant NextWakeup() const;

  // kUnknown and kHealthy are usable.
  bool usable(size_t endpoint) const {
    return status_[endpoint].state != ActiveState::kUnhealthy;
  }
  const ActiveEndpointStatus& status(size_t endpoint) const {
    return status_[endpoint];
  }
  size_t size() const { return status_.size(); }
  // Incremented on every usable/unusable change, so a publisher can tell
  // whether a new snapshot is needed.
  uint64_t version() const { return version_; }
  const HealthCheckConfig& config() const { return config_; }

  // Carries an endpoint's state over from a checker built for the previous
  // config of the pool (the same endpoint, found by address). A probe that
  // was in flight is forgotten: its ticket belonged to the old checker, so
  // the endpoint is simply due again at the old deadline.
  void Restore(size_t endpoint, const ActiveEndpointStatus& old);

 private:
  Transition Record(ActiveEndpointStatus& s, bool passed, Instant now);

  HealthCheckConfig config_;
  std::vector<ActiveEndpointStatus> status_;
  uint64_t version_ = 0;
};

}  // namespace locus::proxy::health

#endif  // LOCUS_PROXY_HEALTH_ACTIVE_CHECKER_H_
