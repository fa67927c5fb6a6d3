#include "proxy/control/validate.h"

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "api/secrets.h"
#include "proxy/control/normalize.h"
#include "proxy/control/test_configs.h"
#include "proxy/tls/cert_util.h"
#include "proxy/tls/test_certs.h"

namespace locus::proxy::control {
namespace {

namespace v1 = api::v1;
using testing::BaseConfig;
using ::testing::HasSubstr;
using ::testing::Not;

absl::Status Check(v1::Config config) {
  FillDefaults(&config);
  return ValidateConfig(config, IndexPaths(config, ""));
}

void ExpectError(const v1::Config& config, const std::string& needle) {
  absl::Status status = Check(config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << needle;
  EXPECT_THAT(std::string(status.message()), HasSubstr(needle));
}

void ExpectOk(const v1::Config& config) {
  absl::Status status = Check(config);
  EXPECT_TRUE(status.ok()) << status;
}

TEST(ValidateTest, BaseConfigIsValid) { ExpectOk(BaseConfig()); }

TEST(ValidateTest, EmptyConfigIsValid) { ExpectOk(v1::Config()); }

TEST(ValidateTest, EndpointPortNamesFieldPath) {
  v1::Config c = BaseConfig();
  c.mutable_pools(1)->mutable_endpoints(0)->set_port(0);
  ExpectError(c, "pools[1].endpoints[0].port: required: 1..65535");
  c.mutable_pools(1)->mutable_endpoints(0)->set_port(65536);
  ExpectError(c, "pools[1].endpoints[0].port: 65536 must be 1..65535");
  c.mutable_pools(1)->mutable_endpoints(0)->set_port(65535);
  ExpectOk(c);
}

TEST(ValidateTest, ReferencesMustExist) {
  v1::Config c = BaseConfig();
  c.mutable_listeners(0)->set_route_table("nope");
  ExpectError(c,
              "listeners[0].route_table: route table \"nope\" does not exist");

  c = BaseConfig();
  c.mutable_listeners(1)->set_pool("gone");
  ExpectError(c, "listeners[1].pool: pool \"gone\" does not exist");

  c = BaseConfig();
  c.mutable_route_tables(0)
      ->mutable_routes(1)
      ->mutable_action()
      ->mutable_weighted_pools(0)
      ->set_pool("gone");
  ExpectError(c,
              "route_tables[0].routes[1].action.weighted_pools[0].pool: pool "
              "\"gone\" does not exist");
}

TEST(ValidateTest, NamesAreUniqueDnsLabels) {
  v1::Config c = BaseConfig();
  c.mutable_pools(2)->set_name("api");
  ExpectError(c, "pools[2].name: \"api\" is already used by pools[0]");

  c = BaseConfig();
  c.mutable_listeners(1)->set_name("web");
  ExpectError(c, "listeners[1].name: \"web\" is already used by listeners[0]");

  c = BaseConfig();
  c.mutable_route_tables(0)->mutable_routes(1)->set_name("api");
  ExpectError(c,
              "route_tables[0].routes[1].name: \"api\" is already used by "
              "route_tables[0].routes[0]");

  for (const char* bad : {"Web", "-web", "web-", "we_b", "web.1"}) {
    c = BaseConfig();
    c.mutable_listeners(0)->set_name(bad);
    ExpectError(c, absl::StrCat("listeners[0].name: \"", bad,
                                "\" must be a DNS label"));
  }
  c = BaseConfig();
  c.mutable_listeners(0)->set_name("");
  ExpectError(c, "listeners[0].name: required");

  c = BaseConfig();
  c.mutable_listeners(0)->set_name(std::string(kMaxNameLength, 'a'));
  ExpectOk(c);
  c.mutable_listeners(0)->set_name(std::string(kMaxNameLength + 1, 'a'));
  ExpectError(
      c, "listeners[0].name: \"aaaaaaaaaaaaaaaaaaaa\"... is 64 characters");
}

TEST(ValidateTest, ListenerAddressesMustNotClash) {
  v1::Config c = BaseConfig();
  v1::Listener* l = c.add_listeners();
  l->set_name("web2");
  l->set_address("10.0.0.7");
  l->set_port(80);
  l->set_route_table("main");
  ExpectError(c,
              "listeners[2].port: 10.0.0.7:80 clashes with listeners[0] "
              "(\"web\" on 0.0.0.0:80)");
  l->set_port(81);
  ExpectOk(c);
  // Two specific addresses may share a port.
  c.mutable_listeners(1)->set_port(81);
  c.mutable_listeners(1)->set_address("10.0.0.8");
  ExpectOk(c);
  c.mutable_listeners(1)->set_address("10.0.0.7");
  ExpectError(c, "clashes with listeners[1]");
}

TEST(ValidateTest, AddressesAreStrictIpv4) {
  for (const char* bad : {"256.0.0.1", "10.0.0", "010.0.0.1", "10.0.0.1.2",
                          "10.0.0.x", " 10.0.0.1", "::1"}) {
    v1::Config c = BaseConfig();
    c.mutable_listeners(1)->set_address(bad);
    ExpectError(c, absl::StrCat("listeners[1].address: \"", bad,
                                "\" is not an IPv4 address"));
  }
  v1::Config c = BaseConfig();
  c.mutable_pools(0)->mutable_endpoints(0)->set_address("backend.local");
  ExpectError(c,
              "pools[0].endpoints[0].address: \"backend.local\" is not an "
              "IPv4 address (a.b.c.d); the data plane resolves no host names");
  for (const char* bad : {"0.0.0.0", "255.255.255.255", "224.0.0.1"}) {
    c = BaseConfig();
    c.mutable_pools(0)->mutable_endpoints(0)->set_address(bad);
    ExpectError(c, "cannot be a backend");
  }
  c = BaseConfig();
  c.mutable_pools(0)->mutable_endpoints(1)->set_address("10.0.1.1");
  ExpectError(c,
              "pools[0].endpoints[1]: 10.0.1.1:8080 is already listed at "
              "pools[0].endpoints[0]");
}

TEST(ValidateTest, RegexesMustCompile) {
  v1::Config c = BaseConfig();
  c.mutable_route_tables(0)->mutable_routes(0)->mutable_match()->set_regex(
      "/api/(v1|v2");
  ExpectError(c,
              "route_tables[0].routes[0].match.regex: invalid RE2 regex: "
              "missing ): /api/(v1|v2");
  c.mutable_route_tables(0)->mutable_routes(0)->mutable_match()->set_regex(
      "/api/(v1|v2)/.*");
  ExpectOk(c);
  // RE2 has no backreferences: it guarantees linear-time matching.
  c.mutable_route_tables(0)->mutable_routes(0)->mutable_match()->set_regex(
      "/(a)\\1");
  ExpectError(c, "invalid RE2 regex");

  c = BaseConfig();
  c.mutable_route_tables(0)
      ->mutable_routes(0)
      ->mutable_match()
      ->mutable_headers(0)
      ->set_regex("[");
  ExpectError(c,
              "route_tables[0].routes[0].match.headers[0].regex: invalid RE2");

  c = BaseConfig();
  c.mutable_route_tables(0)->mutable_routes(0)->mutable_match()->set_regex(
      std::string(kMaxRegexLength + 1, 'a'));
  ExpectError(c, "characters; at most 1024");
  c.mutable_route_tables(0)->mutable_routes(0)->mutable_match()->set_regex(
      "[a-c]{1000}[d-f]{1000}");
  ExpectError(c, "regex too complex");
}

TEST(ValidateTest, WeightsAreBoundedAndNotAllZero) {
  v1::Config c = BaseConfig();
  v1::RouteAction* action =
      c.mutable_route_tables(0)->mutable_routes(0)->mutable_action();
  action->mutable_weighted_pools(0)->set_weight(0);
  ExpectOk(c);  // shifting traffic: one pool at 0 is fine
  action->mutable_weighted_pools(1)->set_weight(0);
  ExpectError(c,
              "route_tables[0].routes[0].action.weighted_pools: every weight "
              "is 0");
  action->mutable_weighted_pools(1)->set_weight(kMaxWeight);
  ExpectOk(c);
  action->mutable_weighted_pools(1)->set_weight(kMaxWeight + 1);
  ExpectError(c, "weighted_pools[1].weight: 10001 must be 0..10000");

  c = BaseConfig();
  c.mutable_pools(0)->mutable_endpoints(0)->set_weight(kMaxWeight + 1);
  ExpectError(c, "pools[0].endpoints[0].weight: 10001 must be 0..10000");

  c = BaseConfig();
  c.mutable_route_tables(0)
      ->mutable_routes(1)
      ->mutable_action()
      ->clear_weighted_pools();
  ExpectError(c, "route_tables[0].routes[1].action.weighted_pools: required");
}

TEST(ValidateTest, MaglevTableSizeIsABoundedPrime) {
  v1::Config c = BaseConfig();
  v1::BackendPool* pool = c.mutable_pools(0);
  pool->set_maglev_table_size(65536);
  ExpectError(c, "pools[0].maglev_table_size: 65536 must be a prime");
  pool->set_maglev_table_size(kMinMaglevTableSize);  // 251 is prime
  ExpectOk(c);
  pool->set_maglev_table_size(241);
  ExpectError(c, "pools[0].maglev_table_size: 241 must be 251..5000011");
  pool->set_maglev_table_size(kMaxMaglevTableSize);  // 5000011 is prime
  ExpectOk(c);
  pool->set_maglev_table_size(kMaxMaglevTableSize + 1);
  ExpectError(c, "must be 251..5000011");

  c = BaseConfig();
  c.mutable_pools(1)->set_maglev_table_size(65537);
  ExpectError(c, "pools[1].maglev_table_size: only for MAGLEV pools");
  c = BaseConfig();
  c.mutable_pools(1)->mutable_hash_key()->set_header("x-user");
  ExpectError(c, "pools[1].hash_key: only for MAGLEV and RING_HASH pools");

  c = BaseConfig();
  c.mutable_pools(2)->set_lb_policy(v1::BackendPool::RING_HASH);
  c.mutable_pools(2)->mutable_hash_key()->set_header("x-user");
  ExpectError(c,
              "listeners[1].pool: pool \"db\" hashes on header \"x-user\", "
              "but TCP connections have no headers");
  c.mutable_pools(2)->mutable_hash_key()->set_client_ip(true);
  ExpectOk(c);

  c = BaseConfig();
  c.mutable_pools(0)->mutable_hash_key()->set_client_ip(false);
  ExpectError(c, "pools[0].hash_key.client_ip: must be true");
}

TEST(ValidateTest, DurationsAreNonNegativeAndSane) {
  v1::Config c = BaseConfig();
  c.mutable_listeners(0)->mutable_drain_timeout()->set_seconds(-1);
  ExpectError(c, "listeners[0].drain_timeout: must not be negative");

  c = BaseConfig();
  c.mutable_listeners(0)->mutable_drain_timeout()->set_seconds(0);
  ExpectOk(c);  // close at once
  c.mutable_listeners(0)->mutable_drain_timeout()->set_seconds(
      kMaxDurationSeconds);
  ExpectOk(c);
  c.mutable_listeners(0)->mutable_drain_timeout()->set_seconds(
      kMaxDurationSeconds + 1);
  ExpectError(c, "listeners[0].drain_timeout: 31536001s is longer than");

  c = BaseConfig();
  c.mutable_pools(2)->mutable_connect_timeout()->set_seconds(0);
  ExpectError(c, "pools[2].connect_timeout: must be more than 0s");

  c = BaseConfig();
  c.mutable_pools(0)->mutable_health_check()->mutable_timeout()->set_seconds(
      10);
  ExpectError(c,
              "pools[0].health_check.timeout: 10s is longer than interval 5s");

  c = BaseConfig();
  v1::RouteAction* action =
      c.mutable_route_tables(0)->mutable_routes(0)->mutable_action();
  action->mutable_timeout()->set_seconds(1);
  ExpectError(c,
              "route_tables[0].routes[0].action.retry.per_try_timeout: 2s is "
              "longer than the route timeout 1s");
  action->mutable_timeout()->set_seconds(0);  // no route limit
  ExpectOk(c);

  c = BaseConfig();
  v1::OutlierDetection* od = c.mutable_pools(0)->mutable_outlier_detection();
  od->mutable_base_ejection_time()->set_seconds(60);
  od->mutable_max_ejection_time()->set_seconds(30);
  ExpectError(c,
              "pools[0].outlier_detection.max_ejection_time: 30s is shorter "
              "than base_ejection_time 60s");
}

TEST(ValidateTest, ProtocolDecidesTargetAndLimits) {
  v1::Config c = BaseConfig();
  c.mutable_listeners(0)->set_pool("db");
  ExpectError(c, "listeners[0].pool: only for TCP listeners");

  c = BaseConfig();
  c.mutable_listeners(1)->set_route_table("main");
  ExpectError(c, "listeners[1].route_table: only for HTTP listeners");

  c = BaseConfig();
  c.mutable_listeners(1)->clear_pool();
  ExpectError(c, "listeners[1].pool: required for TCP listeners");

  c = BaseConfig();
  c.mutable_listeners(1)
      ->mutable_limits()
      ->mutable_header_timeout()
      ->set_seconds(5);
  ExpectError(c, "listeners[1].limits.header_timeout: only for HTTP listeners");

  c = BaseConfig();
  v1::ListenerLimits* limits = c.mutable_listeners(0)->mutable_limits();
  limits->set_max_request_header_bytes(kMinRequestHeaderBytes - 1);
  ExpectError(c,
              "listeners[0].limits.max_request_header_bytes: 1023 must be "
              "1024..1048576");
  limits->set_max_request_header_bytes(kMinRequestHeaderBytes);
  ExpectOk(c);
  limits->set_max_request_header_bytes(kMaxRequestHeaderBytes);
  ExpectOk(c);
  limits->set_max_request_header_bytes(kMaxRequestHeaderBytes + 1);
  ExpectError(c, "1048577 must be 1024..1048576");

  c = BaseConfig();
  c.mutable_listeners(0)->set_protocol(static_cast<v1::Listener::Protocol>(9));
  ExpectError(c, "listeners[0].protocol: unknown value 9");
}

TEST(ValidateTest, MatchesAreChecked) {
  v1::Config c = BaseConfig();
  v1::RouteMatch* m =
      c.mutable_route_tables(0)->mutable_routes(0)->mutable_match();
  m->set_host("example.com:8080");
  ExpectError(c,
              "route_tables[0].routes[0].match.host: \"example.com:8080\" "
              "must be a host name");
  m->set_host("*.");
  ExpectError(c, "match.host: \"*.\"");
  m->set_host("*");  // any host
  ExpectOk(c);
  m->set_host("API.Example.com");  // lower-cased by FillDefaults
  ExpectOk(c);

  m->set_prefix("api");
  ExpectError(
      c, "route_tables[0].routes[0].match.prefix: \"api\" must start with '/'");
  m->set_exact("/a b");
  ExpectError(c, "match.exact: \"/a b\" must not contain spaces");
  m->set_exact("/a");

  m->add_methods("GET");
  ExpectError(
      c, "route_tables[0].routes[0].match.methods[2]: \"GET\" is listed twice");
  m->set_methods(2, "GE T");
  ExpectError(c, "match.methods[2]: \"GE T\" is not an HTTP method token");
  m->mutable_methods()->RemoveLast();

  m->mutable_headers(0)->set_name("");
  ExpectError(c, "match.headers[0].name: required");
  m->mutable_headers(0)->set_name("x-a");
  m->mutable_headers(0)->set_exact("a\r\nb");
  ExpectError(c, "match.headers[0].exact: must not contain CR, LF or NUL");
}

TEST(ValidateTest, RetriesAreBounded) {
  v1::Config c = BaseConfig();
  v1::RetryPolicy* r = c.mutable_route_tables(0)
                           ->mutable_routes(0)
                           ->mutable_action()
                           ->mutable_retry();
  r->set_num_retries(kMaxRetries);
  ExpectOk(c);
  r->set_num_retries(kMaxRetries + 1);
  ExpectError(c, "action.retry.num_retries: 11 must be 0..10");
  r->set_num_retries(1);
  r->set_budget_percent(101);
  ExpectError(c, "action.retry.budget_percent: 101 must be 0..100");
  r->set_budget_percent(100);
  r->add_retry_on(v1::RetryPolicy::HTTP_5XX);
  ExpectError(c, "action.retry.retry_on[2]: HTTP_5XX is listed twice");
}

TEST(ValidateTest, ReportsEveryProblemUpToACap) {
  v1::Config c = BaseConfig();
  c.mutable_listeners(0)->set_port(0);
  c.mutable_pools(0)->mutable_endpoints(0)->set_port(0);
  absl::Status status = Check(c);
  EXPECT_THAT(std::string(status.message()), HasSubstr("listeners[0].port"));
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("\npools[0].endpoints[0].port"));

  c = v1::Config();
  for (int i = 0; i < 25; ++i) c.add_listeners();  // each lacks name and port
  status = Check(c);
  std::string message(status.message());
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'),
            static_cast<long>(kMaxReportedErrors));
  EXPECT_THAT(message, HasSubstr("... and 55 more problems"));
}

TEST(ValidateTest, CountsAreBounded) {
  v1::Config c;
  v1::RouteTable* t = c.add_route_tables();
  t->set_name("t");
  v1::BackendPool* p = c.add_pools();
  p->set_name("p");
  for (int i = 0; i < kMaxListeners; ++i) {
    v1::Listener* l = c.add_listeners();
    l->set_name(absl::StrCat("l", i));
    l->set_port(1000 + i);
    l->set_route_table("t");
  }
  ExpectOk(c);
  v1::Listener* extra = c.add_listeners();
  extra->set_name("extra");
  extra->set_port(80);
  extra->set_route_table("t");
  ExpectError(c, "listeners: 1025 listeners; at most 1024");

  c = v1::Config();
  p = c.add_pools();
  p->set_name("p");
  for (int i = 0; i < kMaxEndpointsPerPool; ++i) {
    v1::Endpoint* e = p->add_endpoints();
    e->set_address(absl::StrCat("10.1.", i / 250, ".", 1 + i % 250));
    e->set_port(80);
  }
  ExpectOk(c);
  v1::Endpoint* e = p->add_endpoints();
  e->set_address("10.2.0.1");
  e->set_port(80);
  ExpectError(c, "pools[0].endpoints: 10001 endpoints; at most 10000");
}

TEST(ValidateTest, Helpers) {
  uint32_t ip = 0;
  EXPECT_TRUE(ParseIpv4("10.1.2.3", &ip));
  EXPECT_EQ(ip, 0x0a010203u);
  EXPECT_TRUE(ParseIpv4("0.0.0.0", &ip));
  EXPECT_EQ(ip, 0u);
  EXPECT_TRUE(ParseIpv4("255.255.255.255", &ip));
  EXPECT_FALSE(ParseIpv4("", &ip));
  EXPECT_FALSE(ParseIpv4("1.2.3.", &ip));
  EXPECT_FALSE(ParseIpv4("1.2.3.0004", &ip));

  EXPECT_TRUE(IsPrime(2));
  EXPECT_TRUE(IsPrime(65537));
  EXPECT_TRUE(IsPrime(5000011));
  EXPECT_FALSE(IsPrime(1));
  EXPECT_FALSE(IsPrime(65536));
  EXPECT_FALSE(IsPrime(251 * 251));

  EXPECT_TRUE(IsDnsLabel("a"));
  EXPECT_TRUE(IsDnsLabel("web-1"));
  EXPECT_FALSE(IsDnsLabel(""));
  EXPECT_FALSE(IsDnsLabel("Web"));
}

TEST(ValidateTest, ReferrersAreNamed) {
  v1::Config c = BaseConfig();
  FillDefaults(&c);
  EXPECT_THAT(PoolReferrers(c, "api"),
              ::testing::ElementsAre("route table \"main\" route \"api\"",
                                     "route table \"main\" route \"default\""));
  EXPECT_THAT(PoolReferrers(c, "db"),
              ::testing::ElementsAre("listener \"tcp-in\""));
  EXPECT_THAT(RouteTableReferrers(c, "main"),
              ::testing::ElementsAre("listener \"web\""));
  EXPECT_TRUE(PoolReferrers(c, "nothing").empty());
}


// ---- TLS listeners ----------------------------------------------------------

namespace tls_test {

namespace tt = ::locus::proxy::tls::testing;

struct Pem {
  std::string chain;
  std::string key;
};

Pem Issue(const tt::TestPki& pki, const std::string& host, absl::Time not_before,
          absl::Time not_after) {
  tt::CertSpec spec;
  spec.common_name = host;
  spec.dns_names = {host};
  spec.not_before = not_before;
  spec.not_after = not_after;
  tt::TestPki::Leaf leaf = pki.Issue(spec);
  return {leaf.chain_pem, leaf.key_pem};
}

v1::Certificate* AddCert(v1::Config& c, const std::string& name, const Pem& pem) {
  v1::Certificate* cert = c.mutable_listeners(0)->mutable_tls()->add_certificates();
  cert->set_name(name);
  cert->set_cert_chain_pem(pem.chain);
  cert->set_private_key_pem(pem.key);
  return cert;
}

class ValidateTlsTest : public ::testing::Test {
 protected:
  absl::Time now_ = absl::Now();
  tt::TestPki pki_{now_};
  Pem good_ = Issue(pki_, "www.example.com", now_ - absl::Hours(1), now_ + absl::Hours(24 * 365));
  Pem other_ = Issue(pki_, "api.example.com", now_ - absl::Hours(1), now_ + absl::Hours(24 * 365));
};

TEST_F(ValidateTlsTest, GoodCertificatesAreAccepted) {
  v1::Config c = BaseConfig();
  AddCert(c, "www", good_);
  AddCert(c, "api", other_);
  c.mutable_listeners(0)->mutable_tls()->set_default_certificate("www");
  c.mutable_listeners(0)->mutable_tls()->set_min_version(v1::ListenerTls::TLS1_3);
  ExpectOk(c);
}

TEST_F(ValidateTlsTest, MinVersionDefaultsToTls12) {
  v1::Config c = BaseConfig();
  AddCert(c, "www", good_);
  FillDefaults(&c);
  EXPECT_EQ(c.listeners(0).tls().min_version(), v1::ListenerTls::TLS1_2);
}

TEST_F(ValidateTlsTest, KeyMismatchNamesTheKeyField) {
  v1::Config c = BaseConfig();
  AddCert(c, "www", good_);
  // A key of another certificate: both are P-256, neither matches.
  tls::EvpPkeyPtr stranger = tt::MakeEcKey("P-256");
  AddCert(c, "api", {other_.chain, tt::ToPem(stranger.get())});
  ExpectError(c, "listeners[0].tls.certificates[1].private_key_pem: does not match the leaf");
}

TEST_F(ValidateTlsTest, ExpiredIsRejected) {
  v1::Config c = BaseConfig();
  AddCert(c, "old", Issue(pki_, "old.example.com", now_ - absl::Hours(48), now_ - absl::Hours(1)));
  ExpectError(c, "listeners[0].tls.certificates[0].cert_chain_pem: ");
  ExpectError(c, "expired on");
}

TEST_F(ValidateTlsTest, NotYetValidIsRejected) {
  v1::Config c = BaseConfig();
  AddCert(c, "early",
          Issue(pki_, "early.example.com", now_ + absl::Hours(48), now_ + absl::Hours(24 * 90)));
  ExpectError(c, "listeners[0].tls.certificates[0].cert_chain_pem: ");
  ExpectError(c, "is not valid until");
}

TEST_F(ValidateTlsTest, GarbagePemIsRejected) {
  v1::Config c = BaseConfig();
  AddCert(c, "junk", {"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
                      "hello"});
  absl::Status s = Check(c);
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("listeners[0].tls.certificates[0].cert_chain_pem: "));
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("listeners[0].tls.certificates[0].private_key_pem: "));
  // The key text is never echoed.
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("hello")));
}

TEST_F(ValidateTlsTest, ExpiringSoonIsAcceptedWithAWarning) {
  v1::Config c = BaseConfig();
  AddCert(c, "soon", Issue(pki_, "soon.example.com", now_ - absl::Hours(1), now_ + absl::Hours(24 * 10)));
  FillDefaults(&c);
  std::vector<std::string> warnings;
  ValidateOptions options;
  options.now = now_;
  options.warnings = &warnings;
  absl::Status s = ValidateConfig(c, IndexPaths(c, ""), options);
  EXPECT_TRUE(s.ok()) << s;
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("listeners[0].tls.certificates[0].cert_chain_pem: "));
  EXPECT_THAT(warnings[0], HasSubstr("expires on"));
}

TEST_F(ValidateTlsTest, ExpiredCertificateInServiceOnlyWarns) {
  v1::Config c = BaseConfig();
  AddCert(c, "old", Issue(pki_, "old.example.com", now_ - absl::Hours(48), now_ - absl::Hours(1)));
  FillDefaults(&c);
  // Already applied before (it was valid then): an unrelated change passes.
  std::vector<std::string> warnings;
  ValidateOptions options;
  options.previous = &c;
  options.warnings = &warnings;
  EXPECT_TRUE(ValidateConfig(c, IndexPaths(c, ""), options).ok());
  EXPECT_EQ(warnings.size(), 1u);
  // A stored config (restart) likewise.
  ValidateOptions stored;
  stored.reject_expired = false;
  EXPECT_TRUE(ValidateConfig(c, IndexPaths(c, ""), stored).ok());
}

TEST_F(ValidateTlsTest, StructureErrors) {
  v1::Config c = BaseConfig();
  c.mutable_listeners(0)->mutable_tls();
  ExpectError(c, "listeners[0].tls.certificates: at least one certificate is required");

  c = BaseConfig();
  AddCert(c, "www", good_);
  AddCert(c, "www", other_);
  ExpectError(c, "listeners[0].tls.certificates[1].name: duplicate certificate name");

  c = BaseConfig();
  AddCert(c, "www", good_);
  c.mutable_listeners(0)->mutable_tls()->set_default_certificate("nope");
  ExpectError(c, "listeners[0].tls.default_certificate: \"nope\" is not the name");

  c = BaseConfig();
  AddCert(c, "www", {"", ""});
  ExpectError(c, "listeners[0].tls.certificates[0].cert_chain_pem: required");

  c = BaseConfig();
  AddCert(c, "www", good_);
  c.mutable_listeners(0)->mutable_tls()->set_cipher_list("ALL:!aNULL");
  ExpectError(c, "listeners[0].tls.cipher_list: ");
  c.mutable_listeners(0)->mutable_tls()->set_cipher_list("ECDHE-ECDSA-AES128-GCM-SHA256");
  c.mutable_listeners(0)->mutable_tls()->set_ciphersuites("TLS_AES_128_CCM_SHA256");
  ExpectError(c, "listeners[0].tls.ciphersuites: ");
  c.mutable_listeners(0)->mutable_tls()->set_ciphersuites("TLS_AES_256_GCM_SHA384");
  ExpectOk(c);

  // TCP listeners do not terminate TLS.
  c = BaseConfig();
  c.mutable_listeners(1)->mutable_tls()->add_certificates()->set_name("x");
  ExpectError(c, "listeners[1].tls: only for HTTP listeners");
}


// ---- shared certificates and certificate_refs

v1::Certificate* AddShared(v1::Config& c, const std::string& name, const Pem& pem) {
  v1::Certificate* cert = c.add_certificates();
  cert->set_name(name);
  cert->set_cert_chain_pem(pem.chain);
  cert->set_private_key_pem(pem.key);
  return cert;
}

void AddRef(v1::Config& c, const std::string& name) {
  c.mutable_listeners(0)->mutable_tls()->add_certificate_refs(name);
}

TEST_F(ValidateTlsTest, SharedCertificatesAndRefsAreAccepted) {
  v1::Config c = BaseConfig();
  AddShared(c, "www", good_);
  AddShared(c, "staged", other_);  // referenced by nobody: allowed
  AddRef(c, "www");
  AddCert(c, "api", other_);
  c.mutable_listeners(0)->mutable_tls()->set_default_certificate("www");
  ExpectOk(c);
  // A listener with only references is a TLS listener too.
  c.mutable_listeners(0)->mutable_tls()->clear_certificates();
  ExpectOk(c);
}

TEST_F(ValidateTlsTest, SharedCertificatesGetTheSamePemChecks) {
  v1::Config c = BaseConfig();
  tls::EvpPkeyPtr stranger = tt::MakeEcKey("P-256");
  AddShared(c, "www", good_)->set_private_key_pem(tt::ToPem(stranger.get()));
  ExpectError(c, "certificates[0].private_key_pem: does not match the leaf");

  c = BaseConfig();
  AddShared(c, "old", Issue(pki_, "old.example.com", now_ - absl::Hours(48), now_ - absl::Hours(1)));
  ExpectError(c, "certificates[0].cert_chain_pem: ");
  ExpectError(c, "expired on");

  c = BaseConfig();
  AddShared(c, "early",
            Issue(pki_, "early.example.com", now_ + absl::Hours(48), now_ + absl::Hours(24 * 90)));
  ExpectError(c, "certificates[0].cert_chain_pem: ");
  ExpectError(c, "is not valid until");

  c = BaseConfig();
  AddShared(c, "junk", {"garbage", "secret-key-text"});
  absl::Status s = Check(c);
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("certificates[0].cert_chain_pem: "));
  EXPECT_THAT(std::string(s.message()), HasSubstr("certificates[0].private_key_pem: "));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("secret-key-text")));

  c = BaseConfig();
  AddShared(c, "www", {"", ""});
  ExpectError(c, "certificates[0].cert_chain_pem: required");
  ExpectError(c, "certificates[0].private_key_pem: required");
}

TEST_F(ValidateTlsTest, SharedCertificateNames) {
  v1::Config c = BaseConfig();
  AddShared(c, "Bad_Name", good_);
  ExpectError(c, "certificates[0].name: \"Bad_Name\" must be a DNS label");
  c = BaseConfig();
  AddShared(c, "", good_);
  ExpectError(c, "certificates[0].name: required");
  c = BaseConfig();
  AddShared(c, "www", good_);
  AddShared(c, "www", other_);
  ExpectError(c, "certificates[1].name: \"www\" is already used by certificates[0]");
}

TEST_F(ValidateTlsTest, SharedExpiringSoonWarnsAndInServiceExpiredOnlyWarns) {
  v1::Config c = BaseConfig();
  AddShared(c, "soon", Issue(pki_, "soon.example.com", now_ - absl::Hours(1), now_ + absl::Hours(24 * 10)));
  FillDefaults(&c);
  std::vector<std::string> warnings;
  ValidateOptions options;
  options.now = now_;
  options.warnings = &warnings;
  EXPECT_TRUE(ValidateConfig(c, IndexPaths(c, ""), options).ok());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("certificates[0].cert_chain_pem: "));
  EXPECT_THAT(warnings[0], HasSubstr("expires on"));

  v1::Config expired = BaseConfig();
  AddShared(expired, "old", Issue(pki_, "old.example.com", now_ - absl::Hours(48), now_ - absl::Hours(1)));
  FillDefaults(&expired);
  warnings.clear();
  options.previous = &expired;  // it was running already
  EXPECT_TRUE(ValidateConfig(expired, IndexPaths(expired, ""), options).ok());
  EXPECT_EQ(warnings.size(), 1u);
  ValidateOptions stored;
  stored.reject_expired = false;
  EXPECT_TRUE(ValidateConfig(expired, IndexPaths(expired, ""), stored).ok());
}

TEST_F(ValidateTlsTest, RefsMustExistAndNamesAreUniqueAcrossInlineAndRefs) {
  v1::Config c = BaseConfig();
  AddRef(c, "nope");
  ExpectError(c, "listeners[0].tls.certificate_refs[0]: certificate \"nope\" does not exist in certificates");

  c = BaseConfig();
  AddShared(c, "www", good_);
  AddCert(c, "www", other_);
  AddRef(c, "www");
  ExpectError(c, "listeners[0].tls.certificate_refs[0]: duplicate certificate name \"www\" (already at listeners[0].tls.certificates[0])");

  c = BaseConfig();
  AddShared(c, "www", good_);
  AddRef(c, "www");
  AddRef(c, "www");
  ExpectError(c, "listeners[0].tls.certificate_refs[1]: duplicate certificate name \"www\"");

  c = BaseConfig();
  AddShared(c, "www", good_);
  AddRef(c, "");
  ExpectError(c, "listeners[0].tls.certificate_refs[0]: must name a certificate");

  // default_certificate may name a reference, but must name something.
  c = BaseConfig();
  AddShared(c, "www", good_);
  AddShared(c, "api", other_);
  AddRef(c, "www");
  c.mutable_listeners(0)->mutable_tls()->set_default_certificate("www");
  ExpectOk(c);
  c.mutable_listeners(0)->mutable_tls()->set_default_certificate("api");  // shared, not referenced
  ExpectError(c, "listeners[0].tls.default_certificate: \"api\" is not the name of one of certificates or certificate_refs");
}

TEST_F(ValidateTlsTest, ListenerCertificateLimitCountsInlineAndRefs) {
  v1::Config c = BaseConfig();
  AddCert(c, "inline", good_);
  for (int i = 0; i < kMaxListenerCertificates - 1; ++i) {
    std::string name = absl::StrCat("c", i);
    AddShared(c, name, good_);
    AddRef(c, name);
  }
  ExpectOk(c);  // at the limit
  AddShared(c, "one-more", good_);
  AddRef(c, "one-more");
  ExpectError(c, absl::StrCat("listeners[0].tls.certificates: ", kMaxListenerCertificates + 1,
                              " certificates (inline and references); at most ",
                              kMaxListenerCertificates));
}

TEST_F(ValidateTlsTest, SharedCertificateLimit) {
  // Unparsable PEM keeps this fast: the count is checked first, and at the
  // limit the only errors are about the (empty) PEM, not the count.
  v1::Config c = BaseConfig();
  for (int i = 0; i < kMaxSharedCertificates; ++i) {
    c.add_certificates()->set_name(absl::StrCat("c", i));
  }
  absl::Status s = Check(c);
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("at most")));
  c.add_certificates()->set_name("one-more");
  ExpectError(c, absl::StrCat("certificates: ", kMaxSharedCertificates + 1,
                              " certificates; at most ", kMaxSharedCertificates));
}

TEST_F(ValidateTlsTest, RedactedKeyWithNothingToRestoreIsAClearError) {
  v1::Config c = BaseConfig();
  AddShared(c, "www", good_)->set_private_key_pem(api::RedactedForm(good_.key));
  ExpectError(c, "certificates[0].private_key_pem: is a redacted key with no stored key");
}

TEST(ReferrersTest, CertificateReferrersNamesListeners) {
  v1::Config c = BaseConfig();
  c.mutable_listeners(0)->mutable_tls()->add_certificate_refs("www");
  EXPECT_EQ(CertificateReferrers(c, "www"),
            std::vector<std::string>{"listener \"web\""});
  EXPECT_TRUE(CertificateReferrers(c, "api").empty());
}

// The YAML form docs/tls.md shows: PEM as block scalars.
TEST_F(ValidateTlsTest, YamlWithBlockScalarPem) {
  auto indent = [](const std::string& pem) {
    std::string out;
    for (absl::string_view line : absl::StrSplit(pem, '\n', absl::SkipEmpty())) {
      absl::StrAppend(&out, "            ", line, "\n");
    }
    return out;
  };
  std::string yaml = absl::StrCat(R"(
listeners:
  - name: secure
    port: 443
    route_table: main
    tls:
      default_certificate: www
      min_version: TLS1_3
      certificates:
        - name: www
          cert_chain_pem: |
)", indent(good_.chain), "          private_key_pem: |\n", indent(good_.key), R"(
route_tables:
  - name: main
)");
  v1::Config c = testing::ParseConfigOrDie(yaml);
  ASSERT_EQ(c.listeners(0).tls().certificates_size(), 1);
  EXPECT_EQ(c.listeners(0).tls().certificates(0).cert_chain_pem(), good_.chain);
  EXPECT_EQ(c.listeners(0).tls().certificates(0).private_key_pem(), good_.key);
  EXPECT_EQ(c.listeners(0).tls().min_version(), v1::ListenerTls::TLS1_3);
  ExpectOk(c);
}

}  // namespace tls_test

// 80 bytes whose name (first 16) starts with `tag`.
std::string TicketKeyB64(char tag, size_t size = 80) {
  std::string bytes(size, '\x5a');
  bytes[0] = tag;
  return absl::Base64Escape(bytes);
}

TEST(ValidateTest, SessionTicketKeys) {
  v1::Config c = BaseConfig();
  v1::SessionTickets* st = c.mutable_session_tickets();
  st->add_keys(TicketKeyB64('a'));
  st->add_keys(TicketKeyB64('b', 48));
  ExpectOk(c);

  // At the limit and one past it.
  st->clear_keys();
  for (int i = 0; i < 8; ++i) st->add_keys(TicketKeyB64(static_cast<char>('a' + i)));
  ExpectOk(c);
  st->add_keys(TicketKeyB64('z'));
  ExpectError(c, "session_tickets.keys: 9 keys; at most 8");

  st->clear_keys();
  st->add_keys(TicketKeyB64('a'));
  st->add_keys("not base64!");
  ExpectError(c, "session_tickets.keys[1]: is not base64");

  st->clear_keys();
  st->add_keys(TicketKeyB64('a', 79));
  ExpectError(c, "session_tickets.keys: key 0: 79 bytes");

  st->clear_keys();
  st->add_keys(TicketKeyB64('a'));
  st->add_keys(TicketKeyB64('a', 48));
  absl::Status status = Check(c);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("session_tickets.keys: key 1: its name"));
  // The secret part never shows: only the (public) name may.
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr(TicketKeyB64('a'))));
  EXPECT_THAT(std::string(status.message()),
              Not(HasSubstr("5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a")));
}

TEST(ValidateTest, SessionTicketRotationInterval) {
  v1::Config c = BaseConfig();
  v1::SessionTickets* st = c.mutable_session_tickets();
  st->mutable_rotation_interval()->set_seconds(kMinTicketRotationSeconds);
  ExpectOk(c);
  st->mutable_rotation_interval()->set_seconds(kMinTicketRotationSeconds - 1);
  ExpectError(c, "session_tickets.rotation_interval: 59s must be 60s..86400s");
  st->mutable_rotation_interval()->set_seconds(kMaxTicketRotationSeconds);
  ExpectOk(c);
  st->mutable_rotation_interval()->set_seconds(kMaxTicketRotationSeconds + 1);
  ExpectError(c, "session_tickets.rotation_interval: ");

  st->mutable_rotation_interval()->set_seconds(600);
  st->add_keys(TicketKeyB64('a'));
  ExpectError(c, "session_tickets.rotation_interval: only for generated keys");

  // Normalize fills the default for generated keys only.
  v1::Config d = BaseConfig();
  FillDefaults(&d);
  EXPECT_EQ(d.session_tickets().rotation_interval().seconds(),
            kDefaultTicketRotationSeconds);
  d = BaseConfig();
  d.mutable_session_tickets()->add_keys(TicketKeyB64('a'));
  FillDefaults(&d);
  EXPECT_FALSE(d.session_tickets().has_rotation_interval());
  ExpectOk(d);
  d.mutable_session_tickets()->set_disabled(true);
  ExpectOk(d);
}

TEST(ValidateTest, UpstreamTls) {
  tls::testing::TestPki pki;
  v1::Config c = BaseConfig();
  // pools[1] ("api-canary"): used by HTTP routes only, no health check.
  v1::UpstreamTls* t = c.mutable_pools(1)->mutable_tls();
  t->set_ca_bundle_pem(pki.root_pem());
  ExpectOk(c);
  t->set_server_name("backend.example.com");
  t->set_min_version(v1::ListenerTls::TLS1_3);
  ExpectOk(c);

  for (const char* bad : {"Backend.example.com", "bad_name", "10.0.0.1", "a..b"}) {
    t->set_server_name(bad);
    ExpectError(c, "pools[1].tls.server_name: ");
  }
  t->set_server_name("");
  t->set_min_version(static_cast<v1::ListenerTls::Version>(9));
  ExpectError(c, "pools[1].tls.min_version: unknown value 9");
  t->set_min_version(v1::ListenerTls::TLS1_2);

  t->set_ca_bundle_pem("");
  ExpectError(c, "pools[1].tls.ca_bundle_pem: required");
  t->set_ca_bundle_pem("hello");
  ExpectError(c, "pools[1].tls.ca_bundle_pem: no PEM certificate");
  tls::testing::TestPki::Leaf leaf = pki.Issue({.common_name = "x"});
  t->set_ca_bundle_pem(pki.root_pem() + leaf.key_pem);
  ExpectError(c, "pools[1].tls.ca_bundle_pem: PEM block 2 is a private key");
}

TEST(ValidateTest, UpstreamCaBundleIsBounded) {
  tls::testing::TestPki pki;
  const std::string root = pki.root_pem();
  v1::Config c = BaseConfig();
  v1::UpstreamTls* t = c.mutable_pools(1)->mutable_tls();
  std::string bundle;
  for (int i = 0; i < tls::kMaxCaBundleCertificates; ++i) bundle += root;
  ASSERT_LE(bundle.size(), tls::kMaxCaBundleBytes);
  t->set_ca_bundle_pem(bundle);
  ExpectOk(c);
  t->set_ca_bundle_pem(bundle + root);
  ExpectError(c, "pools[1].tls.ca_bundle_pem: 101 certificates; at most 100");

  // Bytes: padding between blocks is allowed by PEM, so the byte bound is
  // reached with one certificate.
  std::string padded = root;
  padded += std::string(tls::kMaxCaBundleBytes - root.size(), '\n');
  ASSERT_EQ(padded.size(), tls::kMaxCaBundleBytes);
  t->set_ca_bundle_pem(padded);
  ExpectOk(c);
  t->set_ca_bundle_pem(padded + "\n");
  ExpectError(c, "pools[1].tls.ca_bundle_pem: 262145 bytes; at most 262144");
}

// What the data plane does not do over TLS yet is refused, naming it.
TEST(ValidateTest, UpstreamTlsRefusesWhatIsNotImplemented) {
  tls::testing::TestPki pki;
  // pools[0] ("api") has an HTTP health check.
  v1::Config c = BaseConfig();
  c.mutable_pools(0)->mutable_tls()->set_ca_bundle_pem(pki.root_pem());
  EXPECT_EQ(std::string(Check(c).message()),
            absl::StrCat("pools[0].health_check.http: ", kUpstreamTlsHealthCheckNotImplemented));
  // A TCP health check is fine.
  c.mutable_pools(0)->mutable_health_check()->mutable_tcp();
  ASSERT_FALSE(c.pools(0).health_check().has_http());
  ExpectOk(c);

  // pools[2] ("db") is used by TCP listener listeners[1] ("tcp-in").
  c = BaseConfig();
  ASSERT_EQ(c.listeners(1).pool(), "db");
  c.mutable_pools(2)->mutable_tls()->set_ca_bundle_pem(pki.root_pem());
  EXPECT_EQ(std::string(Check(c).message()),
            absl::StrCat("listeners[1].pool: pool \"db\" has tls: ",
                         kUpstreamTlsTcpNotImplemented));
}

}  // namespace
}  // namespace locus::proxy::control
