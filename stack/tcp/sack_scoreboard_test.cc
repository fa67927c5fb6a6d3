// Packet-level scenarios for the RFC 6675 scoreboard. Offsets are relative
// to a base sequence number; every scenario runs at several bases,
// including ones where the window straddles 2^32 and 2^31.
#include "stack/tcp/sack_scoreboard.h"

#include <algorithm>
#include <cstdio>
#include <initializer_list>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace locus::tcp {
namespace {

using wire::SeqNum;
using Rule = SackScoreboard::Segment::Rule;
using State = SackScoreboard::State;

constexpr uint32_t kMss = 1000;

static_assert(sizeof(SackScoreboard) <= 96);

class ScoreboardTest : public ::testing::TestWithParam<uint32_t> {
 protected:
  ScoreboardTest() : sb_(Seq(0), kMss) {}

  SeqNum Seq(int64_t offset) const {
    return SeqNum(GetParam()) + static_cast<uint32_t>(offset);
  }
  SackRange Blk(int64_t start, int64_t end) const { return {Seq(start), Seq(end)}; }

  // An ACK with cumulative field `ack` and the given blocks, with
  // `snd_nxt` (offset) as the highest sequence number sent + 1.
  SackScoreboard::AckResult Ack(int64_t ack, std::initializer_list<SackRange> blocks) {
    std::vector<SackRange> v(blocks);
    return sb_.OnAck(Seq(ack), Seq(snd_nxt_), v);
  }

  // The scoreboard's ranges as offsets.
  std::vector<std::pair<int64_t, int64_t>> Ranges() const {
    std::vector<std::pair<int64_t, int64_t>> out;
    for (const SackRange& b : sb_.ranges()) {
      out.emplace_back(b.start - Seq(0), b.end - Seq(0));
    }
    return out;
  }

  void ExpectSeg(const SackScoreboard::Segment& s, Rule rule, int64_t start, uint32_t len) {
    EXPECT_EQ(s.rule, rule);
    EXPECT_EQ(s.start, Seq(start)) << "start offset " << (s.start - Seq(0));
    EXPECT_EQ(s.length, len);
  }

  SackScoreboard::Segment Next(bool can_send_new) const {
    return sb_.NextSeg(Seq(snd_nxt_), can_send_new);
  }

  SackScoreboard sb_;
  int64_t snd_nxt_ = 10000;  // ten segments outstanding unless changed
};

using R = std::vector<std::pair<int64_t, int64_t>>;

TEST_P(ScoreboardTest, CumulativeAckWithoutSack) {
  auto r = Ack(1000, {});
  EXPECT_EQ(r.acked_bytes, 1000u);
  EXPECT_FALSE(r.dup_ack);
  EXPECT_EQ(sb_.snd_una(), Seq(1000));
  EXPECT_EQ(sb_.pipe(), 9000u);  // nothing lost, nothing SACKed
  EXPECT_FALSE(sb_.ShouldEnterRecovery());
}

TEST_P(ScoreboardTest, SingleLossEntersOnThirdDupAck) {
  // Segment 0 lost, 1..3 arrive.
  auto r = Ack(0, {Blk(1000, 2000)});
  EXPECT_TRUE(r.dup_ack);
  EXPECT_EQ(r.newly_sacked_bytes, 1000u);
  EXPECT_FALSE(sb_.IsLost(Seq(0)));  // 1000 SACKed above, not > 2*SMSS
  EXPECT_FALSE(sb_.ShouldEnterRecovery());
  Ack(0, {Blk(1000, 3000)});
  EXPECT_EQ(sb_.dup_acks(), 2u);
  EXPECT_FALSE(sb_.IsLost(Seq(0)));  // exactly 2*SMSS: not "more than"
  EXPECT_FALSE(sb_.ShouldEnterRecovery());
  // The same block again is not a duplicate ACK under RFC 6675 §2.
  r = Ack(0, {Blk(1000, 3000)});
  EXPECT_FALSE(r.dup_ack);
  EXPECT_EQ(sb_.dup_acks(), 2u);
  Ack(0, {Blk(1000, 4000)});
  EXPECT_EQ(sb_.dup_acks(), 3u);
  EXPECT_TRUE(sb_.IsLost(Seq(0)));
  EXPECT_TRUE(sb_.ShouldEnterRecovery());
  EXPECT_EQ(Ranges(), (R{{1000, 4000}}));

  auto seg = sb_.EnterRecovery(Seq(snd_nxt_));
  ExpectSeg(seg, Rule::kFastRetransmit, 0, 1000);
  EXPECT_EQ(sb_.state(), State::kFastRecovery);
  EXPECT_EQ(sb_.recovery_point(), Seq(10000));
  EXPECT_EQ(sb_.high_rxt(), Seq(1000));
  EXPECT_EQ(sb_.rescue_rxt(), Seq(1000));
  // pipe: hole [0,1000) lost but retransmitted (+1000); [4000,10000) not
  // lost (+6000).
  EXPECT_EQ(sb_.pipe(), 7000u);
  EXPECT_FALSE(sb_.ShouldEnterRecovery());  // already in recovery

  // Rule 1 finds nothing (the only hole is retransmitted): rule 2.
  ExpectSeg(Next(true), Rule::kNewData, 10000, 1000);
  // No new data: rules 3 and 4 find nothing either (HighACK <= RescueRxt).
  EXPECT_TRUE(Next(false).empty());

  // Full ACK ends recovery (§5 step A).
  r = Ack(10000, {});
  EXPECT_TRUE(r.fast_recovery_ended);
  EXPECT_EQ(r.acked_bytes, 10000u);
  EXPECT_EQ(sb_.state(), State::kOpen);
  EXPECT_TRUE(sb_.ranges().empty());
  EXPECT_EQ(sb_.pipe(), 0u);
  EXPECT_EQ(sb_.dup_acks(), 0u);
}

TEST_P(ScoreboardTest, ThreeHolesRetransmittedInOrderThenRescue) {
  // Segments 0, 2 and 5 lost. One ACK reports three blocks, most recent
  // first (RFC 2018 §4).
  auto r = Ack(0, {Blk(6000, 10000), Blk(3000, 5000), Blk(1000, 2000)});
  EXPECT_EQ(r.newly_sacked_bytes, 7000u);
  EXPECT_EQ(sb_.dup_acks(), 1u);
  EXPECT_EQ(Ranges(), (R{{1000, 2000}, {3000, 5000}, {6000, 10000}}));
  // IsLost per hole: [0,1000) has 3 ranges above; [2000,3000) 6000 bytes;
  // [5000,6000) 4000 bytes. All lost.
  EXPECT_TRUE(sb_.IsLost(Seq(0)));
  EXPECT_TRUE(sb_.IsLost(Seq(2500)));
  EXPECT_TRUE(sb_.IsLost(Seq(5999)));
  EXPECT_FALSE(sb_.IsLost(Seq(1500)));  // SACKed
  EXPECT_TRUE(sb_.ShouldEnterRecovery());  // via IsLost(SND.UNA), 1 dup ACK
  EXPECT_EQ(sb_.pipe(), 0u);               // everything unSACKed is lost

  ExpectSeg(sb_.EnterRecovery(Seq(snd_nxt_)), Rule::kFastRetransmit, 0, 1000);
  EXPECT_EQ(sb_.pipe(), 1000u);
  auto seg = Next(false);
  ExpectSeg(seg, Rule::kLost, 2000, 1000);
  sb_.OnSegmentSent(seg);
  EXPECT_EQ(sb_.high_rxt(), Seq(3000));
  EXPECT_EQ(sb_.pipe(), 2000u);
  seg = Next(true);  // rule 1 still beats new data
  ExpectSeg(seg, Rule::kLost, 5000, 1000);
  sb_.OnSegmentSent(seg);
  EXPECT_EQ(sb_.pipe(), 3000u);
  EXPECT_EQ(sb_.SetPipe(Seq(snd_nxt_)), 3000u);  // incremental == recomputed
  EXPECT_TRUE(Next(false).empty());

  // Partial ACK: the retransmission of segment 0 arrived.
  r = Ack(2000, {Blk(3000, 5000), Blk(6000, 10000)});
  EXPECT_EQ(r.acked_bytes, 2000u);
  EXPECT_EQ(r.newly_sacked_bytes, 0u);
  EXPECT_FALSE(r.dup_ack);
  EXPECT_FALSE(r.fast_recovery_ended);
  EXPECT_EQ(Ranges(), (R{{3000, 5000}, {6000, 10000}}));
  EXPECT_EQ(sb_.pipe(), 2000u);  // two retransmissions in flight
  // Rule 4: HighACK is now above RescueRxt; the highest unSACKed octet is
  // 5999, so the rescue segment is [5000, 6000).
  seg = Next(false);
  ExpectSeg(seg, Rule::kRescue, 5000, 1000);
  sb_.OnSegmentSent(seg);
  EXPECT_EQ(sb_.rescue_rxt(), Seq(10000));  // RescueRxt = RecoveryPoint
  EXPECT_EQ(sb_.high_rxt(), Seq(6000));     // unchanged by rule 4
  EXPECT_TRUE(Next(false).empty());         // one rescue per recovery

  r = Ack(10000, {});
  EXPECT_TRUE(r.fast_recovery_ended);
  EXPECT_FALSE(sb_.in_recovery());
}

TEST_P(ScoreboardTest, IsLostThresholds) {
  snd_nxt_ = 20000;
  // Byte rule: more than (DupThresh - 1) * SMSS = 2000 octets above.
  Ack(0, {Blk(1000, 3000)});
  EXPECT_FALSE(sb_.IsLost(Seq(0)));
  Ack(0, {Blk(1000, 3001)});
  EXPECT_TRUE(sb_.IsLost(Seq(0)));
  EXPECT_FALSE(sb_.IsLost(Seq(3001)));  // nothing SACKed above

  // Range rule: DupThresh discontiguous ranges, however small.
  SackScoreboard small(Seq(0), kMss);
  const std::vector<SackRange> two = {Blk(100, 101), Blk(200, 201)};
  small.OnAck(Seq(0), Seq(snd_nxt_), two);
  EXPECT_FALSE(small.IsLost(Seq(0)));
  const std::vector<SackRange> third = {Blk(300, 301)};
  small.OnAck(Seq(0), Seq(snd_nxt_), third);
  EXPECT_TRUE(small.IsLost(Seq(0)));
  EXPECT_TRUE(small.IsLost(Seq(99)));
  EXPECT_FALSE(small.IsLost(Seq(101)));  // only two ranges above
  EXPECT_FALSE(small.IsLost(Seq(200)));  // SACKed
}

TEST_P(ScoreboardTest, DupAckCountAloneTriggersEntry) {
  // Small segments: three ACKs each SACK 100 new octets; never more than
  // 2*SMSS SACKed, one range only. DupAcks >= DupThresh still enters (§5).
  Ack(0, {Blk(1000, 1100)});
  Ack(0, {Blk(1000, 1200)});
  EXPECT_FALSE(sb_.ShouldEnterRecovery());
  Ack(0, {Blk(1000, 1300)});
  EXPECT_FALSE(sb_.IsLost(Seq(0)));
  EXPECT_TRUE(sb_.ShouldEnterRecovery());
  // A cumulative ACK that also SACKs new data counts as one dup ACK.
  auto r = Ack(500, {Blk(1000, 1400)});
  EXPECT_TRUE(r.dup_ack);
  EXPECT_EQ(sb_.dup_acks(), 1u);
}

TEST_P(ScoreboardTest, Rule3RetransmitsHoleNotYetLost) {
  snd_nxt_ = 5000;
  // Holes [0,1000) and [2000,3000); SACKed [1000,2000) and [3000,3500):
  // 1500 octets and 2 ranges above the first hole, so nothing IsLost, but
  // three dup ACKs start recovery.
  Ack(0, {Blk(1000, 2000)});
  Ack(0, {Blk(3000, 3200), Blk(1000, 2000)});
  Ack(0, {Blk(3000, 3500), Blk(1000, 2000)});
  EXPECT_FALSE(sb_.IsLost(Seq(0)));
  ASSERT_TRUE(sb_.ShouldEnterRecovery());
  ExpectSeg(sb_.EnterRecovery(Seq(snd_nxt_)), Rule::kFastRetransmit, 0, 1000);
  // pipe: [0,1000) not lost (+1000) and retransmitted (+1000);
  // [2000,3000) not lost (+1000); [3500,5000) not lost (+1500).
  EXPECT_EQ(sb_.pipe(), 4500u);
  ExpectSeg(Next(true), Rule::kNewData, 5000, 1000);  // rule 2 before 3
  auto seg = Next(false);
  ExpectSeg(seg, Rule::kNotLost, 2000, 1000);
  sb_.OnSegmentSent(seg);
  EXPECT_EQ(sb_.high_rxt(), Seq(3000));
  EXPECT_EQ(sb_.pipe(), 5500u);
  EXPECT_EQ(sb_.SetPipe(Seq(snd_nxt_)), 5500u);
}

TEST_P(ScoreboardTest, RescueRetransmissionForTailLoss) {
  snd_nxt_ = 5000;
  // Segments 0 and 4 (the tail) lost, no new data to send.
  Ack(0, {Blk(1000, 4000)});
  ASSERT_TRUE(sb_.ShouldEnterRecovery());
  sb_.EnterRecovery(Seq(snd_nxt_));
  EXPECT_TRUE(Next(false).empty());  // HighACK not yet above RescueRxt
  Ack(4000, {});                     // the retransmission arrived
  EXPECT_EQ(sb_.pipe(), 1000u);      // tail not lost: nothing SACKed above
  auto seg = Next(false);
  ExpectSeg(seg, Rule::kRescue, 4000, 1000);
  sb_.OnSegmentSent(seg);
  EXPECT_EQ(sb_.pipe(), 2000u);
  EXPECT_TRUE(Next(false).empty());
  EXPECT_TRUE(Ack(5000, {}).fast_recovery_ended);
}

TEST_P(ScoreboardTest, SegmentsNeverCrossIntoSackedData) {
  snd_nxt_ = 8000;
  // Hole [0,500) and hole [1000,3500): SACKed [500,1000), [3500,8000).
  Ack(0, {Blk(3500, 8000), Blk(500, 1000)});
  ExpectSeg(sb_.EnterRecovery(Seq(snd_nxt_)), Rule::kFastRetransmit, 0, 500);
  auto seg = Next(false);
  ExpectSeg(seg, Rule::kLost, 1000, 1000);
  sb_.OnSegmentSent(seg);
  seg = Next(false);
  ExpectSeg(seg, Rule::kLost, 2000, 1000);
  sb_.OnSegmentSent(seg);
  seg = Next(false);
  ExpectSeg(seg, Rule::kLost, 3000, 500);
  sb_.OnSegmentSent(seg);
  EXPECT_TRUE(Next(false).empty());
}

TEST_P(ScoreboardTest, OutOfWindowAndMalformedBlocksIgnored) {
  Ack(2000, {});  // SND.UNA = 2000, SND.NXT = 10000
  auto r = Ack(2000, {Blk(3000, 4000),    // valid
                      Blk(1000, 1500),    // below SND.UNA (not first: no D-SACK)
                      Blk(9500, 10500),   // beyond SND.NXT
                      Blk(5000, 5000)});  // empty
  EXPECT_EQ(r.invalid_blocks, 3u);
  EXPECT_FALSE(r.dsack);
  EXPECT_EQ(r.newly_sacked_bytes, 1000u);
  r = Ack(2000, {Blk(4000, 5000), Blk(1500, 2500),  // straddles SND.UNA
                 Blk(6000, 5000)});                 // reversed
  EXPECT_EQ(r.invalid_blocks, 2u);
  EXPECT_EQ(Ranges(), (R{{3000, 5000}}));
  // Exactly up to SND.NXT is valid.
  r = Ack(2000, {Blk(9000, 10000)});
  EXPECT_EQ(r.invalid_blocks, 0u);
  EXPECT_EQ(Ranges(), (R{{3000, 5000}, {9000, 10000}}));
  // Blocks far away (more than 2^31 ahead reads as behind) are rejected.
  r = Ack(2000, {Blk(3000, 3500), Blk(0x90000000, 0x90001000)});
  EXPECT_EQ(r.invalid_blocks, 1u);
  // An ACK of unsent data is ignored, blocks included.
  const uint32_t dup_acks = sb_.dup_acks();
  r = Ack(11000, {Blk(7000, 8000)});
  EXPECT_TRUE(r.ack_ignored);
  EXPECT_EQ(sb_.snd_una(), Seq(2000));
  EXPECT_EQ(sb_.dup_acks(), dup_acks);
  EXPECT_EQ(Ranges(), (R{{3000, 5000}, {9000, 10000}}));
}

TEST_P(ScoreboardTest, OldReorderedAckStillContributesBlocks) {
  Ack(3000, {});
  auto r = Ack(1000, {Blk(5000, 6000)});  // sent before the ACK of 3000
  EXPECT_EQ(r.acked_bytes, 0u);
  EXPECT_EQ(sb_.snd_una(), Seq(3000));
  EXPECT_EQ(r.newly_sacked_bytes, 1000u);
  EXPECT_TRUE(r.dup_ack);
}

TEST_P(ScoreboardTest, DsackReportedNotRecorded) {
  Ack(2000, {});
  // RFC 2883: first block below the cumulative ACK.
  auto r = Ack(2000, {Blk(1000, 2000), Blk(4000, 5000)});
  EXPECT_TRUE(r.dsack);
  EXPECT_EQ(r.invalid_blocks, 0u);
  EXPECT_EQ(Ranges(), (R{{4000, 5000}}));
  // First block inside the second.
  r = Ack(2000, {Blk(4000, 4500), Blk(4000, 6000)});
  EXPECT_TRUE(r.dsack);
  EXPECT_EQ(r.newly_sacked_bytes, 1000u);
  EXPECT_EQ(Ranges(), (R{{4000, 6000}}));
  r = Ack(2000, {Blk(7000, 8000), Blk(4000, 6000)});
  EXPECT_FALSE(r.dsack);
}

TEST_P(ScoreboardTest, RangeLimitAndLimitPlusOne) {
  snd_nxt_ = 100000;
  static_assert(SackScoreboard::kMaxRanges == 8);
  // Eight disjoint ranges, at 10k, 20k, ... 80k, four blocks per ACK.
  auto r = Ack(0, {Blk(40000, 41000), Blk(30000, 31000), Blk(20000, 21000),
                   Blk(10000, 11000)});
  EXPECT_EQ(r.dropped_ranges, 0u);
  r = Ack(0, {Blk(80000, 81000), Blk(70000, 71000), Blk(60000, 61000),
              Blk(50000, 51000)});
  EXPECT_EQ(r.dropped_ranges, 0u);
  EXPECT_EQ(sb_.ranges().size(), SackScoreboard::kMaxRanges);
  EXPECT_EQ(sb_.sacked_bytes(), 8000u);

  // A ninth range above all the others is not remembered.
  r = Ack(0, {Blk(90000, 91000)});
  EXPECT_EQ(r.dropped_ranges, 1u);
  EXPECT_EQ(r.newly_sacked_bytes, 0u);
  EXPECT_FALSE(sb_.IsSacked(Seq(90000)));
  EXPECT_EQ(sb_.ranges().size(), SackScoreboard::kMaxRanges);

  // A ninth range lower down evicts the highest one.
  r = Ack(0, {Blk(5000, 6000)});
  EXPECT_EQ(r.dropped_ranges, 1u);
  EXPECT_EQ(r.newly_sacked_bytes, 1000u);
  EXPECT_EQ(sb_.ranges().size(), SackScoreboard::kMaxRanges);
  EXPECT_TRUE(sb_.IsSacked(Seq(5000)));
  EXPECT_FALSE(sb_.IsSacked(Seq(80000)));  // forgotten: now unSACKed (safe)
  EXPECT_EQ(sb_.ranges().front().start, Seq(5000));
  EXPECT_EQ(sb_.ranges().back().start, Seq(70000));

  // A block that extends existing ranges needs no slot.
  r = Ack(0, {Blk(11000, 20000)});
  EXPECT_EQ(r.dropped_ranges, 0u);
  EXPECT_EQ(r.newly_sacked_bytes, 9000u);
  EXPECT_EQ(sb_.ranges().size(), SackScoreboard::kMaxRanges - 1);
  EXPECT_EQ(sb_.ranges()[1].start, Seq(10000));
  EXPECT_EQ(sb_.ranges()[1].end, Seq(21000));
}

TEST_P(ScoreboardTest, BlocksPerAckLimitAndLimitPlusOne) {
  snd_nxt_ = 100000;
  std::vector<SackRange> four = {Blk(1000, 2000), Blk(3000, 4000), Blk(5000, 6000),
                                 Blk(7000, 8000)};
  auto r = sb_.OnAck(Seq(0), Seq(snd_nxt_), four);
  EXPECT_EQ(r.invalid_blocks, 0u);
  EXPECT_EQ(sb_.ranges().size(), 4u);
  std::vector<SackRange> five = {Blk(11000, 12000), Blk(13000, 14000), Blk(15000, 16000),
                                 Blk(17000, 18000), Blk(19000, 20000)};
  r = sb_.OnAck(Seq(0), Seq(snd_nxt_), five);
  EXPECT_EQ(r.invalid_blocks, 1u);
  EXPECT_EQ(sb_.ranges().size(), 8u);
  EXPECT_FALSE(sb_.IsSacked(Seq(19000)));
}

TEST_P(ScoreboardTest, MergesOverlappingAndAdjacentBlocks) {
  auto r = Ack(0, {Blk(2000, 3000), Blk(4000, 5000)});
  EXPECT_EQ(r.newly_sacked_bytes, 2000u);
  r = Ack(0, {Blk(3000, 4000)});  // touches both: one range
  EXPECT_EQ(r.newly_sacked_bytes, 1000u);
  EXPECT_EQ(Ranges(), (R{{2000, 5000}}));
  r = Ack(0, {Blk(1500, 5500)});  // covers it with 1000 new octets
  EXPECT_EQ(r.newly_sacked_bytes, 1000u);
  EXPECT_EQ(Ranges(), (R{{1500, 5500}}));
}

TEST_P(ScoreboardTest, CumulativeAckDropsAndTrimsCoveredState) {
  Ack(0, {Blk(2000, 4000), Blk(5000, 6000), Blk(7000, 9000)});
  // Moves past the first range into the hole above it.
  auto r = Ack(4500, {Blk(5000, 6000), Blk(7000, 9000)});
  EXPECT_EQ(Ranges(), (R{{5000, 6000}, {7000, 9000}}));
  EXPECT_FALSE(r.reneging);
  // Jumps past everything.
  r = Ack(9500, {});
  EXPECT_TRUE(sb_.ranges().empty());
  EXPECT_FALSE(r.reneging);
  EXPECT_EQ(sb_.pipe(), 500u);
}

TEST_P(ScoreboardTest, RenegingDetectedWhenAckStopsAtSackedData) {
  // RFC 2018 §8: the receiver may discard SACKed data; SACK is advisory and
  // the sender keeps everything until cumulatively acknowledged.
  Ack(0, {Blk(3000, 5000)});
  // The receiver reneges and stops reporting the block; the scoreboard
  // keeps it (nothing contradicts it yet).
  auto r = Ack(1000, {});
  EXPECT_FALSE(r.reneging);
  EXPECT_EQ(Ranges(), (R{{3000, 5000}}));
  // A timeout now keeps SACK state: the RTO retransmission is at SND.UNA
  // and the "filling in" skips [3000,5000).
  auto seg = sb_.OnRetransmitTimeout(Seq(snd_nxt_));
  ExpectSeg(seg, Rule::kRtoRetransmit, 1000, 1000);
  seg = Next(false);
  ExpectSeg(seg, Rule::kRtoRetransmit, 2000, 1000);
  sb_.OnSegmentSent(seg);
  seg = Next(false);
  ExpectSeg(seg, Rule::kRtoRetransmit, 5000, 1000);
  // The cumulative ACK stops exactly at the left edge of SACKed data: the
  // receiver does not have it after all.
  r = Ack(3000, {});
  EXPECT_TRUE(r.reneging);
  EXPECT_TRUE(sb_.reneging_suspected());
  EXPECT_EQ(Ranges(), (R{{3000, 5000}}));  // not freed, only distrusted
  // The next timeout forgets all SACK state and resends SND.UNA.
  seg = sb_.OnRetransmitTimeout(Seq(snd_nxt_));
  ExpectSeg(seg, Rule::kRtoRetransmit, 3000, 1000);
  EXPECT_TRUE(sb_.ranges().empty());
  EXPECT_FALSE(sb_.reneging_suspected());
  ExpectSeg(Next(false), Rule::kRtoRetransmit, 4000, 1000);
}

TEST_P(ScoreboardTest, AckInsideSackedRangeIsReneging) {
  Ack(0, {Blk(3000, 5000)});
  auto r = Ack(4000, {});  // the receiver kept only part of the block
  EXPECT_TRUE(r.reneging);
  EXPECT_EQ(Ranges(), (R{{4000, 5000}}));
  // Once the suspicious range is cumulatively acknowledged the flag clears.
  r = Ack(6000, {});
  EXPECT_FALSE(r.reneging);
  EXPECT_FALSE(sb_.reneging_suspected());
}

TEST_P(ScoreboardTest, RetransmitTimeoutDuringRecovery) {
  Ack(0, {Blk(6000, 10000), Blk(3000, 5000), Blk(1000, 2000)});
  sb_.EnterRecovery(Seq(snd_nxt_));
  sb_.OnSegmentSent(Next(false));  // [2000,3000)
  snd_nxt_ = 12000;                // two new segments sent meanwhile
  EXPECT_EQ(sb_.SetPipe(Seq(snd_nxt_)), 2000u + 2000u);

  // §5.1: recovery ends, RecoveryPoint = HighData, SACK state kept, all
  // unSACKed data below it lost and none retransmitted.
  auto seg = sb_.OnRetransmitTimeout(Seq(snd_nxt_));
  ExpectSeg(seg, Rule::kRtoRetransmit, 0, 1000);
  EXPECT_EQ(sb_.state(), State::kRtoRecovery);
  EXPECT_EQ(sb_.recovery_point(), Seq(12000));
  EXPECT_EQ(Ranges(), (R{{1000, 2000}, {3000, 5000}, {6000, 10000}}));
  EXPECT_TRUE(sb_.IsLost(Seq(11000)));  // below RecoveryPoint, nothing above
  EXPECT_EQ(sb_.pipe(), 1000u);         // only the RTO retransmission

  // Filling in: holes from the lowest, each once, then new data.
  for (int64_t expected : {2000, 5000, 10000, 11000}) {
    seg = Next(true);
    ExpectSeg(seg, Rule::kRtoRetransmit, expected, 1000);
    sb_.OnSegmentSent(seg);
  }
  ExpectSeg(Next(true), Rule::kNewData, 12000, 1000);
  EXPECT_TRUE(Next(false).empty());
  EXPECT_EQ(sb_.pipe(), 5000u);

  // Dup ACKs do not start fast recovery before RecoveryPoint is acked
  // (§5.1), even though IsLost(SND.UNA) holds.
  snd_nxt_ = 13000;  // the new segment went out
  auto r = Ack(2000, {Blk(12500, 13000), Blk(3000, 5000)});
  EXPECT_TRUE(r.dup_ack);
  Ack(2000, {Blk(12450, 13000), Blk(3000, 5000)});
  Ack(2000, {Blk(12400, 13000), Blk(3000, 5000)});
  EXPECT_EQ(sb_.dup_acks(), 3u);
  EXPECT_TRUE(sb_.IsLost(Seq(2000)));
  EXPECT_FALSE(sb_.ShouldEnterRecovery());
  r = Ack(12000, {Blk(12400, 13000)});
  EXPECT_TRUE(r.rto_recovery_ended);
  EXPECT_FALSE(r.fast_recovery_ended);
  EXPECT_FALSE(r.reneging);
  EXPECT_EQ(sb_.state(), State::kOpen);
  EXPECT_EQ(Ranges(), (R{{12400, 13000}}));
}

TEST_P(ScoreboardTest, TimeoutWithNothingOutstanding) {
  Ack(10000, {});
  auto seg = sb_.OnRetransmitTimeout(Seq(snd_nxt_));
  EXPECT_TRUE(seg.empty());
  EXPECT_EQ(sb_.pipe(), 0u);
  EXPECT_TRUE(sb_.EnterRecovery(Seq(snd_nxt_)).empty());
}

TEST_P(ScoreboardTest, ResetForgetsEverything) {
  Ack(0, {Blk(1000, 4000)});
  sb_.EnterRecovery(Seq(snd_nxt_));
  sb_.Reset(Seq(5000), kMss);
  EXPECT_EQ(sb_.state(), State::kOpen);
  EXPECT_TRUE(sb_.ranges().empty());
  EXPECT_EQ(sb_.snd_una(), Seq(5000));
  EXPECT_EQ(sb_.dup_acks(), 0u);
  EXPECT_EQ(sb_.pipe(), 0u);
}

// Differential test: random ACKs, blocks (valid and not), recoveries and
// timeouts, checked against a per-octet reading of RFC 6675 §4: IsLost()
// and SetPipe() octet by octet, NextSeg() rules by exhaustive search, and
// the scoreboard's SACKed set against what the peer validly reported.
class ScoreboardOracleTest : public ScoreboardTest {
 protected:
  static constexpr uint32_t kSmallMss = 100;
  static constexpr int64_t kTotal = 60000;  // bytes sent over the whole run

  // Octet-indexed SACKed flags for [una, nxt) from the scoreboard's ranges.
  std::vector<bool> SackedFromRanges(int64_t una, int64_t nxt) const {
    std::vector<bool> v(static_cast<size_t>(nxt - una), false);
    for (const SackRange& b : sb_.ranges()) {
      for (int64_t o = b.start - Seq(una); o < b.end - Seq(una); ++o) v[o] = true;
    }
    return v;
  }

  // RFC 6675 IsLost() for every octet of the window, from the SACKed set.
  std::vector<bool> LostOracle(const std::vector<bool>& sacked, int64_t una) const {
    const size_t n = sacked.size();
    std::vector<bool> lost(n, false);
    uint64_t bytes_above = 0, runs_above = 0;
    for (size_t k = n; k-- > 0;) {
      if (!sacked[k]) {
        lost[k] = runs_above >= SackScoreboard::kDupThresh ||
                  bytes_above > (SackScoreboard::kDupThresh - 1) * uint64_t{kSmallMss};
        if (sb_.state() == State::kRtoRecovery && Seq(una + k) < sb_.recovery_point()) {
          lost[k] = true;
        }
      } else {
        ++bytes_above;
        if (k + 1 == n || !sacked[k + 1]) ++runs_above;
      }
    }
    return lost;
  }
};

TEST_P(ScoreboardOracleTest, MatchesPerOctetDefinitions) {
  std::mt19937 rng(GetParam());
  auto rnd = [&](int64_t lo, int64_t hi) {  // inclusive
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  sb_.Reset(Seq(0), kSmallMss);
  int64_t una = 0, nxt = 3000;
  std::vector<bool> before;
  int checked_segments = 0, dropped = 0, recoveries = 0;
  int per_rule[8] = {};
  for (int step = 0; step < 1500 && una < kTotal; ++step) {
    // --- one ACK ---
    int64_t ack = una;
    if (rnd(0, 3) == 0) ack = rnd(una, nxt);
    if (rnd(0, 40) == 0) ack = nxt + rnd(1, 100);  // acks unsent data
    if (rnd(0, 40) == 0) ack = una - rnd(1, 100);  // old ACK
    std::vector<SackRange> blocks;
    std::vector<std::pair<int64_t, int64_t>> offsets;
    for (int64_t k = rnd(0, 5); k > 0; --k) {
      // Mostly short blocks, so that ranges pile up past kMaxRanges.
      int64_t s = rnd(una - 200, nxt + 100);
      int64_t e = s + (rnd(0, 2) == 0 ? rnd(-10, 700) : rnd(1, 40));
      blocks.push_back(Blk(s, e));
      offsets.emplace_back(s, e);
    }
    const std::vector<bool> old_sacked = SackedFromRanges(una, nxt);
    auto r = sb_.OnAck(Seq(ack), Seq(nxt), blocks);
    if (ack > nxt) {
      ASSERT_TRUE(r.ack_ignored);
      continue;
    }
    const int64_t new_una = std::max(una, ack);
    ASSERT_EQ(sb_.snd_una(), Seq(new_una));
    ASSERT_EQ(r.acked_bytes, static_cast<uint32_t>(new_una - una));
    // Expected SACKed set: the old one above the new SND.UNA, plus the
    // blocks that pass validation (first-block D-SACK rule included).
    std::vector<bool> expect(static_cast<size_t>(nxt - new_una), false);
    for (int64_t o = new_una; o < nxt; ++o) expect[o - new_una] = old_sacked[o - una];
    std::vector<bool> reported = expect;
    uint32_t newly = 0;
    const size_t n = std::min(offsets.size(), SackScoreboard::kMaxBlocksPerAck);
    for (size_t k = 0; k < n; ++k) {
      auto [s, e] = offsets[k];
      if (k == 0 && s < e &&
          (s < ack || (n > 1 && offsets[1].first <= s && e <= offsets[1].second))) {
        ASSERT_TRUE(r.dsack);
        continue;
      }
      if (!(s < e) || s < new_una || e > nxt) continue;
      for (int64_t o = s; o < e; ++o) {
        if (!reported[o - new_una]) ++newly;
        reported[o - new_una] = true;
      }
    }
    const std::vector<bool> got = SackedFromRanges(new_una, nxt);
    if (r.dropped_ranges == 0) {
      ASSERT_EQ(got, reported) << "step " << step;
      ASSERT_EQ(r.newly_sacked_bytes, newly);
      ASSERT_EQ(r.dup_ack, newly > 0);
    } else {
      ++dropped;
      for (size_t o = 0; o < got.size(); ++o) ASSERT_TRUE(!got[o] || reported[o]);  // safety
    }
    una = new_una;
    // Structural invariants.
    auto ranges = sb_.ranges();
    ASSERT_LE(ranges.size(), SackScoreboard::kMaxRanges);
    for (size_t k = 0; k < ranges.size(); ++k) {
      ASSERT_LT(ranges[k].start, ranges[k].end);
      ASSERT_LE(Seq(una), ranges[k].start);
      ASSERT_LE(ranges[k].end, Seq(nxt));
      if (k > 0) {
        ASSERT_LT(ranges[k - 1].end, ranges[k].start);  // non-adjacent
      }
    }

    // --- IsLost and pipe, octet by octet ---
    const std::vector<bool> sacked = got;
    std::vector<bool> lost = LostOracle(sacked, una);
    uint32_t pipe = 0;
    for (int64_t o = una; o < nxt; ++o) {
      ASSERT_EQ(sb_.IsLost(Seq(o)), lost[o - una]) << "octet " << o;
      if (sacked[o - una]) continue;
      if (!lost[o - una]) ++pipe;
      if (Seq(o) < sb_.high_rxt()) ++pipe;
    }
    ASSERT_EQ(sb_.pipe(), pipe);

    // --- recovery entry, NextSeg, timeouts ---
    if (sb_.ShouldEnterRecovery() && rnd(0, 1) == 0) {
      auto seg = sb_.EnterRecovery(Seq(nxt));
      ASSERT_EQ(seg.rule, Rule::kFastRetransmit);
      ASSERT_EQ(seg.start, Seq(una));
      ++recoveries;
    } else if (rnd(0, 30) == 0) {
      auto seg = sb_.OnRetransmitTimeout(Seq(nxt));
      if (una < nxt) {
        ASSERT_EQ(seg.start, Seq(una));
      }
    }
    for (int k = rnd(0, 3); k > 0; --k) {
      const bool can_send = nxt < kTotal && rnd(0, 1) == 0;
      const std::vector<bool> sk = SackedFromRanges(una, nxt);
      const std::vector<bool> ls = LostOracle(sk, una);
      auto unsacked_at = [&](int64_t o) { return o >= una && o < nxt && !sk[o - una]; };
      int64_t highest_sacked = una;
      for (const SackRange& b : sb_.ranges()) highest_sacked = b.end - Seq(0);
      const int64_t hrx = std::max<int64_t>(sb_.high_rxt() - Seq(0), una);
      auto first_from = [&](int64_t limit, bool need_lost) -> int64_t {
        for (int64_t o = hrx; o < limit; ++o) {
          if (unsacked_at(o) && (!need_lost || ls[o - una])) return o;
        }
        return -1;
      };
      auto seg = sb_.NextSeg(Seq(nxt), can_send);
      const int64_t start = seg.start - Seq(0);
      int64_t expected_start = -1;
      Rule expected_rule = Rule::kNone;
      if (sb_.state() == State::kOpen) {
        if (can_send) expected_rule = Rule::kNewData, expected_start = nxt;
      } else if (sb_.state() == State::kRtoRecovery) {
        expected_start = first_from(std::min<int64_t>(sb_.recovery_point() - Seq(0), nxt), false);
        if (expected_start >= 0) {
          expected_rule = Rule::kRtoRetransmit;
        } else if (can_send) {
          expected_rule = Rule::kNewData, expected_start = nxt;
        }
      } else if ((expected_start = first_from(highest_sacked, true)) >= 0) {
        expected_rule = Rule::kLost;
      } else if (can_send) {
        expected_rule = Rule::kNewData, expected_start = nxt;
      } else if ((expected_start = first_from(highest_sacked, false)) >= 0) {
        expected_rule = Rule::kNotLost;
      } else if (sb_.rescue_rxt() < Seq(una)) {
        for (int64_t o = nxt - 1; o >= una; --o) {
          if (unsacked_at(o)) {
            expected_rule = Rule::kRescue;
            // The segment ends at the highest unSACKed octet.
            ASSERT_EQ(seg.end(), Seq(o + 1));
            expected_start = start;
            break;
          }
        }
      }
      ASSERT_EQ(seg.rule, expected_rule) << "step " << step;
      if (seg.empty()) break;
      ASSERT_EQ(start, expected_start);
      ASSERT_GT(seg.length, 0u);
      ASSERT_LE(seg.length, kSmallMss);
      if (seg.rule != Rule::kNewData) {
        for (int64_t o = start; o < start + seg.length; ++o) ASSERT_TRUE(unsacked_at(o));
      }
      ++checked_segments;
      ++per_rule[static_cast<int>(seg.rule)];
      sb_.OnSegmentSent(seg);
      if (seg.rule == Rule::kNewData) nxt += seg.length;
    }
    if (sb_.state() == State::kOpen && nxt < kTotal) nxt += rnd(0, 300);
    sb_.SetPipe(Seq(nxt));
  }
  // The run must have exercised what it claims to check.
  EXPECT_GT(checked_segments, 300);
  EXPECT_GT(recoveries, 5);
  EXPECT_GT(dropped, 0);
  for (Rule rule : {Rule::kLost, Rule::kNewData, Rule::kNotLost, Rule::kRescue,
                    Rule::kRtoRetransmit}) {
    EXPECT_GT(per_rule[static_cast<int>(rule)], 0) << static_cast<int>(rule);
  }
}

INSTANTIATE_TEST_SUITE_P(Bases, ScoreboardOracleTest,
                         ::testing::Values(0u, 0xFFFF8000u, 0x7FFF8000u, 12345u, 0xFFFFFFF0u));

INSTANTIATE_TEST_SUITE_P(Bases, ScoreboardTest,
                         ::testing::Values(0u, 1000u,
                                           0xFFFFE000u,   // crosses 2^32 mid-window
                                           0xFFFFFE0Cu,   // inside the first segment
                                           0x7FFFF000u),  // crosses 2^31
                         [](const ::testing::TestParamInfo<uint32_t>& info) {
                           char name[16];
                           snprintf(name, sizeof name, "base_%08x", info.param);
                           return std::string(name);
                         });

}  // namespace
}  // namespace locus::tcp
