#include "proxy/lb/balancer.h"

#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proxy/lb/hash.h"

namespace locus::proxy::lb {
namespace {

BackendPoolConfig Pool(LbPolicy policy, std::vector<uint32_t> weights) {
  BackendPoolConfig p;
  p.name = "pool";
  p.lb_policy = policy;
  p.maglev_table_size = 1009;
  for (size_t i = 0; i < weights.size(); ++i) {
    EndpointConfig e;
    e.ip = wire::Ipv4Address::FromOctets(10, 0, 1, static_cast<uint8_t>(i + 1));
    e.port = 80;
    e.weight = weights[i];
    p.endpoints.push_back(e);
  }
  return p;
}

std::shared_ptr<const PoolSnapshot> Snap(const BackendPoolConfig& cfg,
                                         std::vector<bool> healthy = {},
                                         uint64_t version = 1) {
  auto s = PoolSnapshot::Build(cfg, healthy, version);
  EXPECT_TRUE(s.ok()) << s.status();
  return *s;
}

Balancer Make(const BackendPoolConfig& cfg, std::vector<bool> healthy = {},
              uint32_t cores = 1) {
  Balancer b(cores);
  b.Update(Snap(cfg, healthy));
  return b;
}

std::vector<int> Histogram(Balancer& b, int draws, Rng& rng,
                           bool hash = false) {
  std::vector<int> count(b.snapshot()->size(), 0);
  for (int i = 0; i < draws; ++i) {
    std::optional<uint64_t> key;
    if (hash) key = rng.Next();
    Pick p = b.Choose(key, rng);
    EXPECT_TRUE(p.ok());
    if (p.ok()) ++count[p.index];
  }
  return count;
}

// Each share within 5 standard deviations of a binomial draw.
void ExpectShares(const std::vector<int>& count, const std::vector<uint32_t>& w,
                  int draws) {
  double total = 0;
  for (uint32_t x : w) total += x;
  for (size_t i = 0; i < w.size(); ++i) {
    const double p = w[i] / total;
    const double sd = std::sqrt(draws * p * (1 - p));
    EXPECT_NEAR(count[i], draws * p, 5 * sd + 1) << "endpoint " << i;
  }
}

TEST(BalancerTest, SmoothWeightedRoundRobinExactSequence) {
  Balancer b = Make(Pool(LbPolicy::kRoundRobin, {5, 1, 1}));
  Rng rng(1);
  std::string seq;
  for (int i = 0; i < 14; ++i) seq += static_cast<char>('a' + b.Choose({}, rng).index);
  EXPECT_EQ(seq, "aabacaaaabacaa");
}

TEST(BalancerTest, RoundRobinSkipsUnhealthyAndKeepsProportions) {
  Balancer b = Make(Pool(LbPolicy::kRoundRobin, {3, 2, 7, 1}),
                    {true, true, false, true});
  Rng rng(1);
  std::vector<int> count = Histogram(b, 600, rng);
  // Deterministic: exactly 3:2:0:1 over whole cycles of 6.
  EXPECT_EQ(count, std::vector<int>({300, 200, 0, 100}));
}

TEST(BalancerTest, RandomMatchesWeights) {
  const std::vector<uint32_t> w = {1, 2, 3, 4};
  Balancer b = Make(Pool(LbPolicy::kRandom, w));
  Rng rng(2);
  ExpectShares(Histogram(b, 100000, rng), w, 100000);
}

TEST(BalancerTest, LeastConnectionsPicksLowestLoadPerWeight) {
  Balancer b = Make(Pool(LbPolicy::kLeastConnections, {1, 2, 1}));
  Rng rng(3);
  // Load endpoints: 0 has 2, 1 has 3 (1.5 per weight), 2 has 1.
  auto open = [&](uint32_t i, int n) {
    Pick p{PickStatus::kOk, i, b.snapshot()->endpoint(i).key(), b.generation()};
    for (int k = 0; k < n; ++k) b.OnConnectionOpened(p);
  };
  open(0, 2);
  open(1, 3);
  open(2, 1);
  EXPECT_EQ(b.Choose({}, rng).index, 2u);
  open(2, 1);  // now 2, 1.5, 2: endpoint 1 is least loaded per weight
  EXPECT_EQ(b.Choose({}, rng).index, 1u);
}

TEST(BalancerTest, LeastConnectionsBreaksTiesInProportionToWeight) {
  const std::vector<uint32_t> w = {1, 3, 4};
  Balancer b = Make(Pool(LbPolicy::kLeastConnections, w));
  Rng rng(4);
  // No connections are opened: every pick is a three-way tie.
  ExpectShares(Histogram(b, 80000, rng), w, 80000);
}

TEST(BalancerTest, LeastConnectionsSpreadsOpenConnectionsByWeight) {
  Balancer b = Make(Pool(LbPolicy::kLeastConnections, {1, 3}));
  Rng rng(5);
  for (int i = 0; i < 400; ++i) b.OnConnectionOpened(b.Choose({}, rng));
  EXPECT_EQ(b.active_connections(0), 100u);
  EXPECT_EQ(b.active_connections(1), 300u);
}

TEST(BalancerTest, PowerOfTwoEqualWeightsIsUniformWhenIdle) {
  const std::vector<uint32_t> w = {1, 1, 1, 1, 1};
  Balancer b = Make(Pool(LbPolicy::kPowerOfTwo, w));
  Rng rng(6);
  ExpectShares(Histogram(b, 50000, rng), w, 50000);
}

TEST(BalancerTest, PowerOfTwoTwoEndpointsFollowsWeightsWhenIdle) {
  const std::vector<uint32_t> w = {1, 3};
  Balancer b = Make(Pool(LbPolicy::kPowerOfTwo, w));
  Rng rng(7);
  ExpectShares(Histogram(b, 40000, rng), w, 40000);
}

// Idle shares with more than two endpoints approximate the weights (see
// balancer.cc): exact values are sum over pairs of w_i/(w_i+w_j)/6.
TEST(BalancerTest, PowerOfTwoIdleSharesForFourWeights) {
  Balancer b = Make(Pool(LbPolicy::kPowerOfTwo, {1, 2, 3, 4}));
  Rng rng(19);
  constexpr int kDraws = 60000;
  std::vector<int> count = Histogram(b, kDraws, rng);
  const double expected[] = {0.1306, 0.2333, 0.2964, 0.3397};
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(count[i], kDraws * expected[i], 5 * std::sqrt(kDraws * 0.25)) << i;
  }
}

TEST(BalancerTest, PowerOfTwoBalancesLoadPerWeight) {
  Balancer b = Make(Pool(LbPolicy::kPowerOfTwo, {1, 2, 3, 2}));
  Rng rng(8);
  for (int i = 0; i < 8000; ++i) b.OnConnectionOpened(b.Choose({}, rng));
  // Steady state: connections proportional to weight (1000 per unit).
  const double per_unit[] = {b.active_connections(0) / 1.0,
                             b.active_connections(1) / 2.0,
                             b.active_connections(2) / 3.0,
                             b.active_connections(3) / 2.0};
  for (double x : per_unit) EXPECT_NEAR(x, 1000, 10);
}

TEST(BalancerTest, PowerOfTwoNeverPicksTheMoreLoadedOfTwo) {
  Balancer b = Make(Pool(LbPolicy::kPowerOfTwo, {1, 1}));
  Rng rng(9);
  Pick p0{PickStatus::kOk, 0, b.snapshot()->endpoint(0).key(), b.generation()};
  b.OnConnectionOpened(p0);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(b.Choose({}, rng).index, 1u);
}

TEST(BalancerTest, MaglevIsConsistentPerKeyAndWeighted) {
  const std::vector<uint32_t> w = {1, 2, 5};
  Balancer b = Make(Pool(LbPolicy::kMaglev, w));
  Rng rng(10);
  const uint64_t key = HashClientIp(wire::Ipv4Address::FromOctets(192, 0, 2, 7));
  const uint32_t first = b.Choose(key, rng).index;
  for (int i = 0; i < 100; ++i) EXPECT_EQ(b.Choose(key, rng).index, first);
  // Another core (its own Balancer, same snapshot) agrees.
  Balancer other = Make(Pool(LbPolicy::kMaglev, w), {}, 4);
  EXPECT_EQ(other.Choose(key, rng).index, first);
  // Shares over many keys follow weights (table of 1009 slots: within 2%).
  std::vector<int> count = Histogram(b, 50000, rng, /*hash=*/true);
  EXPECT_NEAR(count[0], 50000 / 8.0, 1000);
  EXPECT_NEAR(count[1], 50000 * 2 / 8.0, 1000);
  EXPECT_NEAR(count[2], 50000 * 5 / 8.0, 1000);
}

TEST(BalancerTest, HashPoliciesWithoutAKeyFallBackToWeightedRandom) {
  for (LbPolicy policy : {LbPolicy::kMaglev, LbPolicy::kRingHash}) {
    const std::vector<uint32_t> w = {1, 3};
    Balancer b = Make(Pool(policy, w));
    Rng rng(11);
    ExpectShares(Histogram(b, 40000, rng), w, 40000);
  }
}

TEST(BalancerTest, RingHashIsConsistentPerKey) {
  Balancer b = Make(Pool(LbPolicy::kRingHash, {1, 1, 1}));
  Rng rng(12);
  for (uint64_t key = 1; key < 50; ++key) {
    const uint64_t h = HashHeaderValue(std::to_string(key));
    const uint32_t first = b.Choose(h, rng).index;
    EXPECT_EQ(b.Choose(h, rng).index, first);
    EXPECT_EQ(b.snapshot()->ring()->Lookup(h), first);
  }
}

TEST(BalancerTest, NoHealthyEndpoint) {
  for (LbPolicy policy :
       {LbPolicy::kRoundRobin, LbPolicy::kLeastConnections, LbPolicy::kPowerOfTwo,
        LbPolicy::kRandom, LbPolicy::kMaglev, LbPolicy::kRingHash}) {
    Balancer b = Make(Pool(policy, {1, 1}), {false, false});
    Rng rng(13);
    EXPECT_EQ(b.Choose(uint64_t{42}, rng).status, PickStatus::kNoHealthyEndpoint);
    EXPECT_EQ(b.Choose({}, rng).status, PickStatus::kNoHealthyEndpoint);
  }
  Balancer empty = Make(Pool(LbPolicy::kRandom, {}));
  Rng rng(14);
  EXPECT_EQ(empty.Choose({}, rng).status, PickStatus::kNoHealthyEndpoint);
  Balancer none;  // no snapshot yet
  EXPECT_EQ(none.Choose({}, rng).status, PickStatus::kNoHealthyEndpoint);
  Balancer drained = Make(Pool(LbPolicy::kRoundRobin, {0, 0}));
  EXPECT_EQ(drained.Choose({}, rng).status, PickStatus::kNoHealthyEndpoint);
}

TEST(BalancerTest, NeverPicksUnusableEndpoints) {
  for (LbPolicy policy :
       {LbPolicy::kRoundRobin, LbPolicy::kLeastConnections, LbPolicy::kPowerOfTwo,
        LbPolicy::kRandom, LbPolicy::kMaglev, LbPolicy::kRingHash}) {
    BackendPoolConfig cfg = Pool(policy, {1, 1, 1, 0, 1});
    Balancer b = Make(cfg, {true, false, true, true, false});
    Rng rng(15);
    for (int i = 0; i < 2000; ++i) {
      Pick p = b.Choose(rng.Next(), rng);
      ASSERT_TRUE(p.ok());
      EXPECT_TRUE(p.index == 0 || p.index == 2) << static_cast<int>(policy);
    }
  }
}

// max_connections 6 on 3 cores: 2 per core. At the limit an endpoint is
// skipped; at limit - 1 it is not.
TEST(BalancerTest, PerCoreConnectionLimitAtLimitAndLimitPlusOne) {
  for (LbPolicy policy :
       {LbPolicy::kRoundRobin, LbPolicy::kLeastConnections, LbPolicy::kPowerOfTwo,
        LbPolicy::kRandom, LbPolicy::kMaglev, LbPolicy::kRingHash}) {
    BackendPoolConfig cfg = Pool(policy, {1, 1});
    cfg.endpoints[0].max_connections = 6;
    cfg.endpoints[1].max_connections = 7;  // ceil(7/3) = 3 per core
    Balancer b = Make(cfg, {}, /*cores=*/3);
    ASSERT_EQ(b.connection_limit(0), 2u);
    ASSERT_EQ(b.connection_limit(1), 3u);
    Rng rng(16);
    for (int i = 0; i < 5; ++i) {
      Pick p = b.Choose(rng.Next(), rng);
      ASSERT_TRUE(p.ok()) << i;
      b.OnConnectionOpened(p);
    }
    EXPECT_EQ(b.active_connections(0), 2u);
    EXPECT_EQ(b.active_connections(1), 3u);
    Pick full = b.Choose(rng.Next(), rng);
    EXPECT_EQ(full.status, PickStatus::kAllAtMaxConnections)
        << static_cast<int>(policy);
    // Closing one on endpoint 0 makes exactly it available again.
    b.OnConnectionClosed(Pick{PickStatus::kOk, 0, cfg.endpoints[0].key(),
                              b.generation()});
    for (int i = 0; i < 20; ++i) {
      Pick p = b.Choose(rng.Next(), rng);
      ASSERT_TRUE(p.ok());
      EXPECT_EQ(p.index, 0u);
    }
  }
}

TEST(BalancerTest, HashPoliciesOverflowPastAFullEndpointConsistently) {
  BackendPoolConfig cfg = Pool(LbPolicy::kMaglev, {1, 1, 1, 1});
  cfg.endpoints[2].max_connections = 1;
  Balancer b = Make(cfg);
  Rng rng(17);
  // Find a key that lands on endpoint 2.
  uint64_t key = 0;
  for (uint64_t k = 1;; ++k) {
    key = HashHeaderValue(std::to_string(k));
    if (b.snapshot()->maglev()->Lookup(key) == 2) break;
  }
  Pick p = b.Choose(key, rng);
  ASSERT_EQ(p.index, 2u);
  b.OnConnectionOpened(p);
  const uint32_t overflow = b.Choose(key, rng).index;
  EXPECT_NE(overflow, 2u);
  EXPECT_EQ(b.Choose(key, rng).index, overflow);  // same key, same fallback
}

TEST(BalancerTest, UpdateCarriesCountsByAddressAndStalePicksResolve) {
  BackendPoolConfig cfg = Pool(LbPolicy::kLeastConnections, {1, 1, 1});
  Balancer b = Make(cfg);
  Pick on2{PickStatus::kOk, 2, cfg.endpoints[2].key(), b.generation()};
  b.OnConnectionOpened(on2);
  b.OnConnectionOpened(on2);
  // New config: endpoint 0 removed, a new one appended; indices shift.
  BackendPoolConfig next = cfg;
  next.endpoints.erase(next.endpoints.begin());
  EndpointConfig added;
  added.ip = wire::Ipv4Address::FromOctets(10, 0, 1, 99);
  added.port = 80;
  next.endpoints.push_back(added);
  b.Update(Snap(next, {}, 2));
  EXPECT_EQ(b.active_connections(1), 2u);  // old index 2 is now 1
  EXPECT_EQ(b.active_connections(2), 0u);
  // The stale pick from before the update closes the right one.
  b.OnConnectionClosed(on2);
  EXPECT_EQ(b.active_connections(1), 1u);
  // A pick for a removed endpoint is ignored.
  b.OnConnectionClosed(Pick{PickStatus::kOk, 0, cfg.endpoints[0].key(), 1});
  EXPECT_EQ(b.active_connections(0) + b.active_connections(1) +
                b.active_connections(2),
            1u);
  // Closing more than opened never underflows; failed picks are ignored.
  b.OnConnectionClosed(on2);
  b.OnConnectionClosed(on2);
  EXPECT_EQ(b.active_connections(1), 0u);
  Pick failed;
  b.OnConnectionOpened(failed);
  EXPECT_EQ(b.active_connections(0), 0u);
}

TEST(BalancerTest, HealthSnapshotSwapTakesEffectOnNextPick) {
  BackendPoolConfig cfg = Pool(LbPolicy::kRoundRobin, {1, 1});
  Balancer b = Make(cfg);
  Rng rng(18);
  b.Update(Snap(cfg, {false, true}, 2));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(b.Choose({}, rng).index, 1u);
  b.Update(Snap(cfg, {true, true}, 3));
  std::vector<int> count = Histogram(b, 10, rng);
  EXPECT_EQ(count, std::vector<int>({5, 5}));
}

}  // namespace
}  // namespace locus::proxy::lb
