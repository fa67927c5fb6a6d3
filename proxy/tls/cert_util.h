// Certificate chains and private keys as the control plane checks them and
// the data plane loads them. Pure functions of their inputs (the time is
// passed in); no files, no global state.
//
// What a served certificate must be:
// - certificate_chain: PEM "CERTIFICATE" blocks only, leaf first, then each
//   issuer in order; every certificate must be signed by the next one. At
//   most kMaxChainCertificates, kMaxCertificateChainBytes.
// - private_key: one unencrypted PEM key ("PRIVATE KEY", "RSA PRIVATE KEY"
//   or "EC PRIVATE KEY", optionally after "EC PARAMETERS") that matches the
//   leaf's public key.
// - key type: RSA of kMinRsaBits..kMaxRsaBits bits, or ECDSA on P-256 or
//   P-384. Signatures with MD5 or SHA-1 are refused.
// - validity: not yet valid or expired is an error for a new certificate (a
//   warning for one that was already stored); expiring within
//   kExpiryWarning is a warning.
#ifndef LOCUS_PROXY_TLS_CERT_UTIL_H_
#define LOCUS_PROXY_TLS_CERT_UTIL_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proxy/tls/openssl_util.h"

namespace locus::proxy::tls {

inline constexpr size_t kMaxCertificateChainBytes = 64 * 1024;
inline constexpr int kMaxChainCertificates = 10;
inline constexpr size_t kMaxPrivateKeyBytes = 16 * 1024;
inline constexpr int kMinRsaBits = 2048;
// Larger RSA keys make every full handshake expensive (a cheap DoS lever).
inline constexpr int kMaxRsaBits = 8192;
inline constexpr absl::Duration kExpiryWarning = absl::Hours(24 * 30);
inline constexpr size_t kMaxDnsNameLength = 253;
// Roots trusted for TLS to a pool's endpoints (UpstreamTls.ca_bundle_pem):
// enough for a public root store, small enough to parse on every apply.
inline constexpr size_t kMaxCaBundleBytes = 262144;
inline constexpr int kMaxCaBundleCertificates = 100;

// What the leaf certificate says, for the API and proxyctl.
struct CertificateInfo {
  std::string subject;  // RFC 2253
  std::string issuer;
  // Lower-case DNS names the certificate serves ("*.example.com" for a
  // wildcard): its DNS subjectAltNames, or its subject CN when it has none.
  std::vector<std::string> dns_names;
  bool names_from_cn = false;
  // subjectAltName IP addresses, as text ("127.0.0.1", "::1").
  std::vector<std::string> ip_addresses;
  absl::Time not_before = absl::InfinitePast();
  absl::Time not_after = absl::InfinitePast();
  std::string key_type;            // "RSA-2048", "ECDSA-P256", "ECDSA-P384"
  std::string sha256_fingerprint;  // of the leaf's DER, lower-case hex
  std::string serial;              // lower-case hex
  int chain_length = 0;            // certificates in the chain, leaf included
};

enum class CertField { kChain, kKey };

struct CertProblem {
  CertField field;
  // A sentence without the field name, never quoting key material.
  std::string what;
};

struct CertificateCheck {
  CertificateInfo info;  // as much as could be read
  std::vector<CertProblem> errors;
  std::vector<CertProblem> warnings;
  bool ok() const { return errors.empty(); }
};

// Whether validity-period problems (not yet valid, expired) are errors or
// warnings. A certificate already in service that expires must not block
// unrelated changes, nor a restart.
enum class TimeRule { kReject, kWarn };

// Every check above, at time `now`.
CertificateCheck CheckCertificate(absl::string_view chain_pem,
                                  absl::string_view key_pem, absl::Time now,
                                  TimeRule time_rule = TimeRule::kReject);

// The certificates of a PEM chain, leaf first. Refuses blocks other than
// CERTIFICATE (a private key pasted into the chain must not end up in API
// output) and text that does not parse.
absl::StatusOr<std::vector<X509Ptr>> ParseCertificateChain(
    absl::string_view pem);

// The certificates of a CA bundle, in any order: CERTIFICATE blocks only,
// at most kMaxCaBundleCertificates and kMaxCaBundleBytes.
absl::StatusOr<std::vector<X509Ptr>> ParseCaBundle(absl::string_view pem);

// One unencrypted PEM private key. Error messages never quote the key.
absl::StatusOr<EvpPkeyPtr> ParsePrivateKey(absl::string_view pem);

// Facts about a parsed chain's leaf (chain non-empty).
CertificateInfo DescribeChain(const std::vector<X509Ptr>& chain);

// The DNS names `leaf` serves (see CertificateInfo::dns_names). Names that
// are not host names (or "*." + host name) are left out and listed in
// `skipped` when it is not null.
std::vector<std::string> CertificateDnsNames(X509* leaf, bool* from_cn,
                                             std::vector<std::string>* skipped);

// The subjectAltName IP addresses of `leaf`, as text.
std::vector<std::string> CertificateIpAddresses(X509* leaf);

// "RSA-2048", "ECDSA-P256", ... or a description of an unsupported key.
std::string KeyTypeName(const EVP_PKEY* key);
// OK for RSA kMinRsaBits..kMaxRsaBits and ECDSA P-256/P-384.
absl::Status CheckKeyType(const EVP_PKEY* key);

// Lower-case host name, or "*." + host name; labels of letters, digits and
// '-', at most kMaxDnsNameLength.
bool IsCertificateDnsName(absl::string_view name);

// "2024-01-31T12:00:00Z".
std::string TimeText(absl::Time t);

}  // namespace locus::proxy::tls

#endif  // LOCUS_PROXY_TLS_CERT_UTIL_H_
