// Packet scripts: closing (RFC 9293 §3.6, §3.10.4, §3.10.7.4 eighth step,
// Figures 12-14; RFC 2525 §2.17 reset on close with unread data).
#include "gtest/gtest.h"
#include "stack/tcp/tcp_script.h"

namespace locus::tcp {
namespace {

constexpr uint32_t kPeer = TcpScript::kPeerIsn + 1;

TEST(CloseTest, PassiveCloseThroughCloseWaitAndLastAck) {
  // §3.6 Figure 12, the side that receives the first FIN.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kFin | kAck, .seq = kPeer, .ack = iss + 1});
  Sent ack = s.Expect(kAck);
  EXPECT_EQ(ack.ack, kPeer + 1) << "the FIN occupies one sequence number";
  EXPECT_EQ(tcb->state(), TcpState::kCloseWait);
  EXPECT_TRUE(tcb->peer_closed());
  EXPECT_TRUE(s.EventsFor(tcb) & kEventPeerClosed);
  uint8_t buf[8];
  EXPECT_EQ(tcb->Read(buf), 0u) << "EOF";
  tcb->Close();
  s.Flush();
  Sent fin = s.Expect(kFin | kAck);
  EXPECT_EQ(fin.seq, iss + 1);
  EXPECT_EQ(fin.ack, kPeer + 1);
  EXPECT_EQ(tcb->state(), TcpState::kLastAck);
  s.Inject({.flags = kAck, .seq = kPeer + 1, .ack = iss + 2});
  s.ExpectNothing();
  EXPECT_EQ(s.layer().connection_count(), 0u);
  EXPECT_EQ(s.layer().time_wait_count(), 0u) << "no TIME-WAIT for the passive closer";
}

TEST(CloseTest, ActiveCloseThroughFinWaitToTimeWait) {
  // §3.6 Figure 12, the side that closes first.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  FourTuple tuple = tcb->tuple();
  tcb->Shutdown();
  s.Flush();
  Sent fin = s.Expect(kFin | kAck);
  EXPECT_EQ(fin.seq, iss + 1);
  EXPECT_EQ(tcb->state(), TcpState::kFinWait1);
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 2});
  EXPECT_EQ(tcb->state(), TcpState::kFinWait2);
  s.ExpectNothing();
  s.Inject({.flags = kFin | kAck, .seq = kPeer, .ack = iss + 2});
  Sent ack = s.Expect(kAck);
  EXPECT_EQ(ack.seq, iss + 2);
  EXPECT_EQ(ack.ack, kPeer + 1);
  EXPECT_EQ(tcb->state(), TcpState::kClosed) << "the Tcb hands over to a TIME-WAIT entry";
  EXPECT_EQ(tcb->close_reason(), CloseReason::kNormal);
  EXPECT_TRUE(s.layer().IsTimeWait(tuple));
  EXPECT_EQ(s.counters().time_wait_entered, 1u);
  EXPECT_TRUE(s.EventsFor(tcb) & kEventClosed);
  tcb->Close();
  s.Flush();
  EXPECT_EQ(s.layer().connection_count(), 0u);
  EXPECT_EQ(s.layer().time_wait_count(), 1u);
}

TEST(CloseTest, SimultaneousCloseGoesThroughClosing) {
  // §3.6 Figure 13: FINs cross; FIN-WAIT-1 → CLOSING → TIME-WAIT.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  FourTuple tuple = tcb->tuple();
  tcb->Shutdown();
  s.Flush();
  s.Expect(kFin | kAck);
  // The peer's FIN does not acknowledge ours.
  s.Inject({.flags = kFin | kAck, .seq = kPeer, .ack = iss + 1});
  Sent ack = s.Expect(kAck);
  EXPECT_EQ(ack.ack, kPeer + 1);
  EXPECT_EQ(ack.seq, iss + 2);
  EXPECT_EQ(tcb->state(), TcpState::kClosing);
  s.Inject({.flags = kAck, .seq = kPeer + 1, .ack = iss + 2});
  s.ExpectNothing();
  EXPECT_TRUE(s.layer().IsTimeWait(tuple));
  tcb->Close();
}

TEST(CloseTest, FinThatAlsoAcknowledgesOursGoesStraightToTimeWait) {
  // §3.10.7.4: the ACK is processed first (FIN-WAIT-2), then the FIN.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  tcb->Shutdown();
  s.Flush();
  s.Expect(kFin | kAck);
  s.Inject({.flags = kFin | kAck, .seq = kPeer, .ack = iss + 2});
  EXPECT_EQ(s.Expect(kAck).ack, kPeer + 1);
  EXPECT_TRUE(s.layer().IsTimeWait(tcb->tuple()));
  tcb->Close();
}

TEST(CloseTest, FinWithDataDeliversDataThenEof) {
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kFin | kAck | kPsh, .seq = kPeer, .ack = iss + 1, .payload = "bye"});
  Sent ack = s.Expect(kAck);
  EXPECT_EQ(ack.ack, kPeer + 4) << "3 octets and the FIN, at once";
  EXPECT_EQ(tcb->state(), TcpState::kCloseWait);
  uint16_t ev = s.EventsFor(tcb);
  EXPECT_TRUE(ev & kEventReadable);
  EXPECT_TRUE(ev & kEventPeerClosed);
  EXPECT_EQ(s.ReadAll(tcb), "bye");
  tcb->Abort();
}

TEST(CloseTest, OutOfOrderFinWaitsForTheMissingData) {
  // §3.10.7.4 eighth: the FIN is processed only once RCV.NXT reaches it.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss, false, true);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kFin | kAck, .seq = kPeer + 5, .ack = iss + 1, .payload = "world"});
  Sent dup = s.Expect(kAck);
  EXPECT_EQ(dup.ack, kPeer);
  EXPECT_EQ(tcb->state(), TcpState::kEstablished);
  EXPECT_FALSE(tcb->peer_closed());
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1, .payload = "hello"});
  Sent ack = s.Expect(kAck);
  EXPECT_EQ(ack.ack, kPeer + 11);
  EXPECT_EQ(tcb->state(), TcpState::kCloseWait);
  EXPECT_EQ(s.ReadAll(tcb), "helloworld");
  tcb->Abort();
}

TEST(CloseTest, BareOutOfOrderFinIsAckedAndHeld) {
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kFin | kAck, .seq = kPeer + 3, .ack = iss + 1});
  EXPECT_EQ(s.Expect(kAck).ack, kPeer) << "immediate duplicate ACK (RFC 5681 §4.2)";
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1, .payload = "abc"});
  EXPECT_EQ(s.Expect(kAck).ack, kPeer + 4);
  EXPECT_EQ(tcb->state(), TcpState::kCloseWait);
  tcb->Abort();
}

TEST(CloseTest, CloseAfterWriteSendsDataThenFin) {
  // §3.10.4: CLOSE means "no more to send": queued data goes first, the
  // FIN rides on the last segment.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  tcb->Write({reinterpret_cast<const uint8_t*>("0123456789"), 10});
  tcb->Close();
  s.Flush();
  Sent last = s.Expect(kAck | kPsh | kFin);
  EXPECT_EQ(last.seq, iss + 1);
  EXPECT_EQ(last.payload, "0123456789");
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 12});
  s.ExpectNothing();
  EXPECT_EQ(s.layer().connection_count(), 1u) << "orphan in FIN-WAIT-2";
}

TEST(CloseTest, CloseWithUnreadDataSendsReset) {
  // RFC 9293 §3.10.4 / RFC 2525 §2.17: data that will never be read must
  // not be acknowledged as if delivered: RST.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1, .payload = "unread"});
  tcb->Close();
  s.Flush();
  Sent rst = s.Expect(kRst | kAck);
  EXPECT_EQ(rst.seq, iss + 1);
  EXPECT_EQ(rst.ack, kPeer + 6);
  s.ExpectNothing();
  EXPECT_EQ(s.layer().connection_count(), 0u);
  EXPECT_EQ(s.counters().resets_out, 1u);
}

TEST(CloseTest, OrphanedFinWait2TimesOut) {
  // Linux tcp_fin_timeout (60 s): an orphan whose peer never sends its FIN.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  tcb->Close();
  s.Flush();
  s.Expect(kFin | kAck);
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 2});
  Instant t0 = s.now();
  EXPECT_EQ(s.layer().connection_count(), 1u);
  s.Advance(Duration::Seconds(60) - Duration::Millis(1));
  EXPECT_EQ(s.layer().connection_count(), 1u);
  s.Advance(Duration::Millis(1));
  s.ExpectNothing();
  EXPECT_EQ(s.layer().connection_count(), 0u);
  EXPECT_EQ(s.layer().time_wait_count(), 0u);
  EXPECT_EQ(s.now() - t0, Duration::Seconds(60));
}

TEST(CloseTest, HalfCloseStillReceives) {
  // §3.10.4: after our FIN we keep receiving until the peer's FIN.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  tcb->Shutdown();
  s.Flush();
  s.Expect(kFin | kAck);
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 2});
  EXPECT_EQ(tcb->writable(), 0u);
  s.Inject({.flags = kAck | kPsh, .seq = kPeer, .ack = iss + 2, .payload = "late data"});
  EXPECT_EQ(s.ReadAll(tcb), "late data");
  s.Inject({.flags = kFin | kAck, .seq = kPeer + 9, .ack = iss + 2});
  EXPECT_EQ(s.Expect(kAck).ack, kPeer + 10);
  EXPECT_TRUE(s.layer().IsTimeWait(tcb->tuple()));
  tcb->Close();
}

TEST(CloseTest, RetransmittedFinInCloseWaitIsAckedAgain) {
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kFin | kAck, .seq = kPeer, .ack = iss + 1});
  s.Expect(kAck);
  s.Inject({.flags = kFin | kAck, .seq = kPeer, .ack = iss + 1});
  Sent again = s.Expect(kAck);
  EXPECT_EQ(again.ack, kPeer + 1);
  EXPECT_EQ(tcb->state(), TcpState::kCloseWait);
  tcb->Abort();
}

TEST(CloseTest, LastAckFinIsRetransmittedUntilAcknowledged) {
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kFin | kAck, .seq = kPeer, .ack = iss + 1});
  s.Expect(kAck);
  tcb->Close();
  s.Flush();
  Sent fin = s.Expect(kFin | kAck);
  std::optional<Sent> again = s.AdvanceUntilSent(Duration::Seconds(2));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->flags, kFin | kAck);
  EXPECT_EQ(again->seq, fin.seq);
  s.Inject({.flags = kAck, .seq = kPeer + 1, .ack = iss + 2});
  EXPECT_EQ(s.layer().connection_count(), 0u);
}

TEST(CloseTest, AbortSendsResetFromAnySynchronizedState) {
  // §3.10.5 ABORT: <SEQ=SND.NXT><CTL=RST> (with ACK, as Linux).
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  s.Write(tcb, "pending");
  s.Expect(kAck | kPsh);
  tcb->Abort();
  s.Flush();
  Sent rst = s.Expect(kRst | kAck);
  EXPECT_EQ(rst.seq, iss + 8);
  EXPECT_EQ(rst.ack, kPeer);
  EXPECT_EQ(s.layer().connection_count(), 0u);
  // Whatever the peer sends now meets no connection: RST.
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 8, .payload = "x"});
  EXPECT_EQ(s.Expect(kRst).seq, iss + 8);
}

TEST(CloseTest, DataAfterPeerFinIsIgnored) {
  // §3.10.7.4 seventh: after a FIN, segment text is ignored.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kFin | kAck, .seq = kPeer, .ack = iss + 1});
  s.Expect(kAck);
  s.Inject({.flags = kAck, .seq = kPeer + 1, .ack = iss + 1, .payload = "after"});
  EXPECT_EQ(tcb->readable(), 0u);
  EXPECT_EQ(tcb->rcv_nxt().raw(), kPeer + 1);
  tcb->Abort();
}

}  // namespace
}  // namespace locus::tcp
