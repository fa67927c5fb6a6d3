// Packet scripts: data transfer in both directions (RFC 9293 §3.7-3.8,
// RFC 1122 §4.2.3.2-4, RFC 5681 §3.1 and §4.2, RFC 896/9293 §3.7.4 Nagle).
#include "gtest/gtest.h"
#include "stack/tcp/tcp_script.h"

namespace locus::tcp {
namespace {

constexpr uint32_t kPeer = TcpScript::kPeerIsn + 1;  // the peer's first data octet

TEST(DataTest, SegmentsAtMssWithPshOnTheLast) {
  // RFC 9293 §3.7.1: segments of at most Eff.snd.MSS; PSH when the send
  // buffer empties (§3.9.1 SEND, as BSD and Linux set it).
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(s.Write(tcb, std::string(5000, 'd')), 5000u);
  const uint32_t sizes[] = {1460, 1460, 1460, 620};
  uint32_t seq = iss + 1;
  for (size_t i = 0; i < 4; ++i) {
    Sent d = s.Expect(i == 3 ? (kAck | kPsh) : kAck);
    EXPECT_EQ(d.seq, seq);
    EXPECT_EQ(d.ack, kPeer);
    EXPECT_EQ(d.payload.size(), sizes[i]);
    // Free 256 KiB >> our shift of 3.
    EXPECT_EQ(d.window, 32768);
    seq += sizes[i];
  }
  s.ExpectNothing();
  EXPECT_EQ(tcb->snd_nxt().raw(), iss + 5001);
  EXPECT_EQ(s.counters().bytes_out, 5000u);
  tcb->Abort();
}

TEST(DataTest, TimestampsTakeTwelveBytesOfEachSegment) {
  // RFC 7323 §3.2 (TS on every segment) and RFC 6691 (options come out of
  // the MSS): 1460 - 12 = 1448 bytes per segment; TSecr echoes TS.Recent.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss, /*timestamps=*/true, /*sack=*/true);
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(s.Write(tcb, std::string(2000, 'd')), 2000u);
  Sent a = s.Expect(kAck);
  Sent b = s.Expect(kAck | kPsh);
  EXPECT_EQ(a.payload.size(), 1448u);
  EXPECT_EQ(b.payload.size(), 552u);
  ASSERT_TRUE(a.options.timestamps.has_value());
  EXPECT_EQ(a.options.timestamps->echo_reply, 1001u) << "the final ACK's TSval";
  tcb->Abort();
}

TEST(DataTest, LoneSegmentIsAckedAfter40Ms) {
  // RFC 1122 §4.2.3.2 (delayed ACK, < 0.5 s); Linux's 40 ms.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kAck | kPsh, .seq = kPeer, .ack = iss + 1, .payload = std::string(100, 'q')});
  s.Advance(Duration::Millis(39));
  s.ExpectNothing();
  s.Advance(Duration::Millis(1));
  Sent ack = s.Expect(kAck);
  EXPECT_EQ(ack.ack, kPeer + 100);
  EXPECT_EQ(ack.seq, iss + 1);
  EXPECT_EQ(ack.window, (262144 - 100) >> 3);
  EXPECT_EQ(s.counters().delayed_acks, 1u);
  EXPECT_EQ(s.counters().bytes_in, 100u);
  tcb->Abort();
}

TEST(DataTest, EverySecondFullSegmentIsAckedAtOnce) {
  // RFC 5681 §4.2 / RFC 1122 §4.2.3.2: an ACK at least for every second
  // full-sized segment.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1, .payload = std::string(1460, 'a')});
  s.ExpectNothing();
  s.Inject({.flags = kAck, .seq = kPeer + 1460, .ack = iss + 1, .payload = std::string(1460, 'b')});
  EXPECT_EQ(s.Expect(kAck).ack, kPeer + 2920);
  s.Inject({.flags = kAck, .seq = kPeer + 2920, .ack = iss + 1, .payload = std::string(1460, 'c')});
  s.ExpectNothing();
  EXPECT_EQ(s.AdvanceUntilSent(Duration::Millis(100))->ack, kPeer + 4380);
  tcb->Abort();
}

TEST(DataTest, EverySecondFullSegmentWithTimestamps) {
  // The same with timestamps: full-sized is 1448 bytes here.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss, /*timestamps=*/true);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1, .options = s.TsNext(),
            .payload = std::string(1448, 'a')});
  s.ExpectNothing();
  s.Inject({.flags = kAck, .seq = kPeer + 1448, .ack = iss + 1, .options = s.TsNext(),
            .payload = std::string(1448, 'b')});
  Sent ack = s.Expect(kAck);
  EXPECT_EQ(ack.ack, kPeer + 2896);
  tcb->Abort();
}

// A connection with a 4 KiB receive buffer (no window scaling needed).
TcpConfig SmallReceiveBuffer() {
  TcpConfig config = TcpScript::DefaultConfig();
  config.receive_buffer = 4096;
  return config;
}

TEST(DataTest, ReadingAFullBufferSendsAWindowUpdate) {
  // RFC 9293 §3.8.6.2.2 / RFC 1122 §4.2.3.3: the receiver announces the
  // reopened window as soon as it is worth it.
  TcpScript s(SmallReceiveBuffer());
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(tcb->rcv_wscale(), 0);
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1, .payload = std::string(1460, 'a')});
  s.Inject({.flags = kAck, .seq = kPeer + 1460, .ack = iss + 1, .payload = std::string(1460, 'b')});
  Sent ack = s.Expect(kAck);
  EXPECT_EQ(ack.ack, kPeer + 2920);
  EXPECT_EQ(ack.window, 4096 - 2920);
  s.Inject({.flags = kAck | kPsh, .seq = kPeer + 2920, .ack = iss + 1,
            .payload = std::string(1176, 'c')});
  Sent zero = *s.AdvanceUntilSent(Duration::Millis(100));
  EXPECT_EQ(zero.ack, kPeer + 4096);
  EXPECT_EQ(zero.window, 0);
  EXPECT_EQ(s.ReadAll(tcb).size(), 4096u);
  Sent update = s.Expect(kAck);
  EXPECT_EQ(update.ack, kPeer + 4096);
  EXPECT_EQ(update.window, 4096);
  s.ExpectNothing();
  tcb->Abort();
}

TEST(DataTest, ReceiverSillyWindowAvoidance) {
  // RFC 1122 §4.2.3.3: keep RCV.NXT + RCV.WND fixed until the window can
  // move by min(RCV.BUFF / 2, Eff.snd.MSS) = min(2048, 1460) = 1460.
  TcpScript s(SmallReceiveBuffer());
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1, .payload = std::string(1460, 'a')});
  s.Inject({.flags = kAck, .seq = kPeer + 1460, .ack = iss + 1, .payload = std::string(1460, 'b')});
  s.Expect(kAck);
  s.Inject({.flags = kAck, .seq = kPeer + 2920, .ack = iss + 1, .payload = std::string(1176, 'c')});
  EXPECT_EQ(s.AdvanceUntilSent(Duration::Millis(50))->window, 0);
  uint8_t buf[1000];
  EXPECT_EQ(tcb->Read(buf), 1000u);
  s.Flush();
  s.ExpectNothing();  // 1000 < 1460: no update
  // A zero-window probe is answered, still with window 0 (§3.8.6.1).
  s.Inject({.flags = kAck, .seq = kPeer + 4096, .ack = iss + 1, .payload = "p"});
  Sent probe_ack = s.Expect(kAck);
  EXPECT_EQ(probe_ack.ack, kPeer + 4096) << "the probe octet is not taken";
  EXPECT_EQ(probe_ack.window, 0) << "a 1000-byte window would be silly";
  EXPECT_EQ(tcb->Read(std::span<uint8_t>(buf, 500)), 500u);
  s.Flush();
  Sent update = s.Expect(kAck);
  EXPECT_EQ(update.window, 1500);
  tcb->Abort();
}

TEST(DataTest, NagleHoldsASmallSegmentWhileDataIsUnacknowledged) {
  // RFC 9293 §3.7.4 (RFC 896): with Nagle on, a runt waits for the ACK.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  tcb->set_nodelay(false);
  EXPECT_EQ(s.Write(tcb, "first"), 5u);
  EXPECT_EQ(s.Expect(kAck | kPsh).payload, "first");
  EXPECT_EQ(s.Write(tcb, "second"), 6u);
  EXPECT_EQ(s.Write(tcb, "third"), 5u);
  s.ExpectNothing();
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 6});
  Sent d = s.Expect(kAck | kPsh);
  EXPECT_EQ(d.seq, iss + 6);
  EXPECT_EQ(d.payload, "secondthird") << "coalesced while held";
  tcb->Abort();
}

TEST(DataTest, NagleNeverHoldsFullSegments) {
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  tcb->set_nodelay(false);
  EXPECT_EQ(s.Write(tcb, std::string(1470, 'n')), 1470u);
  EXPECT_EQ(s.Expect(kAck).payload.size(), 1460u);
  s.ExpectNothing();  // the 10-byte tail waits for the ACK
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1461});
  EXPECT_EQ(s.Expect(kAck | kPsh).payload.size(), 10u);
  tcb->Abort();
}

TEST(DataTest, NoDelaySendsEverySmallWrite) {
  // The default for a proxy (TcpConfig::nagle = false).
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(s.Write(tcb, "one"), 3u);
  EXPECT_EQ(s.Write(tcb, "two"), 3u);
  EXPECT_EQ(s.Expect(kAck | kPsh).payload, "one");
  Sent two = s.Expect(kAck | kPsh);
  EXPECT_EQ(two.payload, "two");
  EXPECT_EQ(two.seq, iss + 4);
  tcb->Abort();
}

TEST(DataTest, SenderSillyWindowAvoidance) {
  // RFC 9293 §3.8.6.2.1: a segment smaller than a full one and than the
  // rest of the data goes only if it is at least half the largest window
  // the peer offered.
  TcpScript s;
  Listener* l = s.Listen();
  s.Inject({.flags = kSyn, .seq = 1000, .window = 3000, .options = s.SynOptions(false, false, -1)});
  Sent synack = s.Expect(kSyn | kAck);
  s.Inject({.flags = kAck, .seq = kPeer, .ack = synack.seq + 1, .window = 3000});
  Tcb* tcb = l->Accept();
  ASSERT_NE(tcb, nullptr);
  uint32_t iss = synack.seq;
  EXPECT_EQ(s.Write(tcb, std::string(5000, 'w')), 5000u);
  EXPECT_EQ(s.Expect(kAck).payload.size(), 1460u);
  EXPECT_EQ(s.Expect(kAck).payload.size(), 1460u);
  s.ExpectNothing();  // 80 bytes of window left: a silly segment
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 2921, .window = 3000});
  Sent c = s.Expect(kAck);
  EXPECT_EQ(c.seq, iss + 2921);
  EXPECT_EQ(c.payload.size(), 1460u);
  Sent d = s.Expect(kAck | kPsh);
  EXPECT_EQ(d.payload.size(), 620u) << "the rest: all queued data may go";
  tcb->Abort();
}

TEST(DataTest, SenderSwsOverrideTimeoutSendsIntoASmallWindow) {
  // RFC 9293 §3.8.6.2.1 (d): a window that stays below half the largest
  // one seen is used once the override timeout (here the persist timer,
  // one RTO) expires; waiting for a larger one would stall for good.
  TcpScript s;
  Listener* l = s.Listen();
  s.Inject({.flags = kSyn, .seq = 1000, .window = 3000, .options = s.SynOptions(false, false, -1)});
  Sent synack = s.Expect(kSyn | kAck);
  s.Inject({.flags = kAck, .seq = kPeer, .ack = synack.seq + 1, .window = 3000});
  Tcb* tcb = l->Accept();
  ASSERT_NE(tcb, nullptr);
  uint32_t iss = synack.seq;
  EXPECT_EQ(s.Write(tcb, std::string(10000, 'w')), 10000u);
  s.Expect(kAck);
  s.Expect(kAck);
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 2921, .window = 1000});
  s.ExpectNothing();  // 1000 < 3000 / 2
  Instant t0 = s.now();
  std::optional<Sent> forced = s.AdvanceUntilSent(Duration::Seconds(5));
  ASSERT_TRUE(forced.has_value());
  EXPECT_EQ(forced->seq, iss + 2921);
  EXPECT_EQ(forced->payload.size(), 1000u);
  EXPECT_EQ(forced->at - t0, tcb->rto());
  EXPECT_EQ(s.counters().connections_current, 1u);
  tcb->Abort();
}

TEST(DataTest, ReplyCarriesTheAckOfTheRequest) {
  // RFC 9293 §3.8.6.3: an ACK rides on outgoing data; no separate ACK.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kAck | kPsh, .seq = kPeer, .ack = iss + 1, .payload = "GET / HTTP/1.1\r\n\r\n"});
  // The application reads and answers in the same poll.
  uint8_t buf[64];
  EXPECT_EQ(tcb->Read(buf), 18u);
  EXPECT_EQ(s.Write(tcb, "HTTP/1.1 200 OK\r\n\r\n"), 19u);
  Sent reply = s.Expect(kAck | kPsh);
  EXPECT_EQ(reply.ack, kPeer + 18);
  s.Advance(Duration::Millis(100));
  s.ExpectNothing();
  EXPECT_EQ(s.counters().delayed_acks, 0u);
  tcb->Abort();
}

TEST(DataTest, ShortWriteThenWritableEventWhenAcked) {
  TcpConfig config = TcpScript::DefaultConfig();
  config.send_buffer = 3000;
  TcpScript s(config);
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(tcb->writable(), 3000u);
  EXPECT_EQ(s.Write(tcb, std::string(5000, 'w')), 3000u);
  EXPECT_EQ(tcb->writable(), 0u);
  s.Expect(kAck);
  s.Expect(kAck);
  EXPECT_EQ(s.Expect(kAck | kPsh).payload.size(), 80u);
  EXPECT_FALSE(s.EventsFor(tcb) & kEventWritable);
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1461});
  EXPECT_TRUE(s.EventsFor(tcb) & kEventWritable);
  EXPECT_EQ(tcb->writable(), 1460u);
  tcb->Abort();
}

TEST(DataTest, DataBeyondTheWindowIsTrimmedAndAckedAtOnce) {
  // RFC 9293 §3.10.7.4: keep what fits, ACK immediately.
  TcpConfig config = TcpScript::DefaultConfig();
  config.receive_buffer = 2000;
  TcpScript s(config);
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1, .payload = std::string(1460, 'a')});
  s.ExpectNothing();
  s.Inject({.flags = kAck | kFin, .seq = kPeer + 1460, .ack = iss + 1,
            .payload = std::string(1460, 'b')});
  Sent ack = s.Expect(kAck);
  EXPECT_EQ(ack.ack, kPeer + 2000) << "540 bytes kept, FIN beyond the window dropped";
  EXPECT_EQ(ack.window, 0);
  EXPECT_EQ(tcb->readable(), 2000u);
  EXPECT_FALSE(tcb->peer_closed());
  tcb->Abort();
}

TEST(DataTest, OldDuplicateDataIsAckedAtOnce) {
  // RFC 9293 §3.10.7.4 first check: an unacceptable segment gets
  // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> (not rate limited for old data).
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1, .payload = "abc"});
  s.Advance(Duration::Millis(40));
  EXPECT_EQ(s.Expect(kAck).ack, kPeer + 3);
  for (int i = 0; i < 2; ++i) {
    s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1, .payload = "abc"});
    Sent dup = s.Expect(kAck);
    EXPECT_EQ(dup.ack, kPeer + 3);
    EXPECT_EQ(dup.seq, iss + 1);
  }
  EXPECT_EQ(s.ReadAll(tcb), "abc");
  EXPECT_EQ(s.counters().dropped(TcpDrop::kOutOfWindow), 2u);
  tcb->Abort();
}

TEST(DataTest, PartlyOldSegmentDeliversOnlyTheNewBytes) {
  // RFC 9293 §3.10.7.4: "only the new parts" of an overlapping segment.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1, .payload = "hello"});
  s.Inject({.flags = kAck, .seq = kPeer + 3, .ack = iss + 1, .payload = "lo world"});
  EXPECT_EQ(s.ReadAll(tcb), "hello world");
  EXPECT_EQ(tcb->rcv_nxt().raw(), kPeer + 11);
  tcb->Abort();
}

TEST(DataTest, SlowStartGrowsTwoSegmentsPerAckAtMost) {
  // RFC 5681 §3.1 eq. 2 with RFC 3465 §2.2 byte counting (L = 2 SMSS).
  TcpConfig config = TcpScript::DefaultConfig();
  config.congestion = CongestionAlgorithm::kNewReno;
  TcpScript s(config);
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss);
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(tcb->cwnd(), 14600u);  // RFC 6928: 10 segments
  EXPECT_EQ(s.Write(tcb, std::string(40000, 's')), 40000u);
  for (int i = 0; i < 10; ++i) s.Expect(i == 9 ? kAck : kAck);
  s.ExpectNothing();  // cwnd full
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1 + 3 * 1460});
  EXPECT_EQ(tcb->cwnd(), 14600u + 2 * 1460) << "3 segments acked, growth capped at 2";
  // cwnd - flight = 17520 - 7 * 1460 = 5 segments.
  for (int i = 0; i < 5; ++i) s.Expect(kAck);
  s.ExpectNothing();
  tcb->Abort();
}

}  // namespace
}  // namespace locus::tcp
