// The window arithmetic shared by every algorithm (initial window, recovery,
// timeouts), run against both NewReno and CUBIC through the interface.
#include "stack/tcp/congestion_control.h"

#include <memory>

#include "gtest/gtest.h"
#include "stack/tcp/cc_test_util.h"
#include "stack/tcp/cubic.h"
#include "stack/tcp/new_reno.h"

namespace locus::tcp {
namespace {

using testing::Ack;

constexpr uint32_t kMss = 1000;
constexpr Instant kT0 = Instant::FromNanos(1'000'000'000);

TEST(InitialWindowTest, Rfc6928Iw10) {
  EXPECT_EQ(CongestionControl::InitialWindow(1460, 10), 14600u);
  EXPECT_EQ(CongestionControl::InitialWindow(1000, 10), 10000u);  // 10*MSS < 14600
  EXPECT_EQ(CongestionControl::InitialWindow(536, 10), 5360u);
  EXPECT_EQ(CongestionControl::InitialWindow(8960, 10), 17920u);  // max(2*MSS, 14600)
  EXPECT_EQ(CongestionControl::InitialWindow(1460, 20), 29200u);
}

TEST(InitialWindowTest, Rfc5681Table) {
  EXPECT_EQ(CongestionControl::InitialWindow(3000, 4), 6000u);  // SMSS > 2190: 2
  EXPECT_EQ(CongestionControl::InitialWindow(2190, 4), 6570u);  // 1095 < SMSS <= 2190: 3
  EXPECT_EQ(CongestionControl::InitialWindow(1460, 4), 4380u);
  EXPECT_EQ(CongestionControl::InitialWindow(1095, 4), 4380u);  // SMSS <= 1095: 4
  EXPECT_EQ(CongestionControl::InitialWindow(536, 4), 2144u);
  EXPECT_EQ(CongestionControl::InitialWindow(1000, 3), 3000u);  // capped at N
  EXPECT_EQ(CongestionControl::InitialWindow(1460, 1), 1460u);
  EXPECT_EQ(CongestionControl::InitialWindow(1460, 0), 1460u);  // 0 means 1
  EXPECT_EQ(CongestionControl::InitialWindow(0, 10), 10u);      // SMSS 0 means 1
}

TEST(InitialWindowTest, ConstructorUsesIt) {
  NewReno reno(1460);
  EXPECT_EQ(reno.cwnd(), 14600u);
  EXPECT_EQ(reno.ssthresh(), CongestionControl::kInfiniteSsthresh);
  EXPECT_TRUE(reno.in_slow_start());
  Cubic cubic(1460, 4);
  EXPECT_EQ(cubic.cwnd(), 4380u);
}

// Both algorithms must obey the same recovery arithmetic; only the
// multiplicative decrease differs (RFC 5681 eq. 4: 1/2; RFC 9438 §4.6: 0.7).
struct Algo {
  const char* name;
  std::unique_ptr<CongestionControl> (*make)();
  double beta;
};

const Algo kAlgos[] = {
    {"NewReno", [] { return std::unique_ptr<CongestionControl>(new NewReno(kMss)); }, 0.5},
    {"Cubic", [] { return std::unique_ptr<CongestionControl>(new Cubic(kMss)); }, 0.7},
};

class RecoveryTest : public ::testing::TestWithParam<Algo> {
 protected:
  // Grows cwnd to `bytes` in slow start, one SMSS per ACK.
  std::unique_ptr<CongestionControl> WithCwnd(uint32_t bytes) {
    auto cc = GetParam().make();
    while (cc->cwnd() < bytes) cc->OnAck(Ack(kT0, kMss));
    EXPECT_EQ(cc->cwnd(), bytes);
    return cc;
  }
  uint32_t Reduced(uint32_t flight) const {
    return static_cast<uint32_t>(flight * GetParam().beta);
  }
};

TEST_P(RecoveryTest, NewRenoFastRecoveryArithmetic) {
  auto cc = WithCwnd(20000);
  cc->EnterRecovery(kT0, 20000, RecoveryKind::kNewReno);
  const uint32_t ss = Reduced(20000);  // 10000 or 14000
  EXPECT_TRUE(cc->in_recovery());
  EXPECT_EQ(cc->ssthresh(), ss);
  EXPECT_EQ(cc->cwnd(), ss + 3 * kMss);  // RFC 6582 §3.2 step 2
  cc->OnDupAckInRecovery();
  cc->OnDupAckInRecovery();
  EXPECT_EQ(cc->cwnd(), ss + 5 * kMss);  // step 3
  // Step 5: partial ACK of 3 SMSS: deflate by 3000, add back 1000.
  cc->OnPartialAck(3000);
  EXPECT_EQ(cc->cwnd(), ss + 3 * kMss);
  // Partial ACK smaller than SMSS: deflate only.
  cc->OnPartialAck(500);
  EXPECT_EQ(cc->cwnd(), ss + 2500);
  // Open-state ACKs do not grow the window during recovery.
  cc->OnAck(Ack(kT0, kMss));
  EXPECT_EQ(cc->cwnd(), ss + 2500);
  // Step 6 option (1): min(ssthresh, max(FlightSize, SMSS) + SMSS).
  cc->ExitRecovery(kT0, 9000);
  EXPECT_FALSE(cc->in_recovery());
  EXPECT_EQ(cc->cwnd(), std::min(ss, 10000u));
  EXPECT_EQ(cc->ssthresh(), ss);
}

TEST_P(RecoveryTest, ExitWithLittleInFlightAvoidsBurst) {
  auto cc = WithCwnd(20000);
  cc->EnterRecovery(kT0, 20000, RecoveryKind::kNewReno);
  for (int i = 0; i < 10; ++i) cc->OnDupAckInRecovery();
  cc->ExitRecovery(kT0, 0);
  EXPECT_EQ(cc->cwnd(), 2 * kMss);  // max(0, SMSS) + SMSS
  EXPECT_TRUE(cc->in_slow_start());  // grows back to ssthresh quickly
}

TEST_P(RecoveryTest, DupAckInflationIsCapped) {
  // RFC 5681 §3.2: inflation limited to about the outstanding segments.
  auto cc = WithCwnd(20000);
  cc->EnterRecovery(kT0, 20000, RecoveryKind::kNewReno);
  const uint32_t ss = Reduced(20000);
  for (int i = 0; i < 1000; ++i) cc->OnDupAckInRecovery();
  EXPECT_EQ(cc->cwnd(), ss + 20000);
}

TEST_P(RecoveryTest, SackRecoveryKeepsCwndAtSsthresh) {
  auto cc = WithCwnd(20000);
  cc->EnterRecovery(kT0, 20000, RecoveryKind::kSack);
  const uint32_t ss = Reduced(20000);
  EXPECT_EQ(cc->cwnd(), ss);  // RFC 6675 §5 step 4.2
  cc->OnDupAckInRecovery();
  cc->OnPartialAck(3000);
  EXPECT_EQ(cc->cwnd(), ss);
  cc->ExitRecovery(kT0, 20000);
  EXPECT_EQ(cc->cwnd(), ss);
}

TEST_P(RecoveryTest, OneReductionPerEpisode) {
  auto cc = WithCwnd(20000);
  cc->EnterRecovery(kT0, 20000, RecoveryKind::kSack);
  const uint32_t ss = cc->ssthresh();
  cc->EnterRecovery(kT0, 12000, RecoveryKind::kSack);
  EXPECT_EQ(cc->ssthresh(), ss);
  EXPECT_EQ(cc->cwnd(), ss);
}

TEST_P(RecoveryTest, SsthreshFloorIsTwoSegments) {
  auto cc = WithCwnd(20000);
  cc->EnterRecovery(kT0, 1000, RecoveryKind::kSack);
  EXPECT_EQ(cc->ssthresh(), 2 * kMss);
  EXPECT_EQ(cc->cwnd(), 2 * kMss);
}

TEST_P(RecoveryTest, RetransmitTimeout) {
  auto cc = WithCwnd(20000);
  cc->EnterRecovery(kT0, 20000, RecoveryKind::kNewReno);
  cc->OnRetransmitTimeout(kT0, 18000);
  EXPECT_FALSE(cc->in_recovery());
  EXPECT_EQ(cc->cwnd(), kMss);                // LW
  EXPECT_EQ(cc->ssthresh(), Reduced(18000));  // from FlightSize (RFC 5681 eq. 4)
  // Same segment times out again: ssthresh held (RFC 5681 §3.1 note).
  cc->OnRetransmitTimeout(kT0, 18000);
  EXPECT_EQ(cc->ssthresh(), Reduced(18000));
  EXPECT_EQ(cc->cwnd(), kMss);
  // After new data is acknowledged, a later timeout reduces again.
  cc->OnAck(Ack(kT0, kMss));
  cc->OnRetransmitTimeout(kT0, 6000);
  EXPECT_EQ(cc->ssthresh(), Reduced(6000));
}

TEST_P(RecoveryTest, AckWithoutNewDataIsNotProgress) {
  auto cc = WithCwnd(20000);
  cc->OnRetransmitTimeout(kT0, 20000);
  const uint32_t ss = cc->ssthresh();
  cc->OnAck(Ack(kT0, 0));  // e.g. a window update
  EXPECT_EQ(cc->cwnd(), kMss);
  cc->OnRetransmitTimeout(kT0, 4000);
  EXPECT_EQ(cc->ssthresh(), ss);  // still the same timed-out segment
}

TEST_P(RecoveryTest, SlowStartAfterTimeoutUsesLimitOfOneSegment) {
  auto cc = WithCwnd(20000);
  cc->OnRetransmitTimeout(kT0, 20000);
  const uint32_t ss = cc->ssthresh();
  // RFC 3465 §2.3: L = 1 SMSS after an RTO, so a 2-segment ACK adds 1 SMSS.
  cc->OnAck(Ack(kT0, 2 * kMss));
  EXPECT_EQ(cc->cwnd(), 2 * kMss);
  // Growth stops exactly at ssthresh; the rest goes to congestion avoidance.
  while (cc->cwnd() + kMss < ss) cc->OnAck(Ack(kT0, 2 * kMss));
  ASSERT_EQ(cc->cwnd(), ss - kMss);
  cc->OnAck(Ack(kT0, 2 * kMss));
  // ss reached; the second SMSS of the ACK is congestion-avoidance growth,
  // a small fraction of a segment for either algorithm.
  EXPECT_GE(cc->cwnd(), ss);
  EXPECT_LT(cc->cwnd(), ss + kMss / 10);
  EXPECT_FALSE(cc->in_slow_start());
}

TEST_P(RecoveryTest, HandshakeRetransmissionAndIdleRestart) {
  auto cc = GetParam().make();
  cc->OnHandshakeRetransmitted();
  EXPECT_EQ(cc->cwnd(), kMss);  // RFC 5681 §3.1

  auto grown = WithCwnd(80000);
  grown->OnIdleRestart(kT0);
  EXPECT_EQ(grown->cwnd(), 10000u);  // RFC 5681 §4.1: min(IW, cwnd)
  auto small = WithCwnd(10000);
  small->EnterRecovery(kT0, 10000, RecoveryKind::kSack);
  const uint32_t reduced = small->cwnd();
  small->ExitRecovery(kT0, 10000);
  small->OnIdleRestart(kT0);
  EXPECT_EQ(small->cwnd(), reduced);  // below IW already
}

TEST_P(RecoveryTest, AppLimitedAcksDoNotGrowTheWindow) {
  auto cc = GetParam().make();
  const uint32_t before = cc->cwnd();
  for (int i = 0; i < 50; ++i) cc->OnAck(Ack(kT0, kMss, Duration::Millis(100), false));
  EXPECT_EQ(cc->cwnd(), before);
}

TEST_P(RecoveryTest, CwndIsCappedAtMaxScaledWindow) {
  auto cc = GetParam().make();
  for (int i = 0; i < 600000 && cc->cwnd() < CongestionControl::kMaxCwndBytes; ++i) {
    cc->OnAck(Ack(kT0, 65535));
  }
  EXPECT_EQ(cc->cwnd(), CongestionControl::kMaxCwndBytes);
  cc->OnAck(Ack(kT0, 65535));
  EXPECT_EQ(cc->cwnd(), CongestionControl::kMaxCwndBytes);
}

INSTANTIATE_TEST_SUITE_P(Algorithms, RecoveryTest, ::testing::ValuesIn(kAlgos),
                         [](const ::testing::TestParamInfo<Algo>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace locus::tcp
