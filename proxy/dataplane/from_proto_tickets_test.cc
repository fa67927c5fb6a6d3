// FromProto for Config.session_tickets: base64 keys become TicketKeys in
// order, the interval and disabled flag carry over, and a bad key (which
// validation would have refused) is an error that never quotes the key.
#include <string>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/dataplane/config.h"
#include "proxy/dataplane/from_proto.h"

namespace locus::proxy::dataplane {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string KeyBytes(char tag, size_t size) {
  std::string bytes(size, '\x33');
  bytes[0] = tag;
  return bytes;
}

TEST(FromProtoTicketsTest, DefaultIsGeneratedHourly) {
  absl::StatusOr<DataPlaneConfig> c = FromProto(api::v1::Config());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->tickets.keys.empty());
  EXPECT_FALSE(c->tickets.disabled);
  EXPECT_EQ(c->tickets.rotation_interval, Duration::Seconds(3600));
}

TEST(FromProtoTicketsTest, SettingsAreMapped) {
  api::v1::Config config;
  api::v1::SessionTickets* st = config.mutable_session_tickets();
  st->add_keys(absl::Base64Escape(KeyBytes('a', 80)));
  st->add_keys(absl::Base64Escape(KeyBytes('b', 48)));
  st->set_disabled(true);
  absl::StatusOr<DataPlaneConfig> c = FromProto(config);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->tickets.keys.size(), 2u);
  EXPECT_EQ(c->tickets.keys[0].name[0], 'a');
  EXPECT_TRUE(c->tickets.keys[0].aes256);
  EXPECT_EQ(c->tickets.keys[1].name[0], 'b');
  EXPECT_FALSE(c->tickets.keys[1].aes256);
  EXPECT_TRUE(c->tickets.disabled);
  absl::StatusOr<std::shared_ptr<const CompiledConfig>> compiled = Compile(*c, 1, 1);
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  EXPECT_EQ((*compiled)->tickets, c->tickets);

  api::v1::Config generated;
  generated.mutable_session_tickets()->mutable_rotation_interval()->set_seconds(600);
  c = FromProto(generated);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->tickets.rotation_interval, Duration::Seconds(600));
}

TEST(FromProtoTicketsTest, BadKeysAreRefusedWithoutQuotingThem) {
  api::v1::Config config;
  config.mutable_session_tickets()->add_keys("%%%");
  absl::StatusOr<DataPlaneConfig> c = FromProto(config);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("session_tickets.keys[0]: is not base64"));
  EXPECT_THAT(std::string(c.status().message()), Not(HasSubstr("%%%")));

  const std::string short_key = absl::Base64Escape(KeyBytes('a', 47));
  config.mutable_session_tickets()->set_keys(0, short_key);
  c = FromProto(config);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("session_tickets.keys: key 0: 47 bytes"));
  EXPECT_THAT(std::string(c.status().message()), Not(HasSubstr(short_key)));
}

}  // namespace
}  // namespace locus::proxy::dataplane
