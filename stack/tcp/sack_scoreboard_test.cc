// Packet-level scenarios for the RFC 6675 scoreboard. Offsets are relative
// to a base sequence number; every scenario runs at several bases,
// including ones where the window straddles 2^32 and 2^31.
#include "stack/tcp/sack_scoreboard.h"

#include <cstdio>
#include <initializer_list>
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
  SackBlock Blk(int64_t start, int64_t end) const { return {Seq(start), Seq(end)}; }

  // An ACK with cumulative field `ack` and the given blocks, with
  // `snd_nxt` (offset) as the highest sequence number sent + 1.
  SackScoreboard::AckResult Ack(int64_t ack, std::initializer_list<SackBlock> blocks) {
    std::vector<SackBlock> v(blocks);
    return sb_.OnAck(Seq(ack), Seq(snd_nxt_), v);
  }

  // The scoreboard's ranges as offsets.
  std::vector<std::pair<int64_t, int64_t>> Ranges() const {
    std::vector<std::pair<int64_t, int64_t>> out;
    for (const SackBlock& b : sb_.ranges()) {
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
  const std::vector<SackBlock> two = {Blk(100, 101), Blk(200, 201)};
  small.OnAck(Seq(0), Seq(snd_nxt_), two);
  EXPECT_FALSE(small.IsLost(Seq(0)));
  const std::vector<SackBlock> third = {Blk(300, 301)};
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
  std::vector<SackBlock> four = {Blk(1000, 2000), Blk(3000, 4000), Blk(5000, 6000),
                                 Blk(7000, 8000)};
  auto r = sb_.OnAck(Seq(0), Seq(snd_nxt_), four);
  EXPECT_EQ(r.invalid_blocks, 0u);
  EXPECT_EQ(sb_.ranges().size(), 4u);
  std::vector<SackBlock> five = {Blk(11000, 12000), Blk(13000, 14000), Blk(15000, 16000),
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
