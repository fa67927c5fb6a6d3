#include "api/secrets.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace locus::api {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kKey[] =
    "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG\n-----END PRIVATE KEY-----\n";

TEST(SecretsTest, RedactedFormIsSha256OfTheText) {
  // sha256("abc"), FIPS 180-2 appendix B.1.
  EXPECT_EQ(RedactedForm("abc"),
            "redacted:sha256:"
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(IsRedacted(RedactedForm(kKey)));
  EXPECT_NE(RedactedForm(kKey), RedactedForm(std::string(kKey) + "\n"));
}

TEST(SecretsTest, IsRedactedWantsPrefixAnd64LowercaseHexDigits) {
  std::string good = RedactedForm("x");
  EXPECT_TRUE(IsRedacted(good));
  EXPECT_FALSE(IsRedacted(good.substr(0, good.size() - 1)));  // 63 digits
  EXPECT_FALSE(IsRedacted(good + "0"));                        // 65 digits
  std::string upper = good;
  upper.back() = 'A';
  EXPECT_FALSE(IsRedacted(upper));
  EXPECT_FALSE(IsRedacted("redacted:sha1:abc"));
  EXPECT_FALSE(IsRedacted(kKey));
  EXPECT_FALSE(IsRedacted(""));
}

TEST(SecretsTest, ConfigRedactsEverySecretAndNothingElse) {
  v1::Config c;
  v1::Certificate* shared = c.add_certificates();
  shared->set_name("www");
  shared->set_cert_chain_pem("CHAIN");
  shared->set_private_key_pem(kKey);
  v1::Listener* l = c.add_listeners();
  l->set_name("secure");
  v1::Certificate* inline_cert = l->mutable_tls()->add_certificates();
  inline_cert->set_name("api");
  inline_cert->set_private_key_pem("other key");
  l->mutable_tls()->add_certificates()->set_name("empty");
  c.add_listeners()->set_name("plain");
  c.mutable_session_tickets()->add_keys("dGlja2V0");

  RedactSecrets(&c);
  EXPECT_EQ(c.certificates(0).private_key_pem(), RedactedForm(kKey));
  EXPECT_EQ(c.certificates(0).cert_chain_pem(), "CHAIN");
  EXPECT_EQ(c.listeners(0).tls().certificates(0).private_key_pem(),
            RedactedForm("other key"));
  // Empty stays empty: "required" is still reported for it.
  EXPECT_EQ(c.listeners(0).tls().certificates(1).private_key_pem(), "");
  EXPECT_FALSE(c.listeners(1).has_tls());
  EXPECT_EQ(c.session_tickets().keys(0), RedactedForm("dGlja2V0"));
  EXPECT_THAT(c.DebugString(), Not(HasSubstr("PRIVATE KEY")));

  // Idempotent.
  v1::Config again = c;
  RedactSecrets(&again);
  EXPECT_EQ(again.DebugString(), c.DebugString());
}

TEST(SecretsTest, NoSessionTicketsStaysUnset) {
  v1::Config c;
  RedactSecrets(&c);
  EXPECT_FALSE(c.has_session_tickets());
}

}  // namespace
}  // namespace locus::api
