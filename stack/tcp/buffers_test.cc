#include <numeric>
#include <vector>

#include "gtest/gtest.h"
#include "stack/link/packet.h"
#include "stack/tcp/receive_buffer.h"
#include "stack/tcp/send_buffer.h"

namespace locus::tcp {
namespace {

std::vector<uint8_t> Pattern(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 31 + 7);
  return v;
}

TEST(SendBufferTest, AppendCopyOutConsumeAcrossBuffers) {
  link::HeapPacketPool pool(64);
  std::vector<uint8_t> data = Pattern(10000);
  {
    SendBuffer b;
    EXPECT_EQ(b.Append(data, 1 << 20, pool), data.size());
    EXPECT_EQ(b.size(), data.size());
    EXPECT_GE(b.buffers(), data.size() / link::kPacketBufferSize);
    std::vector<uint8_t> out(3000);
    b.CopyOut(4000, 3000, out.data());
    EXPECT_TRUE(std::equal(out.begin(), out.end(), data.begin() + 4000));
    b.Consume(4500);
    b.CopyOut(0, 3000, out.data());
    EXPECT_TRUE(std::equal(out.begin(), out.end(), data.begin() + 4500));
    b.Consume(b.size());
    EXPECT_EQ(b.size(), 0u);
    EXPECT_EQ(b.buffers(), 0u) << "an idle connection holds no buffers";
  }
  EXPECT_EQ(pool.available(), 64u);
}

TEST(SendBufferTest, LimitAndLimitPlusOne) {
  link::HeapPacketPool pool(64);
  SendBuffer b;
  std::vector<uint8_t> data = Pattern(101);
  EXPECT_EQ(b.Append(data, 100, pool), 100u) << "stops at the limit";
  EXPECT_EQ(b.Append(data, 100, pool), 0u);
  b.Clear();
  EXPECT_EQ(pool.available(), 64u);
}

TEST(SendBufferTest, StopsWhenThePoolIsEmpty) {
  link::HeapPacketPool pool(2);
  SendBuffer b;
  std::vector<uint8_t> data = Pattern(3 * link::kPacketBufferSize);
  size_t n = b.Append(data, 1 << 20, pool);
  EXPECT_EQ(n, 2u * link::kPacketBufferSize);
  b.Clear();
  EXPECT_EQ(pool.available(), 2u);
}

TEST(SendBufferTest, AppendPacketSplicesWithoutCopy) {
  link::HeapPacketPool pool(8);
  SendBuffer b;
  link::Packet* p = pool.Allocate();
  std::vector<uint8_t> data = Pattern(100);
  std::copy(data.begin(), data.end(), p->Append(100));
  EXPECT_FALSE(b.AppendPacket(p, 99)) << "over the limit: refused, still the caller's";
  EXPECT_TRUE(b.AppendPacket(p, 100));
  std::vector<uint8_t> out(100);
  b.CopyOut(0, 100, out.data());
  EXPECT_EQ(out, data);
  b.Clear();
  EXPECT_EQ(pool.available(), 8u);
}

TEST(ReceiveBufferTest, ReadPeekConsumeAndCoalesce) {
  link::HeapPacketPool pool(64);
  {
    ReceiveBuffer b;
    std::vector<uint8_t> all;
    for (int i = 0; i < 20; ++i) {
      link::Packet* p = pool.Allocate();
      std::vector<uint8_t> chunk = Pattern(10 + i);
      std::copy(chunk.begin(), chunk.end(), p->Append(static_cast<uint16_t>(chunk.size())));
      all.insert(all.end(), chunk.begin(), chunk.end());
      b.Append(p);
    }
    EXPECT_EQ(b.size(), all.size());
    EXPECT_EQ(b.buffers(), 1u) << "small segments are copied into the tail buffer";
    EXPECT_EQ(pool.available(), 63u);
    std::vector<uint8_t> out(all.size());
    EXPECT_EQ(b.Read(std::span<uint8_t>(out.data(), 5)), 5u);
    std::span<const uint8_t> front = b.Peek();
    ASSERT_FALSE(front.empty());
    EXPECT_EQ(front[0], all[5]);
    b.Consume(front.size());
    EXPECT_EQ(b.size(), 0u);
  }
  EXPECT_EQ(pool.available(), 64u);
}

TEST(ReceiveBufferTest, LargeSegmentsAreKeptAsIs) {
  link::HeapPacketPool pool(8);
  ReceiveBuffer b;
  for (int i = 0; i < 3; ++i) {
    link::Packet* p = pool.Allocate();
    p->Append(kCoalesceBelow);  // at the limit: not coalesced
    b.Append(p);
  }
  EXPECT_EQ(b.buffers(), 3u);
  link::Packet* first = b.TakeFront();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->length, kCoalesceBelow);
  link::FreePacket(first);
  EXPECT_EQ(b.size(), 2u * kCoalesceBelow);
  b.Clear();
  EXPECT_EQ(pool.available(), 8u);
}

}  // namespace
}  // namespace locus::tcp
