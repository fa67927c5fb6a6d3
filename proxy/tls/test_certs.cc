#include "proxy/tls/test_certs.h"

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace locus::proxy::tls::testing {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "test_certs: %s failed: %s\n", what,
            TakeOpenSslErrors().c_str());
    abort();
  }
}

void AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  Check(ext != nullptr, "X509V3_EXT_conf_nid");
  Check(X509_add_ext(cert, ext, -1) == 1, "X509_add_ext");
  X509_EXTENSION_free(ext);
}

EvpPkeyPtr UpRef(EVP_PKEY* key) {
  EVP_PKEY_up_ref(key);
  return EvpPkeyPtr(key);
}

}  // namespace

EvpPkeyPtr MakeRsaKey(int bits) {
  EVP_PKEY* key = EVP_RSA_gen(static_cast<unsigned int>(bits));
  Check(key != nullptr, "EVP_RSA_gen");
  return EvpPkeyPtr(key);
}

EvpPkeyPtr MakeEcKey(absl::string_view group) {
  std::string g(group);
  EVP_PKEY* key = EVP_EC_gen(g.c_str());
  Check(key != nullptr, "EVP_EC_gen");
  return EvpPkeyPtr(key);
}

EvpPkeyPtr MakeEd25519Key() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  Check(key != nullptr, "ED25519 keygen");
  return EvpPkeyPtr(key);
}

EvpPkeyPtr SharedRsaKey(int bits) {
  static std::mutex mu;
  static auto* keys = new std::map<int, EVP_PKEY*>();
  std::lock_guard<std::mutex> lock(mu);
  EVP_PKEY*& key = (*keys)[bits];
  if (key == nullptr) key = MakeRsaKey(bits).release();
  return UpRef(key);
}

EvpPkeyPtr SharedEcKey(absl::string_view group) {
  static std::mutex mu;
  static auto* keys = new std::map<std::string, EVP_PKEY*>();
  std::lock_guard<std::mutex> lock(mu);
  EVP_PKEY*& key = (*keys)[std::string(group)];
  if (key == nullptr) key = MakeEcKey(group).release();
  return UpRef(key);
}

X509Ptr MakeCertificate(const CertSpec& spec, EVP_PKEY* key, X509* issuer,
                        EVP_PKEY* issuer_key) {
  X509Ptr cert(X509_new());
  Check(cert != nullptr, "X509_new");
  X509* x = cert.get();
  Check(X509_set_version(x, X509_VERSION_3) == 1, "X509_set_version");
  Check(ASN1_INTEGER_set(X509_get_serialNumber(x), spec.serial) == 1,
        "serial");
  Check(ASN1_TIME_set(X509_getm_notBefore(x), absl::ToTimeT(spec.not_before)) !=
            nullptr,
        "notBefore");
  Check(ASN1_TIME_set(X509_getm_notAfter(x), absl::ToTimeT(spec.not_after)) !=
            nullptr,
        "notAfter");
  Check(X509_set_pubkey(x, key) == 1, "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(x);
  if (!spec.common_name.empty()) {
    Check(X509_NAME_add_entry_by_txt(
              name, "CN", MBSTRING_UTF8,
              reinterpret_cast<const unsigned char*>(spec.common_name.c_str()),
              -1, -1, 0) == 1,
          "CN");
  }
  Check(X509_NAME_add_entry_by_txt(
            name, "O", MBSTRING_ASC,
            reinterpret_cast<const unsigned char*>("Locus Tests"), -1, -1,
            0) == 1,
        "O");
  Check(X509_set_issuer_name(
            x, issuer != nullptr ? X509_get_subject_name(issuer) : name) == 1,
        "issuer");
  X509* signer = issuer != nullptr ? issuer : x;
  AddExtension(x, signer, NID_basic_constraints,
               spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  AddExtension(x, signer, NID_key_usage,
               spec.ca ? "critical,keyCertSign,cRLSign"
                       : "critical,digitalSignature,keyEncipherment");
  AddExtension(x, signer, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) {
    AddExtension(x, signer, NID_authority_key_identifier, "keyid:always");
  }
  std::vector<std::string> sans;
  for (const std::string& d : spec.dns_names) sans.push_back("DNS:" + d);
  for (const std::string& ip : spec.ip_addresses) sans.push_back("IP:" + ip);
  if (!sans.empty()) {
    AddExtension(x, signer, NID_subject_alt_name, absl::StrJoin(sans, ","));
  }
  if (!spec.ca) {
    AddExtension(x, signer, NID_ext_key_usage, "serverAuth");
  }
  const EVP_MD* md = spec.md != nullptr ? spec.md : EVP_sha256();
  EVP_PKEY* signing_key = issuer_key != nullptr ? issuer_key : key;
  if (EVP_PKEY_get_base_id(signing_key) == EVP_PKEY_ED25519) md = nullptr;
  Check(X509_sign(x, signing_key, md) > 0, "X509_sign");
  return cert;
}

std::string ToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_X509(bio.get(), cert) == 1, "PEM_write_bio_X509");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string ToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr,
                                 nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

TestPki::TestPki(absl::Time now, absl::string_view name)
    : root_key_(MakeEcKey("P-256")), intermediate_key_(MakeEcKey("P-256")) {
  CertSpec root;
  root.common_name = absl::StrCat(name, " Root CA");
  root.ca = true;
  root.not_before = now - absl::Hours(24 * 365);
  root.not_after = now + absl::Hours(24 * 365 * 20);
  root.serial = 1000;
  root_ = MakeCertificate(root, root_key_.get(), nullptr, nullptr);
  CertSpec inter = root;
  inter.common_name = absl::StrCat(name, " Intermediate CA");
  inter.serial = 1001;
  intermediate_ = MakeCertificate(inter, intermediate_key_.get(), root_.get(),
                                  root_key_.get());
}

TestPki::Leaf TestPki::Issue(const CertSpec& spec, EVP_PKEY* key) const {
  EvpPkeyPtr shared;
  if (key == nullptr) {
    shared = SharedEcKey("P-256");
    key = shared.get();
  }
  X509Ptr leaf = MakeCertificate(spec, key, intermediate_.get(),
                                 intermediate_key_.get());
  Leaf out;
  out.leaf_pem = ToPem(leaf.get());
  out.chain_pem = out.leaf_pem + ToPem(intermediate_.get());
  out.key_pem = ToPem(key);
  return out;
}

}  // namespace locus::proxy::tls::testing
