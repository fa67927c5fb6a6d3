// Packet scripts: opening handshakes and option negotiation.
#include "gtest/gtest.h"
#include "stack/tcp/tcp_script.h"

namespace locus::tcp {
namespace {

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
  ASSERT_TRUE(synack.options.timestamps.has_value());
  EXPECT_EQ(synack.options.timestamps->echo_reply, 1000u);
  s.ExpectNothing();
  EXPECT_EQ(l->Accept(), nullptr) << "no connection before the final ACK";
  s.Inject({.flags = kAck, .seq = 1001, .ack = synack.seq + 1, .window = 502,
            .options = s.Ts(1001)});
  s.ExpectNothing();
  Tcb* tcb = l->Accept();
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(tcb->state(), TcpState::kEstablished);
  EXPECT_TRUE(tcb->sack_enabled());
  EXPECT_TRUE(tcb->timestamps_enabled());
  EXPECT_EQ(tcb->snd_wscale(), 7);
  EXPECT_EQ(tcb->snd_wnd(), 502u << 7);
  EXPECT_EQ(tcb->snd_mss(), 1460);
  EXPECT_EQ(s.counters().passive_opens, 1u);
  tcb->Abort();
}

TEST(HandshakeTest, ActiveOpenThenDataBothWays) {
  TcpScript s;
  uint32_t iss = 0;
  Tcb* tcb = s.ConnectConnection(5000, s.SynOptions(), &iss);
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(tcb->state(), TcpState::kEstablished);
  EXPECT_TRUE(s.EventsFor(tcb) & kEventConnected);
  std::string hello = "hello";
  EXPECT_EQ(tcb->Write({reinterpret_cast<const uint8_t*>(hello.data()), hello.size()}), 5u);
  s.Flush();
  Sent data = s.Expect(kAck | kPsh);
  EXPECT_EQ(data.seq, iss + 1);
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

TEST(HandshakeTest, SynToClosedPortGetsRstAck) {
  TcpScript s;
  s.Inject({.flags = kSyn, .seq = 77, .options = s.SynOptions()});
  Sent rst = s.Expect(kRst | kAck);
  EXPECT_EQ(rst.seq, 0u);
  EXPECT_EQ(rst.ack, 78u);
  EXPECT_EQ(s.counters().dropped(TcpDrop::kNoListener), 1u);
}

}  // namespace
}  // namespace locus::tcp
