#include "proxy/tls/context_set.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstring>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "proxy/tls/cert_util.h"
#include "proxy/tls/server_connection.h"

namespace locus::proxy::tls {

// OpenSSL's callbacks for server contexts. A friend of ServerContext and
// TlsServerConnection.
struct ServerCallbacks {
  static TlsServerConnection* Connection(SSL* ssl) {
    // Server contexts only ever carry TlsServerConnections.
    return static_cast<TlsServerConnection*>(
        static_cast<TlsConnection*>(SSL_get_ex_data(ssl, ConnectionExIndex())));
  }

  // Chooses the certificate by SNI before anything else of the handshake
  // happens (SSL_CTX_set_client_hello_cb). Runs again for the second
  // ClientHello after a HelloRetryRequest.
  static int ClientHello(SSL* ssl, int* alert, void* arg) {
    const auto* ctx = static_cast<const ServerContext*>(arg);
    TlsServerConnection* conn = Connection(ssl);
    if (conn == nullptr) {
      *alert = SSL_AD_INTERNAL_ERROR;
      return SSL_CLIENT_HELLO_ERROR;
    }
    const bool first = conn->certificate_ == nullptr;
    conn->server_name_len_ = 0;
    bool have_sni = false;
    const unsigned char* ext = nullptr;
    size_t ext_len = 0;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext,
                                  &ext_len) == 1) {
      ServerNameView sni = ParseServerNameExtension({ext, ext_len});
      if (sni.status != ServerNameView::Status::kOk) {
        conn->set_pending_failure(TlsFailure::kBadClientHello);
        *alert = SSL_AD_DECODE_ERROR;
        return SSL_CLIENT_HELLO_ERROR;
      }
      have_sni = !sni.host_name.empty();
      size_t len = 0;
      if (have_sni &&
          NormalizeServerName(sni.host_name, conn->server_name_, &len)) {
        conn->server_name_len_ = len;
      }
    }
    int index = conn->server_name_len_ > 0
                    ? ctx->selector_.Select(conn->server_name())
                    : -1;
    const ServedCertificate* cert =
        index < 0 ? nullptr : ctx->certificates_[index];
    TlsCounters* counters = conn->counters();
    if (cert == nullptr) {
      if (ctx->settings_.on_unknown_sni == UnknownSni::kReject ||
          ctx->default_index_ < 0) {
        conn->set_pending_failure(TlsFailure::kUnknownSni);
        *alert = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_CLIENT_HELLO_ERROR;
      }
      index = ctx->default_index_;
      cert = ctx->certificates_[index];
      if (first && counters != nullptr) {
        Bump(have_sni ? counters->sni_default_certificate
                      : counters->sni_missing);
      }
    }
    if (SSL_use_cert_and_key(ssl, cert->leaf.get(), cert->key.get(),
                             cert->intermediates.get(), 1) != 1 ||
        SSL_set_session_id_context(ssl, ctx->cert_sid_ctx_[index].data(),
                                   ctx->cert_sid_ctx_[index].size()) != 1) {
      ERR_clear_error();
      conn->set_pending_failure(TlsFailure::kOther);
      *alert = SSL_AD_INTERNAL_ERROR;
      return SSL_CLIENT_HELLO_ERROR;
    }
    conn->certificate_ = cert;
    return SSL_CLIENT_HELLO_SUCCESS;
  }

  static int Alpn(SSL* ssl, const unsigned char** out, unsigned char* out_len,
                  const unsigned char* in, unsigned int in_len, void* arg) {
    const auto* ctx = static_cast<const ServerContext*>(arg);
    if (ctx->alpn_wire_.empty()) return SSL_TLSEXT_ERR_NOACK;
    unsigned char* selected = nullptr;
    unsigned char selected_len = 0;
    if (SSL_select_next_proto(
            &selected, &selected_len,
            reinterpret_cast<const unsigned char*>(ctx->alpn_wire_.data()),
            static_cast<unsigned int>(ctx->alpn_wire_.size()), in,
            in_len) == OPENSSL_NPN_NEGOTIATED) {
      *out = selected;
      *out_len = selected_len;
      return SSL_TLSEXT_ERR_OK;
    }
    if (ctx->settings_.alpn_mismatch == AlpnMismatch::kContinue) {
      return SSL_TLSEXT_ERR_NOACK;
    }
    if (TlsServerConnection* conn = Connection(ssl); conn != nullptr) {
      conn->set_pending_failure(TlsFailure::kNoApplicationProtocol);
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }

  // Seals and opens tickets with our keys (identical on every core), not
  // OpenSSL's per-SSL_CTX random ones. Return values: 1 use the key, 2 the
  // key is an older one or the protocol TLS 1.3 (issue a fresh ticket), 0
  // unknown key (full handshake), -1 error.
  static int TicketKeyCallback(SSL* ssl, unsigned char* name,
                               unsigned char* iv, EVP_CIPHER_CTX* cipher,
                               EVP_MAC_CTX* mac, int encrypt) {
    const auto* ctx = static_cast<const ServerContext*>(
        SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ServerContextExIndex()));
    if (ctx == nullptr || ctx->ticket_keys_ == nullptr ||
        ctx->ticket_keys_->empty()) {
      return encrypt ? -1 : 0;
    }
    TlsServerConnection* conn = Connection(ssl);
    TlsCounters* counters = conn == nullptr ? nullptr : conn->counters();
    const std::vector<TicketKey>& keys = *ctx->ticket_keys_;
    const TicketKey* key = nullptr;
    int result = 1;
    if (encrypt) {
      key = &keys.front();
      std::memcpy(name, key->name.data(), kTicketKeyNameBytes);
      const EVP_CIPHER* c = key->aes256 ? EVP_aes_256_cbc() : EVP_aes_128_cbc();
      if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(c)) != 1 ||
          EVP_EncryptInit_ex(cipher, c, nullptr, key->aes_key.data(), iv) !=
              1) {
        ERR_clear_error();
        return -1;
      }
      if (counters != nullptr) Bump(counters->tickets_issued);
    } else {
      for (size_t i = 0; i < keys.size(); ++i) {
        if (std::memcmp(keys[i].name.data(), name, kTicketKeyNameBytes) == 0) {
          key = &keys[i];
          result = i == 0 ? 1 : 2;
          break;
        }
      }
      if (key == nullptr) {
        if (counters != nullptr) Bump(counters->tickets_unknown_key);
        return 0;
      }
      const EVP_CIPHER* c = key->aes256 ? EVP_aes_256_cbc() : EVP_aes_128_cbc();
      if (EVP_DecryptInit_ex(cipher, c, nullptr, key->aes_key.data(), iv) !=
          1) {
        ERR_clear_error();
        return -1;
      }
      if (result == 2 && counters != nullptr) Bump(counters->tickets_old_key);
      // TLS 1.3: with a key callback, OpenSSL sends a new ticket after a
      // resumption only when the callback says 2. Clients use a TLS 1.3
      // ticket once (RFC 8446 C.4; OpenSSL's client cache and browsers do),
      // so without a fresh one their next connection is a full handshake.
      // (nginx's ticket key callback does the same.)
      if (SSL_version(ssl) == TLS1_3_VERSION) result = 2;
    }
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(
            OSSL_MAC_PARAM_KEY, const_cast<uint8_t*>(key->hmac_key.data()),
            key->hmac_key_len),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                         const_cast<char*>("SHA256"), 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_CTX_set_params(mac, params) != 1) {
      ERR_clear_error();
      return -1;
    }
    return result;
  }
};

namespace {

std::array<uint8_t, 32> Sha256Of(absl::string_view a, absl::string_view b) {
  std::string text = absl::StrCat(a, std::string(1, '\0'), b);
  std::array<uint8_t, 32> out{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(),
         out.data());
  return out;
}

absl::StatusOr<std::unique_ptr<ServedCertificate>> LoadCertificate(
    const CertificateSettings& settings) {
  auto fail = [&](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("certificate \"", settings.name, "\": ", what));
  };
  absl::StatusOr<std::vector<X509Ptr>> chain =
      ParseCertificateChain(settings.chain_pem);
  if (!chain.ok()) return fail(chain.status().message());
  absl::StatusOr<EvpPkeyPtr> key = ParsePrivateKey(settings.key_pem);
  if (!key.ok()) return fail(absl::StrCat("private key: ", key.status().message()));
  if (absl::Status s = CheckKeyType(key->get()); !s.ok()) return fail(s.message());
  if (X509_check_private_key(chain->front().get(), key->get()) != 1) {
    ERR_clear_error();
    return fail("the private key does not match the certificate");
  }
  auto cert = std::make_unique<ServedCertificate>();
  cert->name = settings.name;
  bool from_cn = false;
  cert->dns_names = CertificateDnsNames(chain->front().get(), &from_cn, nullptr);
  cert->leaf = std::move(chain->front());
  cert->key = *std::move(key);
  cert->intermediates.reset(sk_X509_new_null());
  if (cert->intermediates == nullptr) return fail("out of memory");
  for (size_t i = 1; i < chain->size(); ++i) {
    if (sk_X509_push(cert->intermediates.get(), (*chain)[i].get()) <= 0) {
      return fail("out of memory");
    }
    (*chain)[i].release();
  }
  return cert;
}

}  // namespace

absl::Status TlsContextSet::Configure(ServerContext& ctx) {
  SSL_CTX* ssl_ctx = ctx.ctx_.get();
  const ListenerTlsSettings& s = ctx.settings_;
  auto fail = [&](absl::string_view what) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("listener \"", s.listener, "\": ", what));
  };
  const int min = s.min_version == TlsVersion::kTls13 ? TLS1_3_VERSION
                                                      : TLS1_2_VERSION;
  if (SSL_CTX_set_min_proto_version(ssl_ctx, min) != 1 ||
      SSL_CTX_set_max_proto_version(ssl_ctx, TLS1_3_VERSION) != 1) {
    return fail("cannot set the protocol versions");
  }
  if (absl::Status st = CheckCipherList(s.cipher_list); !st.ok()) {
    return fail(st.message());
  }
  if (absl::Status st = CheckCiphersuites(s.ciphersuites); !st.ok()) {
    return fail(st.message());
  }
  std::string ciphers = s.cipher_list.empty() ? DefaultCipherList() : s.cipher_list;
  std::string suites =
      s.ciphersuites.empty() ? DefaultCiphersuites() : s.ciphersuites;
  if (SSL_CTX_set_cipher_list(ssl_ctx, ciphers.c_str()) != 1 ||
      SSL_CTX_set_ciphersuites(ssl_ctx, suites.c_str()) != 1) {
    return fail("OpenSSL refused the cipher suites");
  }
  if (SSL_CTX_set1_groups_list(ssl_ctx, kGroups) != 1) {
    return fail("OpenSSL refused the groups");
  }
  // Security level 2: RSA and DH of at least 2048 bits, ECC of 224, no
  // SHA-1 signatures in the handshake.
  SSL_CTX_set_security_level(ssl_ctx, 2);
  SSL_CTX_set_options(ssl_ctx, SSL_OP_CIPHER_SERVER_PREFERENCE |
                                   SSL_OP_PRIORITIZE_CHACHA |
                                   SSL_OP_NO_RENEGOTIATION |
                                   SSL_OP_NO_COMPRESSION);
  SSL_CTX_clear_options(ssl_ctx, SSL_OP_ALLOW_CLIENT_RENEGOTIATION |
                                     SSL_OP_IGNORE_UNEXPECTED_EOF);
  // No stateful session cache: resumption is by tickets only, which every
  // core can open. A per-core cache would only help clients whose next
  // connection lands on the same core.
  SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_timeout(ssl_ctx, static_cast<long>(ctx.session_lifetime_seconds_));
  if (ctx.ticket_keys_->empty()) {
    SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ssl_ctx, 0);
  } else {
    SSL_CTX_clear_options(ssl_ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ssl_ctx, kTls13TicketsPerHandshake);
    if (SSL_CTX_set_tlsext_ticket_key_evp_cb(
            ssl_ctx, ServerCallbacks::TicketKeyCallback) != 1) {
      return fail("cannot install the ticket key callback");
    }
  }
  if (SSL_CTX_set_session_id_context(ssl_ctx, ctx.sid_ctx_.data(),
                                     ctx.sid_ctx_.size()) != 1) {
    return fail("cannot set the session id context");
  }
  SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_client_hello_cb(ssl_ctx, ServerCallbacks::ClientHello, &ctx);
  SSL_CTX_set_alpn_select_cb(ssl_ctx, ServerCallbacks::Alpn, &ctx);
  if (SSL_CTX_set_ex_data(ssl_ctx, ServerContextExIndex(), &ctx) != 1) {
    return fail("cannot attach the context");
  }
  return absl::OkStatus();
}

int ServerContextExIndex() {
  static const int index =
      SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

const ServedCertificate* ServerContext::Match(absl::string_view host) const {
  int index = selector_.Select(host);
  return index < 0 ? nullptr : certificates_[index];
}

absl::StatusOr<std::shared_ptr<const TlsContextSet>> TlsContextSet::Create(
    const TlsSettings& settings) {
  std::shared_ptr<TlsContextSet> set(new TlsContextSet());
  set->ticket_keys_ = settings.ticket_keys;
  if (set->ticket_keys_.size() > kMaxTicketKeys) {
    return absl::InvalidArgumentError(absl::StrCat(
        set->ticket_keys_.size(), " ticket keys; at most ", kMaxTicketKeys));
  }
  // Only certificates some listener uses are loaded.
  std::map<std::string, const CertificateSettings*> by_name;
  for (const CertificateSettings& c : settings.certificates) {
    if (!by_name.emplace(c.name, &c).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("certificate \"", c.name, "\" is given twice"));
    }
  }
  std::map<std::string, const ServedCertificate*> loaded;
  std::map<std::string, int> listener_names;
  for (const ListenerTlsSettings& ls : settings.listeners) {
    if (!listener_names.emplace(ls.listener, 0).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("listener \"", ls.listener, "\" is given twice"));
    }
    auto ctx = std::make_unique<ServerContext>();
    ctx->settings_ = ls;
    ctx->ticket_keys_ = &set->ticket_keys_;
    ctx->session_lifetime_seconds_ = settings.session_lifetime_seconds;
    ctx->sid_ctx_ = Sha256Of("listener", ls.listener);
    if (ls.certificates.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("listener \"", ls.listener, "\": no certificates"));
    }
    for (const std::string& name : ls.certificates) {
      auto it = loaded.find(name);
      if (it == loaded.end()) {
        auto settings_it = by_name.find(name);
        if (settings_it == by_name.end()) {
          return absl::InvalidArgumentError(
              absl::StrCat("listener \"", ls.listener, "\": certificate \"",
                           name, "\" does not exist"));
        }
        absl::StatusOr<std::unique_ptr<ServedCertificate>> cert =
            LoadCertificate(*settings_it->second);
        if (!cert.ok()) return cert.status();
        set->certificates_.push_back(*std::move(cert));
        it = loaded.emplace(name, set->certificates_.back().get()).first;
      }
      const int index = static_cast<int>(ctx->certificates_.size());
      ctx->certificates_.push_back(it->second);
      ctx->selector_.Add(it->second->dns_names, index);
      ctx->cert_sid_ctx_.push_back(Sha256Of(ls.listener, name));
    }
    const std::string& default_name = ls.default_certificate.empty()
                                          ? ls.certificates.front()
                                          : ls.default_certificate;
    for (size_t i = 0; i < ctx->certificates_.size(); ++i) {
      if (ctx->certificates_[i]->name == default_name) {
        ctx->default_index_ = static_cast<int>(i);
        break;
      }
    }
    if (ctx->default_index_ < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "listener \"", ls.listener, "\": default certificate \"",
          default_name, "\" is not one of its certificates"));
    }
    for (const std::string& p : ls.alpn) {
      if (p.empty() || p.size() > 255) {
        return absl::InvalidArgumentError(absl::StrCat(
            "listener \"", ls.listener, "\": ALPN protocol of ", p.size(),
            " bytes; 1..255"));
      }
      ctx->alpn_wire_.push_back(static_cast<char>(p.size()));
      ctx->alpn_wire_ += p;
    }
    ctx->ctx_.reset(SSL_CTX_new(TLS_server_method()));
    if (ctx->ctx_ == nullptr) {
      ERR_clear_error();
      return absl::ResourceExhaustedError("SSL_CTX_new failed");
    }
    if (absl::Status s = Configure(*ctx); !s.ok()) {
      return s;
    }
    set->listeners_.push_back(std::move(ctx));
  }
  return std::shared_ptr<const TlsContextSet>(std::move(set));
}

const ServerContext* TlsContextSet::Find(absl::string_view listener) const {
  for (const auto& ctx : listeners_) {
    if (ctx->listener() == listener) return ctx.get();
  }
  return nullptr;
}

// ---- TlsServerConnection ----------------------------------------------------

std::unique_ptr<TlsServerConnection> TlsServerConnection::Create(
    std::shared_ptr<const TlsContextSet> set, const ServerContext* listener,
    TlsCounters* counters) {
  SslPtr ssl(listener == nullptr ? nullptr : SSL_new(listener->ssl_ctx()));
  if (ssl == nullptr) {
    ERR_clear_error();
    if (counters != nullptr) Bump(counters->setup_failures);
    return nullptr;
  }
  SSL_set_accept_state(ssl.get());
  std::unique_ptr<TlsServerConnection> conn(
      new TlsServerConnection(std::move(ssl), std::move(set), counters));
  if (conn->state() == TlsState::kFailed) {
    if (counters != nullptr) Bump(counters->setup_failures);
    return nullptr;
  }
  return conn;
}

TlsServerConnection::TlsServerConnection(
    SslPtr ssl, std::shared_ptr<const TlsContextSet> set, TlsCounters* counters)
    : TlsConnection(std::move(ssl), counters), set_(std::move(set)) {}

}  // namespace locus::proxy::tls
