#include "stack/net/arp_cache.h"

#include "gtest/gtest.h"

namespace locus::net {
namespace {

const wire::Ipv4Address kIp = wire::Ipv4Address::FromOctets(10, 0, 0, 2);
const wire::MacAddress kMac({0x02, 0, 0, 0, 0, 2});

size_t Count(link::Packet* p) {
  size_t n = 0;
  for (; p != nullptr; p = p->next) ++n;
  return n;
}

void FreeChain(link::Packet* p) {
  while (p != nullptr) {
    link::Packet* next = p->next;
    link::FreePacket(p);
    p = next;
  }
}

TEST(ArpCacheTest, QueuesUntilLearnedThenReleases) {
  link::HeapPacketPool pool(16);
  ArpCache cache;
  Instant t0 = Instant::Zero();
  bool queued = false;
  ArpCache::Resolution r = cache.Resolve(kIp, t0, pool.Allocate(), &queued);
  EXPECT_FALSE(r.mac.has_value());
  EXPECT_TRUE(r.send_request);
  EXPECT_TRUE(queued);
  r = cache.Resolve(kIp, t0, pool.Allocate(), &queued);
  EXPECT_TRUE(queued);
  EXPECT_FALSE(r.send_request) << "one request per second (RFC 1122 §2.3.2.1)";
  link::Packet* waiting = cache.Learn(kIp, kMac, t0 + Duration::Millis(5));
  EXPECT_EQ(Count(waiting), 2u);
  FreeChain(waiting);
  r = cache.Resolve(kIp, t0 + Duration::Millis(6), nullptr, nullptr);
  ASSERT_TRUE(r.mac.has_value());
  EXPECT_EQ(*r.mac, kMac);
  EXPECT_EQ(pool.available(), 16u);
}

TEST(ArpCacheTest, PendingQueueLimitAndLimitPlusOne) {
  link::HeapPacketPool pool(16);
  ArpCacheConfig config;
  config.max_pending_per_neighbor = 3;
  ArpCache cache(config);
  bool queued = false;
  for (int i = 0; i < 3; ++i) {
    cache.Resolve(kIp, Instant::Zero(), pool.Allocate(), &queued);
    EXPECT_TRUE(queued);
  }
  link::Packet* extra = pool.Allocate();
  cache.Resolve(kIp, Instant::Zero(), extra, &queued);
  EXPECT_FALSE(queued);
  link::FreePacket(extra);
  EXPECT_EQ(cache.pending_dropped(), 1u);
  FreeChain(cache.Learn(kIp, kMac, Instant::Zero()));
  EXPECT_EQ(pool.available(), 16u);
}

TEST(ArpCacheTest, TotalPendingLimitAndLimitPlusOneAcrossNeighbours) {
  link::HeapPacketPool pool(16);
  ArpCacheConfig config;
  config.max_pending_per_neighbor = 3;
  config.max_pending_total = 4;
  ArpCache cache(config);
  const wire::Ipv4Address other = wire::Ipv4Address::FromOctets(10, 0, 0, 99);
  bool queued = false;
  for (int i = 0; i < 3; ++i) {
    cache.Resolve(kIp, Instant::Zero(), pool.Allocate(), &queued);
    EXPECT_TRUE(queued);
  }
  cache.Resolve(other, Instant::Zero(), pool.Allocate(), &queued);
  EXPECT_TRUE(queued);  // at the limit
  EXPECT_EQ(cache.pending_total(), 4u);
  link::Packet* extra = pool.Allocate();
  ArpCache::Resolution r = cache.Resolve(other, Instant::Zero(), extra, &queued);
  EXPECT_FALSE(queued);  // limit + 1: left with the caller
  EXPECT_FALSE(r.mac.has_value());
  link::FreePacket(extra);
  EXPECT_EQ(cache.pending_dropped(), 1u);
  // Resolving one neighbour releases its share for the others.
  FreeChain(cache.Learn(kIp, kMac, Instant::Zero()));
  EXPECT_EQ(cache.pending_total(), 1u);
  cache.Resolve(other, Instant::Zero(), pool.Allocate(), &queued);
  EXPECT_TRUE(queued);
  // Expiry releases the rest.
  EXPECT_EQ(cache.Expire(Instant::Zero() + Duration::Seconds(31)), 1u);
  EXPECT_EQ(cache.pending_total(), 0u);
  EXPECT_EQ(pool.available(), 16u);
}

TEST(ArpCacheTest, RefreshesAfterReachableTimeButKeepsUsingEntry) {
  ArpCache cache;
  cache.Learn(kIp, kMac, Instant::Zero());
  ArpCache::Resolution r = cache.Resolve(kIp, Instant::Zero() + Duration::Seconds(59), nullptr, nullptr);
  EXPECT_TRUE(r.mac.has_value());
  EXPECT_FALSE(r.send_request);
  r = cache.Resolve(kIp, Instant::Zero() + Duration::Seconds(61), nullptr, nullptr);
  EXPECT_TRUE(r.mac.has_value());
  EXPECT_TRUE(r.send_request);
  EXPECT_EQ(cache.Expire(Instant::Zero() + Duration::Seconds(89)), 0u);
  EXPECT_EQ(cache.Expire(Instant::Zero() + Duration::Seconds(91)), 1u);
  EXPECT_FALSE(cache.Peek(kIp).has_value());
}

TEST(ArpCacheTest, UpdateOnlyTouchesExistingEntries) {
  ArpCache cache;
  EXPECT_EQ(cache.Update(kIp, kMac, Instant::Zero()), nullptr);
  EXPECT_FALSE(cache.Peek(kIp).has_value());
  cache.Learn(kIp, kMac, Instant::Zero());
  wire::MacAddress other({0x02, 0, 0, 0, 0, 9});
  cache.Update(kIp, other, Instant::Zero());
  EXPECT_EQ(*cache.Peek(kIp), other);
}

TEST(ArpCacheTest, EntryLimitAndLimitPlusOne) {
  ArpCacheConfig config;
  config.max_entries = 2;
  ArpCache cache(config);
  cache.Learn(wire::Ipv4Address(1), kMac, Instant::Zero());
  cache.Learn(wire::Ipv4Address(2), kMac, Instant::Zero());
  EXPECT_EQ(cache.size(), 2u);
  cache.Learn(wire::Ipv4Address(3), kMac, Instant::Zero());
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_FALSE(cache.Peek(wire::Ipv4Address(3)).has_value());
}

}  // namespace
}  // namespace locus::net
