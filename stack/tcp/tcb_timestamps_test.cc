// Packet scripts: RFC 7323 timestamps: PAWS (§5), which TSval is echoed
// (§4.3), our TSval clock (§5.4).
#include "gtest/gtest.h"
#include "stack/tcp/tcp_script.h"

namespace locus::tcp {
namespace {

constexpr uint32_t kPeer = TcpScript::kPeerIsn + 1;

wire::TcpOptions TsOpt(uint32_t tsval, uint32_t tsecr) {
  wire::TcpOptions o;
  o.timestamps = wire::TcpTimestamps{tsval, tsecr};
  return o;
}

// After OpenPassive with timestamps, TS.Recent is 1001 (the final ACK's).
TEST(TimestampsTest, PawsDropsAnOldTsvalWithAnAck) {
  // RFC 7323 §5.3 R1: SEG.TSval < TS.Recent → send an ACK, drop.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss, /*timestamps=*/true);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1, .options = TsOpt(2000, s.last_tsval()),
            .payload = "new"});
  s.Advance(Duration::Millis(40));
  EXPECT_EQ(s.Expect(kAck).ack, kPeer + 3);
  s.Inject({.flags = kAck, .seq = kPeer + 3, .ack = iss + 1, .options = TsOpt(1999, s.last_tsval()),
            .payload = "old"});
  Sent ack = s.Expect(kAck);
  EXPECT_EQ(ack.ack, kPeer + 3) << "the data was not taken";
  ASSERT_TRUE(ack.options.timestamps.has_value());
  EXPECT_EQ(ack.options.timestamps->echo_reply, 2000u);
  EXPECT_EQ(s.counters().dropped(TcpDrop::kPaws), 1u);
  EXPECT_EQ(s.ReadAll(tcb), "new");
  // Within 500 ms a second PAWS failure is dropped without an ACK.
  s.Inject({.flags = kAck, .seq = kPeer + 3, .ack = iss + 1, .options = TsOpt(1998, s.last_tsval()),
            .payload = "old"});
  s.ExpectNothing();
  EXPECT_EQ(s.counters().dropped(TcpDrop::kPaws), 2u);
  tcb->Abort();
}

TEST(TimestampsTest, EqualTsvalPassesPaws) {
  // RFC 7323 §5.3 R1 drops only SEG.TSval < TS.Recent.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss, true);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1, .options = TsOpt(1001, s.last_tsval()),
            .payload = "same"});
  EXPECT_EQ(tcb->readable(), 4u);
  tcb->Abort();
}

TEST(TimestampsTest, RstIsNotSubjectToPaws) {
  // RFC 7323 §5.3: a RST is acceptable whatever its timestamp.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss, true);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kRst, .seq = kPeer, .options = TsOpt(5, 0)});
  EXPECT_EQ(tcb->close_reason(), CloseReason::kReset);
  tcb->Close();
}

TEST(TimestampsTest, PawsForgetsTsRecentAfter24Days) {
  // RFC 7323 §5.5: TS.Recent older than 24 days is not used for PAWS.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss, true);
  ASSERT_NE(tcb, nullptr);
  s.Jump(Duration::Seconds(25 * 24 * 3600));
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1, .options = TsOpt(10, s.last_tsval()),
            .payload = "revived"});
  EXPECT_EQ(tcb->readable(), 7u);
  EXPECT_EQ(s.counters().dropped(TcpDrop::kPaws), 0u);
  // ... and TS.Recent takes the new value (echoed from now on).
  std::optional<Sent> ack = s.AdvanceUntilSent(Duration::Millis(100));
  ASSERT_TRUE(ack.has_value());
  ASSERT_TRUE(ack->options.timestamps.has_value());
  EXPECT_EQ(ack->options.timestamps->echo_reply, 10u);
  tcb->Abort();
}

TEST(TimestampsTest, DelayedAckEchoesTheEarliestUnacknowledgedTsval) {
  // RFC 7323 §4.3 (2) and case (A): TS.Recent is taken only from segments
  // with SEG.SEQ =< Last.ACK.sent, so a delayed ACK echoes the first.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss, true);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1, .options = TsOpt(3000, s.last_tsval()),
            .payload = std::string(10, 'a')});
  s.Advance(Duration::Millis(5));
  s.Inject({.flags = kAck, .seq = kPeer + 10, .ack = iss + 1,
            .options = TsOpt(3005, s.last_tsval()), .payload = std::string(10, 'b')});
  std::optional<Sent> ack = s.AdvanceUntilSent(Duration::Millis(100));
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->ack, kPeer + 20);
  ASSERT_TRUE(ack->options.timestamps.has_value());
  EXPECT_EQ(ack->options.timestamps->echo_reply, 3000u);
  tcb->Abort();
}

TEST(TimestampsTest, OutOfOrderSegmentDoesNotUpdateTsRecentButTheFillingOneDoes) {
  // RFC 7323 §4.3 case (C): the duplicate ACK for an out-of-order segment
  // echoes the last in-order TSval; the segment filling the hole updates
  // TS.Recent.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss, true, true);
  ASSERT_NE(tcb, nullptr);
  s.Inject({.flags = kAck, .seq = kPeer + 100, .ack = iss + 1,
            .options = TsOpt(4000, s.last_tsval()), .payload = std::string(100, 'b')});
  Sent dup = s.Expect(kAck);
  ASSERT_TRUE(dup.options.timestamps.has_value());
  EXPECT_EQ(dup.options.timestamps->echo_reply, 1001u);
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 1, .options = TsOpt(4010, s.last_tsval()),
            .payload = std::string(100, 'a')});
  Sent ack = s.Expect(kAck);
  EXPECT_EQ(ack.ack, kPeer + 200);
  EXPECT_EQ(ack.options.timestamps->echo_reply, 4010u);
  tcb->Abort();
}

TEST(TimestampsTest, OurTsvalIsAMillisecondClock) {
  // RFC 7323 §5.4: a clock of 1 ms to 1 s per tick (1 ms here), with a
  // per-connection random offset.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss, true);
  ASSERT_NE(tcb, nullptr);
  s.Write(tcb, "a");
  Sent first = s.Expect(kAck | kPsh);
  s.Advance(Duration::Millis(250));
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 2, .options = s.TsNext()});
  s.Write(tcb, "b");
  Sent second = s.Expect(kAck | kPsh);
  ASSERT_TRUE(first.options.timestamps.has_value());
  ASSERT_TRUE(second.options.timestamps.has_value());
  EXPECT_EQ(second.options.timestamps->value - first.options.timestamps->value, 250u);
  // The offset hides the clock: two connections differ in TSval.
  uint32_t now_ms = static_cast<uint32_t>(s.now().nanos() / 1000000);
  EXPECT_NE(second.options.timestamps->value, now_ms);
  tcb->Abort();
}

TEST(TimestampsTest, TimestampRttSampleOnlyFromAdvancingAcks) {
  // RFC 7323 §4.2: only ACKs that advance SND.UNA give samples, so
  // duplicate ACKs with stale echoes do not inflate the RTT.
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.OpenPassive(&iss, true);
  ASSERT_NE(tcb, nullptr);
  s.Write(tcb, std::string(100, 'x'));
  Sent d = s.Expect(kAck | kPsh);
  s.Advance(Duration::Millis(100));
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 101,
            .options = TsOpt(2000, d.options.timestamps->value)});
  EXPECT_EQ(tcb->rto(), Duration::Millis(300));
  // A duplicate ACK 2 s later echoing the same old TSval.
  s.Advance(Duration::Seconds(2));
  s.Inject({.flags = kAck, .seq = kPeer, .ack = iss + 101,
            .options = TsOpt(2001, d.options.timestamps->value)});
  EXPECT_EQ(tcb->rto(), Duration::Millis(300));
  tcb->Abort();
}

}  // namespace
}  // namespace locus::tcp
