#include "proxy/tls/settings.h"

#include <openssl/ssl.h>

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "proxy/tls/openssl_util.h"

namespace locus::proxy::tls {
namespace {

TEST(CipherLists, NarrowingOnly) {
  EXPECT_TRUE(CheckCipherList("").ok());
  EXPECT_TRUE(CheckCipherList("ECDHE-RSA-AES128-GCM-SHA256").ok());
  EXPECT_TRUE(CheckCipherList(DefaultCipherList()).ok());
  EXPECT_TRUE(CheckCiphersuites(DefaultCiphersuites()).ok());
  for (const char* wide : {"ALL", "HIGH:!aNULL", "AES128-SHA",
                           "ECDHE-RSA-AES128-SHA", "DEFAULT@SECLEVEL=0",
                           "ECDHE-RSA-AES128-GCM-SHA256:"}) {
    SCOPED_TRACE(wide);
    absl::Status s = CheckCipherList(wide);
    EXPECT_FALSE(s.ok());
    EXPECT_TRUE(absl::StrContains(s.message(), "only narrow")) << s;
  }
  EXPECT_FALSE(CheckCiphersuites("TLS_AES_128_CCM_SHA256").ok());
  EXPECT_FALSE(CheckCiphersuites("ECDHE-RSA-AES128-GCM-SHA256").ok());
  absl::Status twice = CheckCiphersuites(
      "TLS_AES_128_GCM_SHA256:TLS_AES_128_GCM_SHA256");
  EXPECT_TRUE(absl::StrContains(twice.message(), "listed twice")) << twice;
}

// Every default name is one OpenSSL knows, so no suite silently drops out.
TEST(CipherLists, OpenSslAcceptsEachDefault) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  for (absl::string_view c : kTls12Ciphers) {
    EXPECT_EQ(SSL_CTX_set_cipher_list(ctx.get(), std::string(c).c_str()), 1)
        << c;
  }
  for (absl::string_view c : kTls13Ciphersuites) {
    EXPECT_EQ(SSL_CTX_set_ciphersuites(ctx.get(), std::string(c).c_str()), 1)
        << c;
  }
  EXPECT_EQ(SSL_CTX_set1_groups_list(ctx.get(), kGroups), 1);
}

TEST(TlsVersionName, Names) {
  EXPECT_EQ(TlsVersionName(TlsVersion::kTls12), "TLSv1.2");
  EXPECT_EQ(TlsVersionName(TlsVersion::kTls13), "TLSv1.3");
}

}  // namespace
}  // namespace locus::proxy::tls
