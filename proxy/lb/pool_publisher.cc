#include "proxy/lb/pool_publisher.h"

namespace locus::proxy::lb {

absl::StatusOr<std::unique_ptr<PoolPublisher>> PoolPublisher::Create(
    const BackendPoolConfig& config, Instant now) {
  std::unique_ptr<PoolPublisher> p(new PoolPublisher());
  absl::StatusOr<bool> s = p->UpdateConfig(config, now);
  if (!s.ok()) return s.status();
  return p;
}

absl::StatusOr<bool> PoolPublisher::UpdateConfig(const BackendPoolConfig& config,
                                                 Instant now) {
  if (health_ && config == config_) return false;
  if (absl::Status s = ValidatePool(config); !s.ok()) return s;
  auto next = std::make_unique<health::PoolHealth>(
      config.health_check, config.outlier_detection, config.endpoints.size(), now);
  absl::flat_hash_map<EndpointKey, uint32_t> index;
  for (uint32_t i = 0; i < config.endpoints.size(); ++i) {
    const EndpointKey key = config.endpoints[i].key();
    index[key] = i;
    if (!health_) continue;
    auto old = index_.find(key);
    if (old == index_.end()) continue;
    // State carries over only where the same kind of checking still runs.
    if (next->active() && health_->active()) {
      next->active()->Restore(i, health_->active()->status(old->second));
    }
    if (next->outlier() && health_->outlier()) {
      next->outlier()->Restore(i, health_->outlier()->status(old->second));
    }
  }
  config_ = config;
  health_ = std::move(next);
  index_ = std::move(index);
  config_changed_ = true;
  return true;
}

health::OutlierEvent PoolPublisher::OnOutcome(const EndpointKey& endpoint,
                                              health::Outcome outcome,
                                              Instant now) {
  auto it = index_.find(endpoint);
  if (it == index_.end() || health_->outlier() == nullptr) {
    return health::OutlierEvent::kNone;
  }
  return health_->outlier()->OnOutcome(it->second, outcome, now);
}

std::shared_ptr<const PoolSnapshot> PoolPublisher::MaybePublish() {
  const uint64_t hv = health_->version();
  if (!config_changed_ && hv == published_health_version_) return nullptr;
  // Validated in UpdateConfig and the health set has the right size, so
  // this cannot fail.
  auto snap = PoolSnapshot::Build(config_, health_->UsableSet(), next_version_);
  if (!snap.ok()) return nullptr;
  ++next_version_;
  config_changed_ = false;
  published_health_version_ = hv;
  current_ = *std::move(snap);
  return current_;
}

}  // namespace locus::proxy::lb
