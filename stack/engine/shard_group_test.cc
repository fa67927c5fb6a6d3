// Two shards per side over an in-memory link whose "NIC" delivers every
// frame to queue 0 (a port without RSS): the dispatcher must steer flows to
// their owners, and connections must complete even when the redirect rings
// overflow (TCP retransmits what was dropped).
#include "stack/engine/shard_group.h"

#include <atomic>
#include <thread>

#include "gtest/gtest.h"
#include "stack/echod/echo_app.h"
#include "stack/link/memory_link.h"

namespace locus::engine {
namespace {

struct Side {
  std::unique_ptr<core::StackSecrets> secrets;
  std::unique_ptr<ShardGroup> group;
};

Side MakeSide(link::Link& link, const char* ip, uint32_t ring_size) {
  Side side;
  std::array<uint8_t, tcp::SecretKey::kSize> key{};
  key[0] = static_cast<uint8_t>(ip[7]);
  side.secrets = std::make_unique<core::StackSecrets>(tcp::SecretKey::FromBytes(key));
  ShardGroupOptions options;
  std::optional<wire::Ipv4Prefix> prefix = wire::Ipv4Prefix::Parse(ip);
  options.stack.interface.address = prefix->address;
  options.stack.interface.prefix_length = prefix->length;
  options.stack.tcp.receive_buffer = 64 * 1024;
  options.stack.tcp.send_buffer = 64 * 1024;
  options.steering = SteeringChoice::kPortHash;
  options.redirect_ring_size = ring_size;
  absl::StatusOr<std::unique_ptr<ShardGroup>> group =
      ShardGroup::Create(link, options, *side.secrets, MonotonicNow());
  EXPECT_TRUE(group.ok()) << group.status();
  side.group = std::move(*group);
  return side;
}

struct ShardSteering {
  uint64_t tcp_frames = 0;
  uint64_t redirects_out = 0;
  uint64_t redirects_in = 0;
  uint64_t ring_full_drops = 0;
};

struct Result {
  uint64_t completed = 0;
  uint64_t failed = 0;
  uint64_t mismatches = 0;
  ShardSteering server[2];
};

Result RunEcho(uint32_t ring_size, uint32_t connections, uint64_t bytes) {
  link::MemoryLinkConfig config;
  config.queues = 2;
  config.pool_size = 16384;
  // Everything lands on queue 0, as on a port without RSS.
  config.steering = [](std::span<const uint8_t>, uint16_t, uint16_t) {
    return link::SteeringDecision{0, false, 0};
  };
  absl::StatusOr<std::unique_ptr<link::MemoryLinkPair>> pair =
      link::MemoryLinkPair::Create(config);
  EXPECT_TRUE(pair.ok());
  Side server = MakeSide((*pair)->a(), "10.0.0.2/24", ring_size);
  Side client = MakeSide((*pair)->b(), "10.0.0.1/24", ring_size);
  std::vector<uint16_t> listening = {7};
  server.group->SetListenerPorts(listening);

  echod::ServerCounters server_counters;
  echod::ClientReport reports[2];
  echod::ClientOptions options;
  options.server = wire::Ipv4Address::FromOctets(10, 0, 0, 2);
  options.port = 7;
  options.connections = connections;
  options.bytes = bytes;
  options.timeout = Duration::Seconds(60);
  std::atomic<bool> stop{false};
  std::thread server_thread([&] {
    server.group->RunThreads(
        [&](unsigned) { return std::make_unique<echod::ServerApp>(echod::ServerOptions{7, 0}, &server_counters); },
        stop);
  });
  std::thread client_thread([&] {
    client.group->RunThreads(
        [&](unsigned shard) { return std::make_unique<echod::ClientApp>(options, &reports[shard]); },
        stop);
  });
  Instant deadline = MonotonicNow() + Duration::Seconds(90);
  while (MonotonicNow() < deadline && !(reports[0].done.load() && reports[1].done.load())) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop.store(true);
  server_thread.join();
  client_thread.join();

  Result r;
  for (const echod::ClientReport& report : reports) {
    r.completed += report.completed.load();
    r.failed += report.failed.load();
    r.mismatches += report.mismatches.load();
  }
  for (unsigned i = 0; i < 2; ++i) {
    const SteeringCounters& c = server.group->dispatcher(i)->counters();
    r.server[i].redirects_out = c.redirects_out.load();
    r.server[i].redirects_in = c.redirects_in.load();
    r.server[i].ring_full_drops = c.ring_full_drops.load();
    r.server[i].tcp_frames = c.tcp_frames.load();
  }
  return r;
}

TEST(ShardGroupTest, SoftwareSteeringDeliversEveryFlowToItsShard) {
  Result r = RunEcho(kRedirectRingSize, 8, 256 * 1024);
  EXPECT_EQ(r.completed, 16u) << "8 connections from each of the client's 2 shards";
  EXPECT_EQ(r.failed, 0u);
  EXPECT_EQ(r.mismatches, 0u);
  // All frames arrive on queue 0: shard 0 forwards shard 1's, shard 1
  // receives nothing from the port itself.
  EXPECT_GT(r.server[0].redirects_out, 0u);
  // Every redirect arrives (one may still sit in a ring when the test stops).
  EXPECT_GT(r.server[1].redirects_in, 0u);
  EXPECT_LE(r.server[1].redirects_in, r.server[0].redirects_out);
  EXPECT_GE(r.server[1].redirects_in + link::kMaxBurst, r.server[0].redirects_out);
  EXPECT_EQ(r.server[1].tcp_frames, 0u);
  EXPECT_EQ(r.server[0].ring_full_drops, 0u);
}

TEST(ShardGroupTest, RingOverflowIsCountedAndConnectionsRecover) {
  // Rings of 2 frames overflow with 32-frame bursts; the dropped frames
  // come back by retransmission.
  Result r = RunEcho(2, 4, 64 * 1024);
  EXPECT_GT(r.server[0].ring_full_drops, 0u);
  EXPECT_EQ(r.completed, 8u);
  EXPECT_EQ(r.failed, 0u);
  EXPECT_EQ(r.mismatches, 0u);
}

}  // namespace
}  // namespace locus::engine
