#include "stack/steer/port_allocator.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "gtest/gtest.h"
#include "stack/steer/reta.h"

namespace locus::steer {
namespace {

using wire::Ipv4Address;

const Instant kT0 = Instant::FromNanos(1'000'000'000);
const ActiveDestination kBackendA{Ipv4Address::FromOctets(10, 0, 0, 1),
                                  Ipv4Address::FromOctets(10, 0, 1, 1), 8080};
const ActiveDestination kBackendB{Ipv4Address::FromOctets(10, 0, 0, 1),
                                  Ipv4Address::FromOctets(10, 0, 1, 2), 8080};
const ActiveDestination kBackendC{Ipv4Address::FromOctets(10, 0, 0, 1),
                                  Ipv4Address::FromOctets(10, 0, 1, 1), 9090};

FlowSteering PortHash(uint16_t cores) {
  return *FlowSteering::Create({cores, SteeringMode::kPortHash, std::nullopt});
}

PortAllocator MustCreate(const FlowSteering& steering, uint16_t core, PortRange range,
                         uint32_t max_destinations = kDefaultMaxDestinations) {
  auto a = PortAllocator::Create(steering, core, {range, max_destinations, 42});
  EXPECT_TRUE(a.ok()) << a.status();
  return *std::move(a);
}

// --- Options -------------------------------------------------------------------

TEST(PortAllocatorOptionsTest, Validation) {
  const FlowSteering s = PortHash(2);
  EXPECT_TRUE(PortAllocator::Create(s, 0).ok());
  EXPECT_TRUE(PortAllocator::Create(s, 1).ok());
  EXPECT_FALSE(PortAllocator::Create(s, 2).ok());
  // The range must start at the reserved-port limit or above.
  EXPECT_FALSE(PortAllocator::Create(s, 0, {{kReservedPortLimit - 1, 2000}}).ok());
  EXPECT_TRUE(PortAllocator::Create(s, 0, {{kReservedPortLimit, 2000}}).ok());
  EXPECT_FALSE(PortAllocator::Create(s, 0, {{3000, 2999}}).ok());
  EXPECT_TRUE(PortAllocator::Create(s, 0, {{3000, 3000}}).ok());
  EXPECT_TRUE(PortAllocator::Create(s, 0, {{1024, 65535}}).ok());
  EXPECT_FALSE(PortAllocator::Create(s, 0, {kDefaultEphemeralPorts, 0}).ok());
  EXPECT_TRUE(PortAllocator::Create(s, 0, {kDefaultEphemeralPorts, kMaxDestinationsLimit}).ok());
  EXPECT_FALSE(
      PortAllocator::Create(s, 0, {kDefaultEphemeralPorts, kMaxDestinationsLimit + 1}).ok());
}

TEST(PortAllocatorOptionsTest, DefaultRangeIsLinuxs) {
  EXPECT_EQ(kDefaultEphemeralPorts.first, 32768);
  EXPECT_EQ(kDefaultEphemeralPorts.last, 60999);
  EXPECT_EQ(kDefaultEphemeralPorts.size(), 28232u);
}

// --- Exhaustion, release, 4-tuple reuse ---------------------------------------------

// Two cores, ports 40000-40007: core 0 owns the four even ones.
TEST(PortAllocatorTest, ExhaustsAtTheLimitAndRecoversOnRelease) {
  const FlowSteering s = PortHash(2);
  PortAllocator a = MustCreate(s, 0, {40000, 40007});
  const ListenerPortSet none;
  EXPECT_EQ(a.OwnedPortCount(kBackendA), 4u);

  std::set<uint16_t> got;
  for (int i = 0; i < 4; ++i) {
    const PortAllocation p = a.Allocate(kBackendA, kT0, none);
    ASSERT_TRUE(p.ok()) << PortErrorName(p.error);
    EXPECT_FALSE(p.reused_time_wait);
    EXPECT_EQ(p.port % 2, 0);
    got.insert(p.port);
  }
  EXPECT_EQ(got, (std::set<uint16_t>{40000, 40002, 40004, 40006}));
  EXPECT_EQ(a.stats().in_use, 4u);

  // limit + 1
  const PortAllocation fail = a.Allocate(kBackendA, kT0, none);
  EXPECT_EQ(fail.error, PortError::kExhausted);
  EXPECT_STREQ(PortErrorName(fail.error), "exhausted");
  EXPECT_EQ(a.stats().exhausted, 1u);
  EXPECT_EQ(a.stats().allocations, 4u);

  EXPECT_EQ(a.Release(kBackendA, 40004), PortError::kOk);
  EXPECT_EQ(a.stats().in_use, 3u);
  const PortAllocation again = a.Allocate(kBackendA, kT0, none);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.port, 40004);
  EXPECT_EQ(a.Allocate(kBackendA, kT0, none).error, PortError::kExhausted);
  EXPECT_EQ(a.stats().exhausted, 2u);
}

TEST(PortAllocatorTest, SameLocalPortServesDifferentDestinations) {
  const FlowSteering s = PortHash(2);
  PortAllocator a = MustCreate(s, 1, {40000, 40007});
  const ListenerPortSet none;
  for (const auto& dest : {kBackendA, kBackendB, kBackendC}) {
    std::set<uint16_t> got;
    for (int i = 0; i < 4; ++i) {
      const PortAllocation p = a.Allocate(dest, kT0, none);
      ASSERT_TRUE(p.ok());
      got.insert(p.port);
    }
    EXPECT_EQ(got, (std::set<uint16_t>{40001, 40003, 40005, 40007}));
    EXPECT_EQ(a.Allocate(dest, kT0, none).error, PortError::kExhausted);
  }
  EXPECT_EQ(a.stats().destinations, 3u);
  EXPECT_EQ(a.stats().in_use, 12u);
}

TEST(PortAllocatorTest, ReleasedPortIsNotTheNextOneHandedOut) {
  // The cursor moves on, so a just-closed 4-tuple rests while others are
  // free (less chance of meeting the old connection's stray segments).
  const FlowSteering s = PortHash(1);
  PortAllocator a = MustCreate(s, 0, {50000, 50009});
  const ListenerPortSet none;
  const PortAllocation first = a.Allocate(kBackendA, kT0, none);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(a.Release(kBackendA, first.port), PortError::kOk);
  const PortAllocation second = a.Allocate(kBackendA, kT0, none);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second.port, first.port);
  // Ten ports, one in use: nine more, then the wrap finds `first` again.
  std::set<uint16_t> got{second.port};
  for (int i = 0; i < 9; ++i) {
    const PortAllocation p = a.Allocate(kBackendA, kT0, none);
    ASSERT_TRUE(p.ok()) << i;
    got.insert(p.port);
  }
  EXPECT_EQ(got.size(), 10u);
  EXPECT_TRUE(got.contains(first.port));
}

TEST(PortAllocatorTest, NeverHandsOutAListenerPort) {
  const FlowSteering s = PortHash(2);
  PortAllocator a = MustCreate(s, 0, {40000, 40007});
  const ListenerPortSet listeners{40002, 40006, 40001};
  std::set<uint16_t> got;
  while (true) {
    const PortAllocation p = a.Allocate(kBackendA, kT0, listeners);
    if (!p.ok()) break;
    got.insert(p.port);
  }
  EXPECT_EQ(got, (std::set<uint16_t>{40000, 40004}));
}

TEST(PortAllocatorTest, SinglePortRange) {
  const FlowSteering s = PortHash(1);
  PortAllocator a = MustCreate(s, 0, {65535, 65535});
  const ListenerPortSet none;
  const PortAllocation p = a.Allocate(kBackendA, kT0, none);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.port, 65535);
  EXPECT_EQ(a.Allocate(kBackendA, kT0, none).error, PortError::kExhausted);
}

TEST(PortAllocatorTest, CoreWithNoPortsInRangeIsExhaustedAtOnce) {
  const FlowSteering s = PortHash(4);
  PortAllocator a = MustCreate(s, 3, {40000, 40002});  // 40000..40002 mod 4 = 0, 1, 2
  EXPECT_EQ(a.OwnedPortCount(kBackendA), 0u);
  EXPECT_EQ(a.Allocate(kBackendA, kT0, ListenerPortSet()).error, PortError::kExhausted);
}

TEST(PortAllocatorTest, BadReleaseAndTimeWaitCallsAreRejectedAndCounted) {
  const FlowSteering s = PortHash(2);
  PortAllocator a = MustCreate(s, 0, {40000, 40007});
  const ListenerPortSet none;
  EXPECT_EQ(a.Release(kBackendA, 40000), PortError::kUnknownDestination);
  EXPECT_EQ(a.EnterTimeWait(kBackendA, 40000, kT0), PortError::kUnknownDestination);
  const PortAllocation p = a.Allocate(kBackendA, kT0, none);
  ASSERT_TRUE(p.ok());
  const uint16_t other = p.port == 40000 ? 40002 : 40000;
  EXPECT_EQ(a.Release(kBackendA, 39999), PortError::kOutOfRange);
  EXPECT_EQ(a.Release(kBackendA, 40008), PortError::kOutOfRange);
  EXPECT_EQ(a.Release(kBackendA, other), PortError::kNotInUse);
  EXPECT_EQ(a.Release(kBackendA, 40001), PortError::kNotInUse);  // core 1's port
  EXPECT_EQ(a.EnterTimeWait(kBackendA, other, kT0), PortError::kNotInUse);
  EXPECT_EQ(a.Release(kBackendB, p.port), PortError::kUnknownDestination);
  EXPECT_EQ(a.stats().bad_calls, 8u);
  // Nothing changed.
  EXPECT_EQ(a.stats().in_use, 1u);
  EXPECT_EQ(a.Release(kBackendA, p.port), PortError::kOk);
  EXPECT_EQ(a.Release(kBackendA, p.port), PortError::kNotInUse);  // double release
  EXPECT_EQ(a.stats().in_use, 0u);
  EXPECT_EQ(a.stats().releases, 1u);
}

// --- TIME_WAIT -----------------------------------------------------------------

class TimeWaitTest : public ::testing::Test {
 protected:
  // One core, four ports: all of them ours.
  TimeWaitTest() : steering_(PortHash(1)), a_(MustCreate(steering_, 0, {50000, 50003})) {}

  void FillAll() {
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(a_.Allocate(kBackendA, kT0, none_).ok());
  }

  FlowSteering steering_;
  PortAllocator a_;
  ListenerPortSet none_;
};

TEST_F(TimeWaitTest, PortInTimeWaitIsNotReusedWithoutConsent) {
  FillAll();
  ASSERT_EQ(a_.EnterTimeWait(kBackendA, 50001, kT0 + Duration::Seconds(60)), PortError::kOk);
  EXPECT_EQ(a_.stats().in_use, 3u);
  EXPECT_EQ(a_.stats().in_time_wait, 1u);
  EXPECT_EQ(a_.Allocate(kBackendA, kT0 + Duration::Seconds(1), none_).error,
            PortError::kExhausted);

  std::vector<uint16_t> offered;
  const PortAllocation refused =
      a_.Allocate(kBackendA, kT0 + Duration::Seconds(1), none_, [&](uint16_t port) {
        offered.push_back(port);
        return false;
      });
  EXPECT_EQ(refused.error, PortError::kExhausted);
  EXPECT_EQ(offered, std::vector<uint16_t>{50001});

  const PortAllocation reused =
      a_.Allocate(kBackendA, kT0 + Duration::Seconds(1), none_, [](uint16_t) { return true; });
  ASSERT_TRUE(reused.ok());
  EXPECT_EQ(reused.port, 50001);
  EXPECT_TRUE(reused.reused_time_wait);
  EXPECT_EQ(a_.stats().time_wait_reuses, 1u);
  EXPECT_EQ(a_.stats().in_use, 4u);
  EXPECT_EQ(a_.stats().in_time_wait, 0u);
  // Its old TIME_WAIT expiry must not free it under the new connection.
  EXPECT_EQ(a_.Sweep(kT0 + Duration::Seconds(61)), 0u);
  EXPECT_EQ(a_.Allocate(kBackendA, kT0 + Duration::Seconds(61), none_).error,
            PortError::kExhausted);
}

TEST_F(TimeWaitTest, FreePortsArePreferredOverTimeWait) {
  FillAll();
  ASSERT_EQ(a_.EnterTimeWait(kBackendA, 50000, kT0 + Duration::Seconds(60)), PortError::kOk);
  ASSERT_EQ(a_.Release(kBackendA, 50002), PortError::kOk);
  bool asked = false;
  const PortAllocation p = a_.Allocate(kBackendA, kT0, none_, [&](uint16_t) {
    asked = true;
    return true;
  });
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.port, 50002);
  EXPECT_FALSE(p.reused_time_wait);
  EXPECT_FALSE(asked);
}

TEST_F(TimeWaitTest, ExpiresAtUntil) {
  FillAll();
  const Instant until = kT0 + Duration::Seconds(60);
  ASSERT_EQ(a_.EnterTimeWait(kBackendA, 50003, until), PortError::kOk);
  EXPECT_EQ(a_.Allocate(kBackendA, until - Duration::Nanos(1), none_).error,
            PortError::kExhausted);
  const PortAllocation p = a_.Allocate(kBackendA, until, none_);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.port, 50003);
  EXPECT_FALSE(p.reused_time_wait);
  EXPECT_EQ(a_.stats().time_wait_expiries, 1u);
  EXPECT_EQ(a_.stats().in_time_wait, 0u);
}

TEST_F(TimeWaitTest, OffersOldestFirst) {
  FillAll();
  ASSERT_EQ(a_.EnterTimeWait(kBackendA, 50002, kT0 + Duration::Seconds(10)), PortError::kOk);
  ASSERT_EQ(a_.EnterTimeWait(kBackendA, 50000, kT0 + Duration::Seconds(20)), PortError::kOk);
  ASSERT_EQ(a_.EnterTimeWait(kBackendA, 50003, kT0 + Duration::Seconds(30)), PortError::kOk);
  std::vector<uint16_t> offered;
  const PortAllocation p = a_.Allocate(kBackendA, kT0, none_, [&](uint16_t port) {
    offered.push_back(port);
    return port == 50003;
  });
  EXPECT_EQ(offered, (std::vector<uint16_t>{50002, 50000, 50003}));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.port, 50003);
}

TEST_F(TimeWaitTest, ReenteringTimeWaitMovesTheExpiry) {
  FillAll();
  ASSERT_EQ(a_.EnterTimeWait(kBackendA, 50001, kT0 + Duration::Seconds(10)), PortError::kOk);
  ASSERT_EQ(a_.EnterTimeWait(kBackendA, 50001, kT0 + Duration::Seconds(100)), PortError::kOk);
  EXPECT_EQ(a_.stats().time_wait_entries, 1u);
  EXPECT_EQ(a_.stats().in_time_wait, 1u);
  EXPECT_EQ(a_.Allocate(kBackendA, kT0 + Duration::Seconds(50), none_).error,
            PortError::kExhausted);
  const PortAllocation p = a_.Allocate(kBackendA, kT0 + Duration::Seconds(100), none_);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.port, 50001);
}

// Found by the model test: re-entering TIME_WAIT with the same expiry left
// two live-looking entries, and the port was offered twice.
TEST_F(TimeWaitTest, ReenteringWithTheSameExpiryOffersThePortOnce) {
  FillAll();
  const Instant until = kT0 + Duration::Seconds(10);
  ASSERT_EQ(a_.EnterTimeWait(kBackendA, 50001, until), PortError::kOk);
  ASSERT_EQ(a_.EnterTimeWait(kBackendA, 50001, until), PortError::kOk);
  std::vector<uint16_t> offered;
  EXPECT_EQ(a_.Allocate(kBackendA, kT0, none_,
                        [&](uint16_t port) {
                          offered.push_back(port);
                          return false;
                        })
                .error,
            PortError::kExhausted);
  EXPECT_EQ(offered, std::vector<uint16_t>{50001});
  EXPECT_EQ(a_.Sweep(until), 1u);
  EXPECT_EQ(a_.stats().in_time_wait, 0u);
}

TEST_F(TimeWaitTest, ReleaseEndsTimeWaitAndItsStaleExpiryIsIgnored) {
  FillAll();
  ASSERT_EQ(a_.EnterTimeWait(kBackendA, 50001, kT0 + Duration::Seconds(10)), PortError::kOk);
  ASSERT_EQ(a_.Release(kBackendA, 50001), PortError::kOk);
  EXPECT_EQ(a_.stats().in_time_wait, 0u);
  const PortAllocation p = a_.Allocate(kBackendA, kT0, none_);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p.port, 50001);
  ASSERT_EQ(a_.EnterTimeWait(kBackendA, 50001, kT0 + Duration::Seconds(100)), PortError::kOk);
  // The first TIME_WAIT's expiry (t+10) has passed; the port is still in
  // its second one.
  EXPECT_EQ(a_.Allocate(kBackendA, kT0 + Duration::Seconds(20), none_).error,
            PortError::kExhausted);
  EXPECT_EQ(a_.Sweep(kT0 + Duration::Seconds(20)), 0u);
  EXPECT_EQ(a_.Sweep(kT0 + Duration::Seconds(100)), 1u);
  EXPECT_TRUE(a_.Allocate(kBackendA, kT0 + Duration::Seconds(100), none_).ok());
}

TEST(TimeWaitProbeTest, OffersAtMostTheProbeLimitPerCall) {
  const FlowSteering s = PortHash(1);
  const uint16_t ports = kMaxTimeWaitReuseProbes + 4;
  PortAllocator a = MustCreate(s, 0, {50000, static_cast<uint16_t>(50000 + ports - 1)});
  const ListenerPortSet none;
  for (uint16_t i = 0; i < ports; ++i) {
    const PortAllocation p = a.Allocate(kBackendA, kT0, none);
    ASSERT_TRUE(p.ok());
    ASSERT_EQ(a.EnterTimeWait(kBackendA, p.port, kT0 + Duration::Seconds(60)), PortError::kOk);
  }
  int calls = 0;
  EXPECT_EQ(a.Allocate(kBackendA, kT0, none,
                       [&](uint16_t) {
                         ++calls;
                         return false;
                       })
                .error,
            PortError::kExhausted);
  EXPECT_EQ(calls, static_cast<int>(kMaxTimeWaitReuseProbes));
}

// --- Destinations ---------------------------------------------------------------

TEST(PortAllocatorDestinationsTest, LimitAndSweepOfIdleDestinations) {
  const FlowSteering s = PortHash(1);
  PortAllocator a = MustCreate(s, 0, {50000, 50009}, /*max_destinations=*/2);
  const ListenerPortSet none;
  const PortAllocation pa = a.Allocate(kBackendA, kT0, none);
  const PortAllocation pb = a.Allocate(kBackendB, kT0, none);
  ASSERT_TRUE(pa.ok());
  ASSERT_TRUE(pb.ok());
  // limit + 1
  EXPECT_EQ(a.Allocate(kBackendC, kT0, none).error, PortError::kTooManyDestinations);
  EXPECT_STREQ(PortErrorName(PortError::kTooManyDestinations), "too_many_destinations");
  EXPECT_EQ(a.stats().too_many_destinations, 1u);
  // A known destination still gets ports.
  EXPECT_TRUE(a.Allocate(kBackendA, kT0, none).ok());

  // B's only connection ends in TIME_WAIT: B is not idle until it expires.
  ASSERT_EQ(a.EnterTimeWait(kBackendB, pb.port, kT0 + Duration::Seconds(60)), PortError::kOk);
  a.Sweep(kT0 + Duration::Seconds(1));
  EXPECT_EQ(a.stats().destinations, 2u);
  EXPECT_EQ(a.Allocate(kBackendC, kT0, none).error, PortError::kTooManyDestinations);
  EXPECT_EQ(a.Sweep(kT0 + Duration::Seconds(60)), 1u);
  EXPECT_EQ(a.stats().destinations, 1u);
  EXPECT_EQ(a.stats().in_time_wait, 0u);
  EXPECT_TRUE(a.Allocate(kBackendC, kT0 + Duration::Seconds(60), none).ok());
  EXPECT_EQ(a.stats().destinations, 2u);
  // Forgotten destinations reject late calls instead of crashing.
  EXPECT_EQ(a.Release(kBackendB, pb.port), PortError::kUnknownDestination);
}

TEST(PortAllocatorDestinationsTest, MemoryIsBoundedByBitmapsOverTheRange) {
  const FlowSteering s = PortHash(4);
  PortAllocator a = MustCreate(s, 0, kDefaultEphemeralPorts);
  const ListenerPortSet none;
  EXPECT_EQ(a.MemoryBytes(), 0u);
  ASSERT_TRUE(a.Allocate(kBackendA, kT0, none).ok());
  const size_t range_bitmap = (kDefaultEphemeralPorts.size() + 63) / 64 * 8;  // 3536 bytes
  EXPECT_GE(a.MemoryBytes(), 2 * range_bitmap);
  EXPECT_LT(a.MemoryBytes(), 2 * range_bitmap + 1024);
  EXPECT_EQ(a.stats().port_classes, 1u);
  ASSERT_TRUE(a.Allocate(kBackendB, kT0, none).ok());
  EXPECT_EQ(a.stats().port_classes, 1u);  // port-hash: one class for all
  EXPECT_LT(a.MemoryBytes(), 3 * range_bitmap + 2048);
}


// --- Random operations against a model ------------------------------------------

// 20,000 random Allocate/Release/EnterTimeWait/Sweep calls on three
// destinations, checked call by call against a plain model of the
// documented behaviour, including which TIME_WAIT ports are offered and in
// what order. TIME_WAIT lasts a constant 10 ns and time never goes back, so
// expiry order is entry order.
TEST(PortAllocatorModelTest, RandomOperationsMatchAModel) {
  const FlowSteering s = PortHash(2);
  constexpr PortRange kRange{41000, 41015};  // core 1 owns the 8 odd ports
  PortAllocator a = MustCreate(s, 1, kRange);
  const ListenerPortSet listeners{41003, 41004};
  const ActiveDestination dests[] = {kBackendA, kBackendB, kBackendC};
  constexpr Duration kTimeWait = Duration::Nanos(10);

  struct Held {
    bool time_wait = false;
    Instant until;
    uint64_t seq = 0;  // when it last entered TIME_WAIT
  };
  std::map<int, std::map<uint16_t, Held>> model;  // only destinations the allocator knows
  uint64_t seq = 0;
  auto usable = [&](uint16_t p) { return p % 2 == 1 && !listeners.Contains(p); };
  auto expire = [&](int d, Instant now) {
    size_t n = 0;
    auto& held = model[d];
    for (auto it = held.begin(); it != held.end();) {
      if (it->second.time_wait && it->second.until <= now) {
        it = held.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    return n;
  };

  std::mt19937_64 rng(12);
  Instant now = kT0;
  for (int step = 0; step < 20'000; ++step) {
    now += Duration::Nanos(static_cast<int64_t>(rng() % 4));
    const int d = static_cast<int>(rng() % 3);
    const ActiveDestination& dest = dests[d];
    const int op = static_cast<int>(rng() % 100);
    SCOPED_TRACE(::testing::Message() << "step " << step << " op " << op << " dest " << d);

    if (op < 55) {  // Allocate, with a reuse predicate 2 times in 5
      const bool offer = op % 5 < 2;
      model[d];  // the allocator creates the destination even if it then fails
      expire(d, now);
      auto& held = model[d];
      std::vector<uint16_t> free_ports;
      for (uint32_t p = kRange.first; p <= kRange.last; ++p) {
        if (usable(static_cast<uint16_t>(p)) && !held.contains(static_cast<uint16_t>(p))) {
          free_ports.push_back(static_cast<uint16_t>(p));
        }
      }
      std::vector<uint16_t> offered;
      const bool accept = rng() % 3 == 0;
      const PortAllocation got =
          offer ? a.Allocate(dest, now, listeners,
                             [&](uint16_t port) {
                               offered.push_back(port);
                               return accept;
                             })
                : a.Allocate(dest, now, listeners);
      if (!free_ports.empty()) {
        ASSERT_TRUE(got.ok()) << PortErrorName(got.error);
        ASSERT_FALSE(got.reused_time_wait);
        ASSERT_TRUE(std::find(free_ports.begin(), free_ports.end(), got.port) != free_ports.end())
            << got.port;
        ASSERT_TRUE(offered.empty());
        held[got.port] = Held{};
        continue;
      }
      std::vector<std::pair<uint64_t, uint16_t>> time_wait;
      for (const auto& [port, h] : held) {
        if (h.time_wait) time_wait.push_back({h.seq, port});
      }
      std::sort(time_wait.begin(), time_wait.end());
      if (!offer) {
        ASSERT_EQ(got.error, PortError::kExhausted);
        continue;
      }
      const size_t expect_offers =
          accept ? std::min<size_t>(1, time_wait.size())
                 : std::min<size_t>(kMaxTimeWaitReuseProbes, time_wait.size());
      ASSERT_EQ(offered.size(), expect_offers);
      for (size_t i = 0; i < offered.size(); ++i) ASSERT_EQ(offered[i], time_wait[i].second);
      if (accept && !time_wait.empty()) {
        ASSERT_TRUE(got.ok());
        ASSERT_TRUE(got.reused_time_wait);
        ASSERT_EQ(got.port, time_wait[0].second);
        held[got.port] = Held{};
      } else {
        ASSERT_EQ(got.error, PortError::kExhausted);
      }
    } else if (op < 70 || op < 90) {  // Release or EnterTimeWait
      const bool release = op < 70;
      const bool known = model.contains(d);
      // Mostly a held port, sometimes any port (possibly not held or out of range).
      uint16_t port = static_cast<uint16_t>(kRange.first - 1 + rng() % (kRange.size() + 2));
      if (known && !model[d].empty() && rng() % 4 != 0) {
        auto it = model[d].begin();
        std::advance(it, static_cast<long>(rng() % model[d].size()));
        port = it->first;
      }
      PortError expected = PortError::kOk;
      if (!known) {
        expected = PortError::kUnknownDestination;
      } else if (!kRange.Contains(port)) {
        expected = PortError::kOutOfRange;
      } else if (!model[d].contains(port)) {
        expected = PortError::kNotInUse;
      }
      const PortError got = release ? a.Release(dest, port) : a.EnterTimeWait(dest, port, now + kTimeWait);
      ASSERT_EQ(got, expected) << (release ? "release " : "time_wait ") << port;
      if (expected == PortError::kOk) {
        if (release) {
          model[d].erase(port);
        } else {
          model[d][port] = Held{true, now + kTimeWait, ++seq};
        }
      }
    } else {  // Sweep
      size_t expired = 0;
      for (auto it = model.begin(); it != model.end();) {
        expired += expire(it->first, now);
        it = it->second.empty() ? model.erase(it) : std::next(it);
      }
      ASSERT_EQ(a.Sweep(now), expired);
    }

    uint64_t in_use = 0, in_time_wait = 0;
    for (const auto& [dd, held] : model) {
      for (const auto& [port, h] : held) (h.time_wait ? in_time_wait : in_use)++;
    }
    ASSERT_EQ(a.stats().in_use, in_use);
    ASSERT_EQ(a.stats().in_time_wait, in_time_wait);
    ASSERT_EQ(a.stats().destinations, model.size());
  }
  // The run exercised every outcome.
  EXPECT_GT(a.stats().exhausted, 100u);
  EXPECT_GT(a.stats().time_wait_reuses, 100u);
  EXPECT_GT(a.stats().time_wait_expiries, 100u);
  EXPECT_GT(a.stats().bad_calls, 100u);
}

TEST(PortAllocatorDestinationsTest, PrepareAllClassesBuildsOneBitmapPerRetaEntry) {
  const FlowSteering s = *FlowSteering::Create(
      {2, SteeringMode::kRss, RssParams{kMicrosoftRssKey, RoundRobinReta(128, 2)}});
  PortAllocator a = MustCreate(s, 1, kDefaultEphemeralPorts);
  a.PrepareAllClasses();
  EXPECT_EQ(a.stats().port_classes, 128u);
  EXPECT_EQ(a.MemoryBytes(), 128u * ((kDefaultEphemeralPorts.size() + 63) / 64 * 8));
  ASSERT_TRUE(a.Allocate(kBackendA, kT0, ListenerPortSet()).ok());
  EXPECT_EQ(a.stats().port_classes, 128u);
}

}  // namespace
}  // namespace locus::steer
