#include "stack/steer/link_rss.h"

#include "gtest/gtest.h"
#include "stack/steer/reta.h"

namespace locus::steer {
namespace {

TEST(NicRssFromLinkTest, PortWithoutRssGivesNothing) {
  link::LinkInfo tap;
  tap.driver = "net_tap";
  tap.rx_queues = 2;
  EXPECT_FALSE(NicRssFromLink(tap).has_value());
  EXPECT_EQ(ChooseMode(2, NicRssFromLink(tap)), SteeringMode::kPortHash);
}

TEST(NicRssFromLinkTest, RssWithoutRetaGivesNothing) {
  link::LinkInfo info;
  info.rss = true;
  info.rss_key = kMicrosoftRssKey;
  EXPECT_FALSE(NicRssFromLink(info).has_value());
}

TEST(NicRssFromLinkTest, CopiesKeyAndReta) {
  link::LinkInfo info;
  info.rss = true;
  info.rx_queues = 4;
  info.rss_key = kSymmetricRssKey;
  info.reta = RoundRobinReta(128, 4);
  const auto rss = NicRssFromLink(info);
  ASSERT_TRUE(rss.has_value());
  EXPECT_EQ(rss->key, kSymmetricRssKey);
  EXPECT_EQ(rss->reta, info.reta);
  EXPECT_EQ(ChooseMode(4, rss), SteeringMode::kRss);
  EXPECT_EQ(ChooseMode(8, rss), SteeringMode::kPortHash);
}

}  // namespace
}  // namespace locus::steer
