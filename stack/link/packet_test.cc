#include "stack/link/packet.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace locus::link {
namespace {

TEST(HeapPacketPoolTest, AllocatesUntilEmptyThenRecovers) {
  HeapPacketPool pool(2);
  Packet* a = pool.Allocate();
  Packet* b = pool.Allocate();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(pool.Allocate(), nullptr);
  EXPECT_EQ(pool.available(), 0u);
  FreePacket(a);
  EXPECT_EQ(pool.available(), 1u);
  PacketPtr c(pool.Allocate());
  EXPECT_EQ(c.get(), a);
  FreePacket(b);
}

TEST(PacketTest, HeadroomAndTailroomAreEnforced) {
  HeapPacketPool pool(1);
  PacketPtr p(pool.Allocate());
  EXPECT_EQ(p->headroom(), kPacketHeadroom);
  EXPECT_EQ(p->tailroom(), kPacketDataRoom);
  ASSERT_NE(p->Append(kPacketDataRoom), nullptr);
  EXPECT_EQ(p->Append(1), nullptr);
  ASSERT_NE(p->Prepend(kPacketHeadroom), nullptr);
  EXPECT_EQ(p->Prepend(1), nullptr);
  EXPECT_EQ(p->length, kPacketBufferSize);
  EXPECT_FALSE(p->TrimFront(kPacketBufferSize + 1));
  EXPECT_TRUE(p->TrimFront(10));
  EXPECT_TRUE(p->TrimBack(10));
  EXPECT_EQ(p->length, kPacketBufferSize - 20);
}

TEST(PacketTest, AllocateResetsState) {
  HeapPacketPool pool(1);
  Packet* p = pool.Allocate();
  p->Append(100);
  p->flags = kTxTcpChecksum;
  FreePacket(p);
  p = pool.Allocate();
  EXPECT_EQ(p->length, 0);
  EXPECT_EQ(p->flags, 0u);
  EXPECT_EQ(p->headroom(), kPacketHeadroom);
  FreePacket(p);
}

}  // namespace
}  // namespace locus::link

namespace locus::link {
namespace {

TEST(HeapPacketPoolTest, FreesFromOtherThreadsComeBack) {
  HeapPacketPool pool(64);
  std::vector<Packet*> taken;
  for (int i = 0; i < 64; ++i) taken.push_back(pool.Allocate());
  EXPECT_EQ(pool.Allocate(), nullptr);
  std::thread other([&] {
    for (Packet* p : taken) FreePacket(p);
  });
  other.join();
  EXPECT_EQ(pool.available(), 64u);
  for (int i = 0; i < 64; ++i) {
    Packet* p = pool.Allocate();
    ASSERT_NE(p, nullptr) << i;
    taken[i] = p;
  }
  for (Packet* p : taken) FreePacket(p);
  EXPECT_EQ(pool.available(), 64u);
}

TEST(HeapPacketPoolTest, ConcurrentRemoteFreesWhileOwnerAllocates) {
  HeapPacketPool pool(1024);
  std::atomic<bool> done{false};

  std::vector<Packet*> batch;
  for (int round = 0; round < 200; ++round) {
    batch.clear();
    for (int i = 0; i < 256; ++i) {
      Packet* p = pool.Allocate();
      if (p != nullptr) batch.push_back(p);
    }
    std::thread freer([&] {
      for (Packet* p : batch) FreePacket(p);
    });
    freer.join();
  }
  done = true;
  EXPECT_EQ(pool.available(), 1024u);
}

}  // namespace
}  // namespace locus::link
