#include "proxy/http/message.h"

#include <string>

#include "gtest/gtest.h"
#include "proxy/http/http_parser.h"

namespace locus::proxy::http {
namespace {

TEST(MessageTest, HeaderIdsAreCaseInsensitiveAndExact) {
  EXPECT_EQ(HeaderIdFromName("Content-Length"), HeaderId::kContentLength);
  EXPECT_EQ(HeaderIdFromName("CONTENT-LENGTH"), HeaderId::kContentLength);
  EXPECT_EQ(HeaderIdFromName("transfer-encoding"), HeaderId::kTransferEncoding);
  EXPECT_EQ(HeaderIdFromName("Te"), HeaderId::kTe);
  EXPECT_EQ(HeaderIdFromName("Upgrade"), HeaderId::kUpgrade);
  EXPECT_EQ(HeaderIdFromName("Expect"), HeaderId::kExpect);
  EXPECT_EQ(HeaderIdFromName("Content-Length2"), HeaderId::kOther);
  EXPECT_EQ(HeaderIdFromName("Content-Lengt"), HeaderId::kOther);
  EXPECT_EQ(HeaderIdFromName("Content_Length"), HeaderId::kOther);
  EXPECT_EQ(HeaderIdFromName("Hostt"), HeaderId::kOther);
  EXPECT_EQ(HeaderIdFromName(""), HeaderId::kOther);
}

TEST(MessageTest, FieldBlockLookups) {
  const std::string bytes =
      "GET / HTTP/1.1\r\nHost: h\r\nAccept: a\r\nX-Multi: 1\r\naccept: b\r\nx-multi: 2\r\n\r\n";
  RequestParser p;
  ASSERT_EQ(p.Parse(bytes).event, Event::kHead);
  const FieldBlock& f = p.head().fields();
  EXPECT_EQ(f.size(), 5u);
  EXPECT_FALSE(f.empty());
  EXPECT_EQ(f.Find("ACCEPT"), 1u);
  EXPECT_EQ(f.Find("accept", 2), 3u);
  EXPECT_EQ(f.Find("accept", 4), FieldBlock::npos);
  EXPECT_EQ(f.Get("x-MULTI"), "1");
  EXPECT_EQ(f.Get("missing"), std::nullopt);
  EXPECT_EQ(f.Count("X-Multi"), 2u);
  EXPECT_EQ(f.Count("Accep"), 0u);
  EXPECT_EQ(f.Find(HeaderId::kHost), 0u);
  EXPECT_EQ(f.Find(HeaderId::kExpect), FieldBlock::npos);
  EXPECT_EQ(f.name(4), "x-multi");  // case kept as received
}

TEST(MessageTest, ExpectationFromRequest) {
  RequestParser p;
  ASSERT_EQ(p.Parse("HEAD / HTTP/1.1\r\nHost: h\r\n\r\n").event, Event::kHead);
  const ResponseExpectation e = ResponseExpectation::For(p.head());
  EXPECT_EQ(e.method, Method::kHead);
  EXPECT_FALSE(e.upgrade);
}

}  // namespace
}  // namespace locus::proxy::http
