#include "stack/steer/listener_ports.h"

#include <vector>

#include "gtest/gtest.h"

namespace locus::steer {
namespace {

TEST(ListenerPortSetTest, EmptyByDefault) {
  const ListenerPortSet set;
  EXPECT_EQ(set.size(), 0u);
  for (uint32_t p = 0; p < ListenerPortSet::kPortCount; ++p) {
    ASSERT_FALSE(set.Contains(static_cast<uint16_t>(p)));
  }
  EXPECT_EQ(ListenerPortSet::Empty().size(), 0u);
  EXPECT_EQ(sizeof(ListenerPortSet), 8192u);
}

TEST(ListenerPortSetTest, ContainsExactlyTheGivenPortsIncludingTheEdges) {
  const std::vector<uint16_t> ports = {0, 63, 64, 80, 443, 8080, 8080, 65535};
  const auto set = ListenerPortSet::Create(ports);
  EXPECT_EQ(set->size(), 7u);
  for (uint32_t p = 0; p < ListenerPortSet::kPortCount; ++p) {
    const bool expected = p == 0 || p == 63 || p == 64 || p == 80 || p == 443 || p == 8080 ||
                          p == 65535;
    ASSERT_EQ(set->Contains(static_cast<uint16_t>(p)), expected) << p;
  }
}

TEST(ListenerPortSetTest, WithAndWithoutLeaveTheSnapshotAlone) {
  const ListenerPortSet base{80, 443};
  const auto added = base.With(8443);
  const auto removed = added->Without(80);
  EXPECT_FALSE(base.Contains(8443));
  EXPECT_TRUE(base.Contains(80));
  EXPECT_TRUE(added->Contains(8443));
  EXPECT_TRUE(added->Contains(80));
  EXPECT_FALSE(removed->Contains(80));
  EXPECT_TRUE(removed->Contains(443));
  EXPECT_TRUE(removed->Contains(8443));
  EXPECT_EQ(removed->size(), 2u);
}

}  // namespace
}  // namespace locus::steer
