#include "proxy/tls/test_peer.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <algorithm>
#include <utility>

namespace locus::proxy::tls::testing {
namespace {

// Plenty for any handshake or test transfer; a loop that stops moving
// ends earlier.
constexpr int kMaxPumpRounds = 10000;

size_t MoveOneWay(TlsConnection& from, TlsConnection& to) {
  size_t moved = 0;
  while (true) {
    std::span<const uint8_t> pending = from.PendingCiphertext();
    if (pending.empty()) break;
    size_t n = to.FeedCiphertext(pending);
    if (n == 0) break;
    from.ConsumeCiphertext(n);
    moved += n;
  }
  return moved;
}

void FreeSession(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  SSL_SESSION_free(static_cast<SSL_SESSION*>(ptr));
}

int SessionSlot() {
  static const int index =
      SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, FreeSession);
  return index;
}

int NewSession(SSL* ssl, SSL_SESSION* session) {
  SSL_CTX* ctx = SSL_get_SSL_CTX(ssl);
  auto* old = static_cast<SSL_SESSION*>(SSL_CTX_get_ex_data(ctx, SessionSlot()));
  if (old != nullptr) SSL_SESSION_free(old);
  SSL_CTX_set_ex_data(ctx, SessionSlot(), session);
  return 1;  // we keep the reference
}

}  // namespace

size_t Pump(TlsConnection& a, TlsConnection& b) {
  size_t total = 0;
  for (int round = 0; round < kMaxPumpRounds; ++round) {
    a.Advance();
    b.Advance();
    size_t moved = MoveOneWay(a, b) + MoveOneWay(b, a);
    if (moved == 0) break;
    total += moved;
  }
  a.Advance();
  b.Advance();
  return total;
}

bool Handshake(TlsConnection& client, TlsConnection& server) {
  for (int round = 0; round < kMaxPumpRounds; ++round) {
    if (client.handshake_done() && server.handshake_done()) break;
    if (client.state() == TlsState::kFailed ||
        server.state() == TlsState::kFailed) {
      break;
    }
    if (Pump(client, server) == 0) break;
  }
  // Let the last flights (TLS 1.3 tickets, alerts) arrive.
  Pump(client, server);
  return client.handshake_done() && server.handshake_done();
}

std::string Transfer(TlsConnection& from, TlsConnection& to,
                     const std::string& data) {
  std::string received;
  size_t written = 0;
  uint8_t buf[4096];
  for (int round = 0; round < kMaxPumpRounds; ++round) {
    if (written < data.size()) {
      written += from.WritePlaintext(
          {reinterpret_cast<const uint8_t*>(data.data()) + written,
           data.size() - written});
    }
    size_t moved = Pump(from, to);
    size_t read = 0;
    while (size_t n = to.ReadPlaintext(buf)) {
      received.append(reinterpret_cast<char*>(buf), n);
      read += n;
    }
    if (written == data.size() && received.size() >= data.size()) break;
    if (moved == 0 && read == 0 && written == data.size()) break;
  }
  return received;
}

std::unique_ptr<RawClient> RawClient::Create(SSL_CTX* ctx,
                                             const std::string& sni,
                                             SSL_SESSION* session) {
  SslPtr ssl(SSL_new(ctx));
  if (ssl == nullptr) return nullptr;
  if (!sni.empty() && SSL_set_tlsext_host_name(ssl.get(), sni.c_str()) != 1) {
    return nullptr;
  }
  if (session != nullptr && SSL_set_session(ssl.get(), session) != 1) {
    return nullptr;
  }
  SSL_set_connect_state(ssl.get());
  return std::unique_ptr<RawClient>(new RawClient(std::move(ssl), nullptr));
}

SslCtxPtr MakeClientCtx(const ClientOptions& options) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_min_proto_version(ctx.get(), options.min_version);
  SSL_CTX_set_max_proto_version(ctx.get(), options.max_version);
  if (options.max_version < TLS1_2_VERSION) {
    // Debian's OpenSSL refuses TLS 1.0 and 1.1 below security level 0;
    // the test client must still send them to see the server refuse.
    SSL_CTX_set_cipher_list(ctx.get(), "DEFAULT:@SECLEVEL=0");
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_session_cache_mode(
      ctx.get(), SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx.get(), NewSession);
  std::string alpn;
  for (const std::string& p : options.alpn) {
    alpn.push_back(static_cast<char>(p.size()));
    alpn += p;
  }
  if (!alpn.empty()) {
    SSL_CTX_set_alpn_protos(ctx.get(),
                            reinterpret_cast<const unsigned char*>(alpn.data()),
                            static_cast<unsigned int>(alpn.size()));
  }
  ERR_clear_error();
  return ctx;
}

SSL_SESSION* LastSession(SSL_CTX* ctx) {
  auto* s = static_cast<SSL_SESSION*>(SSL_CTX_get_ex_data(ctx, SessionSlot()));
  if (s != nullptr) SSL_SESSION_up_ref(s);
  return s;
}

SniFixture::SniFixture() {
  auto add = [&](const std::string& name, const std::string& cn,
                 std::vector<std::string> dns) {
    CertSpec spec;
    spec.common_name = cn;
    spec.dns_names = std::move(dns);
    TestPki::Leaf leaf = pki.Issue(spec);
    settings.certificates.push_back({name, leaf.chain_pem, leaf.key_pem});
  };
  add("default", "default.test", {"default.test"});
  add("wildcard", "wildcard.example.com", {"*.example.com"});
  add("exact", "www.example.com", {"www.example.com"});
  ListenerTlsSettings web;
  web.listener = "web";
  // The wildcard before the exact name: exact still wins.
  web.certificates = {"wildcard", "exact", "default"};
  web.default_certificate = "default";
  settings.listeners.push_back(web);
  for (int i = 0; i < 2; ++i) {
    settings.ticket_keys.push_back(*ParseTicketKey(GenerateTicketKeyBytes()));
  }
}

std::string PeerCommonName(const TlsConnection& client) {
  X509* peer = SSL_get0_peer_certificate(client.ssl());
  if (peer == nullptr) return "";
  X509_NAME* name = X509_get_subject_name(peer);
  char cn[256] = {};
  if (X509_NAME_get_text_by_NID(name, NID_commonName, cn, sizeof(cn)) < 0) {
    return "";
  }
  return cn;
}

}  // namespace locus::proxy::tls::testing
