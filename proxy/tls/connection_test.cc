// A client and a server TlsConnection pumped against each other in memory:
// handshakes, data both ways, closure, truncation and refused peers.
#include "proxy/tls/connection.h"

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "proxy/tls/context_set.h"
#include "proxy/tls/server_connection.h"
#include "proxy/tls/test_peer.h"

namespace locus::proxy::tls {
namespace {

using testing::ClientOptions;
using testing::Handshake;
using testing::MakeClientCtx;
using testing::Pump;
using testing::RawClient;
using testing::SniFixture;
using testing::Transfer;

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto set = TlsContextSet::Create(fixture_.settings);
    ASSERT_TRUE(set.ok()) << set.status();
    set_ = *set;
  }
  std::unique_ptr<TlsServerConnection> NewServer() {
    return TlsServerConnection::Create(set_, set_->Find("web"), &counters_);
  }
  uint64_t Failures(TlsFailure f) const {
    return counters_.handshake_failures[static_cast<size_t>(f)].load();
  }

  SniFixture fixture_;
  std::shared_ptr<const TlsContextSet> set_;
  TlsCounters counters_;
};

std::string Pattern(size_t n, int seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + seed) & 0xff);
  return s;
}

TEST_F(ConnectionTest, Tls13HandshakeAndDataBothWays) {
  SslCtxPtr ctx = MakeClientCtx();
  auto client = RawClient::Create(ctx.get(), "www.example.com");
  auto server = NewServer();
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(Handshake(*client, *server));
  EXPECT_EQ(server->state(), TlsState::kOpen);
  EXPECT_EQ(server->version(), TLS1_3_VERSION);
  EXPECT_EQ(client->version(), TLS1_3_VERSION);
  EXPECT_FALSE(server->resumed());
  EXPECT_EQ(counters_.handshakes_full.load(), 1u);
  EXPECT_EQ(counters_.versions[VersionLabelIndex(TLS1_3_VERSION)].load(), 1u);
  EXPECT_EQ(counters_.ciphers[CipherLabelIndex(server->cipher())].load(), 1u);
  EXPECT_NE(CipherLabelIndex(server->cipher()), kCipherLabelCount - 1)
      << server->cipher();

  // Several records each way (a record holds 16 KiB), sizes not a multiple
  // of anything.
  const std::string up = Pattern(100 * 1000 + 7, 1);
  const std::string down = Pattern(70 * 1000 + 3, 2);
  EXPECT_EQ(Transfer(*client, *server, up), up);
  EXPECT_EQ(Transfer(*server, *client, down), down);
  EXPECT_EQ(Transfer(*client, *server, "x"), "x");
  EXPECT_EQ(server->state(), TlsState::kOpen);
  EXPECT_EQ(client->state(), TlsState::kOpen);
}

TEST_F(ConnectionTest, Tls12HandshakeAndDataBothWays) {
  ClientOptions options;
  options.max_version = TLS1_2_VERSION;
  SslCtxPtr ctx = MakeClientCtx(options);
  auto client = RawClient::Create(ctx.get(), "www.example.com");
  auto server = NewServer();
  ASSERT_TRUE(Handshake(*client, *server));
  EXPECT_EQ(server->version(), TLS1_2_VERSION);
  // ECDHE with an AEAD, as settings.h allows.
  EXPECT_EQ(server->cipher(), "ECDHE-ECDSA-AES128-GCM-SHA256");
  EXPECT_EQ(counters_.versions[VersionLabelIndex(TLS1_2_VERSION)].load(), 1u);
  const std::string up = Pattern(50 * 1000, 3);
  const std::string down = Pattern(40 * 1000 + 1, 4);
  EXPECT_EQ(Transfer(*client, *server, up), up);
  EXPECT_EQ(Transfer(*server, *client, down), down);
}

TEST_F(ConnectionTest, Tls13OnlyListenerRefusesTls12) {
  fixture_.settings.listeners[0].min_version = TlsVersion::kTls13;
  auto set = TlsContextSet::Create(fixture_.settings);
  ASSERT_TRUE(set.ok());
  ClientOptions options;
  options.max_version = TLS1_2_VERSION;
  SslCtxPtr ctx = MakeClientCtx(options);
  auto client = RawClient::Create(ctx.get(), "www.example.com");
  auto server = TlsServerConnection::Create(*set, (*set)->Find("web"),
                                            &counters_);
  EXPECT_FALSE(Handshake(*client, *server));
  EXPECT_EQ(server->failure(), TlsFailure::kUnsupportedVersion);
  EXPECT_EQ(Failures(TlsFailure::kUnsupportedVersion), 1u);
}

class OldVersionTest : public ConnectionTest,
                       public ::testing::WithParamInterface<int> {};

TEST_P(OldVersionTest, Refused) {
  ClientOptions options;
  options.min_version = GetParam();
  options.max_version = GetParam();
  SslCtxPtr ctx = MakeClientCtx(options);
  auto client = RawClient::Create(ctx.get(), "www.example.com");
  auto server = NewServer();
  EXPECT_FALSE(Handshake(*client, *server));
  EXPECT_EQ(server->state(), TlsState::kFailed);
  EXPECT_EQ(server->failure(), TlsFailure::kUnsupportedVersion);
  EXPECT_EQ(Failures(TlsFailure::kUnsupportedVersion), 1u);
  EXPECT_EQ(counters_.handshakes_full.load(), 0u);
  // The client is told why (protocol_version alert) before we close.
  EXPECT_EQ(client->state(), TlsState::kFailed);
  EXPECT_EQ(server->last_alert_sent(), SSL_AD_PROTOCOL_VERSION);
}

INSTANTIATE_TEST_SUITE_P(Tls10And11, OldVersionTest,
                         ::testing::Values(TLS1_VERSION, TLS1_1_VERSION));

TEST_F(ConnectionTest, AlpnHttp11Negotiated) {
  SslCtxPtr ctx = MakeClientCtx();
  auto client = RawClient::Create(ctx.get(), "www.example.com");
  auto server = NewServer();
  ASSERT_TRUE(Handshake(*client, *server));
  EXPECT_EQ(server->alpn(), "http/1.1");
  EXPECT_EQ(client->alpn(), "http/1.1");
}

TEST_F(ConnectionTest, AlpnWithoutHttp11IsRefused) {
  ClientOptions options;
  options.alpn = {"h2"};
  SslCtxPtr ctx = MakeClientCtx(options);
  auto client = RawClient::Create(ctx.get(), "www.example.com");
  auto server = NewServer();
  EXPECT_FALSE(Handshake(*client, *server));
  EXPECT_EQ(server->failure(), TlsFailure::kNoApplicationProtocol);
  EXPECT_EQ(server->last_alert_sent(), SSL_AD_NO_APPLICATION_PROTOCOL);
  EXPECT_EQ(Failures(TlsFailure::kNoApplicationProtocol), 1u);
}

TEST_F(ConnectionTest, AlpnMismatchContinuesWhenConfigured) {
  fixture_.settings.listeners[0].alpn_mismatch = AlpnMismatch::kContinue;
  auto set = TlsContextSet::Create(fixture_.settings);
  ASSERT_TRUE(set.ok());
  ClientOptions options;
  options.alpn = {"h2"};
  SslCtxPtr ctx = MakeClientCtx(options);
  auto client = RawClient::Create(ctx.get(), "www.example.com");
  auto server = TlsServerConnection::Create(*set, (*set)->Find("web"), nullptr);
  ASSERT_TRUE(Handshake(*client, *server));
  EXPECT_EQ(server->alpn(), "");
}

TEST_F(ConnectionTest, NoAlpnOfferedIsFine) {
  ClientOptions options;
  options.alpn = {};
  SslCtxPtr ctx = MakeClientCtx(options);
  auto client = RawClient::Create(ctx.get(), "www.example.com");
  auto server = NewServer();
  ASSERT_TRUE(Handshake(*client, *server));
  EXPECT_EQ(server->alpn(), "");
}

TEST_F(ConnectionTest, CloseNotifyFromClient) {
  SslCtxPtr ctx = MakeClientCtx();
  auto client = RawClient::Create(ctx.get(), "www.example.com");
  auto server = NewServer();
  ASSERT_TRUE(Handshake(*client, *server));
  EXPECT_EQ(Transfer(*client, *server, "last words"), "last words");
  client->Shutdown();
  EXPECT_EQ(client->state(), TlsState::kClosing);
  Pump(*client, *server);
  uint8_t buf[64];
  EXPECT_EQ(server->ReadPlaintext(buf), 0u);
  EXPECT_TRUE(server->peer_closed());
  EXPECT_FALSE(server->truncated());
  EXPECT_EQ(counters_.close_notify_received.load(), 1u);
  // Half-closed: the server can still answer, then closes too.
  EXPECT_EQ(server->state(), TlsState::kOpen);
  EXPECT_EQ(Transfer(*server, *client, "bye"), "bye");
  server->Shutdown();
  EXPECT_EQ(server->state(), TlsState::kClosed);
  Pump(*client, *server);
  EXPECT_EQ(client->ReadPlaintext(buf), 0u);
  EXPECT_TRUE(client->peer_closed());
  EXPECT_EQ(client->state(), TlsState::kClosed);
  EXPECT_FALSE(client->truncated());
  EXPECT_FALSE(server->protocol_error());
}

TEST_F(ConnectionTest, CloseNotifyFromServer) {
  SslCtxPtr ctx = MakeClientCtx();
  auto client = RawClient::Create(ctx.get(), "www.example.com");
  auto server = NewServer();
  ASSERT_TRUE(Handshake(*client, *server));
  server->Shutdown();
  EXPECT_EQ(server->state(), TlsState::kClosing);
  // Nothing more is written after our close_notify.
  EXPECT_EQ(server->WritePlaintext({reinterpret_cast<const uint8_t*>("x"), 1}),
            0u);
  Pump(*client, *server);
  uint8_t buf[64];
  EXPECT_EQ(client->ReadPlaintext(buf), 0u);
  EXPECT_TRUE(client->peer_closed());
  client->Shutdown();
  EXPECT_EQ(client->state(), TlsState::kClosed);
  Pump(*client, *server);
  EXPECT_EQ(server->ReadPlaintext(buf), 0u);
  EXPECT_TRUE(server->peer_closed());
  EXPECT_EQ(server->state(), TlsState::kClosed);
  EXPECT_FALSE(server->truncated());
}

TEST_F(ConnectionTest, TruncationDetected) {
  SslCtxPtr ctx = MakeClientCtx();
  auto client = RawClient::Create(ctx.get(), "www.example.com");
  auto server = NewServer();
  ASSERT_TRUE(Handshake(*client, *server));
  const std::string data = Pattern(20000, 5);
  EXPECT_EQ(Transfer(*client, *server, data), data);
  // The TCP connection ends without a close_notify.
  server->FeedEof();
  uint8_t buf[64];
  EXPECT_EQ(server->ReadPlaintext(buf), 0u);
  EXPECT_TRUE(server->peer_closed());
  EXPECT_TRUE(server->truncated());
  EXPECT_FALSE(server->protocol_error());
  EXPECT_EQ(counters_.truncated.load(), 1u);
  EXPECT_EQ(counters_.close_notify_received.load(), 0u);
  EXPECT_EQ(server->FeedCiphertext({buf, 1}), 0u) << "nothing after EOF";
}

TEST_F(ConnectionTest, TruncationMidRecordDetected) {
  SslCtxPtr ctx = MakeClientCtx();
  auto client = RawClient::Create(ctx.get(), "www.example.com");
  auto server = NewServer();
  ASSERT_TRUE(Handshake(*client, *server));
  const std::string data = Pattern(1000, 6);
  ASSERT_EQ(client->WritePlaintext(
                {reinterpret_cast<const uint8_t*>(data.data()), data.size()}),
            data.size());
  std::span<const uint8_t> record = client->PendingCiphertext();
  ASSERT_GT(record.size(), 10u);
  ASSERT_EQ(server->FeedCiphertext(record.first(record.size() - 10)),
            record.size() - 10);
  server->FeedEof();
  uint8_t buf[2000];
  EXPECT_EQ(server->ReadPlaintext(buf), 0u);
  EXPECT_TRUE(server->truncated());
}

TEST_F(ConnectionTest, EofDuringHandshakeIsCounted) {
  SslCtxPtr ctx = MakeClientCtx();
  auto client = RawClient::Create(ctx.get(), "www.example.com");
  auto server = NewServer();
  client->Advance();
  std::span<const uint8_t> hello = client->PendingCiphertext();
  ASSERT_GT(hello.size(), 20u);
  server->FeedCiphertext(hello.first(20));
  server->Advance();
  EXPECT_EQ(server->state(), TlsState::kHandshaking);
  server->FeedEof();
  server->Advance();
  EXPECT_EQ(server->state(), TlsState::kFailed);
  EXPECT_EQ(server->failure(), TlsFailure::kEof);
  EXPECT_EQ(Failures(TlsFailure::kEof), 1u);
}

TEST_F(ConnectionTest, GarbageFailsTheHandshake) {
  auto server = NewServer();
  const std::string garbage = Pattern(300, 7);
  server->FeedCiphertext(
      {reinterpret_cast<const uint8_t*>(garbage.data()), garbage.size()});
  server->Advance();
  EXPECT_EQ(server->state(), TlsState::kFailed);
  EXPECT_EQ(server->failure(), TlsFailure::kBadClientHello);
  EXPECT_EQ(Failures(TlsFailure::kBadClientHello), 1u);
  // Further calls are harmless.
  uint8_t buf[16];
  EXPECT_EQ(server->ReadPlaintext(buf), 0u);
  EXPECT_EQ(server->WritePlaintext(buf), 0u);
  EXPECT_EQ(server->Advance(), TlsState::kFailed);
  EXPECT_EQ(Failures(TlsFailure::kBadClientHello), 1u) << "counted once";
}

TEST_F(ConnectionTest, PlainHttpIsRecognized) {
  auto server = NewServer();
  const std::string request = "GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n";
  server->FeedCiphertext(
      {reinterpret_cast<const uint8_t*>(request.data()), request.size()});
  server->Advance();
  EXPECT_EQ(server->state(), TlsState::kFailed);
  EXPECT_EQ(server->failure(), TlsFailure::kPlainHttp);
  EXPECT_EQ(Failures(TlsFailure::kPlainHttp), 1u);
}

// A real ClientHello with one length field broken at a time: each fails
// as a bad ClientHello, none crashes.
TEST_F(ConnectionTest, MalformedClientHelloFails) {
  SslCtxPtr ctx = MakeClientCtx();
  auto hello_client = RawClient::Create(ctx.get(), "www.example.com");
  hello_client->Advance();
  std::span<const uint8_t> pending = hello_client->PendingCiphertext();
  const std::string hello(reinterpret_cast<const char*>(pending.data()),
                          pending.size());
  ASSERT_GT(hello.size(), 100u);
  ASSERT_EQ(hello[0], 0x16);  // handshake record
  ASSERT_EQ(hello[5], 0x01);  // ClientHello

  struct Case {
    const char* what;
    size_t offset;
    uint8_t value;
  };
  // Record header (5) | msg type (1) | length (3) | legacy_version (2) |
  // random (32) | session id length (1) ...
  const Case cases[] = {
      {"handshake length too long", 6, 0xff},
      {"session id length beyond the message", 43, 0xff},
      {"record type unknown", 0, 0x42},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    std::string bad = hello;
    bad[c.offset] = static_cast<char>(c.value);
    TlsCounters counters;
    auto server = TlsServerConnection::Create(set_, set_->Find("web"),
                                              &counters);
    server->FeedCiphertext(
        {reinterpret_cast<const uint8_t*>(bad.data()), bad.size()});
    server->Advance();
    EXPECT_EQ(server->state(), TlsState::kFailed);
    EXPECT_EQ(server->failure(), TlsFailure::kBadClientHello)
        << TlsFailureName(server->failure());
    EXPECT_EQ(counters.handshake_failures[static_cast<size_t>(
                  TlsFailure::kBadClientHello)]
                  .load(),
              1u);
    EXPECT_GT(server->pending_ciphertext(), 0u) << "an alert is sent";
  }
}

// A server_name extension whose list length disagrees with the extension:
// our own SNI parser (ClientHello callback) refuses it with decode_error.
TEST_F(ConnectionTest, MalformedSniFails) {
  SslCtxPtr ctx = MakeClientCtx();
  auto hello_client = RawClient::Create(ctx.get(), "www.example.com");
  hello_client->Advance();
  std::span<const uint8_t> pending = hello_client->PendingCiphertext();
  std::string hello(reinterpret_cast<const char*>(pending.data()),
                    pending.size());
  // ... | list length (2) | name type 0 | name length (2) | name
  const size_t name_at = hello.find("www.example.com");
  ASSERT_NE(name_at, std::string::npos);
  ASSERT_GE(name_at, 5u);
  ASSERT_EQ(hello[name_at - 1], 15);
  ASSERT_EQ(hello[name_at - 3], 0);
  hello[name_at - 4] = static_cast<char>(hello[name_at - 4] - 1);

  auto server = NewServer();
  server->FeedCiphertext(
      {reinterpret_cast<const uint8_t*>(hello.data()), hello.size()});
  server->Advance();
  EXPECT_EQ(server->state(), TlsState::kFailed);
  EXPECT_EQ(server->failure(), TlsFailure::kBadClientHello)
      << TlsFailureName(server->failure());
  EXPECT_EQ(server->last_alert_sent(), SSL_AD_DECODE_ERROR);
  EXPECT_EQ(Failures(TlsFailure::kBadClientHello), 1u);
}

TEST_F(ConnectionTest, CorruptedRecordAfterHandshakeIsProtocolError) {
  SslCtxPtr ctx = MakeClientCtx();
  auto client = RawClient::Create(ctx.get(), "www.example.com");
  auto server = NewServer();
  ASSERT_TRUE(Handshake(*client, *server));
  const std::string data = "hello";
  client->WritePlaintext(
      {reinterpret_cast<const uint8_t*>(data.data()), data.size()});
  std::span<const uint8_t> record = client->PendingCiphertext();
  std::string bad(reinterpret_cast<const char*>(record.data()), record.size());
  bad.back() ^= 1;
  server->FeedCiphertext(
      {reinterpret_cast<const uint8_t*>(bad.data()), bad.size()});
  uint8_t buf[64];
  EXPECT_EQ(server->ReadPlaintext(buf), 0u);
  EXPECT_EQ(server->state(), TlsState::kFailed);
  EXPECT_TRUE(server->protocol_error());
  EXPECT_EQ(server->failure(), TlsFailure::kNone);
  EXPECT_EQ(counters_.protocol_errors.load(), 1u);
  EXPECT_EQ(server->last_alert_sent(), SSL_AD_BAD_RECORD_MAC);
}

TEST_F(ConnectionTest, InputBufferIsBounded) {
  auto server = NewServer();
  EXPECT_EQ(server->ciphertext_space(), kCiphertextInBufferBytes);
  std::string big(kCiphertextInBufferBytes + 1, '\x16');
  EXPECT_EQ(server->FeedCiphertext(
                {reinterpret_cast<const uint8_t*>(big.data()), big.size()}),
            kCiphertextInBufferBytes);
  EXPECT_EQ(server->ciphertext_space(), 0u);
}

TEST_F(ConnectionTest, ShutdownDuringHandshakeCloses) {
  auto server = NewServer();
  server->Shutdown();
  EXPECT_EQ(server->state(), TlsState::kClosed);
}

}  // namespace
}  // namespace locus::proxy::tls
