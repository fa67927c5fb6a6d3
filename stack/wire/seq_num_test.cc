#include "stack/wire/seq_num.h"

#include "gtest/gtest.h"

namespace locus::wire {
namespace {

TEST(SeqNumTest, ComparesAcrossWraparound) {
  SeqNum before(0xfffffff0u);
  SeqNum after = before + 0x20;
  EXPECT_EQ(after.raw(), 0x10u);
  EXPECT_LT(before, after);
  EXPECT_GT(after, before);
  EXPECT_EQ(after - before, 0x20);
  EXPECT_EQ(before - after, -0x20);
}

TEST(SeqNumTest, RangeIsHalfOpen) {
  SeqNum lo(0xffffffffu);
  SeqNum hi = lo + 2;
  EXPECT_TRUE(SeqInRange(lo, lo, hi));
  EXPECT_TRUE(SeqInRange(lo + 1, lo, hi));
  EXPECT_FALSE(SeqInRange(hi, lo, hi));
  EXPECT_FALSE(SeqInRange(lo - 1, lo, hi));
}

TEST(SeqNumTest, HalfSpaceLimit) {
  SeqNum a(0);
  EXPECT_LT(a, a + 0x7fffffffu);
  EXPECT_GT(a, a + 0x80000001u);  // more than 2^31 ahead reads as behind
}

TEST(SeqNumTest, MinMax) {
  SeqNum a(0xfffffffeu), b(1);
  EXPECT_EQ(SeqMax(a, b), b);
  EXPECT_EQ(SeqMin(a, b), a);
}

}  // namespace
}  // namespace locus::wire
