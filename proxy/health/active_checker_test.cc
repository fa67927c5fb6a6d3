#include "proxy/health/active_checker.h"

#include <array>
#include <limits>

#include "gtest/gtest.h"

namespace locus::proxy::health {
namespace {

constexpr Instant T0 = Instant::FromNanos(1'000'000'000);

HealthCheckConfig Config(uint32_t rise, uint32_t fall) {
  HealthCheckConfig c;
  c.interval = Duration::Seconds(10);
  c.timeout = Duration::Seconds(1);
  c.rise = rise;
  c.fall = fall;
  return c;
}

// Takes exactly one due probe for a one-endpoint checker.
ProbeTicket TakeOne(ActiveChecker& c, Instant now) {
  std::array<ProbeTicket, 4> out;
  EXPECT_EQ(c.TakeDueProbes(now, absl::MakeSpan(out)), 1u);
  return out[0];
}

TEST(ActiveCheckerTest, FirstResultDecidesThenRiseAndFallApply) {
  ActiveChecker c(Config(/*rise=*/2, /*fall=*/3), 1, T0);
  EXPECT_EQ(c.status(0).state, ActiveState::kUnknown);
  EXPECT_TRUE(c.usable(0));
  Instant now = T0;
  EXPECT_EQ(c.OnProbeResult(TakeOne(c, now), true, now),
            Transition::kBecameHealthy);
  // fall = 3: two failures keep it healthy, the third flips it.
  for (int i = 0; i < 2; ++i) {
    now += Duration::Seconds(10);
    EXPECT_EQ(c.OnProbeResult(TakeOne(c, now), false, now), Transition::kNone);
    EXPECT_TRUE(c.usable(0));
  }
  now += Duration::Seconds(10);
  EXPECT_EQ(c.OnProbeResult(TakeOne(c, now), false, now),
            Transition::kBecameUnhealthy);
  EXPECT_FALSE(c.usable(0));
  EXPECT_EQ(c.status(0).consecutive_failures, 3u);
  // rise = 2.
  now += Duration::Seconds(10);
  EXPECT_EQ(c.OnProbeResult(TakeOne(c, now), true, now), Transition::kNone);
  EXPECT_FALSE(c.usable(0));
  now += Duration::Seconds(10);
  EXPECT_EQ(c.OnProbeResult(TakeOne(c, now), true, now),
            Transition::kBecameHealthy);
  EXPECT_TRUE(c.usable(0));
  EXPECT_EQ(c.status(0).probes_sent, 6u);
  EXPECT_EQ(c.status(0).probes_failed, 3u);
}

TEST(ActiveCheckerTest, AFailureInterruptsARiseStreak) {
  ActiveChecker c(Config(3, 1), 1, T0);
  Instant now = T0;
  c.OnProbeResult(TakeOne(c, now), false, now);
  ASSERT_FALSE(c.usable(0));
  for (bool r : {true, true, false, true, true}) {
    now += Duration::Seconds(10);
    c.OnProbeResult(TakeOne(c, now), r, now);
    EXPECT_FALSE(c.usable(0));
  }
  now += Duration::Seconds(10);
  EXPECT_EQ(c.OnProbeResult(TakeOne(c, now), true, now),
            Transition::kBecameHealthy);
}

TEST(ActiveCheckerTest, VersionChangesOnlyWhenUsabilityChanges) {
  ActiveChecker c(Config(1, 1), 1, T0);
  Instant now = T0;
  c.OnProbeResult(TakeOne(c, now), true, now);  // unknown -> healthy: usable both
  EXPECT_EQ(c.version(), 0u);
  now += Duration::Seconds(10);
  c.OnProbeResult(TakeOne(c, now), false, now);
  EXPECT_EQ(c.version(), 1u);
  now += Duration::Seconds(10);
  c.OnProbeResult(TakeOne(c, now), false, now);
  EXPECT_EQ(c.version(), 1u);
  now += Duration::Seconds(10);
  c.OnProbeResult(TakeOne(c, now), true, now);
  EXPECT_EQ(c.version(), 2u);
}

TEST(ActiveCheckerTest, SchedulesOnceEveryIntervalAfterTheResult) {
  ActiveChecker c(Config(1, 1), 1, T0);
  std::array<ProbeTicket, 2> out;
  ProbeTicket t = TakeOne(c, T0);
  // In flight: nothing more is due, even much later.
  EXPECT_EQ(c.TakeDueProbes(T0 + Duration::Millis(500), absl::MakeSpan(out)), 0u);
  EXPECT_EQ(c.NextWakeup(), T0 + Duration::Seconds(1));  // the deadline
  const Instant answered = T0 + Duration::Millis(300);
  c.OnProbeResult(t, true, answered);
  EXPECT_EQ(c.NextWakeup(), answered + Duration::Seconds(10));
  EXPECT_EQ(c.TakeDueProbes(answered + Duration::Seconds(10) - Duration::Nanos(1),
                            absl::MakeSpan(out)),
            0u);
  EXPECT_EQ(c.TakeDueProbes(answered + Duration::Seconds(10), absl::MakeSpan(out)),
            1u);
}

TEST(ActiveCheckerTest, InitialProbesAreSpreadOverOneInterval) {
  ActiveChecker c(Config(1, 1), 4, T0);
  std::array<ProbeTicket, 8> out;
  EXPECT_EQ(c.TakeDueProbes(T0, absl::MakeSpan(out)), 1u);
  EXPECT_EQ(out[0].endpoint, 0u);
  EXPECT_EQ(c.TakeDueProbes(T0 + Duration::Millis(2499), absl::MakeSpan(out)), 0u);
  EXPECT_EQ(c.TakeDueProbes(T0 + Duration::Millis(2500), absl::MakeSpan(out)), 1u);
  EXPECT_EQ(out[0].endpoint, 1u);
  EXPECT_EQ(c.TakeDueProbes(T0 + Duration::Seconds(9), absl::MakeSpan(out)), 2u);
  EXPECT_EQ(out[0].endpoint, 2u);
  EXPECT_EQ(out[1].endpoint, 3u);
}

TEST(ActiveCheckerTest, OutputSpanBoundsTheBatch) {
  ActiveChecker c(Config(1, 1), 5, T0);
  std::array<ProbeTicket, 2> out;
  const Instant later = T0 + Duration::Seconds(20);
  EXPECT_EQ(c.TakeDueProbes(later, absl::MakeSpan(out)), 2u);
  EXPECT_EQ(c.TakeDueProbes(later, absl::MakeSpan(out)), 2u);
  EXPECT_EQ(c.TakeDueProbes(later, absl::MakeSpan(out)), 1u);
  EXPECT_EQ(c.TakeDueProbes(later, absl::MakeSpan(out)), 0u);
}

TEST(ActiveCheckerTest, TimeoutCountsAsFailureAndLateAnswerIsIgnored) {
  ActiveChecker c(Config(1, 1), 1, T0);
  ProbeTicket first = TakeOne(c, T0);
  size_t changed = 99;
  EXPECT_EQ(c.ExpireTimedOut(T0 + Duration::Millis(999), &changed), 0u);
  EXPECT_EQ(changed, 0u);
  EXPECT_EQ(c.ExpireTimedOut(T0 + Duration::Seconds(1), &changed), 1u);
  EXPECT_EQ(changed, 1u);
  EXPECT_FALSE(c.usable(0));
  // The late "pass" for the timed-out probe changes nothing...
  EXPECT_EQ(c.OnProbeResult(first, true, T0 + Duration::Seconds(2)),
            Transition::kNone);
  EXPECT_FALSE(c.usable(0));
  // ...not even once the next probe is in flight.
  const Instant next = T0 + Duration::Seconds(11);
  ProbeTicket second = TakeOne(c, next);
  EXPECT_NE(second.sequence, first.sequence);
  EXPECT_EQ(c.OnProbeResult(first, true, next), Transition::kNone);
  EXPECT_TRUE(c.status(0).probe_in_flight);
  EXPECT_EQ(c.OnProbeResult(second, true, next), Transition::kBecameHealthy);
  // A duplicate of an answered ticket is ignored too.
  EXPECT_EQ(c.OnProbeResult(second, false, next), Transition::kNone);
  EXPECT_TRUE(c.usable(0));
}

TEST(ActiveCheckerTest, OutOfRangeTicketIsIgnored) {
  ActiveChecker c(Config(1, 1), 1, T0);
  EXPECT_EQ(c.OnProbeResult(ProbeTicket{1, 1}, false, T0), Transition::kNone);
  EXPECT_TRUE(c.usable(0));
}

TEST(ActiveCheckerTest, EmptyPoolNeverWakes) {
  ActiveChecker c(Config(1, 1), 0, T0);
  EXPECT_EQ(c.NextWakeup().nanos(), std::numeric_limits<int64_t>::max());
}

TEST(ActiveCheckerTest, RiseAndFallAtTheirLimit) {
  ActiveChecker c(Config(kMaxRiseFall, kMaxRiseFall), 1, T0);
  Instant now = T0;
  c.OnProbeResult(TakeOne(c, now), true, now);
  for (uint32_t i = 1; i < kMaxRiseFall; ++i) {
    now += Duration::Seconds(10);
    c.OnProbeResult(TakeOne(c, now), false, now);
  }
  EXPECT_TRUE(c.usable(0));
  now += Duration::Seconds(10);
  c.OnProbeResult(TakeOne(c, now), false, now);
  EXPECT_FALSE(c.usable(0));
}

}  // namespace
}  // namespace locus::proxy::health

namespace locus::proxy::health {
namespace {

TEST(ActiveCheckerTest, RestoreCarriesStateAndDropsTheInFlightProbe) {
  ActiveChecker old(Config(1, 1), 1, T0);
  ProbeTicket t = TakeOne(old, T0);
  old.OnProbeResult(t, false, T0);
  ASSERT_FALSE(old.usable(0));
  t = TakeOne(old, T0 + Duration::Seconds(10));  // in flight at restore
  ActiveChecker next(Config(1, 1), 2, T0 + Duration::Seconds(10));
  const uint64_t v = next.version();
  next.Restore(1, old.status(0));
  EXPECT_FALSE(next.usable(1));
  EXPECT_EQ(next.version(), v + 1);
  EXPECT_FALSE(next.status(1).probe_in_flight);
  EXPECT_EQ(next.status(1).next_probe_due, T0 + Duration::Seconds(11));
  // The old ticket means nothing to the new checker.
  EXPECT_EQ(next.OnProbeResult(ProbeTicket{1, t.sequence}, true,
                               T0 + Duration::Seconds(10)),
            Transition::kNone);
}

}  // namespace
}  // namespace locus::proxy::health
