#include "stack/tcp/cubic.h"

#include <cmath>

#include "gtest/gtest.h"
#include "stack/tcp/cc_test_util.h"

namespace locus::tcp {
namespace {

using testing::Ack;
using testing::AckOneRound;

constexpr uint32_t kMss = 1000;
constexpr Instant kT0 = Instant::FromNanos(5'000'000'000);

static_assert(sizeof(Cubic) <= 96);

// Slow start (no loss yet) up to exactly `bytes`.
void GrowTo(Cubic& c, uint32_t bytes) {
  while (c.cwnd() < bytes) c.OnAck(Ack(kT0, kMss));
  ASSERT_EQ(c.cwnd(), bytes);
}

// W_max = 100 segments, loss, recovery: cwnd = ssthresh = 70 segments.
void LossAt100Segments(Cubic& c) {
  GrowTo(c, 100000);
  c.EnterRecovery(kT0, 100000, RecoveryKind::kSack);
  c.ExitRecovery(kT0, 70000);
}

TEST(CubicTest, Constants) {
  // RFC 9438 §4.3: alpha_cubic = 3 * (1 - 0.7) / (1 + 0.7) = 0.9 / 1.7.
  EXPECT_NEAR(Cubic::kAlphaCubic, 0.529411765, 1e-9);
}

TEST(CubicTest, MultiplicativeDecrease) {
  Cubic c(kMss);
  LossAt100Segments(c);
  EXPECT_EQ(c.ssthresh(), 70000u);  // §4.6: 0.7 * FlightSize
  EXPECT_EQ(c.cwnd(), 70000u);
  EXPECT_DOUBLE_EQ(c.w_max(), 100000.0);
  EXPECT_EQ(c.cwnd_prior(), 100000u);
  EXPECT_FALSE(c.epoch_started());
}

TEST(CubicTest, SsthreshFollowsFlightSizeNotCwnd) {
  Cubic c(kMss);
  GrowTo(c, 100000);
  c.EnterRecovery(kT0, 50000, RecoveryKind::kSack);  // application-limited
  EXPECT_EQ(c.ssthresh(), 35000u);
  EXPECT_DOUBLE_EQ(c.w_max(), 100000.0);
}

TEST(CubicTest, KAndWcubicMatchHandCalculation) {
  Cubic c(kMss);
  LossAt100Segments(c);
  c.OnAck(Ack(kT0, kMss));  // first congestion-avoidance ACK starts the epoch
  ASSERT_TRUE(c.epoch_started());
  EXPECT_EQ(c.epoch_start(), kT0);
  // K = cbrt((W_max - cwnd_epoch) / C) = cbrt((100 - 70) / 0.4) = cbrt(75).
  EXPECT_NEAR(c.k(), 4.2171633265, 1e-9);
  // W_cubic(0) = cwnd_epoch, W_cubic(K) = W_max.
  EXPECT_NEAR(c.WCubic(0), 70000, 1e-6);
  EXPECT_NEAR(c.WCubic(c.k()), 100000, 1e-6);
  // W_cubic(2 s) = 0.4 * (2 - 4.2171633)^3 + 100 = 95.6403 segments.
  EXPECT_NEAR(c.WCubic(2.0), 95640.34, 0.01);
  // Convex side: W_cubic(6 s) = 0.4 * (1.7828367)^3 + 100 = 102.26670.
  EXPECT_NEAR(c.WCubic(6.0), 102266.70, 0.01);
}

TEST(CubicTest, ConcaveThenConvexTracksWcubic) {
  // RTT 100 ms and W_max 100: the Reno estimate stays below W_cubic for
  // the first ~5.5 s (it gains alpha_cubic = 0.53 segments per RTT, i.e.
  // 5.3/s, while W_cubic rises 30 segments in the first K = 4.2 s), so
  // cwnd follows the cubic curve: concave (§4.4) before K, convex after.
  constexpr Duration kRtt = Duration::Millis(100);
  Cubic c(kMss);
  LossAt100Segments(c);
  Instant now = kT0;
  double last_cwnd = c.cwnd();
  double last_growth = 1e9;
  bool seen_convex = false;
  for (int round = 1; round <= 54; ++round) {
    AckOneRound(c, &now, kRtt, kMss);
    const double t = (now - c.epoch_start()).seconds();
    const double cwnd = c.cwnd();
    // Each ACK closes part of the gap to W_cubic(t + RTT) and never passes
    // it; at the end of a round cwnd has caught up with W_cubic(t).
    EXPECT_LE(cwnd, c.WCubic(t + kRtt.seconds()) + 1) << "t=" << t;
    EXPECT_GE(cwnd, c.WCubic(t) - kMss / 2) << "t=" << t;
    EXPECT_LT(c.w_est(), c.WCubic(t));  // not Reno-friendly
    const double growth = cwnd - last_cwnd;
    if (t < c.k() - kRtt.seconds()) {
      EXPECT_LT(growth, last_growth) << "concave: growth slows, t=" << t;
    } else if (t > c.k() + 2 * kRtt.seconds()) {
      EXPECT_GT(growth, last_growth) << "convex: growth speeds up, t=" << t;
      seen_convex = true;
    }
    last_growth = growth;
    last_cwnd = cwnd;
  }
  EXPECT_TRUE(seen_convex);
  EXPECT_GT(c.cwnd(), 100000u);  // probing above W_max
}

TEST(CubicTest, RenoFriendlyRegionAtSmallRttAndBdp) {
  // W_max = 10 segments, RTT 1 ms. After the loss cwnd = 7 segments and
  // K = cbrt(3 / 0.4) = 1.957 s, so W_cubic barely moves over 20 ms
  // (7.09 segments), while W_est gains alpha_cubic per RTT until it reaches
  // cwnd_prior = 10 segments (3 / 0.529 = 5.67 RTTs), then 1 per RTT
  // (§4.3). After 20 RTTs: 10 + (20 - 5.67) = 24.3 segments.
  constexpr Duration kRtt = Duration::Millis(1);
  Cubic c(kMss);
  ASSERT_EQ(c.cwnd(), 10000u);
  c.EnterRecovery(kT0, 10000, RecoveryKind::kSack);
  c.ExitRecovery(kT0, 7000);
  ASSERT_EQ(c.cwnd(), 7000u);
  Instant now = kT0;
  double last = c.cwnd();
  for (int round = 1; round <= 20; ++round) {
    AckOneRound(c, &now, kRtt, kMss);
    const double growth = c.cwnd() - last;
    last = c.cwnd();
    // cwnd = W_est (up to the sub-byte carry) and far above W_cubic.
    EXPECT_NEAR(c.cwnd(), c.w_est(), 1.0);
    EXPECT_GT(c.cwnd(), c.WCubic((now - c.epoch_start()).seconds()));
    if (round >= 2 && round <= 5) {
      // alpha_cubic per RTT, a bit less because cwnd grows within the RTT.
      EXPECT_GT(growth, 0.46 * kMss) << round;
      EXPECT_LT(growth, Cubic::kAlphaCubic * kMss) << round;
    } else if (round >= 8) {
      EXPECT_GT(growth, 0.9 * kMss) << round;  // alpha = 1 above cwnd_prior
      EXPECT_LT(growth, 1.0 * kMss) << round;
    }
    if (round == 5) {
      EXPECT_NEAR(c.cwnd(), 7000 + 5 * Cubic::kAlphaCubic * kMss, 100);
    }
  }
  EXPECT_NEAR(c.cwnd(), 24300, kMss);
  EXPECT_LT(c.WCubic(0.02), 7100);
}

TEST(CubicTest, FastConvergence) {
  Cubic c(kMss);
  LossAt100Segments(c);
  // Loss again at cwnd 70 < W_max 100: W_max = 70 * (1 + 0.7) / 2 = 59.5.
  c.EnterRecovery(kT0, 70000, RecoveryKind::kSack);
  EXPECT_DOUBLE_EQ(c.w_max(), 59500.0);
  EXPECT_EQ(c.ssthresh(), 49000u);

  Cubic plain(kMss, CongestionControl::kDefaultInitialWindowSegments,
              /*fast_convergence=*/false);
  LossAt100Segments(plain);
  plain.EnterRecovery(kT0, 70000, RecoveryKind::kSack);
  EXPECT_DOUBLE_EQ(plain.w_max(), 70000.0);
}

TEST(CubicTest, AfterTimeoutKIsZeroAndWmaxIsEpochCwnd) {
  Cubic c(kMss);
  LossAt100Segments(c);
  c.OnRetransmitTimeout(kT0, 100000);
  EXPECT_EQ(c.cwnd(), kMss);
  EXPECT_EQ(c.ssthresh(), 70000u);  // §4.8: beta_cubic, not 1/2
  while (c.in_slow_start()) c.OnAck(Ack(kT0, kMss));
  ASSERT_EQ(c.cwnd(), 70000u);
  const Instant t1 = kT0 + Duration::Seconds(1);
  c.OnAck(Ack(t1, kMss));
  ASSERT_TRUE(c.epoch_started());
  EXPECT_EQ(c.k(), 0.0);
  EXPECT_DOUBLE_EQ(c.w_max(), 70000.0);
  // W_cubic(t) = C * t^3 + 70 segments: 70.4 segments at t = 1 s.
  EXPECT_NEAR(c.WCubic(1.0), 70400, 1e-6);
}

TEST(CubicTest, TargetIsClampedToOneAndAHalfCwnd) {
  // Far past K, W_cubic(t + RTT) is huge; §4.2 clamps target to 1.5*cwnd,
  // so one round of ACKs adds exactly half a window.
  Cubic c(kMss);
  LossAt100Segments(c);
  c.OnAck(Ack(kT0, 1));  // start the epoch at kT0
  Instant now = kT0 + Duration::Seconds(100);
  const double before = c.cwnd();
  AckOneRound(c, &now, Duration::Millis(100), kMss);
  EXPECT_NEAR(c.cwnd(), 1.5 * before, 1.0);
}

TEST(CubicTest, ApplicationLimitedTimeIsExcluded) {
  Cubic c(kMss);
  LossAt100Segments(c);
  c.OnAck(Ack(kT0, kMss));
  ASSERT_EQ(c.epoch_start(), kT0);
  const uint32_t cwnd = c.cwnd();
  // 1 s of ACKs that did not test the window: no growth, clock paused.
  for (int i = 1; i <= 10; ++i) {
    c.OnAck(Ack(kT0 + Duration::Millis(100) * i, kMss, Duration::Millis(100), false));
  }
  EXPECT_EQ(c.cwnd(), cwnd);
  EXPECT_EQ(c.epoch_start(), kT0 + Duration::Seconds(1));
}

TEST(CubicTest, IdleRestartStartsANewEpoch) {
  Cubic c(kMss);
  LossAt100Segments(c);
  c.OnAck(Ack(kT0, kMss));
  ASSERT_TRUE(c.epoch_started());
  c.OnIdleRestart(kT0 + Duration::Seconds(10));
  EXPECT_FALSE(c.epoch_started());
  EXPECT_EQ(c.cwnd(), 10000u);
}

}  // namespace
}  // namespace locus::tcp
