#include "proxy/lb/balancer.h"

#include <algorithm>

namespace locus::proxy::lb {

Balancer::Balancer(uint32_t core_count)
    : core_count_(std::max<uint32_t>(core_count, 1)) {}

void Balancer::Update(std::shared_ptr<const PoolSnapshot> snapshot) {
  const size_t n = snapshot ? snapshot->size() : 0;
  std::vector<int64_t> weights(n, 0);
  std::vector<uint32_t> active(n, 0);
  std::vector<uint32_t> limit(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const EndpointConfig& e = snapshot->endpoint(i);
    if (e.max_connections != 0) {
      limit[i] = (e.max_connections + core_count_ - 1) / core_count_;
    }
    if (snapshot_) {
      if (std::optional<uint32_t> old = snapshot_->IndexOf(e.key())) {
        weights[i] = current_weight_[*old];
        active[i] = active_[*old];
      }
    }
  }
  snapshot_ = std::move(snapshot);
  current_weight_ = std::move(weights);
  active_ = std::move(active);
  limit_ = std::move(limit);
  ++generation_;
}

Pick Balancer::Make(uint32_t i) const {
  return Pick{PickStatus::kOk, i, snapshot_->endpoint(i).key(), generation_};
}

Pick Balancer::Failure() const {
  Pick p;
  p.generation = generation_;
  p.status = (snapshot_ && snapshot_->usable_count() > 0)
                 ? PickStatus::kAllAtMaxConnections
                 : PickStatus::kNoHealthyEndpoint;
  return p;
}

Pick Balancer::Choose(std::optional<uint64_t> hash_key, Rng& rng) {
  if (!snapshot_ || snapshot_->usable_count() == 0) return Failure();
  switch (snapshot_->policy()) {
    case LbPolicy::kRoundRobin:
      return RoundRobin();
    case LbPolicy::kLeastConnections:
      return LeastConnections(rng);
    case LbPolicy::kPowerOfTwo:
      return PowerOfTwo(rng);
    case LbPolicy::kRandom:
      return WeightedRandom(rng);
    case LbPolicy::kMaglev:
      return hash_key ? Maglev(*hash_key, rng) : WeightedRandom(rng);
    case LbPolicy::kRingHash:
      return hash_key ? Ring(*hash_key, rng) : WeightedRandom(rng);
  }
  return Failure();
}

// nginx's smooth weighted round robin: every candidate's current weight
// grows by its weight, the largest wins (first on ties) and pays back the
// total. Endpoints that cannot take a connection sit the round out.
Pick Balancer::RoundRobin() {
  int64_t total = 0;
  int64_t best_weight = 0;
  uint32_t best = UINT32_MAX;
  for (uint32_t i : snapshot_->usable_indices()) {
    if (!Pickable(i)) continue;
    const int64_t w = snapshot_->endpoint(i).weight;
    current_weight_[i] += w;
    total += w;
    if (best == UINT32_MAX || current_weight_[i] > best_weight) {
      best = i;
      best_weight = current_weight_[i];
    }
  }
  if (best == UINT32_MAX) return Failure();
  current_weight_[best] -= total;
  return Make(best);
}

int Balancer::CompareLoad(uint32_t a, uint32_t b) const {
  // active_a / w_a vs active_b / w_b without division.
  const uint64_t lhs = uint64_t{active_[a]} * snapshot_->endpoint(b).weight;
  const uint64_t rhs = uint64_t{active_[b]} * snapshot_->endpoint(a).weight;
  return lhs < rhs ? -1 : (lhs > rhs ? 1 : 0);
}

Pick Balancer::LeastConnections(Rng& rng) {
  uint32_t best = UINT32_MAX;
  uint64_t tie_weight = 0;
  for (uint32_t i : snapshot_->usable_indices()) {
    if (!Pickable(i)) continue;
    const uint64_t w = snapshot_->endpoint(i).weight;
    const int cmp = best == UINT32_MAX ? -1 : CompareLoad(i, best);
    if (cmp < 0) {
      best = i;
      tie_weight = w;
    } else if (cmp == 0) {
      // Weighted reservoir: each tied endpoint ends up chosen with
      // probability weight / (sum of tied weights).
      tie_weight += w;
      if (rng.Uniform(tie_weight) < w) best = i;
    }
  }
  return best == UINT32_MAX ? Failure() : Make(best);
}

uint32_t Balancer::DrawWeighted(Rng& rng) const {
  absl::Span<const uint64_t> cum = snapshot_->cumulative_weights();
  const uint64_t r = rng.Uniform(cum.back());
  // First running sum greater than r.
  const size_t pos = std::upper_bound(cum.begin(), cum.end(), r) - cum.begin();
  return snapshot_->usable_indices()[pos];
}

Pick Balancer::WeightedRandom(Rng& rng) {
  for (int attempt = 0; attempt < kMaxPickAttempts; ++attempt) {
    const uint32_t i = DrawWeighted(rng);
    if (Pickable(i)) return Make(i);
  }
  return Scan(rng);
}

// Two distinct usable endpoints drawn uniformly; the one with the lower
// active/weight wins, and a tie is settled in proportion to weight. Under
// load, open connections settle in proportion to weights (the comparison
// keeps active/weight level). With no load every comparison is a tie and
// the shares only approximate the weights when there are more than two
// endpoints: for weights {1,2,3,4} the idle shares are about
// {.13,.23,.30,.34} instead of {.1,.2,.3,.4}. Use RANDOM or ROUND_ROBIN
// where exact idle shares matter.
Pick Balancer::PowerOfTwo(Rng& rng) {
  absl::Span<const uint32_t> usable = snapshot_->usable_indices();
  if (usable.size() == 1) {
    return Pickable(usable[0]) ? Make(usable[0]) : Failure();
  }
  for (int attempt = 0; attempt < kMaxPickAttempts; ++attempt) {
    const uint64_t x = rng.Uniform(usable.size());
    uint64_t y = rng.Uniform(usable.size() - 1);
    if (y >= x) ++y;  // distinct, still uniform
    const uint32_t a = usable[x];
    const uint32_t b = usable[y];
    const bool pa = Pickable(a);
    const bool pb = Pickable(b);
    if (!pa && !pb) continue;
    if (!pb) return Make(a);
    if (!pa) return Make(b);
    const int cmp = CompareLoad(a, b);
    if (cmp != 0) return Make(cmp < 0 ? a : b);
    const uint64_t wa = snapshot_->endpoint(a).weight;
    const uint64_t wb = snapshot_->endpoint(b).weight;
    return Make(rng.Uniform(wa + wb) < wa ? a : b);
  }
  return Scan(rng);
}

Pick Balancer::Maglev(uint64_t hash, Rng& rng) {
  const MaglevTable& table = *snapshot_->maglev();
  uint32_t slot = table.SlotOf(hash);
  // The table holds only usable endpoints; a slot's owner can only be
  // unpickable by being at its connection limit. The following slots are
  // owned by pseudo-random endpoints, so the overflow spreads out.
  for (int attempt = 0; attempt < kMaxPickAttempts; ++attempt) {
    const uint32_t i = table.slot(slot);
    if (i != MaglevTable::kEmpty && Pickable(i)) return Make(i);
    slot = slot + 1 == table.size() ? 0 : slot + 1;
  }
  return Scan(rng);
}

Pick Balancer::Ring(uint64_t hash, Rng& rng) {
  const HashRing& ring = *snapshot_->ring();
  uint32_t p = ring.PointOf(hash);
  if (p == HashRing::kEmpty) return Scan(rng);
  const auto& points = ring.points();
  for (int attempt = 0; attempt < kMaxPickAttempts; ++attempt) {
    const uint32_t i = points[p].id;
    if (Pickable(i)) return Make(i);
    p = p + 1 == points.size() ? 0 : p + 1;
  }
  return Scan(rng);
}

Pick Balancer::Scan(Rng& rng) {
  uint32_t chosen = UINT32_MAX;
  uint64_t seen_weight = 0;
  for (uint32_t i : snapshot_->usable_indices()) {
    if (!Pickable(i)) continue;
    const uint64_t w = snapshot_->endpoint(i).weight;
    seen_weight += w;
    if (rng.Uniform(seen_weight) < w) chosen = i;
  }
  return chosen == UINT32_MAX ? Failure() : Make(chosen);
}

std::optional<uint32_t> Balancer::Resolve(const Pick& pick) const {
  if (!snapshot_ || !pick.ok()) return std::nullopt;
  if (pick.generation == generation_) return pick.index;
  return snapshot_->IndexOf(pick.endpoint);
}

void Balancer::OnConnectionOpened(const Pick& pick) {
  if (std::optional<uint32_t> i = Resolve(pick)) ++active_[*i];
}

void Balancer::OnConnectionClosed(const Pick& pick) {
  if (std::optional<uint32_t> i = Resolve(pick)) {
    if (active_[*i] > 0) --active_[*i];
  }
}

}  // namespace locus::proxy::lb
