#include "proxy/tls/counters.h"

#include <openssl/ssl.h>

#include <set>
#include <string>

#include "gtest/gtest.h"
#include "proxy/tls/settings.h"

namespace locus::proxy::tls {
namespace {

TEST(Counters, FailureNamesAreDistinct) {
  std::set<std::string> names;
  for (size_t i = 0; i < kTlsFailureCount; ++i) {
    names.insert(std::string(TlsFailureName(static_cast<TlsFailure>(i))));
  }
  EXPECT_EQ(names.size(), kTlsFailureCount);
  EXPECT_EQ(TlsFailureName(TlsFailure::kNone), "none");
  EXPECT_EQ(TlsFailureName(TlsFailure::kBadClientHello), "bad_client_hello");
}

TEST(Counters, VersionLabels) {
  EXPECT_EQ(VersionLabel(VersionLabelIndex(TLS1_2_VERSION)), "TLSv1.2");
  EXPECT_EQ(VersionLabel(VersionLabelIndex(TLS1_3_VERSION)), "TLSv1.3");
  EXPECT_EQ(VersionLabel(VersionLabelIndex(TLS1_1_VERSION)), "other");
  EXPECT_LT(VersionLabelIndex(0), kVersionLabelCount);
}

TEST(Counters, CipherLabelsCoverTheAllowedSuites) {
  EXPECT_EQ(kCipherLabelCount,
            kTls12Ciphers.size() + kTls13Ciphersuites.size() + 1);
  for (absl::string_view c : kTls12Ciphers) {
    EXPECT_EQ(CipherLabel(CipherLabelIndex(c)), c);
  }
  for (absl::string_view c : kTls13Ciphersuites) {
    EXPECT_EQ(CipherLabel(CipherLabelIndex(c)), c);
  }
  EXPECT_EQ(CipherLabelIndex("RC4-MD5"), kCipherLabelCount - 1);
  EXPECT_EQ(CipherLabel(kCipherLabelCount - 1), "other");
}

}  // namespace
}  // namespace locus::proxy::tls
