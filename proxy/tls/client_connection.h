// The client side, for TLS to backends: verifies the server's chain
// against a CA bundle and its name (DNS SAN, or IP SAN for an address),
// sends SNI for DNS names, offers http/1.1 by ALPN. No session resumption
// yet: every upstream connection makes a full handshake (keep-alive makes
// that rare).
#ifndef LOCUS_PROXY_TLS_CLIENT_CONNECTION_H_
#define LOCUS_PROXY_TLS_CLIENT_CONNECTION_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proxy/tls/connection.h"
#include "proxy/tls/settings.h"

namespace locus::proxy::tls {

struct TlsClientSettings {
  // PEM certificates trusted as roots. Required: there is no insecure mode.
  std::string ca_pem;
  TlsVersion min_version = TlsVersion::kTls12;
  // Empty: the defaults of settings.h.
  std::string cipher_list;
  std::string ciphersuites;
  std::vector<std::string> alpn = {kAlpnHttp11};
};

// One per shard, like TlsContextSet.
class TlsClientContext {
 public:
  static absl::StatusOr<std::shared_ptr<const TlsClientContext>> Create(
      const TlsClientSettings& settings);
  SSL_CTX* ssl_ctx() const { return ctx_.get(); }

 private:
  TlsClientContext() = default;
  SslCtxPtr ctx_;
};

class TlsClientConnection final : public TlsConnection {
 public:
  // `server_name` is a DNS name (sent as SNI and matched against the
  // certificate's DNS names) or an IPv4 address (matched against its IP
  // addresses; no SNI). nullptr if OpenSSL cannot allocate or the name is
  // neither.
  static std::unique_ptr<TlsClientConnection> Create(
      std::shared_ptr<const TlsClientContext> context,
      absl::string_view server_name, TlsCounters* counters);

  // X509_V_OK, or why verification failed (X509_verify_cert_error_string).
  long verify_result() const;

 private:
  TlsClientConnection(SslPtr ssl,
                      std::shared_ptr<const TlsClientContext> context,
                      TlsCounters* counters);

  std::shared_ptr<const TlsClientContext> context_;
};

}  // namespace locus::proxy::tls

#endif  // LOCUS_PROXY_TLS_CLIENT_CONNECTION_H_
