#include "proxy/control/normalize.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/control/test_configs.h"

namespace locus::proxy::control {
namespace {

namespace v1 = api::v1;
using testing::BaseConfig;
using testing::ParseConfigOrDie;

TEST(NormalizeTest, ListenerDefaults) {
  v1::Listener l;
  l.set_name("web");
  FillDefaults(&l);
  EXPECT_EQ(l.address(), "0.0.0.0");
  EXPECT_EQ(l.protocol(), v1::Listener::HTTP);
  EXPECT_EQ(l.proxy_protocol(), v1::Listener::NONE);
  EXPECT_EQ(l.drain_timeout().seconds(), kDefaultDrainTimeoutSeconds);
  EXPECT_EQ(l.limits().idle_timeout().seconds(), 60);
  EXPECT_EQ(l.limits().header_timeout().seconds(), 10);
  EXPECT_EQ(l.limits().request_timeout().seconds(), 60);
  EXPECT_EQ(l.limits().max_request_header_bytes(), 65536u);
  EXPECT_EQ(l.limits().max_connections(), 0u);         // unlimited
  EXPECT_EQ(l.limits().max_request_body_bytes(), 0u);  // unlimited
}

TEST(NormalizeTest, TcpListenerGetsNoHttpLimits) {
  v1::Listener l;
  l.set_protocol(v1::Listener::TCP);
  FillDefaults(&l);
  EXPECT_TRUE(l.limits().has_idle_timeout());
  EXPECT_FALSE(l.limits().has_header_timeout());
  EXPECT_FALSE(l.limits().has_request_timeout());
  EXPECT_EQ(l.limits().max_request_header_bytes(), 0u);
}

TEST(NormalizeTest, ExplicitValuesWin) {
  v1::Config c = ParseConfigOrDie(R"(
listeners: [{name: a, port: 1, route_table: t, drain_timeout: 0s,
             limits: {idle_timeout: 0s}}]
route_tables:
  - name: t
    routes: [{name: r, action: {weighted_pools: [{pool: p, weight: 0}], timeout: 0s}}]
pools: [{name: p, endpoints: [{address: 10.0.0.1, port: 1, weight: 0}],
         keepalive: {max_idle_per_core: 0}}]
)");
  FillDefaults(&c);
  EXPECT_EQ(c.listeners(0).drain_timeout().seconds(), 0);
  EXPECT_EQ(c.listeners(0).limits().idle_timeout().seconds(), 0);
  const v1::RouteAction& a = c.route_tables(0).routes(0).action();
  EXPECT_EQ(a.weighted_pools(0).weight(), 0u);
  EXPECT_EQ(a.timeout().seconds(), 0);
  EXPECT_EQ(c.pools(0).endpoints(0).weight(), 0u);
  EXPECT_EQ(c.pools(0).keepalive().max_idle_per_core(), 0u);
  EXPECT_EQ(c.pools(0).keepalive().idle_timeout().seconds(), 60);
}

TEST(NormalizeTest, RouteDefaults) {
  v1::RouteTable t = ParseConfigOrDie(R"(
route_tables:
  - name: t
    routes:
      - name: any
        match: {host: "*", headers: [{name: x-debug}]}
        action: {weighted_pools: [{pool: p}]}
      - name: upper
        match: {host: API.Example.COM, exact: /x}
        action: {weighted_pools: [{pool: p}], retry: {retry_on: [HTTP_5XX]}}
)")
                         .route_tables(0);
  FillDefaults(&t);
  const v1::Route& any = t.routes(0);
  EXPECT_EQ(any.match().host(), "");
  EXPECT_EQ(any.match().prefix(), "/");
  EXPECT_TRUE(any.match().headers(0).present());
  EXPECT_EQ(any.action().weighted_pools(0).weight(), 1u);
  EXPECT_EQ(any.action().timeout().seconds(), 15);
  EXPECT_FALSE(any.action().has_retry());  // unset = no retries
  const v1::Route& upper = t.routes(1);
  EXPECT_EQ(upper.match().host(), "api.example.com");
  EXPECT_EQ(upper.match().exact(), "/x");
  EXPECT_EQ(upper.action().retry().num_retries(), 1u);
  EXPECT_EQ(upper.action().retry().budget_percent(), 20u);
  EXPECT_FALSE(upper.action().retry().has_per_try_timeout());
}

TEST(NormalizeTest, PoolDefaults) {
  v1::Config c = ParseConfigOrDie(R"(
pools:
  - name: plain
  - name: maglev
    lb_policy: MAGLEV
    health_check: {http: {}}
    outlier_detection: {}
  - name: ring
    lb_policy: RING_HASH
    hash_key: {header: x-user}
    health_check: {}
)");
  FillDefaults(&c);
  const v1::BackendPool& plain = c.pools(0);
  EXPECT_EQ(plain.lb_policy(), v1::BackendPool::ROUND_ROBIN);
  EXPECT_FALSE(plain.has_hash_key());
  EXPECT_FALSE(plain.has_maglev_table_size());
  EXPECT_FALSE(plain.has_health_check());
  EXPECT_FALSE(plain.has_outlier_detection());
  EXPECT_EQ(plain.connect_timeout().seconds(), 5);
  EXPECT_EQ(plain.keepalive().max_idle_per_core(), 16u);
  EXPECT_EQ(plain.keepalive().idle_timeout().seconds(), 60);

  const v1::BackendPool& maglev = c.pools(1);
  EXPECT_TRUE(maglev.hash_key().client_ip());
  EXPECT_EQ(maglev.maglev_table_size(), 65537u);
  const v1::HealthCheck& hc = maglev.health_check();
  EXPECT_EQ(hc.http().path(), "/");
  EXPECT_THAT(hc.http().expected_statuses(), ::testing::ElementsAre(200u));
  EXPECT_EQ(hc.interval().seconds(), 5);
  EXPECT_EQ(hc.timeout().seconds(), 1);
  EXPECT_EQ(hc.rise(), 2u);
  EXPECT_EQ(hc.fall(), 3u);
  const v1::OutlierDetection& od = maglev.outlier_detection();
  EXPECT_EQ(od.consecutive_5xx(), 5u);
  EXPECT_EQ(od.consecutive_connect_failures(), 5u);
  EXPECT_EQ(od.base_ejection_time().seconds(), 30);
  EXPECT_EQ(od.max_ejection_time().seconds(), 300);
  EXPECT_EQ(od.max_ejection_percent(), 10u);

  const v1::BackendPool& ring = c.pools(2);
  EXPECT_EQ(ring.hash_key().header(), "x-user");
  EXPECT_FALSE(ring.has_maglev_table_size());
  EXPECT_TRUE(ring.health_check().has_tcp());
}

TEST(NormalizeTest, FillDefaultsIsIdempotent) {
  v1::Config once = BaseConfig();
  FillDefaults(&once);
  v1::Config twice = once;
  FillDefaults(&twice);
  EXPECT_EQ(CanonicalBytes(once), CanonicalBytes(twice));
}

TEST(NormalizeTest, CanonicalBytesIgnoreOrderVersionAndSpelledOutDefaults) {
  v1::Config a = BaseConfig();
  v1::Config b = BaseConfig();
  // Reverse the pools and spell out a default.
  b.mutable_pools()->SwapElements(0, 2);
  b.mutable_pools(0)->mutable_connect_timeout()->set_seconds(5);
  b.set_version(42);
  for (v1::Config* c : {&a, &b}) {
    FillDefaults(c);
    SortByName(c);
  }
  EXPECT_EQ(CanonicalBytes(a), CanonicalBytes(b));
  b.mutable_pools(0)->mutable_connect_timeout()->set_seconds(6);
  EXPECT_NE(CanonicalBytes(a), CanonicalBytes(b));
}

TEST(NormalizeTest, SortKeepsRouteAndEndpointOrder) {
  v1::Config c = BaseConfig();
  SortByName(&c);
  EXPECT_EQ(c.listeners(0).name(), "tcp-in");
  EXPECT_EQ(c.listeners(1).name(), "web");
  EXPECT_EQ(c.pools(0).name(), "api");
  EXPECT_EQ(c.pools(1).name(), "api-canary");
  EXPECT_EQ(c.pools(2).name(), "db");
  EXPECT_EQ(c.route_tables(0).routes(0).name(), "api");
  EXPECT_EQ(c.route_tables(0).routes(1).name(), "default");
  EXPECT_EQ(c.pools(0).endpoints(0).address(), "10.0.1.1");
}

TEST(NormalizeTest, DiffNamesCreatedUpdatedDeletedByKindThenName) {
  v1::Config from = BaseConfig();
  v1::Config to = BaseConfig();
  to.mutable_pools(2)->set_lb_policy(v1::BackendPool::RANDOM);  // db updated
  to.mutable_pools()->DeleteSubrange(1, 1);                     // api-canary
  to.mutable_route_tables(0)
      ->mutable_routes(0)
      ->mutable_action()
      ->clear_weighted_pools();
  to.mutable_route_tables(0)
      ->mutable_routes(0)
      ->mutable_action()
      ->add_weighted_pools()
      ->set_pool("api");
  v1::Listener* l = to.add_listeners();
  l->set_name("admin");
  std::vector<v1::ResourceChange> changes = DiffConfigs(from, to);
  ASSERT_EQ(changes.size(), 4u);
  auto expect = [&](size_t i, v1::Kind kind, const char* name,
                    v1::ResourceChange::Op op) {
    EXPECT_EQ(changes[i].kind(), kind) << i;
    EXPECT_EQ(changes[i].name(), name) << i;
    EXPECT_EQ(changes[i].op(), op) << i;
  };
  expect(0, v1::LISTENER, "admin", v1::ResourceChange::CREATED);
  expect(1, v1::ROUTE_TABLE, "main", v1::ResourceChange::UPDATED);
  expect(2, v1::POOL, "api-canary", v1::ResourceChange::DELETED);
  expect(3, v1::POOL, "db", v1::ResourceChange::UPDATED);
  EXPECT_TRUE(DiffConfigs(from, from).empty());
}

TEST(NormalizeTest, SessionTicketChangesAreReportedAsOneUpdate) {
  v1::Config from;
  FillDefaults(&from);
  v1::Config to = from;
  EXPECT_TRUE(DiffConfigs(from, to).empty());
  to.mutable_session_tickets()->set_disabled(true);
  std::vector<v1::ResourceChange> changes = DiffConfigs(from, to);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].kind(), v1::SESSION_TICKETS);
  EXPECT_EQ(changes[0].name(), kSessionTicketsName);
  EXPECT_EQ(changes[0].op(), v1::ResourceChange::UPDATED);
}

TEST(NormalizeTest, SharedCertificatesSortByNameInlineOnesAndRefsKeepOrder) {
  v1::Config c = BaseConfig();
  c.add_certificates()->set_name("zz");
  c.add_certificates()->set_name("aa");
  v1::ListenerTls* t = c.mutable_listeners(0)->mutable_tls();
  t->add_certificates()->set_name("second");
  t->add_certificates()->set_name("first");
  t->add_certificate_refs("zz");
  t->add_certificate_refs("aa");
  SortByName(&c);
  EXPECT_EQ(c.certificates(0).name(), "aa");
  EXPECT_EQ(c.certificates(1).name(), "zz");
  const v1::ListenerTls& sorted = c.listeners(1).tls();  // "web"
  EXPECT_EQ(sorted.certificates(0).name(), "second");
  EXPECT_EQ(sorted.certificate_refs(0), "zz");
}

TEST(NormalizeTest, DiffReportsCertificatesAfterPools) {
  v1::Config from = BaseConfig();
  v1::Certificate* www = from.add_certificates();
  www->set_name("www");
  www->set_cert_chain_pem("v1");
  from.add_certificates()->set_name("old");
  SortByName(&from);
  v1::Config to = from;
  to.mutable_certificates(1)->set_cert_chain_pem("v2");  // www rotated
  to.mutable_certificates()->DeleteSubrange(0, 1);       // old
  to.add_certificates()->set_name("new");
  to.mutable_pools(0)->set_lb_policy(v1::BackendPool::RANDOM);
  SortByName(&to);
  std::vector<v1::ResourceChange> changes = DiffConfigs(from, to);
  ASSERT_EQ(changes.size(), 4u);
  EXPECT_EQ(changes[0].kind(), v1::POOL);
  EXPECT_EQ(changes[1].kind(), v1::CERTIFICATE);
  EXPECT_EQ(changes[1].name(), "new");
  EXPECT_EQ(changes[1].op(), v1::ResourceChange::CREATED);
  EXPECT_EQ(changes[2].name(), "old");
  EXPECT_EQ(changes[2].op(), v1::ResourceChange::DELETED);
  EXPECT_EQ(changes[3].name(), "www");
  EXPECT_EQ(changes[3].op(), v1::ResourceChange::UPDATED);
}

}  // namespace
}  // namespace locus::proxy::control
