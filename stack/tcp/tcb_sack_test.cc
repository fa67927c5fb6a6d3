// Packet scripts: out-of-order data, the receiver's SACK blocks (RFC 2018
// §3-4, RFC 5681 §4.2) and the sender's SACK-based recovery (RFC 6675, RFC
// 3042 limited transmit).
#include <vector>

#include "gtest/gtest.h"
#include "stack/tcp/tcp_script.h"

namespace locus::tcp {
namespace {

constexpr uint32_t kPeer = TcpScript::kPeerIsn + 1;

std::vector<std::pair<uint32_t, uint32_t>> Blocks(const Sent& s) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (const wire::SackBlock& b : s.options.sacks()) out.push_back({b.left.raw(), b.right.raw()});
  return out;
}

using Pairs = std::vector<std::pair<uint32_t, uint32_t>>;

TEST(SackReceiverTest, OutOfOrderSegmentGetsImmediateDuplicateAckWithSack) {
  // RFC 5681 §4.2: an out-of-order segment is ACKed at once; RFC 2018 §4:
  // with its SACK block.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss, /*timestamps=*/false, /*sack=*/true);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kAck, .seq = kPeer + 1000, .ack = iss + 1, .payload = std::string(500, 'x')});
  Sent dup = s.Expect(kAck);
  EXPECT_EQ(dup.ack, kPeer);
  EXPECT_EQ(Blocks(dup), (Pairs{{kPeer + 1000, kPeer + 1500}}));
  EXPECT_EQ(s.counters().ooo_segments, 1u);
  EXPECT_EQ(tcb->readable(), 0u);
  tcb->Abort();
}

TEST(SackReceiverTest, BlocksAreReportedMostRecentFirst) {
  // RFC 2018 §4: the first block holds the segment that triggered the ACK;
  // the others follow in order of how recently they were reported.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss, false, true);
  ASSERT_NE(tcb, nullptr);
  const uint32_t p = kPeer;
  s.Inject({.flags = kAck, .seq = p + 1000, .ack = iss + 1, .payload = std::string(100, 'a')});
  EXPECT_EQ(Blocks(s.Expect(kAck)), (Pairs{{p + 1000, p + 1100}}));
  s.Inject({.flags = kAck, .seq = p + 2000, .ack = iss + 1, .payload = std::string(100, 'b')});
  EXPECT_EQ(Blocks(s.Expect(kAck)), (Pairs{{p + 2000, p + 2100}, {p + 1000, p + 1100}}));
  s.Inject({.flags = kAck, .seq = p + 3000, .ack = iss + 1, .payload = std::string(100, 'c')});
  EXPECT_EQ(Blocks(s.Expect(kAck)),
            (Pairs{{p + 3000, p + 3100}, {p + 2000, p + 2100}, {p + 1000, p + 1100}}));
  // Extending the oldest island makes it the first block.
  s.Inject({.flags = kAck, .seq = p + 1100, .ack = iss + 1, .payload = std::string(100, 'd')});
  EXPECT_EQ(Blocks(s.Expect(kAck)),
            (Pairs{{p + 1000, p + 1200}, {p + 3000, p + 3100}, {p + 2000, p + 2100}}));
  // A duplicate of queued data: its block goes first again.
  s.Inject({.flags = kAck, .seq = p + 2000, .ack = iss + 1, .payload = std::string(100, 'b')});
  EXPECT_EQ(Blocks(s.Expect(kAck)),
            (Pairs{{p + 2000, p + 2100}, {p + 1000, p + 1200}, {p + 3000, p + 3100}}));
  tcb->Abort();
}

TEST(SackReceiverTest, FourBlocksWithoutTimestampsThreeWith) {
  // RFC 2018 §3: 40 bytes of options hold 4 blocks, 3 next to timestamps.
  for (bool ts : {false, true}) {
    SCOPED_TRACE(ts ? "timestamps" : "no timestamps");
    TcpScript s;
    uint32_t iss = 0;
    Tcb* tcb = s.OpenPassive(&iss, ts, true);
    ASSERT_NE(tcb, nullptr);
    Sent last;
    for (uint32_t i = 1; i <= 5; ++i) {
      s.Inject({.flags = kAck, .seq = kPeer + i * 1000, .ack = iss + 1,
                .options = ts ? s.TsNext() : wire::TcpOptions{}, .payload = std::string(10, 'z')});
      last = s.Expect(kAck);
    }
    ASSERT_EQ(last.options.sack_block_count, ts ? 3u : 4u);
    EXPECT_EQ(last.options.sack_blocks[0].left.raw(), kPeer + 5000);
    EXPECT_EQ(last.options.sack_blocks[1].left.raw(), kPeer + 4000);
    EXPECT_EQ(last.options.timestamps.has_value(), ts);
    tcb->Abort();
  }
}

TEST(SackReceiverTest, FillingTheHoleAcksEverythingAtOnce) {
  // RFC 5681 §4.2: a segment that fills a gap is ACKed immediately.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss, false, true);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kAck, .seq = kPeer + 500, .ack = iss + 1, .payload = std::string(500, 'b')});
  s.Inject({.flags = kAck, .seq = kPeer + 1500, .ack = iss + 1, .payload = std::string(500, 'd')});
  s.Expect(kAck);
  s.Expect(kAck);
  // Partial fill: still SACKing the rest.
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1, .payload = std::string(500, 'a')});
  Sent partial = s.Expect(kAck);
  EXPECT_EQ(partial.ack, kPeer + 1000);
  EXPECT_EQ(Blocks(partial), (Pairs{{kPeer + 1500, kPeer + 2000}}));
  s.Inject({.flags = kAck, .seq = kPeer + 1000, .ack = iss + 1, .payload = std::string(500, 'c')});
  Sent full = s.Expect(kAck);
  EXPECT_EQ(full.ack, kPeer + 2000);
  EXPECT_EQ(full.options.sack_block_count, 0u);
  std::string data = s.ReadAll(tcb);
  EXPECT_EQ(data, std::string(500, 'a') + std::string(500, 'b') + std::string(500, 'c') +
                      std::string(500, 'd'));
  tcb->Abort();
}

TEST(SackReceiverTest, WithoutSackTheDuplicateAckHasNoBlocks) {
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss, false, /*sack=*/false);
  ASSERT_NE(tcb, nullptr);
  EXPECT_FALSE(tcb->sack_enabled());
  s.Inject({.flags = kAck, .seq = kPeer + 1000, .ack = iss + 1, .payload = std::string(500, 'x')});
  Sent dup = s.Expect(kAck);
  EXPECT_EQ(dup.ack, kPeer);
  EXPECT_EQ(dup.options.sack_block_count, 0u);
  tcb->Abort();
}

// Sender side. NewReno's halving makes the numbers easy to follow; no
// timestamps so that segments carry 1460 bytes.
struct Sender {
  explicit Sender(bool sack) : s(Config()) {
    tcb = s.OpenPassive(&iss, false, sack);
  }
  static TcpConfig Config() {
    TcpConfig c = TcpScript::DefaultConfig();
    c.congestion = CongestionAlgorithm::kNewReno;
    return c;
  }
  uint32_t Seg(uint32_t i) const { return iss + 1 + i * 1460; }
  // An ACK from the peer with SACK blocks [Seg(a), Seg(b)).
  void Ack(uint32_t ack_seg, std::vector<std::pair<uint32_t, uint32_t>> sacked = {}) {
    wire::TcpOptions o;
    for (auto [a, b] : sacked) o.AddSackBlock({wire::SeqNum(Seg(a)), wire::SeqNum(Seg(b))});
    s.Inject({.flags = kAck, .seq = kPeer, .ack = Seg(ack_seg), .options = o});
  }
  std::vector<uint32_t> SentSegments() {
    std::vector<uint32_t> out;
    while (std::optional<Sent> x = s.Next()) {
      EXPECT_EQ((x->seq - iss - 1) % 1460, 0u);
      out.push_back((x->seq - iss - 1) / 1460);
    }
    return out;
  }
  TcpScript s;
  Tcb* tcb = nullptr;
  uint32_t iss = 0;
};

using Segs = std::vector<uint32_t>;

TEST(SackSenderTest, LimitedTransmitThenRecoveryWithSeveralHoles) {
  // 10 segments in flight (IW10); 0, 3 and 6 lost.
  Sender x(true);
  ASSERT_NE(x.tcb, nullptr);
  EXPECT_EQ(x.s.Write(x.tcb, std::string(30 * 1460, 'p')), 30u * 1460);
  EXPECT_EQ(x.SentSegments(), (Segs{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  // RFC 3042 (RFC 6675 §5 step 3): the first two duplicate ACKs each send
  // one new segment.
  x.Ack(0, {{1, 2}});
  EXPECT_EQ(x.SentSegments(), (Segs{10}));
  x.Ack(0, {{1, 3}});
  EXPECT_EQ(x.SentSegments(), (Segs{11}));
  EXPECT_EQ(x.tcb->cwnd(), 14600u);
  // Third: RFC 6675 §5 step 4: RecoveryPoint = HighData, ssthresh = cwnd =
  // FlightSize / 2 (12 segments out → 6), retransmit segment 0.
  x.Ack(0, {{4, 5}, {1, 3}});
  EXPECT_EQ(x.SentSegments(), (Segs{0}));
  EXPECT_EQ(x.tcb->ssthresh(), 6u * 1460);
  EXPECT_EQ(x.tcb->cwnd(), 6u * 1460);
  EXPECT_EQ(x.s.counters().sack_recoveries, 1u);
  EXPECT_EQ(x.s.counters().fast_retransmits, 1u);
  // pipe: 0 (resent) + 3 + 5..11 = 9 segments > cwnd: nothing more yet.
  // More SACKs shrink pipe; once 3 segments above hole 3 are SACKed it is
  // lost (IsLost) and goes next (NextSeg rule 1), before new data.
  x.Ack(0, {{4, 6}, {1, 3}});
  x.Ack(0, {{7, 8}, {4, 6}, {1, 3}});
  x.Ack(0, {{7, 9}, {4, 6}, {1, 3}});
  Segs sent = x.SentSegments();
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent[0], 3u);
  x.Ack(0, {{7, 10}, {4, 6}, {1, 3}});
  x.Ack(0, {{7, 11}, {4, 6}, {1, 3}});
  for (uint32_t seg : x.SentSegments()) sent.push_back(seg);
  // Hole 6 follows hole 3 (rule 1), then new data (rule 2).
  ASSERT_GE(sent.size(), 2u);
  EXPECT_EQ(sent[1], 6u);
  for (size_t i = 2; i < sent.size(); ++i) EXPECT_GE(sent[i], 12u) << "only new data after the holes";
  EXPECT_EQ(x.s.counters().retransmits, 3u) << "0, 3 and 6, each once";
  // The cumulative ACK reaching RecoveryPoint (12) ends recovery.
  x.Ack(12);
  EXPECT_LE(x.tcb->cwnd(), 6u * 1460);
  EXPECT_EQ(x.s.counters().sack_recoveries, 1u);
  x.tcb->Abort();
}

TEST(SackSenderTest, RetransmissionTimeoutResendsOnlyWhatIsNotSacked) {
  // RFC 6675 §5.1: after an RTO, SACKed data is not resent.
  Sender x(true);
  ASSERT_NE(x.tcb, nullptr);
  EXPECT_EQ(x.s.Write(x.tcb, std::string(4 * 1460, 'p')), 4u * 1460);
  EXPECT_EQ(x.SentSegments(), (Segs{0, 1, 2, 3}));
  x.Ack(0, {{1, 2}});  // 0 and 2 lost, 1 and 3 arrived
  x.Ack(0, {{3, 4}, {1, 2}});
  EXPECT_EQ(x.SentSegments(), Segs{});
  std::optional<Sent> rto = x.s.AdvanceUntilSent(Duration::Seconds(2));
  ASSERT_TRUE(rto.has_value());
  EXPECT_EQ(rto->seq, x.Seg(0));
  EXPECT_EQ(x.s.counters().rto_timeouts, 1u);
  EXPECT_EQ(x.tcb->cwnd(), 1460u);
  x.Ack(1, {{3, 4}});
  EXPECT_EQ(x.SentSegments(), (Segs{2})) << "1 is SACKed: skip to 2";
  x.Ack(4);
  EXPECT_EQ(x.tcb->snd_una().raw(), x.Seg(4));
  x.tcb->Abort();
}

TEST(SackSenderTest, SackBlocksOutsideTheWindowAreIgnored) {
  // RFC 2018 §3 / RFC 6675: blocks beyond SND.NXT or below SND.UNA must not
  // mark anything SACKed, nor count as duplicate ACKs.
  Sender x(true);
  ASSERT_NE(x.tcb, nullptr);
  EXPECT_EQ(x.s.Write(x.tcb, std::string(4 * 1460, 'p')), 4u * 1460);
  x.SentSegments();
  for (int i = 0; i < 4; ++i) x.Ack(0, {{10, 12}});
  EXPECT_EQ(x.SentSegments(), Segs{});
  EXPECT_EQ(x.s.counters().fast_retransmits, 0u);
  x.tcb->Abort();
}

}  // namespace
}  // namespace locus::tcp
