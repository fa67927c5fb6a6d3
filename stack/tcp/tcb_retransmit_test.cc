// Packet scripts: retransmission timer (RFC 6298), Karn and timestamps
// (RFC 7323 §4), fast retransmit and NewReno recovery without SACK (RFC
// 5681 §3.2, RFC 6582), limited transmit (RFC 3042), giving up (RFC 9293
// §3.8.3).
#include <vector>

#include "gtest/gtest.h"
#include "stack/tcp/tcp_script.h"

namespace locus::tcp {
namespace {

constexpr uint32_t kPeer = TcpScript::kPeerIsn + 1;

TcpConfig NewRenoConfig() {
  TcpConfig c = TcpScript::DefaultConfig();
  c.congestion = CongestionAlgorithm::kNewReno;
  return c;
}

// Sends `n` bytes and has the peer ACK them `rtt` later: one RTT sample.
void SampleRtt(TcpScript& s, Tcb* tcb, uint32_t n, Duration rtt) {
  uint32_t before = tcb->snd_nxt().raw();
  EXPECT_EQ(s.Write(tcb, std::string(n, 'r')), n);
  ASSERT_TRUE(s.Next().has_value());
  s.Advance(rtt);
  s.Inject({.flags = kAck, .seq = kPeer, .ack = before + n});
}

TEST(RetransmitTest, RtoFromSampleThenDoublingPerExpiry) {
  // RFC 6298 §2.2: R = 100 ms → RTO = 300 ms; §5.5: doubles per expiry;
  // §5.4: the earliest unacknowledged segment is what goes again.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  SampleRtt(s, tcb, 100, Duration::Millis(100));
  EXPECT_EQ(tcb->rto(), Duration::Millis(300));
  EXPECT_EQ(s.Write(tcb, std::string(500, 'x')), 500u);
  Sent first = s.Expect(kAck | kPsh);
  Instant t0 = s.now();
  const int64_t expected_ms[] = {300, 900, 2100, 4500};
  for (int64_t ms : expected_ms) {
    std::optional<Sent> again = s.AdvanceUntilSent(Duration::Seconds(5));
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->seq, first.seq);
    EXPECT_EQ(again->payload.size(), 500u);
    EXPECT_EQ((again->at - t0).millis(), ms);
  }
  EXPECT_EQ(s.counters().rto_timeouts, 4u);
  EXPECT_EQ(s.counters().retransmits, 4u);
  EXPECT_EQ(tcb->rto(), Duration::Millis(4800));
  tcb->Abort();
}

TEST(RetransmitTest, RtoNeverBelow200Ms) {
  // RFC 6298 §2.4 sets 1 s; the documented choice here is Linux's 200 ms.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  SampleRtt(s, tcb, 100, Duration::Millis(10));
  EXPECT_EQ(tcb->rto(), Duration::Millis(200));
  EXPECT_EQ(s.Write(tcb, "y"), 1u);
  s.Expect(kAck | kPsh);
  Instant t0 = s.now();
  std::optional<Sent> again = s.AdvanceUntilSent(Duration::Seconds(1));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ((again->at - t0).millis(), 200);
  tcb->Abort();
}

TEST(RetransmitTest, GivesUpAfterMaxRetriesWithTimeout) {
  // RFC 9293 §3.8.3 R2 (as a count, like Linux's tcp_retries2); no RST.
  TcpConfig config = TcpScript::DefaultConfig();
  config.max_retries = 3;
  TcpScript s(config);
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(tcb->rto(), Duration::Seconds(1)) << "no sample yet: RFC 6298 §2.1";
  EXPECT_EQ(s.Write(tcb, "lost"), 4u);
  s.Expect(kAck | kPsh);
  Instant t0 = s.now();
  for (int64_t ms : {1000, 3000, 7000}) {
    std::optional<Sent> again = s.AdvanceUntilSent(Duration::Seconds(10));
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ((again->at - t0).millis(), ms);
  }
  s.Advance(Duration::Millis(14999) - (s.now() - t0));
  EXPECT_EQ(tcb->state(), TcpState::kEstablished);
  s.Advance(Duration::Millis(1));
  s.ExpectNothing();
  EXPECT_EQ(tcb->state(), TcpState::kClosed);
  EXPECT_EQ(tcb->close_reason(), CloseReason::kTimeout);
  EXPECT_TRUE(s.EventsFor(tcb) & kEventClosed);
  tcb->Close();
  s.Flush();
  EXPECT_EQ(s.layer().connection_count(), 0u);
}

TEST(RetransmitTest, AckOfNewDataRestartsTheTimer) {
  // RFC 6298 §5.3: an ACK of new data restarts the timer for the rest.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(s.Write(tcb, std::string(2920, 'z')), 2920u);
  s.Expect(kAck);
  s.Expect(kAck | kPsh);
  Instant t0 = s.now();
  s.Advance(Duration::Millis(600));
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1461});
  // The timed first segment gave R = 600 ms: RTO = 600 + 4 * 300 = 1.8 s.
  EXPECT_EQ(tcb->rto(), Duration::Millis(1800));
  std::optional<Sent> again = s.AdvanceUntilSent(Duration::Seconds(5));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->seq, iss + 1461);
  EXPECT_EQ((again->at - t0).millis(), 600 + 1800);
  tcb->Abort();
}

TEST(RetransmitTest, KarnNoSampleFromARetransmittedSegment) {
  // RFC 6298 §3 (Karn): the ACK of a retransmitted segment gives no
  // sample, and the backed-off RTO stays until a valid sample (§5 note).
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(s.Write(tcb, "k"), 1u);
  s.Expect(kAck | kPsh);
  ASSERT_TRUE(s.AdvanceUntilSent(Duration::Seconds(2)).has_value());  // at 1 s
  s.Advance(Duration::Millis(10));
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 2});
  EXPECT_EQ(tcb->rto(), Duration::Seconds(2)) << "no sample of 10 ms or 1010 ms taken";
  SampleRtt(s, tcb, 10, Duration::Millis(100));
  EXPECT_EQ(tcb->rto(), Duration::Millis(300)) << "a clean sample collapses the backoff";
  tcb->Abort();
}

TEST(RetransmitTest, TimestampsGiveASampleEvenAfterRetransmission) {
  // RFC 7323 §4.1: TSecr names the transmission, so there is no ambiguity.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss, /*timestamps=*/true);
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(s.Write(tcb, "t"), 1u);
  s.Expect(kAck | kPsh);
  std::optional<Sent> again = s.AdvanceUntilSent(Duration::Seconds(2));
  ASSERT_TRUE(again.has_value());
  ASSERT_TRUE(again->options.timestamps.has_value());
  s.Advance(Duration::Millis(50));
  wire::TcpOptions o;
  o.timestamps = wire::TcpTimestamps{5000, again->options.timestamps->value};
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 2, .options = o});
  // R = 50 ms: RTO = max(200 ms, 50 + 4 * 25).
  EXPECT_EQ(tcb->rto(), Duration::Millis(200));
  tcb->Abort();
}

// A NewReno (no SACK) sender with 1460-byte segments.
struct Reno {
  Reno() : s(NewRenoConfig()) { tcb = s.OpenPassive(&iss); }
  uint32_t Seg(uint32_t i) const { return iss + 1 + i * 1460; }
  void Ack(uint32_t seg) { s.Inject({.flags = kAck, .seq = kPeer, .ack = Seg(seg)}); }
  std::vector<uint32_t> SentSegments() {
    std::vector<uint32_t> out;
    while (std::optional<Sent> x = s.Next()) out.push_back((x->seq - iss - 1) / 1460);
    return out;
  }
  TcpScript s;
  Tcb* tcb = nullptr;
  uint32_t iss = 0;
};
using Segs = std::vector<uint32_t>;

TEST(RetransmitTest, FastRetransmitOnThirdDuplicateAck) {
  // RFC 5681 §3.2 with RFC 3042: dup ACKs 1 and 2 release one new segment
  // each; the third retransmits, ssthresh = FlightSize / 2 and cwnd =
  // ssthresh + 3 * SMSS (RFC 6582 §3.2 step 2).
  Reno r;
  ASSERT_NE(r.tcb, nullptr);
  EXPECT_EQ(r.s.Write(r.tcb, std::string(20 * 1460, 'f')), 20u * 1460);
  EXPECT_EQ(r.SentSegments().size(), 10u);
  r.Ack(1);  // segment 1 lost; 0 acked: cwnd 14600 + 1460
  EXPECT_EQ(r.SentSegments(), (Segs{10, 11}));
  r.Ack(1);
  EXPECT_EQ(r.SentSegments(), (Segs{12}));
  r.Ack(1);
  EXPECT_EQ(r.SentSegments(), (Segs{13}));
  EXPECT_EQ(r.s.counters().fast_retransmits, 0u);
  r.Ack(1);
  EXPECT_EQ(r.SentSegments(), (Segs{1}));
  // FlightSize = 14 - 1 = 13 segments.
  EXPECT_EQ(r.tcb->ssthresh(), 13u * 1460 / 2);
  EXPECT_EQ(r.tcb->cwnd(), 13u * 1460 / 2 + 3 * 1460);
  EXPECT_EQ(r.s.counters().fast_retransmits, 1u);
  EXPECT_EQ(r.s.counters().reno_recoveries, 1u);
  // Further dup ACKs inflate cwnd by one SMSS each (step 3) and, once
  // cwnd exceeds FlightSize, release new data.
  uint32_t cwnd = r.tcb->cwnd();
  r.Ack(1);
  EXPECT_EQ(r.tcb->cwnd(), cwnd + 1460);
  r.tcb->Abort();
}

TEST(RetransmitTest, NewRenoPartialAckRetransmitsTheNextHole) {
  // RFC 6582 §3.2 step 5: a partial ACK retransmits the first unacked
  // segment at once and deflates cwnd; step 6: the full ACK ends recovery
  // with cwnd = min(ssthresh, FlightSize + SMSS).
  Reno r;
  ASSERT_NE(r.tcb, nullptr);
  EXPECT_EQ(r.s.Write(r.tcb, std::string(10 * 1460, 'f')), 10u * 1460);
  EXPECT_EQ(r.SentSegments().size(), 10u);  // 1 and 4 will be lost
  r.Ack(1);  // new data: segment 0
  for (int i = 0; i < 3; ++i) r.Ack(1);
  EXPECT_EQ(r.SentSegments(), (Segs{1})) << "no new data to send, only the retransmission";
  EXPECT_EQ(r.s.counters().fast_retransmits, 1u);
  uint32_t ssthresh = r.tcb->ssthresh();
  EXPECT_EQ(ssthresh, 9u * 1460 / 2);
  r.Ack(4);  // partial: recover = 10
  Segs after_partial = r.SentSegments();
  ASSERT_FALSE(after_partial.empty());
  EXPECT_EQ(after_partial[0], 4u);
  EXPECT_EQ(r.s.counters().fast_retransmits, 1u) << "one episode";
  r.Ack(10);
  // max(FlightSize = 0, SMSS) + SMSS.
  EXPECT_EQ(r.tcb->cwnd(), std::min(ssthresh, 2u * 1460));
  EXPECT_EQ(r.tcb->snd_una().raw(), r.Seg(10));
  r.tcb->Abort();
}

TEST(RetransmitTest, GoBackNAfterTimeoutWithoutSack) {
  // RFC 5681 §3.1: after an RTO cwnd = 1 SMSS and slow start resends the
  // window from SND.UNA.
  Reno r;
  ASSERT_NE(r.tcb, nullptr);
  EXPECT_EQ(r.s.Write(r.tcb, std::string(4 * 1460, 'g')), 4u * 1460);
  EXPECT_EQ(r.SentSegments().size(), 4u);
  ASSERT_TRUE(r.s.AdvanceUntilSent(Duration::Seconds(2)).has_value());  // segment 0
  EXPECT_EQ(r.tcb->cwnd(), 1460u);
  EXPECT_EQ(r.tcb->ssthresh(), 2u * 1460) << "max(FlightSize / 2, 2 SMSS)";
  r.Ack(1);
  EXPECT_EQ(r.SentSegments(), (Segs{1, 2}));
  r.Ack(3);
  EXPECT_EQ(r.SentSegments(), (Segs{3}));
  EXPECT_EQ(r.s.counters().retransmits, 4u);
  r.tcb->Abort();
}

TEST(RetransmitTest, DuplicateAcksAfterTimeoutDoNotStartFastRecovery) {
  // RFC 6582 §3.2 step 4 / §4: after an RTO, recover = highest sent; dup
  // ACKs below it are ignored for fast retransmit.
  Reno r;
  ASSERT_NE(r.tcb, nullptr);
  EXPECT_EQ(r.s.Write(r.tcb, std::string(6 * 1460, 'g')), 6u * 1460);
  r.SentSegments();
  ASSERT_TRUE(r.s.AdvanceUntilSent(Duration::Seconds(2)).has_value());
  r.Ack(1);
  r.SentSegments();
  for (int i = 0; i < 4; ++i) r.Ack(1);
  EXPECT_EQ(r.s.counters().fast_retransmits, 0u);
  r.tcb->Abort();
}

TEST(RetransmitTest, FinIsRetransmittedByTheTimer) {
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  tcb->Shutdown();
  s.Flush();
  Sent fin = s.Expect(kFin | kAck);
  EXPECT_EQ(fin.seq, iss + 1);
  std::optional<Sent> again = s.AdvanceUntilSent(Duration::Seconds(2));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->flags, kFin | kAck);
  EXPECT_EQ(again->seq, iss + 1);
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 2});
  EXPECT_EQ(tcb->state(), TcpState::kFinWait2);
  tcb->Abort();
}

}  // namespace
}  // namespace locus::tcp
