#include "proxy/lb/pool_snapshot.h"

#include "absl/strings/str_cat.h"

namespace locus::proxy::lb {

std::string PoolSnapshot::StableName(const EndpointConfig& e) {
  return absl::StrCat(e.ip.ToString(), ":", e.port);
}

absl::StatusOr<std::shared_ptr<const PoolSnapshot>> PoolSnapshot::Build(
    const BackendPoolConfig& config, const std::vector<bool>& healthy,
    uint64_t version) {
  if (absl::Status s = ValidatePool(config); !s.ok()) return s;
  if (!healthy.empty() && healthy.size() != config.endpoints.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "health set has ", healthy.size(), " entries for ",
        config.endpoints.size(), " endpoints"));
  }
  std::shared_ptr<PoolSnapshot> snap(new PoolSnapshot());
  snap->config_ = config;
  snap->version_ = version;
  const size_t n = config.endpoints.size();
  snap->usable_.resize(n);
  snap->index_.reserve(n);
  uint64_t sum = 0;
  for (size_t i = 0; i < n; ++i) {
    const EndpointConfig& e = config.endpoints[i];
    snap->index_[e.key()] = static_cast<uint32_t>(i);
    const bool ok = (healthy.empty() || healthy[i]) && e.weight > 0;
    snap->usable_[i] = ok;
    if (!ok) continue;
    sum += e.weight;
    snap->usable_indices_.push_back(static_cast<uint32_t>(i));
    snap->cumulative_.push_back(sum);
  }
  if (config.lb_policy == LbPolicy::kMaglev) {
    // Maglev is rebuilt over the usable set (the paper's behaviour on
    // backend failure); its disruption bound is what keeps that cheap.
    std::vector<MaglevTable::Backend> backends;
    for (uint32_t i : snap->usable_indices_) {
      backends.push_back({StableName(config.endpoints[i]),
                          config.endpoints[i].weight, i});
    }
    snap->maglev_.emplace(backends, config.maglev_table_size);
  } else if (config.lb_policy == LbPolicy::kRingHash) {
    std::vector<HashRing::Backend> backends;
    for (size_t i = 0; i < n; ++i) {
      backends.push_back({StableName(config.endpoints[i]),
                          config.endpoints[i].weight, static_cast<uint32_t>(i),
                          snap->usable_[i]});
    }
    snap->ring_.emplace(backends, config.ring_hash_min_ring_size, kMaxRingSize);
  }
  return std::shared_ptr<const PoolSnapshot>(std::move(snap));
}

std::optional<uint32_t> PoolSnapshot::IndexOf(const EndpointKey& key) const {
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

}  // namespace locus::proxy::lb
