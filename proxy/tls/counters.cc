#include "proxy/tls/counters.h"

#include <openssl/ssl.h>

#include "proxy/tls/settings.h"

namespace locus::proxy::tls {

absl::string_view TlsFailureName(TlsFailure f) {
  switch (f) {
    case TlsFailure::kNone:
      return "none";
    case TlsFailure::kBadClientHello:
      return "bad_client_hello";
    case TlsFailure::kNoSharedCipher:
      return "no_shared_cipher";
    case TlsFailure::kUnsupportedVersion:
      return "unsupported_version";
    case TlsFailure::kUnknownSni:
      return "unknown_sni";
    case TlsFailure::kNoApplicationProtocol:
      return "no_application_protocol";
    case TlsFailure::kPlainHttp:
      return "plain_http";
    case TlsFailure::kPeerAlert:
      return "peer_alert";
    case TlsFailure::kEof:
      return "eof";
    case TlsFailure::kCertificateVerify:
      return "certificate_verify";
    case TlsFailure::kOther:
      return "other";
  }
  return "other";
}

absl::string_view VersionLabel(size_t i) {
  switch (i) {
    case 0:
      return "TLSv1.2";
    case 1:
      return "TLSv1.3";
    default:
      return "other";
  }
}

size_t VersionLabelIndex(int ssl_version) {
  switch (ssl_version) {
    case TLS1_2_VERSION:
      return 0;
    case TLS1_3_VERSION:
      return 1;
    default:
      return 2;
  }
}

absl::string_view CipherLabel(size_t i) {
  if (i < kTls12Ciphers.size()) return kTls12Ciphers[i];
  i -= kTls12Ciphers.size();
  if (i < kTls13Ciphersuites.size()) return kTls13Ciphersuites[i];
  return "other";
}

size_t CipherLabelIndex(absl::string_view name) {
  for (size_t i = 0; i < kCipherLabelCount - 1; ++i) {
    if (CipherLabel(i) == name) return i;
  }
  return kCipherLabelCount - 1;
}

}  // namespace locus::proxy::tls
