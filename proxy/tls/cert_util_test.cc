#include "proxy/tls/cert_util.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proxy/tls/test_certs.h"

namespace locus::proxy::tls {
namespace {

using testing::CertSpec;
using testing::MakeEcKey;
using testing::SharedRsaKey;
using testing::TestPki;
using testing::ToPem;

// A fixed "now" so that validity windows are exact.
const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

CertSpec Spec(absl::Time not_before, absl::Time not_after) {
  CertSpec spec;
  spec.common_name = "www.example.com";
  spec.dns_names = {"www.example.com", "*.api.example.com"};
  spec.not_before = not_before;
  spec.not_after = not_after;
  return spec;
}

CertSpec ValidSpec() {
  return Spec(kNow - absl::Hours(24), kNow + absl::Hours(24 * 365));
}

bool AnyContains(const std::vector<CertProblem>& problems, CertField field,
                 absl::string_view text) {
  for (const CertProblem& p : problems) {
    if (p.field == field && absl::StrContains(p.what, text)) return true;
  }
  return false;
}

std::string Dump(const CertificateCheck& c) {
  std::string out;
  for (const CertProblem& p : c.errors) absl::StrAppend(&out, "error: ", p.what, "\n");
  for (const CertProblem& p : c.warnings) absl::StrAppend(&out, "warning: ", p.what, "\n");
  return out;
}

class CertUtilTest : public ::testing::Test {
 protected:
  TestPki pki_{kNow};
};

TEST_F(CertUtilTest, ValidChainPasses) {
  TestPki::Leaf leaf = pki_.Issue(ValidSpec());
  CertificateCheck c = CheckCertificate(leaf.chain_pem, leaf.key_pem, kNow);
  EXPECT_TRUE(c.ok()) << Dump(c);
  EXPECT_TRUE(c.warnings.empty()) << Dump(c);
  EXPECT_EQ(c.info.chain_length, 2);
  EXPECT_EQ(c.info.key_type, "ECDSA-P256");
  EXPECT_EQ(c.info.dns_names,
            (std::vector<std::string>{"www.example.com", "*.api.example.com"}));
  EXPECT_FALSE(c.info.names_from_cn);
  EXPECT_EQ(c.info.sha256_fingerprint.size(), 64u);
  EXPECT_TRUE(absl::StrContains(c.info.subject, "CN=www.example.com"));
  EXPECT_TRUE(absl::StrContains(c.info.issuer, "Intermediate CA"));
}

TEST_F(CertUtilTest, IpAddressesAreDescribed) {
  CertSpec spec = ValidSpec();
  spec.ip_addresses = {"127.0.0.1", "10.1.2.3"};
  TestPki::Leaf leaf = pki_.Issue(spec);
  CertificateCheck c = CheckCertificate(leaf.chain_pem, leaf.key_pem, kNow);
  EXPECT_TRUE(c.ok()) << Dump(c);
  EXPECT_EQ(c.info.ip_addresses,
            (std::vector<std::string>{"127.0.0.1", "10.1.2.3"}));
  // IP entries are not DNS names.
  EXPECT_EQ(c.info.dns_names.size(), 2u);
  CertificateCheck none =
      CheckCertificate(pki_.Issue(ValidSpec()).chain_pem, leaf.key_pem, kNow);
  EXPECT_TRUE(none.info.ip_addresses.empty());
}

TEST_F(CertUtilTest, MismatchedKeyRejectedClearly) {
  TestPki::Leaf leaf = pki_.Issue(ValidSpec());
  std::string other_key = ToPem(MakeEcKey("P-256").get());
  CertificateCheck c = CheckCertificate(leaf.chain_pem, other_key, kNow);
  EXPECT_FALSE(c.ok());
  EXPECT_TRUE(AnyContains(c.errors, CertField::kKey,
                          "does not match the leaf certificate"))
      << Dump(c);
  EXPECT_FALSE(absl::StrContains(Dump(c), "PRIVATE")) << "no key material";
}

TEST_F(CertUtilTest, ExpiredRejected) {
  TestPki::Leaf leaf = pki_.Issue(
      Spec(kNow - absl::Hours(24 * 400), kNow - absl::Seconds(1)));
  CertificateCheck c = CheckCertificate(leaf.chain_pem, leaf.key_pem, kNow);
  EXPECT_FALSE(c.ok());
  EXPECT_TRUE(AnyContains(c.errors, CertField::kChain, "expired on"))
      << Dump(c);
  // An already stored certificate only warns.
  CertificateCheck stored =
      CheckCertificate(leaf.chain_pem, leaf.key_pem, kNow, TimeRule::kWarn);
  EXPECT_TRUE(stored.ok()) << Dump(stored);
  EXPECT_TRUE(AnyContains(stored.warnings, CertField::kChain, "expired on"));
}

TEST_F(CertUtilTest, NotYetValidRejected) {
  TestPki::Leaf leaf = pki_.Issue(
      Spec(kNow + absl::Seconds(1), kNow + absl::Hours(24 * 400)));
  CertificateCheck c = CheckCertificate(leaf.chain_pem, leaf.key_pem, kNow);
  EXPECT_FALSE(c.ok());
  EXPECT_TRUE(AnyContains(c.errors, CertField::kChain, "is not valid until"))
      << Dump(c);
}

TEST_F(CertUtilTest, ValidityBoundsAreInclusive) {
  TestPki::Leaf leaf = pki_.Issue(Spec(kNow, kNow + absl::Hours(24 * 400)));
  EXPECT_TRUE(CheckCertificate(leaf.chain_pem, leaf.key_pem, kNow).ok());
  TestPki::Leaf ending = pki_.Issue(Spec(kNow - absl::Hours(1), kNow));
  EXPECT_TRUE(CheckCertificate(ending.chain_pem, ending.key_pem, kNow).ok());
}

TEST_F(CertUtilTest, ExpiringWithin30DaysWarns) {
  TestPki::Leaf soon = pki_.Issue(
      Spec(kNow - absl::Hours(24), kNow + absl::Hours(24 * 10)));
  CertificateCheck c = CheckCertificate(soon.chain_pem, soon.key_pem, kNow);
  EXPECT_TRUE(c.ok()) << Dump(c);
  EXPECT_TRUE(AnyContains(c.warnings, CertField::kChain, "(in 10 days)"))
      << Dump(c);

  // kExpiryWarning exactly: no warning; a second less: a warning.
  TestPki::Leaf at_limit =
      pki_.Issue(Spec(kNow - absl::Hours(24), kNow + kExpiryWarning));
  EXPECT_TRUE(
      CheckCertificate(at_limit.chain_pem, at_limit.key_pem, kNow)
          .warnings.empty());
  TestPki::Leaf inside = pki_.Issue(
      Spec(kNow - absl::Hours(24), kNow + kExpiryWarning - absl::Seconds(1)));
  EXPECT_EQ(
      CheckCertificate(inside.chain_pem, inside.key_pem, kNow).warnings.size(),
      1u);
}

TEST_F(CertUtilTest, GarbagePemRejected) {
  TestPki::Leaf leaf = pki_.Issue(ValidSpec());
  struct Case {
    const char* what;
    std::string chain;
    std::string key;
    CertField field;
    const char* message;
  };
  std::string broken_body = leaf.chain_pem;
  broken_body[100] = '!';
  const Case cases[] = {
      {"empty chain", "", leaf.key_pem, CertField::kChain, "required"},
      {"text", "hello world", leaf.key_pem, CertField::kChain,
       "no PEM certificate"},
      {"broken base64", broken_body, leaf.key_pem, CertField::kChain,
       "does not parse"},
      {"truncated",
       leaf.chain_pem.substr(0, leaf.chain_pem.size() / 3), leaf.key_pem,
       CertField::kChain, "does not parse"},
      {"key in the chain", leaf.chain_pem + leaf.key_pem, leaf.key_pem,
       CertField::kChain, "is a private key"},
      {"other block", "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n",
       leaf.key_pem, CertField::kChain, "only CERTIFICATE blocks"},
      {"empty key", leaf.chain_pem, "", CertField::kKey, "required"},
      {"garbage key", leaf.chain_pem, "garbage", CertField::kKey,
       "no PEM private key"},
      {"two keys", leaf.chain_pem, leaf.key_pem + leaf.key_pem, CertField::kKey,
       "more than one private key"},
      {"certificate as key", leaf.chain_pem, leaf.leaf_pem, CertField::kKey,
       "only one private key is expected"},
      {"broken key",
       leaf.chain_pem,
       "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
       CertField::kKey, "does not parse"},
      {"encrypted key", leaf.chain_pem,
       "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n"
       "-----END ENCRYPTED PRIVATE KEY-----\n",
       CertField::kKey, "encrypted"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    CertificateCheck check = CheckCertificate(c.chain, c.key, kNow);
    EXPECT_FALSE(check.ok());
    EXPECT_TRUE(AnyContains(check.errors, c.field, c.message)) << Dump(check);
  }
}

TEST_F(CertUtilTest, ChainOutOfOrderRejected) {
  TestPki::Leaf leaf = pki_.Issue(ValidSpec());
  std::string reversed = pki_.intermediate_pem() + leaf.leaf_pem;
  CertificateCheck c = CheckCertificate(reversed, leaf.key_pem, kNow);
  EXPECT_FALSE(c.ok());
  EXPECT_TRUE(AnyContains(c.errors, CertField::kChain, "did not issue"))
      << Dump(c);
}

TEST_F(CertUtilTest, WeakSignatureRejected) {
  CertSpec spec = ValidSpec();
  spec.md = EVP_sha1();
  TestPki::Leaf leaf = pki_.Issue(spec);
  CertificateCheck c = CheckCertificate(leaf.chain_pem, leaf.key_pem, kNow);
  EXPECT_TRUE(AnyContains(c.errors, CertField::kChain, "SHA1")) << Dump(c);
}

TEST_F(CertUtilTest, KeyTypes) {
  EXPECT_TRUE(CheckKeyType(MakeEcKey("P-256").get()).ok());
  EXPECT_TRUE(CheckKeyType(MakeEcKey("P-384").get()).ok());
  EXPECT_FALSE(CheckKeyType(MakeEcKey("P-521").get()).ok());
  EXPECT_FALSE(CheckKeyType(testing::MakeEd25519Key().get()).ok());
  // kMinRsaBits is allowed, fewer bits are not. (kMaxRsaBits + 1 is not
  // tested: generating an RSA key that large takes minutes.)
  EXPECT_TRUE(CheckKeyType(SharedRsaKey(kMinRsaBits).get()).ok());
  absl::Status weak = CheckKeyType(SharedRsaKey(kMinRsaBits - 1024).get());
  EXPECT_FALSE(weak.ok());
  EXPECT_TRUE(absl::StrContains(weak.message(), "too weak")) << weak;
}

TEST_F(CertUtilTest, RsaLeafPasses) {
  EvpPkeyPtr key = SharedRsaKey(kMinRsaBits);
  TestPki::Leaf leaf = pki_.Issue(ValidSpec(), key.get());
  CertificateCheck c = CheckCertificate(leaf.chain_pem, leaf.key_pem, kNow);
  EXPECT_TRUE(c.ok()) << Dump(c);
  EXPECT_EQ(c.info.key_type, "RSA-2048");
}

TEST_F(CertUtilTest, NamesFromCnOnlyWithoutDnsSan) {
  CertSpec spec = ValidSpec();
  spec.dns_names.clear();
  spec.common_name = "Legacy.Example.COM";
  TestPki::Leaf leaf = pki_.Issue(spec);
  CertificateCheck c = CheckCertificate(leaf.chain_pem, leaf.key_pem, kNow);
  EXPECT_EQ(c.info.dns_names, std::vector<std::string>{"legacy.example.com"});
  EXPECT_TRUE(c.info.names_from_cn);

  spec.common_name = "Not a host name";
  TestPki::Leaf bad = pki_.Issue(spec);
  CertificateCheck b = CheckCertificate(bad.chain_pem, bad.key_pem, kNow);
  EXPECT_TRUE(b.ok());
  EXPECT_TRUE(b.info.dns_names.empty());
  EXPECT_TRUE(AnyContains(b.warnings, CertField::kChain, "names no DNS host"))
      << Dump(b);
}

TEST_F(CertUtilTest, ChainCertificateCountLimit) {
  TestPki::Leaf leaf = pki_.Issue(ValidSpec());
  std::string at_limit = leaf.leaf_pem;
  for (int i = 1; i < kMaxChainCertificates; ++i) at_limit += pki_.intermediate_pem();
  auto parsed = ParseCertificateChain(at_limit);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->size(), static_cast<size_t>(kMaxChainCertificates));
  auto over = ParseCertificateChain(at_limit + pki_.intermediate_pem());
  EXPECT_FALSE(over.ok());
  EXPECT_TRUE(absl::StrContains(over.status().message(), "at most 10"));
}

TEST_F(CertUtilTest, ChainByteLimit) {
  TestPki::Leaf leaf = pki_.Issue(ValidSpec());
  std::string at_limit = leaf.chain_pem;
  at_limit.resize(kMaxCertificateChainBytes, '\n');
  EXPECT_TRUE(ParseCertificateChain(at_limit).ok());
  at_limit.push_back('\n');
  EXPECT_FALSE(ParseCertificateChain(at_limit).ok());
}

TEST_F(CertUtilTest, KeyByteLimit) {
  TestPki::Leaf leaf = pki_.Issue(ValidSpec());
  std::string at_limit = leaf.key_pem;
  at_limit.resize(kMaxPrivateKeyBytes, '\n');
  EXPECT_TRUE(ParsePrivateKey(at_limit).ok());
  at_limit.push_back('\n');
  EXPECT_FALSE(ParsePrivateKey(at_limit).ok());
}

TEST(CertificateDnsName, Rules) {
  EXPECT_TRUE(IsCertificateDnsName("www.example.com"));
  EXPECT_TRUE(IsCertificateDnsName("*.example.com"));
  EXPECT_FALSE(IsCertificateDnsName("*"));
  EXPECT_FALSE(IsCertificateDnsName("a.*.example.com"));
  EXPECT_FALSE(IsCertificateDnsName("WWW.example.com"));
  EXPECT_FALSE(IsCertificateDnsName("-a.example.com"));
  EXPECT_FALSE(IsCertificateDnsName("a..example.com"));
  EXPECT_TRUE(IsCertificateDnsName(std::string(63, 'a') + ".com"));
  EXPECT_FALSE(IsCertificateDnsName(std::string(64, 'a') + ".com"));
  // kMaxDnsNameLength: 253 characters pass, 254 do not.
  std::string name;
  while (name.size() + 2 <= kMaxDnsNameLength) name += "a.";
  name.resize(kMaxDnsNameLength, 'a');
  if (name.back() == '.') name.back() = 'b';
  ASSERT_EQ(name.size(), kMaxDnsNameLength);
  EXPECT_TRUE(IsCertificateDnsName(name));
  EXPECT_FALSE(IsCertificateDnsName(name + "a"));
}

}  // namespace
}  // namespace locus::proxy::tls
