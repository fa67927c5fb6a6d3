// TlsClientConnection (TLS to backends) against our own server side:
// chain and name verification, SNI, ALPN.
#include "proxy/tls/client_connection.h"

#include <openssl/x509_vfy.h>

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "proxy/tls/context_set.h"
#include "proxy/tls/server_connection.h"
#include "proxy/tls/test_peer.h"

namespace locus::proxy::tls {
namespace {

using testing::Handshake;
using testing::SniFixture;
using testing::Transfer;

class ClientConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A backend addressed by IP: its certificate names the address.
    testing::CertSpec spec;
    spec.common_name = "backend by address";
    spec.ip_addresses = {"10.1.2.3"};
    testing::TestPki::Leaf leaf = fixture_.pki.Issue(spec);
    fixture_.settings.certificates.push_back(
        {"ip", leaf.chain_pem, leaf.key_pem});
    fixture_.settings.listeners[0].certificates.push_back("ip");
    auto set = TlsContextSet::Create(fixture_.settings);
    ASSERT_TRUE(set.ok()) << set.status();
    set_ = *set;
    TlsClientSettings client;
    client.ca_pem = fixture_.pki.root_pem();
    auto context = TlsClientContext::Create(client);
    ASSERT_TRUE(context.ok()) << context.status();
    client_context_ = *context;
  }

  struct Pair {
    std::unique_ptr<TlsClientConnection> client;
    std::unique_ptr<TlsServerConnection> server;
    bool ok = false;
  };
  Pair Connect(const std::string& name) {
    Pair p;
    p.client = TlsClientConnection::Create(client_context_, name,
                                           &client_counters_);
    p.server = TlsServerConnection::Create(set_, set_->Find("web"), nullptr);
    if (p.client == nullptr || p.server == nullptr) return p;
    p.ok = Handshake(*p.client, *p.server);
    return p;
  }

  SniFixture fixture_;
  std::shared_ptr<const TlsContextSet> set_;
  std::shared_ptr<const TlsClientContext> client_context_;
  TlsCounters client_counters_;
};

TEST_F(ClientConnectionTest, VerifiesChainAndName) {
  Pair p = Connect("www.example.com");
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.client->verify_result(), X509_V_OK);
  EXPECT_EQ(p.server->server_name(), "www.example.com");
  EXPECT_EQ(p.client->alpn(), "http/1.1");
  EXPECT_EQ(client_counters_.handshakes_full.load(), 1u);
  EXPECT_EQ(Transfer(*p.client, *p.server, "GET / HTTP/1.1\r\n\r\n"),
            "GET / HTTP/1.1\r\n\r\n");
}

TEST_F(ClientConnectionTest, WildcardNameVerifies) {
  Pair p = Connect("API.example.com");
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.server->certificate()->name, "wildcard");
}

TEST_F(ClientConnectionTest, WrongNameFails) {
  // The server falls back to default.test, which is not the name asked for.
  Pair p = Connect("other.example.org");
  ASSERT_NE(p.client, nullptr);
  EXPECT_FALSE(p.ok);
  EXPECT_EQ(p.client->failure(), TlsFailure::kCertificateVerify);
  EXPECT_EQ(p.client->verify_result(), X509_V_ERR_HOSTNAME_MISMATCH);
  EXPECT_EQ(client_counters_.handshake_failures[static_cast<size_t>(
                                                    TlsFailure::kCertificateVerify)]
                .load(),
            1u);
  // The server learns why from the alert.
  EXPECT_EQ(p.server->failure(), TlsFailure::kPeerAlert);
}

TEST_F(ClientConnectionTest, UntrustedRootFails) {
  testing::TestPki other(absl::Now(), "Other");
  TlsClientSettings s;
  s.ca_pem = other.root_pem();
  client_context_ = *TlsClientContext::Create(s);
  Pair p = Connect("www.example.com");
  EXPECT_FALSE(p.ok);
  EXPECT_EQ(p.client->failure(), TlsFailure::kCertificateVerify);
  EXPECT_EQ(p.client->verify_result(),
            X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
}

TEST_F(ClientConnectionTest, IpAddressMatchesIpSan) {
  fixture_.settings.listeners[0].default_certificate = "ip";
  set_ = *TlsContextSet::Create(fixture_.settings);
  Pair p = Connect("10.1.2.3");
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.server->server_name(), "") << "no SNI for an address";
  Pair wrong = Connect("10.1.2.4");
  EXPECT_FALSE(wrong.ok);
  EXPECT_EQ(wrong.client->verify_result(), X509_V_ERR_IP_ADDRESS_MISMATCH);
}

TEST_F(ClientConnectionTest, BadNamesAndSettingsRefused) {
  EXPECT_EQ(TlsClientConnection::Create(client_context_, "a b", &client_counters_),
            nullptr);
  EXPECT_EQ(TlsClientConnection::Create(client_context_, "", &client_counters_),
            nullptr);
  EXPECT_EQ(client_counters_.setup_failures.load(), 2u);

  TlsClientSettings none;
  auto no_ca = TlsClientContext::Create(none);
  ASSERT_FALSE(no_ca.ok());
  EXPECT_TRUE(absl::StrContains(no_ca.status().message(), "ca_pem"));
  TlsClientSettings garbage;
  garbage.ca_pem = "garbage";
  EXPECT_FALSE(TlsClientContext::Create(garbage).ok());
  TlsClientSettings wide;
  wide.ca_pem = fixture_.pki.root_pem();
  wide.cipher_list = "ALL";
  EXPECT_FALSE(TlsClientContext::Create(wide).ok());
}

}  // namespace
}  // namespace locus::proxy::tls
