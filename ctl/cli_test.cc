#include "ctl/cli.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace locus::ctl {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<Invocation> Parse(std::vector<std::string> args) {
  return ParseCommandLine(args);
}

TEST(CliTest, FlagsAnywhereInBothForms) {
  absl::StatusOr<Invocation> inv =
      Parse({"-o", "json", "apply", "--filename=c.yaml", "--if-version", "7",
             "--dry-run", "--server=unix:/run/locus.sock", "--timeout", "2s"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->verb, "apply");
  EXPECT_EQ(inv->file, "c.yaml");
  EXPECT_EQ(inv->if_version, 7u);
  EXPECT_TRUE(inv->dry_run);
  EXPECT_EQ(inv->output, OutputFormat::kJson);
  EXPECT_EQ(inv->server, "unix:/run/locus.sock");
  EXPECT_EQ(inv->timeout, absl::Seconds(2));
}

TEST(CliTest, PositionalArgumentsAndDash) {
  absl::StatusOr<Invocation> inv = Parse({"get", "pool", "api", "-o=yaml"});
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->args, (std::vector<std::string>{"pool", "api"}));
  EXPECT_EQ(inv->output, OutputFormat::kYaml);
  inv = Parse({"apply", "-f", "-"});
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->file, "-");
  inv = Parse({"drain", "web", "--deadline", "1m30s"});
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->deadline, absl::Seconds(90));
  inv = Parse({"delete", "--", "pool", "-odd-name"});
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->args[1], "-odd-name");
}

TEST(CliTest, UsageErrorsSayWhatToDo) {
  auto message = [](std::vector<std::string> args) {
    absl::StatusOr<Invocation> inv = ParseCommandLine(args);
    EXPECT_FALSE(inv.ok());
    return std::string(inv.status().message());
  };
  EXPECT_THAT(message({}), HasSubstr("no command given"));
  EXPECT_THAT(message({"frob"}), HasSubstr("unknown command \"frob\""));
  EXPECT_THAT(message({"get"}), HasSubstr("usage: proxyctl get KIND [NAME]"));
  EXPECT_THAT(message({"get", "a", "b", "c"}),
              HasSubstr("usage: proxyctl get"));
  EXPECT_THAT(message({"apply"}), HasSubstr("'apply' needs -f FILE"));
  EXPECT_THAT(message({"get", "l", "-o", "xml"}),
              HasSubstr("--output=xml: use table, json or yaml"));
  EXPECT_THAT(message({"get", "l", "--merge"}),
              HasSubstr("flag --merge does not apply to 'get'"));
  EXPECT_THAT(message({"get", "l", "--bogus"}),
              HasSubstr("unknown flag --bogus"));
  EXPECT_THAT(message({"apply", "-f"}),
              HasSubstr("flag --filename needs a value"));
  EXPECT_THAT(message({"apply", "-f", "x", "--if-version", "latest"}),
              HasSubstr("--if-version=latest: expected a config version"));
  EXPECT_THAT(message({"drain", "web", "--deadline", "soon"}),
              HasSubstr("expected a duration"));
  EXPECT_THAT(message({"drain", "web", "--deadline", "-5s"}),
              HasSubstr("expected a duration"));
  EXPECT_THAT(message({"status", "--dry-run=yes"}),
              HasSubstr("flag --dry-run takes no value"));
  EXPECT_THAT(message({"status", "--cert", "c.pem"}),
              HasSubstr("--cert and --key go together"));
  EXPECT_THAT(message({"watch", "--count", "0"}), HasSubstr("positive number"));
  EXPECT_THAT(message({"frob"}), HasSubstr("proxyctl --help"));
}

TEST(CliTest, HelpNeedsNoCommand) {
  absl::StatusOr<Invocation> inv = Parse({"--help"});
  ASSERT_TRUE(inv.ok());
  EXPECT_TRUE(inv->help);
  EXPECT_THAT(Usage(), HasSubstr("Exit codes:"));
  EXPECT_THAT(Usage(), HasSubstr("LOCUS_SERVER"));
}

TEST(CliTest, KindsAndAliases) {
  EXPECT_EQ(ParseKind("l"), Kind::kListener);
  EXPECT_EQ(ParseKind("listeners"), Kind::kListener);
  EXPECT_EQ(ParseKind("rt"), Kind::kRouteTable);
  EXPECT_EQ(ParseKind("routes"), Kind::kRouteTable);
  EXPECT_EQ(ParseKind("pool"), Kind::kPool);
  EXPECT_EQ(ParseKind("ep"), Kind::kEndpoint);
  EXPECT_EQ(ParseKind("all"), Kind::kConfig);
  for (const char* word : {"certificate", "certificates", "cert", "certs"}) {
    EXPECT_EQ(ParseKind(word), Kind::kCertificate) << word;
  }
  EXPECT_STREQ(KindPlural(Kind::kCertificate), "certificates");
  EXPECT_FALSE(ParseKind("svc").has_value());
}

}  // namespace
}  // namespace locus::ctl
