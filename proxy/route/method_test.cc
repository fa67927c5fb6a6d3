#include "proxy/route/method.h"

#include "gtest/gtest.h"

namespace locus::proxy::route {
namespace {

TEST(MethodTest, ParsesKnownMethodsCaseSensitively) {
  for (Method m : {Method::kGet, Method::kHead, Method::kPost, Method::kPut,
                   Method::kDelete, Method::kConnect, Method::kOptions,
                   Method::kTrace, Method::kPatch}) {
    EXPECT_EQ(ParseMethod(MethodName(m)), m);
  }
  EXPECT_EQ(ParseMethod("get"), Method::kOther);
  EXPECT_EQ(ParseMethod("PROPFIND"), Method::kOther);
  EXPECT_EQ(ParseMethod(""), Method::kOther);
  EXPECT_EQ(ParseMethod("GETS"), Method::kOther);
}

TEST(MethodTest, IdempotentPerRfc9110) {
  EXPECT_TRUE(IsIdempotent(Method::kGet));
  EXPECT_TRUE(IsIdempotent(Method::kHead));
  EXPECT_TRUE(IsIdempotent(Method::kOptions));
  EXPECT_TRUE(IsIdempotent(Method::kTrace));
  EXPECT_TRUE(IsIdempotent(Method::kPut));
  EXPECT_TRUE(IsIdempotent(Method::kDelete));
  EXPECT_FALSE(IsIdempotent(Method::kPost));
  EXPECT_FALSE(IsIdempotent(Method::kPatch));
  EXPECT_FALSE(IsIdempotent(Method::kConnect));
  EXPECT_FALSE(IsIdempotent(Method::kOther));
}

TEST(MethodTest, BitsAreDistinct) {
  uint16_t all = 0;
  for (int m = 0; m <= static_cast<int>(Method::kOther); ++m) {
    const uint16_t bit = MethodBit(static_cast<Method>(m));
    EXPECT_EQ(all & bit, 0);
    all |= bit;
  }
}

}  // namespace
}  // namespace locus::proxy::route
