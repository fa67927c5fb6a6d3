// FromProto and Compile for TLS listeners: the API's ListenerTls becomes
// DataPlaneConfig::tls (names qualified by listener, no default = reject
// unknown SNI), and Compile refuses what no shard could load.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/dataplane/config.h"
#include "proxy/dataplane/from_proto.h"
#include "proxy/tls/test_certs.h"

namespace locus::proxy::dataplane {
namespace {

namespace tt = tls::testing;
using ::testing::HasSubstr;

class FromProtoTlsTest : public ::testing::Test {
 protected:
  FromProtoTlsTest() {
    api::v1::Listener* l = config_.add_listeners();
    l->set_name("secure");
    l->set_port(443);
    l->set_route_table("main");
    config_.add_route_tables()->set_name("main");
    tt::CertSpec spec;
    spec.common_name = "www.example.com";
    spec.dns_names = {"www.example.com"};
    leaf_ = pki_.Issue(spec);
  }
  api::v1::Certificate* AddCert(const std::string& name) {
    api::v1::Certificate* c =
        config_.mutable_listeners(0)->mutable_tls()->add_certificates();
    c->set_name(name);
    c->set_cert_chain_pem(leaf_.chain_pem);
    c->set_private_key_pem(leaf_.key_pem);
    return c;
  }

  tt::TestPki pki_;
  tt::TestPki::Leaf leaf_;
  api::v1::Config config_;
};

TEST_F(FromProtoTlsTest, NoTlsIsPlainHttp) {
  absl::StatusOr<DataPlaneConfig> c = FromProto(config_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->listeners[0].tls);
  EXPECT_TRUE(c->tls.listeners.empty());
  absl::StatusOr<std::shared_ptr<const CompiledConfig>> compiled = Compile(*c, 1, 1);
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  EXPECT_EQ((*compiled)->tls, nullptr);
}

TEST_F(FromProtoTlsTest, SettingsAreMapped) {
  AddCert("a");
  AddCert("b");
  api::v1::ListenerTls* t = config_.mutable_listeners(0)->mutable_tls();
  t->set_default_certificate("b");
  t->set_min_version(api::v1::ListenerTls::TLS1_3);
  t->set_ciphersuites("TLS_AES_256_GCM_SHA384");
  absl::StatusOr<DataPlaneConfig> c = FromProto(config_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->listeners[0].tls);
  ASSERT_EQ(c->tls.certificates.size(), 2u);
  EXPECT_EQ(c->tls.certificates[0].name, "secure/a");
  EXPECT_EQ(c->tls.certificates[1].chain_pem, leaf_.chain_pem);
  ASSERT_EQ(c->tls.listeners.size(), 1u);
  const tls::ListenerTlsSettings& l = c->tls.listeners[0];
  EXPECT_EQ(l.listener, "secure");
  EXPECT_EQ(l.certificates, (std::vector<std::string>{"secure/a", "secure/b"}));
  EXPECT_EQ(l.default_certificate, "secure/b");
  EXPECT_EQ(l.on_unknown_sni, tls::UnknownSni::kDefaultCertificate);
  EXPECT_EQ(l.min_version, tls::TlsVersion::kTls13);
  EXPECT_EQ(l.ciphersuites, "TLS_AES_256_GCM_SHA384");
  EXPECT_TRUE(c->tls.ticket_keys.empty());  // the shards add theirs
  absl::StatusOr<std::shared_ptr<const CompiledConfig>> compiled = Compile(*c, 1, 2);
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  ASSERT_NE((*compiled)->tls, nullptr);
  EXPECT_EQ((*compiled)->tls->listeners.size(), 1u);
}

TEST_F(FromProtoTlsTest, NoDefaultCertificateRejectsUnknownNames) {
  AddCert("a");
  absl::StatusOr<DataPlaneConfig> c = FromProto(config_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->tls.listeners[0].on_unknown_sni, tls::UnknownSni::kReject);
  EXPECT_EQ(c->tls.listeners[0].min_version, tls::TlsVersion::kTls12);
}

TEST_F(FromProtoTlsTest, CompileRefusesWhatShardsCannotLoad) {
  AddCert("a")->set_private_key_pem("not a key");
  absl::StatusOr<DataPlaneConfig> c = FromProto(config_);
  ASSERT_TRUE(c.ok()) << c.status();
  absl::StatusOr<std::shared_ptr<const CompiledConfig>> compiled = Compile(*c, 1, 1);
  ASSERT_FALSE(compiled.ok());
  EXPECT_THAT(std::string(compiled.status().message()), HasSubstr("tls: "));
  EXPECT_THAT(std::string(compiled.status().message()), ::testing::Not(HasSubstr("not a key")));
}

TEST_F(FromProtoTlsTest, CompileRefusesTlsOnTcpListeners) {
  AddCert("a");
  config_.mutable_listeners(0)->set_protocol(api::v1::Listener::TCP);
  config_.mutable_listeners(0)->clear_route_table();
  config_.mutable_listeners(0)->set_pool("p");
  api::v1::BackendPool* p = config_.add_pools();
  p->set_name("p");
  api::v1::Endpoint* e = p->add_endpoints();
  e->set_address("10.0.0.1");
  e->set_port(80);
  absl::StatusOr<DataPlaneConfig> c = FromProto(config_);
  ASSERT_TRUE(c.ok()) << c.status();
  absl::StatusOr<std::shared_ptr<const CompiledConfig>> compiled = Compile(*c, 1, 1);
  ASSERT_FALSE(compiled.ok());
  EXPECT_THAT(std::string(compiled.status().message()),
              HasSubstr("listeners[0].tls: only HTTP listeners terminate TLS"));
}

// Shared certificates: loaded once, served by every listener that names
// them, after the listener's own.
TEST_F(FromProtoTlsTest, CertificateRefsResolveToOneSharedCertificate) {
  AddCert("own");
  api::v1::Certificate* shared = config_.add_certificates();
  shared->set_name("www");
  shared->set_cert_chain_pem(leaf_.chain_pem);
  shared->set_private_key_pem(leaf_.key_pem);
  api::v1::Certificate* staged = config_.add_certificates();
  *staged = *shared;
  staged->set_name("staged");  // referenced by nobody: not loaded
  config_.mutable_listeners(0)->mutable_tls()->add_certificate_refs("www");
  config_.mutable_listeners(0)->mutable_tls()->set_default_certificate("www");
  api::v1::Listener* second = config_.add_listeners();
  second->set_name("secure2");
  second->set_port(8443);
  second->set_route_table("main");
  second->mutable_tls()->add_certificate_refs("www");

  absl::StatusOr<DataPlaneConfig> c = FromProto(config_);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->tls.certificates.size(), 2u);
  EXPECT_EQ(c->tls.certificates[0].name, "secure/own");
  EXPECT_EQ(c->tls.certificates[1].name, "shared:www");
  EXPECT_EQ(c->tls.certificates[1].key_pem, leaf_.key_pem);
  ASSERT_EQ(c->tls.listeners.size(), 2u);
  EXPECT_EQ(c->tls.listeners[0].certificates,
            (std::vector<std::string>{"secure/own", "shared:www"}));
  EXPECT_EQ(c->tls.listeners[0].default_certificate, "shared:www");
  EXPECT_EQ(c->tls.listeners[0].on_unknown_sni, tls::UnknownSni::kDefaultCertificate);
  EXPECT_EQ(c->tls.listeners[1].certificates, std::vector<std::string>{"shared:www"});
  EXPECT_EQ(c->tls.listeners[1].on_unknown_sni, tls::UnknownSni::kReject);
  absl::StatusOr<std::shared_ptr<const CompiledConfig>> compiled = Compile(*c, 1, 2);
  ASSERT_TRUE(compiled.ok()) << compiled.status();

  // Rotation: new PEM under the same name reaches both listeners.
  tt::CertSpec spec;
  spec.common_name = "www v2";
  spec.dns_names = {"www.example.com"};
  tt::TestPki::Leaf v2 = pki_.Issue(spec);
  config_.mutable_certificates(0)->set_cert_chain_pem(v2.chain_pem);
  config_.mutable_certificates(0)->set_private_key_pem(v2.key_pem);
  c = FromProto(config_);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->tls.certificates.size(), 2u);
  EXPECT_EQ(c->tls.certificates[1].chain_pem, v2.chain_pem);
  EXPECT_EQ(c->tls.listeners[1].certificates, std::vector<std::string>{"shared:www"});
}

TEST_F(FromProtoTlsTest, UnknownRefIsAnError) {
  config_.mutable_listeners(0)->mutable_tls()->add_certificate_refs("gone");
  absl::StatusOr<DataPlaneConfig> c = FromProto(config_);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("listeners[0].tls.certificate_refs[0]: certificate 'gone' does not exist"));
}

// BackendPool.tls becomes UpstreamSettings::tls; Compile refuses a bundle
// no shard could load and what the data plane does not do over TLS.
TEST_F(FromProtoTlsTest, UpstreamTlsIsMappedAndChecked) {
  api::v1::BackendPool* p = config_.add_pools();
  p->set_name("p");
  api::v1::Endpoint* e = p->add_endpoints();
  e->set_address("10.0.0.1");
  e->set_port(8443);
  api::v1::UpstreamTls* t = p->mutable_tls();
  t->set_server_name("backend.example.com");
  t->set_ca_bundle_pem(pki_.root_pem());
  t->set_min_version(api::v1::ListenerTls::TLS1_3);
  absl::StatusOr<DataPlaneConfig> c = FromProto(config_);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->upstream.size(), 1u);
  EXPECT_TRUE(c->upstream[0].tls.enabled);
  EXPECT_EQ(c->upstream[0].tls.server_name, "backend.example.com");
  EXPECT_EQ(c->upstream[0].tls.ca_pem, pki_.root_pem());
  EXPECT_EQ(c->upstream[0].tls.min_version, tls::TlsVersion::kTls13);
  absl::StatusOr<std::shared_ptr<const CompiledConfig>> compiled = Compile(*c, 1, 1);
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  EXPECT_TRUE((*compiled)->pools[0].upstream.tls.enabled);

  DataPlaneConfig bad = *c;
  bad.upstream[0].tls.ca_pem = "not a certificate";
  EXPECT_THAT(std::string(Compile(bad, 1, 1).status().message()), HasSubstr("pools[0].tls: "));

  bad = *c;
  health::HealthCheckConfig check;
  check.kind = health::CheckKind::kHttp;
  bad.pools[0].health_check = check;
  EXPECT_THAT(std::string(Compile(bad, 1, 1).status().message()),
              HasSubstr("pools[0].health_check.http: HTTP health checks over TLS"));

  bad = *c;
  ListenerConfig tcp;
  tcp.name = "tcp";
  tcp.port = 5432;
  tcp.protocol = ListenerProtocol::kTcp;
  tcp.pool = "p";
  bad.listeners.push_back(tcp);
  EXPECT_THAT(std::string(Compile(bad, 1, 1).status().message()),
              HasSubstr("listeners[1].pool: pool 'p' has tls"));
}

}  // namespace
}  // namespace locus::proxy::dataplane
