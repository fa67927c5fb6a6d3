// In-memory TLS peers for tests and the fuzz target: pumping ciphertext
// between two TlsConnections, a client over any SSL_CTX (old protocol
// versions, resumption, offered ALPN), and a ready-made PKI with the
// certificates the SNI tests choose between.
#ifndef LOCUS_PROXY_TLS_TEST_PEER_H_
#define LOCUS_PROXY_TLS_TEST_PEER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proxy/tls/connection.h"
#include "proxy/tls/context_set.h"
#include "proxy/tls/openssl_util.h"
#include "proxy/tls/settings.h"
#include "proxy/tls/test_certs.h"

namespace locus::proxy::tls::testing {

// Moves ciphertext both ways and advances both sides until nothing moves
// (bounded). Returns the bytes moved.
size_t Pump(TlsConnection& a, TlsConnection& b);
// Pumps until both handshakes are done or one side failed.
bool Handshake(TlsConnection& client, TlsConnection& server);
// Writes all of `data` from `from` and reads it all at `to` (records, full
// output buffers and partial writes included). What `to` received.
std::string Transfer(TlsConnection& from, TlsConnection& to,
                     const std::string& data);

// A client over a caller-made SSL_CTX: what TlsClientConnection does not
// offer (TLS 1.0, resumption, ALPN choices, no verification).
class RawClient final : public TlsConnection {
 public:
  // `sni` empty: no SNI. `session` (may be null): offered for resumption.
  static std::unique_ptr<RawClient> Create(SSL_CTX* ctx, const std::string& sni,
                                           SSL_SESSION* session = nullptr);

 private:
  using TlsConnection::TlsConnection;
};

struct ClientOptions {
  int min_version = TLS1_2_VERSION;
  int max_version = TLS1_3_VERSION;
  std::vector<std::string> alpn = {kAlpnHttp11};
};
// A client SSL_CTX that verifies nothing and keeps the last session it was
// given (TLS 1.2 ticket or TLS 1.3 NewSessionTicket) for LastSession().
SslCtxPtr MakeClientCtx(const ClientOptions& options = {});
// The newest session `ctx` received, with a reference for the caller
// (nullptr if none).
SSL_SESSION* LastSession(SSL_CTX* ctx);

// Certificates "exact" (www.example.com), "wildcard" (*.example.com) and
// "default" (default.test), and listener "web" serving all three with
// "default" as its default.
struct SniFixture {
  SniFixture();
  TlsSettings settings;
  TestPki pki;
};

// The subject CN of the certificate the client saw.
std::string PeerCommonName(const TlsConnection& client);

}  // namespace locus::proxy::tls::testing

#endif  // LOCUS_PROXY_TLS_TEST_PEER_H_
