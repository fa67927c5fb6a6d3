#include "bench/common/locus_pair.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "stack/engine/dispatcher.h"
#include "stack/steer/flow_steering.h"
#include "stack/steer/listener_ports.h"
#include "stack/tcp_support/siphash.h"
#include "stack/wire/endian.h"

namespace locus::bench {

namespace {

tcp::SecretKey BenchKey() {
  std::array<uint8_t, tcp::SecretKey::kSize> bytes{};
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(0x5a + 7 * i);
  return tcp::SecretKey::FromBytes(bytes);
}

// The link's steering: the shard that the receiving side's dispatcher
// would choose, so that (as with a NIC whose RSS agrees) frames land where
// they are processed. ARP and anything not TCP go to queue 0.
link::SteeringFunction MatchingSteering(uint16_t shards, std::vector<uint16_t> server_ports) {
  steer::SteeringConfig config;
  config.num_cores = shards;
  config.mode = steer::SteeringMode::kPortHash;
  auto steering = std::make_shared<steer::FlowSteering>(
      std::move(steer::FlowSteering::Create(config)).value());
  std::shared_ptr<const steer::ListenerPortSet> server_listeners =
      steer::ListenerPortSet::Create(server_ports);
  std::shared_ptr<const steer::ListenerPortSet> client_listeners =
      steer::ListenerPortSet::Create({});
  return [steering, server_listeners, client_listeners](
             std::span<const uint8_t> frame, uint16_t tx_queue,
             uint16_t rx_queues) -> link::SteeringDecision {
    if (frame.size() < 14 + 20 + 4 || wire::LoadBe16(frame.data() + 12) != 0x0800) return {0};
    const uint8_t* ip = frame.data() + 14;
    if (ip[9] != 6) return {0};
    size_t ihl = size_t{ip[0] & 0x0fu} * 4;
    const uint8_t* tcp = ip + ihl;
    steer::Ipv4TcpTuple t{wire::Ipv4Address(wire::LoadBe32(ip + 12)),
                          wire::Ipv4Address(wire::LoadBe32(ip + 16)), wire::LoadBe16(tcp),
                          wire::LoadBe16(tcp + 2)};
    const steer::ListenerPortSet& listeners =
        t.dst_ip == kServerIp ? *server_listeners : *client_listeners;
    return {steering->Steer(t, listeners).core};
  };
}

// A NIC's RSS: Toeplitz over the tuple with the symmetric key, through a
// round-robin RETA; ARP and other frames to queue 0.
link::SteeringFunction RssSteering(uint16_t shards) {
  auto hash = std::make_shared<steer::ToeplitzHash>(steer::kSymmetricRssKey);
  return [hash, shards](std::span<const uint8_t> frame, uint16_t tx_queue,
                        uint16_t rx_queues) -> link::SteeringDecision {
    if (frame.size() < 14 + 20 + 4 || wire::LoadBe16(frame.data() + 12) != 0x0800) return {0};
    const uint8_t* ip = frame.data() + 14;
    if (ip[9] != 6) return {0};
    size_t ihl = size_t{ip[0] & 0x0fu} * 4;
    const uint8_t* tcp = ip + ihl;
    uint32_t h = hash->HashIpv4L4(wire::LoadBe32(ip + 12), wire::LoadBe32(ip + 16),
                                  wire::LoadBe16(tcp), wire::LoadBe16(tcp + 2));
    return {static_cast<uint16_t>((h % steer::kSoftwareRetaSize) % shards), true, h};
  };
}

}  // namespace

absl::StatusOr<std::unique_ptr<LocusPair>> LocusPair::Create(const LocusPairOptions& options) {
  std::unique_ptr<LocusPair> pair(new LocusPair());
  pair->secrets_ = std::make_unique<core::StackSecrets>(BenchKey());
  link::MemoryLinkConfig link_config;
  link_config.queues = options.shards;
  link_config.ring_size = options.ring_size;
  link_config.pool_size = options.pool_size;
  if (options.shards > 1 && options.rss) {
    link_config.rss = true;
    link_config.rss_key = steer::kSymmetricRssKey;
    for (size_t i = 0; i < steer::kSoftwareRetaSize; ++i) {
      link_config.reta.push_back(static_cast<uint16_t>(i % options.shards));
    }
    link_config.steering = RssSteering(options.shards);
  } else if (options.shards > 1) {
    link_config.steering = MatchingSteering(options.shards, options.server_ports);
  }
  if (options.steering) link_config.steering = options.steering;
  absl::StatusOr<std::unique_ptr<link::MemoryLinkPair>> link =
      link::MemoryLinkPair::Create(link_config);
  if (!link.ok()) return link.status();
  pair->link_ = std::move(*link);

  Instant now = MonotonicNow();
  engine::ShardGroupOptions client;
  client.stack.interface.address = kClientIp;
  client.stack.tcp = options.tcp;
  client.stack.tcp_limits = options.limits;
  client.steering = options.rss ? engine::SteeringChoice::kRss : engine::SteeringChoice::kPortHash;
  client.port_seed = 1;
  engine::ShardGroupOptions server = client;
  server.stack.interface.address = kServerIp;
  server.port_seed = 2;
  absl::StatusOr<std::unique_ptr<engine::ShardGroup>> c =
      engine::ShardGroup::Create(pair->link_->a(), client, *pair->secrets_, now);
  if (!c.ok()) return c.status();
  absl::StatusOr<std::unique_ptr<engine::ShardGroup>> s =
      engine::ShardGroup::Create(pair->link_->b(), server, *pair->secrets_, now);
  if (!s.ok()) return s.status();
  pair->client_ = std::move(*c);
  pair->server_ = std::move(*s);
  pair->server_->SetListenerPorts(options.server_ports);
  // A warm ARP cache, as in steady state: otherwise the first burst of SYNs
  // overflows the few packets ARP holds per neighbour while it resolves,
  // and those connections wait a whole initial RTO (1 s).
  for (unsigned i = 0; i < pair->client_->size(); ++i) {
    pair->client_->stack(i).arp().Learn(kServerIp, pair->server_->stack(0).mac(), now);
  }
  for (unsigned i = 0; i < pair->server_->size(); ++i) {
    pair->server_->stack(i).arp().Learn(kClientIp, pair->client_->stack(0).mac(), now);
  }
  return pair;
}

LocusPair::~LocusPair() {
  client_.reset();
  server_.reset();
  link_.reset();
}

TcpTotals SumTcp(engine::ShardGroup& group) {
  TcpTotals t;
  for (unsigned i = 0; i < group.size(); ++i) {
    const tcp::TcpCounters& c = group.stack(i).tcp().counters();
    t.segments_in += c.segments_in;
    t.segments_out += c.segments_out;
    t.retransmits += c.retransmits;
    t.active_opens += c.active_opens;
    t.passive_opens += c.passive_opens;
    t.time_wait_entered += c.time_wait_entered;
    t.time_wait_reused += c.time_wait_reused;
    t.resets_out += c.resets_out;
    t.delayed_acks += c.delayed_acks;
    for (size_t k = 0; k < c.drops.size(); ++k) {
      t.drops += c.drops[k];
      if (c.drops[k] != 0 && getenv("LOCUS_BENCH_DEBUG") != nullptr) {
        fprintf(stderr, "shard %u drop %s: %llu\n", i,
                std::string(tcp::TcpDropName(static_cast<tcp::TcpDrop>(k))).c_str(),
                (unsigned long long)c.drops[k]);
      }
    }
  }
  return t;
}

uint64_t SumRedirects(engine::ShardGroup& group) {
  uint64_t n = 0;
  for (unsigned i = 0; i < group.size(); ++i) {
    if (engine::Dispatcher* d = group.dispatcher(i)) n += d->counters().redirects_out.load();
  }
  return n;
}

}  // namespace locus::bench
