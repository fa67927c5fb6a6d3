#include "stack/link/fault_injecting_link.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <vector>

#include "gtest/gtest.h"
#include "stack/link/memory_link.h"
#include "stack/link/test_frames.h"

namespace locus::link {
namespace {

using testing::MakePacket;
using testing::TagOf;
using testing::UdpFrame;

// A memory pair whose A side is wrapped in fault injection, on a virtual
// clock the test advances.
struct Rig {
  explicit Rig(FaultConfig config, MemoryLinkConfig memory = {.ring_size = 1024,
                                                               .pool_size = 8192}) {
    pair = std::move(MemoryLinkPair::Create(std::move(memory))).value();
    auto f = FaultInjectingLink::Create(pair->a(), std::move(config), VirtualClock(&now));
    EXPECT_TRUE(f.ok()) << f.status();
    faulty = std::move(f).value();
  }
  ~Rig() {
    faulty.reset();  // returns held frames to the pools before they go
  }

  // Sends tags [first, first + count) through the faulty side.
  uint16_t Send(uint32_t first, uint16_t count, uint16_t queue = 0) {
    std::vector<Packet*> p;
    for (uint32_t t = first; t < first + count; ++t) {
      p.push_back(MakePacket(faulty->pool(queue), UdpFrame({.tag = t})));
    }
    const uint16_t taken = faulty->Transmit(queue, p.data(), count);
    for (uint16_t i = taken; i < count; ++i) FreePacket(p[i]);
    return taken;
  }
  // What the far end has received so far.
  std::vector<int64_t> Drain(Link& link, uint16_t queue = 0) {
    std::vector<int64_t> tags;
    Packet* got[kMaxBurst];
    for (int round = 0; round < 10000; ++round) {
      const uint16_t n = link.Receive(queue, got, kMaxBurst);
      if (n == 0) break;
      for (uint16_t i = 0; i < n; ++i) {
        tags.push_back(TagOf(got[i]->bytes()));
        FreePacket(got[i]);
      }
    }
    return tags;
  }

  Instant now = Instant::Zero();
  std::unique_ptr<MemoryLinkPair> pair;
  std::unique_ptr<FaultInjectingLink> faulty;
};

TEST(FaultInjectingLinkTest, RejectsBadConfig) {
  auto pair = std::move(MemoryLinkPair::Create({})).value();
  Instant now;
  auto create = [&](FaultConfig c, Clock clock) {
    return FaultInjectingLink::Create(pair->a(), std::move(c), std::move(clock)).status();
  };
  EXPECT_FALSE(create({.tx = {.loss = -0.01}}, nullptr).ok());
  EXPECT_FALSE(create({.rx = {.duplicate = 1.01}}, nullptr).ok());
  EXPECT_FALSE(create({.tx = {.loss = std::numeric_limits<double>::quiet_NaN()}}, nullptr).ok());
  EXPECT_FALSE(create({.rx = {.delay = 0.5, .delay_min = Duration::Millis(2),
                              .delay_max = Duration::Millis(1)}},
                      VirtualClock(&now))
                   .ok());
  EXPECT_FALSE(create({.tx = {.reorder_delay = Duration::Millis(-1)}}, nullptr).ok());
  // Holding frames needs a clock; loss and duplication do not.
  EXPECT_FALSE(create({.tx = {.reorder = 0.1}}, nullptr).ok());
  EXPECT_TRUE(create({.tx = {.loss = 1, .duplicate = 1}, .rx = {.loss = 0}}, nullptr).ok());
  EXPECT_TRUE(create({.tx = {.reorder = 1}}, VirtualClock(&now)).ok());
}

TEST(FaultInjectingLinkTest, PassesEverythingThroughWhenInactive) {
  Rig rig({});
  ASSERT_EQ(rig.Send(0, 20), 20);
  std::vector<int64_t> tags = rig.Drain(rig.pair->b());
  ASSERT_EQ(tags.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(tags[i], i);
  EXPECT_EQ(rig.faulty->fault_stats(Direction::kTx).packets, 0u);
  EXPECT_EQ(rig.faulty->info().driver, "memory");
  EXPECT_EQ(&rig.faulty->pool(0), &rig.pair->a().pool(0));
}

std::vector<int64_t> LossyRun(uint64_t seed) {
  Rig rig({.seed = seed, .tx = {.loss = 0.3}});
  std::vector<int64_t> all;
  for (uint32_t t = 0; t < 1000; t += 20) {
    EXPECT_EQ(rig.Send(t, 20), 20);
    for (int64_t tag : rig.Drain(rig.pair->b())) all.push_back(tag);
  }
  return all;
}

TEST(FaultInjectingLinkTest, SameSeedSameDrops) {
  const std::vector<int64_t> first = LossyRun(42);
  EXPECT_EQ(LossyRun(42), first);
  EXPECT_NE(LossyRun(43), first);
  EXPECT_GT(first.size(), 600u);
  EXPECT_LT(first.size(), 800u);
}

// Within five standard deviations of the binomial mean.
void ExpectNear(uint64_t observed, uint64_t trials, double p) {
  const double mean = trials * p;
  const double sigma = std::sqrt(trials * p * (1 - p));
  EXPECT_GE(observed, mean - 5 * sigma) << "p=" << p << " trials=" << trials;
  EXPECT_LE(observed, mean + 5 * sigma) << "p=" << p << " trials=" << trials;
}

TEST(FaultInjectingLinkTest, ProbabilitiesHoldOverManyFrames) {
  constexpr uint32_t kFrames = 20000;
  Rig rig({.seed = 7, .tx = {.loss = 0.05, .duplicate = 0.1}, .rx = {.loss = 0.2, .duplicate = 0.3}});
  // TX side: A sends, B counts.
  uint64_t at_b = 0;
  for (uint32_t t = 0; t < kFrames; t += kMaxBurst) {
    ASSERT_EQ(rig.Send(t, kMaxBurst), kMaxBurst);
    at_b += rig.Drain(rig.pair->b()).size();
  }
  const FaultStats tx = rig.faulty->fault_stats(Direction::kTx);
  EXPECT_EQ(tx.packets, kFrames);
  ExpectNear(tx.dropped, kFrames, 0.05);
  ExpectNear(tx.duplicated, kFrames - tx.dropped, 0.1);
  EXPECT_EQ(tx.duplicate_failed, 0u);
  EXPECT_EQ(at_b, kFrames - tx.dropped + tx.duplicated);

  // RX side: B sends plainly, the faulty A receives.
  uint64_t at_a = 0;
  std::map<int64_t, int> copies;
  for (uint32_t t = 0; t < kFrames; t += kMaxBurst) {
    std::vector<Packet*> p;
    for (uint32_t i = t; i < t + kMaxBurst; ++i) {
      p.push_back(MakePacket(rig.pair->b().pool(0), UdpFrame({.tag = i})));
    }
    ASSERT_EQ(rig.pair->b().Transmit(0, p.data(), kMaxBurst), kMaxBurst);
    for (int64_t tag : rig.Drain(*rig.faulty)) {
      ++copies[tag];
      ++at_a;
    }
  }
  const FaultStats rx = rig.faulty->fault_stats(Direction::kRx);
  EXPECT_EQ(rx.packets, kFrames);
  ExpectNear(rx.dropped, kFrames, 0.2);
  ExpectNear(rx.duplicated, kFrames - rx.dropped, 0.3);
  EXPECT_EQ(at_a, kFrames - rx.dropped + rx.duplicated);
  for (const auto& [tag, n] : copies) ASSERT_LE(n, 2) << tag;
  EXPECT_EQ(copies.size(), kFrames - rx.dropped);
}

TEST(FaultInjectingLinkTest, DuplicatesArriveBackToBack) {
  Rig rig({.tx = {.duplicate = 1}});
  ASSERT_EQ(rig.Send(0, 3), 3);
  EXPECT_EQ(rig.Drain(rig.pair->b()), (std::vector<int64_t>{0, 0, 1, 1, 2, 2}));
  EXPECT_EQ(rig.faulty->fault_stats(Direction::kTx).duplicated, 3u);
}

TEST(FaultInjectingLinkTest, DelayRunsInVirtualTime) {
  Rig rig({.tx = {.delay = 1, .delay_min = Duration::Millis(10), .delay_max = Duration::Millis(10)}});
  ASSERT_EQ(rig.Send(0, 5), 5);
  EXPECT_EQ(rig.faulty->held(0, Direction::kTx), 5u);
  EXPECT_EQ(rig.faulty->NextRelease(0), Instant::Zero() + Duration::Millis(10));
  EXPECT_TRUE(rig.Drain(rig.pair->b()).empty());
  rig.now = Instant::Zero() + Duration::Millis(10) - Duration::Nanos(1);
  EXPECT_EQ(rig.faulty->Flush(0), 0);
  EXPECT_TRUE(rig.Drain(rig.pair->b()).empty());
  rig.now = Instant::Zero() + Duration::Millis(10);
  EXPECT_EQ(rig.faulty->Flush(0), 5);
  EXPECT_EQ(rig.Drain(rig.pair->b()), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_FALSE(rig.faulty->NextRelease(0).has_value());
  EXPECT_EQ(rig.faulty->fault_stats(Direction::kTx).delayed, 5u);
}

TEST(FaultInjectingLinkTest, ReceivePollReleasesHeldTransmits) {
  Rig rig({.tx = {.reorder = 1, .reorder_delay = Duration::Micros(50)}});
  ASSERT_EQ(rig.Send(0, 2), 2);
  rig.now += Duration::Micros(50);
  Packet* none[1];
  EXPECT_EQ(rig.faulty->Receive(0, none, 1), 0);  // the owner's RX poll flushes TX
  EXPECT_EQ(rig.Drain(rig.pair->b()), (std::vector<int64_t>{0, 1}));
}

// Frames leave every 100us of virtual time and the far end polls right
// after each send. A reordered frame is held 1ms, so it must show up
// exactly ten sends late; every other frame at once; each exactly once.
void CheckReorder(Direction direction) {
  constexpr uint32_t kFrames = 2000;
  constexpr double kP = 0.2;
  const FaultProfile reorder{.reorder = kP, .reorder_delay = Duration::Millis(1)};
  FaultConfig config{.seed = 99};
  (direction == Direction::kTx ? config.tx : config.rx) = reorder;
  Rig rig(config);
  Link& sender = direction == Direction::kTx ? static_cast<Link&>(*rig.faulty) : rig.pair->b();
  Link& receiver = direction == Direction::kTx ? rig.pair->b() : static_cast<Link&>(*rig.faulty);

  std::map<int64_t, Instant> arrival;
  std::vector<int64_t> order;
  auto poll = [&] {
    if (direction == Direction::kTx) rig.faulty->Flush(0);
    for (int64_t tag : rig.Drain(receiver)) {
      EXPECT_TRUE(arrival.emplace(tag, rig.now).second) << "tag " << tag << " twice";
      order.push_back(tag);
    }
  };
  for (uint32_t t = 0; t < kFrames; ++t) {
    Packet* p = MakePacket(sender.pool(0), UdpFrame({.tag = t}));
    ASSERT_EQ(sender.Transmit(0, &p, 1), 1);
    poll();
    rig.now += Duration::Micros(100);
  }
  for (int i = 0; i < 20; ++i, rig.now += Duration::Micros(100)) poll();

  ASSERT_EQ(arrival.size(), kFrames);
  uint64_t late = 0;
  for (const auto& [tag, when] : arrival) {
    const Instant sent = Instant::Zero() + Duration::Micros(100) * tag;
    if (when == sent + Duration::Millis(1)) {
      ++late;
    } else {
      EXPECT_EQ(when, sent) << "tag " << tag;
    }
  }
  const FaultStats s = rig.faulty->fault_stats(direction);
  EXPECT_EQ(late, s.reordered);
  ExpectNear(late, kFrames, kP);
  EXPECT_FALSE(std::is_sorted(order.begin(), order.end()));
}

TEST(FaultInjectingLinkTest, ReordersOnTransmitInVirtualTime) { CheckReorder(Direction::kTx); }
TEST(FaultInjectingLinkTest, ReordersOnReceiveInVirtualTime) { CheckReorder(Direction::kRx); }

TEST(FaultInjectingLinkTest, DelayJitterStaysWithinBounds) {
  Rig rig({.rx = {.delay = 1, .delay_min = Duration::Millis(1), .delay_max = Duration::Millis(5)}});
  std::map<int64_t, Instant> arrival;
  for (uint32_t t = 0; t < 300; ++t) {
    Packet* p = MakePacket(rig.pair->b().pool(0), UdpFrame({.tag = t}));
    ASSERT_EQ(rig.pair->b().Transmit(0, &p, 1), 1);
    for (int64_t tag : rig.Drain(*rig.faulty)) arrival.emplace(tag, rig.now);
    rig.now += Duration::Micros(100);
  }
  for (int i = 0; i < 60; ++i, rig.now += Duration::Micros(100)) {
    for (int64_t tag : rig.Drain(*rig.faulty)) arrival.emplace(tag, rig.now);
  }
  ASSERT_EQ(arrival.size(), 300u);
  Duration shortest = Duration::Infinite(), longest = Duration::Zero();
  for (const auto& [tag, when] : arrival) {
    const Duration d = when - (Instant::Zero() + Duration::Micros(100) * tag);
    shortest = std::min(shortest, d);
    longest = std::max(longest, d);
  }
  // Observed at 100us poll granularity.
  EXPECT_GE(shortest, Duration::Millis(1));
  EXPECT_LE(shortest, Duration::Micros(1200));
  EXPECT_LE(longest, Duration::Millis(5) + Duration::Micros(100));
  EXPECT_GT(longest, Duration::Micros(4800));
}

TEST(FaultInjectingLinkTest, HoldQueueLimit) {
  Rig rig({.tx = {.delay = 1, .delay_min = Duration::Millis(1), .delay_max = Duration::Millis(1)},
           .max_held = 4});
  ASSERT_EQ(rig.Send(0, 10), 10);
  EXPECT_EQ(rig.faulty->held(0, Direction::kTx), 4u);
  EXPECT_EQ(rig.faulty->fault_stats(Direction::kTx).held_full, 6u);
  EXPECT_EQ(rig.Drain(rig.pair->b()), (std::vector<int64_t>{4, 5, 6, 7, 8, 9}));
  rig.now += Duration::Millis(1);
  rig.faulty->Flush(0);
  EXPECT_EQ(rig.Drain(rig.pair->b()), (std::vector<int64_t>{0, 1, 2, 3}));
}

// When the port refuses part of a burst, the caller keeps exactly the
// refused suffix and nothing leaks or goes twice.
TEST(FaultInjectingLinkTest, PartialTransmitKeepsOwnershipStraight) {
  Rig rig({.tx = {.loss = 0.2, .duplicate = 0.3}}, {.ring_size = 16, .pool_size = 256});
  std::vector<int64_t> delivered;
  uint32_t next = 0;
  for (int round = 0; round < 200 && next < 1000; ++round) {
    next += rig.Send(next, static_cast<uint16_t>(std::min<uint32_t>(24, 1000 - next)));
    if (round % 3 == 2) {
      for (int64_t t : rig.Drain(rig.pair->b())) delivered.push_back(t);
    }
  }
  for (int64_t t : rig.Drain(rig.pair->b())) delivered.push_back(t);
  EXPECT_EQ(next, 1000u);
  const FaultStats s = rig.faulty->fault_stats(Direction::kTx);
  EXPECT_EQ(s.packets, 1000u);
  EXPECT_EQ(delivered.size(), s.packets - s.dropped + s.duplicated);
  EXPECT_TRUE(std::is_sorted(delivered.begin(), delivered.end()));
  EXPECT_GT(rig.pair->a().stats(0).tx_full, 0u);
  Packet* none[1];
  rig.faulty->Receive(0, none, 1);  // reclaims A's TX buffers
  EXPECT_EQ(rig.pair->a().pool(0).available(), 256u);
}

TEST(FaultInjectingLinkTest, DuplicateWithEmptyPoolIsCounted) {
  Rig rig({.rx = {.duplicate = 1}}, {.ring_size = 64, .pool_size = kMaxBurst});
  std::vector<Packet*> p;
  for (uint32_t t = 0; t < kMaxBurst; ++t) {
    p.push_back(MakePacket(rig.pair->b().pool(0), UdpFrame({.tag = t})));
  }
  ASSERT_EQ(rig.pair->b().Transmit(0, p.data(), kMaxBurst), kMaxBurst);
  // All of A's buffers hold originals, so no copy can be made.
  Packet* got[kMaxBurst];
  const uint16_t n = rig.faulty->Receive(0, got, kMaxBurst);
  EXPECT_EQ(n, kMaxBurst);
  EXPECT_EQ(rig.faulty->fault_stats(Direction::kRx).duplicate_failed, kMaxBurst);
  for (uint16_t i = 0; i < n; ++i) FreePacket(got[i]);
}

TEST(FaultInjectingLinkTest, DestructionReturnsHeldFrames) {
  Rig rig({.tx = {.delay = 1, .delay_min = Duration::Seconds(1), .delay_max = Duration::Seconds(1)},
           .rx = {.reorder = 1}});
  ASSERT_EQ(rig.Send(0, 7), 7);
  std::vector<Packet*> p;
  for (uint32_t t = 0; t < 3; ++t) p.push_back(MakePacket(rig.pair->b().pool(0), UdpFrame({.tag = t})));
  ASSERT_EQ(rig.pair->b().Transmit(0, p.data(), 3), 3);
  Packet* got[4];
  EXPECT_EQ(rig.faulty->Receive(0, got, 4), 0);
  EXPECT_EQ(rig.faulty->held(0, Direction::kRx), 3u);
  rig.faulty.reset();
  EXPECT_EQ(rig.pair->a().pool(0).available(), rig.pair->a().pool(0).capacity());
}

}  // namespace
}  // namespace locus::link
