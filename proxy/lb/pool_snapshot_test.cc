#include "proxy/lb/pool_snapshot.h"

#include "gtest/gtest.h"

namespace locus::proxy::lb {
namespace {

BackendPoolConfig Pool(LbPolicy policy) {
  BackendPoolConfig p;
  p.name = "api";
  p.lb_policy = policy;
  for (uint8_t i = 1; i <= 4; ++i) {
    EndpointConfig e;
    e.ip = wire::Ipv4Address::FromOctets(10, 0, 0, i);
    e.port = 8080;
    e.weight = i;
    p.endpoints.push_back(e);
  }
  return p;
}

TEST(PoolSnapshotTest, UsableCombinesHealthAndWeight) {
  BackendPoolConfig cfg = Pool(LbPolicy::kRandom);
  cfg.endpoints[0].weight = 0;  // drained
  auto snap = PoolSnapshot::Build(cfg, {true, true, false, true}, 7);
  ASSERT_TRUE(snap.ok()) << snap.status();
  const PoolSnapshot& s = **snap;
  EXPECT_EQ(s.version(), 7u);
  EXPECT_FALSE(s.usable(0));
  EXPECT_TRUE(s.usable(1));
  EXPECT_FALSE(s.usable(2));
  EXPECT_TRUE(s.usable(3));
  EXPECT_EQ(s.usable_count(), 2u);
  EXPECT_EQ(std::vector<uint32_t>(s.usable_indices().begin(), s.usable_indices().end()),
            std::vector<uint32_t>({1, 3}));
  EXPECT_EQ(std::vector<uint64_t>(s.cumulative_weights().begin(),
                                  s.cumulative_weights().end()),
            std::vector<uint64_t>({2, 6}));
  EXPECT_EQ(s.total_usable_weight(), 6u);
  EXPECT_EQ(s.maglev(), nullptr);
  EXPECT_EQ(s.ring(), nullptr);
}

TEST(PoolSnapshotTest, EmptyHealthSetMeansAllHealthy) {
  auto snap = PoolSnapshot::Build(Pool(LbPolicy::kRoundRobin), {}, 1);
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ((*snap)->usable_count(), 4u);
}

TEST(PoolSnapshotTest, RejectsInvalidConfigAndWrongHealthSize) {
  BackendPoolConfig cfg = Pool(LbPolicy::kMaglev);
  cfg.maglev_table_size = 1000;
  auto bad = PoolSnapshot::Build(cfg, {}, 1);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("maglev_table_size"), absl::string_view::npos);
  auto wrong = PoolSnapshot::Build(Pool(LbPolicy::kRandom), {true}, 1);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PoolSnapshotTest, MaglevTableCoversOnlyUsableEndpoints) {
  BackendPoolConfig cfg = Pool(LbPolicy::kMaglev);
  cfg.maglev_table_size = 1009;
  auto snap = PoolSnapshot::Build(cfg, {true, false, true, true}, 1);
  ASSERT_TRUE(snap.ok());
  const MaglevTable* t = (*snap)->maglev();
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->size(), 1009u);
  std::vector<int> count(4, 0);
  for (uint32_t s = 0; s < t->size(); ++s) ++count[t->slot(s)];
  EXPECT_EQ(count[1], 0);
  // Weights 1, 3, 4 of 8.
  EXPECT_NEAR(count[0], 1009 / 8.0, 15);
  EXPECT_NEAR(count[2], 1009 * 3 / 8.0, 15);
  EXPECT_NEAR(count[3], 1009 * 4 / 8.0, 15);
}

TEST(PoolSnapshotTest, RingLeavesOutUnusableEndpoints) {
  auto snap =
      PoolSnapshot::Build(Pool(LbPolicy::kRingHash), {true, true, false, true}, 1);
  ASSERT_TRUE(snap.ok());
  const HashRing* r = (*snap)->ring();
  ASSERT_NE(r, nullptr);
  for (const HashRing::Point& p : r->points()) EXPECT_NE(p.id, 2u);
  EXPECT_FALSE(r->points().empty());
}

TEST(PoolSnapshotTest, IndexOfAndStableName) {
  auto snap = PoolSnapshot::Build(Pool(LbPolicy::kRandom), {}, 1);
  ASSERT_TRUE(snap.ok());
  const PoolSnapshot& s = **snap;
  EXPECT_EQ(s.IndexOf({wire::Ipv4Address::FromOctets(10, 0, 0, 3), 8080}), 2u);
  EXPECT_EQ(s.IndexOf({wire::Ipv4Address::FromOctets(10, 0, 0, 3), 8081}),
            std::nullopt);
  EXPECT_EQ(PoolSnapshot::StableName(s.endpoint(2)), "10.0.0.3:8080");
}

}  // namespace
}  // namespace locus::proxy::lb
