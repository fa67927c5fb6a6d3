// The API end to end over real gRPC on 127.0.0.1 (port picked by the
// kernel), with the fake data plane behind it.
#include "proxy/control/service.h"

#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "api/secrets.h"
#include "proxy/control/certificates.h"
#include "proxy/control/fake_data_plane.h"
#include "proxy/control/grpc_test_util.h"
#include "proxy/control/server.h"
#include "proxy/control/test_configs.h"
#include "proxy/tls/test_certs.h"

namespace locus::proxy::control {
namespace {

namespace v1 = api::v1;
using testing::BaseConfig;
using testing::Deadline;
using ::testing::HasSubstr;

class ServiceTest : public ::testing::Test {
 protected:
  void Start(size_t watch_limit = 64) {
    ControlPlane::Options options;
    options.watch_queue_limit = watch_limit;  // memory only: no state file
    absl::StatusOr<std::unique_ptr<ControlPlane>> cp =
        ControlPlane::Create(options, &dp_);
    ASSERT_TRUE(cp.ok()) << cp.status();
    cp_ = *std::move(cp);
    service_ = std::make_unique<ControlPlaneService>(cp_.get());
    ServerOptions server_options;
    server_options.address = "127.0.0.1:0";
    absl::StatusOr<RunningServer> server =
        StartServer(server_options, {service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    ASSERT_GT(server_.port, 0);
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(api::kMaxMessageBytes);
    channel_ =
        grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", server_.port),
                                  grpc::InsecureChannelCredentials(), args);
    stub_ = v1::ControlPlane::NewStub(channel_);
  }

  void SetUp() override { Start(); }

  void TearDown() override {
    if (cp_) cp_->Shutdown();
    if (server_.server) server_.server->Shutdown(Deadline(2));
  }

  grpc::Status Apply(const v1::ApplyRequest& request,
                     v1::ApplyResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(Deadline(10));
    return stub_->Apply(&context, request, response);
  }

  grpc::Status ApplyConfig(const v1::Config& config,
                           v1::ApplyResponse* response) {
    v1::ApplyRequest request;
    *request.mutable_config() = config;
    return Apply(request, response);
  }

  FakeDataPlane dp_{2, /*auto_apply=*/true};
  std::unique_ptr<ControlPlane> cp_;
  std::unique_ptr<ControlPlaneService> service_;
  RunningServer server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ControlPlane::Stub> stub_;
};

TEST_F(ServiceTest, ApplyThenGetAndList) {
  v1::ApplyResponse applied;
  ASSERT_TRUE(ApplyConfig(BaseConfig(), &applied).ok());
  EXPECT_EQ(applied.version(), 1u);

  grpc::ClientContext c1;
  v1::ListListenersResponse listeners;
  ASSERT_TRUE(stub_->ListListeners(&c1, v1::ListRequest(), &listeners).ok());
  EXPECT_EQ(listeners.version(), 1u);
  ASSERT_EQ(listeners.listeners_size(), 2);
  EXPECT_EQ(listeners.listeners(0).name(), "tcp-in");

  grpc::ClientContext c2;
  v1::GetRequest get;
  get.set_name("api");
  v1::GetPoolResponse pool;
  ASSERT_TRUE(stub_->GetPool(&c2, get, &pool).ok());
  EXPECT_EQ(pool.pool().maglev_table_size(), 65537u);

  grpc::ClientContext c3;
  get.set_name("main");
  v1::GetRouteTableResponse table;
  ASSERT_TRUE(stub_->GetRouteTable(&c3, get, &table).ok());
  EXPECT_EQ(table.route_table().routes_size(), 2);

  grpc::ClientContext c4;
  v1::ListPoolsResponse pools;
  ASSERT_TRUE(stub_->ListPools(&c4, v1::ListRequest(), &pools).ok());
  EXPECT_EQ(pools.pools_size(), 3);

  grpc::ClientContext c5;
  v1::ListRouteTablesResponse tables;
  ASSERT_TRUE(stub_->ListRouteTables(&c5, v1::ListRequest(), &tables).ok());
  EXPECT_EQ(tables.route_tables_size(), 1);

  grpc::ClientContext c6;
  v1::Config config;
  ASSERT_TRUE(stub_->GetConfig(&c6, v1::GetConfigRequest(), &config).ok());
  EXPECT_EQ(config.version(), 1u);
  EXPECT_EQ(config.SerializeAsString(), applied.config().SerializeAsString());

  grpc::ClientContext c7;
  get.set_name("nope");
  v1::GetListenerResponse listener;
  grpc::Status status = stub_->GetListener(&c7, get, &listener);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(),
            "listener \"nope\" not found at version 1; `proxyctl get "
            "listeners` lists them");

  grpc::ClientContext c8;
  get.clear_name();
  status = stub_->GetListener(&c8, get, &listener);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ServiceTest, ErrorsKeepTheirCodesAndFieldPaths) {
  v1::Config bad = BaseConfig();
  bad.mutable_pools(1)->mutable_endpoints(0)->set_port(70000);
  v1::ApplyResponse response;
  grpc::Status status = ApplyConfig(bad, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "pools[1].endpoints[0].port: 70000 must be 1..65535");

  ASSERT_TRUE(ApplyConfig(BaseConfig(), &response).ok());
  v1::ApplyRequest request;
  *request.mutable_config() = BaseConfig();
  request.set_if_version(0);
  status = Apply(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("at version 1, not 0"));

  // Identical apply: OK, unchanged, same version.
  request.set_if_version(1);
  ASSERT_TRUE(Apply(request, &response).ok());
  EXPECT_FALSE(response.changed());
  EXPECT_EQ(response.version(), 1u);

  grpc::ClientContext context;
  v1::DeleteRequest del;
  del.set_kind(v1::ROUTE_TABLE);
  del.set_name("main");
  v1::DeleteResponse deleted;
  status = stub_->Delete(&context, del, &deleted);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(),
              HasSubstr("still used by listener \"web\""));
}

TEST_F(ServiceTest, WatchStreamsInitialVersionThenChanges) {
  grpc::ClientContext context;
  context.set_deadline(Deadline(10));
  v1::WatchRequest request;
  request.set_include_config(true);
  std::unique_ptr<grpc::ClientReader<v1::WatchEvent>> reader =
      stub_->Watch(&context, request);
  v1::WatchEvent event;
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_TRUE(event.initial());
  EXPECT_EQ(event.version(), 0u);

  v1::ApplyResponse applied;
  ASSERT_TRUE(ApplyConfig(BaseConfig(), &applied).ok());
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_FALSE(event.initial());
  EXPECT_EQ(event.version(), 1u);
  EXPECT_EQ(event.changes_size(), 6);
  EXPECT_EQ(event.config().pools_size(), 3);

  grpc::ClientContext del_context;
  v1::DeleteRequest del;
  del.set_kind(v1::LISTENER);
  del.set_name("web");
  v1::DeleteResponse deleted;
  ASSERT_TRUE(stub_->Delete(&del_context, del, &deleted).ok());
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.version(), 2u);
  ASSERT_EQ(event.changes_size(), 1);
  EXPECT_EQ(event.changes(0).op(), v1::ResourceChange::DELETED);

  context.TryCancel();
  while (reader->Read(&event)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(ServiceTest, WatcherThatNeverReadsIsDroppedAndApplyIsNotBlocked) {
  TearDown();
  Start(/*watch_limit=*/8);
  // Big events and no window growth (BDP probing off): the server's writes
  // to this client block after a few events, as with a stuck watcher.
  v1::Config config = BaseConfig();
  v1::BackendPool* pool = config.mutable_pools(0);
  for (int i = 0; i < 3000; ++i) {
    v1::Endpoint* e = pool->add_endpoints();
    e->set_address(absl::StrCat("10.1.", i / 200, ".", 1 + i % 200));
    e->set_port(9000);
  }
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetMaxReceiveMessageSize(api::kMaxMessageBytes);
  auto stub = v1::ControlPlane::NewStub(
      grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", server_.port),
                                grpc::InsecureChannelCredentials(), args));
  grpc::ClientContext context;
  context.set_deadline(Deadline(60));
  v1::WatchRequest request;
  request.set_include_config(true);
  std::unique_ptr<grpc::ClientReader<v1::WatchEvent>> reader =
      stub->Watch(&context, request);
  v1::WatchEvent event;
  ASSERT_TRUE(reader->Read(&event));  // the stream is up

  constexpr int kApplies = 60;
  absl::Time start = absl::Now();
  for (int i = 0; i < kApplies; ++i) {
    config.mutable_listeners(0)->set_port(10000 + i);
    v1::ApplyResponse applied;
    ASSERT_TRUE(ApplyConfig(config, &applied).ok()) << i;
  }
  // Generous for a loaded 2-core machine; an apply blocked by the watcher
  // would instead hang until the watch deadline.
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
  EXPECT_EQ(cp_->Current()->version, static_cast<uint64_t>(kApplies));

  // Now read: some events, then the stream ends with the reason. Bounded by
  // the context deadline.
  int events = 0;
  while (reader->Read(&event)) ++events;
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("watch fell more than 8"));
  EXPECT_LT(events, kApplies);
}

TEST_F(ServiceTest, StatusStatsAndDrain) {
  v1::ApplyResponse applied;
  ASSERT_TRUE(ApplyConfig(BaseConfig(), &applied).ok());

  grpc::ClientContext c1;
  v1::StatusResponse status;
  ASSERT_TRUE(stub_->Status(&c1, v1::StatusRequest(), &status).ok());
  EXPECT_EQ(status.config_version(), 1u);
  EXPECT_TRUE(status.converged());
  EXPECT_EQ(status.cores_size(), 2);

  grpc::ClientContext c2;
  v1::DrainRequest drain;
  drain.set_listener("web");
  drain.mutable_deadline()->set_seconds(3);
  v1::DrainResponse drained;
  ASSERT_TRUE(stub_->Drain(&c2, drain, &drained).ok());
  EXPECT_GT(drained.deadline().seconds(), 0);
  EXPECT_EQ(dp_.drains().at("web"), absl::Seconds(3));

  grpc::ClientContext c3;
  drain.set_listener("nope");
  EXPECT_EQ(stub_->Drain(&c3, drain, &drained).error_code(),
            grpc::StatusCode::NOT_FOUND);

  grpc::ClientContext c4;
  v1::StatsResponse stats;
  ASSERT_TRUE(stub_->Stats(&c4, v1::StatsRequest(), &stats).ok());
  EXPECT_EQ(stats.endpoints_size(), 4);
}

TEST_F(ServiceTest, HealthAndReflectionAreServed) {
  EXPECT_EQ(testing::HealthStatus(channel_, ""), 1);  // SERVING
  EXPECT_EQ(testing::HealthStatus(channel_, "locus.api.v1.ControlPlane"), 1);

  // ServerReflectionRequest { string list_services = 7; } with "".
  std::string request("\x3a\x00", 2);
  std::string response;
  grpc::Status status = testing::RawBidiExchange(
      channel_,
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", request,
      &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(response, HasSubstr("locus.api.v1.ControlPlane"));
  EXPECT_THAT(response, HasSubstr("grpc.health.v1.Health"));
}

// ---- certificates and secrets ------------------------------------------------

namespace tt = ::locus::proxy::tls::testing;

class ServiceTlsTest : public ServiceTest {
 protected:
  // Shared "www" (www.example.com, 127.0.0.1) served by "web"; inline "own"
  // on "web"; shared "staged" served by nobody; two ticket keys.
  v1::Config TlsConfig() {
    v1::Config c = BaseConfig();
    auto cert = [](v1::Certificate* out, const std::string& name,
                   const tt::TestPki::Leaf& leaf) {
      out->set_name(name);
      out->set_cert_chain_pem(leaf.chain_pem);
      out->set_private_key_pem(leaf.key_pem);
    };
    cert(c.add_certificates(), "www", www_);
    cert(c.add_certificates(), "staged", www_);
    c.mutable_listeners(0)->mutable_tls()->add_certificate_refs("www");
    cert(c.mutable_listeners(0)->mutable_tls()->add_certificates(), "own", own_);
    c.mutable_session_tickets()->add_keys(kTicketKey);
    return c;
  }

  static tt::TestPki::Leaf Issue(const tt::TestPki& pki, const std::string& host,
                                 std::vector<std::string> ips, absl::Duration left) {
    tt::CertSpec spec;
    spec.common_name = host;
    spec.dns_names = {host};
    spec.ip_addresses = std::move(ips);
    spec.not_before = absl::Now() - absl::Hours(1);
    spec.not_after = absl::Now() + left;
    return pki.Issue(spec);
  }

  static constexpr char kTicketKey[] =
      "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v";
  tt::TestPki pki_;
  tt::TestPki::Leaf www_ =
      Issue(pki_, "www.example.com", {"127.0.0.1"}, absl::Hours(24 * 100) + absl::Minutes(5));
  tt::TestPki::Leaf own_ = Issue(pki_, "own.example.com", {}, absl::Hours(24 * 200));
};

// Every read RPC: not one returns a PEM private key or a ticket key.
TEST_F(ServiceTlsTest, NoReadReturnsAKey) {
  std::vector<std::string> responses;
  auto keep = [&](const google::protobuf::Message& m) {
    responses.push_back(m.SerializeAsString());
  };
  grpc::ClientContext watch_context;
  watch_context.set_deadline(Deadline(10));
  v1::WatchRequest watch_request;
  watch_request.set_include_config(true);
  std::unique_ptr<grpc::ClientReader<v1::WatchEvent>> watch =
      stub_->Watch(&watch_context, watch_request);
  v1::WatchEvent event;
  ASSERT_TRUE(watch->Read(&event));  // initial, version 0

  v1::ApplyRequest validate;
  *validate.mutable_config() = TlsConfig();
  validate.set_validate_only(true);
  v1::ApplyResponse applied;
  ASSERT_TRUE(Apply(validate, &applied).ok());
  keep(applied);
  ASSERT_TRUE(ApplyConfig(TlsConfig(), &applied).ok());
  keep(applied);
  EXPECT_EQ(applied.config().certificates(1).private_key_pem(),
            api::RedactedForm(www_.key_pem));
  EXPECT_EQ(applied.config().session_tickets().keys(0), api::RedactedForm(kTicketKey));
  ASSERT_TRUE(watch->Read(&event));
  EXPECT_EQ(event.version(), 1u);
  ASSERT_TRUE(event.has_config());
  keep(event);

  grpc::ClientContext c1, c2, c3, c4, c5;
  v1::Config config;
  ASSERT_TRUE(stub_->GetConfig(&c1, v1::GetConfigRequest(), &config).ok());
  keep(config);
  v1::GetRequest web;
  web.set_name("web");
  v1::GetListenerResponse listener;
  ASSERT_TRUE(stub_->GetListener(&c2, web, &listener).ok());
  keep(listener);
  EXPECT_EQ(listener.listener().tls().certificates(0).private_key_pem(),
            api::RedactedForm(own_.key_pem));
  v1::ListListenersResponse listeners;
  ASSERT_TRUE(stub_->ListListeners(&c3, v1::ListRequest(), &listeners).ok());
  keep(listeners);
  v1::GetRequest www;
  www.set_name("www");
  v1::GetCertificateResponse certificate;
  ASSERT_TRUE(stub_->GetCertificate(&c4, www, &certificate).ok());
  keep(certificate);
  EXPECT_EQ(certificate.certificate().private_key_pem(), api::RedactedForm(www_.key_pem));
  EXPECT_EQ(certificate.certificate().cert_chain_pem(), www_.chain_pem);
  EXPECT_EQ(certificate.version(), 1u);
  v1::ListCertificatesResponse list;
  ASSERT_TRUE(stub_->ListCertificates(&c5, v1::ListRequest(), &list).ok());
  keep(list);

  ASSERT_EQ(responses.size(), 8u);
  for (const std::string& r : responses) {
    EXPECT_THAT(r, ::testing::Not(HasSubstr("PRIVATE KEY")));
    EXPECT_THAT(r, ::testing::Not(HasSubstr(kTicketKey)));
  }
  // The control plane itself keeps the real keys.
  EXPECT_EQ(cp_->Current()->config.certificates(1).private_key_pem(), www_.key_pem);

  // What GetConfig returned applies back as a no-op.
  ASSERT_TRUE(ApplyConfig(config, &applied).ok());
  EXPECT_FALSE(applied.changed());
  watch_context.TryCancel();
}

TEST_F(ServiceTlsTest, GetCertificateNotFound) {
  grpc::ClientContext context;
  v1::GetRequest request;
  request.set_name("nope");
  v1::GetCertificateResponse response;
  grpc::Status s = stub_->GetCertificate(&context, request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("certificate \"nope\" not found at version 0"));
  EXPECT_THAT(s.error_message(), HasSubstr("`proxyctl get certificates`"));
}

TEST_F(ServiceTlsTest, ListCertificatesReadsEachLeaf) {
  v1::ApplyResponse applied;
  ASSERT_TRUE(ApplyConfig(TlsConfig(), &applied).ok());
  grpc::ClientContext context;
  v1::ListCertificatesResponse list;
  ASSERT_TRUE(stub_->ListCertificates(&context, v1::ListRequest(), &list).ok());
  EXPECT_EQ(list.version(), 1u);
  // Shared by name, then inline by listener and name.
  ASSERT_EQ(list.certificates_size(), 3);
  const v1::CertificateInfo& staged = list.certificates(0);
  const v1::CertificateInfo& www = list.certificates(1);
  const v1::CertificateInfo& own = list.certificates(2);
  EXPECT_EQ(staged.name(), "staged");
  EXPECT_TRUE(staged.listeners().empty());
  EXPECT_EQ(www.name(), "www");
  EXPECT_EQ(www.listener(), "");
  EXPECT_THAT(www.subject(), HasSubstr("CN=www.example.com"));
  EXPECT_THAT(www.issuer(), HasSubstr("Intermediate CA"));
  EXPECT_EQ(std::vector<std::string>(www.dns_names().begin(), www.dns_names().end()),
            (std::vector<std::string>{"www.example.com", "127.0.0.1"}));
  EXPECT_EQ(www.days_left(), 100);
  EXPECT_EQ(www.key_type(), "ECDSA-P256");
  EXPECT_EQ(www.sha256_fingerprint().size(), 64u);
  EXPECT_EQ(www.chain_length(), 2u);
  EXPECT_EQ(std::vector<std::string>(www.listeners().begin(), www.listeners().end()),
            std::vector<std::string>{"web"});
  EXPECT_GT(www.not_after().seconds(), www.not_before().seconds());
  EXPECT_EQ(own.name(), "own");
  EXPECT_EQ(own.listener(), "web");
  EXPECT_EQ(own.days_left(), 199);
  EXPECT_EQ(std::vector<std::string>(own.listeners().begin(), own.listeners().end()),
            std::vector<std::string>{"web"});
}

TEST(DaysLeftTest, RoundsDownAndGoesNegative) {
  const absl::Time t = absl::FromUnixSeconds(1800000000);
  EXPECT_EQ(DaysLeft(t + absl::Hours(24), t), 1);
  EXPECT_EQ(DaysLeft(t + absl::Hours(24) - absl::Seconds(1), t), 0);
  EXPECT_EQ(DaysLeft(t, t), 0);
  EXPECT_EQ(DaysLeft(t - absl::Seconds(1), t), -1);
  EXPECT_EQ(DaysLeft(t - absl::Hours(48), t), -2);
}

}  // namespace
}  // namespace locus::proxy::control
