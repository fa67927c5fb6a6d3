// SendBuffer and ReceiveBuffer: byte accounting, chaining across packet
// buffers, coalescing of small payloads, and that every buffer goes back to
// its pool.
#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "stack/link/packet.h"
#include "stack/tcp/receive_buffer.h"
#include "stack/tcp/send_buffer.h"

namespace locus::tcp {
namespace {

std::vector<uint8_t> Pattern(size_t n, uint8_t seed = 0) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 31 + (i >> 8));
  return v;
}

TEST(SendBufferTest, AppendSpansBuffersAndCopiesOutAnyRange) {
  link::HeapPacketPool pool(64);
  {
    SendBuffer b;
    std::vector<uint8_t> data = Pattern(10000);
    EXPECT_EQ(b.Append(data, 1 << 20, pool), 10000u);
    EXPECT_EQ(b.size(), 10000u);
    // 10000 bytes in buffers of kPacketBufferSize (storage starts at 0).
    EXPECT_EQ(b.buffers(), (10000 + link::kPacketBufferSize - 1) / link::kPacketBufferSize);
    std::vector<uint8_t> out(3000);
    b.CopyOut(2000, 3000, out.data());
    EXPECT_EQ(0, std::memcmp(out.data(), data.data() + 2000, 3000));
    b.Consume(4500);
    EXPECT_EQ(b.size(), 5500u);
    b.CopyOut(0, 100, out.data());
    EXPECT_EQ(0, std::memcmp(out.data(), data.data() + 4500, 100));
  }
  EXPECT_EQ(pool.available(), pool.capacity());
}

TEST(SendBufferTest, AppendStopsAtLimitAndAtPoolExhaustion) {
  link::HeapPacketPool pool(2);
  SendBuffer b;
  std::vector<uint8_t> data = Pattern(10000);
  EXPECT_EQ(b.Append(std::span<const uint8_t>(data).first(100), 60, pool), 60u);
  EXPECT_EQ(b.Append(data, 60, pool), 0u) << "limit reached";
  // Two buffers of 2176 bytes hold 4352 bytes; the pool then runs dry.
  EXPECT_EQ(b.Append(data, 1 << 20, pool), 2u * link::kPacketBufferSize - 60);
  EXPECT_EQ(pool.available(), 0u);
  b.Clear();
  EXPECT_EQ(pool.available(), 2u);
  EXPECT_EQ(b.size(), 0u);
}

TEST(ReceiveBufferTest, CoalescesSmallPayloadsAndReadsInOrder) {
  link::HeapPacketPool pool(8);
  {
    ReceiveBuffer r;
    for (int i = 0; i < 4; ++i) {
      link::Packet* p = pool.Allocate();
      uint8_t* d = p->Append(10);
      for (int j = 0; j < 10; ++j) d[j] = static_cast<uint8_t>(i * 10 + j);
      r.Append(p);
    }
    EXPECT_EQ(r.size(), 40u);
    EXPECT_EQ(r.buffers(), 1u) << "small payloads copy into the tail buffer";
    EXPECT_EQ(pool.available(), 7u);
    uint8_t out[25];
    EXPECT_EQ(r.Read(out), 25u);
    for (int j = 0; j < 25; ++j) EXPECT_EQ(out[j], j);
    EXPECT_EQ(r.Front().size(), 15u);
    EXPECT_EQ(r.Front()[0], 25);
    link::Packet* taken = r.TakeFront();
    ASSERT_NE(taken, nullptr);
    EXPECT_EQ(taken->length, 15u);
    EXPECT_EQ(r.size(), 0u);
    link::FreePacket(taken);
  }
  EXPECT_EQ(pool.available(), 8u);
}

TEST(ReceiveBufferTest, LargePayloadsAreChainedNotCopied) {
  link::HeapPacketPool pool(8);
  {
    ReceiveBuffer r;
    for (int i = 0; i < 3; ++i) {
      link::Packet* p = pool.Allocate();
      std::memset(p->Append(1000), i, 1000);
      r.Append(p);
    }
    EXPECT_EQ(r.buffers(), 3u);
    r.Consume(1500);
    EXPECT_EQ(r.size(), 1500u);
    EXPECT_EQ(r.buffers(), 2u);
    EXPECT_EQ(r.Front().size(), 500u);
    EXPECT_EQ(r.Front()[0], 1);
  }
  EXPECT_EQ(pool.available(), 8u);
}

}  // namespace
}  // namespace locus::tcp
