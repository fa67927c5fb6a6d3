#include "stack/tcp/new_reno.h"

#include "gtest/gtest.h"
#include "stack/tcp/cc_test_util.h"

namespace locus::tcp {
namespace {

using testing::Ack;
using testing::AckOneRound;

constexpr uint32_t kMss = 1000;
constexpr Duration kRtt = Duration::Millis(50);

static_assert(sizeof(NewReno) <= 40);

TEST(NewRenoTest, SlowStartDoublesPerRoundWithPerSegmentAcks) {
  NewReno reno(kMss);
  Instant now;
  EXPECT_EQ(reno.cwnd(), 10000u);
  for (uint32_t expected : {20000u, 40000u, 80000u, 160000u}) {
    AckOneRound(reno, &now, kRtt, kMss);
    EXPECT_EQ(reno.cwnd(), expected);
  }
}

TEST(NewRenoTest, SlowStartDoublesWithDelayedAcks) {
  // One ACK per two segments: 2*SMSS acked, within L = 2*SMSS (RFC 3465),
  // so byte counting still doubles per round (plain ACK counting would give
  // x1.5).
  NewReno reno(kMss);
  Instant now;
  for (uint32_t expected : {20000u, 40000u, 80000u}) {
    AckOneRound(reno, &now, kRtt, 2 * kMss);
    EXPECT_EQ(reno.cwnd(), expected);
  }
}

TEST(NewRenoTest, StretchAcksAreCappedAtL) {
  // ACKs covering 4 segments grow cwnd by L = 2 SMSS each: x1.5 per round.
  NewReno reno(kMss, 12);
  Instant now;
  ASSERT_EQ(reno.cwnd(), 12000u);
  AckOneRound(reno, &now, kRtt, 4 * kMss);  // 3 ACKs
  EXPECT_EQ(reno.cwnd(), 18000u);
}

TEST(NewRenoTest, CongestionAvoidanceAddsOneSegmentPerRound) {
  NewReno reno(kMss);
  Instant now;
  // cwnd 40000, then a loss with FlightSize 40000: ssthresh 20000.
  AckOneRound(reno, &now, kRtt, kMss);
  AckOneRound(reno, &now, kRtt, kMss);
  reno.EnterRecovery(now, 40000, RecoveryKind::kSack);
  reno.ExitRecovery(now, 20000);
  ASSERT_EQ(reno.cwnd(), 20000u);
  ASSERT_EQ(reno.ssthresh(), 20000u);
  // RFC 5681 §3.1: +1 SMSS per cwnd of acknowledged bytes.
  for (uint32_t expected = 21000; expected <= 30000; expected += kMss) {
    AckOneRound(reno, &now, kRtt, kMss);
    EXPECT_EQ(reno.cwnd(), expected);
    EXPECT_EQ(reno.bytes_acked(), 0u);
  }
  // Delayed ACKs give the same growth per round (byte counting).
  AckOneRound(reno, &now, kRtt, 2 * kMss);
  EXPECT_EQ(reno.cwnd(), 31000u);
}

TEST(NewRenoTest, ByteCountingCarriesRemainder) {
  NewReno reno(kMss);
  reno.EnterRecovery(Instant(), 20000, RecoveryKind::kSack);  // ssthresh 10000
  reno.ExitRecovery(Instant(), 10000);
  ASSERT_EQ(reno.cwnd(), 10000u);
  for (int i = 0; i < 9; ++i) reno.OnAck(Ack(Instant(), 1200));  // 10800 bytes
  EXPECT_EQ(reno.cwnd(), 11000u);
  EXPECT_EQ(reno.bytes_acked(), 800u);
  // A huge stretch ACK adds one SMSS and does not bank more than a window.
  reno.OnAck(Ack(Instant(), 100000));
  EXPECT_EQ(reno.cwnd(), 12000u);
  EXPECT_EQ(reno.bytes_acked(), 11999u);
  reno.OnAck(Ack(Instant(), 1));
  EXPECT_EQ(reno.cwnd(), 13000u);
}

TEST(NewRenoTest, LossHalvesFlightSize) {
  NewReno reno(kMss);
  reno.EnterRecovery(Instant(), 30000, RecoveryKind::kNewReno);
  EXPECT_EQ(reno.ssthresh(), 15000u);  // RFC 5681 eq. 4
  EXPECT_EQ(reno.cwnd(), 18000u);      // RFC 6582 §3.2 step 2
}

TEST(NewRenoTest, CrossingSsthreshCountsTheRestInCongestionAvoidance) {
  NewReno reno(kMss);
  reno.OnRetransmitTimeout(Instant(), 20000);  // ssthresh 10000, cwnd 1000
  for (int i = 0; i < 8; ++i) reno.OnAck(Ack(Instant(), kMss));
  ASSERT_EQ(reno.cwnd(), 9000u);
  reno.OnAck(Ack(Instant(), 2 * kMss));  // L is 1 SMSS after an RTO
  EXPECT_EQ(reno.cwnd(), 10000u);
  EXPECT_EQ(reno.bytes_acked(), 1000u);
}

}  // namespace
}  // namespace locus::tcp
