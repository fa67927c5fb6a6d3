#include "proxy/http/method.h"

#include "gtest/gtest.h"

namespace locus::proxy::http {
namespace {

constexpr Method kKnown[] = {Method::kGet,     Method::kHead,    Method::kPost,
                             Method::kPut,     Method::kDelete,  Method::kConnect,
                             Method::kOptions, Method::kTrace,   Method::kPatch};

TEST(MethodTest, KnownMethodsRoundTripCaseSensitively) {
  for (Method m : kKnown) EXPECT_EQ(MethodFromText(MethodName(m)), m);
  EXPECT_EQ(MethodFromText("get"), Method::kOther);
  EXPECT_EQ(MethodFromText("PROPFIND"), Method::kOther);
  EXPECT_EQ(MethodFromText("GETS"), Method::kOther);
  EXPECT_EQ(MethodFromText(""), Method::kOther);
  EXPECT_EQ(MethodName(Method::kOther), "");
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

}  // namespace
}  // namespace locus::proxy::http
