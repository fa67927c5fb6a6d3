#include "proxy/route/host.h"

#include <string>

#include "gtest/gtest.h"

namespace locus::proxy::route {
namespace {

HostPattern Parse(const std::string& text) {
  HostPattern p;
  absl::Status s = ParseHostPattern(text, &p);
  EXPECT_TRUE(s.ok()) << text << ": " << s;
  return p;
}

TEST(HostTest, AnyHost) {
  for (const char* any : {"", "*"}) {
    HostPattern p = Parse(any);
    EXPECT_EQ(p.kind, HostPattern::Kind::kAny);
    EXPECT_TRUE(p.Matches("x.example.com"));
    EXPECT_TRUE(p.Matches(""));
  }
}

TEST(HostTest, ExactIsCaseInsensitive) {
  HostPattern p = Parse("API.Example.com");
  EXPECT_EQ(p.kind, HostPattern::Kind::kExact);
  EXPECT_EQ(p.value, "api.example.com");
  EXPECT_TRUE(p.Matches("api.example.com"));
  EXPECT_TRUE(p.Matches("API.EXAMPLE.COM"));
  EXPECT_FALSE(p.Matches("api.example.co"));
  EXPECT_FALSE(p.Matches("xapi.example.com"));
}

TEST(HostTest, WildcardMatchesAnyDepthButNotTheApex) {
  HostPattern p = Parse("*.example.com");
  EXPECT_EQ(p.kind, HostPattern::Kind::kSuffix);
  EXPECT_TRUE(p.Matches("a.example.com"));
  EXPECT_TRUE(p.Matches("a.b.example.com"));
  EXPECT_TRUE(p.Matches("A.EXAMPLE.com"));
  EXPECT_FALSE(p.Matches("example.com"));
  EXPECT_FALSE(p.Matches(".example.com"));  // nothing before the dot
  EXPECT_FALSE(p.Matches("aexample.com"));
  EXPECT_FALSE(p.Matches("a.example.com.evil"));
}

TEST(HostTest, BadPatterns) {
  HostPattern p;
  for (const char* bad : {"a.*.com", "*a.example.com", "a*", "*.", "**.com",
                          "*.*.com", "a..com", ".a.com", "a.com.", "a b.com",
                          "a/b", "a:80", "*example.com"}) {
    EXPECT_EQ(ParseHostPattern(bad, &p).code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(HostTest, LengthLimits) {
  HostPattern p;
  const std::string label(kMaxHostLabelLength, 'a');
  EXPECT_TRUE(ParseHostPattern(label + ".com", &p).ok());
  EXPECT_FALSE(ParseHostPattern(label + "a.com", &p).ok());
  // Four labels of 63 plus dots: 255 bytes; trim to exactly 253.
  std::string host = label + "." + label + "." + label + "." + label;
  host.resize(kMaxHostLength);
  ASSERT_EQ(host.size(), kMaxHostLength);
  EXPECT_TRUE(ParseHostPattern(host, &p).ok()) << host;
  host.back() = 'b';
  host += "c";
  EXPECT_FALSE(ParseHostPattern(host, &p).ok());
}

TEST(HostTest, StripPort) {
  EXPECT_EQ(StripPort("a.example.com:8080"), "a.example.com");
  EXPECT_EQ(StripPort("a.example.com"), "a.example.com");
  EXPECT_EQ(StripPort("[::1]:80"), "[::1]");
  EXPECT_EQ(StripPort("[::1]"), "[::1]");
  EXPECT_EQ(StripPort(""), "");
  EXPECT_EQ(StripPort(":80"), "");
}

}  // namespace
}  // namespace locus::proxy::route
