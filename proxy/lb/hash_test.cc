#include "proxy/lb/hash.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "proxy/lb/rng.h"

namespace locus::proxy::lb {
namespace {

// Pinned values: consistent hashing only works if every proxy instance and
// every release computes these exactly. A change here reshuffles clients.
// Reference values come from an independent Python transcription of
// MurmurHash64A with little-endian block reads.
TEST(HashTest, StableHashGoldenValues) {
  EXPECT_EQ(StableHash64("", 0), 0x0ULL);
  EXPECT_EQ(StableHash64("a", 0), 0x071717d2d36b6b11ULL);
  EXPECT_EQ(StableHash64("hello", 0), 0x1e68d17c457bf117ULL);
  EXPECT_EQ(StableHash64("10.0.0.1:80", kHashKeySeed), 0x111e9a492fc3b5a4ULL);
  EXPECT_EQ(StableHash64("0123456789abcdefX", 42), 0x06617435f09dafe8ULL);
  EXPECT_EQ(HashClientIp(wire::Ipv4Address::FromOctets(10, 0, 0, 1)),
            0xcff1a3cdb616f4a3ULL);
  EXPECT_EQ(HashHeaderValue("10.0.0.1:80"), 0x111e9a492fc3b5a4ULL);
}

TEST(HashTest, UsableAtCompileTime) {
  static_assert(StableHash64("a", 0) == 0x071717d2d36b6b11ULL);
}

TEST(RngTest, UniformStaysInRangeAndIsRoughlyFlat) {
  Rng rng(7);
  std::vector<int> counts(10, 0);
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; ++i) {
    const uint64_t v = rng.Uniform(10);
    ASSERT_LT(v, 10u);
    ++counts[v];
  }
  for (int c : counts) EXPECT_NEAR(c, kDraws / 10, 5 * std::sqrt(kDraws / 10.0));
  EXPECT_EQ(rng.Uniform(1), 0u);
}

TEST(RngTest, SameSeedSameSequence) {
  Rng a(99), b(99), c(100);
  for (int i = 0; i < 10; ++i) {
    const uint64_t va = a.Next();
    EXPECT_EQ(va, b.Next());
    EXPECT_NE(va, c.Next());
  }
}

}  // namespace
}  // namespace locus::proxy::lb
