#include "proxy/control/control_plane.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "api/secrets.h"
#include "proxy/control/fake_data_plane.h"
#include "proxy/control/normalize.h"
#include "proxy/control/test_configs.h"
#include "proxy/tls/test_certs.h"

namespace locus::proxy::control {
namespace {

namespace v1 = api::v1;
using testing::BaseConfig;
using ::testing::HasSubstr;
using testing::ParseConfigOrDie;
using Next = WatchHub::Subscription::Next;

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

class ControlPlaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = absl::StrCat(
        tmp ? tmp : "/tmp", "/control_plane_test_",
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ::mkdir(dir_.c_str(), 0700);
    state_path_ = dir_ + "/config.json";
    for (const char* suffix : {"", ".last-good", ".corrupt", ".tmp"}) {
      ::unlink((state_path_ + suffix).c_str());
    }
  }

  std::unique_ptr<ControlPlane> Make(
      FakeDataPlane* dp, size_t watch_limit = 64,
      absl::Duration apply_wait_limit = kDefaultApplyWaitLimit) {
    ControlPlane::Options options;
    options.state_path = state_path_;
    options.watch_queue_limit = watch_limit;
    options.apply_wait_limit = apply_wait_limit;
    options.clock = [] { return kNow; };
    absl::StatusOr<std::unique_ptr<ControlPlane>> cp =
        ControlPlane::Create(options, dp);
    EXPECT_TRUE(cp.ok()) << cp.status();
    return cp.ok() ? *std::move(cp) : nullptr;
  }

  static v1::ApplyRequest ApplyConfig(const v1::Config& config) {
    v1::ApplyRequest request;
    *request.mutable_config() = config;
    return request;
  }

  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  std::string dir_;
  std::string state_path_;
  FakeDataPlane dp_{2, /*auto_apply=*/true};
};

TEST_F(ControlPlaneTest, StartsEmptyAtVersionZeroAndPublishesIt) {
  auto cp = Make(&dp_);
  EXPECT_EQ(cp->Current()->version, 0u);
  ASSERT_EQ(dp_.published().size(), 1u);
  EXPECT_EQ(dp_.published()[0]->version, 0u);
  EXPECT_TRUE(cp->load_warnings().empty());
}

TEST_F(ControlPlaneTest, ApplyStoresPersistsAndPublishes) {
  auto cp = Make(&dp_);
  absl::StatusOr<v1::ApplyResponse> r = cp->Apply(ApplyConfig(BaseConfig()));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->version(), 1u);
  EXPECT_TRUE(r->changed());
  EXPECT_TRUE(r->applied());  // every core took it before Apply returned
  EXPECT_EQ(r->changes_size(), 6);  // 2 listeners, 1 table, 3 pools created
  EXPECT_EQ(r->config().version(), 1u);
  // Effective config: sorted, defaults filled.
  EXPECT_EQ(r->config().listeners(0).name(), "tcp-in");
  EXPECT_EQ(r->config().listeners(1).address(), "0.0.0.0");

  ASSERT_EQ(dp_.published().size(), 2u);
  EXPECT_EQ(dp_.published()[1]->version, 1u);
  EXPECT_EQ(dp_.published()[1]->config.version(), 1u);
  EXPECT_THAT(Read(state_path_), HasSubstr("\"version\": \"1\""));
}

TEST_F(ControlPlaneTest, IdenticalApplyIsANoOp) {
  auto cp = Make(&dp_);
  ASSERT_TRUE(cp->Apply(ApplyConfig(BaseConfig())).ok());
  std::string before = Read(state_path_);

  // Same config, other order, defaults spelled out, a version that is
  // ignored on input.
  v1::Config same = BaseConfig();
  same.mutable_listeners()->SwapElements(0, 1);
  same.mutable_pools(2)->mutable_connect_timeout()->set_seconds(5);
  same.set_version(99);
  absl::StatusOr<v1::ApplyResponse> r = cp->Apply(ApplyConfig(same));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->changed());
  EXPECT_EQ(r->version(), 1u);
  EXPECT_EQ(r->changes_size(), 0);
  EXPECT_EQ(dp_.published().size(), 2u);  // nothing new
  EXPECT_EQ(Read(state_path_), before);
  EXPECT_FALSE(::access((state_path_ + ".last-good").c_str(), F_OK) == 0);
}

TEST_F(ControlPlaneTest, IfVersionMismatchIsFailedPreconditionNamingCurrent) {
  auto cp = Make(&dp_);
  ASSERT_TRUE(cp->Apply(ApplyConfig(BaseConfig())).ok());
  v1::ApplyRequest request = ApplyConfig(v1::Config());
  request.set_if_version(0);
  absl::StatusOr<v1::ApplyResponse> r = cp->Apply(request);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("the config is at version 1, not 0"));
  EXPECT_EQ(cp->Current()->version, 1u);

  request.set_if_version(1);
  r = cp->Apply(request);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->version(), 2u);
  EXPECT_EQ(cp->Current()->config.pools_size(), 0);
}

TEST_F(ControlPlaneTest, ValidateOnlyChangesNothing) {
  auto cp = Make(&dp_);
  v1::ApplyRequest request = ApplyConfig(BaseConfig());
  request.set_validate_only(true);
  absl::StatusOr<v1::ApplyResponse> r = cp->Apply(request);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->changed());
  EXPECT_EQ(r->version(), 1u);  // what it would get
  EXPECT_EQ(r->config().pools_size(), 3);
  EXPECT_EQ(cp->Current()->version, 0u);
  EXPECT_EQ(dp_.published().size(), 1u);
  EXPECT_FALSE(::access(state_path_.c_str(), F_OK) == 0);
}

TEST_F(ControlPlaneTest, RejectedApplyChangesNothing) {
  auto cp = Make(&dp_);
  ASSERT_TRUE(cp->Apply(ApplyConfig(BaseConfig())).ok());
  std::string before = Read(state_path_);
  v1::Config bad = BaseConfig();
  bad.mutable_pools(1)->mutable_endpoints(0)->set_port(0);
  bad.mutable_listeners(0)->set_port(81);  // a valid change alongside
  absl::StatusOr<v1::ApplyResponse> r = cp->Apply(ApplyConfig(bad));
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "pools[1].endpoints[0].port: required: 1..65535");
  EXPECT_EQ(cp->Current()->version, 1u);
  EXPECT_EQ(dp_.published().size(), 2u);
  EXPECT_EQ(Read(state_path_), before);
}

TEST_F(ControlPlaneTest, SingleResourceApplyUpsertsWithItsOwnPath) {
  auto cp = Make(&dp_);
  ASSERT_TRUE(cp->Apply(ApplyConfig(BaseConfig())).ok());

  v1::ApplyRequest request;
  v1::BackendPool* pool = request.mutable_pool();
  pool->set_name("db");
  v1::Endpoint* e = pool->add_endpoints();
  e->set_address("10.0.3.9");
  e->set_port(5432);
  absl::StatusOr<v1::ApplyResponse> r = cp->Apply(request);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->version(), 2u);
  ASSERT_EQ(r->changes_size(), 1);
  EXPECT_EQ(r->changes(0).name(), "db");
  EXPECT_EQ(r->changes(0).op(), v1::ResourceChange::UPDATED);
  EXPECT_EQ(cp->Current()->config.pools_size(), 3);
  EXPECT_EQ(cp->Current()->config.pools(2).endpoints(0).address(), "10.0.3.9");

  v1::ApplyRequest listener;
  listener.mutable_listener()->set_name("new");
  listener.mutable_listener()->set_port(8080);
  listener.mutable_listener()->set_route_table("missing");
  r = cp->Apply(listener);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "listener.route_table: route table \"missing\" does not exist");

  listener.mutable_listener()->set_route_table("main");
  listener.mutable_listener()->set_port(80);  // clashes with "web"
  r = cp->Apply(listener);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("listener.port: 0.0.0.0:80 clashes with "
                        "listeners[name=web]"));
}

TEST_F(ControlPlaneTest, MergeUpsertsAndDeletesNothing) {
  auto cp = Make(&dp_);
  ASSERT_TRUE(cp->Apply(ApplyConfig(BaseConfig())).ok());
  v1::ApplyRequest request = ApplyConfig(ParseConfigOrDie(R"(
pools:
  - name: extra
    endpoints: [{address: 10.9.9.9, port: 0}]
)"));
  request.set_merge(true);
  absl::StatusOr<v1::ApplyResponse> r = cp->Apply(request);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "pools[0].endpoints[0].port: required: 1..65535");

  request.mutable_config()->mutable_pools(0)->mutable_endpoints(0)->set_port(
      80);
  r = cp->Apply(request);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(cp->Current()->config.pools_size(), 4);
  EXPECT_EQ(cp->Current()->config.listeners_size(), 2);

  // A name twice in one merge request is an error, not "last one wins".
  v1::ApplyRequest twice = request;
  *twice.mutable_config()->add_pools() = request.config().pools(0);
  r = cp->Apply(twice);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "pools[1].name: \"extra\" is already used by pools[0]");

  v1::ApplyRequest bad;
  bad.mutable_pool()->set_name("x");
  bad.set_merge(true);
  EXPECT_EQ(cp->Apply(bad).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cp->Apply(v1::ApplyRequest()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ControlPlaneTest, DeleteChecksExistenceReferencesAndVersion) {
  auto cp = Make(&dp_);
  ASSERT_TRUE(cp->Apply(ApplyConfig(BaseConfig())).ok());
  v1::DeleteRequest request;
  request.set_kind(v1::POOL);
  request.set_name("nope");
  EXPECT_EQ(cp->Delete(request).status().code(), absl::StatusCode::kNotFound);

  request.set_name("api");
  absl::StatusOr<v1::DeleteResponse> r = cp->Delete(request);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(),
            "pool \"api\" is still used by route table \"main\" route \"api\", "
            "route table \"main\" route \"default\"; change or delete those "
            "first (or apply a whole config without them)");

  request.set_kind(v1::LISTENER);
  request.set_name("tcp-in");
  request.set_if_version(7);
  EXPECT_EQ(cp->Delete(request).status().code(),
            absl::StatusCode::kFailedPrecondition);
  request.set_if_version(1);
  request.set_validate_only(true);
  r = cp->Delete(request);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->version(), 2u);
  EXPECT_EQ(cp->Current()->version, 1u);
  request.set_validate_only(false);
  r = cp->Delete(request);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->version(), 2u);
  EXPECT_EQ(cp->Current()->config.listeners_size(), 1);

  // Now nothing uses "db".
  request.clear_if_version();
  request.set_kind(v1::POOL);
  request.set_name("db");
  r = cp->Delete(request);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->version(), 3u);

  request.set_kind(v1::KIND_UNSPECIFIED);
  EXPECT_EQ(cp->Delete(request).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ControlPlaneTest, ReloadsPersistedConfigOnStart) {
  {
    auto cp = Make(&dp_);
    ASSERT_TRUE(cp->Apply(ApplyConfig(BaseConfig())).ok());
    v1::DeleteRequest del;
    del.set_kind(v1::LISTENER);
    del.set_name("web");
    ASSERT_TRUE(cp->Delete(del).ok());
  }
  FakeDataPlane fresh(2, true);
  auto cp = Make(&fresh);
  EXPECT_EQ(cp->Current()->version, 2u);
  EXPECT_EQ(cp->Current()->config.listeners_size(), 1);
  ASSERT_EQ(fresh.published().size(), 1u);
  EXPECT_EQ(fresh.published()[0]->version, 2u);
  // Status says when it changed (the file's time), and the same applies
  // again as a no-op.
  EXPECT_TRUE(cp->Status().has_config_changed());
  v1::Config again = BaseConfig();
  again.mutable_listeners()->DeleteSubrange(0, 1);
  absl::StatusOr<v1::ApplyResponse> r = cp->Apply(ApplyConfig(again));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->changed());
}

TEST_F(ControlPlaneTest, CorruptStateFileStartsFromLastGood) {
  {
    auto cp = Make(&dp_);
    ASSERT_TRUE(cp->Apply(ApplyConfig(BaseConfig())).ok());
    v1::ApplyRequest request = ApplyConfig(v1::Config());
    ASSERT_TRUE(cp->Apply(request).ok());  // version 2: empty
  }
  std::ofstream(state_path_) << "{ truncated";
  FakeDataPlane fresh(2, true);
  auto cp = Make(&fresh);
  ASSERT_NE(cp, nullptr);
  EXPECT_EQ(cp->Current()->version, 1u);
  EXPECT_EQ(cp->Current()->config.pools_size(), 3);
  ASSERT_FALSE(cp->load_warnings().empty());
  EXPECT_THAT(cp->load_warnings()[0], HasSubstr(state_path_));
  EXPECT_EQ(Read(state_path_ + ".corrupt"), "{ truncated");
}

TEST_F(ControlPlaneTest, UnusableStateFileRefusesToStart) {
  std::ofstream(state_path_) << "listeners: [{name: BAD}]";
  ControlPlane::Options options;
  options.state_path = state_path_;
  absl::StatusOr<std::unique_ptr<ControlPlane>> cp =
      ControlPlane::Create(options, &dp_);
  ASSERT_FALSE(cp.ok());
  EXPECT_THAT(std::string(cp.status().message()),
              HasSubstr("listeners[0].name: \"BAD\" must be a DNS label"));
  EXPECT_TRUE(dp_.published().empty());
}

TEST_F(ControlPlaneTest, StatusShowsPerCoreConvergenceAndListeners) {
  FakeDataPlane dp(2, /*auto_apply=*/false);
  auto cp = Make(&dp, 64, absl::Milliseconds(20));
  absl::StatusOr<v1::ApplyResponse> applied = cp->Apply(ApplyConfig(BaseConfig()));
  ASSERT_TRUE(applied.ok());
  // No core applied it within the wait limit: the answer says so.
  EXPECT_FALSE(applied->applied());
  CoreStatus core1;
  core1.core = 1;
  core1.route_cache_hits = 10;
  core1.route_cache_misses = 2;
  core1.route_cache_stale = 1;
  core1.redirects_in = 3;
  core1.redirects_out = 4;
  core1.active_connections = 5;
  dp.SetCoreStatus(core1);
  dp.ApplyOnCore(0, 1);

  v1::StatusResponse status = cp->Status();
  EXPECT_EQ(status.config_version(), 1u);
  EXPECT_FALSE(status.converged());
  ASSERT_EQ(status.cores_size(), 2);
  EXPECT_EQ(status.cores(0).applied_version(), 1u);
  EXPECT_EQ(status.cores(1).applied_version(), 0u);
  EXPECT_EQ(status.cores(1).route_cache_hits(), 10u);
  EXPECT_EQ(status.cores(1).route_cache_misses(), 2u);
  EXPECT_EQ(status.cores(1).route_cache_stale(), 1u);
  EXPECT_EQ(status.cores(1).redirects_in(), 3u);
  EXPECT_EQ(status.cores(1).redirects_out(), 4u);
  EXPECT_EQ(status.cores(1).active_connections(), 5u);
  ASSERT_EQ(status.listeners_size(), 2);
  EXPECT_EQ(status.listeners(0).name(), "tcp-in");
  EXPECT_EQ(status.listeners(0).state(), v1::ListenerStatus::PENDING);
  EXPECT_EQ(status.config_changed().seconds(), absl::ToUnixSeconds(kNow));

  dp.ApplyOnCore(1, 1);
  status = cp->Status();
  EXPECT_TRUE(status.converged());
  EXPECT_EQ(status.listeners(1).state(), v1::ListenerStatus::ACTIVE);
}

TEST_F(ControlPlaneTest, DrainUsesListenerTimeoutOrGivenDeadline) {
  auto cp = Make(&dp_);
  ASSERT_TRUE(cp->Apply(ApplyConfig(BaseConfig())).ok());
  v1::DrainRequest request;
  request.set_listener("nope");
  absl::StatusOr<v1::DrainResponse> r = cp->Drain(request);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("`proxyctl get listeners` lists them"));

  request.set_listener("web");
  r = cp->Drain(request);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->deadline().seconds(), absl::ToUnixSeconds(kNow) + 30);
  EXPECT_EQ(dp_.drains().at("web"), absl::Seconds(30));

  request.set_listener("tcp-in");
  request.mutable_deadline()->set_seconds(5);
  r = cp->Drain(request);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(dp_.drains().at("tcp-in"), absl::Seconds(5));
  v1::StatusResponse status = cp->Status();
  EXPECT_EQ(status.listeners(0).state(), v1::ListenerStatus::DRAINING);
  EXPECT_EQ(status.listeners(0).drain_deadline().seconds(),
            absl::ToUnixSeconds(kNow) + 5);

  request.mutable_deadline()->set_seconds(-1);
  EXPECT_EQ(cp->Drain(request).status().code(),
            absl::StatusCode::kInvalidArgument);

  request.mutable_deadline()->set_seconds(1);
  dp_.FailNextDrain(absl::UnavailableError("core 1 is not responding"));
  EXPECT_EQ(cp->Drain(request).status().message(), "core 1 is not responding");
}

TEST_F(ControlPlaneTest, StatsJoinEndpointsWithTheConfig) {
  auto cp = Make(&dp_);
  ASSERT_TRUE(cp->Apply(ApplyConfig(BaseConfig())).ok());
  StatsSnapshot stats;
  stats.cores.push_back(CoreStats{.core = 1, .requests = 7});
  stats.cores.push_back(CoreStats{.core = 0, .requests = 3});
  EndpointStats e;
  e.pool = "api";
  e.address = "10.0.1.2";
  e.port = 8080;
  e.health = EndpointHealth::kEjected;
  e.requests = 11;
  e.ejections = 1;
  stats.endpoints.push_back(e);
  e.pool = "gone";  // not in the config: ignored
  stats.endpoints.push_back(e);
  dp_.SetStats(stats);

  v1::StatsResponse r = cp->Stats();
  EXPECT_EQ(r.config_version(), 1u);
  ASSERT_EQ(r.cores_size(), 2);
  EXPECT_EQ(r.cores(0).core(), 0u);
  EXPECT_EQ(r.cores(0).requests(), 3u);
  ASSERT_EQ(r.endpoints_size(), 4);
  EXPECT_EQ(r.endpoints(0).address(), "10.0.1.1");
  EXPECT_EQ(r.endpoints(0).health(), v1::EndpointStats::UNKNOWN);
  EXPECT_EQ(r.endpoints(1).address(), "10.0.1.2");
  EXPECT_EQ(r.endpoints(1).weight(), 2u);
  EXPECT_EQ(r.endpoints(1).health(), v1::EndpointStats::EJECTED);
  EXPECT_EQ(r.endpoints(1).requests(), 11u);
  EXPECT_EQ(r.endpoints(3).pool(), "db");
}

TEST_F(ControlPlaneTest, WatchSeesEveryChangeAndSlowWatchersDoNotBlockApply) {
  auto cp = Make(&dp_, /*watch_limit=*/2);
  auto watcher = cp->Watch(/*include_config=*/false);
  auto slow = cp->Watch(/*include_config=*/false);
  v1::WatchEvent event;
  absl::Status closed;
  ASSERT_EQ(watcher->Wait(absl::Seconds(1), &event, &closed), Next::kEvent);
  EXPECT_TRUE(event.initial());
  EXPECT_EQ(event.version(), 0u);

  v1::Config c = BaseConfig();
  for (int i = 0; i < 5; ++i) {
    c.mutable_listeners(0)->set_port(8000 + i);
    absl::StatusOr<v1::ApplyResponse> r = cp->Apply(ApplyConfig(c));
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(watcher->Wait(absl::Seconds(1), &event, &closed), Next::kEvent);
    EXPECT_EQ(event.version(), static_cast<uint64_t>(i + 1));
    EXPECT_FALSE(event.initial());
  }
  EXPECT_EQ(cp->Current()->version, 5u);
  // The no-op apply sends nothing.
  ASSERT_TRUE(cp->Apply(ApplyConfig(c)).ok());
  EXPECT_EQ(watcher->Wait(absl::Milliseconds(10), &event, &closed),
            Next::kTimeout);

  ASSERT_EQ(slow->Wait(absl::Seconds(1), &event, &closed), Next::kClosed);
  EXPECT_EQ(closed.code(), absl::StatusCode::kResourceExhausted);

  cp->Shutdown();
  ASSERT_EQ(watcher->Wait(absl::Seconds(1), &event, &closed), Next::kClosed);
  EXPECT_EQ(closed.code(), absl::StatusCode::kUnavailable);
}

TEST_F(ControlPlaneTest, InMemoryWithoutStatePath) {
  ControlPlane::Options options;
  absl::StatusOr<std::unique_ptr<ControlPlane>> cp =
      ControlPlane::Create(options, &dp_);
  ASSERT_TRUE(cp.ok());
  ASSERT_TRUE((*cp)->Apply(ApplyConfig(BaseConfig())).ok());
  EXPECT_EQ((*cp)->Current()->version, 1u);
}


// ---- TLS certificates at apply time ----------------------------------------

v1::Config WithTls(const std::string& chain, const std::string& key) {
  v1::Config c = BaseConfig();
  v1::Certificate* cert =
      c.mutable_listeners(0)->mutable_tls()->add_certificates();
  cert->set_name("www");
  cert->set_cert_chain_pem(chain);
  cert->set_private_key_pem(key);
  return c;
}

// The running config is sorted by name: find "web".
const v1::Listener& Web(const v1::Config& c) {
  for (const v1::Listener& l : c.listeners()) {
    if (l.name() == "web") return l;
  }
  return v1::Listener::default_instance();
}

tls::testing::TestPki::Leaf LeafValidAround(const tls::testing::TestPki& pki, absl::Time t) {
  tls::testing::CertSpec spec;
  spec.common_name = "www.example.com";
  spec.dns_names = {"www.example.com"};
  spec.not_before = t - absl::Hours(1);
  spec.not_after = t + absl::Hours(24 * 365);
  return pki.Issue(spec);
}

TEST_F(ControlPlaneTest, TlsCertificatesAreCheckedAtTheControlPlanesTime) {
  auto cp = Make(&dp_);
  tls::testing::TestPki pki(kNow);
  // Valid at kNow (the control plane's clock), long expired by the wall
  // clock: accepted.
  tls::testing::TestPki::Leaf leaf = LeafValidAround(pki, kNow);
  absl::StatusOr<v1::ApplyResponse> ok = cp->Apply(ApplyConfig(WithTls(leaf.chain_pem, leaf.key_pem)));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(cp->Current()->version, 1u);

  // A key that does not match: refused with the field path, nothing changes.
  tls::EvpPkeyPtr other = tls::testing::MakeEcKey("P-256");
  size_t published = dp_.published().size();
  absl::StatusOr<v1::ApplyResponse> bad =
      cp->Apply(ApplyConfig(WithTls(leaf.chain_pem, tls::testing::ToPem(other.get()))));
  ASSERT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("listeners[0].tls.certificates[0].private_key_pem: does not match"));
  EXPECT_EQ(cp->Current()->version, 1u);
  ASSERT_EQ(Web(cp->Current()->config).tls().certificates_size(), 1);
  EXPECT_EQ(Web(cp->Current()->config).tls().certificates(0).private_key_pem(), leaf.key_pem);
  EXPECT_EQ(dp_.published().size(), published);

  // A new certificate that expired before kNow: refused.
  tls::testing::TestPki::Leaf old = LeafValidAround(pki, kNow - absl::Hours(24 * 400));
  bad = cp->Apply(ApplyConfig(WithTls(old.chain_pem, old.key_pem)));
  ASSERT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("listeners[0].tls.certificates[0].cert_chain_pem: the leaf certificate"));
  EXPECT_EQ(cp->Current()->version, 1u);
}

TEST_F(ControlPlaneTest, CertificateExpiringWithin30DaysAppliesWithAWarningInTheResponse) {
  auto cp = Make(&dp_);
  tls::testing::TestPki pki(kNow);
  tls::testing::CertSpec spec;
  spec.common_name = "www.example.com";
  spec.dns_names = {"www.example.com"};
  spec.not_before = kNow - absl::Hours(1);
  spec.not_after = kNow + absl::Hours(24 * 10);
  tls::testing::TestPki::Leaf leaf = pki.Issue(spec);

  v1::ApplyRequest dry = ApplyConfig(WithTls(leaf.chain_pem, leaf.key_pem));
  dry.set_validate_only(true);
  absl::StatusOr<v1::ApplyResponse> r = cp->Apply(dry);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->warnings_size(), 1);
  EXPECT_THAT(r->warnings(0), HasSubstr("listeners[0].tls.certificates[0]"));
  EXPECT_EQ(cp->Current()->version, 0u);

  r = cp->Apply(ApplyConfig(WithTls(leaf.chain_pem, leaf.key_pem)));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(cp->Current()->version, 1u);
  ASSERT_EQ(r->warnings_size(), 1);
  EXPECT_THAT(r->warnings(0), HasSubstr("listeners[0].tls.certificates[0]"));

  // A certificate valid for a year: no warning.
  tls::testing::TestPki::Leaf fresh = LeafValidAround(pki, kNow);
  r = cp->Apply(ApplyConfig(WithTls(fresh.chain_pem, fresh.key_pem)));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->warnings_size(), 0);
}

TEST_F(ControlPlaneTest, MergeReplacesSessionTicketsAndReportsTheChange) {
  auto cp = Make(&dp_);
  ASSERT_TRUE(cp->Apply(ApplyConfig(BaseConfig())).ok());
  EXPECT_EQ(cp->Current()->config.session_tickets().rotation_interval().seconds(),
            kDefaultTicketRotationSeconds);
  v1::ApplyRequest request;
  request.mutable_config()->mutable_session_tickets()->mutable_rotation_interval()->set_seconds(600);
  request.set_merge(true);
  absl::StatusOr<v1::ApplyResponse> r = cp->Apply(request);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(cp->Current()->config.session_tickets().rotation_interval().seconds(), 600);
  EXPECT_EQ(cp->Current()->config.listeners_size(), 2);  // nothing deleted
  ASSERT_EQ(r->changes_size(), 1);
  EXPECT_EQ(r->changes(0).kind(), v1::SESSION_TICKETS);

  // A merge without session_tickets leaves them alone.
  v1::ApplyRequest other = ApplyConfig(ParseConfigOrDie(R"(
pools:
  - name: extra
    endpoints: [{address: 10.9.9.9, port: 80}]
)"));
  other.set_merge(true);
  ASSERT_TRUE(cp->Apply(other).ok());
  EXPECT_EQ(cp->Current()->config.session_tickets().rotation_interval().seconds(), 600);
}

TEST_F(ControlPlaneTest, StoredCertificateThatExpiredSinceDoesNotBlockRestartOrChanges) {
  tls::testing::TestPki pki(kNow);
  tls::testing::TestPki::Leaf leaf = LeafValidAround(pki, kNow);
  {
    auto cp = Make(&dp_);
    ASSERT_TRUE(cp->Apply(ApplyConfig(WithTls(leaf.chain_pem, leaf.key_pem))).ok());
  }
  // Two years later the certificate has expired.
  ControlPlane::Options options;
  options.state_path = state_path_;
  options.clock = [] { return kNow + absl::Hours(24 * 730); };
  FakeDataPlane dp{2, /*auto_apply=*/true};
  absl::StatusOr<std::unique_ptr<ControlPlane>> cp = ControlPlane::Create(options, &dp);
  ASSERT_TRUE(cp.ok()) << cp.status();
  EXPECT_EQ((*cp)->Current()->version, 1u);
  EXPECT_EQ(Web((*cp)->Current()->config).tls().certificates_size(), 1);
  // An unrelated change still applies (the certificate only warns).
  v1::Config changed = WithTls(leaf.chain_pem, leaf.key_pem);
  changed.mutable_pools(0)->mutable_endpoints(0)->set_port(9090);
  absl::StatusOr<v1::ApplyResponse> r = (*cp)->Apply(ApplyConfig(changed));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*cp)->Current()->version, 2u);
}

// ---- shared certificates -----------------------------------------------------

v1::Certificate Shared(const std::string& name, const tls::testing::TestPki::Leaf& leaf) {
  v1::Certificate c;
  c.set_name(name);
  c.set_cert_chain_pem(leaf.chain_pem);
  c.set_private_key_pem(leaf.key_pem);
  return c;
}

// BaseConfig with shared certificate "www" served by listener "web".
v1::Config WithSharedCert(const tls::testing::TestPki::Leaf& leaf) {
  v1::Config c = BaseConfig();
  *c.add_certificates() = Shared("www", leaf);
  c.mutable_listeners(0)->mutable_tls()->add_certificate_refs("www");
  return c;
}

TEST_F(ControlPlaneTest, SharedCertificateApplyRotateAndDelete) {
  auto cp = Make(&dp_);
  tls::testing::TestPki pki(kNow);
  tls::testing::TestPki::Leaf v1_leaf = LeafValidAround(pki, kNow);
  absl::StatusOr<v1::ApplyResponse> r = cp->Apply(ApplyConfig(WithSharedCert(v1_leaf)));
  ASSERT_TRUE(r.ok()) << r.status();
  bool created = false;
  for (const v1::ResourceChange& c : r->changes()) {
    if (c.kind() == v1::CERTIFICATE && c.name() == "www" && c.op() == v1::ResourceChange::CREATED) {
      created = true;
    }
  }
  EXPECT_TRUE(created);

  // Rotation: ApplyRequest.certificate with the same name, new PEM.
  std::shared_ptr<WatchHub::Subscription> watch = cp->Watch(false);
  tls::testing::TestPki::Leaf v2_leaf = LeafValidAround(pki, kNow);
  v1::ApplyRequest rotate;
  *rotate.mutable_certificate() = Shared("www", v2_leaf);
  r = cp->Apply(rotate);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->version(), 2u);
  ASSERT_EQ(r->changes_size(), 1);
  EXPECT_EQ(r->changes(0).kind(), v1::CERTIFICATE);
  EXPECT_EQ(r->changes(0).op(), v1::ResourceChange::UPDATED);
  EXPECT_EQ(cp->Current()->config.certificates(0).cert_chain_pem(), v2_leaf.chain_pem);
  EXPECT_EQ(dp_.published().back()->config.certificates(0).private_key_pem(), v2_leaf.key_pem);
  v1::WatchEvent event;
  absl::Status closed;
  ASSERT_EQ(watch->Wait(absl::Seconds(1), &event, &closed), Next::kEvent);  // initial
  ASSERT_EQ(watch->Wait(absl::Seconds(1), &event, &closed), Next::kEvent);
  ASSERT_EQ(event.changes_size(), 1);
  EXPECT_EQ(event.changes(0).kind(), v1::CERTIFICATE);
  cp->EndWatch(watch);

  // A bad single certificate: its own path, nothing changes.
  v1::ApplyRequest bad;
  *bad.mutable_certificate() = Shared("www", v2_leaf);
  tls::EvpPkeyPtr stranger = tls::testing::MakeEcKey("P-256");
  bad.mutable_certificate()->set_private_key_pem(tls::testing::ToPem(stranger.get()));
  r = cp->Apply(bad);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("certificate.private_key_pem: does not match"));
  EXPECT_EQ(cp->Current()->version, 2u);

  // Delete: refused while referenced, then allowed.
  v1::DeleteRequest del;
  del.set_kind(v1::CERTIFICATE);
  del.set_name("www");
  absl::StatusOr<v1::DeleteResponse> d = cp->Delete(del);
  ASSERT_EQ(d.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(d.status().message()),
              HasSubstr("certificate \"www\" is still used by listener \"web\""));
  EXPECT_EQ(cp->Current()->version, 2u);
  del.set_name("nope");
  EXPECT_EQ(cp->Delete(del).status().code(), absl::StatusCode::kNotFound);

  v1::ApplyRequest staged;
  *staged.mutable_certificate() = Shared("staged", v1_leaf);
  ASSERT_TRUE(cp->Apply(staged).ok());
  del.set_name("staged");
  d = cp->Delete(del);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(cp->Current()->config.certificates_size(), 1);
}

// Two valid session ticket keys (base64 of 48 bytes: name, HMAC and AES
// keys), as an operator would configure them.
const std::string kTicketKeyOne = absl::Base64Escape(std::string(48, '\x11'));
const std::string kTicketKeyTwo = absl::Base64Escape(std::string(48, '\x22'));

TEST_F(ControlPlaneTest, RedactedKeysApplyBackAsTheStoredOnes) {
  auto cp = Make(&dp_);
  tls::testing::TestPki pki(kNow);
  tls::testing::TestPki::Leaf shared = LeafValidAround(pki, kNow);
  tls::testing::TestPki::Leaf inline_leaf = LeafValidAround(pki, kNow);
  v1::Config c = WithSharedCert(shared);
  v1::Certificate* own = c.mutable_listeners(0)->mutable_tls()->add_certificates();
  *own = Shared("own", inline_leaf);
  c.mutable_session_tickets()->add_keys(kTicketKeyOne);
  c.mutable_session_tickets()->add_keys(kTicketKeyTwo);
  ASSERT_TRUE(cp->Apply(ApplyConfig(c)).ok());
  const uint64_t version = cp->Current()->version;

  // What a read returns, applied back: a no-op.
  v1::Config read = cp->Current()->config;
  api::RedactSecrets(&read);
  ASSERT_TRUE(api::IsRedacted(read.certificates(0).private_key_pem()));
  absl::StatusOr<v1::ApplyResponse> r = cp->Apply(ApplyConfig(read));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->changed());
  EXPECT_EQ(cp->Current()->version, version);

  // Edited elsewhere, keys still redacted: the change applies, the stored
  // (and persisted, and published) config keeps the real keys.
  read.mutable_pools(0)->mutable_endpoints(0)->set_port(9191);
  r = cp->Apply(ApplyConfig(read));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->changed());
  const v1::Config& now = cp->Current()->config;
  EXPECT_EQ(now.certificates(0).private_key_pem(), shared.key_pem);
  EXPECT_EQ(Web(now).tls().certificates(0).private_key_pem(), inline_leaf.key_pem);
  EXPECT_EQ(now.session_tickets().keys(1), kTicketKeyTwo);
  EXPECT_EQ(dp_.published().back()->config.certificates(0).private_key_pem(), shared.key_pem);
  EXPECT_THAT(Read(state_path_), HasSubstr("PRIVATE KEY"));

  // A single listener sent back redacted keeps its inline key too.
  v1::ApplyRequest one;
  *one.mutable_listener() = Web(read);
  one.mutable_listener()->mutable_limits()->set_max_connections(7);
  r = cp->Apply(one);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Web(cp->Current()->config).tls().certificates(0).private_key_pem(), inline_leaf.key_pem);
}

TEST_F(ControlPlaneTest, RedactedKeyThatDoesNotMatchIsRefused) {
  auto cp = Make(&dp_);
  tls::testing::TestPki pki(kNow);
  tls::testing::TestPki::Leaf leaf = LeafValidAround(pki, kNow);
  v1::Config c = WithSharedCert(leaf);
  c.mutable_session_tickets()->add_keys(kTicketKeyOne);
  ASSERT_TRUE(cp->Apply(ApplyConfig(c)).ok());
  const uint64_t version = cp->Current()->version;

  v1::Config wrong = c;
  wrong.mutable_certificates(0)->set_private_key_pem(api::RedactedForm("some other key"));
  absl::StatusOr<v1::ApplyResponse> r = cp->Apply(ApplyConfig(wrong));
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "certificates[0].private_key_pem: redacted key does not match the stored key of "
            "certificate \"www\"; send the PEM");

  // The right digest under another name (a new certificate) stands for no
  // stored key.
  v1::ApplyRequest renamed;
  *renamed.mutable_certificate() = Shared("www2", leaf);
  renamed.mutable_certificate()->set_private_key_pem(api::RedactedForm(leaf.key_pem));
  r = cp->Apply(renamed);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("certificate.private_key_pem: redacted key does not match the stored key of "
                        "certificate \"www2\"; send the PEM"));

  // Inline: matched only against the same listener's certificate.
  v1::Config moved = BaseConfig();
  v1::Certificate* own = moved.mutable_listeners(0)->mutable_tls()->add_certificates();
  *own = Shared("www", leaf);
  own->set_private_key_pem(api::RedactedForm(leaf.key_pem));
  r = cp->Apply(ApplyConfig(moved));
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("listeners[0].tls.certificates[0].private_key_pem: redacted key does not "
                        "match"));

  v1::Config tickets = c;
  tickets.mutable_session_tickets()->set_keys(0, api::RedactedForm("other"));
  r = cp->Apply(ApplyConfig(tickets));
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("session_tickets.keys[0]: redacted key does not match any stored ticket key"));
  EXPECT_EQ(cp->Current()->version, version);

  // validate_only accepts the redacted form like a real apply.
  v1::ApplyRequest check = ApplyConfig(c);
  api::RedactSecrets(check.mutable_config());
  check.set_validate_only(true);
  r = cp->Apply(check);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->changed());
}

TEST_F(ControlPlaneTest, MergeUpsertsSharedCertificates) {
  auto cp = Make(&dp_);
  tls::testing::TestPki pki(kNow);
  tls::testing::TestPki::Leaf leaf = LeafValidAround(pki, kNow);
  ASSERT_TRUE(cp->Apply(ApplyConfig(WithSharedCert(leaf))).ok());
  v1::ApplyRequest merge;
  merge.set_merge(true);
  *merge.mutable_config()->add_certificates() = Shared("api", leaf);
  absl::StatusOr<v1::ApplyResponse> r = cp->Apply(merge);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(cp->Current()->config.certificates_size(), 2);
  EXPECT_EQ(cp->Current()->config.certificates(0).name(), "api");
  *merge.mutable_config()->add_certificates() = Shared("api", leaf);
  r = cp->Apply(merge);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("certificates[1].name: \"api\" is already used by certificates[0]"));
}

}  // namespace
}  // namespace locus::proxy::control
