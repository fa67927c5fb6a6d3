// The owner side of one pool: holds its config and health state, takes
// probe results and per-request outcomes, and produces a new immutable
// PoolSnapshot whenever the config or any endpoint's usability changed.
// Lives on the health-owner core (see proxy/health/pool_health.h for why
// health is aggregated there); every core's Balancer::Update takes what
// MaybePublish returns, carried over the data plane's rings.
#ifndef LOCUS_PROXY_LB_POOL_PUBLISHER_H_
#define LOCUS_PROXY_LB_POOL_PUBLISHER_H_

#include <cstdint>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "proxy/health/outlier.h"
#include "proxy/health/pool_health.h"
#include "proxy/lb/pool_config.h"
#include "proxy/lb/pool_snapshot.h"
#include "stack/base/time.h"

namespace locus::proxy::lb {

class PoolPublisher {
 public:
  static absl::StatusOr<std::unique_ptr<PoolPublisher>> Create(
      const BackendPoolConfig& config, Instant now);

  // A config push. Identical to the current config: nothing happens and
  // the result is false. Otherwise the health state of every endpoint that
  // stays (same address) carries over, new endpoints start unknown, and
  // the result is true. Invalid: INVALID_ARGUMENT, nothing changes.
  absl::StatusOr<bool> UpdateConfig(const BackendPoolConfig& config,
                                    Instant now);

  // A request outcome reported by any core, by endpoint address so that it
  // stays right across snapshot changes. Unknown endpoints are ignored.
  health::OutlierEvent OnOutcome(const EndpointKey& endpoint,
                                 health::Outcome outcome, Instant now);

  // Probe scheduling and results go straight to health().active().
  health::PoolHealth& health() { return *health_; }
  const health::PoolHealth& health() const { return *health_; }
  void Advance(Instant now) { health_->Advance(now); }

  // A new snapshot if anything that routing sees changed since the last
  // one, else null. The first call always publishes.
  std::shared_ptr<const PoolSnapshot> MaybePublish();
  const std::shared_ptr<const PoolSnapshot>& current() const { return current_; }
  const BackendPoolConfig& config() const { return config_; }

 private:
  PoolPublisher() = default;

  BackendPoolConfig config_;
  std::unique_ptr<health::PoolHealth> health_;
  absl::flat_hash_map<EndpointKey, uint32_t> index_;
  std::shared_ptr<const PoolSnapshot> current_;
  bool config_changed_ = true;
  uint64_t published_health_version_ = 0;
  uint64_t next_version_ = 1;
};

}  // namespace locus::proxy::lb

#endif  // LOCUS_PROXY_LB_POOL_PUBLISHER_H_
