#include "stack/tcp/rtt_estimator.h"

#include "gtest/gtest.h"

namespace locus::tcp {
namespace {

constexpr Duration Ms(int64_t ms) { return Duration::Millis(ms); }
constexpr Duration Us(int64_t us) { return Duration::Micros(us); }

// Per-connection memory budget: this object is embedded in every TCB.
static_assert(sizeof(RttEstimator) <= 40);

TEST(RttEstimatorTest, InitialRtoIsOneSecond) {
  RttEstimator e;  // RFC 6298 §2.1
  EXPECT_FALSE(e.has_estimate());
  EXPECT_EQ(e.rto(), Duration::Seconds(1));
  EXPECT_EQ(e.srtt(), Duration::Zero());
}

TEST(RttEstimatorTest, FirstSampleThenSmoothing) {
  RttEstimator e;
  // §2.2: SRTT = R, RTTVAR = R/2, RTO = SRTT + max(G, 4*RTTVAR).
  ASSERT_TRUE(e.AddSample(Ms(100), RttSampleKind::kTimedSegment));
  EXPECT_EQ(e.srtt(), Ms(100));
  EXPECT_EQ(e.rttvar(), Ms(50));
  EXPECT_EQ(e.rto(), Ms(300));
  // §2.3 with R' = 200 ms:
  //   RTTVAR = 3/4*50 + 1/4*|100-200| = 62.5 ms (old SRTT used)
  //   SRTT   = 7/8*100 + 1/8*200      = 112.5 ms
  //   RTO    = 112.5 + 4*62.5          = 362.5 ms
  ASSERT_TRUE(e.AddSample(Ms(200), RttSampleKind::kTimedSegment));
  EXPECT_EQ(e.rttvar(), Us(62500));
  EXPECT_EQ(e.srtt(), Us(112500));
  EXPECT_EQ(e.rto(), Us(362500));
}

TEST(RttEstimatorTest, MinRtoFloor) {
  RttEstimator e;
  e.AddSample(Ms(1), RttSampleKind::kTimedSegment);  // 1 + 2 = 3 ms raw
  EXPECT_EQ(e.rto(), Ms(200));
}

TEST(RttEstimatorTest, GranularityBoundsTheVarianceTerm) {
  RttEstimator::Config c;
  c.min_rto = Ms(1);
  c.granularity = Ms(10);
  RttEstimator e(c);
  e.AddSample(Ms(5), RttSampleKind::kTimedSegment);
  EXPECT_EQ(e.rto(), Ms(15));  // 5 + max(10, 4*2.5)
  for (int i = 0; i < 20; ++i) e.AddSample(Ms(5), RttSampleKind::kTimedSegment);
  EXPECT_LT(e.rttvar(), Ms(1));  // 2.5 * (3/4)^20
  EXPECT_EQ(e.rto(), Ms(15));    // G, not 4*RTTVAR, is the margin

  c.granularity = Ms(1);
  RttEstimator fine(c);
  fine.AddSample(Ms(5), RttSampleKind::kTimedSegment);
  fine.AddSample(Ms(5), RttSampleKind::kTimedSegment);
  // RTTVAR = 3/4*2.5 = 1.875 ms; RTO = 5 + 7.5 = 12.5 ms.
  EXPECT_EQ(fine.rto(), Us(12500));
}

TEST(RttEstimatorTest, MaxRtoCap) {
  RttEstimator e;
  e.AddSample(Duration::Seconds(50), RttSampleKind::kTimedSegment);  // 150 s raw
  EXPECT_EQ(e.rto(), Duration::Seconds(60));
}

TEST(RttEstimatorTest, HugeSampleDoesNotOverflow) {
  RttEstimator e;
  EXPECT_TRUE(e.AddSample(Duration::Infinite(), RttSampleKind::kTimedSegment));
  EXPECT_EQ(e.rto(), Duration::Seconds(60));
  EXPECT_TRUE(e.AddSample(Ms(1), RttSampleKind::kTimedSegment));
  EXPECT_EQ(e.rto(), Duration::Seconds(60));
}

TEST(RttEstimatorTest, NegativeSampleIgnored) {
  RttEstimator e;
  EXPECT_FALSE(e.AddSample(Ms(-1), RttSampleKind::kTimedSegment));
  EXPECT_FALSE(e.has_estimate());
  EXPECT_EQ(e.rto(), Duration::Seconds(1));
}

TEST(RttEstimatorTest, ExponentialBackoffCappedAtMaxRto) {
  RttEstimator e;
  e.AddSample(Ms(100), RttSampleKind::kTimedSegment);  // 300 ms
  Duration expected = Ms(300);
  for (int i = 1; i <= 8; ++i) {
    e.OnRetransmitTimeout();  // §5.5
    expected = expected * 2;
    EXPECT_EQ(e.rto(), std::min(expected, Duration::Seconds(60))) << i;
  }
  // 300 ms * 2^8 = 76.8 s: already capped; further doublings stay at 60 s.
  for (int i = 0; i < 30; ++i) e.OnRetransmitTimeout();
  EXPECT_EQ(e.backoff(), RttEstimator::kMaxBackoffShift);
  EXPECT_EQ(e.rto(), Duration::Seconds(60));
}

TEST(RttEstimatorTest, KarnDiscardsRetransmittedSampleAndKeepsBackoff) {
  RttEstimator e;
  e.AddSample(Ms(100), RttSampleKind::kTimedSegment);
  e.OnRetransmitTimeout();
  e.OnRetransmitTimeout();
  ASSERT_EQ(e.rto(), Ms(1200));
  EXPECT_FALSE(e.AddSample(Ms(10), RttSampleKind::kRetransmittedSegment));
  EXPECT_EQ(e.srtt(), Ms(100));
  EXPECT_EQ(e.backoff(), 2);
  EXPECT_EQ(e.rto(), Ms(1200));  // backed-off RTO retained (Karn)
  // A valid sample resets the backoff.
  EXPECT_TRUE(e.AddSample(Ms(100), RttSampleKind::kTimedSegment));
  EXPECT_EQ(e.backoff(), 0);
  // RTTVAR = 3/4*50 = 37.5, SRTT = 100, RTO = 250 ms.
  EXPECT_EQ(e.rto(), Ms(250));
}

TEST(RttEstimatorTest, TimestampSampleValidAfterRetransmission) {
  RttEstimator e;
  e.AddSample(Ms(100), RttSampleKind::kTimedSegment);
  e.OnRetransmitTimeout();
  EXPECT_TRUE(e.AddSample(Ms(100), RttSampleKind::kTimestampEcho));
  EXPECT_EQ(e.backoff(), 0);
  EXPECT_EQ(e.rto(), Ms(250));
}

TEST(RttEstimatorTest, EstimateDiscardedAfterRepeatedBackoff) {
  // RFC 6298 §5 MAY: after kBackoffsBeforeDiscardingEstimate timeouts the
  // next sample initialises SRTT/RTTVAR afresh (§2.2).
  RttEstimator e;
  e.AddSample(Ms(100), RttSampleKind::kTimedSegment);
  for (int i = 0; i < RttEstimator::kBackoffsBeforeDiscardingEstimate; ++i)
    e.OnRetransmitTimeout();
  EXPECT_FALSE(e.has_estimate());
  EXPECT_EQ(e.rto(), Ms(300) * 16);  // the timer itself keeps backing off
  e.AddSample(Ms(40), RttSampleKind::kTimestampEcho);
  EXPECT_EQ(e.srtt(), Ms(40));
  EXPECT_EQ(e.rttvar(), Ms(20));
  EXPECT_EQ(e.rto(), Ms(200));  // 40 + 80 = 120, floored

  // One timeout fewer: the old estimate is still smoothed in.
  RttEstimator f;
  f.AddSample(Ms(100), RttSampleKind::kTimedSegment);
  for (int i = 0; i < RttEstimator::kBackoffsBeforeDiscardingEstimate - 1; ++i)
    f.OnRetransmitTimeout();
  EXPECT_TRUE(f.has_estimate());
  f.AddSample(Ms(40), RttSampleKind::kTimestampEcho);
  // RTTVAR = 37.5 + 15 = 52.5; SRTT = 87.5 + 5 = 92.5; RTO = 302.5 ms.
  EXPECT_EQ(f.srtt(), Us(92500));
  EXPECT_EQ(f.rto(), Us(302500));
}

TEST(RttEstimatorTest, PerAckSamplingScalesGains) {
  // RFC 7323 Appendix G with ExpectedSamples = 4.
  RttEstimator e;
  e.AddSample(Ms(100), RttSampleKind::kTimestampEcho);
  e.AddSample(Ms(200), RttSampleKind::kTimestampEcho, 4);
  // RTTVAR = 50 + (100 - 50)/16 = 53.125; SRTT = 100 + 100/32 = 103.125.
  EXPECT_EQ(e.rttvar(), Us(53125));
  EXPECT_EQ(e.srtt(), Us(103125));
  EXPECT_EQ(e.rto(), Us(103125 + 4 * 53125));
  // 0 behaves as 1.
  RttEstimator f;
  f.AddSample(Ms(100), RttSampleKind::kTimestampEcho);
  f.AddSample(Ms(200), RttSampleKind::kTimestampEcho, 0);
  EXPECT_EQ(f.srtt(), Us(112500));
}

TEST(RttEstimatorTest, SynTimeoutFallback) {
  RttEstimator e;
  e.OnRetransmitTimeout();  // SYN timed out
  e.ApplySynTimeoutFallback();
  EXPECT_EQ(e.backoff(), 0);
  EXPECT_EQ(e.rto(), Duration::Seconds(3));  // RFC 6298 §5.7

  RttEstimator sampled;
  sampled.AddSample(Ms(100), RttSampleKind::kTimestampEcho);
  sampled.ApplySynTimeoutFallback();
  EXPECT_EQ(sampled.rto(), Ms(300));
}

TEST(RttEstimatorTest, ConfigValidationAtLimit) {
  RttEstimator::Config c;
  EXPECT_TRUE(c.IsValid());
  c.max_rto = RttEstimator::kMaxConfigRto;
  EXPECT_TRUE(c.IsValid());
  c.max_rto = RttEstimator::kMaxConfigRto + Duration::Micros(1);
  EXPECT_FALSE(c.IsValid());

  RttEstimator::Config bad;
  bad.granularity = Duration::Zero();
  EXPECT_FALSE(bad.IsValid());
  bad = {};
  bad.min_rto = Duration::Seconds(2);  // above initial_rto
  EXPECT_FALSE(bad.IsValid());
}

TEST(RttEstimatorTest, InvalidConfigIsClamped) {
  RttEstimator::Config c;
  c.min_rto = Duration::Seconds(2);
  c.max_rto = Duration::Seconds(1);
  c.initial_rto = Ms(10);
  RttEstimator e(c);
  EXPECT_EQ(e.rto(), Duration::Seconds(2));  // max raised to min
  e.OnRetransmitTimeout();
  EXPECT_EQ(e.rto(), Duration::Seconds(2));
}

}  // namespace
}  // namespace locus::tcp
