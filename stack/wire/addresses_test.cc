#include "stack/wire/addresses.h"

#include "gtest/gtest.h"

namespace locus::wire {
namespace {

TEST(Ipv4AddressTest, ParsesAndPrints) {
  std::optional<Ipv4Address> a = Ipv4Address::Parse("10.0.0.1");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->value(), 0x0a000001u);
  EXPECT_EQ(a->ToString(), "10.0.0.1");
  EXPECT_EQ(Ipv4Address::Parse("255.255.255.255")->value(), 0xffffffffu);
}

TEST(Ipv4AddressTest, RejectsMalformed) {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1..3.4", "a.b.c.d",
                          "1.2.3.-4", "1.2.3.4 ", "+1.2.3.4", "1234.1.1.1"}) {
    EXPECT_FALSE(Ipv4Address::Parse(bad).has_value()) << bad;
  }
}

TEST(Ipv4PrefixTest, ContainsAndLimits) {
  std::optional<Ipv4Prefix> p = Ipv4Prefix::Parse("192.168.7.1/24");
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(p->Contains(*Ipv4Address::Parse("192.168.7.200")));
  EXPECT_FALSE(p->Contains(*Ipv4Address::Parse("192.168.8.1")));
  EXPECT_EQ(p->broadcast().ToString(), "192.168.7.255");
  EXPECT_TRUE(Ipv4Prefix::Parse("0.0.0.0/0")->Contains(*Ipv4Address::Parse("8.8.8.8")));
  EXPECT_TRUE(Ipv4Prefix::Parse("1.2.3.4/32").has_value());
  EXPECT_FALSE(Ipv4Prefix::Parse("1.2.3.4/33").has_value());
  EXPECT_FALSE(Ipv4Prefix::Parse("1.2.3.4").has_value());
  EXPECT_FALSE(Ipv4Prefix::Parse("1.2.3.4/").has_value());
}

TEST(MacAddressTest, ParsesAndPrints) {
  std::optional<MacAddress> m = MacAddress::Parse("02:aB:00:00:00:ff");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->ToString(), "02:ab:00:00:00:ff");
  EXPECT_FALSE(m->is_multicast());
  EXPECT_TRUE(MacAddress::Broadcast().is_multicast());
  for (const char* bad : {"", "02:ab:00:00:00", "02:ab:00:00:00:ff:11", "0g:00:00:00:00:00",
                          "2:ab:00:00:00:ff"}) {
    EXPECT_FALSE(MacAddress::Parse(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace locus::wire
