// Property: every local port a core's allocator hands out steers the
// reply back to that core, in both modes, judged by an oracle that does not
// share code with the fast path (the bit-at-a-time Toeplitz reference, or
// plain modulo). Random inputs are seeded; sizes are fixed and printed in
// the test names below.
#include <algorithm>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "stack/steer/flow_steering.h"
#include "stack/steer/port_allocator.h"
#include "stack/steer/reta.h"
#include "stack/steer/toeplitz.h"

namespace locus::steer {
namespace {

using wire::Ipv4Address;

// Random destinations per core, and ports allocated toward each.
constexpr int kDestinationsPerCore = 32;
constexpr int kPortsPerDestination = 48;
// Destinations for which every core allocates until exhausted.
constexpr int kExhaustedDestinations = 2;

struct Case {
  std::string name;
  SteeringConfig config;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<uint16_t> ShuffledReta(size_t size, uint16_t queues, uint64_t seed) {
  std::vector<uint16_t> reta = RoundRobinReta(size, queues);
  std::mt19937_64 rng(seed);
  std::shuffle(reta.begin(), reta.end(), rng);
  return reta;
}

RssKey RandomKey(uint64_t seed) {
  std::mt19937_64 rng(seed);
  RssKey key;
  for (auto& b : key) b = static_cast<uint8_t>(rng());
  return key;
}

std::vector<Case> Cases() {
  auto rss = [](uint16_t cores, RssKey key, std::vector<uint16_t> reta) {
    return SteeringConfig{cores, SteeringMode::kRss, RssParams{key, std::move(reta)}};
  };
  return {
      {"RssSymmetricKeyReta128Over2", rss(2, kSymmetricRssKey, RoundRobinReta(128, 2))},
      {"RssSymmetricKeyReta128Over4", rss(4, kSymmetricRssKey, RoundRobinReta(128, 4))},
      {"RssMicrosoftKeyReta128Over2", rss(2, kMicrosoftRssKey, RoundRobinReta(128, 2))},
      {"RssMicrosoftKeyReta128Over4", rss(4, kMicrosoftRssKey, RoundRobinReta(128, 4))},
      {"RssMicrosoftKeyShuffledReta128Over4", rss(4, kMicrosoftRssKey, ShuffledReta(128, 4, 9))},
      {"RssRandomKeyReta512Over3", rss(3, RandomKey(10), RoundRobinReta(512, 3))},
      {"PortHash2", {2, SteeringMode::kPortHash, std::nullopt}},
      {"PortHash3", {3, SteeringMode::kPortHash, std::nullopt}},
      {"PortHash4WithNicRssOver2Queues",
       {4, SteeringMode::kPortHash, RssParams{kMicrosoftRssKey, RoundRobinReta(128, 2)}}},
  };
}

class SteeringPropertyTest : public ::testing::TestWithParam<Case> {
 protected:
  SteeringPropertyTest()
      : config_(GetParam().config), steering_(*FlowSteering::Create(config_)), rng_(11) {
    std::vector<uint16_t> ports = {80, 443, 8080};
    for (int i = 0; i < 40; ++i) {
      ports.push_back(static_cast<uint16_t>(
          kDefaultEphemeralPorts.first + rng_() % kDefaultEphemeralPorts.size()));
    }
    listeners_ = ListenerPortSet(ports);
  }

  // Who receives the reply, per the oracle.
  uint16_t OracleOwner(const ActiveDestination& d, uint16_t local_port) const {
    if (config_.mode == SteeringMode::kPortHash) return local_port % config_.num_cores;
    const uint32_t r = d.remote_ip.value(), l = d.local_ip.value();
    const uint8_t input[12] = {
        static_cast<uint8_t>(r >> 24), static_cast<uint8_t>(r >> 16),
        static_cast<uint8_t>(r >> 8),  static_cast<uint8_t>(r),
        static_cast<uint8_t>(l >> 24), static_cast<uint8_t>(l >> 16),
        static_cast<uint8_t>(l >> 8),  static_cast<uint8_t>(l),
        static_cast<uint8_t>(d.remote_port >> 8), static_cast<uint8_t>(d.remote_port),
        static_cast<uint8_t>(local_port >> 8),    static_cast<uint8_t>(local_port)};
    const auto& rss = *config_.nic_rss;
    return rss.reta[ToeplitzReference(rss.key, input) % rss.reta.size()];
  }

  ActiveDestination RandomDestination() {
    // Half the backends on well-known ports (rule 1 classifies the reply),
    // half on high ports (rule 4 does).
    const uint16_t remote_port = rng_() % 2 ? static_cast<uint16_t>(1 + rng_() % 1023)
                                            : static_cast<uint16_t>(1024 + rng_() % 64512);
    return {Ipv4Address(static_cast<uint32_t>(rng_())), Ipv4Address(static_cast<uint32_t>(rng_())),
            remote_port};
  }

  SteeringConfig config_;
  FlowSteering steering_;
  std::mt19937_64 rng_;
  ListenerPortSet listeners_;
};

TEST_P(SteeringPropertyTest, EveryAllocatedPortSteersTheReplyHome) {
  const Instant now = Instant::FromNanos(1);
  uint64_t checked = 0;
  for (uint16_t core = 0; core < config_.num_cores; ++core) {
    auto made = PortAllocator::Create(steering_, core, {kDefaultEphemeralPorts, 4096, core});
    ASSERT_TRUE(made.ok()) << made.status();
    PortAllocator& alloc = *made;
    for (int d = 0; d < kDestinationsPerCore; ++d) {
      const ActiveDestination dest = RandomDestination();
      std::set<uint16_t> seen;
      for (int i = 0; i < kPortsPerDestination; ++i) {
        const PortAllocation p = alloc.Allocate(dest, now, listeners_);
        ASSERT_TRUE(p.ok()) << PortErrorName(p.error) << " core " << core << " dest " << d;
        ASSERT_TRUE(kDefaultEphemeralPorts.Contains(p.port));
        ASSERT_FALSE(listeners_.Contains(p.port)) << p.port;
        ASSERT_TRUE(seen.insert(p.port).second) << "port handed out twice: " << p.port;
        ASSERT_EQ(OracleOwner(dest, p.port), core) << "port " << p.port;
        const SteeringDecision s = steering_.Steer(ReplyTuple(dest, p.port), listeners_);
        ASSERT_EQ(s.core, core) << "port " << p.port;
        ASSERT_EQ(s.direction, FlowDirection::kActive);
        ++checked;
      }
    }
    EXPECT_EQ(alloc.stats().allocations,
              static_cast<uint64_t>(kDestinationsPerCore * kPortsPerDestination));
    EXPECT_LE(alloc.stats().port_classes, steering_.active_class_count());
  }
  EXPECT_EQ(checked, static_cast<uint64_t>(config_.num_cores) * kDestinationsPerCore *
                         kPortsPerDestination);
}

// Allocating until exhausted yields exactly the ports the oracle gives the
// core; over all cores that partitions the range minus the listener ports.
TEST_P(SteeringPropertyTest, ExhaustionYieldsExactlyTheOwnedPorts) {
  const Instant now = Instant::FromNanos(1);
  for (int d = 0; d < kExhaustedDestinations; ++d) {
    const ActiveDestination dest = RandomDestination();
    std::vector<uint16_t> owner(65536, UINT16_MAX);
    size_t total = 0;
    for (uint16_t core = 0; core < config_.num_cores; ++core) {
      auto made = PortAllocator::Create(steering_, core, {kDefaultEphemeralPorts, 16, 99});
      ASSERT_TRUE(made.ok());
      PortAllocator& alloc = *made;
      size_t expected = 0;
      for (uint32_t p = kDefaultEphemeralPorts.first; p <= kDefaultEphemeralPorts.last; ++p) {
        expected += OracleOwner(dest, static_cast<uint16_t>(p)) == core &&
                    !listeners_.Contains(static_cast<uint16_t>(p));
      }
      size_t got = 0;
      while (true) {
        const PortAllocation p = alloc.Allocate(dest, now, listeners_);
        if (!p.ok()) {
          EXPECT_EQ(p.error, PortError::kExhausted);
          break;
        }
        ASSERT_EQ(owner[p.port], UINT16_MAX) << "port " << p.port << " given to two cores";
        owner[p.port] = core;
        ++got;
        ASSERT_LE(got, kDefaultEphemeralPorts.size());
      }
      EXPECT_EQ(got, expected) << "core " << core;
      // Every core can reach every backend: a real key and RETA leave no
      // core without ports (well above 1/4 of a fair share).
      EXPECT_GT(got, kDefaultEphemeralPorts.size() / config_.num_cores / 4) << "core " << core;
      total += got;
    }
    size_t listener_ports_in_range = 0;
    for (uint32_t p = kDefaultEphemeralPorts.first; p <= kDefaultEphemeralPorts.last; ++p) {
      listener_ports_in_range += listeners_.Contains(static_cast<uint16_t>(p));
    }
    EXPECT_EQ(total, kDefaultEphemeralPorts.size() - listener_ports_in_range);
  }
}

// In kRss every class (every possible low-bits pattern of the reply hash)
// must give each core a fair share of the range; a key whose port bits
// could not reach some RETA entries would starve a core for whole groups
// of backends.
TEST_P(SteeringPropertyTest, EveryActiveClassGivesEveryCorePorts) {
  const uint32_t classes = steering_.active_class_count();
  for (uint32_t cls = 0; cls < classes; ++cls) {
    std::vector<uint32_t> per_core(config_.num_cores, 0);
    for (uint32_t p = kDefaultEphemeralPorts.first; p <= kDefaultEphemeralPorts.last; ++p) {
      ++per_core[steering_.ActiveOwner(cls, static_cast<uint16_t>(p))];
    }
    for (uint16_t c = 0; c < config_.num_cores; ++c) {
      ASSERT_GT(per_core[c], kDefaultEphemeralPorts.size() / config_.num_cores / 2)
          << "class " << cls << " core " << c;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, SteeringPropertyTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace locus::steer
