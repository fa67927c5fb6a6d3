// HttpSession over the in-memory link in virtual time, with one proxy shard
// and with two: forwarding rewrites, keep-alive, pipelining, request bodies
// (Content-Length, chunked, larger than every buffer, 100-continue),
// response framings, and Upgrade tunnels. Every case asserts exact bytes,
// statuses, headers and counters; the fixture checks for leaks afterwards.
// Errors, retries, malformed requests and timeouts: http_session_error_test.
#include "proxy/dataplane/http_session.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proxy/dataplane/testing/proxy_fixture.h"

namespace locus::proxy::dataplane {
namespace {

using testing::ParsedResponses;
using testing::ParseResponses;
using testing::ReceivedRequest;
using testing::Reply;
using testing::SimpleConfig;
using testing::TestBackend;
using testing::TestClient;
using testing::TestNetOptions;

std::string Pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    s[i] = static_cast<char>('a' + (x >> 16) % 26);
  }
  return s;
}

std::string Chunked(std::string_view body, size_t piece) {
  std::string out;
  for (size_t i = 0; i < body.size(); i += piece) {
    std::string_view c = body.substr(i, piece);
    absl::StrAppend(&out, absl::Hex(c.size()), "\r\n", absl::string_view(c.data(), c.size()),
                    "\r\n");
  }
  return out + "0\r\n\r\n";
}

// Runs every case with one shard and with two.
class HttpSessionTest : public testing::ProxyFixture,
                        public ::testing::WithParamInterface<unsigned> {
 protected:
  void Init(TestNetOptions options = {}) {
    options.shards = GetParam();
    StartNet(options);
    backend_ = &AddBackend(8001, "b1");
    net().Apply(SimpleConfig({8001}));
  }
  TestBackend* backend_ = nullptr;
};

INSTANTIATE_TEST_SUITE_P(Shards, HttpSessionTest, ::testing::Values(1u, 2u),
                         [](const ::testing::TestParamInfo<unsigned>& i) {
                           return absl::StrCat(i.param, "shard");
                         });

// ---- Forwarding -------------------------------------------------------------------

TEST_P(HttpSessionTest, GetIsForwardedWithViaAndForwardedFieldsAndNoHopByHop) {
  Init();
  backend_->set_handler([](const ReceivedRequest&) {
    Reply r;
    r.fields = {{"X-Backend", "b1"}, {"Connection", "X-Secret"}, {"X-Secret", "s"},
                {"Keep-Alive", "timeout=9"}};
    r.body = "hello";
    return r;
  });
  TestClient& c = Connect();
  ParsedResponses r = Exchange(c,
                               "GET /a?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n"
                               "Connection: keep-alive, X-Hop\r\nX-Hop: secret\r\n"
                               "Keep-Alive: timeout=5\r\nTE: trailers\r\n"
                               "Proxy-Connection: keep-alive\r\n\r\n",
                               {"GET"});
  ASSERT_EQ(backend_->requests().size(), 1u) << net().Describe();
  EXPECT_EQ(backend_->requests()[0].head,
            "GET /a?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n"
            "Via: 1.1 locus\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\n\r\n");
  EXPECT_EQ(c.received(),
            "HTTP/1.1 200 OK\r\nX-Backend: b1\r\nVia: 1.1 locus\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(net().Sum(&ProxyCounters::requests), 1u);
  EXPECT_EQ(net().SumResponses(2), 1u);
  EXPECT_EQ(net().Sum(&ProxyCounters::upstream_connects), 1u);
  EXPECT_EQ(net().Sum(&ProxyCounters::connections_accepted), 1u);
  EXPECT_FALSE(c.peer_closed());
}

TEST_P(HttpSessionTest, ExistingViaAndForwardedForAreAppendedAndProtoReplaced) {
  Init();
  backend_->set_handler([](const ReceivedRequest&) {
    Reply r;
    r.fields = {{"Via", "1.1 origin"}};
    r.body = "x";
    return r;
  });
  TestClient& c = Connect();
  ParsedResponses r = Exchange(c,
                               "GET / HTTP/1.1\r\nHost: h:8080\r\nVia: 1.0 first\r\n"
                               "X-Forwarded-For: 192.0.2.7\r\nX-Forwarded-Proto: https\r\n\r\n",
                               {"GET"});
  ASSERT_EQ(backend_->requests().size(), 1u);
  EXPECT_EQ(backend_->requests()[0].head,
            "GET / HTTP/1.1\r\nHost: h:8080\r\nVia: 1.0 first, 1.1 locus\r\n"
            "X-Forwarded-For: 192.0.2.7, 10.0.0.1\r\nX-Forwarded-Proto: http\r\n\r\n");
  EXPECT_EQ(c.received(),
            "HTTP/1.1 200 OK\r\nVia: 1.1 origin, 1.1 locus\r\nContent-Length: 1\r\n\r\nx");
}

TEST_P(HttpSessionTest, AbsoluteFormBecomesOriginFormWithItsAuthorityAsHost) {
  Init();
  TestClient& c = Connect();
  ParsedResponses r =
      Exchange(c, "GET http://origin.example/p?q HTTP/1.1\r\nHost: other\r\n\r\n", {"GET"});
  ASSERT_EQ(backend_->requests().size(), 1u) << c.received();
  EXPECT_EQ(backend_->requests()[0].head,
            "GET /p?q HTTP/1.1\r\nHost: origin.example\r\nVia: 1.1 locus\r\n"
            "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\n\r\n");
  ASSERT_EQ(testing::FinalResponses(r), 1u);
  EXPECT_EQ(r.responses[0].status, 200);
}

// ---- Keep-alive and pipelining ------------------------------------------------------

TEST_P(HttpSessionTest, KeepAliveOnBothSidesReusesOneUpstreamConnection) {
  Init();
  backend_->set_handler([](const ReceivedRequest& q) {
    Reply r;
    r.body = q.target;
    return r;
  });
  TestClient& c = Connect();
  ParsedResponses r1 = Exchange(c, "GET /one HTTP/1.1\r\nHost: h\r\n\r\n", {"GET"});
  ASSERT_EQ(testing::FinalResponses(r1), 1u);
  EXPECT_EQ(r1.responses[0].body, "/one");
  EXPECT_EQ(net().Sum(&ProxyCounters::upstream_idle), 1u);
  c.Take();
  ParsedResponses r2 = Exchange(c, "GET /two HTTP/1.1\r\nHost: h\r\n\r\n", {"GET"});
  ASSERT_EQ(testing::FinalResponses(r2), 1u);
  EXPECT_EQ(r2.responses[0].body, "/two");
  EXPECT_EQ(backend_->connections_accepted(), 1u);
  ASSERT_EQ(backend_->requests().size(), 2u);
  EXPECT_EQ(backend_->requests()[1].on_connection, 1u);
  EXPECT_EQ(net().Sum(&ProxyCounters::upstream_connects), 1u);
  EXPECT_EQ(net().Sum(&ProxyCounters::upstream_reused), 1u);
  EXPECT_EQ(net().Sum(&ProxyCounters::connections_accepted), 1u);
}

TEST_P(HttpSessionTest, PipelinedRequestsInOneSegmentAreAnsweredInOrder) {
  Init();
  backend_->set_handler([](const ReceivedRequest& q) {
    Reply r;
    r.body = q.target;
    // The first answer is the slowest: order must still hold.
    if (q.target == "/1") r.delay = Duration::Millis(30);
    if (q.target == "/3") r.delay = Duration::Millis(10);
    return r;
  });
  TestClient& c = Connect();
  ParsedResponses r = Exchange(c,
                               "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
                               "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
                               "GET /3 HTTP/1.1\r\nHost: h\r\n\r\n",
                               {"GET", "GET", "GET"});
  ASSERT_EQ(testing::FinalResponses(r), 3u) << c.received();
  EXPECT_EQ(r.responses[0].body, "/1");
  EXPECT_EQ(r.responses[1].body, "/2");
  EXPECT_EQ(r.responses[2].body, "/3");
  EXPECT_EQ(r.leftover, 0u);
  EXPECT_EQ(backend_->connections_accepted(), 1u);
  EXPECT_EQ(net().Sum(&ProxyCounters::upstream_reused), 2u);
  EXPECT_EQ(net().Sum(&ProxyCounters::requests), 3u);
}

TEST_P(HttpSessionTest, PipelinedRequestsAfterResponsesThatCloseTheUpstream) {
  Init();
  backend_->set_handler([](const ReceivedRequest& q) {
    Reply r;
    r.body = q.target;
    r.connection_close = true;  // every answer ends its connection
    return r;
  });
  TestClient& c = Connect();
  ParsedResponses r = Exchange(c,
                               "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
                               "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
                               "GET /3 HTTP/1.1\r\nHost: h\r\n\r\n",
                               {"GET", "GET", "GET"});
  ASSERT_EQ(testing::FinalResponses(r), 3u) << c.received();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(r.responses[i].body, absl::StrCat("/", i + 1));
    // The backend's "Connection: close" is hop-by-hop: the client's
    // connection stays open.
    EXPECT_EQ(r.responses[i].Count("connection"), 0u);
  }
  EXPECT_EQ(backend_->connections_accepted(), 3u);
  EXPECT_EQ(net().Sum(&ProxyCounters::upstream_reused), 0u);
  EXPECT_EQ(net().Sum(&ProxyCounters::upstream_connects), 3u);
  EXPECT_FALSE(c.peer_closed());
  EXPECT_EQ(net().Sum(&ProxyCounters::upstream_idle), 0u);
}

TEST_P(HttpSessionTest, ClientConnectionCloseIsAnsweredWithCloseAndAFin) {
  Init();
  TestClient& c = Connect();
  ParsedResponses r =
      Exchange(c, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", {"GET"});
  ASSERT_TRUE(WaitClosed(c));
  EXPECT_EQ(c.received(),
            "HTTP/1.1 200 OK\r\nVia: 1.1 locus\r\nContent-Length: 2\r\nConnection: close\r\n\r\nb1");
  EXPECT_TRUE(c.peer_closed());
  EXPECT_FALSE(c.reset());
  // The upstream connection is still good for others.
  EXPECT_EQ(net().Sum(&ProxyCounters::upstream_idle), 1u);
}

// ---- Request bodies -------------------------------------------------------------------

TEST_P(HttpSessionTest, PostWithContentLengthIsForwardedExactly) {
  Init();
  TestClient& c = Connect();
  ParsedResponses r = Exchange(
      c, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world",
      {"POST"});
  ASSERT_EQ(backend_->requests().size(), 1u);
  EXPECT_EQ(backend_->received_raw(0),
            "POST /up HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nVia: 1.1 locus\r\n"
            "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\nContent-Length: 11\r\n\r\n"
            "hello world");
  ASSERT_EQ(testing::FinalResponses(r), 1u);
  EXPECT_EQ(r.responses[0].status, 200);
}

TEST_P(HttpSessionTest, PostWithChunkedBodyIsReencodedWithTrailers) {
  Init();
  TestClient& c = Connect();
  ParsedResponses r = Exchange(c,
                               "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Sum: 9\r\n\r\n",
                               {"POST"});
  ASSERT_EQ(backend_->requests().size(), 1u);
  EXPECT_EQ(backend_->requests()[0].body, "Wikipedia");
  EXPECT_EQ(backend_->received_raw(0),
            "POST /up HTTP/1.1\r\nHost: h\r\nVia: 1.1 locus\r\nX-Forwarded-For: 10.0.0.1\r\n"
            "X-Forwarded-Proto: http\r\nTransfer-Encoding: chunked\r\n\r\n"
            "4\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Sum: 9\r\n\r\n");
  ASSERT_EQ(testing::FinalResponses(r), 1u);
  EXPECT_EQ(r.responses[0].status, 200);
}

// A body far larger than every buffer on the way (the proxy's send buffers
// are 16 KiB, its read-ahead 128 KiB), to a backend that stops reading for
// a while: flow control must hold it back and lose nothing.
TEST_P(HttpSessionTest, LargeUploadsLargerThanTheSendBufferArriveWhole) {
  TestNetOptions o;
  o.proxy_tcp.send_buffer = 16 * 1024;
  o.proxy_tcp.receive_buffer = 16 * 1024;
  Init(o);
  const std::string body = Pattern(900 * 1000, 7);
  for (bool chunked : {false, true}) {
    SCOPED_TRACE(chunked ? "chunked" : "content-length");
    size_t before = backend_->requests().size();
    backend_->set_reading(false);
    TestClient& c = Connect();
    if (chunked) {
      c.Send("PUT /big HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
      c.Send(Chunked(body, 60000));
    } else {
      c.Send(absl::StrCat("PUT /big HTTP/1.1\r\nHost: h\r\nContent-Length: ", body.size(),
                          "\r\n\r\n"));
      c.Send(body);
    }
    net().Advance(Duration::Millis(300));
    EXPECT_EQ(backend_->requests().size(), before);
    backend_->set_reading(true);
    ParsedResponses r = Wait(c, {"PUT"}, Duration::Seconds(30));
    ASSERT_EQ(backend_->requests().size(), before + 1) << net().Describe();
    EXPECT_EQ(backend_->requests().back().body.size(), body.size());
    EXPECT_TRUE(backend_->requests().back().body == body);
    ASSERT_EQ(testing::FinalResponses(r), 1u) << c.received();
    EXPECT_EQ(r.responses[0].status, 200);
    EXPECT_EQ(c.unsent(), 0u);
  }
}

TEST_P(HttpSessionTest, ExpectContinueIsForwardedBothWays) {
  Init();
  TestClient& c = Connect();
  c.Send("PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  ASSERT_TRUE(net().RunUntil([&] { return c.received().find("\r\n\r\n") != std::string::npos; },
                             Duration::Seconds(2)));
  EXPECT_EQ(c.received(), "HTTP/1.1 100 Continue\r\nVia: 1.1 locus\r\n\r\n");
  EXPECT_TRUE(backend_->requests().empty());
  c.Send("hello");
  ParsedResponses r = Wait(c, {"PUT"});
  ASSERT_EQ(backend_->requests().size(), 1u);
  EXPECT_EQ(backend_->requests()[0].Get("expect"), "100-continue");
  EXPECT_EQ(backend_->requests()[0].body, "hello");
  ASSERT_EQ(r.responses.size(), 2u);
  EXPECT_EQ(r.responses[0].status, 100);
  EXPECT_EQ(r.responses[1].status, 200);
  EXPECT_EQ(net().SumResponses(1), 0u) << "1xx are not counted as responses";
}

// ---- Response framings ------------------------------------------------------------------

TEST_P(HttpSessionTest, ChunkedResponseStaysChunkedWithItsTrailers) {
  Init();
  backend_->set_handler([](const ReceivedRequest&) {
    Reply r;
    r.kind = Reply::Kind::kRaw;
    r.raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n"
            "3\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n";
    return r;
  });
  TestClient& c = Connect();
  ParsedResponses r = Exchange(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", {"GET"});
  EXPECT_EQ(c.received(),
            "HTTP/1.1 200 OK\r\nVia: 1.1 locus\r\nTransfer-Encoding: chunked\r\n\r\n"
            "3\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n");
  EXPECT_EQ(net().Sum(&ProxyCounters::upstream_idle), 1u);
}

TEST_P(HttpSessionTest, CloseDelimitedResponseIsRechunkedForHttp11Clients) {
  Init();
  backend_->set_handler([](const ReceivedRequest& q) {
    Reply r;
    r.framing = Reply::Framing::kClose;
    r.body = "until-close:" + q.target;
    return r;
  });
  TestClient& c = Connect();
  ParsedResponses r = Exchange(c, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n", {"GET"});
  EXPECT_EQ(c.received(),
            "HTTP/1.1 200 OK\r\nVia: 1.1 locus\r\nTransfer-Encoding: chunked\r\n\r\n"
            "e\r\nuntil-close:/a\r\n0\r\n\r\n");
  // The client's connection survives: a second request works.
  c.Take();
  ParsedResponses r2 = Exchange(c, "GET /b HTTP/1.1\r\nHost: h\r\n\r\n", {"GET"});
  ASSERT_EQ(testing::FinalResponses(r2), 1u);
  EXPECT_EQ(r2.responses[0].body, "until-close:/b");
  EXPECT_EQ(backend_->connections_accepted(), 2u);
  EXPECT_FALSE(c.peer_closed());
}

TEST_P(HttpSessionTest, Http10ClientGetsCloseDelimitedBodyAndAClose) {
  Init();
  backend_->set_handler([](const ReceivedRequest&) {
    Reply r;
    r.framing = Reply::Framing::kChunked;
    r.chunk_size = 2;
    r.body = "abcde";
    return r;
  });
  TestClient& c = Connect();
  c.Send("GET / HTTP/1.0\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(WaitClosed(c));
  net().RunUntil([&] { return c.closed() || c.peer_closed(); }, Duration::Seconds(1));
  EXPECT_EQ(c.received(), "HTTP/1.1 200 OK\r\nVia: 1.1 locus\r\nConnection: close\r\n\r\nabcde");
  EXPECT_FALSE(c.reset());
  ASSERT_EQ(backend_->requests().size(), 1u);
  EXPECT_EQ(backend_->requests()[0].head.substr(0, 16), "GET / HTTP/1.1\r\n");
  EXPECT_EQ(backend_->requests()[0].Get("via"), "1.0 locus");
}

TEST_P(HttpSessionTest, HeadResponseKeepsContentLengthWithoutBody) {
  Init();
  backend_->set_handler([](const ReceivedRequest& q) {
    Reply r;
    if (q.method == "HEAD") {
      r.framing = Reply::Framing::kNoBody;
      r.fields = {{"Content-Length", "100"}};
    } else {
      r.body = "after-head";
    }
    return r;
  });
  TestClient& c = Connect();
  ParsedResponses r = Exchange(c,
                               "HEAD / HTTP/1.1\r\nHost: h\r\n\r\n"
                               "GET /next HTTP/1.1\r\nHost: h\r\n\r\n",
                               {"HEAD", "GET"});
  EXPECT_EQ(c.received(),
            "HTTP/1.1 200 OK\r\nVia: 1.1 locus\r\nContent-Length: 100\r\n\r\n"
            "HTTP/1.1 200 OK\r\nVia: 1.1 locus\r\nContent-Length: 10\r\n\r\nafter-head");
  EXPECT_EQ(backend_->connections_accepted(), 1u);
}

TEST_P(HttpSessionTest, NoContentAndNotModifiedHaveNoBody) {
  Init();
  backend_->set_handler([](const ReceivedRequest& q) {
    Reply r;
    r.framing = Reply::Framing::kNoBody;
    if (q.target == "/204") {
      r.status = 204;
      r.reason = "No Content";
    } else {
      r.status = 304;
      r.reason = "Not Modified";
      r.fields = {{"ETag", "\"v1\""}, {"Content-Length", "42"}};
    }
    return r;
  });
  TestClient& c = Connect();
  ParsedResponses r = Exchange(c,
                               "GET /204 HTTP/1.1\r\nHost: h\r\n\r\n"
                               "GET /304 HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"v1\"\r\n\r\n",
                               {"GET", "GET"});
  EXPECT_EQ(c.received(),
            "HTTP/1.1 204 No Content\r\nVia: 1.1 locus\r\n\r\n"
            "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nVia: 1.1 locus\r\nContent-Length: 42\r\n\r\n");
  EXPECT_EQ(net().SumResponses(2), 1u);
  EXPECT_EQ(net().SumResponses(3), 1u);
  EXPECT_EQ(backend_->connections_accepted(), 1u);
}

TEST_P(HttpSessionTest, InterimEarlyHintsAreForwardedBeforeTheFinalResponse) {
  Init();
  backend_->set_handler([](const ReceivedRequest&) {
    Reply r;
    r.interim = {"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"};
    r.body = "x";
    return r;
  });
  TestClient& c = Connect();
  ParsedResponses r = Exchange(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", {"GET"});
  EXPECT_EQ(c.received(),
            "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\nVia: 1.1 locus\r\n\r\n"
            "HTTP/1.1 200 OK\r\nVia: 1.1 locus\r\nContent-Length: 1\r\n\r\nx");
}

// Thousands of one-byte chunks arrive in one burst: every one must reach
// the client, not only as many as one pass of the session's loop handles.
TEST_P(HttpSessionTest, ResponseOfThousandsOfTinyChunksArrivesWhole) {
  Init();
  const std::string body = Pattern(40000, 3);
  backend_->set_handler([&](const ReceivedRequest&) {
    Reply r;
    r.framing = Reply::Framing::kChunked;
    r.chunk_size = 1;
    r.body = body;
    return r;
  });
  TestClient& c = Connect();
  ParsedResponses r = Exchange(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", {"GET"});
  ASSERT_EQ(testing::FinalResponses(r), 1u) << "got " << c.received().size() << " bytes";
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.responses[0].body.size(), body.size());
  EXPECT_TRUE(r.responses[0].body == body);
}

TEST_P(HttpSessionTest, ChunkedUploadOfThousandsOfTinyChunksArrivesWhole) {
  Init();
  const std::string body = Pattern(40000, 4);
  TestClient& c = Connect();
  c.Send("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
  ParsedResponses r = Exchange(c, Chunked(body, 1), {"POST"});
  ASSERT_EQ(backend_->requests().size(), 1u);
  EXPECT_TRUE(backend_->requests()[0].body == body);
  ASSERT_EQ(testing::FinalResponses(r), 1u);
}

TEST_P(HttpSessionTest, LargeResponseToAClientThatStopsReading) {
  TestNetOptions o;
  o.proxy_tcp.send_buffer = 16 * 1024;
  o.peer_tcp.receive_buffer = 32 * 1024;
  Init(o);
  const std::string body = Pattern(2 * 1000 * 1000, 5);
  backend_->set_handler([&](const ReceivedRequest& q) {
    Reply r;
    if (q.target == "/chunked") r.framing = Reply::Framing::kChunked;
    r.chunk_size = 100000;
    r.body = body;
    return r;
  });
  for (std::string target : {"/cl", "/chunked"}) {
    SCOPED_TRACE(target);
    TestClient& c = Connect();
    c.set_reading(false);
    c.Send(absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: h\r\n\r\n"));
    net().Advance(Duration::Millis(500));
    EXPECT_LT(c.received().size(), 1000u);
    c.set_reading(true);
    ParsedResponses r = Wait(c, {"GET"}, Duration::Seconds(30));
    ASSERT_EQ(testing::FinalResponses(r), 1u) << net().Describe();
    EXPECT_TRUE(r.complete);
    EXPECT_TRUE(r.responses[0].body == body);
  }
}

// With a 64-byte send buffer toward the client almost every write is
// short. A response whose end leaves fewer free bytes than the last chunk
// needs must still end whole before the proxy's FIN (Connection: close).
TEST_P(HttpSessionTest, EveryResponseSizeEndsWholeBeforeTheFinWithTinySendBuffers) {
  TestNetOptions o;
  o.proxy_tcp.send_buffer = 64;
  Init(o);
  backend_->set_handler([](const ReceivedRequest& q) {
    Reply r;
    r.framing = Reply::Framing::kChunked;
    r.body = Pattern(std::stoul(q.target.substr(1)), 9);
    return r;
  });
  for (size_t size = 100; size < 100 + 64; ++size) {
    TestClient& c = Connect();
    c.Send(absl::StrCat("GET /", size, " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"));
    ASSERT_TRUE(net().RunUntil([&] { return c.peer_closed(); }, Duration::Seconds(10)))
        << "size " << size << ": " << c.received();
    ParsedResponses r = ParseResponses(c.received(), {"GET"}, true);
    ASSERT_EQ(testing::FinalResponses(r), 1u) << "size " << size;
    EXPECT_TRUE(r.complete) << "size " << size << ": " << c.received();
    EXPECT_EQ(r.responses[0].body.size(), size);
    EXPECT_FALSE(c.reset()) << "size " << size;
  }
}

// ---- Upgrade ------------------------------------------------------------------------------

TEST_P(HttpSessionTest, UpgradeSwitchesToATunnelBothWaysWithHalfClose) {
  Init();
  backend_->set_handler([](const ReceivedRequest&) {
    Reply r;
    r.kind = Reply::Kind::kUpgrade;
    return r;
  });
  TestClient& c = Connect();
  c.Send("GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Version: 13\r\n\r\n");
  ASSERT_TRUE(net().RunUntil([&] { return c.received().find("\r\n\r\n") != std::string::npos; },
                             Duration::Seconds(2)));
  EXPECT_EQ(c.received(),
            "HTTP/1.1 101 Switching Protocols\r\nVia: 1.1 locus\r\nUpgrade: websocket\r\n"
            "Connection: upgrade\r\n\r\n");
  ASSERT_EQ(backend_->requests().size(), 1u);
  EXPECT_EQ(backend_->requests()[0].head,
            "GET /chat HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Version: 13\r\nVia: 1.1 locus\r\n"
            "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\nUpgrade: websocket\r\n"
            "Connection: upgrade\r\n\r\n");
  c.Take();
  // The client speaks first (as WebSocket clients do).
  c.Send("ping-1");
  ASSERT_TRUE(net().RunUntil([&] { return c.received() == "ping-1"; }, Duration::Seconds(2)))
      << "echo: [" << c.received() << "]";
  c.Send(std::string(100000, 'w'));
  ASSERT_TRUE(net().RunUntil([&] { return c.received().size() == 6 + 100000; },
                             Duration::Seconds(5)));
  EXPECT_EQ(net().Sum(&ProxyCounters::tunnels), 1u);
  // Half-close: the last bytes and the FIN travel through, and come back.
  c.Send("last");
  c.Shutdown();
  ASSERT_TRUE(net().RunUntil([&] { return c.peer_closed(); }, Duration::Seconds(5)));
  EXPECT_EQ(c.received().substr(c.received().size() - 4), "last");
  EXPECT_TRUE(backend_->saw_fin(0));
  EXPECT_EQ(backend_->tunnel_bytes(0).size(), 6u + 100000u + 4u);
  net().Advance(Duration::Millis(200));
  EXPECT_FALSE(backend_->saw_reset(0));
  EXPECT_FALSE(c.reset());
}

TEST_P(HttpSessionTest, UpgradeAnsweredWithoutSwitchingKeepsSpeakingHttp) {
  Init();
  backend_->set_handler([](const ReceivedRequest& q) {
    Reply r;
    r.body = q.Get("upgrade").has_value() ? "no-upgrade-here" : "plain";
    return r;
  });
  TestClient& c = Connect();
  ParsedResponses r = Exchange(c,
                               "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
                               "Connection: upgrade\r\n\r\n"
                               "GET /after HTTP/1.1\r\nHost: h\r\n\r\n",
                               {"GET+upgrade", "GET"});
  ASSERT_EQ(testing::FinalResponses(r), 2u) << c.received();
  EXPECT_EQ(r.responses[0].status, 200);
  EXPECT_EQ(r.responses[0].body, "no-upgrade-here");
  EXPECT_EQ(r.responses[1].body, "plain");
  EXPECT_EQ(net().Sum(&ProxyCounters::tunnels), 0u);
  EXPECT_FALSE(c.peer_closed());
}

}  // namespace
}  // namespace locus::proxy::dataplane
