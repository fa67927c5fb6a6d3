#include "proxy/route/retry.h"

namespace locus::proxy::route {

bool ShouldRetry(const RetryPolicy& policy, Method method,
                 AttemptOutcome outcome, uint32_t retries_done) {
  if (retries_done >= policy.num_retries) return false;
  switch (outcome) {
    case AttemptOutcome::kConnectFailure:
      return policy.retry_on_connect_failure;
    case AttemptOutcome::k5xx:
      return policy.retry_on_5xx && IsIdempotent(method);
    case AttemptOutcome::kOther:
      return false;
  }
  return false;
}

}  // namespace locus::proxy::route
