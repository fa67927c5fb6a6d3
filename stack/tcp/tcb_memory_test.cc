// Memory of an idle established connection: the Tcb (an ObjectPool slot)
// plus its flow-table entry. Target: at most 1 KiB beyond queued data.
#include <cstdio>

#include "gtest/gtest.h"
#include "stack/tcp/tcp_script.h"

namespace locus::tcp {
namespace {

// absl::flat_hash_map<FourTuple, FlowEntry>: a 16-byte key, a 16-byte
// value (kind + pointer) and one control byte per slot, at a load factor
// between 7/16 and 7/8 after growth.
constexpr size_t kFlowSlotBytes = sizeof(FourTuple) + 16 + 1;
constexpr size_t kFlowEntryWorstBytes = kFlowSlotBytes * 16 / 7;

TEST(MemoryTest, IdleEstablishedConnectionFitsInOneKiB) {
  std::printf(
      "sizeof(Tcb) = %zu: RttEstimator %zu, CongestionController %zu, SackScoreboard %zu, "
      "ReassemblyQueue %zu, SendBuffer %zu, ReceiveBuffer %zu, 3 x Timer %zu; flow-table "
      "entry %zu..%zu\n",
      sizeof(Tcb), sizeof(RttEstimator), sizeof(CongestionController), sizeof(SackScoreboard),
      sizeof(ReassemblyQueue), sizeof(SendBuffer), sizeof(ReceiveBuffer),
      3 * sizeof(timer::Timer), kFlowSlotBytes * 8 / 7, kFlowEntryWorstBytes);
  EXPECT_LE(sizeof(Tcb) + kFlowEntryWorstBytes, 1024u);
}

TEST(MemoryTest, IdleConnectionsHoldNoPacketBuffers) {
  // 200 established connections that exchanged data and went idle: every
  // buffer is back in the pool (queued data is the only packet memory).
  TcpScript s;
  Listener* l = s.Listen();
  ASSERT_NE(l, nullptr);
  std::vector<Tcb*> conns;
  for (uint16_t i = 0; i < 200; ++i) {
    uint16_t port = static_cast<uint16_t>(30000 + i);
    s.Inject({.flags = kSyn, .seq = 1000, .options = s.SynOptions(), .source_port = port});
    Sent synack = s.Expect(kSyn | kAck);
    s.Inject({.flags = kAck | kPsh, .seq = 1001, .ack = synack.seq + 1, .options = s.TsNext(),
              .payload = "hello", .source_port = port});
    Tcb* tcb = l->Accept();
    ASSERT_NE(tcb, nullptr);
    uint8_t buf[16];
    EXPECT_EQ(tcb->Read(buf), 5u);
    EXPECT_EQ(s.Write(tcb, "world"), 5u);  // carries the ACK and window update
    Sent reply = s.Expect(kAck | kPsh);
    while (s.Next().has_value()) {
    }
    s.Inject({.flags = kAck, .seq = 1006, .ack = reply.seq + 5, .options = s.TsNext(),
              .source_port = port});
    conns.push_back(tcb);
  }
  s.Advance(Duration::Millis(100));
  while (s.Next().has_value()) {
  }
  EXPECT_EQ(s.layer().connection_count(), 200u);
  EXPECT_EQ(s.pool().available(), s.pool().capacity());
  for (Tcb* t : conns) t->Abort();
  s.Flush();
}

}  // namespace
}  // namespace locus::tcp
