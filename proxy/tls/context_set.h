// The TLS server contexts of one shard: one SSL_CTX per TLS listener with
// its certificates, built from an immutable TlsSettings. Each shard builds
// its own set (share-nothing: no SSL_CTX, certificate or key reference
// count is touched by two cores), but sets built from equal settings behave
// identically, tickets included: a client resumes on whichever core its
// next connection lands on.
//
// A new config means a new set. Connections keep the set they started with
// alive (they hold a shared_ptr), so new handshakes use the new
// certificates at once and open connections are untouched.
#ifndef LOCUS_PROXY_TLS_CONTEXT_SET_H_
#define LOCUS_PROXY_TLS_CONTEXT_SET_H_

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proxy/tls/openssl_util.h"
#include "proxy/tls/settings.h"
#include "proxy/tls/sni.h"
#include "proxy/tls/ticket_keys.h"

namespace locus::proxy::tls {

// A certificate ready to serve.
struct ServedCertificate {
  std::string name;
  X509Ptr leaf;
  EvpPkeyPtr key;
  X509StackPtr intermediates;
  std::vector<std::string> dns_names;
};

// One listener's SSL_CTX and certificate table.
class ServerContext {
 public:
  const std::string& listener() const { return settings_.listener; }
  const ListenerTlsSettings& settings() const { return settings_; }
  SSL_CTX* ssl_ctx() const { return ctx_.get(); }

  // The certificate for a normalized server name (nullptr: none matched),
  // following exact, wildcard, then nothing.
  const ServedCertificate* Match(absl::string_view host) const;
  const ServedCertificate* default_certificate() const {
    return default_index_ < 0 ? nullptr : certificates_[default_index_];
  }

 private:
  friend class TlsContextSet;
  friend struct ServerCallbacks;

  ListenerTlsSettings settings_;
  SslCtxPtr ctx_;
  // Owned by the set; in the listener's priority order.
  std::vector<const ServedCertificate*> certificates_;
  CertificateSelector selector_;
  int default_index_ = -1;
  // Session ID context per certificate: SHA-256 of listener and
  // certificate name, set when the certificate is chosen. A ticket only
  // resumes on the listener and certificate it was issued for.
  std::vector<std::array<uint8_t, 32>> cert_sid_ctx_;
  // ALPN protocols in wire format (length-prefixed).
  std::string alpn_wire_;
  // Session ID context: SHA-256 of the listener name, so tickets of one
  // listener are not accepted by another.
  std::array<uint8_t, 32> sid_ctx_{};
  const std::vector<TicketKey>* ticket_keys_ = nullptr;
  int64_t session_lifetime_seconds_ = kSessionLifetimeSeconds;
};

class TlsContextSet {
 public:
  // Parses every certificate and key and builds one SSL_CTX per listener.
  // Fails (naming the listener or certificate) on anything the control
  // plane's validation would have refused.
  static absl::StatusOr<std::shared_ptr<const TlsContextSet>> Create(
      const TlsSettings& settings);

  // The listener's context, or nullptr if it has no TLS.
  const ServerContext* Find(absl::string_view listener) const;
  size_t listener_count() const { return listeners_.size(); }
  const std::vector<TicketKey>& ticket_keys() const { return ticket_keys_; }

 private:
  TlsContextSet() = default;
  // Settings of the listener's SSL_CTX (ctx.ctx_ is allocated).
  static absl::Status Configure(ServerContext& ctx);

  std::vector<std::unique_ptr<ServedCertificate>> certificates_;
  std::vector<std::unique_ptr<ServerContext>> listeners_;
  std::vector<TicketKey> ticket_keys_;
};

// The SSL_CTX ex_data slot that points to the ServerContext.
int ServerContextExIndex();

}  // namespace locus::proxy::tls

#endif  // LOCUS_PROXY_TLS_CONTEXT_SET_H_
