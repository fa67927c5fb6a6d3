#include "proxy/lb/ring_hash.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "proxy/lb/hash.h"

namespace locus::proxy::lb {
namespace {
constexpr uint64_t kRingSeed = 0x52696e67'48617368ULL;  // "RingHash"
}  // namespace

HashRing::HashRing(absl::Span<const Backend> backends, uint32_t min_ring_size,
                   uint32_t max_ring_size) {
  uint64_t total_weight = 0;
  for (const Backend& b : backends) total_weight += b.weight;
  if (total_weight == 0) return;
  // Points per unit of weight, as Envoy scales it: enough for
  // min_ring_size points in total, within the cap, at least one point per
  // endpoint. Rounding each endpoint up keeps the total >= min_ring_size.
  // A config change alters the scale and so gives survivors a few new
  // points, which take some keys from other survivors (measured in
  // ring_hash_test). We tried power-of-two point counts, which make most
  // config changes minimal, but the occasional change that crosses a power
  // of two then moves half the keys: a worse surprise than a steady ~8%.
  const double scale = std::min(
      static_cast<double>(min_ring_size) / static_cast<double>(total_weight),
      static_cast<double>(max_ring_size) / static_cast<double>(total_weight));
  for (const Backend& b : backends) {
    if (b.weight == 0 || !b.included) continue;
    const double want = static_cast<double>(b.weight) * scale;
    uint64_t n = static_cast<uint64_t>(want);
    if (static_cast<double>(n) < want &&
        static_cast<double>(min_ring_size) <= static_cast<double>(max_ring_size)) {
      ++n;  // round up, unless the cap is what limits us
    }
    n = std::max<uint64_t>(n, 1);
    for (uint64_t k = 0; k < n; ++k) {
      points_.push_back(
          Point{StableHash64(absl::StrCat(b.name, "_", k), kRingSeed), b.id});
    }
  }
  // Equal hashes (rare) are ordered by id so that the ring is deterministic.
  std::sort(points_.begin(), points_.end(), [](const Point& a, const Point& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.id < b.id;
  });
}

uint32_t HashRing::PointOf(uint64_t key_hash) const {
  if (points_.empty()) return kEmpty;
  auto it = std::lower_bound(
      points_.begin(), points_.end(), key_hash,
      [](const Point& p, uint64_t h) { return p.hash < h; });
  if (it == points_.end()) it = points_.begin();
  return static_cast<uint32_t>(it - points_.begin());
}

}  // namespace locus::proxy::lb
