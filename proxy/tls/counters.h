// TLS counters of one shard. Each is written by its shard only (relaxed
// load + store, no locked instructions) and read by any thread (admin
// endpoint, Stats). Labels are bounded: failure reasons, two versions, the
// nine allowed cipher suites plus "other".
#ifndef LOCUS_PROXY_TLS_COUNTERS_H_
#define LOCUS_PROXY_TLS_COUNTERS_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace locus::proxy::tls {

// Why a handshake failed.
enum class TlsFailure : uint8_t {
  kNone,
  // Not a well-formed TLS handshake: garbage, a bad record or message, a
  // malformed extension (SNI included).
  kBadClientHello,
  // No cipher suite or key exchange group in common.
  kNoSharedCipher,
  // The peer offers only versions we refuse (TLS 1.1 and older, or TLS 1.2
  // on a TLS 1.3-only listener).
  kUnsupportedVersion,
  // No certificate for the requested name and on_unknown_sni is REJECT.
  kUnknownSni,
  // ALPN offered, but not http/1.1 (AlpnMismatch::kReject).
  kNoApplicationProtocol,
  // Plain HTTP sent to a TLS port.
  kPlainHttp,
  // The peer aborted the handshake with an alert (e.g. it does not trust
  // our certificate).
  kPeerAlert,
  // The transport closed in the middle of the handshake.
  kEof,
  // Client side: the server's certificate did not verify (chain or name).
  kCertificateVerify,
  // Anything else (internal errors, out of memory).
  kOther,
};
inline constexpr size_t kTlsFailureCount = 11;
static_assert(static_cast<size_t>(TlsFailure::kOther) + 1 == kTlsFailureCount,
              "handshake_failures is indexed by TlsFailure");

// "bad_client_hello", "no_shared_cipher", ... ("none" for kNone).
absl::string_view TlsFailureName(TlsFailure f);

// Negotiated protocol versions, for counters.
inline constexpr size_t kVersionLabelCount = 3;  // TLSv1.2, TLSv1.3, other
absl::string_view VersionLabel(size_t i);
size_t VersionLabelIndex(int ssl_version);  // TLS1_2_VERSION, ...

// Negotiated cipher suites: kTls12Ciphers, then kTls13Ciphersuites, then
// "other".
inline constexpr size_t kCipherLabelCount = 10;
absl::string_view CipherLabel(size_t i);
size_t CipherLabelIndex(absl::string_view openssl_name);

inline void Bump(std::atomic<uint64_t>& c, uint64_t by = 1) {
  c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

struct TlsCounters {
  std::atomic<uint64_t> handshakes_full{0};
  std::atomic<uint64_t> handshakes_resumed{0};
  // By TlsFailure.
  std::array<std::atomic<uint64_t>, kTlsFailureCount> handshake_failures{};
  std::array<std::atomic<uint64_t>, kVersionLabelCount> versions{};
  std::array<std::atomic<uint64_t>, kCipherLabelCount> ciphers{};
  // Handshakes without SNI, and those whose name matched no certificate
  // and got the default one.
  std::atomic<uint64_t> sni_missing{0};
  std::atomic<uint64_t> sni_default_certificate{0};
  // Tickets sealed; presented with a key we no longer have (full handshake
  // instead); opened with an older key (a new ticket is issued).
  std::atomic<uint64_t> tickets_issued{0};
  std::atomic<uint64_t> tickets_unknown_key{0};
  std::atomic<uint64_t> tickets_old_key{0};
  // After the handshake: the peer's close_notify; the transport closing
  // without one (truncation); fatal errors such as a bad record MAC.
  std::atomic<uint64_t> close_notify_received{0};
  std::atomic<uint64_t> truncated{0};
  std::atomic<uint64_t> protocol_errors{0};
  // Alerts, warnings included (close_notify is one).
  std::atomic<uint64_t> alerts_sent{0};
  std::atomic<uint64_t> alerts_received{0};
  // SSL_new failed (out of memory).
  std::atomic<uint64_t> setup_failures{0};
};

}  // namespace locus::proxy::tls

#endif  // LOCUS_PROXY_TLS_COUNTERS_H_
