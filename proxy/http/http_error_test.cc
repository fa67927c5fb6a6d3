#include "proxy/http/http_error.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace locus::proxy::http {
namespace {

TEST(HttpErrorTest, EveryReasonHasAUniqueName) {
  std::set<std::string> names;
  for (int e = 0; e < static_cast<int>(HttpError::kCount); ++e) {
    const std::string name(HttpErrorName(static_cast<HttpError>(e)));
    EXPECT_NE(name, "unknown") << e;
    EXPECT_TRUE(names.insert(name).second) << name;
  }
  EXPECT_EQ(HttpErrorName(HttpError::kCount), "unknown");
}

TEST(HttpErrorTest, RequestStatuses) {
  EXPECT_EQ(RequestErrorStatus(HttpError::kBareLf), 400);
  EXPECT_EQ(RequestErrorStatus(HttpError::kContentLengthAndChunked), 400);
  EXPECT_EQ(RequestErrorStatus(HttpError::kBodyTooLarge), 413);
  EXPECT_EQ(RequestErrorStatus(HttpError::kStartLineTooLong), 414);
  EXPECT_EQ(RequestErrorStatus(HttpError::kUnsupportedExpectation), 417);
  EXPECT_EQ(RequestErrorStatus(HttpError::kHeaderSectionTooLarge), 431);
  EXPECT_EQ(RequestErrorStatus(HttpError::kTooManyFields), 431);
  EXPECT_EQ(RequestErrorStatus(HttpError::kUnsupportedTransferCoding), 501);
  EXPECT_EQ(RequestErrorStatus(HttpError::kUnsupportedVersion), 505);
  EXPECT_EQ(RequestErrorStatus(HttpError::kInvalidCall), 500);
  EXPECT_EQ(kResponseErrorStatus, 502);
}

}  // namespace
}  // namespace locus::proxy::http
