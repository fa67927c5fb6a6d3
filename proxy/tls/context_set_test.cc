// Per-shard context sets: certificate choice by SNI, session resumption by
// tickets (within one set, across two sets with the same keys, after
// rotation) and the configuration errors Create reports.
#include "proxy/tls/context_set.h"

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "proxy/tls/server_connection.h"
#include "proxy/tls/test_peer.h"
#include "proxy/tls/ticket_key_ring.h"

namespace locus::proxy::tls {
namespace {

using testing::ClientOptions;
using testing::Handshake;
using testing::LastSession;
using testing::MakeClientCtx;
using testing::PeerCommonName;
using testing::RawClient;
using testing::SniFixture;

struct SessionFree {
  void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};
using SessionPtr = std::unique_ptr<SSL_SESSION, SessionFree>;

class ContextSetTest : public ::testing::Test {
 protected:
  std::shared_ptr<const TlsContextSet> MakeSet() {
    auto set = TlsContextSet::Create(fixture_.settings);
    EXPECT_TRUE(set.ok()) << set.status();
    return set.ok() ? *set : nullptr;
  }

  struct Result {
    bool ok = false;
    bool resumed = false;
    std::string cn;
    std::string server_name;
    std::string certificate;
    TlsFailure failure = TlsFailure::kNone;
  };
  Result Connect(const std::shared_ptr<const TlsContextSet>& set,
                 SSL_CTX* client_ctx, const std::string& sni,
                 SSL_SESSION* session = nullptr) {
    auto client = RawClient::Create(client_ctx, sni, session);
    auto server = TlsServerConnection::Create(set, set->Find("web"), &counters_);
    Result r;
    r.ok = Handshake(*client, *server);
    // Reading makes the client take the TLS 1.3 NewSessionTickets.
    uint8_t buf[16];
    client->ReadPlaintext(buf);
    r.resumed = server->resumed();
    EXPECT_EQ(client->resumed(), server->resumed());
    r.cn = PeerCommonName(*client);
    r.server_name = std::string(server->server_name());
    r.certificate =
        server->certificate() == nullptr ? "" : server->certificate()->name;
    r.failure = server->failure();
    // OpenSSL marks the session of a connection freed without sending
    // close_notify as not resumable (ssl_clear_bad_session).
    client->Shutdown();
    testing::Pump(*client, *server);
    return r;
  }

  SniFixture fixture_;
  TlsCounters counters_;
};

TEST_F(ContextSetTest, SniPicksExactThenWildcardThenDefault) {
  auto set = MakeSet();
  SslCtxPtr ctx = MakeClientCtx();

  Result exact = Connect(set, ctx.get(), "www.example.com");
  ASSERT_TRUE(exact.ok);
  EXPECT_EQ(exact.certificate, "exact");
  EXPECT_EQ(exact.cn, "www.example.com");
  EXPECT_EQ(exact.server_name, "www.example.com");

  // Normalized: upper case and a trailing dot.
  Result upper = Connect(set, ctx.get(), "WWW.Example.COM.");
  EXPECT_EQ(upper.certificate, "exact");
  EXPECT_EQ(upper.server_name, "www.example.com");

  Result wildcard = Connect(set, ctx.get(), "api.example.com");
  ASSERT_TRUE(wildcard.ok);
  EXPECT_EQ(wildcard.certificate, "wildcard");
  EXPECT_EQ(wildcard.cn, "wildcard.example.com");
  EXPECT_EQ(counters_.sni_default_certificate.load(), 0u);

  // A wildcard covers one label only, and not the bare domain.
  for (const char* name : {"a.b.example.com", "example.com", "other.test"}) {
    SCOPED_TRACE(name);
    Result r = Connect(set, ctx.get(), name);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.certificate, "default");
    EXPECT_EQ(r.cn, "default.test");
  }
  EXPECT_EQ(counters_.sni_default_certificate.load(), 3u);

  Result none = Connect(set, ctx.get(), "");
  ASSERT_TRUE(none.ok);
  EXPECT_EQ(none.certificate, "default");
  EXPECT_EQ(none.server_name, "");
  EXPECT_EQ(counters_.sni_missing.load(), 1u);
}

TEST_F(ContextSetTest, UnknownSniRejectedWhenConfigured) {
  fixture_.settings.listeners[0].on_unknown_sni = UnknownSni::kReject;
  auto set = MakeSet();
  SslCtxPtr ctx = MakeClientCtx();
  EXPECT_TRUE(Connect(set, ctx.get(), "api.example.com").ok);
  for (const char* name : {"other.test", ""}) {
    SCOPED_TRACE(name);
    Result r = Connect(set, ctx.get(), name);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.failure, TlsFailure::kUnknownSni);
  }
  EXPECT_EQ(counters_.handshake_failures[static_cast<size_t>(
                                             TlsFailure::kUnknownSni)]
                .load(),
            2u);
}

TEST_F(ContextSetTest, DefaultCertificateIsFirstWhenUnset) {
  fixture_.settings.listeners[0].default_certificate = "";
  auto set = MakeSet();
  SslCtxPtr ctx = MakeClientCtx();
  EXPECT_EQ(Connect(set, ctx.get(), "other.test").certificate, "wildcard");
  EXPECT_EQ(set->Find("web")->default_certificate()->name, "wildcard");
  EXPECT_EQ(set->Find("nope"), nullptr);
}

class ResumptionTest : public ContextSetTest,
                       public ::testing::WithParamInterface<int> {
 protected:
  SslCtxPtr Client() {
    ClientOptions options;
    options.max_version = GetParam();
    return MakeClientCtx(options);
  }
};

TEST_P(ResumptionTest, ResumesWithTicket) {
  auto set = MakeSet();
  SslCtxPtr ctx = Client();
  Result first = Connect(set, ctx.get(), "www.example.com");
  ASSERT_TRUE(first.ok);
  EXPECT_FALSE(first.resumed);
  SessionPtr session(LastSession(ctx.get()));
  ASSERT_NE(session, nullptr);
  EXPECT_GE(counters_.tickets_issued.load(), 1u);

  Result second = Connect(set, ctx.get(), "www.example.com", session.get());
  ASSERT_TRUE(second.ok);
  EXPECT_TRUE(second.resumed);
  EXPECT_EQ(counters_.handshakes_resumed.load(), 1u);
  EXPECT_EQ(counters_.handshakes_full.load(), 1u);
}

// TLS 1.3 clients use a ticket once (RFC 8446 C.4; OpenSSL's client cache
// and browsers do): a resumption must hand out a fresh ticket, or the
// client's next connection is a full handshake.
TEST_P(ResumptionTest, Tls13ResumptionIssuesAFreshTicket) {
  if (GetParam() != TLS1_3_VERSION) GTEST_SKIP() << "TLS 1.2 tickets are reusable";
  auto set = MakeSet();
  SslCtxPtr ctx = Client();
  ASSERT_TRUE(Connect(set, ctx.get(), "www.example.com").ok);
  SessionPtr first(LastSession(ctx.get()));
  ASSERT_NE(first, nullptr);
  const uint64_t issued = counters_.tickets_issued.load();
  Result second = Connect(set, ctx.get(), "www.example.com", first.get());
  ASSERT_TRUE(second.resumed);
  EXPECT_EQ(counters_.tickets_issued.load(), issued + 1);
  SessionPtr fresh(LastSession(ctx.get()));
  EXPECT_NE(fresh.get(), first.get());
}

TEST_P(ResumptionTest, ResumesOnAnotherCoresSet) {
  // Two shards build their own sets from the same settings.
  auto core0 = MakeSet();
  auto core1 = MakeSet();
  SslCtxPtr ctx = Client();
  ASSERT_TRUE(Connect(core0, ctx.get(), "www.example.com").ok);
  SessionPtr session(LastSession(ctx.get()));
  ASSERT_NE(session, nullptr);
  Result other = Connect(core1, ctx.get(), "www.example.com", session.get());
  ASSERT_TRUE(other.ok);
  EXPECT_TRUE(other.resumed);
}

TEST_P(ResumptionTest, OlderKeyStillResumes) {
  auto before = MakeSet();
  SslCtxPtr ctx = Client();
  ASSERT_TRUE(Connect(before, ctx.get(), "www.example.com").ok);
  SessionPtr session(LastSession(ctx.get()));
  // Rotation: a new key encrypts, the old one is still accepted.
  fixture_.settings.ticket_keys.insert(
      fixture_.settings.ticket_keys.begin(),
      *ParseTicketKey(GenerateTicketKeyBytes()));
  auto after = MakeSet();
  Result r = Connect(after, ctx.get(), "www.example.com", session.get());
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(r.resumed);
  EXPECT_EQ(counters_.tickets_old_key.load(), 1u);
}

TEST_P(ResumptionTest, KeysRotatedOutMeansFullHandshake) {
  auto before = MakeSet();
  SslCtxPtr ctx = Client();
  ASSERT_TRUE(Connect(before, ctx.get(), "www.example.com").ok);
  SessionPtr session(LastSession(ctx.get()));
  ASSERT_NE(session, nullptr);
  fixture_.settings.ticket_keys = {*ParseTicketKey(GenerateTicketKeyBytes())};
  auto after = MakeSet();
  Result r = Connect(after, ctx.get(), "www.example.com", session.get());
  ASSERT_TRUE(r.ok) << "a full handshake instead";
  EXPECT_FALSE(r.resumed);
  EXPECT_EQ(counters_.tickets_unknown_key.load(), 1u);
  EXPECT_EQ(counters_.handshakes_full.load(), 2u);
}

// nginx's 48-byte keys: HMAC-SHA256 with a 16-byte key, AES-128-CBC.
TEST_P(ResumptionTest, Aes128KeysResume) {
  std::string bytes = GenerateTicketKeyBytes().substr(0, kTicketKeyBytesAes128);
  fixture_.settings.ticket_keys = {*ParseTicketKey(bytes)};
  ASSERT_FALSE(fixture_.settings.ticket_keys[0].aes256);
  auto core0 = MakeSet();
  auto core1 = MakeSet();
  SslCtxPtr ctx = Client();
  ASSERT_TRUE(Connect(core0, ctx.get(), "www.example.com").ok);
  SessionPtr session(LastSession(ctx.get()));
  ASSERT_NE(session, nullptr);
  Result r = Connect(core1, ctx.get(), "www.example.com", session.get());
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(r.resumed);
}

TEST_P(ResumptionTest, TicketOfOneCertificateDoesNotResumeAnother) {
  auto set = MakeSet();
  SslCtxPtr ctx = Client();
  ASSERT_TRUE(Connect(set, ctx.get(), "www.example.com").ok);
  SessionPtr session(LastSession(ctx.get()));
  Result r = Connect(set, ctx.get(), "other.test", session.get());
  ASSERT_TRUE(r.ok);
  EXPECT_FALSE(r.resumed);
  EXPECT_EQ(r.certificate, "default");
}

TEST_P(ResumptionTest, NoTicketKeysMeansNoResumption) {
  fixture_.settings.ticket_keys.clear();
  auto set = MakeSet();
  SslCtxPtr ctx = Client();
  ASSERT_TRUE(Connect(set, ctx.get(), "www.example.com").ok);
  SessionPtr session(LastSession(ctx.get()));
  EXPECT_EQ(counters_.tickets_issued.load(), 0u);
  if (session != nullptr) {
    Result r = Connect(set, ctx.get(), "www.example.com", session.get());
    ASSERT_TRUE(r.ok);
    EXPECT_FALSE(r.resumed);
  }
}

// Generated keys in virtual time: a ticket issued under key N resumes after
// one and two rotations, and after three the key is gone (full handshake).
TEST_P(ResumptionTest, GeneratedKeysResumeForTwoRotations) {
  const Duration interval = Duration::Seconds(600);
  TicketKeyRing ring(interval);
  Instant now = Instant::Zero();
  ring.Advance(now);
  auto build = [&] {
    fixture_.settings.ticket_keys = ring.keys();
    fixture_.settings.session_lifetime_seconds = ring.lifetime_hint().nanos() / 1000000000;
    return MakeSet();
  };
  SslCtxPtr ctx = Client();
  ASSERT_TRUE(Connect(build(), ctx.get(), "www.example.com").ok);
  SessionPtr session(LastSession(ctx.get()));
  ASSERT_NE(session, nullptr);
  // The lifetime hint is two intervals.
  EXPECT_EQ(SSL_SESSION_get_ticket_lifetime_hint(session.get()), 1200u);
  // Each attempt offers the original ticket (a resumption may replace the
  // client's copy with a fresh ticket under the newest key).
  std::string der(static_cast<size_t>(i2d_SSL_SESSION(session.get(), nullptr)), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  i2d_SSL_SESSION(session.get(), &out);
  for (int rotation = 1; rotation <= 3; ++rotation) {
    now += interval;
    ASSERT_TRUE(ring.Advance(now));
    const auto* in = reinterpret_cast<const unsigned char*>(der.data());
    SessionPtr original(d2i_SSL_SESSION(nullptr, &in, static_cast<long>(der.size())));
    ASSERT_NE(original, nullptr);
    Result r = Connect(build(), ctx.get(), "www.example.com", original.get());
    ASSERT_TRUE(r.ok) << rotation;
    EXPECT_EQ(r.resumed, rotation < 3) << "after " << rotation << " rotations";
  }
  EXPECT_EQ(counters_.tickets_unknown_key.load(), 1u);
}

// Two proxies (independent sets, say on two machines) given the same
// configured keys resume each other's sessions.
TEST_P(ResumptionTest, TwoProxiesWithTheSameKeysResumeEachOther) {
  std::string bytes = GenerateTicketKeyBytes();
  fixture_.settings.ticket_keys = {*ParseTicketKey(bytes)};
  auto proxy_a = MakeSet();
  SniFixture other_fixture;  // its own PKI, certificates and contexts
  other_fixture.settings.certificates = fixture_.settings.certificates;
  other_fixture.settings.ticket_keys = {*ParseTicketKey(bytes)};
  auto proxy_b = TlsContextSet::Create(other_fixture.settings);
  ASSERT_TRUE(proxy_b.ok());
  SslCtxPtr ctx = Client();
  ASSERT_TRUE(Connect(proxy_a, ctx.get(), "www.example.com").ok);
  SessionPtr session(LastSession(ctx.get()));
  ASSERT_NE(session, nullptr);
  Result r = Connect(*proxy_b, ctx.get(), "www.example.com", session.get());
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(r.resumed);
}

INSTANTIATE_TEST_SUITE_P(Versions, ResumptionTest,
                         ::testing::Values(TLS1_2_VERSION, TLS1_3_VERSION));

TEST_F(ContextSetTest, ConfigErrorsNameWhatIsWrong) {
  struct Case {
    const char* what;
    void (*edit)(TlsSettings&);
    const char* message;
  };
  const Case cases[] = {
      {"unknown certificate",
       [](TlsSettings& s) { s.listeners[0].certificates.push_back("nope"); },
       "certificate \"nope\" does not exist"},
      {"default not served",
       [](TlsSettings& s) { s.listeners[0].default_certificate = "nope"; },
       "default certificate \"nope\""},
      {"no certificates",
       [](TlsSettings& s) { s.listeners[0].certificates.clear(); },
       "no certificates"},
      {"duplicate certificate",
       [](TlsSettings& s) { s.certificates.push_back(s.certificates[0]); },
       "given twice"},
      {"duplicate listener",
       [](TlsSettings& s) { s.listeners.push_back(s.listeners[0]); },
       "listener \"web\" is given twice"},
      {"cipher not allowed",
       [](TlsSettings& s) { s.listeners[0].cipher_list = "AES128-SHA"; },
       "not one of the allowed"},
      {"cipher string syntax",
       [](TlsSettings& s) { s.listeners[0].ciphersuites = "HIGH"; },
       "not one of the allowed"},
      {"empty ALPN protocol",
       [](TlsSettings& s) { s.listeners[0].alpn = {""}; }, "ALPN protocol"},
      {"key mismatch",
       [](TlsSettings& s) {
         // The test leaves share one key: give one a key of its own.
         s.certificates[0].key_pem =
             testing::ToPem(testing::MakeEcKey("P-256").get());
       },
       "does not match"},
      {"garbage chain",
       [](TlsSettings& s) { s.certificates[0].chain_pem = "garbage"; },
       "no PEM certificate"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    TlsSettings s = fixture_.settings;
    c.edit(s);
    auto set = TlsContextSet::Create(s);
    ASSERT_FALSE(set.ok());
    EXPECT_NE(set.status().message().find(c.message), std::string::npos)
        << set.status();
  }
}

TEST_F(ContextSetTest, TicketKeyLimit) {
  fixture_.settings.ticket_keys.clear();
  for (size_t i = 0; i < kMaxTicketKeys; ++i) {
    fixture_.settings.ticket_keys.push_back(
        *ParseTicketKey(GenerateTicketKeyBytes()));
  }
  EXPECT_TRUE(TlsContextSet::Create(fixture_.settings).ok());
  fixture_.settings.ticket_keys.push_back(
      *ParseTicketKey(GenerateTicketKeyBytes()));
  EXPECT_FALSE(TlsContextSet::Create(fixture_.settings).ok());
}

TEST_F(ContextSetTest, NarrowedCipherListIsUsed) {
  fixture_.settings.listeners[0].cipher_list = "ECDHE-ECDSA-CHACHA20-POLY1305";
  fixture_.settings.listeners[0].ciphersuites = "TLS_AES_256_GCM_SHA384";
  auto set = MakeSet();
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    ClientOptions options;
    options.max_version = version;
    SslCtxPtr ctx = MakeClientCtx(options);
    auto client = RawClient::Create(ctx.get(), "www.example.com");
    auto server = TlsServerConnection::Create(set, set->Find("web"), nullptr);
    ASSERT_TRUE(Handshake(*client, *server));
    EXPECT_EQ(server->cipher(), version == TLS1_2_VERSION
                                    ? "ECDHE-ECDSA-CHACHA20-POLY1305"
                                    : "TLS_AES_256_GCM_SHA384");
  }
}

// Connections keep the set they started with: a new config's set does not
// disturb them.
TEST_F(ContextSetTest, ConnectionOutlivesItsSet) {
  auto set = MakeSet();
  SslCtxPtr ctx = MakeClientCtx();
  auto client = RawClient::Create(ctx.get(), "www.example.com");
  auto server = TlsServerConnection::Create(set, set->Find("web"), nullptr);
  set.reset();
  ASSERT_TRUE(Handshake(*client, *server));
  EXPECT_EQ(testing::Transfer(*client, *server, "still here"), "still here");
}

}  // namespace
}  // namespace locus::proxy::tls
