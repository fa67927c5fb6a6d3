// Packet scripts: RST processing and blind-attack defences (RFC 9293
// §3.10.7.4 first/second/fourth/fifth steps, RFC 5961 §3-§5 and §7).
#include "gtest/gtest.h"
#include "stack/tcp/tcp_script.h"

namespace locus::tcp {
namespace {

constexpr uint32_t kPeer = TcpScript::kPeerIsn + 1;

TEST(RstTest, ExactSequenceRstResets) {
  // RFC 5961 §3.2: SEG.SEQ = RCV.NXT resets.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kRst, .seq = kPeer});
  s.ExpectNothing();
  EXPECT_EQ(tcb->state(), TcpState::kClosed);
  EXPECT_EQ(tcb->close_reason(), CloseReason::kReset);
  EXPECT_TRUE(s.EventsFor(tcb) & kEventClosed);
  EXPECT_EQ(s.counters().resets_in, 1u);
  EXPECT_EQ(s.counters().established_resets, 1u);
  tcb->Close();
  s.Flush();
  EXPECT_EQ(s.layer().connection_count(), 0u);
}

TEST(RstTest, InWindowRstGetsChallengeAck) {
  // RFC 5961 §3.2: in the window but not exact → <SEQ=SND.NXT>
  // <ACK=RCV.NXT><CTL=ACK>; the true peer answers with an exact RST.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kRst, .seq = kPeer + 1000});
  Sent challenge = s.Expect(kAck);
  EXPECT_EQ(challenge.seq, iss + 1);
  EXPECT_EQ(challenge.ack, kPeer);
  EXPECT_EQ(tcb->state(), TcpState::kEstablished);
  EXPECT_EQ(s.counters().challenge_acks, 1u);
  s.Inject({.flags = kRst, .seq = kPeer});
  EXPECT_EQ(tcb->state(), TcpState::kClosed);
  tcb->Close();
}

TEST(RstTest, RstOutsideTheWindowIsDroppedSilently) {
  // RFC 9293 §3.10.7.4 first check, RFC 5961 §3.2: no reply at all.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kRst, .seq = kPeer + 10'000'000});
  s.Inject({.flags = kRst | kAck, .seq = kPeer - 1, .ack = iss + 1});
  s.ExpectNothing();
  EXPECT_EQ(tcb->state(), TcpState::kEstablished);
  EXPECT_EQ(s.counters().dropped(TcpDrop::kOutOfWindow), 2u);
  EXPECT_EQ(s.counters().challenge_acks, 0u);
  tcb->Abort();
}

TEST(RstTest, SynOnAnEstablishedConnectionGetsChallengeAck) {
  // RFC 5961 §4.2 (RFC 9293 §3.10.7.4 fourth): whatever its sequence
  // number, a SYN gets a challenge ACK and changes nothing.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kSyn, .seq = kPeer + 5, .options = s.SynOptions(false, false, -1)});
  Sent challenge = s.Expect(kAck);
  EXPECT_EQ(challenge.seq, iss + 1);
  EXPECT_EQ(challenge.ack, kPeer);
  EXPECT_EQ(tcb->state(), TcpState::kEstablished);
  EXPECT_EQ(s.counters().dropped(TcpDrop::kSynInWindow), 1u);
  EXPECT_EQ(s.counters().challenge_acks, 1u);
  tcb->Abort();
}

TEST(RstTest, ChallengeAcksAreRateLimitedPerSecond) {
  // RFC 5961 §7: a per-core budget (here 2 per second).
  TcpConfig config = TcpScript::DefaultConfig();
  config.challenge_ack_limit = 2;
  TcpScript s(config);
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  for (int i = 0; i < 5; ++i) s.Inject({.flags = kRst, .seq = kPeer + 100 + i});
  EXPECT_EQ(s.Expect(kAck).ack, kPeer);
  EXPECT_EQ(s.Expect(kAck).ack, kPeer);
  s.ExpectNothing();
  EXPECT_EQ(s.counters().challenge_acks, 2u);
  EXPECT_EQ(s.counters().challenge_acks_suppressed, 3u);
  s.Advance(Duration::Seconds(1));
  s.Inject({.flags = kSyn, .seq = kPeer});
  EXPECT_EQ(s.Expect(kAck).ack, kPeer) << "a new second, a new budget";
  tcb->Abort();
}

TEST(RstTest, AckOfUnsentDataIsAnsweredAndDropped) {
  // RFC 9293 §3.10.7.4 fifth / RFC 5961 §5.2: SEG.ACK > SND.NXT → send an
  // ACK, drop the segment (its data is not taken).
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 500, .payload = "data"});
  Sent ack = s.Expect(kAck);
  EXPECT_EQ(ack.ack, kPeer);
  EXPECT_EQ(ack.seq, iss + 1);
  EXPECT_EQ(tcb->readable(), 0u);
  EXPECT_EQ(s.counters().dropped(TcpDrop::kAckInvalid), 1u);
  EXPECT_EQ(tcb->snd_una().raw(), iss + 1);
  tcb->Abort();
}

TEST(RstTest, TooOldAckIsChallengedAndDropped) {
  // RFC 5961 §5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.NXT].
  TcpScript s;
  Listener* l = s.Listen();
  s.Inject({.flags = kSyn, .seq = 1000, .window = 1000, .options = s.SynOptions(false, false, -1)});
  Sent synack = s.Expect(kSyn | kAck);
  uint32_t iss = synack.seq;
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1, .window = 1000});
  Tcb* tcb = l->Accept();
  ASSERT_NE(tcb, nullptr);
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(s.Write(tcb, std::string(1000, 'w')), 1000u);
    s.Expect(kAck | kPsh);
    s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1 + 1000 * (i + 1), .window = 1000});
  }
  EXPECT_EQ(tcb->snd_una().raw(), iss + 3001);
  // Old but within MAX.SND.WND: acceptable, its data is taken.
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 2500, .window = 1000, .payload = "ok"});
  EXPECT_EQ(tcb->readable(), 2u);
  // Older than SND.UNA - MAX.SND.WND: challenge ACK, dropped.
  s.Inject({.flags = kAck, .seq = kPeer + 2, .ack = iss + 1000, .window = 1000, .payload = "no"});
  Sent challenge = s.Expect(kAck);
  EXPECT_EQ(challenge.ack, kPeer + 2);
  EXPECT_EQ(tcb->readable(), 2u);
  EXPECT_EQ(s.counters().challenge_acks, 1u);
  tcb->Abort();
}

TEST(RstTest, SegmentWithoutAckBitIsDropped) {
  // RFC 9293 §3.10.7.4 fifth: "if the ACK bit is off, drop the segment".
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kPsh, .seq = kPeer, .payload = "noack"});
  s.Advance(Duration::Millis(100));
  s.ExpectNothing();
  EXPECT_EQ(tcb->readable(), 0u);
  EXPECT_EQ(tcb->rcv_nxt().raw(), kPeer);
  tcb->Abort();
}

TEST(RstTest, FutureDataOutsideTheWindowIsAckedAtMostTwicePerSecond) {
  // RFC 9293 §3.10.7.4 first check answers an unacceptable segment with an
  // ACK; against ACK wars that answer is rate limited (Linux's
  // tcp_invalid_ratelimit, 500 ms) unless the data is an old duplicate.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kAck, .seq = kPeer + 5'000'000, .ack = iss + 1, .payload = "far"});
  EXPECT_EQ(s.Expect(kAck).ack, kPeer);
  s.Inject({.flags = kAck, .seq = kPeer + 5'000'000, .ack = iss + 1, .payload = "far"});
  s.ExpectNothing();
  s.Advance(Duration::Millis(500));
  s.Inject({.flags = kAck, .seq = kPeer + 5'000'000, .ack = iss + 1, .payload = "far"});
  EXPECT_EQ(s.Expect(kAck).ack, kPeer);
  tcb->Abort();
}

TEST(RstTest, ExactRstInCloseWaitAndLastAck) {
  // RFC 9293 §3.10.7.4 second: CLOSE-WAIT resets like ESTABLISHED; in
  // LAST-ACK the connection just goes.
  {
    TcpScript s;
    uint32_t iss = 0;
    Tcb* tcb = s.OpenPassive(&iss);
    ASSERT_NE(tcb, nullptr);
    s.Inject({.flags = kFin | kAck, .seq = kPeer, .ack = iss + 1});
    s.Expect(kAck);
    s.Inject({.flags = kRst, .seq = kPeer + 1});
    EXPECT_EQ(tcb->close_reason(), CloseReason::kReset);
    EXPECT_EQ(s.counters().established_resets, 1u);
    tcb->Close();
  }
  {
    TcpScript s;
    uint32_t iss = 0;
    Tcb* tcb = s.OpenPassive(&iss);
    ASSERT_NE(tcb, nullptr);
    s.Inject({.flags = kFin | kAck, .seq = kPeer, .ack = iss + 1});
    s.Expect(kAck);
    tcb->Close();
    s.Flush();
    s.Expect(kFin | kAck);
    s.Inject({.flags = kRst, .seq = kPeer + 1});
    s.ExpectNothing();
    EXPECT_EQ(s.layer().connection_count(), 0u);
    EXPECT_EQ(s.counters().established_resets, 0u);
  }
}

TEST(RstTest, RstToAClosedPortIsNeverAnswered) {
  // RFC 9293 §3.10.7.1: "An incoming segment containing a RST is discarded".
  TcpScript s;
  s.Inject({.flags = kRst | kAck, .seq = 1, .ack = 2});
  s.ExpectNothing();
  // A data segment with ACK to a closed port: <SEQ=SEG.ACK><CTL=RST>.
  s.Inject({.flags = kAck, .seq = 100, .ack = 777, .payload = "zz"});
  Sent rst = s.Expect(kRst);
  EXPECT_EQ(rst.seq, 777u);
  EXPECT_EQ(rst.ack, 0u);
}

}  // namespace
}  // namespace locus::tcp
