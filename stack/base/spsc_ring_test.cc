#include "stack/base/spsc_ring.h"

#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace locus {
namespace {

std::unique_ptr<SpscRing<uint64_t>> MakeRing(uint32_t capacity, uint32_t start = 0) {
  auto ring = SpscRing<uint64_t>::CreateWithStartIndex(capacity, start);
  EXPECT_TRUE(ring.ok()) << ring.status();
  return ring.ok() ? *std::move(ring) : nullptr;
}

TEST(SpscRingTest, RejectsBadCapacities) {
  EXPECT_FALSE(SpscRing<uint64_t>::Create(0).ok());
  EXPECT_FALSE(SpscRing<uint64_t>::Create(3).ok());
  EXPECT_FALSE(SpscRing<uint64_t>::Create(1000).ok());
  EXPECT_FALSE(SpscRing<uint64_t>::Create(kMaxSpscRingCapacity + 1).ok());
  EXPECT_FALSE(SpscRing<uint64_t>::Create(kMaxSpscRingCapacity * 2).ok());
  EXPECT_TRUE(SpscRing<uint64_t>::Create(kMinSpscRingCapacity).ok());
  EXPECT_TRUE(SpscRing<uint64_t>::Create(kMaxSpscRingCapacity).ok());
}

TEST(SpscRingTest, HeadAndTailLiveOnSeparateCacheLines) {
  EXPECT_EQ(alignof(SpscRing<void*>), kCacheLineSize);
  EXPECT_GE(sizeof(SpscRing<void*>), 3 * kCacheLineSize);
}

TEST(SpscRingTest, EmptyRingDequeuesNothing) {
  auto ring = MakeRing(8);
  uint64_t out[4] = {};
  EXPECT_EQ(ring->DequeueBurst(out, 4), 0u);
  EXPECT_FALSE(ring->Dequeue(out));
  EXPECT_EQ(ring->SizeApprox(), 0u);
}

TEST(SpscRingTest, FillsToCapacityAndRefusesCapacityPlusOne) {
  for (uint32_t capacity : {1u, 2u, 8u, 64u}) {
    auto ring = MakeRing(capacity);
    for (uint64_t i = 0; i < capacity; ++i) ASSERT_TRUE(ring->Enqueue(i)) << capacity;
    EXPECT_EQ(ring->SizeApprox(), capacity);
    EXPECT_FALSE(ring->Enqueue(999)) << capacity;
    // One dequeue makes room for exactly one more.
    uint64_t v = 0;
    ASSERT_TRUE(ring->Dequeue(&v));
    EXPECT_EQ(v, 0u);
    EXPECT_TRUE(ring->Enqueue(capacity));
    EXPECT_FALSE(ring->Enqueue(999));
    for (uint64_t i = 1; i <= capacity; ++i) {
      ASSERT_TRUE(ring->Dequeue(&v));
      EXPECT_EQ(v, i);
    }
    EXPECT_FALSE(ring->Dequeue(&v));
  }
}

TEST(SpscRingTest, BurstEnqueueTakesWhatFitsAndBulkIsAllOrNothing) {
  auto ring = MakeRing(8);
  std::vector<uint64_t> in(9);
  for (uint64_t i = 0; i < in.size(); ++i) in[i] = 100 + i;
  // capacity + 1 items: the burst takes capacity, the bulk takes none.
  EXPECT_FALSE(ring->EnqueueBulk(in.data(), 9));
  EXPECT_EQ(ring->SizeApprox(), 0u);
  EXPECT_TRUE(ring->EnqueueBulk(in.data(), 5));
  EXPECT_EQ(ring->EnqueueBurst(in.data() + 5, 4), 3u);
  EXPECT_EQ(ring->EnqueueBurst(in.data(), 1), 0u);
  EXPECT_FALSE(ring->EnqueueBulk(in.data(), 1));

  uint64_t out[16] = {};
  EXPECT_EQ(ring->DequeueBurst(out, 16), 8u);
  for (uint64_t i = 0; i < 8; ++i) EXPECT_EQ(out[i], 100 + i);
  EXPECT_EQ(ring->DequeueBurst(out, 16), 0u);
  EXPECT_TRUE(ring->EnqueueBulk(in.data(), 8));
  EXPECT_EQ(ring->DequeueBurst(out, 3), 3u);
  EXPECT_EQ(out[2], 102u);
}

TEST(SpscRingTest, ZeroLengthBurstsAreNoOps) {
  auto ring = MakeRing(4);
  uint64_t v = 7;
  EXPECT_EQ(ring->EnqueueBurst(&v, 0), 0u);
  EXPECT_TRUE(ring->EnqueueBulk(&v, 0));
  EXPECT_EQ(ring->DequeueBurst(&v, 0), 0u);
  EXPECT_EQ(ring->SizeApprox(), 0u);
}

TEST(SpscRingTest, IndicesWrapAt32Bits) {
  auto ring = MakeRing(4, 0xffffffffu - 5);
  uint64_t next_in = 0, next_out = 0;
  for (int round = 0; round < 10; ++round) {
    uint64_t batch[3] = {next_in, next_in + 1, next_in + 2};
    ASSERT_TRUE(ring->EnqueueBulk(batch, 3));
    next_in += 3;
    EXPECT_EQ(ring->SizeApprox(), 3u);
    uint64_t out[4];
    ASSERT_EQ(ring->DequeueBurst(out, 4), 3u);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(out[i], next_out++);
  }
  // Full and empty still hold across the wrap.
  for (uint64_t i = 0; i < 4; ++i) ASSERT_TRUE(ring->Enqueue(i));
  EXPECT_FALSE(ring->Enqueue(4));
  EXPECT_EQ(ring->SizeApprox(), 4u);
}

struct FakePacket {
  int id;
};

TEST(SpscRingTest, CarriesPointers) {
  auto made = SpscRing<FakePacket*>::Create(4);
  ASSERT_TRUE(made.ok());
  auto& ring = *made;
  FakePacket packets[3] = {{1}, {2}, {3}};
  FakePacket* burst[3] = {&packets[0], &packets[1], &packets[2]};
  ASSERT_EQ(ring->EnqueueBurst(burst, 3), 3u);
  FakePacket* out[3] = {};
  ASSERT_EQ(ring->DequeueBurst(out, 3), 3u);
  EXPECT_EQ(out[0]->id, 1);
  EXPECT_EQ(out[2], &packets[2]);
}

// One producer and one consumer thread move a sequence through the ring in
// bursts of varying size; the consumer checks that every value arrives once
// and in order. Small capacities maximise full/empty transitions. Bounded in
// count and in wall time: the test fails rather than hangs.
void Stress(uint32_t capacity, uint64_t count, uint32_t start = 0) {
  auto ring = MakeRing(capacity, start);
  ASSERT_NE(ring, nullptr);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::atomic<bool> timed_out{false};

  std::thread producer([&] {
    uint64_t next = 0;
    uint64_t batch[32];
    uint32_t burst = 1;
    while (next < count) {
      const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(burst, count - next));
      for (uint32_t i = 0; i < n; ++i) batch[i] = next + i;
      const uint32_t sent = ring->EnqueueBurst(batch, n);
      next += sent;
      burst = burst % 32 + 1;
      if (sent == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
          timed_out = true;
          return;
        }
        std::this_thread::yield();
      }
    }
  });

  uint64_t expected = 0;
  uint64_t mismatches = 0;
  uint64_t out[32];
  uint32_t burst = 7;
  while (expected < count) {
    const uint32_t got = ring->DequeueBurst(out, burst);
    for (uint32_t i = 0; i < got; ++i) {
      if (out[i] != expected) ++mismatches;
      expected = out[i] + 1;
    }
    burst = burst % 32 + 1;
    if (got == 0) {
      if (timed_out || std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::yield();
    }
  }
  producer.join();
  EXPECT_FALSE(timed_out);
  EXPECT_EQ(expected, count);
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(ring->SizeApprox(), 0u);
}

TEST(SpscRingStressTest, TwoThreadsCapacityOne) { Stress(1, 50'000); }
TEST(SpscRingStressTest, TwoThreadsCapacityFour) { Stress(4, 300'000); }
TEST(SpscRingStressTest, TwoThreadsCapacity1024) { Stress(1024, 2'000'000); }
TEST(SpscRingStressTest, TwoThreadsAcrossIndexWrap) { Stress(16, 200'000, 0xffffffffu - 100'000); }

}  // namespace
}  // namespace locus
