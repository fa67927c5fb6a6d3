// Retry decisions for a route's RetryPolicy, and the per-core, per-pool
// retry budget that keeps retries from multiplying load on a pool that is
// already failing.
#ifndef LOCUS_PROXY_ROUTE_RETRY_H_
#define LOCUS_PROXY_ROUTE_RETRY_H_

#include <cstdint>

#include "proxy/route/config.h"
#include "proxy/route/method.h"

namespace locus::proxy::route {

enum class AttemptOutcome : uint8_t {
  kConnectFailure,  // the request never reached a backend
  k5xx,             // a 5xx response arrived before any byte went to the client
  kOther,           // success, 4xx, or a failure after the response began
};

// Whether the policy allows another attempt after `retries_done` retries.
// A connect failure may be retried for any method (nothing was sent); a
// 5xx only for idempotent methods (RFC 9110 §9.2.2), because the backend
// may have acted on the request.
bool ShouldRetry(const RetryPolicy& policy, Method method,
                 AttemptOutcome outcome, uint32_t retries_done);

// Envoy-style budget: retries in flight may be at most budget_percent of
// the active requests, and never fewer than min_retry_concurrency. One per
// pool per core (single owner); the counts are this core's. The policy is
// the retrying route's, so routes sharing a pool may allow different shares.
class RetryBudget {
 public:
  // The allowance given `active_requests` on this core for the pool
  // (retries included).
  static uint64_t Allowed(const RetryPolicy& policy, uint64_t active_requests) {
    const uint64_t share = active_requests * policy.budget_percent / 100;
    return share > policy.min_retry_concurrency ? share : policy.min_retry_concurrency;
  }
  // Reserves a retry if within budget; the caller calls RetryDone when
  // that attempt ends.
  bool TryStartRetry(const RetryPolicy& policy, uint64_t active_requests) {
    if (in_flight_ >= Allowed(policy, active_requests)) {
      ++rejected_;
      return false;
    }
    ++in_flight_;
    return true;
  }
  void RetryDone() {
    if (in_flight_ > 0) --in_flight_;
  }
  uint64_t in_flight() const { return in_flight_; }
  uint64_t rejected() const { return rejected_; }

 private:
  uint64_t in_flight_ = 0;
  uint64_t rejected_ = 0;
};

}  // namespace locus::proxy::route

#endif  // LOCUS_PROXY_ROUTE_RETRY_H_
