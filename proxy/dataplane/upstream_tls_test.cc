// TLS to backends (BackendPool.tls) over the in-memory link in virtual
// time, with one proxy shard and with two: the backend is a real OpenSSL
// server (tls::TlsServerConnection) over a peer Tcb. A verified backend by
// DNS name (SNI sent) and by IP address, a wrong CA and a wrong name (the
// handshake fails like a connect: 502, counted), keep-alive reusing the
// upstream TLS connection (and not once the pool's TLS settings changed),
// Upgrade not forwarded, and a large response byte-exact.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proxy/dataplane/testing/proxy_fixture.h"
#include "proxy/tls/server_connection.h"
#include "proxy/tls/test_certs.h"
#include "proxy/tls/transport.h"

namespace locus::proxy::dataplane {
namespace {

using testing::ParsedResponses;
using testing::PeerHost;
using testing::TestClient;
using testing::TestNetOptions;
namespace tt = tls::testing;

constexpr uint16_t kTlsBackendPort = 8443;
constexpr char kBackendName[] = "backend.example.com";
// A request's head is read whole before the answer (GET only, no body).
constexpr size_t kMaxBackendInput = 64 * 1024;

// An HTTPS backend: answers every request head with 200 and `body`,
// keeping the connection. Records the SNI of every connection and the
// heads it received.
class TlsBackend final : public testing::PeerAcceptor, public testing::PeerPollable {
 public:
  TlsBackend(PeerHost& host, uint16_t port, std::shared_ptr<const tls::TlsContextSet> set)
      : host_(host), set_(std::move(set)) {
    absl::StatusOr<tcp::Listener*> l = host.stack().tcp().Listen(host.address(), port);
    if (!l.ok()) {
      ADD_FAILURE() << "backend listen: " << l.status();
      return;
    }
    listener_ = *l;
    listener_->set_user_data(static_cast<testing::PeerAcceptor*>(this));
    host_.Register(this);
  }
  ~TlsBackend() {
    host_.Unregister(this);
    for (auto& c : conns_) c->Release(/*abort=*/true);
    if (listener_ != nullptr) host_.stack().tcp().CloseListener(listener_, Instant());
  }

  void set_body(std::string body) { body_ = std::move(body); }

  struct Conn final : public testing::PeerConn {
    Conn(TlsBackend& b, tcp::Tcb* t) : backend(b), tcb(t) {
      tcb->set_user_data(static_cast<testing::PeerConn*>(this));
      tls = tls::TlsServerConnection::Create(b.set_, b.set_->Find("backend"), &b.counters_);
    }
    void OnEvent(tcp::Tcb* t, uint16_t events, Instant) override {
      if (t != tcb) return;
      Pump();
      if (tcb != nullptr && (events & tcp::kEventClosed)) Release(/*abort=*/false);
    }
    void Pump() {
      if (tcb == nullptr || tls == nullptr) return;
      tls::PullCiphertext(*tcb, *tls);
      tls->Advance();
      if (tls->handshake_done() && !handshaken) {
        handshaken = true;
        sni.assign(tls->server_name().data(), tls->server_name().size());
      }
      tls::ReadPlaintextInto(*tcb, *tls, in, kMaxBackendInput);
      for (size_t end; (end = in.find("\r\n\r\n")) != std::string::npos;) {
        heads.push_back(in.substr(0, end + 4));
        in.erase(0, end + 4);
        out += absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ", backend.body_.size(),
                            "\r\n\r\n", backend.body_);
      }
      if (!out.empty()) {
        size_t n = tls::WritePlaintextTo(*tls, *tcb, {reinterpret_cast<const uint8_t*>(out.data()),
                                                     out.size()});
        out.erase(0, n);
      }
      tls::PushCiphertext(*tls, *tcb);
      bool failed = tls->state() == tls::TlsState::kFailed;
      if (failed || (tcb->peer_closed() && tcb->readable() == 0)) Release(/*abort=*/false);
    }
    void Release(bool abort) {
      if (tcb == nullptr) return;
      tcp::Tcb* t = tcb;
      tcb = nullptr;
      t->set_user_data(nullptr);
      if (abort) {
        t->Abort();
      } else {
        t->Close();
      }
    }

    TlsBackend& backend;
    tcp::Tcb* tcb;
    std::unique_ptr<tls::TlsServerConnection> tls;
    bool handshaken = false;
    std::string sni;
    std::string in;
    std::string out;
    std::vector<std::string> heads;
  };

  void OnAcceptable(tcp::Listener* listener, Instant) override {
    while (tcp::Tcb* tcb = listener->Accept()) {
      conns_.push_back(std::make_unique<Conn>(*this, tcb));
      conns_.back()->Pump();
    }
  }
  size_t Poll(Instant) override {
    size_t work = 0;
    for (auto& c : conns_) {
      if (c->tcb != nullptr && !c->out.empty()) {
        c->Pump();
        ++work;
      }
    }
    return work;
  }

  const std::vector<std::unique_ptr<Conn>>& conns() const { return conns_; }
  size_t handshakes() const {
    size_t n = 0;
    for (auto& c : conns_) n += c->handshaken ? 1 : 0;
    return n;
  }

 private:
  PeerHost& host_;
  std::shared_ptr<const tls::TlsContextSet> set_;
  tcp::Listener* listener_ = nullptr;
  tls::TlsCounters counters_;
  std::string body_ = "secure backend";
  std::vector<std::unique_ptr<Conn>> conns_;
};

class UpstreamTlsTest : public testing::ProxyFixture,
                        public ::testing::WithParamInterface<unsigned> {
 protected:
  void SetUp() override {
    TestNetOptions options;
    options.shards = GetParam();
    StartNet(options);
    // The backend's certificate names it and the peer host's address.
    tt::CertSpec spec;
    spec.common_name = kBackendName;
    spec.dns_names = {kBackendName};
    spec.ip_addresses = {net().peer().address().ToString()};
    tt::TestPki::Leaf leaf = pki_.Issue(spec);
    tls::TlsSettings settings;
    settings.certificates.push_back({"backend", leaf.chain_pem, leaf.key_pem});
    tls::ListenerTlsSettings l;
    l.listener = "backend";
    l.certificates = {"backend"};
    settings.listeners.push_back(l);
    absl::StatusOr<std::shared_ptr<const tls::TlsContextSet>> set =
        tls::TlsContextSet::Create(settings);
    ASSERT_TRUE(set.ok()) << set.status();
    backend_ = std::make_unique<TlsBackend>(net().peer(), kTlsBackendPort, *set);
  }

  // The backend lives on the peer host: it goes (resetting what is still
  // open, kept-alive upstream connections included) once the clients are
  // gone, before the fixture's checks and the network's shutdown.
  void TearDown() override {
    for (auto& c : clients_) c->Close();
    net().RunUntil([&] { return net().Sum(&ProxyCounters::active_connections) == 0; },
                   Duration::Seconds(10));
    backend_.reset();
    ProxyFixture::TearDown();
  }

  // SimpleConfig to the TLS backend, with pool "p" verifying it.
  void Apply(const std::string& server_name, const std::string& ca_pem) {
    DataPlaneConfig c = testing::SimpleConfig({kTlsBackendPort});
    c.upstream[0].tls.enabled = true;
    c.upstream[0].tls.server_name = server_name;
    c.upstream[0].tls.ca_pem = ca_pem;
    net().Apply(c);
  }

  uint64_t UpstreamTls(std::atomic<uint64_t> tls::TlsCounters::*c) {
    uint64_t n = 0;
    for (unsigned i = 0; i < net().shards(); ++i) n += (net().tables(i).upstream_tls.*c).load();
    return n;
  }
  uint64_t UpstreamFailures(tls::TlsFailure f) {
    uint64_t n = 0;
    for (unsigned i = 0; i < net().shards(); ++i) {
      n += net().tables(i).upstream_tls.handshake_failures[static_cast<size_t>(f)].load();
    }
    return n;
  }

  tt::TestPki pki_;
  std::unique_ptr<TlsBackend> backend_;
};

INSTANTIATE_TEST_SUITE_P(Shards, UpstreamTlsTest, ::testing::Values(1u, 2u),
                         [](const ::testing::TestParamInfo<unsigned>& i) {
                           return absl::StrCat(i.param, "shard");
                         });

constexpr char kGet[] = "GET /hello HTTP/1.1\r\nHost: www.example.com\r\n\r\n";

TEST_P(UpstreamTlsTest, VerifiedBackendByNameGetsSniAndAnswers) {
  Apply(kBackendName, pki_.root_pem());
  TestClient& c = Connect();
  ParsedResponses r = Exchange(c, kGet, {"GET"});
  ASSERT_EQ(r.responses.size(), 1u);
  EXPECT_EQ(r.responses[0].status, 200);
  EXPECT_EQ(r.responses[0].body, "secure backend");
  // The request was complete before its response (the parser did not stall
  // behind the handshake): the client connection stays open.
  EXPECT_FALSE(r.responses[0].Get("connection").has_value());
  ASSERT_EQ(backend_->conns().size(), 1u);
  EXPECT_EQ(backend_->conns()[0]->sni, kBackendName);
  ASSERT_EQ(backend_->conns()[0]->heads.size(), 1u);
  EXPECT_EQ(backend_->conns()[0]->heads[0].rfind("GET /hello HTTP/1.1\r\n", 0), 0u);
  EXPECT_EQ(UpstreamTls(&tls::TlsCounters::handshakes_full), 1u);
  // The client side's counters are the TLS listeners' only.
  uint64_t downstream = 0;
  for (unsigned i = 0; i < net().shards(); ++i) {
    downstream += net().tables(i).tls.handshakes_full.load();
  }
  EXPECT_EQ(downstream, 0u);
}

TEST_P(UpstreamTlsTest, VerifiedBackendByAddressSendsNoSni) {
  Apply("", pki_.root_pem());
  TestClient& c = Connect();
  ParsedResponses r = Exchange(c, kGet, {"GET"});
  ASSERT_EQ(r.responses.size(), 1u);
  EXPECT_EQ(r.responses[0].status, 200);
  ASSERT_EQ(backend_->conns().size(), 1u);
  EXPECT_TRUE(backend_->conns()[0]->handshaken);
  EXPECT_EQ(backend_->conns()[0]->sni, "");
}

TEST_P(UpstreamTlsTest, WrongCaIsAConnectFailureAndCounted) {
  tt::TestPki other(absl::Now(), "Other CA");
  Apply(kBackendName, other.root_pem());
  TestClient& c = Connect();
  ParsedResponses r = Exchange(c, kGet, {"GET"});
  ASSERT_EQ(r.responses.size(), 1u);
  EXPECT_EQ(r.responses[0].status, 502);
  EXPECT_NE(r.responses[0].body.find("upstream TLS handshake failure"), std::string::npos);
  // The default policy retries a connect failure once: two handshakes,
  // both refused, both counted as connect failures.
  uint64_t connect_failures = net().Sum(&ProxyCounters::upstream_connect_failures);
  EXPECT_EQ(connect_failures, 2u);
  EXPECT_EQ(UpstreamFailures(tls::TlsFailure::kCertificateVerify), connect_failures);
  EXPECT_EQ(UpstreamTls(&tls::TlsCounters::handshakes_full), 0u);
  for (auto& conn : backend_->conns()) EXPECT_TRUE(conn->heads.empty());
}

TEST_P(UpstreamTlsTest, WrongServerNameIsRefused) {
  Apply("other.example.com", pki_.root_pem());
  TestClient& c = Connect();
  ParsedResponses r = Exchange(c, kGet, {"GET"});
  ASSERT_EQ(r.responses.size(), 1u);
  EXPECT_EQ(r.responses[0].status, 502);
  EXPECT_NE(r.responses[0].body.find("upstream TLS handshake failure"), std::string::npos);
  EXPECT_GE(UpstreamFailures(tls::TlsFailure::kCertificateVerify), 1u);
  for (auto& conn : backend_->conns()) EXPECT_TRUE(conn->heads.empty());
}

TEST_P(UpstreamTlsTest, KeepAliveReusesTheUpstreamTlsConnection) {
  Apply(kBackendName, pki_.root_pem());
  TestClient& c = Connect();
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    ParsedResponses r = Exchange(c, kGet, {"GET"});
    ASSERT_EQ(r.responses.size(), 1u);
    EXPECT_EQ(r.responses[0].status, 200);
    EXPECT_EQ(r.responses[0].body, "secure backend");
    c.Take();
  }
  ASSERT_EQ(backend_->conns().size(), 1u);
  EXPECT_EQ(backend_->conns()[0]->heads.size(), 2u);
  EXPECT_EQ(backend_->handshakes(), 1u);
  EXPECT_EQ(UpstreamTls(&tls::TlsCounters::handshakes_full), 1u);
  EXPECT_EQ(net().Sum(&ProxyCounters::upstream_reused), 1u);
}

TEST_P(UpstreamTlsTest, ChangedTlsSettingsCloseKeptAliveConnections) {
  Apply(kBackendName, pki_.root_pem());
  TestClient& c = Connect();
  ParsedResponses r = Exchange(c, kGet, {"GET"});
  ASSERT_EQ(r.responses.size(), 1u);
  EXPECT_EQ(r.responses[0].status, 200);
  c.Take();
  // The backend's CA is no longer trusted: the kept-alive connection (it
  // was verified with the old bundle) is not reused, and a new handshake
  // fails.
  tt::TestPki other(absl::Now(), "Other CA");
  Apply(kBackendName, other.root_pem());
  r = Exchange(c, kGet, {"GET"});
  ASSERT_EQ(r.responses.size(), 1u);
  EXPECT_EQ(r.responses[0].status, 502);
  EXPECT_EQ(net().Sum(&ProxyCounters::upstream_reused), 0u);
  EXPECT_GE(UpstreamFailures(tls::TlsFailure::kCertificateVerify), 1u);
  EXPECT_EQ(backend_->conns()[0]->heads.size(), 1u);
}

TEST_P(UpstreamTlsTest, UpgradeIsNotForwardedToATlsPool) {
  Apply(kBackendName, pki_.root_pem());
  TestClient& c = Connect();
  ParsedResponses r = Exchange(
      c, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
      {"GET"});
  ASSERT_EQ(r.responses.size(), 1u);
  EXPECT_EQ(r.responses[0].status, 200);
  ASSERT_EQ(backend_->conns().size(), 1u);
  ASSERT_EQ(backend_->conns()[0]->heads.size(), 1u);
  const std::string& head = backend_->conns()[0]->heads[0];
  EXPECT_EQ(head.find("Upgrade:"), std::string::npos) << head;
  EXPECT_EQ(head.find("upgrade"), std::string::npos) << head;
}

TEST_P(UpstreamTlsTest, LargeResponseArrivesByteExact) {
  std::string body(1536 * 1024, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  backend_->set_body(body);
  Apply(kBackendName, pki_.root_pem());
  TestClient& c = Connect();
  ParsedResponses r = Exchange(c, kGet, {"GET"}, Duration::Seconds(60));
  ASSERT_EQ(r.responses.size(), 1u);
  EXPECT_EQ(r.responses[0].status, 200);
  EXPECT_EQ(r.responses[0].body.size(), body.size());
  EXPECT_TRUE(r.responses[0].body == body);
}

}  // namespace
}  // namespace locus::proxy::dataplane
