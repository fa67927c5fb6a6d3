// Packet scripts: opening handshakes and option negotiation (RFC 9293
// §3.5, §3.10.7.2-3; RFC 7323 §1.3, §2; RFC 2018 §2; RFC 6298 §2, §5.7;
// RFC 5681 §3.1).
#include "gtest/gtest.h"
#include "stack/tcp/tcp_script.h"

namespace locus::tcp {
namespace {

constexpr uint16_t kOurWscale = 3;  // 256 KiB receive buffer: smallest shift with <= 65535

TEST(HandshakeTest, PassiveOpenNegotiatesLinuxOptions) {
  TcpScript s;
  Listener* l = s.Listen();
  s.Inject({.flags = kSyn, .seq = 1000, .window = 64240, .options = s.SynOptions()});
  Sent synack = s.Expect(kSyn | kAck);
  EXPECT_EQ(synack.ack, 1001u);
  ASSERT_TRUE(synack.options.mss.has_value());
  EXPECT_EQ(*synack.options.mss, 1460);
  EXPECT_TRUE(synack.options.sack_permitted);
  ASSERT_TRUE(synack.options.window_scale.has_value());
  EXPECT_EQ(*synack.options.window_scale, kOurWscale);
  // RFC 7323 §2.2: the window of a SYN is never scaled.
  EXPECT_EQ(synack.window, 65535);
  ASSERT_TRUE(synack.options.timestamps.has_value());
  EXPECT_EQ(synack.options.timestamps->echo_reply, 1000u);
  s.ExpectNothing();
  EXPECT_EQ(l->Accept(), nullptr) << "no connection before the final ACK";
  EXPECT_EQ(s.layer().request_sock_count(), 1u);
  s.Inject({.flags = kAck, .seq = 1001, .ack = synack.seq + 1, .window = 502,
            .options = s.Ts(1001)});
  s.ExpectNothing();
  Tcb* tcb = l->Accept();
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(tcb->state(), TcpState::kEstablished);
  EXPECT_TRUE(tcb->sack_enabled());
  EXPECT_TRUE(tcb->timestamps_enabled());
  EXPECT_EQ(tcb->snd_wscale(), 7);
  EXPECT_EQ(tcb->rcv_wscale(), kOurWscale);
  EXPECT_EQ(tcb->snd_wnd(), 502u << 7);
  EXPECT_EQ(tcb->snd_mss(), 1460);
  EXPECT_EQ(tcb->snd_una().raw(), synack.seq + 1);
  EXPECT_EQ(tcb->rcv_nxt().raw(), 1001u);
  EXPECT_EQ(s.counters().passive_opens, 1u);
  EXPECT_EQ(s.layer().request_sock_count(), 0u);
  tcb->Abort();
}

TEST(HandshakeTest, ActiveOpenThenDataBothWays) {
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.ConnectConnection(5000, s.SynOptions(), &iss);
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(tcb->state(), TcpState::kEstablished);
  EXPECT_TRUE(s.EventsFor(tcb) & kEventConnected);
  EXPECT_EQ(s.counters().active_opens, 1u);
  std::string hello = "hello";
  EXPECT_EQ(tcb->Write({reinterpret_cast<const uint8_t*>(hello.data()), hello.size()}), 5u);
  s.Flush();
  Sent data = s.Expect(kAck | kPsh);
  EXPECT_EQ(data.seq, iss + 1);
  EXPECT_EQ(data.ack, 5001u);
  EXPECT_EQ(data.payload, "hello");
  s.Inject({.flags = kAck | kPsh, .seq = 5001, .ack = iss + 6, .window = 500,
            .options = s.Ts(2000), .payload = "world", .source_port = TcpScript::kPeerPort,
            .destination_port = 50000});
  EXPECT_TRUE(s.EventsFor(tcb) & kEventReadable);
  uint8_t buf[16];
  EXPECT_EQ(tcb->Read(buf), 5u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 5), "world");
  // The ACK for one small segment is delayed (RFC 1122 §4.2.3.2).
  s.ExpectNothing();
  s.Advance(Duration::Millis(40));
  Sent ack = s.Expect(kAck);
  EXPECT_EQ(ack.ack, 5006u);
  tcb->Abort();
}

TEST(HandshakeTest, ActiveOpenSynCarriesOurOptions) {
  // RFC 9293 §3.7.1 (MSS), RFC 7323 §2.2/§3.2 (WS, TS with TSecr 0 on a
  // SYN), RFC 2018 §2 (SACK-permitted).
  TcpScript s;
  absl::StatusOr<Tcb*> tcb =
      s.layer().Connect(TcpScript::kLocalIp, TcpScript::kPeerIp, TcpScript::kPeerPort, s.now(),
                        TcpScript::kLocalPort);
  ASSERT_TRUE(tcb.ok());
  Sent syn = s.Expect(kSyn);
  EXPECT_EQ(syn.ack, 0u);
  EXPECT_EQ(syn.window, 65535);
  ASSERT_TRUE(syn.options.mss.has_value());
  EXPECT_EQ(*syn.options.mss, 1460);
  ASSERT_TRUE(syn.options.window_scale.has_value());
  EXPECT_EQ(*syn.options.window_scale, kOurWscale);
  EXPECT_TRUE(syn.options.sack_permitted);
  ASSERT_TRUE(syn.options.timestamps.has_value());
  EXPECT_EQ(syn.options.timestamps->echo_reply, 0u);
  EXPECT_EQ((*tcb)->state(), TcpState::kSynSent);
  (*tcb)->Abort();
  s.Flush();
  s.ExpectNothing();  // RFC 9293 §3.10.5: no RST from SYN-SENT
}

TEST(HandshakeTest, NoOptionsMeansMss536NoScalingNoSackNoTimestamps) {
  // RFC 9293 §3.7.1 (536 without MSS option); RFC 7323 §1.3/§2.2 and RFC
  // 2018 §2: options are only answered when the SYN offered them.
  TcpScript s;
  Listener* l = s.Listen();
  s.Inject({.flags = kSyn, .seq = 1000, .window = 8192});
  Sent synack = s.Expect(kSyn | kAck);
  ASSERT_TRUE(synack.options.mss.has_value());
  EXPECT_EQ(*synack.options.mss, 1460);
  EXPECT_FALSE(synack.options.window_scale.has_value());
  EXPECT_FALSE(synack.options.sack_permitted);
  EXPECT_FALSE(synack.options.timestamps.has_value());
  EXPECT_EQ(synack.window, 65535);
  s.Inject({.flags = kAck, .seq = 1001, .ack = synack.seq + 1, .window = 60000});
  Tcb* tcb = l->Accept();
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(tcb->snd_mss(), 536);
  EXPECT_EQ(tcb->snd_wscale(), 0);
  EXPECT_EQ(tcb->rcv_wscale(), 0);
  EXPECT_FALSE(tcb->sack_enabled());
  EXPECT_FALSE(tcb->timestamps_enabled());
  EXPECT_EQ(tcb->snd_wnd(), 60000u);
  EXPECT_EQ(s.Write(tcb, std::string(1200, 'x')), 1200u);
  Sent a = s.Expect(kAck);
  Sent b = s.Expect(kAck);
  Sent c = s.Expect(kAck | kPsh);
  EXPECT_EQ(a.payload.size(), 536u);
  EXPECT_EQ(b.payload.size(), 536u);
  EXPECT_EQ(c.payload.size(), 128u);
  EXPECT_EQ(b.seq, a.seq + 536);
  EXPECT_FALSE(a.options.timestamps.has_value());
  // Unscaled window: the free 256 KiB buffer is announced as 65535.
  EXPECT_EQ(a.window, 65535);
  tcb->Abort();
}

TEST(HandshakeTest, WindowScaleOnlyFromUsMeansNoScalingEitherWay) {
  // RFC 7323 §2.2: scaling is in effect only if both SYNs carry the option;
  // our active SYN offers it, the SYN-ACK does not.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.ConnectConnection(5000, s.SynOptions(true, true, /*wscale=*/-1), &iss,
                                 TcpScript::kLocalPort);
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(tcb->snd_wscale(), 0);
  EXPECT_EQ(tcb->rcv_wscale(), 0);
  EXPECT_EQ(tcb->snd_wnd(), 65160u) << "SYN-ACK window taken as is";
  s.Inject({.flags = kAck, .seq = 5001, .ack = iss + 1, .window = 1000, .options = s.TsNext()});
  EXPECT_EQ(tcb->snd_wnd(), 1000u) << "not shifted";
  EXPECT_EQ(s.Write(tcb, "abc"), 3u);
  Sent d = s.Expect(kAck | kPsh);
  EXPECT_EQ(d.window, 65535) << "unscaled window announces at most 65535";
  tcb->Abort();
}

TEST(HandshakeTest, WindowScaleOnlyFromPeerIsNotEchoed) {
  // RFC 7323 §2.2: a SYN-ACK may carry WS only if the SYN did. Here the SYN
  // did and our config has scaling off: no WS in the SYN-ACK, no scaling.
  TcpConfig config = TcpScript::DefaultConfig();
  config.window_scaling = false;
  TcpScript s(config);
  Listener* l = s.Listen();
  uint32_t iss = 0;
  Tcb* tcb = s.AcceptConnection(l, 1000, s.SynOptions(), &iss);
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(tcb->snd_wscale(), 0);
  EXPECT_EQ(tcb->rcv_wscale(), 0);
  EXPECT_EQ(tcb->snd_wnd(), 502u) << "the peer's window must not be shifted";
  tcb->Abort();
  Sent rst = s.Expect(kRst | kAck);  // §3.10.5 ABORT
  EXPECT_EQ(rst.seq, iss + 1);
  EXPECT_EQ(rst.ack, 1001u);
  // And the SYN-ACK of a second handshake has no WS option.
  s.Inject({.flags = kSyn, .seq = 7000, .options = s.SynOptions(), .source_port = 40001});
  Sent synack = s.Expect(kSyn | kAck);
  EXPECT_FALSE(synack.options.window_scale.has_value());
  EXPECT_TRUE(synack.options.sack_permitted);
}

TEST(HandshakeTest, TimestampsOnlyFromPeerPassive) {
  // RFC 7323 §3.2: TS are used only when both SYNs carry them.
  TcpConfig config = TcpScript::DefaultConfig();
  config.timestamps = false;
  TcpScript s(config);
  Listener* l = s.Listen();
  uint32_t iss = 0;
  Tcb* tcb = s.AcceptConnection(l, 1000, s.SynOptions(), &iss);
  ASSERT_NE(tcb, nullptr);
  EXPECT_FALSE(tcb->timestamps_enabled());
  EXPECT_EQ(tcb->snd_mss(), 1460);
  EXPECT_EQ(s.Write(tcb, std::string(1460, 'a')), 1460u);
  Sent d = s.Expect(kAck | kPsh);
  EXPECT_EQ(d.payload.size(), 1460u) << "no option space reserved for TS";
  EXPECT_FALSE(d.options.timestamps.has_value());
  tcb->Abort();
}

TEST(HandshakeTest, TimestampsOnlyFromUsActive) {
  // Our SYN offers TS; the SYN-ACK has none: no TS on any later segment.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.ConnectConnection(5000, s.SynOptions(/*timestamps=*/false), &iss,
                                 TcpScript::kLocalPort);
  ASSERT_NE(tcb, nullptr);
  EXPECT_FALSE(tcb->timestamps_enabled());
  EXPECT_TRUE(tcb->sack_enabled());
  EXPECT_EQ(s.Write(tcb, std::string(3000, 'a')), 3000u);
  Sent d = s.Expect(kAck);
  EXPECT_EQ(d.payload.size(), 1460u);
  EXPECT_FALSE(d.options.timestamps.has_value());
  tcb->Abort();
}

TEST(HandshakeTest, PeerWindowScaleAbove14IsClampedTo14) {
  // RFC 7323 §2.3: a shift above 14 is used as 14.
  TcpScript s;
  Listener* l = s.Listen();
  Tcb* tcb = s.AcceptConnection(l, 1000, s.SynOptions(true, true, /*wscale=*/15), nullptr);
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(tcb->snd_wscale(), 14);
  EXPECT_EQ(tcb->snd_wnd(), 502u << 14);
  tcb->Abort();
}

TEST(HandshakeTest, MssClampedToPeersAnnouncement) {
  // RFC 9293 §3.7.1: send segments no larger than the peer's MSS (minus
  // our option bytes, RFC 6691).
  TcpScript s;
  Listener* l = s.Listen();
  Tcb* tcb = s.AcceptConnection(l, 1000, s.SynOptions(false, true, 7, /*mss=*/1200), nullptr);
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(tcb->snd_mss(), 1200);
  EXPECT_EQ(s.Write(tcb, std::string(2500, 'm')), 2500u);
  EXPECT_EQ(s.Expect(kAck).payload.size(), 1200u);
  EXPECT_EQ(s.Expect(kAck).payload.size(), 1200u);
  EXPECT_EQ(s.Expect(kAck | kPsh).payload.size(), 100u);
  tcb->Abort();
}

TEST(HandshakeTest, OurConfiguredMssIsAnnouncedAndCapsSending) {
  TcpConfig config = TcpScript::DefaultConfig();
  config.mss = 1000;
  TcpScript s(config);
  Listener* l = s.Listen();
  s.Inject({.flags = kSyn, .seq = 1000, .options = s.SynOptions(false, false, -1, 1460)});
  Sent synack = s.Expect(kSyn | kAck);
  ASSERT_TRUE(synack.options.mss.has_value());
  EXPECT_EQ(*synack.options.mss, 1000);
  s.Inject({.flags = kAck, .seq = 1001, .ack = synack.seq + 1});
  Tcb* tcb = l->Accept();
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(tcb->snd_mss(), 1000);
  EXPECT_EQ(s.Write(tcb, std::string(1500, 'm')), 1500u);
  EXPECT_EQ(s.Expect(kAck).payload.size(), 1000u);
  EXPECT_EQ(s.Expect(kAck | kPsh).payload.size(), 500u);
  tcb->Abort();
}

TEST(HandshakeTest, DataOnSynIsNotAcknowledgedAndIsTakenWhenResent) {
  // RFC 9293 §3.10.7.2: text on a SYN may be queued or dropped; we drop it
  // (no TFO), so the SYN-ACK acknowledges only the SYN.
  TcpScript s;
  Listener* l = s.Listen();
  s.Inject({.flags = kSyn, .seq = 1000, .options = s.SynOptions(false, false, -1),
            .payload = "early"});
  Sent synack = s.Expect(kSyn | kAck);
  EXPECT_EQ(synack.ack, 1001u);
  s.Inject({.flags = kAck | kPsh, .seq = 1001, .ack = synack.seq + 1, .payload = "early"});
  Tcb* tcb = l->Accept();
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(s.ReadAll(tcb), "early");
  EXPECT_EQ(tcb->rcv_nxt().raw(), 1006u);
  tcb->Abort();
}

TEST(HandshakeTest, DuplicateSynInSynReceivedResendsSameSynAck) {
  // RFC 9293 §3.10.7.4 / Linux: a retransmitted SYN (same ISN) means our
  // SYN-ACK was lost; answer it again with the same ISS.
  TcpScript s;
  s.Listen();
  s.Inject({.flags = kSyn, .seq = 1000, .options = s.SynOptions()});
  Sent first = s.Expect(kSyn | kAck);
  s.Advance(Duration::Millis(300));
  s.Inject({.flags = kSyn, .seq = 1000, .options = s.SynOptions()});
  Sent second = s.Expect(kSyn | kAck);
  EXPECT_EQ(second.seq, first.seq);
  EXPECT_EQ(second.ack, 1001u);
  EXPECT_EQ(s.layer().request_sock_count(), 1u);
  s.ExpectNothing();
}

TEST(HandshakeTest, SimultaneousOpenReachesEstablished) {
  // RFC 9293 §3.5 Figure 8: both sides send SYN; each answers with SYN,ACK
  // and the SYN,ACK received in SYN-RECEIVED completes the handshake.
  TcpScript s;
  absl::StatusOr<Tcb*> c = s.layer().Connect(TcpScript::kLocalIp, TcpScript::kPeerIp,
                                             TcpScript::kPeerPort, s.now(), TcpScript::kLocalPort);
  ASSERT_TRUE(c.ok());
  Tcb* tcb = *c;
  Sent syn = s.Expect(kSyn);
  s.Inject({.flags = kSyn, .seq = 300, .window = 30000, .options = s.SynOptions(false, true, -1)});
  Sent synack = s.Expect(kSyn | kAck);
  EXPECT_EQ(synack.seq, syn.seq) << "the same ISS again";
  EXPECT_EQ(synack.ack, 301u);
  EXPECT_EQ(tcb->state(), TcpState::kSynReceived);
  // Line 6 of Figure 8: the peer's SYN,ACK.
  s.Inject({.flags = kSyn | kAck, .seq = 300, .ack = syn.seq + 1, .window = 30000,
            .options = s.SynOptions(false, true, -1)});
  EXPECT_EQ(tcb->state(), TcpState::kEstablished);
  EXPECT_TRUE(s.EventsFor(tcb) & kEventConnected);
  EXPECT_EQ(tcb->snd_una().raw(), syn.seq + 1);
  EXPECT_EQ(tcb->snd_nxt().raw(), syn.seq + 1);
  // Nothing more is owed: no ACK storm between two SYN-RECEIVED ends.
  s.ExpectNothing();
  EXPECT_EQ(s.Write(tcb, "x"), 1u);
  Sent d = s.Expect(kAck | kPsh);
  EXPECT_EQ(d.seq, syn.seq + 1);
  EXPECT_EQ(d.ack, 301u);
  tcb->Abort();
}

TEST(HandshakeTest, SimultaneousOpenCompletedByPlainAck) {
  // The other ordering: the peer answers our SYN,ACK with an ACK.
  TcpScript s;
  absl::StatusOr<Tcb*> c = s.layer().Connect(TcpScript::kLocalIp, TcpScript::kPeerIp,
                                             TcpScript::kPeerPort, s.now(), TcpScript::kLocalPort);
  ASSERT_TRUE(c.ok());
  Sent syn = s.Expect(kSyn);
  s.Inject({.flags = kSyn, .seq = 300, .options = s.SynOptions(false, false, -1)});
  Sent synack = s.Expect(kSyn | kAck);
  // An ACK carrying SEQ=SND.NXT is what we answer with if anything; here the
  // peer ACKs our SYN.
  s.Inject({.flags = kAck, .seq = 301, .ack = syn.seq + 1});
  EXPECT_EQ((*c)->state(), TcpState::kEstablished);
  s.ExpectNothing();
  (void)synack;
  (*c)->Abort();
}

TEST(HandshakeTest, SynAckRetransmittedWithBackoffThenGivenUp) {
  // RFC 6298 §5.5 backoff applied to the SYN-ACK (1 s initial, §2.1),
  // synack_retries = 5 as Linux: resent at 1, 3, 7, 15, 31 s, dropped at 63 s.
  TcpScript s;
  s.Listen();
  s.Inject({.flags = kSyn, .seq = 1000, .options = s.SynOptions()});
  Sent first = s.Expect(kSyn | kAck);
  Instant t0 = s.now();
  const int64_t expected_ms[] = {1000, 3000, 7000, 15000, 31000};
  for (int64_t ms : expected_ms) {
    std::optional<Sent> again = s.AdvanceUntilSent(Duration::Seconds(40));
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->flags, kSyn | kAck);
    EXPECT_EQ(again->seq, first.seq);
    EXPECT_EQ((again->at - t0).millis(), ms);
  }
  EXPECT_EQ(s.counters().retransmits, 5u);
  s.Advance(Duration::Millis(62999) - (s.now() - t0));
  EXPECT_EQ(s.layer().request_sock_count(), 1u) << "still there at 62.999 s";
  s.Advance(Duration::Seconds(2));
  s.ExpectNothing();
  EXPECT_EQ(s.layer().request_sock_count(), 0u);
  EXPECT_EQ(s.counters().failed_opens, 1u);
  // A late final ACK now finds no state: RST with SEQ=SEG.ACK (§3.10.7.2).
  s.Inject({.flags = kAck, .seq = 1001, .ack = first.seq + 1});
  Sent rst = s.Expect(kRst);
  EXPECT_EQ(rst.seq, first.seq + 1);
}

TEST(HandshakeTest, SynRetriesOnActiveOpenThenTimeout) {
  // RFC 6298 §2.1 (1 s) and §5.5 doubling; syn_retries = 6 as Linux: SYNs
  // at 0, 1, 3, 7, 15, 31, 63 s. The next RTO would be 64 s but max_rto
  // caps it at 60 s (§2.5), so ETIMEDOUT comes at 123 s (Linux, with a
  // 120 s cap, at 127 s).
  TcpScript s;
  absl::StatusOr<Tcb*> c = s.layer().Connect(TcpScript::kLocalIp, TcpScript::kPeerIp,
                                             TcpScript::kPeerPort, s.now(), TcpScript::kLocalPort);
  ASSERT_TRUE(c.ok());
  Tcb* tcb = *c;
  Sent syn = s.Expect(kSyn);
  Instant t0 = s.now();
  const int64_t expected_ms[] = {1000, 3000, 7000, 15000, 31000, 63000};
  for (int64_t ms : expected_ms) {
    std::optional<Sent> again = s.AdvanceUntilSent(Duration::Seconds(70));
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->flags, kSyn);
    EXPECT_EQ(again->seq, syn.seq);
    EXPECT_EQ((again->at - t0).millis(), ms);
  }
  s.Advance(Duration::Millis(122999) - (s.now() - t0));
  EXPECT_EQ(tcb->state(), TcpState::kSynSent);
  s.Advance(Duration::Millis(1));
  s.ExpectNothing();
  EXPECT_EQ(tcb->state(), TcpState::kClosed);
  EXPECT_EQ(tcb->close_reason(), CloseReason::kTimeout);
  EXPECT_TRUE(s.EventsFor(tcb) & kEventClosed);
  EXPECT_EQ(s.counters().failed_opens, 1u);
  tcb->Close();
  s.Flush();
  EXPECT_EQ(s.layer().connection_count(), 0u);
}

TEST(HandshakeTest, RstAnsweringOurSynMeansRefused) {
  // RFC 9293 §3.10.7.3: RST with an acceptable ACK in SYN-SENT.
  TcpScript s;
  absl::StatusOr<Tcb*> c = s.layer().Connect(TcpScript::kLocalIp, TcpScript::kPeerIp,
                                             TcpScript::kPeerPort, s.now(), TcpScript::kLocalPort);
  ASSERT_TRUE(c.ok());
  Tcb* tcb = *c;
  Sent syn = s.Expect(kSyn);
  // Without ACK the RST is dropped.
  s.Inject({.flags = kRst, .seq = 0});
  EXPECT_EQ(tcb->state(), TcpState::kSynSent);
  // With an unacceptable ACK too (and no RST is sent in reply to a RST).
  s.Inject({.flags = kRst | kAck, .seq = 0, .ack = syn.seq + 7});
  EXPECT_EQ(tcb->state(), TcpState::kSynSent);
  s.ExpectNothing();
  s.Inject({.flags = kRst | kAck, .seq = 0, .ack = syn.seq + 1});
  s.ExpectNothing();
  EXPECT_EQ(tcb->state(), TcpState::kClosed);
  EXPECT_EQ(tcb->close_reason(), CloseReason::kRefused);
  EXPECT_TRUE(s.EventsFor(tcb) & kEventClosed);
  EXPECT_EQ(s.counters().failed_opens, 1u);
  // The RST with a bad ACK failed the first check, before the RST one.
  EXPECT_EQ(s.counters().resets_in, 2u);
  EXPECT_EQ(s.counters().dropped(TcpDrop::kAckInvalid), 1u);
  tcb->Close();
}

TEST(HandshakeTest, BadAckInSynSentGetsReset) {
  // RFC 9293 §3.10.7.3 first: SEG.ACK =< ISS or > SND.NXT →
  // <SEQ=SEG.ACK><CTL=RST>, and the connection stays in SYN-SENT.
  TcpScript s;
  absl::StatusOr<Tcb*> c = s.layer().Connect(TcpScript::kLocalIp, TcpScript::kPeerIp,
                                             TcpScript::kPeerPort, s.now(), TcpScript::kLocalPort);
  ASSERT_TRUE(c.ok());
  Sent syn = s.Expect(kSyn);
  s.Inject({.flags = kSyn | kAck, .seq = 900, .ack = syn.seq + 100,
            .options = s.SynOptions()});
  Sent rst = s.Expect(kRst);
  EXPECT_EQ(rst.seq, syn.seq + 100);
  s.Inject({.flags = kAck, .seq = 900, .ack = syn.seq});  // = ISS
  Sent rst2 = s.Expect(kRst);
  EXPECT_EQ(rst2.seq, syn.seq);
  EXPECT_EQ((*c)->state(), TcpState::kSynSent);
  EXPECT_EQ(s.counters().dropped(TcpDrop::kAckInvalid), 2u);
  // The real SYN-ACK still completes the handshake.
  s.Inject({.flags = kSyn | kAck, .seq = 900, .ack = syn.seq + 1,
            .options = s.SynOptions(false, false, -1)});
  EXPECT_EQ(s.Expect(kAck).ack, 901u);
  EXPECT_EQ((*c)->state(), TcpState::kEstablished);
  (*c)->Abort();
}

TEST(HandshakeTest, UnacceptableFinalAckInSynReceivedGetsReset) {
  // RFC 9293 §3.10.7.4 fifth (SYN-RECEIVED): <SEQ=SEG.ACK><CTL=RST>.
  TcpScript s;
  Listener* l = s.Listen();
  s.Inject({.flags = kSyn, .seq = 1000, .options = s.SynOptions(false, false, -1)});
  Sent synack = s.Expect(kSyn | kAck);
  s.Inject({.flags = kAck, .seq = 1001, .ack = synack.seq + 5});
  Sent rst = s.Expect(kRst);
  EXPECT_EQ(rst.seq, synack.seq + 5);
  EXPECT_EQ(l->Accept(), nullptr);
  EXPECT_EQ(s.layer().request_sock_count(), 1u) << "the handshake may still complete";
  s.Inject({.flags = kAck, .seq = 1001, .ack = synack.seq + 1});
  EXPECT_NE(l->Accept(), nullptr);
}

TEST(HandshakeTest, RstInSynReceivedOnlyWhenExact) {
  // RFC 5961 §3.2 in SYN-RECEIVED: exact RCV.NXT resets (back to LISTEN);
  // any other RST is dropped.
  TcpScript s;
  s.Listen();
  s.Inject({.flags = kSyn, .seq = 1000, .options = s.SynOptions(false, false, -1)});
  s.Expect(kSyn | kAck);
  s.Inject({.flags = kRst, .seq = 1500});
  s.ExpectNothing();
  EXPECT_EQ(s.layer().request_sock_count(), 1u);
  s.Inject({.flags = kRst, .seq = 1001});
  s.ExpectNothing();
  EXPECT_EQ(s.layer().request_sock_count(), 0u);
  EXPECT_EQ(s.counters().resets_in, 1u);
}

TEST(HandshakeTest, SynAckRoundTripSetsRto) {
  // RFC 6298 §2.2: first sample R = 100 ms: SRTT 100, RTTVAR 50,
  // RTO = 100 + 4 * 50 = 300 ms.
  TcpScript s;
  Listener* l = s.Listen();
  s.Inject({.flags = kSyn, .seq = 1000, .options = s.SynOptions(false, false, -1)});
  Sent synack = s.Expect(kSyn | kAck);
  s.Advance(Duration::Millis(100));
  s.Inject({.flags = kAck, .seq = 1001, .ack = synack.seq + 1});
  Tcb* tcb = l->Accept();
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(tcb->rto(), Duration::Millis(300));
  tcb->Abort();
}

TEST(HandshakeTest, RetransmittedSynMeansInitialWindowOfOneSegment) {
  // RFC 5681 §3.1 / RFC 6928 §2: after a lost SYN or SYN-ACK the initial
  // window MUST be one segment; RFC 6298 §5.7: without an RTT sample from
  // the handshake the RTO is 3 s when data transfer begins.
  TcpScript s;
  absl::StatusOr<Tcb*> c = s.layer().Connect(TcpScript::kLocalIp, TcpScript::kPeerIp,
                                             TcpScript::kPeerPort, s.now(), TcpScript::kLocalPort);
  ASSERT_TRUE(c.ok());
  Tcb* tcb = *c;
  Sent syn = s.Expect(kSyn);
  std::optional<Sent> again = s.AdvanceUntilSent(Duration::Seconds(2));
  ASSERT_TRUE(again.has_value());
  s.Inject({.flags = kSyn | kAck, .seq = 900, .ack = syn.seq + 1, .window = 65535,
            .options = s.SynOptions(false, false, -1)});
  s.Expect(kAck);
  EXPECT_EQ(tcb->cwnd(), 1460u);
  EXPECT_EQ(tcb->rto(), Duration::Seconds(3));
  EXPECT_EQ(s.Write(tcb, std::string(5000, 'z')), 5000u);
  EXPECT_EQ(s.Expect(kAck).payload.size(), 1460u);
  s.ExpectNothing();
  tcb->Abort();
}

TEST(HandshakeTest, ShutdownWhileConnectingSendsFinOnceEstablished) {
  // RFC 9293 §3.10.4: CLOSE in SYN-SENT/SYN-RECEIVED is queued until the
  // connection is established.
  TcpScript s;
  absl::StatusOr<Tcb*> c = s.layer().Connect(TcpScript::kLocalIp, TcpScript::kPeerIp,
                                             TcpScript::kPeerPort, s.now(), TcpScript::kLocalPort);
  ASSERT_TRUE(c.ok());
  Tcb* tcb = *c;
  Sent syn = s.Expect(kSyn);
  tcb->Shutdown();
  s.Flush();
  s.ExpectNothing();
  s.Inject({.flags = kSyn | kAck, .seq = 900, .ack = syn.seq + 1,
            .options = s.SynOptions(false, false, -1)});
  Sent fin = s.Expect(kFin | kAck);
  EXPECT_EQ(fin.seq, syn.seq + 1);
  EXPECT_EQ(fin.ack, 901u);
  EXPECT_EQ(tcb->state(), TcpState::kFinWait1);
  tcb->Abort();
}

TEST(HandshakeTest, SynToClosedPortGetsRstAck) {
  // RFC 9293 §3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
  TcpScript s;
  s.Inject({.flags = kSyn, .seq = 77, .options = s.SynOptions()});
  Sent rst = s.Expect(kRst | kAck);
  EXPECT_EQ(rst.seq, 0u);
  EXPECT_EQ(rst.ack, 78u);
  EXPECT_EQ(s.counters().dropped(TcpDrop::kNoListener), 1u);
  // A RST to a closed port is not answered.
  s.Inject({.flags = kRst, .seq = 77});
  s.ExpectNothing();
}

TEST(HandshakeTest, AckToListenerGetsRstWithSeqOfItsAck) {
  // RFC 9293 §3.10.7.2 second: an ACK in LISTEN → <SEQ=SEG.ACK><CTL=RST>.
  TcpScript s;
  s.Listen();
  s.Inject({.flags = kAck, .seq = 5000, .ack = 123456});
  Sent rst = s.Expect(kRst);
  EXPECT_EQ(rst.seq, 123456u);
  // No cookie was issued recently, so it is not even checked as one.
  EXPECT_EQ(s.counters().syn_cookies_invalid, 0u);
  // FIN or data without ACK: dropped silently (fourth: "other text").
  s.Inject({.flags = kFin, .seq = 5000});
  s.ExpectNothing();
}

TEST(HandshakeTest, SynDroppedWhenAcceptQueueFull) {
  TcpScript s;
  absl::StatusOr<Listener*> l =
      s.layer().Listen(TcpScript::kLocalIp, 81, ListenOptions{.accept_backlog = 1});
  ASSERT_TRUE(l.ok());
  s.Inject({.flags = kSyn, .seq = 1000, .options = s.SynOptions(false, false, -1),
            .destination_port = 81});
  Sent synack = s.Expect(kSyn | kAck);
  s.Inject({.flags = kAck, .seq = 1001, .ack = synack.seq + 1, .destination_port = 81});
  EXPECT_EQ((*l)->pending(), 1u);
  s.Inject({.flags = kSyn, .seq = 5000, .options = s.SynOptions(false, false, -1),
            .source_port = 40001, .destination_port = 81});
  s.ExpectNothing();
  EXPECT_EQ(s.counters().dropped(TcpDrop::kAcceptQueueFull), 1u);
}

}  // namespace
}  // namespace locus::tcp
