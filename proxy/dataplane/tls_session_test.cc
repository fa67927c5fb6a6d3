// HTTPS through a TLS listener over the in-memory link in virtual time, with
// one proxy shard and with two: the client side is a real OpenSSL client
// (proxy/tls test peers) over a TestClient's bytes. TLS 1.3 and 1.2, SNI
// choosing the certificate (exact, default, rejected), keep-alive on one TLS
// connection, garbage and plain HTTP on the TLS port, a certificate
// replaced by a config change while a TLS connection stays open, WebSocket
// tunnels over TLS, and session tickets (configured, rotated, disabled).
#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proxy/dataplane/http_session.h"
#include "proxy/dataplane/testing/proxy_fixture.h"
#include "proxy/tls/test_certs.h"
#include "proxy/tls/test_peer.h"

namespace locus::proxy::dataplane {
namespace {

using testing::FinalResponses;
using testing::ParsedResponses;
using testing::ParseResponses;
using testing::TestBackend;
using testing::TestClient;
using testing::TestNetOptions;
namespace tt = tls::testing;

constexpr uint16_t kHttpsPort = 443;

// A TLS client over a TestClient: Pump() moves ciphertext between the two
// and collects plaintext. Called from RunUntil predicates.
class TlsPeer {
 public:
  TlsPeer(TestClient& tcp, SSL_CTX* ctx, const std::string& sni, SSL_SESSION* session = nullptr)
      : tcp_(tcp), tls_(tt::RawClient::Create(ctx, sni, session)) {}

  void Send(std::string_view plaintext) { out_.append(plaintext); }

  void Pump() {
    in_ += tcp_.Take();
    while (!in_.empty()) {
      size_t n = tls_->FeedCiphertext(
          {reinterpret_cast<const uint8_t*>(in_.data()), in_.size()});
      if (n == 0) break;
      in_.erase(0, n);
    }
    if (in_.empty() && (tcp_.peer_closed() || tcp_.closed()) && !eof_) {
      eof_ = true;
      tls_->FeedEof();
    }
    tls_->Advance();
    uint8_t buf[4096];
    while (size_t n = tls_->ReadPlaintext(buf)) plain_.append(reinterpret_cast<char*>(buf), n);
    if (!out_.empty() && tls_->handshake_done()) {
      size_t n = tls_->WritePlaintext({reinterpret_cast<const uint8_t*>(out_.data()), out_.size()});
      out_.erase(0, n);
    }
    while (true) {
      std::span<const uint8_t> pending = tls_->PendingCiphertext();
      if (pending.empty()) break;
      tcp_.Send(std::string_view(reinterpret_cast<const char*>(pending.data()), pending.size()));
      tls_->ConsumeCiphertext(pending.size());
    }
  }

  tls::TlsConnection& tls() { return *tls_; }
  const std::string& plain() const { return plain_; }
  std::string TakePlain() { return std::exchange(plain_, {}); }

 private:
  TestClient& tcp_;
  std::unique_ptr<tt::RawClient> tls_;
  std::string in_;
  std::string out_;
  std::string plain_;
  bool eof_ = false;
};

class TlsSessionTest : public testing::ProxyFixture,
                       public ::testing::WithParamInterface<unsigned> {
 protected:
  void Init() {
    TestNetOptions options;
    options.shards = GetParam();
    StartNet(options);
    backend_ = &AddBackend(8001, "b1");
    net().Apply(Config("www v1", /*with_default=*/true));
  }

  // The plain config of SimpleConfig plus TLS listener "secure" on 443
  // with certificates "www" (www.example.com, subject CN `www_cn`) and
  // "api" (api.example.com); "www" is the default when `with_default`.
  DataPlaneConfig Config(const std::string& www_cn, bool with_default,
                         tls::TlsVersion min_version = tls::TlsVersion::kTls12) {
    DataPlaneConfig c = testing::SimpleConfig({8001});
    ListenerConfig l = testing::HttpListener("secure", kHttpsPort, "main");
    l.tls = true;
    c.listeners.push_back(l);
    auto add = [&](const std::string& name, const std::string& cn, const std::string& dns) {
      tt::CertSpec spec;
      spec.common_name = cn;
      spec.dns_names = {dns};
      tt::TestPki::Leaf leaf = pki_.Issue(spec);
      c.tls.certificates.push_back({"secure/" + name, leaf.chain_pem, leaf.key_pem});
    };
    add("www", www_cn, "www.example.com");
    add("api", "api", "api.example.com");
    tls::ListenerTlsSettings t;
    t.listener = "secure";
    t.certificates = {"secure/www", "secure/api"};
    if (with_default) {
      t.default_certificate = "secure/www";
      t.on_unknown_sni = tls::UnknownSni::kDefaultCertificate;
    } else {
      t.on_unknown_sni = tls::UnknownSni::kReject;
    }
    t.min_version = min_version;
    c.tls.listeners.push_back(t);
    return c;
  }

  TlsPeer& ConnectTls(const std::string& sni, int max_version = TLS1_3_VERSION) {
    tt::ClientOptions o;
    o.max_version = max_version;
    ctxs_.push_back(tt::MakeClientCtx(o));
    return ConnectTlsWith(ctxs_.back().get(), sni, nullptr);
  }
  // Over a caller's client context, offering `session` for resumption.
  TlsPeer& ConnectTlsWith(SSL_CTX* ctx, const std::string& sni, SSL_SESSION* session) {
    TestClient& tcp = Connect(kHttpsPort);
    peers_.push_back(std::make_unique<TlsPeer>(tcp, ctx, sni, session));
    return *peers_.back();
  }

  bool Handshake(TlsPeer& p) {
    net().RunUntil(
        [&] {
          p.Pump();
          return p.tls().handshake_done() || p.tls().state() == tls::TlsState::kFailed;
        },
        Duration::Seconds(5));
    return p.tls().handshake_done();
  }

  ParsedResponses Exchange(TlsPeer& p, const std::string& request, size_t count = 1) {
    p.Send(request);
    std::vector<std::string> methods(count, "GET");
    net().RunUntil(
        [&] {
          p.Pump();
          return FinalResponses(ParseResponses(p.plain(), methods)) >= count;
        },
        Duration::Seconds(5));
    return ParseResponses(p.TakePlain(), methods);
  }

  uint64_t TlsSum(std::atomic<uint64_t> tls::TlsCounters::*c) {
    uint64_t n = 0;
    for (unsigned i = 0; i < net().shards(); ++i) n += (net().tables(i).tls.*c).load();
    return n;
  }
  uint64_t Failures(tls::TlsFailure f) {
    uint64_t n = 0;
    for (unsigned i = 0; i < net().shards(); ++i) {
      n += net().tables(i).tls.handshake_failures[static_cast<size_t>(f)].load();
    }
    return n;
  }
  uint64_t AllFailures() {
    uint64_t n = 0;
    for (size_t f = 0; f < tls::kTlsFailureCount; ++f) n += Failures(static_cast<tls::TlsFailure>(f));
    return n;
  }

  tt::TestPki pki_;
  TestBackend* backend_ = nullptr;
  std::vector<tls::SslCtxPtr> ctxs_;
  std::vector<std::unique_ptr<TlsPeer>> peers_;
};

INSTANTIATE_TEST_SUITE_P(Shards, TlsSessionTest, ::testing::Values(1u, 2u),
                         [](const ::testing::TestParamInfo<unsigned>& i) {
                           return absl::StrCat(i.param, "shard");
                         });

constexpr char kGet[] = "GET /hello HTTP/1.1\r\nHost: www.example.com\r\n\r\n";

TEST_P(TlsSessionTest, HttpsGetWithTls13AndTls12) {
  Init();
  const int versions[] = {TLS1_3_VERSION, TLS1_2_VERSION};
  for (int version : versions) {
    SCOPED_TRACE(version);
    TlsPeer& p = ConnectTls("www.example.com", version);
    ASSERT_TRUE(Handshake(p));
    EXPECT_EQ(p.tls().version(), version);
    EXPECT_EQ(p.tls().alpn(), "http/1.1");
    EXPECT_EQ(tt::PeerCommonName(p.tls()), "www v1");
    ParsedResponses r = Exchange(p, kGet);
    ASSERT_EQ(FinalResponses(r), 1u);
    EXPECT_EQ(r.responses[0].status, 200);
    EXPECT_EQ(r.responses[0].body, "b1");
    ASSERT_FALSE(backend_->requests().empty());
    const testing::ReceivedRequest& got = backend_->requests().back();
    EXPECT_EQ(got.target, "/hello");
    EXPECT_EQ(got.Get("x-forwarded-proto"), "https");
    EXPECT_EQ(got.Count("x-forwarded-proto"), 1u);
  }
  EXPECT_EQ(TlsSum(&tls::TlsCounters::handshakes_full), 2u);
  EXPECT_EQ(AllFailures(), 0u);
  // The plain listener still speaks plain HTTP, and says so.
  TestClient& plain = Connect(testing::kHttpPort);
  ParsedResponses r = ProxyFixture::Exchange(plain, kGet, {"GET"});
  ASSERT_EQ(FinalResponses(r), 1u);
  EXPECT_EQ(r.responses[0].status, 200);
  EXPECT_EQ(backend_->requests().back().Get("x-forwarded-proto"), "http");
}

TEST_P(TlsSessionTest, Tls13OnlyListenerRefusesTls12) {
  StartNet(TestNetOptions{.shards = GetParam()});
  backend_ = &AddBackend(8001, "b1");
  net().Apply(Config("www v1", true, tls::TlsVersion::kTls13));
  TlsPeer& p = ConnectTls("www.example.com", TLS1_2_VERSION);
  EXPECT_FALSE(Handshake(p));
  EXPECT_EQ(Failures(tls::TlsFailure::kUnsupportedVersion), 1u);
  TlsPeer& q = ConnectTls("www.example.com", TLS1_3_VERSION);
  ASSERT_TRUE(Handshake(q));
  EXPECT_EQ(FinalResponses(Exchange(q, kGet)), 1u);
}

TEST_P(TlsSessionTest, SniChoosesTheCertificate) {
  Init();
  struct Case {
    std::string sni;
    std::string cn;
  } cases[] = {{"www.example.com", "www v1"},
               {"API.example.com", "api"},
               {"other.test", "www v1"},  // the default
               {"", "www v1"}};           // no SNI: the default
  for (const Case& c : cases) {
    SCOPED_TRACE(c.sni);
    TlsPeer& p = ConnectTls(c.sni);
    ASSERT_TRUE(Handshake(p));
    EXPECT_EQ(tt::PeerCommonName(p.tls()), c.cn);
    EXPECT_EQ(FinalResponses(Exchange(p, kGet)), 1u);
  }
  EXPECT_EQ(TlsSum(&tls::TlsCounters::sni_default_certificate), 1u);
  EXPECT_EQ(TlsSum(&tls::TlsCounters::sni_missing), 1u);
}

TEST_P(TlsSessionTest, WithoutDefaultUnknownNamesFailTheHandshake) {
  StartNet(TestNetOptions{.shards = GetParam()});
  backend_ = &AddBackend(8001, "b1");
  net().Apply(Config("www v1", /*with_default=*/false));
  TlsPeer& p = ConnectTls("other.test");
  EXPECT_FALSE(Handshake(p));
  EXPECT_EQ(p.tls().last_alert_received(), SSL_AD_UNRECOGNIZED_NAME);
  EXPECT_EQ(Failures(tls::TlsFailure::kUnknownSni), 1u);
  EXPECT_TRUE(WaitClosed(*clients_.back()));
  EXPECT_TRUE(backend_->requests().empty());
  // Known names still work.
  TlsPeer& q = ConnectTls("api.example.com");
  ASSERT_TRUE(Handshake(q));
  EXPECT_EQ(tt::PeerCommonName(q.tls()), "api");
}

TEST_P(TlsSessionTest, GarbageAndPlainHttpAreCountedAndClosed) {
  Init();
  TestClient& plain = Connect(kHttpsPort);
  plain.Send(kGet);
  EXPECT_TRUE(WaitClosed(plain));
  EXPECT_EQ(Failures(tls::TlsFailure::kPlainHttp) + Failures(tls::TlsFailure::kBadClientHello),
            1u);

  TestClient& junk = Connect(kHttpsPort);
  std::string bytes;
  for (int i = 0; i < 3000; ++i) bytes.push_back(static_cast<char>((i * 7919 + 13) & 0xff));
  bytes[0] = 0x16;  // looks like a handshake record at first
  junk.Send(bytes);
  EXPECT_TRUE(WaitClosed(junk));
  EXPECT_EQ(AllFailures(), 2u);

  // A client that connects and closes before any byte.
  TestClient& quiet = Connect(kHttpsPort);
  net().Advance(Duration::Millis(50));
  quiet.Shutdown();
  EXPECT_TRUE(WaitClosed(quiet));
  EXPECT_EQ(AllFailures(), 3u);

  EXPECT_TRUE(backend_->requests().empty());
  EXPECT_EQ(TlsSum(&tls::TlsCounters::handshakes_full), 0u);
  // The listener still serves.
  TlsPeer& p = ConnectTls("www.example.com");
  ASSERT_TRUE(Handshake(p));
  EXPECT_EQ(FinalResponses(Exchange(p, kGet)), 1u);
}

TEST_P(TlsSessionTest, KeepAliveTwoRequestsOnOneTlsConnection) {
  Init();
  TlsPeer& p = ConnectTls("www.example.com");
  ASSERT_TRUE(Handshake(p));
  ParsedResponses first = Exchange(p, kGet);
  ASSERT_EQ(FinalResponses(first), 1u);
  EXPECT_TRUE(first.responses[0].keep_alive);
  ParsedResponses second =
      Exchange(p, "GET /again HTTP/1.1\r\nHost: www.example.com\r\n\r\n");
  ASSERT_EQ(FinalResponses(second), 1u);
  EXPECT_EQ(second.responses[0].status, 200);
  EXPECT_EQ(backend_->requests().back().target, "/again");
  EXPECT_EQ(TlsSum(&tls::TlsCounters::handshakes_full), 1u);
  EXPECT_EQ(net().Sum(&ProxyCounters::connections_accepted), 1u);
  EXPECT_FALSE(clients_.back()->closed());
}

TEST_P(TlsSessionTest, LargeResponseCrossesManyRecords) {
  Init();
  std::string body(300 * 1024, 'x');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 23);
  backend_->set_handler([&](const testing::ReceivedRequest&) {
    testing::Reply r;
    r.body = body;
    return r;
  });
  TlsPeer& p = ConnectTls("www.example.com");
  ASSERT_TRUE(Handshake(p));
  ParsedResponses r = Exchange(p, kGet);
  ASSERT_EQ(FinalResponses(r), 1u);
  EXPECT_EQ(r.responses[0].body, body);
}

TEST_P(TlsSessionTest, ConfigChangeNewCertificateForNewHandshakesOldConnectionContinues) {
  Init();
  TlsPeer& old_conn = ConnectTls("www.example.com");
  ASSERT_TRUE(Handshake(old_conn));
  EXPECT_EQ(tt::PeerCommonName(old_conn.tls()), "www v1");
  ASSERT_EQ(FinalResponses(Exchange(old_conn, kGet)), 1u);

  net().Apply(Config("www v2", /*with_default=*/true));

  TlsPeer& new_conn = ConnectTls("www.example.com");
  ASSERT_TRUE(Handshake(new_conn));
  EXPECT_EQ(tt::PeerCommonName(new_conn.tls()), "www v2");
  EXPECT_EQ(FinalResponses(Exchange(new_conn, kGet)), 1u);

  // The connection made before the change goes on over its old session.
  ParsedResponses r = Exchange(old_conn, "GET /still HTTP/1.1\r\nHost: www.example.com\r\n\r\n");
  ASSERT_EQ(FinalResponses(r), 1u);
  EXPECT_EQ(r.responses[0].status, 200);
  EXPECT_EQ(backend_->requests().back().target, "/still");
  EXPECT_EQ(TlsSum(&tls::TlsCounters::handshakes_full), 2u);
}


TEST_P(TlsSessionTest, LargeRequestBodyIsForwarded) {
  Init();
  std::string body(200 * 1024, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('A' + i % 17);
  TlsPeer& p = ConnectTls("www.example.com");
  ASSERT_TRUE(Handshake(p));
  ParsedResponses r = Exchange(
      p, absl::StrCat("POST /up HTTP/1.1\r\nHost: www.example.com\r\nContent-Length: ", body.size(),
                      "\r\n\r\n", body));
  ASSERT_EQ(FinalResponses(r), 1u);
  EXPECT_EQ(r.responses[0].status, 200);
  ASSERT_EQ(backend_->requests().size(), 1u);
  EXPECT_EQ(backend_->requests()[0].body, body);
}

TEST_P(TlsSessionTest, ClientThatStopsReadingGetsTheWholeResponseLater) {
  Init();
  std::string body(400 * 1024, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 19);
  backend_->set_handler([&](const testing::ReceivedRequest&) {
    testing::Reply r;
    r.body = body;
    return r;
  });
  TlsPeer& p = ConnectTls("www.example.com");
  ASSERT_TRUE(Handshake(p));
  TestClient& tcp = *clients_.back();
  tcp.set_reading(false);
  p.Send(kGet);
  // The window fills; the proxy holds the rest (down_out_ and the TLS
  // output buffer) until the client reads again.
  net().RunUntil(
      [&] {
        p.Pump();
        return false;
      },
      Duration::Millis(500));
  EXPECT_LT(p.plain().size(), body.size());
  tcp.set_reading(true);
  ParsedResponses r = Exchange(p, "");
  ASSERT_EQ(FinalResponses(r), 1u);
  EXPECT_EQ(r.responses[0].body, body);
}

TEST_P(TlsSessionTest, BadRecordAfterHandshakeIsCountedAndClosed) {
  Init();
  TlsPeer& p = ConnectTls("www.example.com");
  ASSERT_TRUE(Handshake(p));
  ASSERT_EQ(FinalResponses(Exchange(p, kGet)), 1u);
  // An application_data record whose authentication cannot verify.
  std::string record = "\x17\x03\x03";
  record.push_back(0);
  record.push_back(40);
  record.append(40, '\x5a');
  clients_.back()->Send(record);
  EXPECT_TRUE(WaitClosed(*clients_.back()));
  EXPECT_EQ(TlsSum(&tls::TlsCounters::protocol_errors), 1u);
  EXPECT_EQ(backend_->requests().size(), 1u);
}

TEST_P(TlsSessionTest, ConnectionCloseEndsWithCloseNotifyThenFin) {
  Init();
  TlsPeer& p = ConnectTls("www.example.com");
  ASSERT_TRUE(Handshake(p));
  ParsedResponses r =
      Exchange(p, "GET / HTTP/1.1\r\nHost: www.example.com\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(FinalResponses(r), 1u);
  EXPECT_FALSE(r.responses[0].keep_alive);
  net().RunUntil(
      [&] {
        p.Pump();
        return p.tls().peer_closed();
      },
      Duration::Seconds(5));
  EXPECT_TRUE(p.tls().peer_closed());
  EXPECT_FALSE(p.tls().truncated()) << "FIN came without close_notify";
  EXPECT_TRUE(WaitClosed(*clients_.back()));
}

TEST_P(TlsSessionTest, SilentClientIsClosedByTheIdleTimeout) {
  Init();
  TestClient& quiet = Connect(kHttpsPort);
  net().Advance(Duration::Seconds(59));
  EXPECT_FALSE(quiet.peer_closed());
  EXPECT_TRUE(WaitClosed(quiet, Duration::Seconds(5)));
  EXPECT_EQ(TlsSum(&tls::TlsCounters::handshakes_full), 0u);
}


// WebSocket over TLS: the Upgrade goes to the backend, its 101 turns the
// connection into a tunnel whose bytes are decrypted and encrypted on the
// way, both ways, and the close travels through (close_notify + FIN).
TEST_P(TlsSessionTest, WebSocketUpgradeTunnelsOverTls) {
  Init();
  backend_->set_handler([](const testing::ReceivedRequest& req) {
    testing::Reply r;
    if (req.target == "/ws") r.kind = testing::Reply::Kind::kUpgrade;
    return r;
  });
  TlsPeer& p = ConnectTls("www.example.com");
  ASSERT_TRUE(Handshake(p));
  p.Send("GET /ws HTTP/1.1\r\nHost: www.example.com\r\nConnection: Upgrade\r\n"
         "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n");
  ASSERT_TRUE(net().RunUntil(
      [&] {
        p.Pump();
        return p.plain().find("\r\n\r\n") != std::string::npos;
      },
      Duration::Seconds(5)));
  EXPECT_EQ(p.TakePlain(),
            "HTTP/1.1 101 Switching Protocols\r\nVia: 1.1 locus\r\nUpgrade: websocket\r\n"
            "Connection: upgrade\r\n\r\n");
  ASSERT_EQ(backend_->requests().size(), 1u);
  EXPECT_EQ(backend_->requests()[0].Get("upgrade"), "websocket");
  EXPECT_EQ(backend_->requests()[0].Get("x-forwarded-proto"), "https");
  EXPECT_EQ(net().Sum(&ProxyCounters::tunnels), 1u);

  // The client speaks first; the backend echoes. Then a payload larger
  // than a TLS record and the proxy's read-ahead.
  p.Send("ping-1");
  ASSERT_TRUE(net().RunUntil(
      [&] {
        p.Pump();
        return p.plain() == "ping-1";
      },
      Duration::Seconds(5)))
      << "echo: [" << p.plain() << "]";
  std::string big(300000, 'w');
  for (size_t i = 0; i < big.size(); i += 977) big[i] = static_cast<char>('a' + i % 26);
  p.Send(big);
  ASSERT_TRUE(net().RunUntil(
      [&] {
        p.Pump();
        return p.plain().size() >= 6 + big.size();
      },
      Duration::Seconds(10)));
  EXPECT_TRUE(p.plain().substr(6) == big) << "bytes changed on the way";

  // Close: close_notify and FIN from the client reach the backend as a
  // FIN; its FIN comes back as close_notify and FIN.
  p.tls().Shutdown();
  p.Pump();
  clients_.back()->Shutdown();
  ASSERT_TRUE(net().RunUntil(
      [&] {
        p.Pump();
        return p.tls().peer_closed() && clients_.back()->peer_closed();
      },
      Duration::Seconds(5)));
  EXPECT_TRUE(backend_->saw_fin(0));
  EXPECT_EQ(backend_->tunnel_bytes(0).size(), 6u + big.size());
  net().Advance(Duration::Millis(200));
  EXPECT_FALSE(backend_->saw_reset(0));
  EXPECT_FALSE(clients_.back()->reset());
  EXPECT_EQ(AllFailures(), 0u);
  EXPECT_EQ(TlsSum(&tls::TlsCounters::protocol_errors), 0u);
}

TEST_P(TlsSessionTest, SessionsResumeOnAnyShardWithGeneratedKeys) {
  Init();
  int crossed = 0;  // sessions resumed on another shard than the one that issued them
  for (int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    SCOPED_TRACE(version);
    // Pairs of connections: a full handshake, then one resuming its
    // session (OpenSSL's client uses a TLS 1.3 ticket only once). With two
    // shards, the connections land on both.
    for (int i = 0; i < 4; ++i) {
      tt::ClientOptions o;
      o.max_version = version;
      ctxs_.push_back(tt::MakeClientCtx(o));
      SSL_CTX* ctx = ctxs_.back().get();
      auto shard_of = [&](std::atomic<uint64_t> tls::TlsCounters::*c, uint64_t* before) {
        // The shard whose counter moved since `before` (updated).
        int moved = -1;
        for (unsigned k = 0; k < net().shards(); ++k) {
          uint64_t now = (net().tables(k).tls.*c).load();
          if (now != before[k]) moved = static_cast<int>(k);
          before[k] = now;
        }
        return moved;
      };
      uint64_t full_before[2] = {}, resumed_before[2] = {};
      shard_of(&tls::TlsCounters::handshakes_full, full_before);
      shard_of(&tls::TlsCounters::handshakes_resumed, resumed_before);
      TlsPeer& full = ConnectTlsWith(ctx, "www.example.com", nullptr);
      ASSERT_TRUE(Handshake(full));
      int issued_on = shard_of(&tls::TlsCounters::handshakes_full, full_before);
      // TLS 1.3 tickets come after the handshake, with the first response.
      ASSERT_EQ(FinalResponses(Exchange(full, kGet)), 1u);
      EXPECT_FALSE(full.tls().resumed());
      SSL_SESSION* session = tt::LastSession(ctx);
      ASSERT_NE(session, nullptr);
      TlsPeer& again = ConnectTlsWith(ctx, "www.example.com", session);
      SSL_SESSION_free(session);
      ASSERT_TRUE(Handshake(again));
      EXPECT_TRUE(again.tls().resumed()) << i;
      int resumed_on = shard_of(&tls::TlsCounters::handshakes_resumed, resumed_before);
      if (issued_on != resumed_on) ++crossed;
      EXPECT_EQ(FinalResponses(Exchange(again, kGet)), 1u);
    }
  }
  EXPECT_EQ(TlsSum(&tls::TlsCounters::handshakes_full), 8u);
  EXPECT_EQ(TlsSum(&tls::TlsCounters::handshakes_resumed), 8u);
  if (net().shards() == 2) {
    EXPECT_GT(crossed, 0) << "no pair crossed shards: the test proves less";
  }
}

// A shared certificate (config.proto certificate_refs) as FromProto hands it
// over: one "shared:www" entry served by two listeners. Rotating it (same
// name, new PEM) changes it on both for new handshakes, while a connection
// made before goes on.
TEST_P(TlsSessionTest, RotatedSharedCertificateServesNewHandshakesOnEveryListener) {
  TestNetOptions options;
  options.shards = GetParam();
  StartNet(options);
  backend_ = &AddBackend(8001, "b1");
  constexpr uint16_t kSecondPort = 8443;
  auto shared_config = [&](const std::string& cn) {
    DataPlaneConfig c = testing::SimpleConfig({8001});
    tt::CertSpec spec;
    spec.common_name = cn;
    spec.dns_names = {"www.example.com"};
    tt::TestPki::Leaf leaf = pki_.Issue(spec);
    c.tls.certificates.push_back({"shared:www", leaf.chain_pem, leaf.key_pem});
    for (auto [name, port] : {std::pair<const char*, uint16_t>{"secure", kHttpsPort},
                              std::pair<const char*, uint16_t>{"secure2", kSecondPort}}) {
      ListenerConfig l = testing::HttpListener(name, port, "main");
      l.tls = true;
      c.listeners.push_back(l);
      tls::ListenerTlsSettings t;
      t.listener = name;
      t.certificates = {"shared:www"};
      t.on_unknown_sni = tls::UnknownSni::kReject;
      c.tls.listeners.push_back(t);
    }
    return c;
  };
  auto connect = [&](uint16_t port) -> TlsPeer& {
    ctxs_.push_back(tt::MakeClientCtx(tt::ClientOptions()));
    TestClient& tcp = Connect(port);
    peers_.push_back(std::make_unique<TlsPeer>(tcp, ctxs_.back().get(), "www.example.com"));
    return *peers_.back();
  };
  net().Apply(shared_config("www v1"));
  TlsPeer& old_conn = connect(kHttpsPort);
  ASSERT_TRUE(Handshake(old_conn));
  EXPECT_EQ(tt::PeerCommonName(old_conn.tls()), "www v1");

  net().Apply(shared_config("www v2"));
  for (uint16_t port : {kHttpsPort, kSecondPort}) {
    TlsPeer& fresh = connect(port);
    ASSERT_TRUE(Handshake(fresh)) << port;
    EXPECT_EQ(tt::PeerCommonName(fresh.tls()), "www v2") << port;
    EXPECT_EQ(FinalResponses(Exchange(fresh, kGet)), 1u) << port;
  }
  ParsedResponses r = Exchange(old_conn, kGet);
  ASSERT_EQ(FinalResponses(r), 1u);
  EXPECT_EQ(r.responses[0].status, 200);
}

// ---- Session tickets set by the config -------------------------------------------

class TicketTest : public TlsSessionTest {
 protected:
  // A session from a full handshake on a new client, as DER so that each
  // later attempt offers the very same ticket.
  std::string IssueTicket(int version) {
    tt::ClientOptions o;
    o.max_version = version;
    ctxs_.push_back(tt::MakeClientCtx(o));
    TlsPeer& p = ConnectTlsWith(ctxs_.back().get(), "www.example.com", nullptr);
    EXPECT_TRUE(Handshake(p));
    EXPECT_FALSE(p.tls().resumed());
    // TLS 1.3 tickets come after the handshake, with the first response.
    EXPECT_EQ(FinalResponses(Exchange(p, kGet)), 1u);
    SSL_SESSION* session = tt::LastSession(ctxs_.back().get());
    if (session == nullptr) return "";
    std::string der(static_cast<size_t>(i2d_SSL_SESSION(session, nullptr)), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    i2d_SSL_SESSION(session, &out);
    SSL_SESSION_free(session);
    return der;
  }
  // Whether a new connection offering `der` resumed. Either way it must
  // complete its handshake and a request.
  bool Resumes(const std::string& der, int version) {
    tt::ClientOptions o;
    o.max_version = version;
    ctxs_.push_back(tt::MakeClientCtx(o));
    const auto* in = reinterpret_cast<const unsigned char*>(der.data());
    SSL_SESSION* session = d2i_SSL_SESSION(nullptr, &in, static_cast<long>(der.size()));
    EXPECT_NE(session, nullptr);
    TlsPeer& p = ConnectTlsWith(ctxs_.back().get(), "www.example.com", session);
    SSL_SESSION_free(session);
    EXPECT_TRUE(Handshake(p));
    EXPECT_EQ(FinalResponses(Exchange(p, kGet)), 1u);
    return p.tls().resumed();
  }
  DataPlaneConfig WithTickets(tls::TicketSettings tickets) {
    DataPlaneConfig c = Config("www v1", /*with_default=*/true);
    c.tickets = std::move(tickets);
    return c;
  }
  static tls::TicketKey Key() { return *tls::ParseTicketKey(tls::GenerateTicketKeyBytes()); }
  static constexpr int kVersions[] = {TLS1_3_VERSION, TLS1_2_VERSION};
};

INSTANTIATE_TEST_SUITE_P(Shards, TicketTest, ::testing::Values(1u, 2u),
                         [](const ::testing::TestParamInfo<unsigned>& i) {
                           return absl::StrCat(i.param, "shard");
                         });

TEST_P(TicketTest, ExplicitKeysResumeOnEveryShardAndRotateByApply) {
  Init();
  tls::TicketKey k1 = Key(), k2 = Key();
  net().Apply(WithTickets({.keys = {k1}}));
  std::string under_k1[2];
  for (int v = 0; v < 2; ++v) {
    SCOPED_TRACE(kVersions[v]);
    under_k1[v] = IssueTicket(kVersions[v]);
    ASSERT_FALSE(under_k1[v].empty());
    // Several connections: with two shards they land on both.
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(Resumes(under_k1[v], kVersions[v])) << i;
  }
  EXPECT_EQ(TlsSum(&tls::TlsCounters::handshakes_resumed), 6u);
  EXPECT_EQ(TlsSum(&tls::TlsCounters::handshakes_full), 2u);

  // Rotation, step 1: the new key first, the old one after it. Old
  // tickets still resume (and are counted as under an old key).
  net().Apply(WithTickets({.keys = {k2, k1}}));
  for (int v = 0; v < 2; ++v) EXPECT_TRUE(Resumes(under_k1[v], kVersions[v])) << kVersions[v];
  EXPECT_EQ(TlsSum(&tls::TlsCounters::tickets_old_key), 2u);
  // Step 2: the old key dropped: a full handshake, counted.
  net().Apply(WithTickets({.keys = {k2}}));
  for (int v = 0; v < 2; ++v) EXPECT_FALSE(Resumes(under_k1[v], kVersions[v])) << kVersions[v];
  EXPECT_EQ(TlsSum(&tls::TlsCounters::tickets_unknown_key), 2u);
  EXPECT_EQ(TlsSum(&tls::TlsCounters::handshakes_full), 4u);
}

// Two proxies (two data planes, each its own process as far as keys go)
// given the same keys resume each other's sessions.
TEST_P(TicketTest, AnotherProxyWithTheSameKeysResumes) {
  tls::TicketKey k = Key();
  std::string der[2];
  {
    Init();
    net().Apply(WithTickets({.keys = {k}}));
    for (int v = 0; v < 2; ++v) der[v] = IssueTicket(kVersions[v]);
    peers_.clear();
    TearDown();
  }
  StartNet({.shards = GetParam()});
  backend_ = &AddBackend(8001, "b1");
  net().Apply(WithTickets({.keys = {k}}));
  for (int v = 0; v < 2; ++v) EXPECT_TRUE(Resumes(der[v], kVersions[v])) << kVersions[v];
  EXPECT_EQ(TlsSum(&tls::TlsCounters::handshakes_full), 0u);
}

TEST_P(TicketTest, DisabledIssuesAndAcceptsNoTickets) {
  Init();
  std::string before[2];
  for (int v = 0; v < 2; ++v) before[v] = IssueTicket(kVersions[v]);
  uint64_t issued = TlsSum(&tls::TlsCounters::tickets_issued);
  EXPECT_GT(issued, 0u);
  net().Apply(WithTickets({.disabled = true}));
  for (int v = 0; v < 2; ++v) {
    SCOPED_TRACE(kVersions[v]);
    EXPECT_FALSE(Resumes(before[v], kVersions[v]));
    IssueTicket(kVersions[v]);
  }
  EXPECT_EQ(TlsSum(&tls::TlsCounters::tickets_issued), issued);
  EXPECT_EQ(TlsSum(&tls::TlsCounters::handshakes_resumed), 0u);
  // Enabled again (generated keys, the ring kept): the old tickets resume.
  net().Apply(WithTickets({}));
  for (int v = 0; v < 2; ++v) EXPECT_TRUE(Resumes(before[v], kVersions[v])) << kVersions[v];
}

// Generated keys rotate in (virtual) time on every shard: a ticket resumes
// after one and two rotations, and is refused after three.
TEST_P(TicketTest, GeneratedKeysRotateOnEveryShard) {
  Init();
  const Duration interval = Duration::Seconds(60);
  net().Apply(WithTickets({.rotation_interval = interval}));
  std::string der[2];
  for (int v = 0; v < 2; ++v) der[v] = IssueTicket(kVersions[v]);
  peers_.clear();
  for (int rotation = 1; rotation <= 3; ++rotation) {
    net().Advance(interval);
    for (int v = 0; v < 2; ++v) {
      EXPECT_EQ(Resumes(der[v], kVersions[v]), rotation < 3)
          << "version " << kVersions[v] << " after " << rotation << " rotations";
    }
    peers_.clear();
  }
  EXPECT_EQ(TlsSum(&tls::TlsCounters::tickets_unknown_key), 2u);
}

}  // namespace
}  // namespace locus::proxy::dataplane
