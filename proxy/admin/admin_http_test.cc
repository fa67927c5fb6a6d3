#include "proxy/admin/admin_http.h"

#include <string>

#include "gtest/gtest.h"
#include "proxy/http/http_parser.h"

namespace locus::proxy::admin {
namespace {

constexpr std::string_view kDate = "Tue, 14 Nov 2023 22:13:20 GMT";

AdminHandlers TestHandlers() {
  AdminHandlers h;
  h.metrics = [](PrometheusWriter& w) { w.Counter("locus_requests_total", "Requests.", 7); };
  h.stats_json = [] { return std::string("{\"requests\":7}"); };
  h.config_json = [] { return std::string("{\"listeners\":[]}"); };
  h.ready = [] { return absl::OkStatus(); };
  return h;
}

struct Answer {
  AdminResponse response;
  std::string bytes;
};

// Parses `request` with the project's parser, as the server does, and
// answers it.
Answer Ask(const AdminHandlers& h, std::string_view request) {
  http::RequestParser parser;
  http::Step s = parser.Parse(request);
  EXPECT_EQ(s.event, http::Event::kHead) << http::EventName(s.event);
  Answer a;
  a.response = WriteAdminResponse(h, {}, parser.head(), kDate, &a.bytes);
  return a;
}

TEST(HttpDateTest, ImfFixdate) {
  EXPECT_EQ(FormatHttpDate(1700000000), kDate);
  EXPECT_EQ(FormatHttpDate(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");  // RFC 9110 §5.6.7
}

TEST(AdminHttpTest, GoldenHealthz) {
  const Answer a = Ask(TestHandlers(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(a.response.status, 200);
  EXPECT_TRUE(a.response.keep_alive);
  EXPECT_EQ(a.bytes,
            "HTTP/1.1 200 OK\r\n"
            "Date: Tue, 14 Nov 2023 22:13:20 GMT\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 3\r\n"
            "Cache-Control: no-store\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "\r\n"
            "ok\n");
}

TEST(AdminHttpTest, GoldenHeadHasGetsLengthAndNoBody) {
  const Answer a = Ask(TestHandlers(), "HEAD /stats HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(a.response.status, 200);
  EXPECT_EQ(a.bytes,
            "HTTP/1.1 200 OK\r\n"
            "Date: Tue, 14 Nov 2023 22:13:20 GMT\r\n"
            "Content-Type: application/json\r\n"
            "Content-Length: 14\r\n"
            "Cache-Control: no-store\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "\r\n");
}

TEST(AdminHttpTest, GoldenMethodNotAllowed) {
  const Answer a = Ask(TestHandlers(), "DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(a.response.status, 405);
  EXPECT_TRUE(a.response.keep_alive);
  EXPECT_EQ(a.bytes,
            "HTTP/1.1 405 Method Not Allowed\r\n"
            "Date: Tue, 14 Nov 2023 22:13:20 GMT\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 18\r\n"
            "Cache-Control: no-store\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "Allow: GET, HEAD\r\n"
            "\r\n"
            "only GET and HEAD\n");
}

TEST(AdminHttpTest, Metrics) {
  const Answer a = Ask(TestHandlers(), "GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(a.response.status, 200);
  EXPECT_NE(a.bytes.find("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos);
  EXPECT_NE(a.bytes.find("\r\n\r\n# HELP locus_requests_total Requests.\n"
                         "# TYPE locus_requests_total counter\nlocus_requests_total 7\n"),
            std::string::npos)
      << a.bytes;
}

TEST(AdminHttpTest, SelfMetricsFollowTheHandlers) {
  http::RequestParser parser;
  ASSERT_EQ(parser.Parse("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").event, http::Event::kHead);
  std::string out;
  WriteAdminResponse(
      TestHandlers(), [](PrometheusWriter& w) { w.Gauge("locus_admin_x", "", 1); },
      parser.head(), kDate, &out);
  EXPECT_NE(out.find("locus_requests_total 7\n# TYPE locus_admin_x gauge\nlocus_admin_x 1\n"),
            std::string::npos)
      << out;
}

TEST(AdminHttpTest, StatsConfigReadyIndex) {
  const AdminHandlers h = TestHandlers();
  Answer a = Ask(h, "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(a.bytes.find("application/json\r\nContent-Length: 14\r\n"), std::string::npos);
  EXPECT_EQ(a.bytes.substr(a.bytes.size() - 14), "{\"requests\":7}");
  a = Ask(h, "GET /config HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(a.bytes.substr(a.bytes.size() - 16), "{\"listeners\":[]}");
  a = Ask(h, "GET /ready HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(a.response.status, 200);
  EXPECT_EQ(a.bytes.substr(a.bytes.size() - 6), "ready\n");
  a = Ask(h, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(a.response.status, 200);
  for (const char* path : {"/metrics", "/stats", "/config", "/ready", "/healthz"}) {
    EXPECT_NE(a.bytes.find(std::string("\n") + path + " "), std::string::npos) << path;
  }
}

TEST(AdminHttpTest, NotReadySays503AndWhy) {
  AdminHandlers h = TestHandlers();
  h.ready = [] { return absl::UnavailableError("no healthy upstream in pool web"); };
  const Answer a = Ask(h, "GET /ready HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(a.response.status, 503);
  EXPECT_TRUE(a.response.keep_alive);
  EXPECT_EQ(a.bytes.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u);
  EXPECT_EQ(a.bytes.substr(a.bytes.find("\r\n\r\n") + 4),
            "not ready: no healthy upstream in pool web\n");
}

TEST(AdminHttpTest, EndpointsWithoutHandlersDoNotExist) {
  const AdminHandlers none;
  for (const char* path : {"/stats", "/config", "/ready"}) {
    const Answer a = Ask(none, std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(a.response.status, 404) << path;
  }
  // /metrics still has the server's own families; / and /healthz always exist.
  EXPECT_EQ(Ask(none, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").response.status, 200);
  EXPECT_EQ(Ask(none, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").response.status, 200);
  const Answer index = Ask(none, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(index.bytes.find("/stats"), std::string::npos);
  EXPECT_NE(index.bytes.find("/healthz"), std::string::npos);
}

TEST(AdminHttpTest, NotFound) {
  const AdminHandlers h = TestHandlers();
  for (const char* target : {"/nope", "/metrics/", "/METRICS", "/metric%73", "//metrics"}) {
    const Answer a = Ask(h, std::string("GET ") + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(a.response.status, 404) << target;
    EXPECT_TRUE(a.response.keep_alive) << target;
  }
  // Unknown path: 404 whatever the method.
  EXPECT_EQ(Ask(h, "POST /nope HTTP/1.1\r\nHost: x\r\n\r\n").response.status, 404);
}

TEST(AdminHttpTest, AbsoluteFormTargetIsRouted) {
  const Answer a =
      Ask(TestHandlers(), "GET http://127.0.0.1:9901/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(a.response.status, 200);
}

TEST(AdminHttpTest, ContentIsRefusedAndClosesTheConnection) {
  const AdminHandlers h = TestHandlers();
  Answer a = Ask(h, "GET /stats HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab");
  EXPECT_EQ(a.response.status, 400);
  EXPECT_FALSE(a.response.keep_alive);
  EXPECT_NE(a.bytes.find("\r\nConnection: close\r\n"), std::string::npos);
  a = Ask(h, "POST /stats HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(a.response.status, 405);
  EXPECT_FALSE(a.response.keep_alive);
  // An empty body is no content.
  a = Ask(h, "GET /stats HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(a.response.status, 200);
  EXPECT_TRUE(a.response.keep_alive);
}

TEST(AdminHttpTest, ConnectionManagement) {
  const AdminHandlers h = TestHandlers();
  Answer a = Ask(h, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_FALSE(a.response.keep_alive);
  EXPECT_NE(a.bytes.find("\r\nConnection: close\r\n"), std::string::npos);
  a = Ask(h, "GET /healthz HTTP/1.0\r\n\r\n");
  EXPECT_FALSE(a.response.keep_alive);
  EXPECT_NE(a.bytes.find("\r\nConnection: close\r\n"), std::string::npos);
  a = Ask(h, "GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_TRUE(a.response.keep_alive);
  EXPECT_NE(a.bytes.find("\r\nConnection: keep-alive\r\n"), std::string::npos);
  a = Ask(h, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(a.bytes.find("Connection:"), std::string::npos);
}

TEST(AdminHttpTest, ResponsesParseBackWithTheStrictParser) {
  const AdminHandlers h = TestHandlers();
  for (const char* request :
       {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
        "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n", "PUT /ready HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /x HTTP/1.0\r\n\r\n"}) {
    http::RequestParser rp;
    ASSERT_EQ(rp.Parse(request).event, http::Event::kHead) << request;
    std::string out;
    WriteAdminResponse(h, {}, rp.head(), kDate, &out);
    http::ResponseParser parser;
    parser.ExpectResponse(http::ResponseExpectation::For(rp.head()));
    std::string_view rest = out;
    bool complete = false;
    for (int i = 0; i < 16 && !complete; ++i) {
      const http::Step s = parser.Parse(rest);
      ASSERT_NE(s.event, http::Event::kError) << http::HttpErrorName(parser.error()) << out;
      ASSERT_NE(s.event, http::Event::kNeedMore) << out;
      complete = s.event == http::Event::kMessageComplete;
      rest.remove_prefix(s.consumed);
    }
    EXPECT_TRUE(complete) << request;
    EXPECT_TRUE(rest.empty()) << request;
  }
}

}  // namespace
}  // namespace locus::proxy::admin
