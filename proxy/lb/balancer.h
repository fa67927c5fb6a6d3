// The per-core load balancer of one pool. Each core owns one Balancer per
// pool (single owner, no locks); it reads the shared immutable PoolSnapshot
// and keeps the per-core mutable state: smooth-WRR current weights and the
// number of connections this core has open to each endpoint.
//
// Choose() never allocates and never blocks. Endpoints that are not usable
// in the snapshot (unhealthy, ejected, weight 0) are never chosen; nor are
// endpoints at this core's connection limit. max_connections is enforced
// per core as ceil(max_connections / core_count): a global count would need
// a shared atomic on every connect and close. The total across cores can
// therefore exceed max_connections by at most core_count - 1.
#ifndef LOCUS_PROXY_LB_BALANCER_H_
#define LOCUS_PROXY_LB_BALANCER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "proxy/lb/pool_config.h"
#include "proxy/lb/pool_snapshot.h"
#include "proxy/lb/rng.h"

namespace locus::proxy::lb {

// Redraws of RANDOM/POWER_OF_TWO, and slot or ring probes of the hashing
// policies, before falling back to a scan of all endpoints. Only endpoints
// at their connection limit make a draw fail, so this bounds the cost of
// the common case without affecting correctness.
inline constexpr int kMaxPickAttempts = 8;

enum class PickStatus : uint8_t {
  kOk,
  kNoHealthyEndpoint,         // nothing usable in the snapshot: 503
  kAllAtMaxConnections,       // usable ones exist, all at their limit: 503
};

struct Pick {
  PickStatus status = PickStatus::kNoHealthyEndpoint;
  uint32_t index = 0;     // into the snapshot's endpoints
  EndpointKey endpoint;   // where to connect
  uint64_t generation = 0;  // Balancer's snapshot generation at pick time
  bool ok() const { return status == PickStatus::kOk; }
};

class Balancer {
 public:
  explicit Balancer(uint32_t core_count = 1);

  // Switches to a new snapshot. Connection counts and round-robin state
  // carry over for endpoints (by address) present in both. Allocates: call
  // when a snapshot is published, not per request.
  void Update(std::shared_ptr<const PoolSnapshot> snapshot);

  // `hash_key` is used by MAGLEV and RING_HASH (see hash.h for how to make
  // it); without one those policies fall back to weighted random.
  Pick Choose(std::optional<uint64_t> hash_key, Rng& rng);

  // Per-core active connection accounting. A Pick from before an Update is
  // matched by endpoint address; one whose endpoint is gone is ignored.
  void OnConnectionOpened(const Pick& pick);
  void OnConnectionClosed(const Pick& pick);

  uint32_t active_connections(size_t i) const { return active_[i]; }
  // 0 = unlimited.
  uint32_t connection_limit(size_t i) const { return limit_[i]; }
  const PoolSnapshot* snapshot() const { return snapshot_.get(); }
  uint64_t generation() const { return generation_; }

 private:
  bool Pickable(uint32_t i) const {
    return snapshot_->usable(i) && (limit_[i] == 0 || active_[i] < limit_[i]);
  }
  Pick Make(uint32_t i) const;
  Pick Failure() const;
  std::optional<uint32_t> Resolve(const Pick& pick) const;

  Pick RoundRobin();
  Pick LeastConnections(Rng& rng);
  Pick PowerOfTwo(Rng& rng);
  Pick WeightedRandom(Rng& rng);
  Pick Maglev(uint64_t hash, Rng& rng);
  Pick Ring(uint64_t hash, Rng& rng);
  // Weighted reservoir draw among all pickable endpoints.
  Pick Scan(Rng& rng);
  uint32_t DrawWeighted(Rng& rng) const;
  // Is load(a) < load(b) by active/weight? 0 for equal.
  int CompareLoad(uint32_t a, uint32_t b) const;

  uint32_t core_count_;
  std::shared_ptr<const PoolSnapshot> snapshot_;
  uint64_t generation_ = 0;
  std::vector<int64_t> current_weight_;
  std::vector<uint32_t> active_;
  std::vector<uint32_t> limit_;
};

}  // namespace locus::proxy::lb

#endif  // LOCUS_PROXY_LB_BALANCER_H_
