#include "proxy/tls/client_connection.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "proxy/tls/cert_util.h"
#include "proxy/tls/sni.h"

namespace locus::proxy::tls {

absl::StatusOr<std::shared_ptr<const TlsClientContext>> TlsClientContext::Create(
    const TlsClientSettings& s) {
  if (absl::Status st = CheckCipherList(s.cipher_list); !st.ok()) return st;
  if (absl::Status st = CheckCiphersuites(s.ciphersuites); !st.ok()) return st;
  std::shared_ptr<TlsClientContext> out(new TlsClientContext());
  out->ctx_.reset(SSL_CTX_new(TLS_client_method()));
  SSL_CTX* ctx = out->ctx_.get();
  auto fail = [](absl::string_view what) {
    ERR_clear_error();
    return absl::InvalidArgumentError(what);
  };
  if (ctx == nullptr) return fail("SSL_CTX_new failed");
  const int min = s.min_version == TlsVersion::kTls13 ? TLS1_3_VERSION
                                                      : TLS1_2_VERSION;
  std::string ciphers = s.cipher_list.empty() ? DefaultCipherList() : s.cipher_list;
  std::string suites =
      s.ciphersuites.empty() ? DefaultCiphersuites() : s.ciphersuites;
  if (SSL_CTX_set_min_proto_version(ctx, min) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, ciphers.c_str()) != 1 ||
      SSL_CTX_set_ciphersuites(ctx, suites.c_str()) != 1 ||
      SSL_CTX_set1_groups_list(ctx, kGroups) != 1) {
    return fail("OpenSSL refused the client settings");
  }
  SSL_CTX_set_security_level(ctx, 2);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                               SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);

  // Trust exactly the given roots, not the system store.
  if (s.ca_pem.empty()) return fail("ca_pem: required");
  absl::StatusOr<std::vector<X509Ptr>> roots = ParseCertificateChain(s.ca_pem);
  if (!roots.ok()) return fail(absl::StrCat("ca_pem: ", roots.status().message()));
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (const X509Ptr& root : *roots) {
    if (X509_STORE_add_cert(store, root.get()) != 1) {
      return fail("ca_pem: cannot add a certificate to the store");
    }
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);

  std::string alpn;
  for (const std::string& p : s.alpn) {
    if (p.empty() || p.size() > 255) return fail("alpn: 1..255 bytes each");
    alpn.push_back(static_cast<char>(p.size()));
    alpn += p;
  }
  if (!alpn.empty() &&
      SSL_CTX_set_alpn_protos(ctx,
                              reinterpret_cast<const unsigned char*>(alpn.data()),
                              static_cast<unsigned int>(alpn.size())) != 0) {
    return fail("alpn: refused");
  }
  return std::shared_ptr<const TlsClientContext>(std::move(out));
}

std::unique_ptr<TlsClientConnection> TlsClientConnection::Create(
    std::shared_ptr<const TlsClientContext> context,
    absl::string_view server_name, TlsCounters* counters) {
  auto setup_failed = [counters] {
    ERR_clear_error();
    if (counters != nullptr) Bump(counters->setup_failures);
    return nullptr;
  };
  if (context == nullptr) return setup_failed();
  SslPtr ssl(SSL_new(context->ssl_ctx()));
  if (ssl == nullptr) return setup_failed();
  std::string name(server_name);
  in_addr ip;
  if (inet_pton(AF_INET, name.c_str(), &ip) == 1) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()),
                                      name.c_str()) != 1) {
      return setup_failed();
    }
  } else {
    char normalized[kMaxServerNameBytes];
    size_t len = 0;
    if (!NormalizeServerName(name, normalized, &len)) return setup_failed();
    name.assign(normalized, len);
    // Wildcards match one label only, as in our own SNI selection.
    SSL_set_hostflags(ssl.get(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (SSL_set_tlsext_host_name(ssl.get(), name.c_str()) != 1 ||
        SSL_set1_host(ssl.get(), name.c_str()) != 1) {
      return setup_failed();
    }
  }
  SSL_set_connect_state(ssl.get());
  std::unique_ptr<TlsClientConnection> conn(
      new TlsClientConnection(std::move(ssl), std::move(context), counters));
  if (conn->state() == TlsState::kFailed) return setup_failed();
  return conn;
}

TlsClientConnection::TlsClientConnection(
    SslPtr ssl, std::shared_ptr<const TlsClientContext> context,
    TlsCounters* counters)
    : TlsConnection(std::move(ssl), counters), context_(std::move(context)) {}

long TlsClientConnection::verify_result() const {
  return SSL_get_verify_result(ssl());
}

}  // namespace locus::proxy::tls
