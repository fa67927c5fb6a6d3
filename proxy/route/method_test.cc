#include "proxy/route/method.h"

#include "gtest/gtest.h"

namespace locus::proxy::route {
namespace {

TEST(MethodTest, BitsAreDistinctAndFitTheMask) {
  uint16_t all = 0;
  for (int m = 0; m <= static_cast<int>(Method::kPatch); ++m) {
    const uint16_t bit = MethodBit(static_cast<Method>(m));
    EXPECT_NE(bit, 0);
    EXPECT_EQ(all & bit, 0);
    all |= bit;
  }
}

}  // namespace
}  // namespace locus::proxy::route
