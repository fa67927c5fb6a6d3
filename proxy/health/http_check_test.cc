#include "proxy/health/http_check.h"

#include <string>

#include "gtest/gtest.h"

namespace locus::proxy::health {
namespace {

constexpr StatusRange k2xx{200, 299};

TEST(HttpCheckTest, RequestBytes) {
  HealthCheckConfig c;
  c.kind = CheckKind::kHttp;
  c.path = "/healthz?full=1";
  c.host = "svc.internal";
  EXPECT_EQ(BuildHttpCheckRequest(c, "10.0.0.1:80"),
            "GET /healthz?full=1 HTTP/1.1\r\nHost: svc.internal\r\n"
            "User-Agent: locus-health\r\nConnection: close\r\n\r\n");
  c.host.clear();
  EXPECT_EQ(BuildHttpCheckRequest(c, "10.0.0.1:80"),
            "GET /healthz?full=1 HTTP/1.1\r\nHost: 10.0.0.1:80\r\n"
            "User-Agent: locus-health\r\nConnection: close\r\n\r\n");
}

TEST(HttpCheckTest, StatusInAndOutOfRange) {
  EXPECT_EQ(EvaluateHttpCheckResponse("HTTP/1.1 200 OK\r\n", k2xx),
            HttpCheckVerdict::kPassed);
  EXPECT_EQ(EvaluateHttpCheckResponse("HTTP/1.0 299 Whatever\r\nX: y\r\n", k2xx),
            HttpCheckVerdict::kPassed);
  EXPECT_EQ(EvaluateHttpCheckResponse("HTTP/1.1 199 Odd\r\n", k2xx),
            HttpCheckVerdict::kFailed);
  EXPECT_EQ(EvaluateHttpCheckResponse("HTTP/1.1 300 Multiple\r\n", k2xx),
            HttpCheckVerdict::kFailed);
  EXPECT_EQ(EvaluateHttpCheckResponse("HTTP/1.1 503 Service Unavailable\r\n",
                                      k2xx),
            HttpCheckVerdict::kFailed);
  EXPECT_EQ(EvaluateHttpCheckResponse("HTTP/1.1 503 x\r\n", StatusRange{500, 503}),
            HttpCheckVerdict::kPassed);
  // Empty reason, with and without its SP.
  EXPECT_EQ(EvaluateHttpCheckResponse("HTTP/1.1 204 \r\n", k2xx),
            HttpCheckVerdict::kPassed);
  EXPECT_EQ(EvaluateHttpCheckResponse("HTTP/1.1 204\r\n", k2xx),
            HttpCheckVerdict::kPassed);
}

TEST(HttpCheckTest, EveryTruncationOfAGoodLineNeedsMore) {
  const std::string line = "HTTP/1.1 200 OK\r\n";
  for (size_t n = 0; n < line.size(); ++n) {
    EXPECT_EQ(EvaluateHttpCheckResponse(line.substr(0, n), k2xx),
              HttpCheckVerdict::kNeedMore)
        << n;
  }
  EXPECT_EQ(EvaluateHttpCheckResponse(line, k2xx), HttpCheckVerdict::kPassed);
}

TEST(HttpCheckTest, Malformed) {
  for (const char* bad : {
           "HTTP/2 200 OK\r\n", "HTTP/1.1 20 OK\r\n", "HTTP/1.1 2000 OK\r\n",
           "HTTP/1.1  200 OK\r\n", "HTTP/1.1 2x0 OK\r\n", "HTTP/1.1 200 OK\n",
           "\n", "SSH-2.0-OpenSSH\r\n", "http/1.1 200 OK\r\n",
           "HTTP/1.1 099 Low\r\n", "HTTP/1.x 200 OK\r\n", "HTTP/1.1 200OK\r\n"}) {
    EXPECT_EQ(EvaluateHttpCheckResponse(bad, k2xx), HttpCheckVerdict::kMalformed)
        << bad;
  }
  // A wrong prefix is malformed before the line ends.
  EXPECT_EQ(EvaluateHttpCheckResponse("SSH-", k2xx), HttpCheckVerdict::kMalformed);
}

TEST(HttpCheckTest, StatusLineLengthLimit) {
  // The line including CR at exactly the limit is accepted...
  const std::string head = "HTTP/1.1 200 ";
  std::string at = head + std::string(kMaxStatusLineLength - head.size() - 1, 'r') +
                   "\r\n";
  ASSERT_EQ(at.find('\n'), kMaxStatusLineLength);
  EXPECT_EQ(EvaluateHttpCheckResponse(at, k2xx), HttpCheckVerdict::kPassed);
  // ...one byte more is not.
  std::string over = head + std::string(kMaxStatusLineLength - head.size(), 'r') +
                     "\r\n";
  EXPECT_EQ(EvaluateHttpCheckResponse(over, k2xx), HttpCheckVerdict::kMalformed);
  // Without a line end: at limit-1 bytes we still wait, at the limit we give up.
  std::string partial = head + std::string(kMaxStatusLineLength - head.size() - 1, 'r');
  EXPECT_EQ(EvaluateHttpCheckResponse(partial, k2xx), HttpCheckVerdict::kNeedMore);
  partial += 'r';
  EXPECT_EQ(EvaluateHttpCheckResponse(partial, k2xx), HttpCheckVerdict::kMalformed);
}

}  // namespace
}  // namespace locus::proxy::health
