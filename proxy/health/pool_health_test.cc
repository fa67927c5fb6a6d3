#include "proxy/health/pool_health.h"

#include <array>

#include "gtest/gtest.h"

namespace locus::proxy::health {
namespace {

constexpr Instant T0 = Instant::FromNanos(0);

TEST(PoolHealthTest, NothingConfiguredMeansAlwaysUsable) {
  PoolHealth h(std::nullopt, std::nullopt, 3, T0);
  EXPECT_EQ(h.UsableSet(), std::vector<bool>({true, true, true}));
  EXPECT_EQ(h.active(), nullptr);
  EXPECT_EQ(h.outlier(), nullptr);
  EXPECT_EQ(h.version(), 0u);
  EXPECT_FALSE(h.Query(1).active_checked);
}

TEST(PoolHealthTest, ActiveAndPassiveCombine) {
  HealthCheckConfig hc;
  hc.rise = 1;
  hc.fall = 1;
  OutlierDetectionConfig od;
  od.consecutive_5xx = 1;
  od.max_ejection_percent = 100;
  od.base_ejection_time = Duration::Seconds(30);
  PoolHealth h(hc, od, 2, T0);

  std::array<ProbeTicket, 2> probes;
  ASSERT_EQ(h.active()->TakeDueProbes(T0 + Duration::Seconds(5),
                                      absl::MakeSpan(probes)),
            2u);
  h.active()->OnProbeResult(probes[0], false, T0 + Duration::Seconds(5));
  h.active()->OnProbeResult(probes[1], true, T0 + Duration::Seconds(5));
  const uint64_t v1 = h.version();
  EXPECT_EQ(h.UsableSet(), std::vector<bool>({false, true}));

  h.outlier()->OnOutcome(1, Outcome::k5xx, T0 + Duration::Seconds(6));
  EXPECT_GT(h.version(), v1);
  EXPECT_EQ(h.UsableSet(), std::vector<bool>({false, false}));
  EndpointHealth q = h.Query(1);
  EXPECT_FALSE(q.usable);
  EXPECT_TRUE(q.ejected);
  EXPECT_EQ(q.active_state, ActiveState::kHealthy);
  EXPECT_EQ(q.ejected_until, T0 + Duration::Seconds(36));
  EXPECT_EQ(q.total_ejections, 1u);

  // The next wake-up is the earlier of the next probes (5s + 5s interval)
  // and the un-ejection at 36s.
  EXPECT_EQ(h.NextWakeup(), T0 + Duration::Seconds(10));
  const uint64_t v2 = h.version();
  h.Advance(T0 + Duration::Seconds(36));
  EXPECT_GT(h.version(), v2);
  EXPECT_TRUE(h.usable(1));
  EXPECT_FALSE(h.usable(0));
}

TEST(PoolHealthTest, AdvanceExpiresProbes) {
  HealthCheckConfig hc;
  hc.rise = 1;
  hc.fall = 1;
  PoolHealth h(hc, std::nullopt, 1, T0);
  std::array<ProbeTicket, 1> probes;
  ASSERT_EQ(h.active()->TakeDueProbes(T0, absl::MakeSpan(probes)), 1u);
  EXPECT_EQ(h.NextWakeup(), T0 + hc.timeout);
  h.Advance(T0 + hc.timeout);
  EXPECT_FALSE(h.usable(0));
  EXPECT_EQ(h.Query(0).consecutive_check_failures, 1u);
}

}  // namespace
}  // namespace locus::proxy::health
