// HttpSession when things go wrong: upstream connect failures, resets and
// timeouts (502/504 with a body naming the reason), retries (bounded,
// idempotent methods only for 5xx), malformed and smuggling-shaped
// requests (the right 4xx, a close, nothing forwarded), errors the proxy
// answers itself on a connection that stays usable, downstream timeouts,
// and event batches in which a handler releases a connection that has
// another event later in the same batch.
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proxy/dataplane/http_session.h"
#include "proxy/dataplane/testing/proxy_fixture.h"
#include "proxy/http/http_error.h"

namespace locus::proxy::dataplane {
namespace {

using testing::ParsedResponses;
using testing::ReceivedRequest;
using testing::Reply;
using testing::SimpleConfig;
using testing::TestBackend;
using testing::TestClient;
using testing::TestNetOptions;

// What HttpSession::Respond sends.
std::string ErrorResponse(int status, std::string_view text, std::string_view detail,
                          bool close, bool head = false) {
  std::string body = absl::StrCat(status, " ", absl::string_view(text.data(), text.size()), "\n",
                                  absl::string_view(detail.data(), detail.size()), "\n");
  return absl::StrCat("HTTP/1.1 ", status, " ", absl::string_view(text.data(), text.size()),
                      "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ",
                      body.size(), close ? "\r\nConnection: close\r\n" : "\r\n",
                      "Via: 1.1 locus\r\n\r\n", head ? "" : body);
}

std::string ParserError(http::HttpError e) { return std::string(http::HttpErrorName(e)); }

constexpr uint16_t kClosedPort = 8009;  // nothing listens there

class HttpErrorTest : public testing::ProxyFixture {
 protected:
  void Init(TestNetOptions options = {}) {
    StartNet(options);
    backend_ = &AddBackend(8001, "b1");
  }
  // SimpleConfig over `ports` with the route's retry policy and timeout.
  DataPlaneConfig Config(const std::vector<uint16_t>& ports, route::RetryPolicy retry = {},
                         Duration timeout = Duration::Seconds(15)) {
    DataPlaneConfig c = SimpleConfig(ports);
    c.route_tables[0].routes[0].action.retry = retry;
    c.route_tables[0].routes[0].action.timeout = timeout;
    return c;
  }
  static route::RetryPolicy NoRetries() {
    route::RetryPolicy p;
    p.num_retries = 0;
    return p;
  }
  TestBackend* backend_ = nullptr;
};

// ---- Upstream failures -------------------------------------------------------------

TEST_F(HttpErrorTest, ConnectRefusedIs502AfterOneRetryAndTheConnectionStaysUsable) {
  Init();
  net().Apply(Config({kClosedPort}));  // default policy: one retry on connect failure
  TestClient& c = Connect();
  ParsedResponses r = Exchange(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", {"GET"});
  EXPECT_EQ(c.received(), ErrorResponse(502, "Bad Gateway", "upstream connect failure", false));
  EXPECT_EQ(net().Sum(&ProxyCounters::upstream_connect_failures), 2u);
  EXPECT_EQ(net().Sum(&ProxyCounters::retries), 1u);
  EXPECT_EQ(net().SumResponses(5), 1u);
  // A routing-level error leaves the client's connection usable.
  c.Take();
  r = Exchange(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", {"GET"});
  EXPECT_EQ(c.received(), ErrorResponse(502, "Bad Gateway", "upstream connect failure", false));
  EXPECT_FALSE(c.peer_closed());
}

TEST_F(HttpErrorTest, ConnectRefusedWithoutRetriesFailsOnce) {
  Init();
  net().Apply(Config({kClosedPort}, NoRetries()));
  TestClient& c = Connect();
  Exchange(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", {"GET"});
  EXPECT_EQ(c.received(), ErrorResponse(502, "Bad Gateway", "upstream connect failure", false));
  EXPECT_EQ(net().Sum(&ProxyCounters::upstream_connect_failures), 1u);
  EXPECT_EQ(net().Sum(&ProxyCounters::retries), 0u);
}

TEST_F(HttpErrorTest, ConnectFailuresAreRetriedUpToNumRetriesEvenForPost) {
  Init();
  route::RetryPolicy p;
  p.num_retries = 3;
  net().Apply(Config({kClosedPort, kClosedPort + 1}, p));
  TestClient& c = Connect();
  Exchange(c, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi", {"POST"});
  EXPECT_EQ(c.received(), ErrorResponse(502, "Bad Gateway", "upstream connect failure", false));
  EXPECT_EQ(net().Sum(&ProxyCounters::upstream_connect_failures), 4u);
  EXPECT_EQ(net().Sum(&ProxyCounters::retries), 3u);
}

TEST_F(HttpErrorTest, RetryBudgetRefusesRetriesBeyondItsShare) {
  Init();
  route::RetryPolicy p;
  p.num_retries = 3;
  p.budget_percent = 0;
  p.min_retry_concurrency = 0;  // the budget allows no retry in flight at all
  net().Apply(Config({kClosedPort}, p));
  TestClient& c = Connect();
  Exchange(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", {"GET"});
  EXPECT_EQ(c.received(), ErrorResponse(502, "Bad Gateway", "upstream connect failure", false));
  EXPECT_EQ(net().Sum(&ProxyCounters::upstream_connect_failures), 1u);
  EXPECT_EQ(net().Sum(&ProxyCounters::retries), 0u);
  EXPECT_EQ(net().Sum(&ProxyCounters::retries_budget_exhausted), 1u);
}

TEST_F(HttpErrorTest, OneRequestsSuccessiveRetriesHoldOneShareOfTheBudget) {
  Init();
  route::RetryPolicy p;
  p.num_retries = 3;
  p.budget_percent = 0;
  p.min_retry_concurrency = 1;  // exactly one retry in flight per pool and core
  net().Apply(Config({kClosedPort}, p));
  TestClient& c = Connect();
  for (int request = 0; request < 2; ++request) {
    c.Take();
    Exchange(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", {"GET"});
    EXPECT_EQ(c.received(), ErrorResponse(502, "Bad Gateway", "upstream connect failure", false));
  }
  // Each retry returned the previous attempt's share, and each finished
  // request returned its own: the second request retried as often.
  EXPECT_EQ(net().Sum(&ProxyCounters::retries), 6u);
  EXPECT_EQ(net().Sum(&ProxyCounters::retries_budget_exhausted), 0u);
}

TEST_F(HttpErrorTest, ConnectFailureIsRetriedOnTheOtherEndpoint) {
  Init();
  net().Apply(Config({kClosedPort, 8001}));
  TestClient& c = Connect();
  for (int i = 0; i < 4; ++i) {
    c.Take();
    ParsedResponses r = Exchange(c, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi",
                                 {"POST"});
    ASSERT_EQ(testing::FinalResponses(r), 1u) << c.received();
    EXPECT_EQ(r.responses[0].status, 200);
    EXPECT_EQ(r.responses[0].body, "b1");
  }
  EXPECT_EQ(backend_->requests().size(), 4u);
  EXPECT_GE(net().Sum(&ProxyCounters::retries), 1u);
  EXPECT_EQ(net().Sum(&ProxyCounters::retries),
            net().Sum(&ProxyCounters::upstream_connect_failures));
}

TEST_F(HttpErrorTest, ResetMidResponseHeadIs502) {
  Init();
  net().Apply(Config({8001}, NoRetries()));
  backend_->set_handler([](const ReceivedRequest&) {
    Reply r;
    r.kind = Reply::Kind::kRaw;
    r.raw = "HTTP/1.1 200 OK\r\nContent-Le";
    r.after = Reply::After::kReset;
    return r;
  });
  TestClient& c = Connect();
  Exchange(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", {"GET"});
  EXPECT_EQ(c.received(), ErrorResponse(502, "Bad Gateway",
                                        "upstream closed the connection before responding", false));
  EXPECT_EQ(net().SumResponses(5), 1u);
}

TEST_F(HttpErrorTest, ResetAfterTheResponseBeganResetsTheClient) {
  Init();
  net().Apply(Config({8001}));
  backend_->set_handler([](const ReceivedRequest&) {
    Reply r;
    r.kind = Reply::Kind::kRaw;
    r.raw = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf";
    r.after = Reply::After::kReset;
    return r;
  });
  TestClient& c = Connect();
  c.Send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(WaitClosed(c));
  EXPECT_EQ(c.received(), "HTTP/1.1 200 OK\r\nVia: 1.1 locus\r\nContent-Length: 10\r\n\r\nhalf");
  EXPECT_TRUE(c.reset()) << "a truncated body must not look complete";
}

// A backend that closes without answering (as a kept-alive server whose
// idle timer fired just as the request arrived): an idempotent request is
// repeated on a new connection (RFC 9110 §9.2.2, RFC 9112 §9.3.1).
TEST_F(HttpErrorTest, BackendClosingBeforeAnyResponseIsRetriedForGet) {
  Init();
  net().Apply(Config({8001}));
  backend_->set_handler([](const ReceivedRequest& q) {
    Reply r;
    if (q.connection == 0) r.kind = Reply::Kind::kClose;
    return r;
  });
  TestClient& c = Connect();
  ParsedResponses r = Exchange(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", {"GET"});
  ASSERT_EQ(testing::FinalResponses(r), 1u) << c.received();
  EXPECT_EQ(r.responses[0].status, 200);
  EXPECT_EQ(backend_->connections_accepted(), 2u);
  EXPECT_EQ(net().Sum(&ProxyCounters::retries), 1u);
}

TEST_F(HttpErrorTest, BackendClosingBeforeAnyResponseIsNotRetriedForPost) {
  Init();
  net().Apply(Config({8001}));
  backend_->set_handler([](const ReceivedRequest& q) {
    Reply r;
    if (q.connection == 0) r.kind = Reply::Kind::kClose;
    return r;
  });
  TestClient& c = Connect();
  Exchange(c, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx", {"POST"});
  EXPECT_EQ(c.received(), ErrorResponse(502, "Bad Gateway",
                                        "upstream closed the connection before responding", false));
  EXPECT_EQ(backend_->connections_accepted(), 1u);
  EXPECT_EQ(net().Sum(&ProxyCounters::retries), 0u);
}

TEST_F(HttpErrorTest, SilentBackendIs504AfterTheRouteTimeout) {
  Init();
  net().Apply(Config({8001}, {}, Duration::Seconds(2)));
  backend_->set_handler([](const ReceivedRequest&) {
    Reply r;
    r.kind = Reply::Kind::kSilent;
    return r;
  });
  TestClient& c = Connect();
  c.Send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  net().Advance(Duration::Millis(1900));
  EXPECT_EQ(c.received(), "");
  ParsedResponses r = Wait(c, {"GET"});
  EXPECT_EQ(c.received(), ErrorResponse(504, "Gateway Timeout", "upstream timeout", false));
  EXPECT_EQ(net().Sum(&ProxyCounters::upstream_timeouts), 1u);
  EXPECT_EQ(net().Sum(&ProxyCounters::retries), 0u);
  EXPECT_EQ(backend_->requests().size(), 1u);
}

TEST_F(HttpErrorTest, FiveHundredsAreRetriedForIdempotentMethodsUpToNumRetries) {
  Init();
  route::RetryPolicy p;
  p.retry_on_5xx = true;
  p.num_retries = 2;
  net().Apply(Config({8001}, p));
  backend_->set_handler([](const ReceivedRequest& q) {
    Reply r;
    r.status = 503;
    r.reason = "Service Unavailable";
    r.body = absl::StrCat("attempt ", q.on_connection);
    return r;
  });
  TestClient& c = Connect();
  ParsedResponses r = Exchange(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", {"GET"});
  ASSERT_EQ(testing::FinalResponses(r), 1u);
  EXPECT_EQ(r.responses[0].status, 503);
  EXPECT_EQ(backend_->requests().size(), 3u);
  EXPECT_EQ(net().Sum(&ProxyCounters::retries), 2u);
  // Only the last answer reaches the client.
  EXPECT_EQ(c.received(),
            "HTTP/1.1 503 Service Unavailable\r\nVia: 1.1 locus\r\nContent-Length: 9\r\n\r\n"
            "attempt 0");
}

TEST_F(HttpErrorTest, PostIsNotRetriedOn5xx) {
  Init();
  route::RetryPolicy p;
  p.retry_on_5xx = true;
  p.num_retries = 2;
  net().Apply(Config({8001}, p));
  backend_->set_handler([](const ReceivedRequest&) {
    Reply r;
    r.status = 500;
    r.reason = "Internal Server Error";
    return r;
  });
  TestClient& c = Connect();
  ParsedResponses r =
      Exchange(c, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx", {"POST"});
  ASSERT_EQ(testing::FinalResponses(r), 1u);
  EXPECT_EQ(r.responses[0].status, 500);
  EXPECT_EQ(backend_->requests().size(), 1u);
  EXPECT_EQ(net().Sum(&ProxyCounters::retries), 0u);
}

// ---- Malformed requests: the right 4xx, a close, nothing forwarded ---------------------

struct Malformed {
  const char* name;
  std::string request;
  int status;
  const char* text;
  http::HttpError error;
};

TEST_F(HttpErrorTest, MalformedRequestsAreRefusedAndNothingIsForwarded) {
  Init();
  DataPlaneConfig config = SimpleConfig({8001});
  config.listeners[0].limits.max_request_header_bytes = 1024;
  net().Apply(config);
  const std::vector<Malformed> cases = {
      {"CL+TE", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n",
       400, "Bad Request", http::HttpError::kContentLengthAndChunked},
      {"TE+CL", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
                "0\r\n\r\n",
       400, "Bad Request", http::HttpError::kContentLengthAndChunked},
      {"duplicate CL", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"
                       "hello!",
       400, "Bad Request", http::HttpError::kDifferentContentLengths},
      {"obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n", 400, "Bad Request",
       http::HttpError::kObsFold},
      {"bare LF", "GET / HTTP/1.1\nHost: h\n\n", 400, "Bad Request", http::HttpError::kBareLf},
      {"no Host", "GET / HTTP/1.1\r\nX: y\r\n\r\n", 400, "Bad Request",
       http::HttpError::kMissingHost},
      {"oversized header",
       absl::StrCat("GET / HTTP/1.1\r\nHost: h\r\nX-Big: ", std::string(2000, 'x'), "\r\n\r\n"),
       431, "Request Header Fields Too Large", http::HttpError::kHeaderSectionTooLarge},
      {"long request line",
       absl::StrCat("GET /", std::string(9000, 'p'), " HTTP/1.1\r\nHost: h\r\n\r\n"), 414,
       "URI Too Long", http::HttpError::kStartLineTooLong},
      {"HTTP/2.0", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505, "HTTP Version Not Supported",
       http::HttpError::kUnsupportedVersion},
      {"body too large", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000\r\n\r\n", 413,
       "Content Too Large", http::HttpError::kBodyTooLarge},
      {"gzip, chunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
       501, "Not Implemented", http::HttpError::kUnsupportedTransferCoding},
  };
  uint64_t bad = 0;
  for (const Malformed& m : cases) {
    SCOPED_TRACE(m.name);
    TestClient& c = Connect();
    c.Send(m.request);
    ASSERT_TRUE(WaitClosed(c));
    EXPECT_EQ(c.received(), ErrorResponse(m.status, m.text, ParserError(m.error), true));
    EXPECT_TRUE(c.peer_closed());
    EXPECT_FALSE(c.reset());
    EXPECT_EQ(net().Sum(&ProxyCounters::bad_requests), ++bad);
  }
  EXPECT_EQ(backend_->connections_accepted(), 0u);
  EXPECT_EQ(net().Sum(&ProxyCounters::upstream_connects), 0u);
}

// A chunked body is streamed: its head already left when a bad chunk line
// arrives. The backend must not get a complete request, and the client a 400.
TEST_F(HttpErrorTest, BadChunkSizeIs400AndTheBackendNeverSeesACompleteRequest) {
  Init();
  net().Apply(SimpleConfig({8001}));
  TestClient& c = Connect();
  c.Send("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
         "5\r\nhello\r\nzz\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(WaitClosed(c));
  EXPECT_EQ(c.received(), ErrorResponse(400, "Bad Request",
                                        ParserError(http::HttpError::kBadChunkSize), true));
  net().Advance(Duration::Millis(100));
  EXPECT_TRUE(backend_->requests().empty());
  EXPECT_EQ(backend_->received_raw(0).find("smuggled"), std::string::npos);
}

TEST_F(HttpErrorTest, ConnectIsRefusedWith501) {
  Init();
  net().Apply(SimpleConfig({8001}));
  TestClient& c = Connect();
  c.Send("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
  ASSERT_TRUE(WaitClosed(c));
  EXPECT_EQ(c.received(), ErrorResponse(501, "Not Implemented",
                                        "CONNECT is not supported by this proxy", true));
  EXPECT_EQ(backend_->connections_accepted(), 0u);
}

// ---- Errors the proxy answers itself; the connection stays usable ------------------------

class RoutedErrorTest : public HttpErrorTest {
 protected:
  void SetUp() override {
    Init();
    DataPlaneConfig c = SimpleConfig({8001});
    c.route_tables[0].routes[0].match.path.value = "/api";
    net().Apply(c);
    backend_->set_handler([](const ReceivedRequest& q) {
      Reply r;
      if (q.method == "HEAD") {
        r.framing = Reply::Framing::kNoBody;
        r.fields = {{"Content-Length", std::to_string(q.target.size())}};
      } else {
        r.body = q.target;
      }
      return r;
    });
  }
};

TEST_F(RoutedErrorTest, NoRouteIs404AndPipelinedRequestsContinue) {
  TestClient& c = Connect();
  ParsedResponses r = Exchange(c,
                               "GET /nope HTTP/1.1\r\nHost: h\r\n\r\n"
                               "GET /api/1 HTTP/1.1\r\nHost: h\r\n\r\n",
                               {"GET", "GET"});
  EXPECT_EQ(c.received(),
            ErrorResponse(404, "Not Found", "no route matches this request", false) +
                "HTTP/1.1 200 OK\r\nVia: 1.1 locus\r\nContent-Length: 6\r\n\r\n/api/1");
  EXPECT_EQ(net().Sum(&ProxyCounters::no_route), 1u);
  EXPECT_EQ(net().SumResponses(4), 1u);
  EXPECT_FALSE(c.peer_closed());
}

TEST_F(RoutedErrorTest, NoRouteForARequestWithABodySkipsTheBody) {
  TestClient& c = Connect();
  ParsedResponses r = Exchange(c,
                               "POST /nope HTTP/1.1\r\nHost: h\r\nContent-Length: 20\r\n\r\n"
                               "GET /api/evil HTTP/1"  // the 20 bytes of content
                               "GET /api/2 HTTP/1.1\r\nHost: h\r\n\r\n",
                               {"POST", "GET"});
  EXPECT_EQ(c.received(),
            ErrorResponse(404, "Not Found", "no route matches this request", false) +
                "HTTP/1.1 200 OK\r\nVia: 1.1 locus\r\nContent-Length: 6\r\n\r\n/api/2");
  ASSERT_EQ(backend_->requests().size(), 1u);
  EXPECT_EQ(backend_->requests()[0].target, "/api/2");
}

TEST_F(RoutedErrorTest, ChunkedBodyOfAnUnroutedRequestIsSkippedAcrossSegments) {
  TestClient& c = Connect();
  c.Send("POST /nope HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
  net().Advance(Duration::Millis(50));
  c.Send("lo\r\n0\r\n\r\nGET /api/3 HTTP/1.1\r\nHost: h\r\n\r\n");
  ParsedResponses r = Wait(c, {"POST", "GET"});
  ASSERT_EQ(testing::FinalResponses(r), 2u) << c.received();
  EXPECT_EQ(r.responses[0].status, 404);
  EXPECT_EQ(r.responses[1].body, "/api/3");
}

TEST_F(RoutedErrorTest, ErrorAnswerToHeadHasNoBody) {
  TestClient& c = Connect();
  Exchange(c, "HEAD /nope HTTP/1.1\r\nHost: h\r\n\r\nGET /api/4 HTTP/1.1\r\nHost: h\r\n\r\n",
           {"HEAD", "GET"});
  EXPECT_EQ(c.received(),
            ErrorResponse(404, "Not Found", "no route matches this request", false,
                          /*head=*/true) +
                "HTTP/1.1 200 OK\r\nVia: 1.1 locus\r\nContent-Length: 6\r\n\r\n/api/4");
}

// The answer to a parse error after a HEAD request carries its body: what
// the previous request expected must not leak into the next answer.
TEST_F(RoutedErrorTest, ParseErrorAfterAHeadRequestStillHasABody) {
  TestClient& c = Connect();
  c.Send("HEAD /api/5 HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\nHost: h\n\n");
  ASSERT_TRUE(WaitClosed(c));
  EXPECT_EQ(c.received(),
            "HTTP/1.1 200 OK\r\nVia: 1.1 locus\r\nContent-Length: 6\r\n\r\n" +
                ErrorResponse(400, "Bad Request", ParserError(http::HttpError::kBareLf), true));
}

// ---- Downstream timeouts --------------------------------------------------------------------

TEST_F(HttpErrorTest, IncompleteHeadIs408AfterTheHeaderTimeout) {
  Init();
  DataPlaneConfig config = SimpleConfig({8001});
  config.listeners[0].limits.header_timeout = Duration::Seconds(2);
  net().Apply(config);
  TestClient& c = Connect();
  c.Send("GET / HTTP/1.1\r\nHo");
  net().Advance(Duration::Millis(1900));
  EXPECT_EQ(c.received(), "");
  ASSERT_TRUE(WaitClosed(c));
  EXPECT_EQ(c.received(), ErrorResponse(408, "Request Timeout", "request header timeout", true));
  EXPECT_EQ(net().Sum(&ProxyCounters::downstream_timeouts), 1u);
  EXPECT_EQ(backend_->connections_accepted(), 0u);
}

TEST_F(HttpErrorTest, IdleKeepAliveConnectionIsClosedQuietly) {
  Init();
  DataPlaneConfig config = SimpleConfig({8001});
  config.listeners[0].limits.idle_timeout = Duration::Seconds(3);
  net().Apply(config);
  TestClient& c = Connect();
  Exchange(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", {"GET"});
  c.Take();
  net().Advance(Duration::Millis(2900));
  EXPECT_FALSE(c.peer_closed());
  ASSERT_TRUE(WaitClosed(c));
  EXPECT_EQ(c.received(), "");
  EXPECT_FALSE(c.reset());
  EXPECT_EQ(net().Sum(&ProxyCounters::downstream_timeouts), 1u);
}

TEST_F(HttpErrorTest, IdleTimeoutBeforeTheFirstByteClosesQuietly) {
  Init();
  DataPlaneConfig config = SimpleConfig({8001});
  config.listeners[0].limits.idle_timeout = Duration::Seconds(3);
  net().Apply(config);
  TestClient& c = Connect();
  ASSERT_TRUE(WaitClosed(c, Duration::Seconds(4)));
  EXPECT_EQ(c.received(), "");
}

// The listener's request timeout: a slow upload is the client's fault
// (408, RFC 9110 §15.5.9), a slow backend is not (504).
TEST_F(HttpErrorTest, RequestTimeoutIs408ForASlowUploadAnd504ForASlowBackend) {
  Init();
  DataPlaneConfig config = SimpleConfig({8001});
  config.listeners[0].limits.request_timeout = Duration::Seconds(1);
  net().Apply(config);
  backend_->set_handler([](const ReceivedRequest&) {
    Reply r;
    r.kind = Reply::Kind::kSilent;
    return r;
  });
  TestClient& slow_client = Connect();
  slow_client.Send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc");
  ASSERT_TRUE(WaitClosed(slow_client));
  EXPECT_EQ(slow_client.received(), ErrorResponse(408, "Request Timeout", "request timeout", true));
  TestClient& c = Connect();
  Exchange(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", {"GET"});
  EXPECT_EQ(c.received(), ErrorResponse(504, "Gateway Timeout", "request timeout", false));
  EXPECT_EQ(net().Sum(&ProxyCounters::downstream_timeouts), 2u);
}

// ---- Several events for one session in one batch ----------------------------------------

// The client and the backend reset in the same batch: the session frees the
// upstream connection while handling the client's event, and the upstream's
// own event comes later in that batch. It must not be released twice.
TEST_F(HttpErrorTest, ClientAndBackendResetInOneBatch) {
  Init();
  net().Apply(SimpleConfig({8001}));
  backend_->set_handler([](const ReceivedRequest& q) {
    Reply r;
    if (q.target == "/hang") r.kind = Reply::Kind::kSilent;
    return r;
  });
  for (bool client_first : {true, false}) {
    SCOPED_TRACE(client_first ? "client first" : "backend first");
    size_t accepted = backend_->connections_accepted();
    TestClient& c = Connect();
    c.Send("GET /hang HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_TRUE(net().RunUntil([&] { return backend_->connections_accepted() > accepted; },
                               Duration::Seconds(1)));
    net().Advance(Duration::Millis(50));
    net().PauseProxy(true);
    if (client_first) c.Abort();
    backend_->CloseAll(/*abort=*/true);
    if (!client_first) c.Abort();
    net().Settle();
    net().PauseProxy(false);
    net().Advance(Duration::Millis(50));
    EXPECT_EQ(net().Sum(&ProxyCounters::active_connections), 0u);
    EXPECT_EQ(net().proxy_stack(0).tcp().connection_count(), net().counters(0).upstream_idle.load());
  }
  // The TCP's connection pool is intact: new connections work.
  for (int i = 0; i < 3; ++i) {
    TestClient& c = Connect();
    ParsedResponses r = Exchange(c, "GET /ok HTTP/1.1\r\nHost: h\r\n\r\n", {"GET"});
    ASSERT_EQ(testing::FinalResponses(r), 1u);
    EXPECT_EQ(r.responses[0].status, 200);
  }
}

// The backend's FIN and RST reach the proxy in one batch, before any
// response: one failed attempt, retried once, not two.
TEST_F(HttpErrorTest, BackendFinThenResetInOneBatchIsOneFailedAttempt) {
  Init();
  net().Apply(SimpleConfig({8001}));
  backend_->set_handler([](const ReceivedRequest& q) {
    Reply r;
    if (q.connection == 0) r.kind = Reply::Kind::kSilent;
    r.body = "second";
    return r;
  });
  TestClient& c = Connect();
  c.Send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(net().RunUntil([&] { return backend_->requests().size() == 1; },
                             Duration::Seconds(1)));
  net().Advance(Duration::Millis(50));
  net().PauseProxy(true);
  backend_->ShutdownAll();
  net().Settle();
  backend_->CloseAll(/*abort=*/true);
  net().Settle();
  net().PauseProxy(false);
  ParsedResponses r = Wait(c, {"GET"});
  ASSERT_EQ(testing::FinalResponses(r), 1u) << c.received();
  EXPECT_EQ(r.responses[0].status, 200);
  EXPECT_EQ(r.responses[0].body, "second");
  EXPECT_EQ(net().Sum(&ProxyCounters::retries), 1u);
  EXPECT_EQ(backend_->connections_accepted(), 2u);
}

}  // namespace
}  // namespace locus::proxy::dataplane
