#include "stack/link/mbuf_pool_sizing.h"

#include "gtest/gtest.h"

namespace locus::link {
namespace {

TEST(MbufPoolSizingTest, DefaultFormula) {
  // 1024 RX + 1024 TX + 2 x 32 burst + 2 lcores x 384 cache + 4096 in flight.
  EXPECT_EQ(MbufsPerQueue({.caching_lcores = 2}), 1024u + 1024 + 64 + 768 + 4096);
}

TEST(MbufPoolSizingTest, EachTermCounts) {
  const MbufPoolSizing base{.rx_descriptors = 0, .tx_descriptors = 0, .burst = 0, .cache = 0,
                            .caching_lcores = 0, .inflight = 0};
  EXPECT_EQ(MbufsPerQueue(base), 0u);
  MbufPoolSizing s = base;
  s.rx_descriptors = 512;
  EXPECT_EQ(MbufsPerQueue(s), 512u);
  s = base;
  s.tx_descriptors = 256;
  EXPECT_EQ(MbufsPerQueue(s), 256u);
  s = base;
  s.burst = 32;
  EXPECT_EQ(MbufsPerQueue(s), 64u);
  s = base;
  s.cache = 255;  // 1.5 x 255 = 382.5, rounded up
  s.caching_lcores = 3;
  EXPECT_EQ(MbufsPerQueue(s), 3u * 383);
  s = base;
  s.inflight = 10000;
  EXPECT_EQ(MbufsPerQueue(s), 10000u);
}

TEST(MbufPoolSizingTest, CacheRespectsDpdkLimits) {
  EXPECT_EQ(EffectiveMempoolCache(100000, 256), 256);
  EXPECT_EQ(EffectiveMempoolCache(100000, kMaxMempoolCache), kMaxMempoolCache);
  EXPECT_EQ(EffectiveMempoolCache(100000, kMaxMempoolCache + 1), kMaxMempoolCache);
  // 1.5 x cache must not exceed the pool.
  EXPECT_EQ(EffectiveMempoolCache(384, 256), 256);
  EXPECT_EQ(EffectiveMempoolCache(383, 256), 255);
  EXPECT_EQ(EffectiveMempoolCache(0, 256), 0);
}

}  // namespace
}  // namespace locus::link
