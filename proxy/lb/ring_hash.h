// Consistent hashing on a ring (Karger et al. '97), built the way Envoy's
// ring hash is: each endpoint owns points hashed from "<name>_<k>", the
// number of points proportional to its weight, at least `min_ring_size`
// points in total. A key belongs to the first point at or after its hash
// (wrapping), found by binary search.
//
// Point counts are computed from the pool's *configured* endpoints, and
// endpoints that are not usable simply leave their points out. So a health
// change moves only the keys of the endpoint that changed; only a config
// change (weights, endpoint set) rescales every endpoint's points.
#ifndef LOCUS_PROXY_LB_RING_HASH_H_
#define LOCUS_PROXY_LB_RING_HASH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/types/span.h"

namespace locus::proxy::lb {

class HashRing {
 public:
  struct Backend {
    std::string name;      // stable identity
    uint32_t weight = 1;   // 0: owns no points
    uint32_t id = 0;
    bool included = true;  // false: counted for scaling, points left out
  };
  struct Point {
    uint64_t hash;
    uint32_t id;
  };
  static constexpr uint32_t kEmpty = UINT32_MAX;

  // Total points (counting excluded backends) are min_ring_size rounded up
  // per endpoint; when max_ring_size is smaller, about max_ring_size (but
  // at least one point per endpoint).
  HashRing(absl::Span<const Backend> backends, uint32_t min_ring_size,
           uint32_t max_ring_size);

  // Index into points() of the owner of `key_hash`; kEmpty for an empty ring.
  uint32_t PointOf(uint64_t key_hash) const;
  uint32_t Lookup(uint64_t key_hash) const {
    const uint32_t p = PointOf(key_hash);
    return p == kEmpty ? kEmpty : points_[p].id;
  }
  const std::vector<Point>& points() const { return points_; }

 private:
  std::vector<Point> points_;
};

}  // namespace locus::proxy::lb

#endif  // LOCUS_PROXY_LB_RING_HASH_H_
