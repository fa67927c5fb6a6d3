// Configuration changes while clients keep their connections: every
// published version is what the very next request on every shard sees
// (routes and pools both), kept-alive upstream connections of a pool that
// changed are not reused for the new version, and a removed listener stops
// accepting at once while its in-flight request finishes (no reset), up to
// its drain deadline.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proxy/dataplane/testing/proxy_fixture.h"

namespace locus::proxy::dataplane {
namespace {

using testing::ParsedResponses;
using testing::Pool;
using testing::PrefixRoute;
using testing::Reply;
using testing::ReceivedRequest;
using testing::SimpleConfig;
using testing::TestClient;
using testing::TestNetOptions;

// Version `i` of a config that changes both the route and a pool each time:
// odd versions route "/" to pool "odd" (backend b2), even ones to pool
// "even", whose only endpoint is b3 every third version and b1 otherwise.
DataPlaneConfig Version(int i) {
  DataPlaneConfig c = SimpleConfig({8001});
  c.pools.clear();
  c.upstream.clear();
  c.pools.push_back(Pool("even", {static_cast<uint16_t>(i % 3 == 0 ? 8003 : 8001)}));
  c.pools.push_back(Pool("odd", {8002}));
  c.upstream.resize(2);
  c.route_tables[0].routes.clear();
  c.route_tables[0].routes.push_back(PrefixRoute("all", "/", i % 2 == 1 ? "odd" : "even"));
  return c;
}

std::string Expected(int i) { return i % 2 == 1 ? "b2" : (i % 3 == 0 ? "b3" : "b1"); }

class ConfigChangeTest : public testing::ProxyFixture {};

TEST_F(ConfigChangeTest, ThousandChangesEachServedOnTheNextRequestOnEveryShard) {
  constexpr int kChanges = 1000;
  constexpr int kClientsPerHost = 3;
  TestNetOptions options;
  options.shards = 2;
  StartNet(options);
  AddBackend(8001, "b1");
  AddBackend(8002, "b2");
  AddBackend(8003, "b3");
  net().Apply(Version(0));
  std::vector<TestClient*> clients;
  for (int i = 0; i < kClientsPerHost; ++i) {
    clients.push_back(&Connect());
    clients.push_back(&Connect(testing::kHttpPort, &net().peer2()));
  }
  uint64_t failures = 0;
  for (int i = 1; i <= kChanges; ++i) {
    const uint64_t version = net().Apply(Version(i));
    for (unsigned s = 0; s < net().shards(); ++s) {
      ASSERT_EQ(net().counters(s).applied_version.load(), version) << "shard " << s;
    }
    for (TestClient* c : clients) {
      c->Take();
      ParsedResponses r = Exchange(*c, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n", {"GET"});
      if (testing::FinalResponses(r) != 1 || r.responses[0].status != 200 ||
          r.responses[0].body != Expected(i)) {
        ++failures;
        ADD_FAILURE() << "version " << i << " client port " << c->local_port() << ": "
                      << c->received();
        if (failures > 5) return;
      }
      ASSERT_FALSE(c->closed()) << "version " << i;
    }
  }
  EXPECT_EQ(failures, 0u);
  // Both shards served clients (the test would prove nothing about the
  // second core otherwise).
  for (unsigned s = 0; s < net().shards(); ++s) {
    EXPECT_GT(net().counters(s).requests.load(), 0u) << "shard " << s;
  }
  EXPECT_EQ(net().Sum(&ProxyCounters::requests), uint64_t{kChanges} * clients.size());
  EXPECT_EQ(net().SumResponses(5), 0u);
}

TEST_F(ConfigChangeTest, RemovedListenerRefusesNewConnectionsAndFinishesItsInFlightRequest) {
  StartNet();
  testing::TestBackend& backend = AddBackend(8001, "b1");
  backend.set_handler([](const ReceivedRequest&) {
    Reply r;
    r.body = "slow";
    r.delay = Duration::Seconds(2);
    return r;
  });
  net().Apply(SimpleConfig({8001}));
  TestClient& inflight = Connect();
  inflight.Send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(net().RunUntil([&] { return backend.requests().size() == 1; },
                             Duration::Seconds(1)));

  DataPlaneConfig without = SimpleConfig({8001});
  without.listeners[0] = testing::HttpListener("other", 8080, "main");
  net().Apply(without);

  TestClient& late = Connect();
  ASSERT_TRUE(net().RunUntil([&] { return late.closed(); }, Duration::Seconds(1)));
  EXPECT_TRUE(late.refused());

  ParsedResponses r = Wait(inflight, {"GET"}, Duration::Seconds(5));
  ASSERT_EQ(testing::FinalResponses(r), 1u) << inflight.received();
  EXPECT_EQ(r.responses[0].status, 200);
  EXPECT_EQ(r.responses[0].body, "slow");
  // The draining listener ends the connection after its response, with a
  // FIN, never a reset.
  EXPECT_TRUE(WaitClosed(inflight));
  EXPECT_FALSE(inflight.reset());
}

TEST_F(ConfigChangeTest, DrainDeadlineEndsWhatIsStillInFlight) {
  StartNet();
  testing::TestBackend& backend = AddBackend(8001, "b1");
  backend.set_handler([](const ReceivedRequest&) {
    Reply r;
    r.kind = Reply::Kind::kSilent;
    return r;
  });
  DataPlaneConfig with = SimpleConfig({8001});
  with.listeners[0].drain_timeout = Duration::Seconds(1);
  net().Apply(with);
  TestClient& stuck = Connect();
  stuck.Send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(net().RunUntil([&] { return backend.requests().size() == 1; },
                             Duration::Seconds(1)));
  DataPlaneConfig without = SimpleConfig({8001});
  without.listeners[0] = testing::HttpListener("other", 8080, "main");
  const Instant removed_at = net().now();
  net().Apply(without);
  ASSERT_TRUE(net().RunUntil([&] { return stuck.peer_closed() || stuck.closed(); },
                             Duration::Seconds(5)));
  // Closed at the deadline, well before the route's 15 s timeout.
  EXPECT_GE(net().now() - removed_at, Duration::Seconds(1));
  EXPECT_LT(net().now() - removed_at, Duration::Seconds(2));
}

}  // namespace
}  // namespace locus::proxy::dataplane
