// Packet scripts: TIME-WAIT (RFC 9293 §3.6, §3.10.7.4 for TIME-WAIT;
// RFC 6191 reuse by a new SYN; RFC 1337 / §3.10.7.4 second step for RST).
#include "gtest/gtest.h"
#include "stack/tcp/tcp_script.h"

namespace locus::tcp {
namespace {

constexpr uint32_t kPeer = TcpScript::kPeerIsn + 1;

// Closes actively and ends in TIME-WAIT: our FIN is iss+1, the peer's FIN
// is kPeer; afterwards SND.NXT = iss+2 and RCV.NXT = kPeer+1.
FourTuple IntoTimeWait(TcpScript& s, uint32_t* iss, bool timestamps = false) {
  Tcb* tcb = s.OpenPassive(iss, timestamps);
  EXPECT_NE(tcb, nullptr);
  if (tcb == nullptr) return {};
  FourTuple tuple = tcb->tuple();
  tcb->Close();
  s.Flush();
  s.Expect(kFin | kAck);
  s.Inject({.flags = kFin | kAck, .seq = kPeer, .ack = *iss + 2,
            .options = timestamps ? s.TsNext() : wire::TcpOptions{}});
  Sent ack = s.Expect(kAck);
  EXPECT_EQ(ack.ack, kPeer + 1);
  EXPECT_TRUE(s.layer().IsTimeWait(tuple));
  EXPECT_EQ(s.layer().connection_count(), 0u) << "the Tcb is gone; only the small entry stays";
  return tuple;
}

TEST(TimeWaitTest, ReapedAfterTwoMsl) {
  // 2*MSL = 60 s (TcpConfig::time_wait, as Linux).
  TcpScript s;
  uint32_t iss = 0;
  FourTuple tuple = IntoTimeWait(s, &iss);
  s.Advance(Duration::Seconds(60) - Duration::Millis(1));
  EXPECT_TRUE(s.layer().IsTimeWait(tuple));
  s.Advance(Duration::Millis(1));
  EXPECT_FALSE(s.layer().IsTimeWait(tuple));
  EXPECT_EQ(s.layer().time_wait_count(), 0u);
  s.ExpectNothing();
}

TEST(TimeWaitTest, RetransmittedFinIsAckedAndRestartsTheTimer) {
  // §3.10.7.4 TIME-WAIT: "acknowledge it, and restart the 2 MSL timeout".
  TcpScript s;
  uint32_t iss = 0;
  FourTuple tuple = IntoTimeWait(s, &iss);
  s.Advance(Duration::Seconds(50));
  s.Inject({.flags = kFin | kAck, .seq = kPeer, .ack = iss + 2});
  Sent ack = s.Expect(kAck);
  EXPECT_EQ(ack.seq, iss + 2);
  EXPECT_EQ(ack.ack, kPeer + 1);
  s.Advance(Duration::Seconds(59));
  EXPECT_TRUE(s.layer().IsTimeWait(tuple)) << "109 s after entry, 59 s after the FIN";
  s.Advance(Duration::Seconds(1));
  EXPECT_FALSE(s.layer().IsTimeWait(tuple));
}

TEST(TimeWaitTest, TimeWaitAckCarriesTimestamps) {
  TcpScript s;
  uint32_t iss = 0;
  IntoTimeWait(s, &iss, /*timestamps=*/true);
  uint32_t peer_ts = s.peer_tsval();
  s.Inject({.flags = kFin | kAck, .seq = kPeer, .ack = iss + 2, .options = s.TsNext()});
  Sent ack = s.Expect(kAck);
  ASSERT_TRUE(ack.options.timestamps.has_value());
  EXPECT_EQ(ack.options.timestamps->echo_reply, peer_ts) << "TS.Recent of the FIN";
}

TEST(TimeWaitTest, NewSynWithHigherSequenceReopensTheTuple) {
  // RFC 9293 §3.10.7.4 note / RFC 6191 without timestamps: a SYN whose
  // ISN is above RCV.NXT may start a new incarnation at once.
  TcpScript s;
  uint32_t iss = 0;
  FourTuple tuple = IntoTimeWait(s, &iss);
  s.Advance(Duration::Seconds(1));
  s.Inject({.flags = kSyn, .seq = kPeer + 100000, .options = s.SynOptions(false, false, -1)});
  Sent synack = s.Expect(kSyn | kAck);
  EXPECT_EQ(synack.ack, kPeer + 100001);
  EXPECT_FALSE(s.layer().IsTimeWait(tuple));
  EXPECT_EQ(s.layer().request_sock_count(), 1u);
  EXPECT_EQ(s.counters().time_wait_reused, 1u);
}

TEST(TimeWaitTest, NewSynWithHigherTsvalReopensEvenWithLowerSequence) {
  // RFC 6191 §2: with timestamps the TSval decides.
  TcpScript s;
  uint32_t iss = 0;
  FourTuple tuple = IntoTimeWait(s, &iss, true);
  s.Inject({.flags = kSyn, .seq = 5, .options = s.SynOptions(true, true, 7, 1460,
                                                              s.peer_tsval() + 10)});
  Sent synack = s.Expect(kSyn | kAck);
  EXPECT_EQ(synack.ack, 6u);
  EXPECT_FALSE(s.layer().IsTimeWait(tuple));
}

TEST(TimeWaitTest, OldSynIsAnsweredWithAnAckAndKeepsTimeWait) {
  // A SYN that is not provably new: ACK with the TIME-WAIT numbers.
  TcpScript s;
  uint32_t iss = 0;
  FourTuple tuple = IntoTimeWait(s, &iss);
  s.Inject({.flags = kSyn, .seq = kPeer - 50, .options = s.SynOptions(false, false, -1)});
  Sent ack = s.Expect(kAck);
  EXPECT_EQ(ack.seq, iss + 2);
  EXPECT_EQ(ack.ack, kPeer + 1);
  EXPECT_TRUE(s.layer().IsTimeWait(tuple));
  EXPECT_EQ(s.counters().time_wait_reused, 0u);
}

TEST(TimeWaitTest, SynWithLowerTsvalDoesNotReopen) {
  TcpScript s;
  uint32_t iss = 0;
  FourTuple tuple = IntoTimeWait(s, &iss, true);
  s.Inject({.flags = kSyn, .seq = kPeer + 1000000,
            .options = s.SynOptions(true, true, 7, 1460, s.peer_tsval() - 5)});
  EXPECT_EQ(s.Expect(kAck).ack, kPeer + 1);
  EXPECT_TRUE(s.layer().IsTimeWait(tuple));
}

TEST(TimeWaitTest, ExactRstEndsTimeWaitOtherRstsAreIgnored) {
  // RFC 9293 §3.10.7.4 second (TIME-WAIT: a valid RST closes), with RFC
  // 5961's exact-match rule; Linux's default (tcp_rfc1337 = 0) does the
  // same.
  TcpScript s;
  uint32_t iss = 0;
  FourTuple tuple = IntoTimeWait(s, &iss);
  s.Inject({.flags = kRst, .seq = kPeer + 7});
  s.ExpectNothing();
  EXPECT_TRUE(s.layer().IsTimeWait(tuple));
  s.Inject({.flags = kRst, .seq = kPeer + 1});
  s.ExpectNothing();
  EXPECT_FALSE(s.layer().IsTimeWait(tuple));
}

TEST(TimeWaitTest, DataInTimeWaitIsAcked) {
  TcpScript s;
  uint32_t iss = 0;
  FourTuple tuple = IntoTimeWait(s, &iss);
  s.Inject({.flags = kAck, .seq = kPeer + 1, .ack = iss + 2, .payload = "late"});
  Sent ack = s.Expect(kAck);
  EXPECT_EQ(ack.ack, kPeer + 1);
  EXPECT_TRUE(s.layer().IsTimeWait(tuple));
  // A bare ACK is not answered (no ACK for an ACK).
  s.Inject({.flags = kAck, .seq = kPeer + 1, .ack = iss + 2});
  s.ExpectNothing();
}

TEST(TimeWaitTest, ConnectReusesATimeWaitTupleOnlyWithTimestampsAfterOneSecond) {
  // Linux tcp_tw_reuse (RFC 6191 reasoning for the active side): timestamps
  // protect the new incarnation, once the old one's TS.Recent is 1 s old.
  for (bool ts : {false, true}) {
    SCOPED_TRACE(ts ? "timestamps" : "no timestamps");
    TcpScript s;
    uint32_t iss = 0;
    Tcb* tcb = s.ConnectConnection(5000, s.SynOptions(ts, true, -1), &iss, TcpScript::kLocalPort);
    ASSERT_NE(tcb, nullptr);
    FourTuple tuple = tcb->tuple();
    tcb->Close();
    s.Flush();
    s.Expect(kFin | kAck);
    s.Inject({.flags = kFin | kAck, .seq = 5001, .ack = iss + 2,
              .options = ts ? s.TsNext() : wire::TcpOptions{}});
    s.Expect(kAck);
    ASSERT_TRUE(s.layer().IsTimeWait(tuple));
    absl::StatusOr<Tcb*> again = s.layer().Connect(TcpScript::kLocalIp, TcpScript::kPeerIp,
                                                   TcpScript::kPeerPort, s.now(),
                                                   TcpScript::kLocalPort);
    EXPECT_FALSE(again.ok()) << "too early";
    s.Advance(Duration::Seconds(1));
    again = s.layer().Connect(TcpScript::kLocalIp, TcpScript::kPeerIp, TcpScript::kPeerPort,
                              s.now(), TcpScript::kLocalPort);
    EXPECT_EQ(again.ok(), ts);
    if (again.ok()) {
      EXPECT_GT(wire::SeqNum(s.Expect(kSyn).seq), wire::SeqNum(iss)) << "ISN clock moved on";
      EXPECT_EQ(s.counters().time_wait_reused, 1u);
      (*again)->Abort();
    }
  }
}

}  // namespace
}  // namespace locus::tcp
