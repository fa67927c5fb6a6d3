// An immutable view of one pool for the data plane: its config, which
// endpoints may take new connections (health and weight), and the tables the
// policy needs (Maglev table, hash ring, weight prefix sums), built once by
// the publisher — the health-owner core or the control plane — and shared
// read-only by every core's Balancer. A health change means a new snapshot.
#ifndef LOCUS_PROXY_LB_POOL_SNAPSHOT_H_
#define LOCUS_PROXY_LB_POOL_SNAPSHOT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "proxy/lb/maglev.h"
#include "proxy/lb/pool_config.h"
#include "proxy/lb/ring_hash.h"

namespace locus::proxy::lb {

class PoolSnapshot {
 public:
  // `healthy` is indexed like config.endpoints; empty means all healthy.
  // Fails with INVALID_ARGUMENT when ValidatePool does, or when `healthy`
  // has the wrong size.
  static absl::StatusOr<std::shared_ptr<const PoolSnapshot>> Build(
      const BackendPoolConfig& config, const std::vector<bool>& healthy,
      uint64_t version);

  const BackendPoolConfig& config() const { return config_; }
  const std::string& name() const { return config_.name; }
  LbPolicy policy() const { return config_.lb_policy; }
  uint64_t version() const { return version_; }
  size_t size() const { return config_.endpoints.size(); }
  const EndpointConfig& endpoint(size_t i) const { return config_.endpoints[i]; }
  // Healthy and weight > 0.
  bool usable(size_t i) const { return usable_[i]; }
  size_t usable_count() const { return usable_indices_.size(); }
  std::optional<uint32_t> IndexOf(const EndpointKey& key) const;

  // Usable endpoints and the running sum of their weights, for weighted
  // random draws by binary search.
  absl::Span<const uint32_t> usable_indices() const { return usable_indices_; }
  absl::Span<const uint64_t> cumulative_weights() const { return cumulative_; }
  uint64_t total_usable_weight() const {
    return cumulative_.empty() ? 0 : cumulative_.back();
  }

  // Non-null only for the matching policy.
  const MaglevTable* maglev() const { return maglev_ ? &*maglev_ : nullptr; }
  const HashRing* ring() const { return ring_ ? &*ring_ : nullptr; }

  // "a.b.c.d:port": the name consistent hashing uses for an endpoint.
  static std::string StableName(const EndpointConfig& e);

 private:
  PoolSnapshot() = default;

  BackendPoolConfig config_;
  uint64_t version_ = 0;
  std::vector<bool> usable_;
  std::vector<uint32_t> usable_indices_;
  std::vector<uint64_t> cumulative_;
  absl::flat_hash_map<EndpointKey, uint32_t> index_;
  std::optional<MaglevTable> maglev_;
  std::optional<HashRing> ring_;
};

}  // namespace locus::proxy::lb

#endif  // LOCUS_PROXY_LB_POOL_SNAPSHOT_H_
