#include "proxy/lb/ring_hash.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proxy/lb/rng.h"

namespace locus::proxy::lb {
namespace {

constexpr int kKeys = 100000;

std::vector<HashRing::Backend> Backends(int n) {
  std::vector<HashRing::Backend> b;
  for (int i = 0; i < n; ++i) {
    b.push_back({absl::StrCat("10.1.0.", i + 1, ":80"), 1,
                 static_cast<uint32_t>(i), true});
  }
  return b;
}

std::vector<uint64_t> Keys() {
  Rng rng(11);
  std::vector<uint64_t> keys(kKeys);
  for (uint64_t& k : keys) k = rng.Next();
  return keys;
}

TEST(RingHashTest, SizeFollowsMinimumAndCap) {
  HashRing r(Backends(10), 1024, 1u << 20);
  EXPECT_EQ(r.points().size(), 1030u);  // 102.4 rounded up: 103 each
  HashRing exact(Backends(8), 1024, 1u << 20);
  EXPECT_EQ(exact.points().size(), 1024u);
  HashRing capped(Backends(10), 1024, 1000);
  EXPECT_EQ(capped.points().size(), 1000u);  // the cap wins: 100 each
  HashRing tiny(Backends(10), 1, 1u << 20);
  EXPECT_EQ(tiny.points().size(), 10u);  // at least one point each
  std::vector<HashRing::Backend> heavy = Backends(2);
  heavy[0].weight = 3000;
  heavy[1].weight = 1000;
  HashRing shrunk(heavy, 1024, 400);  // the cap wins: 300 + 100
  EXPECT_EQ(shrunk.points().size(), 400u);
  EXPECT_TRUE(std::is_sorted(r.points().begin(), r.points().end(),
                             [](auto& a, auto& b) { return a.hash < b.hash; }));
}

TEST(RingHashTest, LookupIsTheNextPointClockwise) {
  HashRing r(Backends(3), 16, 1024);
  const auto& p = r.points();
  ASSERT_GE(p.size(), 3u);
  EXPECT_EQ(r.PointOf(p[1].hash), 1u);
  EXPECT_EQ(r.PointOf(p[1].hash - 1), p[0].hash == p[1].hash - 1 ? 0u : 1u);
  EXPECT_EQ(r.PointOf(p.back().hash + 1), 0u);  // wraps (unless it overflowed)
  EXPECT_EQ(r.PointOf(0), 0u);
  EXPECT_EQ(r.Lookup(p[2].hash), p[2].id);
}

TEST(RingHashTest, EmptyRing) {
  HashRing r({}, 1024, 1u << 20);
  EXPECT_EQ(r.Lookup(5), HashRing::kEmpty);
  std::vector<HashRing::Backend> b = Backends(2);
  b[0].included = false;
  b[1].included = false;
  HashRing none(b, 1024, 1u << 20);
  EXPECT_EQ(none.Lookup(5), HashRing::kEmpty);
}

TEST(RingHashTest, WeightedShares) {
  std::vector<HashRing::Backend> b = Backends(3);
  b[0].weight = 1;
  b[1].weight = 2;
  b[2].weight = 5;
  HashRing r(b, 1u << 16, 1u << 20);
  std::vector<int> count(3, 0);
  for (uint64_t k : Keys()) ++count[r.Lookup(k)];
  // Ring hash balances worse than Maglev; 65536 points keep it within 3%.
  EXPECT_NEAR(count[0], kKeys * 1.0 / 8, kKeys * 0.03);
  EXPECT_NEAR(count[1], kKeys * 2.0 / 8, kKeys * 0.03);
  EXPECT_NEAR(count[2], kKeys * 5.0 / 8, kKeys * 0.03);
}

// An endpoint turning unhealthy leaves its points out and nothing else:
// exactly its own keys move, none of the survivors'.
TEST(RingHashTest, HealthRemovalMovesOnlyTheRemovedEndpointsKeys) {
  std::vector<HashRing::Backend> all = Backends(10);
  HashRing before(all, 1024, 1u << 20);
  all[3].included = false;
  HashRing after(all, 1024, 1u << 20);
  int on_removed = 0;
  for (uint64_t k : Keys()) {
    const uint32_t b = before.Lookup(k);
    const uint32_t a = after.Lookup(k);
    if (b == 3) {
      ++on_removed;
      EXPECT_NE(a, 3u);
    } else {
      ASSERT_EQ(a, b);
    }
  }
  std::printf("ring N=10 health removal: moved %.4f\n",
              static_cast<double>(on_removed) / kKeys);
  EXPECT_NEAR(static_cast<double>(on_removed) / kKeys, 0.1, 0.03);
}

// Removing an endpoint from the config rescales the others (103 -> 114
// points each for 10 -> 9), and their new points take some keys from other
// survivors. Measured: 0.168 moved in total, of which 0.111 were the
// removed endpoint's. Bounded here at 2/N.
TEST(RingHashTest, ConfigRemovalMovesAboutOneNthPlusTheRescale) {
  std::vector<HashRing::Backend> all = Backends(10);
  HashRing before(all, 1024, 1u << 20);
  std::vector<HashRing::Backend> rest = all;
  rest.erase(rest.begin() + 3);
  HashRing after(rest, 1024, 1u << 20);
  int moved = 0;
  int on_removed = 0;
  for (uint64_t k : Keys()) {
    const uint32_t b = before.Lookup(k);
    const uint32_t a = after.Lookup(k);
    on_removed += b == 3;
    moved += a != b;
  }
  const double total = static_cast<double>(moved) / kKeys;
  std::printf("ring N=10 config removal: moved %.4f (removed endpoint's %.4f)\n",
              total, static_cast<double>(on_removed) / kKeys);
  EXPECT_GE(moved, on_removed);
  EXPECT_LT(total, 2.0 / 10);
}

}  // namespace
}  // namespace locus::proxy::lb
