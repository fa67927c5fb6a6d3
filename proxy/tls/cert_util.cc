#include "proxy/tls/cert_util.h"

#include <arpa/inet.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace locus::proxy::tls {
namespace {

constexpr absl::string_view kBegin = "-----BEGIN ";

// The labels of the PEM blocks in `text`, in order ("CERTIFICATE", ...).
std::vector<std::string> PemLabels(absl::string_view text) {
  std::vector<std::string> labels;
  size_t at = 0;
  while ((at = text.find(kBegin, at)) != absl::string_view::npos) {
    at += kBegin.size();
    size_t end = text.find("-----", at);
    if (end == absl::string_view::npos) {
      labels.emplace_back("?");
      break;
    }
    labels.emplace_back(text.substr(at, end - at));
    at = end;
  }
  return labels;
}

// A pass-phrase callback that refuses: without it OpenSSL would prompt on
// the terminal for an encrypted key.
int NoPassword(char*, int, int, void*) { return -1; }

bool IsWeakDigest(int md_nid) {
  return md_nid == NID_md5 || md_nid == NID_sha1 || md_nid == NID_md4 ||
         md_nid == NID_md2 || md_nid == NID_md5_sha1;
}

bool SelfIssued(X509* cert) {
  bool issued = X509_check_issued(cert, cert) == X509_V_OK;
  ERR_clear_error();
  return issued;
}

std::string Ordinal(size_t i) {
  return i == 0 ? "the leaf certificate"
                : absl::StrCat("certificate ", i + 1, " of the chain");
}

std::string WithSubject(X509* cert, size_t i) {
  return absl::StrCat(Ordinal(i), " (", NameText(X509_get_subject_name(cert)),
                      ")");
}

void CheckValidity(X509* cert, size_t i, absl::Time now, TimeRule rule,
                   CertificateCheck* out) {
  absl::Time not_before = Asn1TimeToTime(X509_get0_notBefore(cert));
  absl::Time not_after = Asn1TimeToTime(X509_get0_notAfter(cert));
  std::vector<CertProblem>* time_list =
      rule == TimeRule::kReject ? &out->errors : &out->warnings;
  if (not_before == absl::InfinitePast() || not_after == absl::InfinitePast()) {
    out->errors.push_back({CertField::kChain,
                           absl::StrCat(WithSubject(cert, i),
                                        " has an unreadable validity period")});
    return;
  }
  if (now < not_before) {
    time_list->push_back(
        {CertField::kChain,
         absl::StrCat(WithSubject(cert, i), " is not valid until ",
                      TimeText(not_before), " (now ", TimeText(now), ")")});
  } else if (now > not_after) {
    time_list->push_back(
        {CertField::kChain, absl::StrCat(WithSubject(cert, i), " expired on ",
                                         TimeText(not_after), " (now ",
                                         TimeText(now), ")")});
  } else if (not_after - now < kExpiryWarning) {
    int64_t days = absl::ToInt64Hours(not_after - now) / 24;
    out->warnings.push_back(
        {CertField::kChain,
         absl::StrCat(WithSubject(cert, i), " expires on ", TimeText(not_after),
                      " (in ", days, days == 1 ? " day" : " days",
                      "); renew it")});
  }
}

}  // namespace

std::string TimeText(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

bool IsCertificateDnsName(absl::string_view name) {
  if (absl::StartsWith(name, "*.")) name.remove_prefix(2);
  if (name.empty() || name.size() > kMaxDnsNameLength) return false;
  for (absl::string_view label : absl::StrSplit(name, '.')) {
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c)) &&
          !(c >= 'a' && c <= 'z') && c != '-') {
        return false;
      }
    }
  }
  return true;
}

namespace {

// CERTIFICATE blocks only, within the given bounds; `what` names the
// field's role in messages ("chain", "CA bundle").
absl::StatusOr<std::vector<X509Ptr>> ParseCertificates(
    absl::string_view pem, size_t max_bytes, int max_certificates,
    absl::string_view what) {
  if (pem.empty()) return absl::InvalidArgumentError("required");
  if (pem.size() > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(pem.size(), " bytes; at most ", max_bytes));
  }
  std::vector<std::string> labels = PemLabels(pem);
  if (labels.empty()) {
    return absl::InvalidArgumentError(
        "no PEM certificate (\"-----BEGIN CERTIFICATE-----\") found");
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] == "CERTIFICATE") continue;
    if (absl::StrContains(labels[i], "PRIVATE KEY")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "PEM block ", i + 1,
          " is a private key; it does not belong in the ", what));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("PEM block ", i + 1, " is \"", labels[i].substr(0, 40),
                     "\"; only CERTIFICATE blocks may be in the ", what));
  }
  if (labels.size() > static_cast<size_t>(max_certificates)) {
    return absl::InvalidArgumentError(absl::StrCat(
        labels.size(), " certificates; at most ", max_certificates));
  }
  BioPtr bio = MemoryBio(pem);
  std::vector<X509Ptr> chain;
  while (chain.size() < labels.size()) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (cert == nullptr) {
      ERR_clear_error();
      return absl::InvalidArgumentError(absl::StrCat(
          "certificate ", chain.size() + 1, " does not parse (bad PEM or DER)"));
    }
    chain.emplace_back(cert);
  }
  ERR_clear_error();
  return chain;
}

}  // namespace

absl::StatusOr<std::vector<X509Ptr>> ParseCertificateChain(
    absl::string_view pem) {
  return ParseCertificates(pem, kMaxCertificateChainBytes,
                           kMaxChainCertificates, "chain");
}

absl::StatusOr<std::vector<X509Ptr>> ParseCaBundle(absl::string_view pem) {
  return ParseCertificates(pem, kMaxCaBundleBytes, kMaxCaBundleCertificates,
                           "CA bundle");
}

absl::StatusOr<EvpPkeyPtr> ParsePrivateKey(absl::string_view pem) {
  if (pem.empty()) return absl::InvalidArgumentError("required");
  if (pem.size() > kMaxPrivateKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(pem.size(), " bytes; at most ", kMaxPrivateKeyBytes));
  }
  std::vector<std::string> labels = PemLabels(pem);
  int keys = 0;
  for (const std::string& label : labels) {
    if (label == "ENCRYPTED PRIVATE KEY") {
      return absl::InvalidArgumentError(
          "the key is encrypted; give it unencrypted (openssl pkey -in "
          "KEY -out PLAIN)");
    }
    if (label == "PRIVATE KEY" || label == "RSA PRIVATE KEY" ||
        label == "EC PRIVATE KEY") {
      ++keys;
    } else if (label != "EC PARAMETERS") {
      return absl::InvalidArgumentError(absl::StrCat(
          "contains a \"", label.substr(0, 40),
          "\" PEM block; only one private key is expected here"));
    }
  }
  if (keys != 1) {
    return absl::InvalidArgumentError(
        keys == 0 ? "no PEM private key (\"-----BEGIN PRIVATE KEY-----\") found"
                  : "more than one private key; give exactly one");
  }
  if (absl::StrContains(pem, "Proc-Type: 4,ENCRYPTED")) {
    return absl::InvalidArgumentError(
        "the key is encrypted; give it unencrypted (openssl pkey -in KEY -out "
        "PLAIN)");
  }
  BioPtr bio = MemoryBio(pem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassword,
                                          nullptr);
  ERR_clear_error();
  if (key == nullptr) {
    return absl::InvalidArgumentError("the private key does not parse");
  }
  return EvpPkeyPtr(key);
}

std::string KeyTypeName(const EVP_PKEY* key) {
  if (key == nullptr) return "none";
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      return absl::StrCat("RSA-", EVP_PKEY_get_bits(key));
    case EVP_PKEY_RSA_PSS:
      return absl::StrCat("RSA-PSS-", EVP_PKEY_get_bits(key));
    case EVP_PKEY_EC: {
      char group[64] = {};
      size_t len = 0;
      if (EVP_PKEY_get_group_name(key, group, sizeof(group), &len) != 1) {
        ERR_clear_error();
        return "ECDSA-unknown-curve";
      }
      absl::string_view g(group, len);
      if (g == "prime256v1" || g == "P-256") return "ECDSA-P256";
      if (g == "secp384r1" || g == "P-384") return "ECDSA-P384";
      if (g == "secp521r1" || g == "P-521") return "ECDSA-P521";
      return absl::StrCat("ECDSA-", g);
    }
    case EVP_PKEY_ED25519:
      return "Ed25519";
    case EVP_PKEY_ED448:
      return "Ed448";
    case EVP_PKEY_DSA:
      return absl::StrCat("DSA-", EVP_PKEY_get_bits(key));
    default:
      return "unknown";
  }
}

absl::Status CheckKeyType(const EVP_PKEY* key) {
  std::string name = KeyTypeName(key);
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
    int bits = EVP_PKEY_get_bits(key);
    if (bits < kMinRsaBits) {
      return absl::InvalidArgumentError(absl::StrCat(
          name, " is too weak: RSA keys need at least ", kMinRsaBits, " bits"));
    }
    if (bits > kMaxRsaBits) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " is too large: at most ", kMaxRsaBits,
                       " bits (each handshake would be slow)"));
    }
    return absl::OkStatus();
  }
  if (name == "ECDSA-P256" || name == "ECDSA-P384") return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      name, " keys are not supported; use RSA (", kMinRsaBits, "..",
      kMaxRsaBits, " bits) or ECDSA P-256 or P-384"));
}

std::vector<std::string> CertificateDnsNames(X509* leaf, bool* from_cn,
                                             std::vector<std::string>* skipped) {
  std::vector<std::string> names;
  bool any_dns_san = false;
  auto add = [&](std::string name) {
    name = absl::AsciiStrToLower(name);
    if (!name.empty() && name.back() == '.') name.pop_back();
    if (IsCertificateDnsName(name)) {
      for (const std::string& n : names) {
        if (n == name) return;
      }
      names.push_back(std::move(name));
    } else if (skipped != nullptr) {
      skipped->push_back(std::move(name));
    }
  };
  auto* sans = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
      if (gn->type != GEN_DNS) continue;
      any_dns_san = true;
      const ASN1_IA5STRING* s = gn->d.dNSName;
      std::string value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                        static_cast<size_t>(ASN1_STRING_length(s)));
      add(std::move(value));
    }
    GENERAL_NAMES_free(sans);
  }
  ERR_clear_error();
  *from_cn = false;
  if (!any_dns_san) {
    // RFC 6125 §6.4.4: the CN only counts when there is no DNS SAN.
    X509_NAME* subject = X509_get_subject_name(leaf);
    int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    int last = -1;
    while (at >= 0) {
      last = at;
      at = X509_NAME_get_index_by_NID(subject, NID_commonName, at);
    }
    if (last >= 0) {
      ASN1_STRING* cn =
          X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, last));
      unsigned char* utf8 = nullptr;
      int len = ASN1_STRING_to_UTF8(&utf8, cn);
      if (len > 0) {
        size_t before = names.size();
        add(std::string(reinterpret_cast<char*>(utf8),
                        static_cast<size_t>(len)));
        *from_cn = names.size() > before;
      }
      OPENSSL_free(utf8);
      ERR_clear_error();
    }
  }
  return names;
}

std::vector<std::string> CertificateIpAddresses(X509* leaf) {
  std::vector<std::string> out;
  auto* sans = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
      if (gn->type != GEN_IPADD) continue;
      const ASN1_OCTET_STRING* ip = gn->d.iPAddress;
      const int len = ASN1_STRING_length(ip);
      char text[INET6_ADDRSTRLEN] = {};
      const int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
      if (family != 0 &&
          inet_ntop(family, ASN1_STRING_get0_data(ip), text, sizeof(text))) {
        out.emplace_back(text);
      }
    }
    GENERAL_NAMES_free(sans);
  }
  ERR_clear_error();
  return out;
}

CertificateInfo DescribeChain(const std::vector<X509Ptr>& chain) {
  CertificateInfo info;
  if (chain.empty()) return info;
  X509* leaf = chain.front().get();
  info.chain_length = static_cast<int>(chain.size());
  info.subject = NameText(X509_get_subject_name(leaf));
  info.issuer = NameText(X509_get_issuer_name(leaf));
  info.dns_names = CertificateDnsNames(leaf, &info.names_from_cn, nullptr);
  info.ip_addresses = CertificateIpAddresses(leaf);
  info.not_before = Asn1TimeToTime(X509_get0_notBefore(leaf));
  info.not_after = Asn1TimeToTime(X509_get0_notAfter(leaf));
  info.key_type = KeyTypeName(X509_get0_pubkey(leaf));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (X509_digest(leaf, EVP_sha256(), md, &md_len) == 1) {
    info.sha256_fingerprint = HexLower(md, md_len);
  }
  const ASN1_INTEGER* serial = X509_get0_serialNumber(leaf);
  if (serial != nullptr) {
    info.serial = HexLower(serial->data, static_cast<size_t>(serial->length));
  }
  ERR_clear_error();
  return info;
}

CertificateCheck CheckCertificate(absl::string_view chain_pem,
                                  absl::string_view key_pem, absl::Time now,
                                  TimeRule time_rule) {
  CertificateCheck out;
  absl::StatusOr<std::vector<X509Ptr>> chain = ParseCertificateChain(chain_pem);
  absl::StatusOr<EvpPkeyPtr> key = ParsePrivateKey(key_pem);
  if (!chain.ok()) {
    out.errors.push_back({CertField::kChain, std::string(chain.status().message())});
  }
  if (!key.ok()) {
    out.errors.push_back({CertField::kKey, std::string(key.status().message())});
  }
  if (key.ok()) {
    if (absl::Status s = CheckKeyType(key->get()); !s.ok()) {
      out.errors.push_back({CertField::kKey, std::string(s.message())});
    }
  }
  if (!chain.ok()) return out;
  out.info = DescribeChain(*chain);
  X509* leaf = chain->front().get();

  if (absl::Status s = CheckKeyType(X509_get0_pubkey(leaf)); !s.ok()) {
    out.errors.push_back(
        {CertField::kChain, absl::StrCat("the leaf certificate's key: ",
                                         s.message())});
  }
  if (key.ok() && X509_check_private_key(leaf, key->get()) != 1) {
    out.errors.push_back(
        {CertField::kKey,
         absl::StrCat("does not match the leaf certificate (",
                      out.info.subject,
                      "): give the key this certificate was issued for")});
  }
  ERR_clear_error();

  std::vector<std::string> skipped;
  bool from_cn = false;
  CertificateDnsNames(leaf, &from_cn, &skipped);
  if (out.info.dns_names.empty()) {
    out.warnings.push_back(
        {CertField::kChain,
         "the certificate names no DNS host (no DNS subjectAltName and no "
         "usable CN): SNI never selects it, it can only be a listener's "
         "default certificate"});
  }
  if (!skipped.empty()) {
    std::vector<std::string> shown;
    for (const std::string& s : skipped) shown.push_back(absl::StrCat("\"", absl::CHexEscape(s.substr(0, 64)), "\""));
    out.warnings.push_back(
        {CertField::kChain,
         absl::StrCat("names that are not host names are ignored for SNI: ",
                      absl::StrJoin(shown, ", "))});
  }

  const size_t n = chain->size();
  for (size_t i = 0; i < n; ++i) {
    X509* cert = (*chain)[i].get();
    const bool root = i + 1 == n && i > 0 && SelfIssued(cert);
    if (!root) {
      int md_nid = NID_undef, pk_nid = NID_undef;
      if (OBJ_find_sigid_algs(X509_get_signature_nid(cert), &md_nid,
                              &pk_nid) == 1 &&
          IsWeakDigest(md_nid)) {
        out.errors.push_back(
            {CertField::kChain,
             absl::StrCat(WithSubject(cert, i), " is signed with ",
                          OBJ_nid2sn(md_nid),
                          ", which clients no longer accept; reissue it "
                          "with SHA-256")});
      }
    }
    if (i + 1 < n) {
      X509* issuer = (*chain)[i + 1].get();
      bool linked = X509_check_issued(issuer, cert) == X509_V_OK &&
                    X509_verify(cert, X509_get0_pubkey(issuer)) == 1;
      ERR_clear_error();
      if (!linked) {
        out.errors.push_back(
            {CertField::kChain,
             absl::StrCat(WithSubject(issuer, i + 1), " did not issue ",
                          WithSubject(cert, i),
                          "; order the chain leaf first, then each issuer")});
      }
    }
    if (!root) CheckValidity(cert, i, now, time_rule, &out);
  }
  ERR_clear_error();
  return out;
}

}  // namespace locus::proxy::tls
