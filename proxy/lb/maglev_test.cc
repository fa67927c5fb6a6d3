#include "proxy/lb/maglev.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proxy/lb/rng.h"

namespace locus::proxy::lb {
namespace {

constexpr uint32_t kM = 65537;
constexpr int kKeys = 100000;

std::vector<MaglevTable::Backend> Backends(int n, uint32_t weight = 1) {
  std::vector<MaglevTable::Backend> b;
  for (int i = 0; i < n; ++i) {
    b.push_back({absl::StrCat("10.0.", i / 250, ".", i % 250 + 1, ":8080"),
                 weight, static_cast<uint32_t>(i)});
  }
  return b;
}

std::vector<uint64_t> Keys(uint64_t seed) {
  Rng rng(seed);
  std::vector<uint64_t> keys(kKeys);
  for (uint64_t& k : keys) k = rng.Next();
  return keys;
}

std::vector<uint32_t> SlotsPerBackend(const MaglevTable& t, int n) {
  std::vector<uint32_t> count(n, 0);
  for (uint32_t s = 0; s < t.size(); ++s) {
    EXPECT_NE(t.slot(s), MaglevTable::kEmpty);
    if (t.slot(s) != MaglevTable::kEmpty) ++count[t.slot(s)];
  }
  return count;
}

TEST(MaglevTest, EverySlotFilledAndBalanced) {
  for (int n : {1, 3, 10, 100}) {
    MaglevTable t(Backends(n), kM);
    ASSERT_EQ(t.size(), kM);
    std::vector<uint32_t> count = SlotsPerBackend(t, n);
    const auto [lo, hi] = std::minmax_element(count.begin(), count.end());
    // Pseudocode 1 gives each backend floor(M/N) or ceil(M/N) slots:
    // backends take turns, one slot per turn, until the table is full.
    EXPECT_GE(*lo, kM / n) << n;
    EXPECT_LE(*hi, kM / n + 1) << n;
  }
}

TEST(MaglevTest, IndependentOfListingOrder) {
  std::vector<MaglevTable::Backend> b = Backends(10);
  MaglevTable a(b, kM);
  std::reverse(b.begin(), b.end());
  MaglevTable r(b, kM);
  for (uint32_t s = 0; s < kM; ++s) ASSERT_EQ(a.slot(s), r.slot(s)) << s;
}

TEST(MaglevTest, EmptyAndZeroWeight) {
  MaglevTable empty({}, 7);
  EXPECT_EQ(empty.Lookup(12345), MaglevTable::kEmpty);
  std::vector<MaglevTable::Backend> b = Backends(3);
  b[1].weight = 0;
  MaglevTable t(b, 7);
  for (uint32_t s = 0; s < 7; ++s) EXPECT_NE(t.slot(s), 1u);
}

TEST(MaglevTest, SlotOfCoversTheTableUniformly) {
  MaglevTable t(Backends(2), 7);
  EXPECT_EQ(t.SlotOf(0), 0u);
  EXPECT_EQ(t.SlotOf(UINT64_MAX), 6u);
  EXPECT_EQ(t.SlotOf(UINT64_MAX / 7 * 3 + 7), 3u);
}

// Removing one of N backends must move that backend's keys (about 1/N) and
// as few others as possible. Maglev does not promise zero extra movement
// (§3.4 trades a little disruption for balance): once the removed backend's
// slots are free, survivors claim them earlier in their preference walks
// and later claims shift. The paper's evaluation (§5.3) shows this churn
// shrinking as M/N grows, which is why M should be >> N (it suggests
// M > 100N). The bounds below are ours, set from measurement with fixed
// seeds (the test is deterministic): for N = 10 (M/N = 6553) the total
// moved is < 1.3/N and keys on survivors that moved are < 0.1/N — measured
// 0.100-0.104 total and at most 0.0027 (= 0.027/N) on survivors.
TEST(MaglevTest, RemovingOneOfTenMovesAboutOneTenth) {
  constexpr int kN = 10;
  std::vector<MaglevTable::Backend> all = Backends(kN);
  MaglevTable before(all, kM);
  std::vector<uint64_t> keys = Keys(1);
  double worst_extra = 0;
  for (int removed = 0; removed < kN; ++removed) {
    std::vector<MaglevTable::Backend> rest = all;
    rest.erase(rest.begin() + removed);
    MaglevTable after(rest, kM);
    int on_removed = 0;
    int moved_others = 0;
    for (uint64_t k : keys) {
      const uint32_t b = before.Lookup(k);
      const uint32_t a = after.Lookup(k);
      ASSERT_NE(a, static_cast<uint32_t>(removed));
      if (b == static_cast<uint32_t>(removed)) {
        ++on_removed;
      } else if (a != b) {
        ++moved_others;
      }
    }
    const double total = static_cast<double>(on_removed + moved_others) / kKeys;
    const double extra = static_cast<double>(moved_others) / kKeys;
    worst_extra = std::max(worst_extra, extra);
    EXPECT_NEAR(static_cast<double>(on_removed) / kKeys, 1.0 / kN, 0.005);
    EXPECT_LT(total, 1.3 / kN) << "removed " << removed;
    EXPECT_LT(extra, 0.1 / kN) << "removed " << removed;
    std::printf("maglev N=10 remove %d: total moved %.4f, survivors moved %.4f\n",
                removed, total, extra);
  }
  RecordProperty("worst_extra_moved_per_mille",
                 static_cast<int>(worst_extra * 1000));
}

// With N = 100 the table has only 655 slots per backend (M/N = 655, the
// paper's suggested minimum ratio) and the extra churn is larger: measured
// 1.55/N in total, so we assert < 2/N here and < 1.3/N once M is ten
// times larger.
TEST(MaglevTest, RemovingOneOfHundredMovesAboutOneHundredth) {
  constexpr int kN = 100;
  std::vector<MaglevTable::Backend> all = Backends(kN);
  MaglevTable before(all, kM);
  std::vector<MaglevTable::Backend> rest = all;
  rest.erase(rest.begin() + 37);
  MaglevTable after(rest, kM);
  int moved = 0;
  for (uint64_t k : Keys(2)) moved += before.Lookup(k) != after.Lookup(k);
  const double total = static_cast<double>(moved) / kKeys;
  std::printf("maglev N=100 remove 1: total moved %.4f\n", total);
  EXPECT_GT(total, 0.5 / kN);
  EXPECT_LT(total, 2.0 / kN);

  constexpr uint32_t kBigM = 655373;  // prime, M/N = 6553 as for N = 10
  MaglevTable big_before(all, kBigM);
  MaglevTable big_after(rest, kBigM);
  moved = 0;
  for (uint64_t k : Keys(2)) moved += big_before.Lookup(k) != big_after.Lookup(k);
  const double big_total = static_cast<double>(moved) / kKeys;
  std::printf("maglev N=100 M=655373 remove 1: total moved %.4f\n", big_total);
  EXPECT_LT(big_total, 1.3 / kN);
}

TEST(MaglevTest, RebuildingTheSameSetGivesTheSameTable) {
  // What makes a flap harmless: after the endpoint comes back every key
  // returns to where it was.
  std::vector<MaglevTable::Backend> all = Backends(10);
  MaglevTable a(all, kM);
  MaglevTable b(all, kM);
  for (uint32_t s = 0; s < kM; ++s) ASSERT_EQ(a.slot(s), b.slot(s));
}

TEST(MaglevTest, WeightsSetSlotShares) {
  std::vector<MaglevTable::Backend> b = Backends(3);
  b[0].weight = 1;
  b[1].weight = 2;
  b[2].weight = 5;
  MaglevTable t(b, kM);
  std::vector<uint32_t> count = SlotsPerBackend(t, 3);
  EXPECT_NEAR(count[0], kM * 1.0 / 8, kM * 0.01);
  EXPECT_NEAR(count[1], kM * 2.0 / 8, kM * 0.01);
  EXPECT_NEAR(count[2], kM * 5.0 / 8, kM * 0.01);
}

TEST(MaglevTest, WeightedRemovalMovesAboutTheRemovedShare) {
  std::vector<MaglevTable::Backend> all = Backends(10);
  for (size_t i = 0; i < all.size(); ++i) all[i].weight = 1 + i % 3;  // 1,2,3,...
  uint32_t total_weight = 0;
  for (const auto& b : all) total_weight += b.weight;
  MaglevTable before(all, kM);
  const int removed = 5;  // weight 3
  const double share = static_cast<double>(all[removed].weight) / total_weight;
  std::vector<MaglevTable::Backend> rest = all;
  rest.erase(rest.begin() + removed);
  MaglevTable after(rest, kM);
  int on_removed = 0;
  int moved_others = 0;
  for (uint64_t k : Keys(3)) {
    const uint32_t b = before.Lookup(k);
    const uint32_t a = after.Lookup(k);
    if (b == static_cast<uint32_t>(removed)) {
      ++on_removed;
    } else if (a != b) {
      ++moved_others;
    }
  }
  const double total = static_cast<double>(on_removed + moved_others) / kKeys;
  std::printf("weighted maglev: removed share %.4f, total moved %.4f\n", share,
              total);
  EXPECT_NEAR(static_cast<double>(on_removed) / kKeys, share, 0.01);
  EXPECT_LT(total, 1.3 * share);
}

}  // namespace
}  // namespace locus::proxy::lb
