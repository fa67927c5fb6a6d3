#include "proxy/health/outlier.h"

#include <limits>

#include "gtest/gtest.h"

namespace locus::proxy::health {
namespace {

constexpr Instant T0 = Instant::FromNanos(5'000'000'000);

OutlierDetectionConfig Config() {
  OutlierDetectionConfig c;
  c.consecutive_5xx = 3;
  c.consecutive_connect_failures = 2;
  c.base_ejection_time = Duration::Seconds(10);
  c.max_ejection_time = Duration::Seconds(25);
  c.max_ejection_percent = 50;
  return c;
}

// Feeds `n` outcomes; returns the last event.
OutlierEvent Feed(OutlierDetector& d, size_t e, Outcome o, int n, Instant now) {
  OutlierEvent last = OutlierEvent::kNone;
  for (int i = 0; i < n; ++i) last = d.OnOutcome(e, o, now);
  return last;
}

TEST(OutlierTest, Consecutive5xxEjectsAtThreshold) {
  OutlierDetector d(Config(), 4);
  EXPECT_EQ(Feed(d, 1, Outcome::k5xx, 2, T0), OutlierEvent::kNone);
  EXPECT_FALSE(d.ejected(1));
  EXPECT_EQ(d.OnOutcome(1, Outcome::k5xx, T0), OutlierEvent::kEjected);
  EXPECT_TRUE(d.ejected(1));
  EXPECT_EQ(d.status(1).ejected_until, T0 + Duration::Seconds(10));
  EXPECT_EQ(d.ejected_count(), 1u);
  EXPECT_EQ(d.version(), 1u);
}

TEST(OutlierTest, SuccessResetsTheStreak) {
  OutlierDetector d(Config(), 4);
  Feed(d, 0, Outcome::k5xx, 2, T0);
  d.OnOutcome(0, Outcome::kSuccess, T0);
  EXPECT_EQ(d.status(0).consecutive_5xx, 0u);
  EXPECT_EQ(Feed(d, 0, Outcome::k5xx, 2, T0), OutlierEvent::kNone);
  EXPECT_FALSE(d.ejected(0));
}

TEST(OutlierTest, ConnectFailuresCountSeparately) {
  OutlierDetector d(Config(), 4);
  d.OnOutcome(2, Outcome::kConnectFailure, T0);
  // A 5xx proves the connect works: the connect streak restarts.
  d.OnOutcome(2, Outcome::k5xx, T0);
  EXPECT_EQ(d.status(2).consecutive_connect_failures, 0u);
  EXPECT_EQ(d.status(2).consecutive_5xx, 1u);
  EXPECT_EQ(d.OnOutcome(2, Outcome::kConnectFailure, T0), OutlierEvent::kNone);
  EXPECT_EQ(d.OnOutcome(2, Outcome::kConnectFailure, T0), OutlierEvent::kEjected);
}

TEST(OutlierTest, ZeroThresholdDisablesADetector) {
  OutlierDetectionConfig c = Config();
  c.consecutive_5xx = 0;
  OutlierDetector d(c, 2);
  EXPECT_EQ(Feed(d, 0, Outcome::k5xx, 1000, T0), OutlierEvent::kNone);
  EXPECT_FALSE(d.ejected(0));
}

TEST(OutlierTest, UnejectsWhenTimePasses) {
  OutlierDetector d(Config(), 4);
  Feed(d, 3, Outcome::k5xx, 3, T0);
  EXPECT_EQ(d.NextUnejection(), T0 + Duration::Seconds(10));
  EXPECT_EQ(d.Uneject(T0 + Duration::Seconds(10) - Duration::Nanos(1)), 0u);
  EXPECT_TRUE(d.ejected(3));
  EXPECT_EQ(d.Uneject(T0 + Duration::Seconds(10)), 1u);
  EXPECT_FALSE(d.ejected(3));
  EXPECT_EQ(d.ejected_count(), 0u);
  EXPECT_EQ(d.version(), 2u);
  EXPECT_EQ(d.NextUnejection().nanos(), std::numeric_limits<int64_t>::max());
}

TEST(OutlierTest, OutcomesWhileEjectedAreIgnored) {
  OutlierDetector d(Config(), 4);
  Feed(d, 0, Outcome::k5xx, 3, T0);
  EXPECT_EQ(Feed(d, 0, Outcome::k5xx, 10, T0), OutlierEvent::kNone);
  EXPECT_EQ(d.status(0).consecutive_5xx, 0u);
  EXPECT_EQ(d.status(0).total_ejections, 1u);
}

TEST(OutlierTest, EjectionTimeGrowsWithConsecutiveEjectionsAndIsCapped) {
  OutlierDetector d(Config(), 4);  // base 10s, max 25s
  Instant now = T0;
  const Duration expected[] = {Duration::Seconds(10), Duration::Seconds(20),
                               Duration::Seconds(25), Duration::Seconds(25)};
  for (Duration want : expected) {
    ASSERT_EQ(Feed(d, 0, Outcome::k5xx, 3, now), OutlierEvent::kEjected);
    EXPECT_EQ(d.status(0).ejected_until - now, want);
    now = d.status(0).ejected_until;
    ASSERT_EQ(d.Uneject(now), 1u);
  }
  EXPECT_EQ(d.status(0).total_ejections, 4u);
}

TEST(OutlierTest, CalmPeriodsLowerTheEjectionLevel) {
  OutlierDetector d(Config(), 4);
  Instant now = T0;
  Feed(d, 0, Outcome::k5xx, 3, now);  // level 1
  now += Duration::Seconds(10);
  d.Uneject(now);
  Feed(d, 0, Outcome::k5xx, 3, now);  // level 2, 20s
  now += Duration::Seconds(20);
  d.Uneject(now);
  EXPECT_EQ(d.status(0).ejection_level, 2u);
  // One base period of calm: level 2 - 1 + 1 = 2 -> 20s.
  now += Duration::Seconds(10);
  Feed(d, 0, Outcome::k5xx, 3, now);
  EXPECT_EQ(d.status(0).ejected_until - now, Duration::Seconds(20));
  now += Duration::Seconds(20);
  d.Uneject(now);
  // A long calm forgives everything: back to base.
  now += Duration::Seconds(1000);
  Feed(d, 0, Outcome::k5xx, 3, now);
  EXPECT_EQ(d.status(0).ejection_level, 1u);
  EXPECT_EQ(d.status(0).ejected_until - now, Duration::Seconds(10));
}

TEST(OutlierTest, MaxEjectionPercentAtLimitAndLimitPlusOne) {
  OutlierDetectionConfig c = Config();
  c.max_ejection_percent = 30;  // 10 endpoints -> at most 3
  OutlierDetector d(c, 10);
  ASSERT_EQ(d.max_ejected(), 3u);
  for (size_t e = 0; e < 3; ++e) {
    EXPECT_EQ(Feed(d, e, Outcome::k5xx, 3, T0), OutlierEvent::kEjected) << e;
  }
  EXPECT_EQ(d.ejected_count(), 3u);
  EXPECT_EQ(Feed(d, 3, Outcome::k5xx, 3, T0),
            OutlierEvent::kEjectionSkippedMaxPercent);
  EXPECT_FALSE(d.ejected(3));
  EXPECT_EQ(d.ejected_count(), 3u);
  EXPECT_EQ(d.ejections_skipped_max_percent(), 1u);
  // Once one comes back there is room again.
  d.Uneject(T0 + Duration::Seconds(10));
  EXPECT_EQ(Feed(d, 3, Outcome::k5xx, 3, T0 + Duration::Seconds(10)),
            OutlierEvent::kEjected);
}

TEST(OutlierTest, SmallPoolWithSmallPercentEjectsNothing) {
  OutlierDetectionConfig c = Config();
  c.max_ejection_percent = 10;
  OutlierDetector d(c, 5);
  EXPECT_EQ(d.max_ejected(), 0u);
  EXPECT_EQ(Feed(d, 0, Outcome::k5xx, 3, T0),
            OutlierEvent::kEjectionSkippedMaxPercent);
}

TEST(OutlierTest, OutOfRangeEndpointIsIgnored) {
  OutlierDetector d(Config(), 1);
  EXPECT_EQ(d.OnOutcome(1, Outcome::k5xx, T0), OutlierEvent::kNone);
}

}  // namespace
}  // namespace locus::proxy::health

namespace locus::proxy::health {
namespace {

TEST(OutlierTest, RestoreCarriesEjectionAndCount) {
  OutlierDetector old(Config(), 4);
  Feed(old, 1, Outcome::k5xx, 3, T0);
  ASSERT_TRUE(old.ejected(1));
  OutlierDetector next(Config(), 2);
  next.Restore(0, old.status(1));
  EXPECT_TRUE(next.ejected(0));
  EXPECT_EQ(next.ejected_count(), 1u);
  EXPECT_EQ(next.version(), 1u);
  EXPECT_EQ(next.Uneject(T0 + Duration::Seconds(10)), 1u);
  EXPECT_EQ(next.ejected_count(), 0u);
  // Restoring over an ejected slot does not double count.
  next.Restore(1, old.status(1));
  next.Restore(1, old.status(1));
  EXPECT_EQ(next.ejected_count(), 1u);
}

}  // namespace
}  // namespace locus::proxy::health
