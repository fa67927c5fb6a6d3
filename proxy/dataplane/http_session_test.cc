// HttpSession over the in-memory link in virtual time: forwarding, keep-alive,
// pipelining, bodies, response framing, errors, malformed requests, upgrades
// and downstream timeouts. Every case asserts exact bytes, statuses,
// headers and counters; the fixture checks for leaks afterwards.
#include "proxy/dataplane/http_session.h"

#include "gtest/gtest.h"
#include "proxy/dataplane/testing/proxy_fixture.h"

namespace locus::proxy::dataplane {
namespace {

using testing::ParsedResponses;
using testing::Reply;
using testing::SimpleConfig;
using testing::TestBackend;
using testing::TestClient;

class HttpSessionTest : public testing::ProxyFixture {
 protected:
  void SetUp() override {
    StartNet();
    backend_ = &AddBackend(8001, "b1");
    net().Apply(SimpleConfig({8001}));
  }
  TestBackend* backend_ = nullptr;
};

TEST_F(HttpSessionTest, GetIsForwardedWithViaAndForwardedFields) {
  backend_->set_handler([](const testing::ReceivedRequest&) {
    Reply r;
    r.fields = {{"X-Backend", "b1"}};
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
  ASSERT_EQ(backend_->requests().size(), 1u);
  EXPECT_EQ(backend_->requests()[0].head,
            "GET /a?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n"
            "Via: 1.1 locus\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\n\r\n");
  EXPECT_EQ(c.received(),
            "HTTP/1.1 200 OK\r\nX-Backend: b1\r\nVia: 1.1 locus\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(net().Sum(&ProxyCounters::requests), 1u);
  EXPECT_EQ(net().SumResponses(2), 1u);
  EXPECT_EQ(net().Sum(&ProxyCounters::upstream_connects), 1u);
  EXPECT_FALSE(c.peer_closed());
}

}  // namespace
}  // namespace locus::proxy::dataplane
