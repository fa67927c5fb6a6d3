// The server side of a TLS connection (a client connected to one of our
// listeners). The certificate is chosen by SNI when the ClientHello arrives:
// exact name, then wildcard, then the listener's default certificate or an
// unrecognized_name alert (on_unknown_sni).
#ifndef LOCUS_PROXY_TLS_SERVER_CONNECTION_H_
#define LOCUS_PROXY_TLS_SERVER_CONNECTION_H_

#include <memory>

#include "proxy/tls/connection.h"
#include "proxy/tls/context_set.h"

namespace locus::proxy::tls {

class TlsServerConnection final : public TlsConnection {
 public:
  // A connection for `listener`, a context of `set`. Keeps `set` alive for
  // as long as it lives. nullptr only if OpenSSL cannot allocate (counted
  // in counters->setup_failures). `counters` (the shard's) may be null.
  static std::unique_ptr<TlsServerConnection> Create(
      std::shared_ptr<const TlsContextSet> set, const ServerContext* listener,
      TlsCounters* counters);

  // The client's SNI, normalized (lower case, no trailing dot); empty when
  // it sent none or one that is not a host name.
  absl::string_view server_name() const {
    return absl::string_view(server_name_, server_name_len_);
  }
  // The certificate chosen (nullptr before the ClientHello, or if none).
  const ServedCertificate* certificate() const { return certificate_; }

 private:
  friend struct ServerCallbacks;

  TlsServerConnection(SslPtr ssl, std::shared_ptr<const TlsContextSet> set,
                      TlsCounters* counters);

  std::shared_ptr<const TlsContextSet> set_;
  const ServedCertificate* certificate_ = nullptr;
  char server_name_[kMaxServerNameBytes] = {};
  size_t server_name_len_ = 0;
};

}  // namespace locus::proxy::tls

#endif  // LOCUS_PROXY_TLS_SERVER_CONNECTION_H_
