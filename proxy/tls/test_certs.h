// Test keys and certificates made with OpenSSL's APIs, so tests need no
// files and can choose every property (key type, names, validity).
#ifndef LOCUS_PROXY_TLS_TEST_CERTS_H_
#define LOCUS_PROXY_TLS_TEST_CERTS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "proxy/tls/openssl_util.h"

namespace locus::proxy::tls::testing {

EvpPkeyPtr MakeRsaKey(int bits);
// "P-256", "P-384", "P-521", ...
EvpPkeyPtr MakeEcKey(absl::string_view group);
EvpPkeyPtr MakeEd25519Key();

// Keys made once per process (RSA generation is slow under sanitizers);
// the returned pointer has its own reference.
EvpPkeyPtr SharedRsaKey(int bits);
EvpPkeyPtr SharedEcKey(absl::string_view group);

struct CertSpec {
  std::string common_name;
  std::vector<std::string> dns_names;     // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries
  absl::Time not_before = absl::Now() - absl::Hours(1);
  absl::Time not_after = absl::Now() + absl::Hours(24 * 365);
  bool ca = false;
  const EVP_MD* md = nullptr;  // nullptr: SHA-256
  long serial = 1;
};

// Signed by `issuer_key` as `issuer`, or self-signed when issuer is null.
X509Ptr MakeCertificate(const CertSpec& spec, EVP_PKEY* key, X509* issuer,
                        EVP_PKEY* issuer_key);

std::string ToPem(X509* cert);
std::string ToPem(EVP_PKEY* key);  // PKCS#8 "PRIVATE KEY"

// Root CA -> intermediate CA -> leaves, all ECDSA P-256 unless the leaf key
// says otherwise.
class TestPki {
 public:
  explicit TestPki(absl::Time now = absl::Now(),
                   absl::string_view name = "Locus Test");

  std::string root_pem() const { return ToPem(root_.get()); }
  std::string intermediate_pem() const { return ToPem(intermediate_.get()); }

  struct Leaf {
    std::string chain_pem;  // leaf, then the intermediate
    std::string key_pem;
    std::string leaf_pem;   // the leaf alone
  };
  // A leaf for `spec` with key `key` (nullptr: a shared P-256 key).
  Leaf Issue(const CertSpec& spec, EVP_PKEY* key = nullptr) const;

 private:
  EvpPkeyPtr root_key_;
  X509Ptr root_;
  EvpPkeyPtr intermediate_key_;
  X509Ptr intermediate_;
};

}  // namespace locus::proxy::tls::testing

#endif  // LOCUS_PROXY_TLS_TEST_CERTS_H_
