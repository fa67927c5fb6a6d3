#include "stack/base/bitmap.h"

#include "gtest/gtest.h"

namespace locus {
namespace {

TEST(BitmapTest, StartsClearAndSetsClearsSingleBits) {
  Bitmap b(130);
  EXPECT_EQ(b.size(), 130u);
  EXPECT_EQ(b.word_count(), 3u);
  EXPECT_EQ(b.Count(), 0u);
  for (size_t i : {0u, 63u, 64u, 129u}) {
    EXPECT_FALSE(b.Test(i));
    b.Set(i);
    EXPECT_TRUE(b.Test(i));
  }
  EXPECT_EQ(b.Count(), 4u);
  b.Clear(63);
  EXPECT_FALSE(b.Test(63));
  EXPECT_TRUE(b.Test(64));
  EXPECT_EQ(b.Count(), 3u);
}

TEST(BitmapTest, FindNextSetAcrossWordsAndAtTheEnd) {
  Bitmap b(200);
  EXPECT_EQ(b.FindNextSet(0), 200u);
  b.Set(5);
  b.Set(64);
  b.Set(199);
  EXPECT_EQ(b.FindNextSet(0), 5u);
  EXPECT_EQ(b.FindNextSet(5), 5u);
  EXPECT_EQ(b.FindNextSet(6), 64u);
  EXPECT_EQ(b.FindNextSet(65), 199u);
  EXPECT_EQ(b.FindNextSet(199), 199u);
  EXPECT_EQ(b.FindNextSet(200), 200u);
  EXPECT_EQ(b.FindNextSet(10'000), 200u);
}

TEST(BitmapTest, EmptyBitmap) {
  Bitmap b;
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.Count(), 0u);
  EXPECT_EQ(b.FindNextSet(0), 0u);
  EXPECT_EQ(b.MemoryBytes(), 0u);
}

}  // namespace
}  // namespace locus
