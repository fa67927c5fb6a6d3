#include "proxy/http/limits.h"

#include "gtest/gtest.h"

namespace locus::proxy::http {
namespace {

// The parser-side behaviour of every limit (at the limit and limit+1) is in
// http_parser_test.cc; here only the configuration bounds.
TEST(LimitsTest, Validate) {
  EXPECT_TRUE(Limits().Validate().ok());
  Limits l;
  l.max_header_count = kHeaderCountCapacity;
  EXPECT_TRUE(l.Validate().ok());
  l.max_header_count = kHeaderCountCapacity + 1;
  EXPECT_FALSE(l.Validate().ok());
  l = Limits();
  l.max_header_count = 0;
  EXPECT_FALSE(l.Validate().ok());
  l = Limits();
  l.max_start_line = kMaxConfigurableLine;
  EXPECT_TRUE(l.Validate().ok());
  l.max_start_line = kMaxConfigurableLine + 1;
  EXPECT_FALSE(l.Validate().ok());
  l = Limits();
  l.max_chunk_line = kMaxConfigurableLine + 1;
  EXPECT_FALSE(l.Validate().ok());
  l = Limits();
  l.max_header_section = kMaxConfigurableSection;
  EXPECT_TRUE(l.Validate().ok());
  l.max_header_section = kMaxConfigurableSection + 1;
  EXPECT_FALSE(l.Validate().ok());
  l.max_header_section = 1;
  EXPECT_FALSE(l.Validate().ok());
}

TEST(LimitsTest, DefaultsAreTheDocumentedValues) {
  const Limits l;
  EXPECT_EQ(l.max_start_line, 8192u);
  EXPECT_EQ(l.max_header_section, 65536u);
  EXPECT_EQ(l.max_header_count, 100u);
  EXPECT_EQ(l.max_chunk_line, 4096u);
  EXPECT_EQ(l.max_request_body, 1048576u);
  EXPECT_LE(kDefaultMaxHeaderCount, kHeaderCountCapacity);
}

TEST(LimitsTest, ZeroLimitsAreInvalid) {
  Limits l;
  l.max_start_line = 0;
  EXPECT_FALSE(l.Validate().ok());
  l = Limits();
  l.max_chunk_line = 0;
  EXPECT_FALSE(l.Validate().ok());
  l = Limits();
  l.max_header_section = 2;
  EXPECT_TRUE(l.Validate().ok());
  l.max_request_body = 0;  // a listener that takes no request content
  EXPECT_TRUE(l.Validate().ok());
}

}  // namespace
}  // namespace locus::proxy::http
