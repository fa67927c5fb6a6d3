// What the TLS contexts of one shard are built from: plain values, with no
// OpenSSL objects, so that one immutable TlsSettings can be made once per
// config version and every shard
// builds its own contexts from it (TlsContextSet). The secure defaults live here, with the checks
// that a listener only narrows them.
#ifndef LOCUS_PROXY_TLS_SETTINGS_H_
#define LOCUS_PROXY_TLS_SETTINGS_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "proxy/tls/ticket_keys.h"

namespace locus::proxy::tls {

// TLS 1.2 cipher suites, in server preference order: ECDHE key exchange
// (forward secrecy) with AEAD ciphers only (AES-GCM, ChaCha20-Poly1305); no
// CBC, RC4, 3DES, static RSA or DHE. Both ECDSA and RSA certificates.
inline constexpr std::array<absl::string_view, 6> kTls12Ciphers = {
    "ECDHE-ECDSA-AES128-GCM-SHA256",  "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",  "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
};
// TLS 1.3 cipher suites: OpenSSL's default set (all are AEAD).
inline constexpr std::array<absl::string_view, 3> kTls13Ciphersuites = {
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
};
// Key exchange groups, in preference order.
inline constexpr char kGroups[] = "X25519:P-256";
// ALPN protocols the HTTP listeners offer.
inline constexpr char kAlpnHttp11[] = "http/1.1";
// Lifetime of a session (and of the tickets that carry it), in seconds.
inline constexpr long kSessionLifetimeSeconds = 7200;
// TLS 1.3 tickets sent after each full handshake (browsers open parallel
// connections and use one ticket each).
inline constexpr size_t kTls13TicketsPerHandshake = 2;

enum class TlsVersion : uint8_t { kTls12, kTls13 };

enum class UnknownSni : uint8_t {
  // Unknown names and handshakes without SNI get the default certificate.
  kDefaultCertificate,
  // They fail with an unrecognized_name alert.
  kReject,
};

// When the client offers ALPN but none of our protocols.
enum class AlpnMismatch : uint8_t {
  // Fail with no_application_protocol (RFC 7301 §3.2; nginx since 1.21.4,
  // which mitigates cross-protocol attacks such as ALPACA).
  kReject,
  // Continue without ALPN (nginx before 1.21.4).
  kContinue,
};

struct CertificateSettings {
  std::string name;
  std::string chain_pem;  // leaf first
  std::string key_pem;    // secret
};

struct ListenerTlsSettings {
  std::string listener;  // the listener's name
  // Names of CertificateSettings, in priority order for SNI.
  std::vector<std::string> certificates;
  // Empty: the first of `certificates`.
  std::string default_certificate;
  UnknownSni on_unknown_sni = UnknownSni::kDefaultCertificate;
  TlsVersion min_version = TlsVersion::kTls12;
  // ':'-separated names from kTls12Ciphers; empty: all of them.
  std::string cipher_list;
  // ':'-separated names from kTls13Ciphersuites; empty: all of them.
  std::string ciphersuites;
  // ALPN protocols offered, in preference order; empty: no ALPN.
  std::vector<std::string> alpn = {kAlpnHttp11};
  AlpnMismatch alpn_mismatch = AlpnMismatch::kReject;
};

struct TlsSettings {
  std::vector<CertificateSettings> certificates;
  std::vector<ListenerTlsSettings> listeners;
  // The first encrypts new tickets, all decrypt. Empty: no session tickets
  // (and so no resumption: there is no per-core session cache). The daemon
  // passes the configured keys, or one it generated at start-up.
  std::vector<TicketKey> ticket_keys;
  // Session lifetime, also the ticket lifetime hint sent to clients.
  int64_t session_lifetime_seconds = kSessionLifetimeSeconds;
};

// OK when `list` is empty or names only suites of `allowed`, each once.
// Narrowing only: OpenSSL cipher-string syntax ("HIGH", "!aNULL") is
// refused so a listener can never widen the defaults.
absl::Status CheckCipherList(absl::string_view list);
absl::Status CheckCiphersuites(absl::string_view list);

// kTls12Ciphers (or kTls13Ciphersuites) joined with ':'.
std::string DefaultCipherList();
std::string DefaultCiphersuites();

absl::string_view TlsVersionName(TlsVersion v);  // "TLSv1.2", "TLSv1.3"

}  // namespace locus::proxy::tls

#endif  // LOCUS_PROXY_TLS_SETTINGS_H_
