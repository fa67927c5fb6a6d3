// Packet scripts: SYN cookies (RFC 4987 §3.6) when the SYN backlog is
// full: what the cookie SYN-ACK carries, how the final ACK is judged, and
// that the resulting connection works.
#include "gtest/gtest.h"
#include "stack/tcp/tcp_script.h"
#include "stack/tcp_support/syn_cookie.h"

namespace locus::tcp {
namespace {

// A listener on kLocalPort with room for one half-open connection, already
// taken by a handshake from port 40001 that never completes.
Listener* FullBacklog(TcpScript& s) {
  absl::StatusOr<Listener*> l = s.layer().Listen(TcpScript::kLocalIp, TcpScript::kLocalPort,
                                                 ListenOptions{.syn_backlog = 1});
  EXPECT_TRUE(l.ok());
  s.Inject({.flags = kSyn, .seq = 9000, .options = s.SynOptions(), .source_port = 40001});
  s.Expect(kSyn | kAck);
  EXPECT_EQ(s.layer().request_sock_count(), 1u);
  return l.ok() ? *l : nullptr;
}

TEST(SynCookieTest, CookieSynAckCarriesMssAndOptionsInTheTimestamp) {
  // RFC 4987 §3.6: no state; the MSS is in the ISN; window scale and
  // SACK-permitted survive in the low bits of our TSval (as Linux).
  TcpScript s;
  FullBacklog(s);
  s.Inject({.flags = kSyn, .seq = 1000, .options = s.SynOptions(true, true, 7, 1460, 777)});
  Sent synack = s.Expect(kSyn | kAck);
  EXPECT_EQ(synack.ack, 1001u);
  ASSERT_TRUE(synack.options.mss.has_value());
  EXPECT_EQ(*synack.options.mss, 1460);
  ASSERT_TRUE(synack.options.window_scale.has_value());
  EXPECT_EQ(*synack.options.window_scale, 3);
  EXPECT_TRUE(synack.options.sack_permitted);
  ASSERT_TRUE(synack.options.timestamps.has_value());
  EXPECT_EQ(synack.options.timestamps->echo_reply, 777u);
  EXPECT_EQ(synack.options.timestamps->value & 0x1f, 0x10u | 7u) << "SACK bit | wscale 7";
  EXPECT_EQ(s.counters().syn_cookies_sent, 1u);
  EXPECT_EQ(s.layer().request_sock_count(), 1u) << "no state for the cookie";
  // Not retransmitted: there is nothing to retransmit from.
  s.Advance(Duration::Seconds(2));
  std::optional<Sent> later = s.Next();
  while (later.has_value() && later->tuple.remote_port == 40001) later = s.Next();
  EXPECT_FALSE(later.has_value());
}

TEST(SynCookieTest, WithoutTimestampsOnlyTheMssSurvives) {
  TcpScript s;
  FullBacklog(s);
  s.Inject({.flags = kSyn, .seq = 1000, .options = s.SynOptions(false, true, 7, 1460)});
  Sent synack = s.Expect(kSyn | kAck);
  ASSERT_TRUE(synack.options.mss.has_value());
  EXPECT_FALSE(synack.options.window_scale.has_value());
  EXPECT_FALSE(synack.options.sack_permitted);
  EXPECT_FALSE(synack.options.timestamps.has_value());
}

TEST(SynCookieTest, ValidFinalAckCreatesAWorkingConnection) {
  TcpScript s;
  Listener* l = FullBacklog(s);
  ASSERT_NE(l, nullptr);
  s.Inject({.flags = kSyn, .seq = 1000, .options = s.SynOptions(true, true, 7, 1400, 777)});
  Sent synack = s.Expect(kSyn | kAck);
  wire::TcpOptions ts;
  ts.timestamps = wire::TcpTimestamps{778, synack.options.timestamps->value};
  s.Inject({.flags = kAck, .seq = 1001, .ack = synack.seq + 1, .window = 1000, .options = ts});
  s.ExpectNothing();
  EXPECT_EQ(s.counters().syn_cookies_valid, 1u);
  Tcb* tcb = l->Accept();
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(tcb->state(), TcpState::kEstablished);
  EXPECT_EQ(tcb->snd_mss(), 1300) << "1400 rounds down to the 1300 table entry";
  EXPECT_EQ(tcb->snd_wscale(), 7);
  EXPECT_EQ(tcb->rcv_wscale(), 3);
  EXPECT_EQ(tcb->snd_wnd(), 1000u << 7);
  EXPECT_TRUE(tcb->sack_enabled());
  EXPECT_TRUE(tcb->timestamps_enabled());
  // Data both ways.
  ts.timestamps = wire::TcpTimestamps{779, s.last_tsval()};
  s.Inject({.flags = kAck | kPsh, .seq = 1001, .ack = synack.seq + 1, .window = 1000,
            .options = ts, .payload = "ping"});
  EXPECT_EQ(s.ReadAll(tcb), "ping");
  // Reading opens the window beyond the 64 KiB of the SYN-ACK: update.
  Sent update = s.Expect(kAck);
  EXPECT_EQ(update.ack, 1005u);
  EXPECT_EQ(update.window, 262144 >> 3);
  EXPECT_EQ(s.Write(tcb, std::string(3000, 'p')), 3000u);
  Sent d = s.Expect(kAck);
  EXPECT_EQ(d.seq, synack.seq + 1);
  EXPECT_EQ(d.ack, 1005u);
  EXPECT_EQ(d.payload.size(), 1288u) << "1300 - 12 bytes of timestamps";
  tcb->Abort();
}

TEST(SynCookieTest, FinalAckWithDataIsDelivered) {
  // The first data segment can stand in for a lost final ACK.
  TcpScript s;
  Listener* l = FullBacklog(s);
  ASSERT_NE(l, nullptr);
  s.Inject({.flags = kSyn, .seq = 1000, .options = s.SynOptions(false, false, -1, 1460)});
  Sent synack = s.Expect(kSyn | kAck);
  s.Inject({.flags = kAck | kPsh, .seq = 1001, .ack = synack.seq + 1, .payload = "GET /"});
  Tcb* tcb = l->Accept();
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(s.ReadAll(tcb), "GET /");
  EXPECT_EQ(tcb->snd_mss(), 1460);
  EXPECT_FALSE(tcb->sack_enabled());
  EXPECT_EQ(tcb->snd_wscale(), 0);
  tcb->Abort();
}

TEST(SynCookieTest, ForgedAckGetsRst) {
  // A wrong cookie is just an ACK in LISTEN: <SEQ=SEG.ACK><CTL=RST>.
  TcpScript s;
  Listener* l = FullBacklog(s);
  ASSERT_NE(l, nullptr);
  s.Inject({.flags = kSyn, .seq = 1000, .options = s.SynOptions(false, false, -1)});
  Sent synack = s.Expect(kSyn | kAck);
  s.Inject({.flags = kAck, .seq = 1001, .ack = synack.seq + 2});
  EXPECT_EQ(s.Expect(kRst).seq, synack.seq + 2);
  // Right cookie, wrong client ISN (SEG.SEQ - 1 is part of the MAC).
  s.Inject({.flags = kAck, .seq = 1002, .ack = synack.seq + 1});
  EXPECT_EQ(s.Expect(kRst).seq, synack.seq + 1);
  EXPECT_EQ(s.counters().syn_cookies_invalid, 2u);
  EXPECT_EQ(s.counters().dropped(TcpDrop::kBadCookie), 2u);
  EXPECT_EQ(s.counters().syn_cookies_valid, 0u);
  EXPECT_EQ(l->Accept(), nullptr);
}

TEST(SynCookieTest, CookieExpiresAfterTwoSlots) {
  // syn_cookie.h: valid in its 64 s slot and the next one.
  TcpScript s;
  Listener* l = FullBacklog(s);
  ASSERT_NE(l, nullptr);
  s.Inject({.flags = kSyn, .seq = 1000, .options = s.SynOptions(false, false, -1)});
  Sent synack = s.Expect(kSyn | kAck);
  s.Jump(Duration::Seconds(129));
  while (s.Next().has_value()) {
  }
  s.Inject({.flags = kAck, .seq = 1001, .ack = synack.seq + 1});
  EXPECT_EQ(s.Expect(kRst).seq, synack.seq + 1);
  EXPECT_EQ(l->Accept(), nullptr);
}

TEST(SynCookieTest, MssWithoutOptionIs536) {
  // RFC 9293 §3.7.1 default, first entry of the cookie MSS table.
  TcpScript s;
  Listener* l = FullBacklog(s);
  ASSERT_NE(l, nullptr);
  s.Inject({.flags = kSyn, .seq = 1000});
  Sent synack = s.Expect(kSyn | kAck);
  s.Inject({.flags = kAck, .seq = 1001, .ack = synack.seq + 1});
  Tcb* tcb = l->Accept();
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(tcb->snd_mss(), 536);
  tcb->Abort();
}

TEST(SynCookieTest, WithoutCookiesAFullBacklogDropsTheSyn) {
  TcpConfig config = TcpScript::DefaultConfig();
  config.syn_cookies = false;
  TcpScript s(config);
  FullBacklog(s);
  s.Inject({.flags = kSyn, .seq = 1000, .options = s.SynOptions()});
  s.ExpectNothing();
  EXPECT_EQ(s.counters().dropped(TcpDrop::kSynBacklogFull), 1u);
  EXPECT_EQ(s.counters().syn_cookies_sent, 0u);
  // And an ACK to the listener is answered with RST, never taken as a cookie.
  s.Inject({.flags = kAck, .seq = 1001, .ack = 5});
  EXPECT_EQ(s.Expect(kRst).seq, 5u);
  EXPECT_EQ(s.counters().syn_cookies_invalid, 0u);
}

}  // namespace
}  // namespace locus::tcp
