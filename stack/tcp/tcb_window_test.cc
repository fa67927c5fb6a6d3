// Packet scripts: zero windows and the persist timer (RFC 9293 §3.8.6.1,
// RFC 1122 §4.2.2.17), window updates (§3.10.7.4 SND.WL1/WL2), keepalive
// (RFC 1122 §4.2.3.6).
#include "gtest/gtest.h"
#include "stack/tcp/tcp_script.h"

namespace locus::tcp {
namespace {

constexpr uint32_t kPeer = TcpScript::kPeerIsn + 1;

// A connection whose peer has acknowledged everything sent so far (1000
// bytes) and closed its window, with 3000 more bytes queued.
struct ZeroWindow {
  explicit ZeroWindow(bool sack, TcpConfig config = TcpScript::DefaultConfig()) : s(config) {
    tcb = s.OpenPassive(&iss, false, sack);
    if (tcb == nullptr) return;
    EXPECT_EQ(s.Write(tcb, std::string(1000, 'a')), 1000u);
    s.Expect(kAck | kPsh);
    s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1001, .window = 0});
    EXPECT_EQ(tcb->snd_wnd(), 0u);
    EXPECT_EQ(s.Write(tcb, std::string(3000, 'b')), 3000u);
    s.ExpectNothing();
  }
  TcpScript s;
  Tcb* tcb = nullptr;
  uint32_t iss = 0;
};

TEST(WindowTest, ZeroWindowIsProbedWithBackoff) {
  // RFC 1122 §4.2.2.17: first probe after one RTO (the instant ACK of the
  // first 1000 bytes gave a sample of ~0: the 200 ms floor), then
  // exponential backoff; RFC 9293 §3.8.6.1: a probe carries one octet of
  // new data.
  ZeroWindow z(/*sack=*/true);
  ASSERT_NE(z.tcb, nullptr);
  Duration rto = z.tcb->rto();
  EXPECT_EQ(rto, Duration::Millis(200));
  Instant t0 = z.s.now();
  int64_t expect_ms = 0;
  Duration interval = rto;
  for (int i = 0; i < 6; ++i) {
    expect_ms += interval.millis();
    std::optional<Sent> probe = z.s.AdvanceUntilSent(Duration::Seconds(30));
    ASSERT_TRUE(probe.has_value());
    EXPECT_EQ(probe->seq, z.iss + 1001) << "always the first unsent octet";
    EXPECT_EQ(probe->payload, "b");
    EXPECT_EQ((probe->at - t0).millis(), expect_ms) << "probe " << i;
    z.s.Inject({.flags = kAck, .seq = kPeer, .ack = z.iss + 1001, .window = 0});
    z.s.ExpectNothing();
    interval = interval * 2;
  }
  EXPECT_EQ(z.s.counters().window_probes, 6u);
  EXPECT_EQ(z.tcb->state(), TcpState::kEstablished);
  z.tcb->Abort();
}

TEST(WindowTest, PersistBackoffIsCappedAtMaxRto) {
  TcpConfig config = TcpScript::DefaultConfig();
  config.max_rto = Duration::Seconds(2);
  ZeroWindow z(true, config);
  ASSERT_NE(z.tcb, nullptr);
  Instant last = z.s.now();
  Duration gap;
  for (int i = 0; i < 8; ++i) {
    std::optional<Sent> probe = z.s.AdvanceUntilSent(Duration::Seconds(30));
    ASSERT_TRUE(probe.has_value());
    gap = probe->at - last;
    last = probe->at;
    z.s.Inject({.flags = kAck, .seq = kPeer, .ack = z.iss + 1001, .window = 0});
  }
  EXPECT_EQ(gap, Duration::Seconds(2));
  z.tcb->Abort();
}

TEST(WindowTest, PersistNeverTimesOutWhileThePeerAnswers) {
  // RFC 1122 §4.2.2.17: "MUST NOT close the connection" while probes are
  // answered. Without SACK the zero-window ACKs must not look like
  // duplicate ACKs either (RFC 5681 §2: they carry no new window... and
  // the probe is not lost data).
  TcpConfig config = TcpScript::DefaultConfig();
  config.max_retries = 3;
  config.max_rto = Duration::Seconds(2);
  ZeroWindow z(/*sack=*/false, config);
  ASSERT_NE(z.tcb, nullptr);
  for (int i = 0; i < 12; ++i) {
    std::optional<Sent> probe = z.s.AdvanceUntilSent(Duration::Seconds(30));
    ASSERT_TRUE(probe.has_value()) << "probe " << i;
    EXPECT_EQ(probe->seq, z.iss + 1001);
    EXPECT_EQ(probe->payload.size(), 1u);
    z.s.Inject({.flags = kAck, .seq = kPeer, .ack = z.iss + 1001, .window = 0});
  }
  EXPECT_EQ(z.tcb->state(), TcpState::kEstablished);
  EXPECT_EQ(z.s.counters().fast_retransmits, 0u);
  EXPECT_EQ(z.s.counters().rto_timeouts, 0u);
  z.tcb->Abort();
}

TEST(WindowTest, PersistGivesUpWhenThePeerFallsSilent) {
  // RFC 1122 §4.2.2.17 keeps the connection only while probes are
  // answered: max_retries unanswered probes in a row end it (as Linux's
  // tcp_probe_timer with tcp_retries2).
  TcpConfig config = TcpScript::DefaultConfig();
  config.max_retries = 3;
  ZeroWindow z(true, config);
  ASSERT_NE(z.tcb, nullptr);
  // One answered probe, then silence.
  ASSERT_TRUE(z.s.AdvanceUntilSent(Duration::Seconds(5)).has_value());
  z.s.Inject({.flags = kAck, .seq = kPeer, .ack = z.iss + 1001, .window = 0});
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(z.s.AdvanceUntilSent(Duration::Seconds(30)).has_value()) << i;
  }
  EXPECT_EQ(z.tcb->state(), TcpState::kEstablished);
  EXPECT_FALSE(z.s.AdvanceUntilSent(Duration::Seconds(30)).has_value());
  EXPECT_EQ(z.tcb->state(), TcpState::kClosed);
  EXPECT_EQ(z.tcb->close_reason(), CloseReason::kTimeout);
  z.tcb->Close();
}

TEST(WindowTest, ReopenedWindowSendsAtOnceFromTheFirstUnacknowledgedOctet) {
  // The peer did not take the probe octet; when the window opens, sending
  // resumes at SND.UNA without waiting for a retransmission timeout.
  for (bool sack : {false, true}) {
    SCOPED_TRACE(sack ? "sack" : "no sack");
    ZeroWindow z(sack);
    ASSERT_NE(z.tcb, nullptr);
    std::optional<Sent> probe = z.s.AdvanceUntilSent(Duration::Seconds(2));
    ASSERT_TRUE(probe.has_value());
    z.s.Inject({.flags = kAck, .seq = kPeer, .ack = z.iss + 1001, .window = 100});
    // Window update: snd_wnd = 100 << 7.
    EXPECT_EQ(z.tcb->snd_wnd(), 100u << 7);
    Sent a = z.s.Expect(kAck);
    EXPECT_EQ(a.seq, z.iss + 1001);
    EXPECT_EQ(a.payload.size(), 1460u);
    Sent b = z.s.Expect(kAck);
    EXPECT_EQ(b.seq, z.iss + 2461);
    Sent c = z.s.Expect(kAck | kPsh);
    EXPECT_EQ(c.seq, z.iss + 3921);
    EXPECT_EQ(c.payload.size(), 80u);
    z.s.ExpectNothing();
    z.tcb->Abort();
  }
}

TEST(WindowTest, ProbeOctetAcceptedByThePeer) {
  // If the peer does take the probe octet, the next probe is the next
  // octet.
  ZeroWindow z(true);
  ASSERT_NE(z.tcb, nullptr);
  std::optional<Sent> probe = z.s.AdvanceUntilSent(Duration::Seconds(2));
  ASSERT_TRUE(probe.has_value());
  z.s.Inject({.flags = kAck, .seq = kPeer, .ack = z.iss + 1002, .window = 0});
  std::optional<Sent> next = z.s.AdvanceUntilSent(Duration::Seconds(2));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->seq, z.iss + 1002);
  EXPECT_EQ(next->payload.size(), 1u);
  z.tcb->Abort();
}

TEST(WindowTest, OutstandingDataAndZeroWindowDoesNotTimeOut) {
  // The peer shrank its window to zero with data in flight: retransmission
  // then acts as probing and, as in Linux (tcp_retransmit_timer), does not
  // count against max_retries while the peer keeps answering.
  TcpConfig config = TcpScript::DefaultConfig();
  config.max_retries = 3;
  config.max_rto = Duration::Seconds(2);
  TcpScript s(config);
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(s.Write(tcb, std::string(2920, 'a')), 2920u);
  s.Expect(kAck);
  s.Expect(kAck | kPsh);
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1461, .window = 0});
  for (int i = 0; i < 10; ++i) {
    std::optional<Sent> again = s.AdvanceUntilSent(Duration::Seconds(10));
    ASSERT_TRUE(again.has_value()) << i;
    EXPECT_EQ(again->seq, iss + 1461);
    s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1461, .window = 0});
  }
  EXPECT_EQ(tcb->state(), TcpState::kEstablished);
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1461, .window = 500});
  Sent resumed = s.Expect(kAck | kPsh);
  EXPECT_EQ(resumed.seq, iss + 1461);
  tcb->Abort();
}

TEST(WindowTest, PureAckAtTheRightEdgeOfAFullWindowIsAccepted) {
  // The peer has sent up to the right edge we advertised, but its first
  // segment is missing (lost or reordered), so RCV.NXT has not moved. Its
  // pure ACKs now carry SEG.SEQ = RCV.NXT + RCV.WND: occupying no sequence
  // space, such a segment is in the window (Linux's tcp_sequence accepts
  // SEG.SEQ <= RCV.NXT + RCV.WND), and RFC 9293 §3.10.7.4 asks for valid
  // ACKs to be processed even when no data fits. Dropping it loses the
  // acknowledgment of everything we sent: seen end to end (tests/e2e) as
  // retransmission timeouts on every reordering while our receive buffer
  // was full.
  TcpConfig config = TcpScript::DefaultConfig();
  config.mss = 1000;
  config.receive_buffer = 8000;
  TcpScript s(config);
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss, /*timestamps=*/false, /*sack=*/true, /*wscale=*/7, /*mss=*/1000);
  ASSERT_NE(tcb, nullptr);
  ASSERT_EQ(s.Write(tcb, std::string(1000, 'a')), 1000u);
  Sent data = s.Expect(kAck | kPsh);
  const uint32_t window = static_cast<uint32_t>(data.window) << tcb->rcv_wscale();
  ASSERT_GE(window, 2000u);
  ASSERT_EQ(window % 1000, 0u) << "the script fills the window with 1000-byte segments";
  // Everything but the first 1000 bytes of the window arrives.
  for (uint32_t off = 1000; off < window; off += 1000) {
    s.Inject({.flags = kAck, .seq = kPeer + off, .ack = iss + 1, .payload = std::string(1000, 'x')});
  }
  while (s.Next().has_value()) {
  }
  ASSERT_EQ(tcb->rcv_nxt().raw(), kPeer);
  s.Inject({.flags = kAck, .seq = kPeer + window, .ack = iss + 1001, .window = 500});
  EXPECT_EQ(tcb->snd_una().raw(), iss + 1001) << "the ACK at the right edge was dropped";
  EXPECT_EQ(s.counters().dropped(TcpDrop::kOutOfWindow), 0u);
  // A segment with data beyond the edge is still out of the window.
  s.Inject({.flags = kAck, .seq = kPeer + window, .ack = iss + 1001, .payload = "y"});
  EXPECT_EQ(s.counters().dropped(TcpDrop::kOutOfWindow), 1u);
  tcb->Abort();
}

TEST(WindowTest, OnlyNewerSegmentsUpdateTheWindow) {
  // RFC 9293 §3.10.7.4: the window comes from a segment with SND.WL1 <
  // SEG.SEQ, or SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss, false, false, /*wscale=*/-1);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1, .window = 4000, .payload = "abc"});
  EXPECT_EQ(tcb->snd_wnd(), 4000u);
  // An older segment (SEG.SEQ < SND.WL1), e.g. reordered: no update.
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1, .window = 9000});
  EXPECT_EQ(tcb->snd_wnd(), 4000u);
  s.Inject({.flags = kAck, .seq = kPeer + 3, .ack = iss + 1, .window = 9000});
  EXPECT_EQ(tcb->snd_wnd(), 9000u);
  tcb->Abort();
}

TEST(WindowTest, KeepaliveProbesAfterIdleAndIsAnswered) {
  // RFC 1122 §4.2.3.6: after the idle time (7200 s default) a probe with
  // SEG.SEQ = SND.NXT - 1 and no data; the peer's ACK resets the count.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  tcb->set_keepalive(true, s.now());
  Instant t0 = s.now();
  std::optional<Sent> probe = s.AdvanceUntilSent(Duration::Seconds(7300));
  ASSERT_TRUE(probe.has_value());
  EXPECT_EQ(probe->at - t0, Duration::Seconds(7200));
  EXPECT_EQ(probe->flags, kAck);
  EXPECT_EQ(probe->seq, iss);  // SND.NXT - 1
  EXPECT_EQ(probe->ack, kPeer);
  EXPECT_TRUE(probe->payload.empty());
  EXPECT_EQ(s.counters().keepalive_probes, 1u);
  // The peer finds it old and ACKs.
  s.Advance(Duration::Millis(10));
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1});
  Instant answered = s.now();
  std::optional<Sent> next = s.AdvanceUntilSent(Duration::Seconds(7300));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->at - answered, Duration::Seconds(7200)) << "a full idle period again";
  tcb->Abort();
}

TEST(WindowTest, KeepaliveGivesUpAfterNineUnansweredProbes) {
  // Linux defaults: 9 probes 75 s apart, then ETIMEDOUT.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  tcb->set_keepalive(true, s.now());
  Instant t0 = s.now();
  for (int i = 0; i < 9; ++i) {
    std::optional<Sent> probe = s.AdvanceUntilSent(Duration::Seconds(7300));
    ASSERT_TRUE(probe.has_value());
    EXPECT_EQ(probe->at - t0, Duration::Seconds(7200 + 75 * i));
  }
  s.Advance(Duration::Seconds(74));
  EXPECT_EQ(tcb->state(), TcpState::kEstablished);
  s.Advance(Duration::Seconds(1));
  EXPECT_EQ(tcb->state(), TcpState::kClosed);
  EXPECT_EQ(tcb->close_reason(), CloseReason::kTimeout);
  EXPECT_TRUE(s.EventsFor(tcb) & kEventClosed);
  tcb->Close();
}

TEST(WindowTest, NoKeepaliveUnlessEnabled) {
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  EXPECT_FALSE(s.AdvanceUntilSent(Duration::Seconds(7300)).has_value());
  EXPECT_EQ(tcb->state(), TcpState::kEstablished);
  tcb->Abort();
}

}  // namespace
}  // namespace locus::tcp
