#include "proxy/lb/pool_publisher.h"

#include <array>
#include <vector>

#include "gtest/gtest.h"
#include "proxy/lb/balancer.h"

namespace locus::proxy::lb {
namespace {

constexpr Instant T0 = Instant::FromNanos(0);

BackendPoolConfig Pool() {
  BackendPoolConfig p;
  p.name = "web";
  p.lb_policy = LbPolicy::kRoundRobin;
  for (uint8_t i = 1; i <= 4; ++i) {
    EndpointConfig e;
    e.ip = wire::Ipv4Address::FromOctets(10, 9, 0, i);
    e.port = 80;
    p.endpoints.push_back(e);
  }
  p.health_check.emplace();
  p.health_check->rise = 1;
  p.health_check->fall = 1;
  p.outlier_detection.emplace();
  p.outlier_detection->consecutive_5xx = 2;
  p.outlier_detection->max_ejection_percent = 50;
  p.outlier_detection->base_ejection_time = Duration::Seconds(30);
  return p;
}

// End to end on the owner and two "cores": a failed probe and an outlier
// ejection each produce one new snapshot; both cores stop picking the
// endpoints on their next pick; recovery brings them back.
TEST(PoolPublisherTest, HealthChangesReachEveryCoresBalancer) {
  auto pub = PoolPublisher::Create(Pool(), T0);
  ASSERT_TRUE(pub.ok()) << pub.status();
  PoolPublisher& p = **pub;
  std::array<Balancer, 2> cores = {Balancer(2), Balancer(2)};
  auto publish = [&] {
    auto snap = p.MaybePublish();
    if (snap) {
      for (Balancer& b : cores) b.Update(snap);
    }
    return snap != nullptr;
  };
  ASSERT_TRUE(publish());
  EXPECT_FALSE(publish());  // nothing changed

  // Probe round: endpoint 0 fails.
  Instant now = T0 + Duration::Seconds(5);
  std::array<health::ProbeTicket, 8> probes;
  const size_t n = p.health().active()->TakeDueProbes(now, absl::MakeSpan(probes));
  ASSERT_EQ(n, 4u);
  for (size_t i = 0; i < n; ++i) {
    p.health().active()->OnProbeResult(probes[i], probes[i].endpoint != 0, now);
  }
  ASSERT_TRUE(publish());
  // Outlier: two 5xx on endpoint 3, reported by address.
  const EndpointKey e3 = p.config().endpoints[3].key();
  EXPECT_EQ(p.OnOutcome(e3, health::Outcome::k5xx, now), health::OutlierEvent::kNone);
  EXPECT_EQ(p.OnOutcome(e3, health::Outcome::k5xx, now),
            health::OutlierEvent::kEjected);
  ASSERT_TRUE(publish());
  Rng rng(1);
  for (Balancer& b : cores) {
    for (int i = 0; i < 20; ++i) {
      Pick pick = b.Choose({}, rng);
      ASSERT_TRUE(pick.ok());
      EXPECT_TRUE(pick.index == 1 || pick.index == 2);
    }
  }
  // The ejection ends; endpoint 3 is back on both cores.
  p.Advance(now + Duration::Seconds(30));
  ASSERT_TRUE(publish());
  for (Balancer& b : cores) {
    EXPECT_TRUE(b.snapshot()->usable(3));
    EXPECT_FALSE(b.snapshot()->usable(0));
  }
  // Unknown endpoints are ignored.
  EXPECT_EQ(p.OnOutcome({wire::Ipv4Address::FromOctets(1, 2, 3, 4), 1},
                        health::Outcome::k5xx, now),
            health::OutlierEvent::kNone);
}

TEST(PoolPublisherTest, ConfigChangeCarriesHealthByAddress) {
  auto pub = PoolPublisher::Create(Pool(), T0);
  ASSERT_TRUE(pub.ok());
  PoolPublisher& p = **pub;
  p.MaybePublish();
  std::array<health::ProbeTicket, 8> probes;
  const Instant now = T0 + Duration::Seconds(5);
  const size_t n = p.health().active()->TakeDueProbes(now, absl::MakeSpan(probes));
  for (size_t i = 0; i < n; ++i) {
    p.health().active()->OnProbeResult(probes[i], probes[i].endpoint != 2, now);
  }
  // Identical push: no-op.
  auto same = p.UpdateConfig(Pool(), now);
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(*same);
  // Drop endpoint 0: the unhealthy one (was index 2) is now index 1.
  BackendPoolConfig next = Pool();
  next.endpoints.erase(next.endpoints.begin());
  auto changed = p.UpdateConfig(next, now);
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(*changed);
  auto snap = p.MaybePublish();
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->size(), 3u);
  EXPECT_TRUE(snap->usable(0));
  EXPECT_FALSE(snap->usable(1));
  EXPECT_TRUE(snap->usable(2));
  // Invalid push leaves everything as it was.
  BackendPoolConfig bad = next;
  bad.endpoints[0].port = 0;
  auto rejected = p.UpdateConfig(bad, now);
  EXPECT_EQ(rejected.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(p.config(), next);
  EXPECT_EQ(p.MaybePublish(), nullptr);
}

}  // namespace
}  // namespace locus::proxy::lb
