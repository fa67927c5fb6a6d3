#include "stack/steer/flow_steering.h"

#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "stack/steer/reta.h"
#include "stack/steer/toeplitz.h"

namespace locus::steer {
namespace {

using wire::Ipv4Address;

std::vector<uint8_t> TupleBytes(const Ipv4TcpTuple& t) {
  const uint32_t s = t.src_ip.value(), d = t.dst_ip.value();
  return {static_cast<uint8_t>(s >> 24),        static_cast<uint8_t>(s >> 16),
          static_cast<uint8_t>(s >> 8),         static_cast<uint8_t>(s),
          static_cast<uint8_t>(d >> 24),        static_cast<uint8_t>(d >> 16),
          static_cast<uint8_t>(d >> 8),         static_cast<uint8_t>(d),
          static_cast<uint8_t>(t.src_port >> 8), static_cast<uint8_t>(t.src_port),
          static_cast<uint8_t>(t.dst_port >> 8), static_cast<uint8_t>(t.dst_port)};
}

// The owner a NIC with this key and RETA would pick, computed with the
// bit-at-a-time reference rather than the code under test.
uint16_t ReferenceOwner(const RssParams& rss, const Ipv4TcpTuple& t) {
  return rss.reta[ToeplitzReference(rss.key, TupleBytes(t)) % rss.reta.size()];
}

Ipv4TcpTuple RandomTuple(std::mt19937_64& rng) {
  return {Ipv4Address(static_cast<uint32_t>(rng())), Ipv4Address(static_cast<uint32_t>(rng())),
          static_cast<uint16_t>(rng()), static_cast<uint16_t>(rng())};
}

FlowSteering MustCreate(const SteeringConfig& config) {
  auto s = FlowSteering::Create(config);
  EXPECT_TRUE(s.ok()) << s.status();
  return *std::move(s);
}

// --- Configuration -----------------------------------------------------------

TEST(FlowSteeringConfigTest, CoreCountLimits) {
  auto with_cores = [](uint32_t n) {
    return SteeringConfig{static_cast<uint16_t>(n), SteeringMode::kPortHash, std::nullopt};
  };
  EXPECT_FALSE(FlowSteering::Create(with_cores(0)).ok());
  EXPECT_TRUE(FlowSteering::Create(with_cores(1)).ok());
  EXPECT_TRUE(FlowSteering::Create(with_cores(kMaxCores)).ok());
  EXPECT_FALSE(FlowSteering::Create(with_cores(kMaxCores + 1)).ok());
}

TEST(FlowSteeringConfigTest, RssModeNeedsTheNicsRss) {
  const auto s = FlowSteering::Create({2, SteeringMode::kRss, std::nullopt});
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("port-hash"), absl::string_view::npos);
}

TEST(FlowSteeringConfigTest, RetaSizeMustBeAPowerOfTwoWithinTheLimit) {
  for (size_t size : {size_t{0}, size_t{96}, kMaxRetaSize + 1, kMaxRetaSize * 2}) {
    SteeringConfig c{2, SteeringMode::kRss, RssParams{kMicrosoftRssKey, RoundRobinReta(size, 2)}};
    EXPECT_FALSE(FlowSteering::Create(c).ok()) << size;
    c.mode = SteeringMode::kPortHash;
    EXPECT_FALSE(FlowSteering::Create(c).ok()) << size;
  }
  for (size_t size : {size_t{2}, size_t{128}, kMaxRetaSize}) {
    SteeringConfig c{2, SteeringMode::kRss, RssParams{kMicrosoftRssKey, RoundRobinReta(size, 2)}};
    EXPECT_TRUE(FlowSteering::Create(c).ok()) << size;
  }
}

TEST(FlowSteeringConfigTest, RetaMustNameExistingCores) {
  SteeringConfig c{2, SteeringMode::kPortHash, RssParams{kMicrosoftRssKey, RoundRobinReta(128, 3)}};
  EXPECT_FALSE(FlowSteering::Create(c).ok());
}

TEST(FlowSteeringConfigTest, RssModeNeedsEveryCoreInTheReta) {
  // Two queues, four cores: cores 2 and 3 would own nothing.
  SteeringConfig c{4, SteeringMode::kRss, RssParams{kMicrosoftRssKey, RoundRobinReta(128, 2)}};
  const auto s = FlowSteering::Create(c);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("core 2"), absl::string_view::npos) << s.status();
  // Port-hash steering accepts it: passive flows follow the NIC onto cores
  // 0 and 1, active connections use all four.
  c.mode = SteeringMode::kPortHash;
  EXPECT_TRUE(FlowSteering::Create(c).ok());
}

TEST(FlowSteeringConfigTest, ChooseMode) {
  const RssParams two_queues{kMicrosoftRssKey, RoundRobinReta(128, 2)};
  EXPECT_EQ(ChooseMode(2, two_queues), SteeringMode::kRss);
  EXPECT_EQ(ChooseMode(1, RssParams{kMicrosoftRssKey, RoundRobinReta(128, 1)}),
            SteeringMode::kRss);
  EXPECT_EQ(ChooseMode(4, two_queues), SteeringMode::kPortHash);  // fewer queues than cores
  EXPECT_EQ(ChooseMode(2, std::nullopt), SteeringMode::kPortHash);  // net_tap, af_packet
  EXPECT_EQ(ChooseMode(2, RssParams{kMicrosoftRssKey, {}}), SteeringMode::kPortHash);
  EXPECT_EQ(ChooseMode(0, two_queues), SteeringMode::kPortHash);
}

// --- Classification ------------------------------------------------------------

struct ClassifyCase {
  uint16_t src_port;
  uint16_t dst_port;
  FlowDirection direction;
  ClassifyRule rule;
};

TEST(ClassifyFlowTest, FastsocketRules) {
  const ListenerPortSet listeners{80, 8080, 40000};
  const ClassifyCase cases[] = {
      // Rule 1: source port below 1024 is a reply from a well-known service.
      {80, 40001, FlowDirection::kActive, ClassifyRule::kSrcPortReserved},
      {0, 40001, FlowDirection::kActive, ClassifyRule::kSrcPortReserved},
      {1023, 40001, FlowDirection::kActive, ClassifyRule::kSrcPortReserved},
      {443, 80, FlowDirection::kActive, ClassifyRule::kSrcPortReserved},  // rule 1 first
      {80, 8080, FlowDirection::kActive, ClassifyRule::kSrcPortReserved},
      // Rule 2: destination port below 1024 is a call to our service.
      {1024, 80, FlowDirection::kPassive, ClassifyRule::kDstPortReserved},
      {50000, 1023, FlowDirection::kPassive, ClassifyRule::kDstPortReserved},
      {50000, 22, FlowDirection::kPassive, ClassifyRule::kDstPortReserved},  // no listener needed
      // Rule 3: destination port with a listener.
      {50000, 8080, FlowDirection::kPassive, ClassifyRule::kDstPortListening},
      {1024, 40000, FlowDirection::kPassive, ClassifyRule::kDstPortListening},
      // Rule 4: anything else is a reply to one of our ephemeral ports.
      {8080, 40001, FlowDirection::kActive, ClassifyRule::kDstPortNotListening},
      {50000, 1024, FlowDirection::kActive, ClassifyRule::kDstPortNotListening},
      {50000, 65535, FlowDirection::kActive, ClassifyRule::kDstPortNotListening},
      {1024, 8081, FlowDirection::kActive, ClassifyRule::kDstPortNotListening},
  };
  for (const auto& c : cases) {
    const Classification got = ClassifyFlow(c.src_port, c.dst_port, listeners);
    EXPECT_EQ(got.direction, c.direction) << c.src_port << " -> " << c.dst_port;
    EXPECT_EQ(got.rule, c.rule) << c.src_port << " -> " << c.dst_port;
  }
}

TEST(ClassifyFlowTest, ListenerSnapshotDecidesRuleThree) {
  const ListenerPortSet none;
  const ListenerPortSet with{9000};
  EXPECT_EQ(ClassifyFlow(50000, 9000, none).direction, FlowDirection::kActive);
  EXPECT_EQ(ClassifyFlow(50000, 9000, with).direction, FlowDirection::kPassive);
}

// --- Owners ----------------------------------------------------------------

TEST(FlowSteeringTest, RssModeOwnerIsTheNicsQueueWhateverTheDirection) {
  const ListenerPortSet listeners{80, 8080};
  std::mt19937_64 rng(3);
  for (uint16_t queues : {2, 4}) {
    for (const RssKey& key : {kSymmetricRssKey, kMicrosoftRssKey}) {
      const RssParams rss{key, RoundRobinReta(128, queues)};
      const FlowSteering s = MustCreate({queues, SteeringMode::kRss, rss});
      EXPECT_TRUE(s.uses_nic_rss());
      for (int i = 0; i < 5'000; ++i) {
        Ipv4TcpTuple t = RandomTuple(rng);
        if (i % 3 == 0) t.dst_port = 8080;  // passive
        const SteeringDecision d = s.Steer(t, listeners);
        ASSERT_EQ(d.core, ReferenceOwner(rss, t));
        ASSERT_EQ(d.direction, ClassifyFlow(t.src_port, t.dst_port, listeners).direction);
        ASSERT_EQ(s.FlowHash(t), ToeplitzReference(key, TupleBytes(t)));
      }
    }
  }
}

TEST(FlowSteeringTest, OwnerOfTheMicrosoftVector) {
  const FlowSteering s =
      MustCreate({4, SteeringMode::kRss, RssParams{kMicrosoftRssKey, RoundRobinReta(128, 4)}});
  const Ipv4TcpTuple t{*Ipv4Address::Parse("66.9.149.187"), *Ipv4Address::Parse("161.142.100.80"),
                       2794, 1766};
  EXPECT_EQ(s.FlowHash(t), 0x51ccc178u);
  // Low 7 bits 0x78 = 120 -> entry 120 -> queue 120 % 4 = 0.
  EXPECT_EQ(s.OwnerOfHash(0x51ccc178u), 0);
  EXPECT_EQ(s.HashOwner(t), 0);
  EXPECT_EQ(s.OwnerOfHash(0x51ccc179u), 1);
}

TEST(FlowSteeringTest, PortHashModeActiveOwnerIsTheLocalPort) {
  const ListenerPortSet listeners{8080};
  std::mt19937_64 rng(4);
  for (uint16_t cores : {1, 2, 3, 4, 6, 8}) {
    const FlowSteering s = MustCreate({cores, SteeringMode::kPortHash, std::nullopt});
    EXPECT_FALSE(s.uses_nic_rss());
    for (int i = 0; i < 5'000; ++i) {
      Ipv4TcpTuple t = RandomTuple(rng);
      t.src_port = static_cast<uint16_t>(1024 + t.src_port % 64000);
      t.dst_port = static_cast<uint16_t>(1024 + t.dst_port % 64000);
      if (t.dst_port == 8080) continue;
      const SteeringDecision d = s.Steer(t, listeners);
      ASSERT_EQ(d.direction, FlowDirection::kActive);
      ASSERT_EQ(d.core, t.dst_port % cores);
      ASSERT_EQ(s.PortOwner(t.dst_port), t.dst_port % cores);
    }
    // Rule 1 replies also follow the local port.
    EXPECT_EQ(s.Steer({Ipv4Address(1), Ipv4Address(2), 443, 40001}, listeners).core,
              40001 % cores);
  }
}

TEST(FlowSteeringTest, PortHashModePassiveUsesOurSymmetricHashWithoutNicRss) {
  const ListenerPortSet listeners{8080};
  std::mt19937_64 rng(5);
  for (uint16_t cores : {2, 3, 4}) {
    const FlowSteering s = MustCreate({cores, SteeringMode::kPortHash, std::nullopt});
    const RssParams software{kSymmetricRssKey, RoundRobinReta(kSoftwareRetaSize, cores)};
    std::vector<int> per_core(cores, 0);
    for (int i = 0; i < 5'000; ++i) {
      Ipv4TcpTuple t = RandomTuple(rng);
      t.src_port = static_cast<uint16_t>(1024 + t.src_port % 64000);
      t.dst_port = 8080;
      const SteeringDecision d = s.Steer(t, listeners);
      ASSERT_EQ(d.direction, FlowDirection::kPassive);
      ASSERT_EQ(d.core, ReferenceOwner(software, t));
      // Symmetric key: the reverse direction hashes to the same core.
      const Ipv4TcpTuple back{t.dst_ip, t.src_ip, t.dst_port, t.src_port};
      ASSERT_EQ(s.HashOwner(back), d.core);
      ++per_core[d.core];
    }
    for (uint16_t c = 0; c < cores; ++c) EXPECT_GT(per_core[c], 5'000 / cores / 2) << c;
  }
}

TEST(FlowSteeringTest, PortHashModePassiveFollowsTheNicWhenItHasRss) {
  const ListenerPortSet listeners{8080};
  const RssParams rss{kMicrosoftRssKey, RoundRobinReta(128, 2)};
  const FlowSteering s = MustCreate({4, SteeringMode::kPortHash, rss});
  EXPECT_TRUE(s.uses_nic_rss());
  std::mt19937_64 rng(6);
  for (int i = 0; i < 2'000; ++i) {
    Ipv4TcpTuple t = RandomTuple(rng);
    t.src_port = static_cast<uint16_t>(1024 + t.src_port % 64000);
    t.dst_port = 8080;
    ASSERT_EQ(s.Steer(t, listeners).core, ReferenceOwner(rss, t));
    t.dst_port = 40001;
    ASSERT_EQ(s.Steer(t, listeners).core, 40001 % 4);
  }
}

// ActiveClass/ActiveOwner predict what Steer will say about the reply.
TEST(FlowSteeringTest, ActiveOwnerPredictsTheReplysOwner) {
  const ListenerPortSet listeners;
  std::mt19937_64 rng(7);
  const SteeringConfig configs[] = {
      {2, SteeringMode::kRss, RssParams{kSymmetricRssKey, RoundRobinReta(128, 2)}},
      {4, SteeringMode::kRss, RssParams{kMicrosoftRssKey, RoundRobinReta(512, 4)}},
      {3, SteeringMode::kPortHash, std::nullopt},
  };
  for (const auto& config : configs) {
    const FlowSteering s = MustCreate(config);
    EXPECT_EQ(s.active_class_count(),
              config.mode == SteeringMode::kRss ? config.nic_rss->reta.size() : 1u);
    for (int i = 0; i < 20'000; ++i) {
      const Ipv4Address local(static_cast<uint32_t>(rng())), remote(static_cast<uint32_t>(rng()));
      const uint16_t remote_port = static_cast<uint16_t>(rng());
      const uint16_t local_port = static_cast<uint16_t>(1024 + rng() % 64512);
      const uint32_t cls = s.ActiveClass(local, remote, remote_port);
      ASSERT_LT(cls, s.active_class_count());
      ASSERT_EQ(s.ActiveOwner(cls, local_port),
                s.Steer({remote, local, remote_port, local_port}, listeners).core);
    }
  }
}

}  // namespace
}  // namespace locus::steer
