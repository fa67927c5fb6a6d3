#include "proxy/dataplane/testing/test_net.h"

#include <algorithm>
#include <array>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "stack/engine/steered_ports.h"
#include "stack/wire/endian.h"

namespace locus::proxy::dataplane::testing {

namespace {

constexpr wire::MacAddress kMacA = wire::MacAddress({0x02, 0, 0, 0, 0, 0x0a});
constexpr wire::MacAddress kMacB = wire::MacAddress({0x02, 0, 0, 0, 0, 0x0b});
constexpr wire::MacAddress kMacC = wire::MacAddress({0x02, 0, 0, 0, 0, 0x0c});
constexpr size_t kEth = 14;

tcp::SecretKey KeyFrom(uint8_t seed) {
  std::array<uint8_t, tcp::SecretKey::kSize> bytes{};
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(seed + i * 13);
  return tcp::SecretKey::FromBytes(bytes);
}

bool MacIs(std::span<const uint8_t> frame, size_t offset, const wire::MacAddress& mac) {
  return wire::MacAddress::FromBytes(frame.data() + offset) == mac;
}

// Endpoint B: 10.0.0.1 (MAC ...0b) on queue 0 and 10.0.0.3 (MAC ...0c) on
// queue 1, told apart by destination MAC or, for a broadcast ARP request,
// by the address asked for. Endpoint A: queue 0 with one proxy shard; with
// two, TCP frames are spread by their ports (the shards' dispatchers then
// redirect what they do not own, as with a NIC that knows nothing of us).
link::SteeringDecision Steer(unsigned shards, std::span<const uint8_t> frame, uint16_t,
                             uint16_t rx_queues) {
  if (frame.size() < kEth) return {};
  bool to_b = MacIs(frame, 6, kMacA);
  uint16_t ether_type = wire::LoadBe16(frame.data() + 12);
  if (to_b) {
    if (MacIs(frame, 0, kMacC)) return {.queue = 1};
    if (MacIs(frame, 0, kMacB)) return {.queue = 0};
    if (ether_type == 0x0806 && frame.size() >= kEth + 28 &&
        wire::LoadBe32(frame.data() + kEth + 24) == kPeer2Ip.value()) {
      return {.queue = 1};
    }
    return {.queue = 0};
  }
  if (shards < 2 || ether_type != 0x0800 || frame.size() < kEth + 20) return {.queue = 0};
  size_t ihl = size_t{frame[kEth] & 0x0fu} * 4;
  if (frame[kEth + 9] != 6 || frame.size() < kEth + ihl + 4) return {.queue = 0};
  uint16_t sport = wire::LoadBe16(frame.data() + kEth + ihl);
  uint16_t dport = wire::LoadBe16(frame.data() + kEth + ihl + 2);
  return {.queue = static_cast<uint16_t>((sport + dport) % std::min<unsigned>(shards, rx_queues))};
}

core::StackConfig StackConfigFor(wire::Ipv4Address address, const tcp::TcpConfig& tcp,
                                 std::optional<wire::MacAddress> mac) {
  core::StackConfig c;
  c.interface.address = address;
  c.interface.prefix_length = 24;
  c.interface.mac = mac;
  c.tcp = tcp;
  return c;
}

}  // namespace

// Sequential local ports for the single-shard proxy, with TIME-WAIT
// reuse decided by the TCP layer (what SteeredPorts does for many shards).
class TestNet::TestPorts final : public tcp::LocalPortAllocator {
 public:
  std::optional<uint16_t> Allocate(wire::Ipv4Address local_ip, wire::Ipv4Address remote_ip,
                                   uint16_t remote_port, Instant now,
                                   absl::FunctionRef<bool(uint16_t)> may_reuse) override {
    (void)local_ip;
    (void)now;
    for (int i = 0; i < kLast - kFirst; ++i) {
      uint16_t port = next_;
      next_ = next_ + 1 == kLast ? kFirst : next_ + 1;
      auto it = busy_.find(Key(remote_ip, remote_port, port));
      if (it == busy_.end()) {
        busy_[Key(remote_ip, remote_port, port)] = false;
        return port;
      }
      if (it->second && may_reuse(port)) {
        it->second = false;
        return port;
      }
    }
    return std::nullopt;
  }
  void Release(wire::Ipv4Address, uint16_t local_port, wire::Ipv4Address remote_ip,
               uint16_t remote_port) override {
    busy_.erase(Key(remote_ip, remote_port, local_port));
  }
  void EnterTimeWait(wire::Ipv4Address, uint16_t local_port, wire::Ipv4Address remote_ip,
                     uint16_t remote_port, Instant) override {
    busy_[Key(remote_ip, remote_port, local_port)] = true;
  }

 private:
  static constexpr uint16_t kFirst = 20000;
  static constexpr uint16_t kLast = 30000;
  static uint64_t Key(wire::Ipv4Address ip, uint16_t port, uint16_t local) {
    return (uint64_t{ip.value()} << 32) | (uint64_t{port} << 16) | local;
  }
  uint16_t next_ = kFirst;
  absl::flat_hash_map<uint64_t, bool> busy_;  // true: in TIME-WAIT
};

// ---- PeerHost -------------------------------------------------------------------

PeerHost::PeerHost(const core::StackConfig& config, link::Link& link, uint16_t queue,
                   const core::StackSecrets& secrets, Instant now)
    : stack_(config, link, queue, secrets, now) {
  events_.reserve(256);
}

void PeerHost::Unregister(PeerPollable* p) {
  pollables_.erase(std::remove(pollables_.begin(), pollables_.end(), p), pollables_.end());
}

size_t PeerHost::Poll(Instant now) {
  size_t work = stack_.PollInput(now);
  events_.clear();
  stack_.TakeEvents(events_);
  for (const tcp::EventRecord& e : events_) {
    if (e.listener != nullptr) {
      if (auto* a = static_cast<PeerAcceptor*>(e.listener->user_data())) a->OnAcceptable(e.listener, now);
      continue;
    }
    // Released earlier in this batch: its owner cleared user_data first.
    if (auto* c = static_cast<PeerConn*>(e.connection->user_data())) {
      c->OnEvent(e.connection, e.events, now);
    }
  }
  work += events_.size();
  // A copy: a pollable may unregister itself or another.
  std::vector<PeerPollable*> pollables = pollables_;
  for (PeerPollable* p : pollables) {
    if (std::find(pollables_.begin(), pollables_.end(), p) != pollables_.end()) work += p->Poll(now);
  }
  stack_.Flush(now);
  return work;
}

// ---- TestNet --------------------------------------------------------------------

TestNet::TestNet(TestNetOptions options) : options_(options) {
  link::MemoryLinkConfig lc;
  lc.queues = 2;
  lc.pool_size = options.pool_size;
  lc.checksum_offload = options.checksum_offload;
  lc.mac_a = kMacA;
  lc.mac_b = kMacB;
  unsigned shards = options.shards;
  lc.steering = [shards](std::span<const uint8_t> frame, uint16_t tx, uint16_t rx) {
    return Steer(shards, frame, tx, rx);
  };
  absl::StatusOr<std::unique_ptr<link::MemoryLinkPair>> link = link::MemoryLinkPair::Create(lc);
  if (!link.ok()) {
    ADD_FAILURE() << link.status();
    return;
  }
  link_ = std::move(*link);
  proxy_secrets_ = std::make_unique<core::StackSecrets>(KeyFrom(1));
  peer_secrets_ = std::make_unique<core::StackSecrets>(KeyFrom(2));

  core::StackConfig proxy_config = StackConfigFor(kProxyIp, options.proxy_tcp, std::nullopt);
  if (shards == 1) {
    single_stack_ = std::make_unique<core::Stack>(proxy_config, link_->a(), 0, *proxy_secrets_, now_);
    single_ports_ = std::make_unique<TestPorts>();
    single_stack_->tcp().set_port_allocator(single_ports_.get());
    single_shard_ = std::make_unique<engine::Shard>(0, *single_stack_, nullptr);
    shards_.push_back(single_shard_.get());
  } else {
    engine::ShardGroupOptions go;
    go.stack = proxy_config;
    go.steering = engine::SteeringChoice::kPortHash;
    go.port_seed = options.seed;
    absl::StatusOr<std::unique_ptr<engine::ShardGroup>> group =
        engine::ShardGroup::Create(link_->a(), go, *proxy_secrets_, now_);
    if (!group.ok()) {
      ADD_FAILURE() << group.status();
      return;
    }
    group_ = std::move(*group);
    for (unsigned i = 0; i < group_->size(); ++i) shards_.push_back(&group_->shard(i));
  }
  absl::StatusOr<std::unique_ptr<ShardMailbox>> mailbox = ShardMailbox::Create(shards);
  if (!mailbox.ok()) {
    ADD_FAILURE() << mailbox.status();
    return;
  }
  mailbox_ = std::move(*mailbox);
  ticket_keys_ = std::make_unique<tls::SharedTicketKeys>();
  for (unsigned i = 0; i < shards; ++i) {
    tables_.push_back(std::make_unique<ShardTables>());
    ProxyShardOptions po;
    po.shard_count = shards;
    po.seed = options.seed;
    po.ticket_keys = ticket_keys_.get();
    apps_.push_back(std::make_unique<ProxyShard>(i, po, mailbox_.get(), tables_[i].get()));
  }
  peers_.push_back(std::make_unique<PeerHost>(
      StackConfigFor(kPeerIp, options.peer_tcp, kMacB), link_->b(), 0, *peer_secrets_, now_));
  peers_.push_back(std::make_unique<PeerHost>(
      StackConfigFor(kPeer2Ip, options.peer_tcp, kMacC), link_->b(), 1, *peer_secrets_, now_));
  for (unsigned i = 0; i < shards; ++i) {
    apps_[i]->OnStart(*shards_[i], now_);
    shards_[i]->stack().Flush(now_);
  }
}

TestNet::~TestNet() {
  if (!shut_down_) Shutdown();
}

std::vector<ShardTables*> TestNet::table_pointers() {
  std::vector<ShardTables*> out;
  for (auto& t : tables_) out.push_back(t.get());
  return out;
}

void TestNet::PublishVersion(const DataPlaneConfig& config, uint64_t version) {
  absl::StatusOr<std::shared_ptr<const CompiledConfig>> compiled =
      Compile(config, version, options_.shards);
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  for (unsigned i = 0; i < options_.shards; ++i) {
    ShardMessage m;
    m.kind = ShardMessage::Kind::kConfig;
    m.payload = new std::shared_ptr<const CompiledConfig>(*compiled);
    if (!mailbox_->control_to(i).Enqueue(m)) {
      ShardMailbox::Discard(m);
      ADD_FAILURE() << "mailbox of shard " << i << " is full";
    }
  }
}

uint64_t TestNet::Publish(const DataPlaneConfig& config) {
  PublishVersion(config, ++version_);
  return version_;
}

uint64_t TestNet::Apply(const DataPlaneConfig& config) {
  uint64_t v = Publish(config);
  bool applied = RunUntil(
      [&] {
        for (auto& t : tables_) {
          if (t->counters.applied_version.load() != v) return false;
        }
        return true;
      },
      Duration::Seconds(1));
  EXPECT_TRUE(applied) << "config version " << v << " not applied";
  return v;
}

void TestNet::Settle() {
  if (shut_down_) return;
  for (int round = 0; round < kMaxSettleRounds; ++round) {
    size_t work = 0;
    if (!proxy_paused_) {
      for (size_t i = 0; i < shards_.size(); ++i) work += shards_[i]->PollOnce(*apps_[i], now_);
    }
    for (auto& p : peers_) work += p->Poll(now_);
    if (work == 0) return;
  }
  ADD_FAILURE() << "the network did not settle in " << kMaxSettleRounds << " passes";
}

void TestNet::Advance(Duration d) {
  Instant end = now_ + d;
  Settle();
  while (now_ < end) {
    now_ = std::min(now_ + options_.step, end);
    Settle();
  }
}

bool TestNet::RunUntil(const std::function<bool()>& done, Duration limit) {
  Instant end = now_ + limit;
  Settle();
  while (!done()) {
    if (now_ >= end) return false;
    now_ = now_ + options_.step;
    Settle();
  }
  return true;
}

uint64_t TestNet::Sum(std::atomic<uint64_t> ProxyCounters::*counter) {
  uint64_t total = 0;
  for (auto& t : tables_) total += (t->counters.*counter).load();
  return total;
}

uint64_t TestNet::SumResponses(int klass) {
  uint64_t total = 0;
  for (auto& t : tables_) total += t->counters.responses_by_class[klass].load();
  return total;
}

size_t TestNet::ProxyBuffersInUse() {
  size_t n = 0;
  for (unsigned q = 0; q < options_.shards; ++q) {
    link::PacketPool& pool = link_->a().pool(q);
    n += pool.capacity() - pool.available();
  }
  return n;
}

size_t TestNet::PeerBuffersInUse() {
  size_t n = 0;
  for (uint16_t q = 0; q < 2; ++q) {
    link::PacketPool& pool = link_->b().pool(q);
    n += pool.capacity() - pool.available();
  }
  return n;
}

namespace {
absl::string_view Sv(std::string_view v) { return absl::string_view(v.data(), v.size()); }

std::string DescribeStack(std::string_view name, core::Stack& s) {
  const core::NetCounters& n = s.counters();
  std::string out = absl::StrCat(Sv(name), ": rx ", n.rx_frames, " tx ", n.tx_frames, " tcbs ",
                                 s.tcp().connection_count(), " time-wait ",
                                 s.tcp().time_wait_count());
  for (size_t i = 0; i < n.drops.size(); ++i) {
    if (n.drops[i] != 0) {
      absl::StrAppend(&out, " ", Sv(core::NetDropName(static_cast<core::NetDrop>(i))), "=", n.drops[i]);
    }
  }
  const tcp::TcpCounters& t = s.tcp().counters();
  for (size_t i = 0; i < t.drops.size(); ++i) {
    if (t.drops[i] != 0) {
      absl::StrAppend(&out, " ", Sv(tcp::TcpDropName(static_cast<tcp::TcpDrop>(i))), "=", t.drops[i]);
    }
  }
  return out + "\n";
}
}  // namespace

std::string TestNet::Describe() {
  if (shut_down_) return "shut down";
  std::string out;
  for (size_t i = 0; i < shards_.size(); ++i) {
    out += DescribeStack(absl::StrCat("proxy shard ", i), shards_[i]->stack());
  }
  out += DescribeStack("peer", peers_[0]->stack());
  out += DescribeStack("peer2", peers_[1]->stack());
  return out;
}

void TestNet::Shutdown() {
  if (shut_down_ || link_ == nullptr) return;
  for (size_t i = 0; i < apps_.size(); ++i) {
    apps_[i]->OnStop(*shards_[i], now_);
    shards_[i]->stack().Flush(now_);
  }
  // The peers see the last FINs and resets.
  for (int round = 0; round < 8; ++round) {
    for (auto& p : peers_) p->Poll(now_);
  }
  apps_.clear();
  shards_.clear();
  single_shard_.reset();
  group_.reset();
  single_stack_.reset();
  single_ports_.reset();
  peers_.clear();
  shut_down_ = true;
  // Frames still in flight go back to their senders' pools: take them off
  // the receiving queues, then let each sender reclaim what was taken.
  for (int pass = 0; pass < 3; ++pass) {
    for (link::Link* l : {&link_->a(), &link_->b()}) {
      for (uint16_t q = 0; q < 2; ++q) {
        link::Packet* burst[link::kMaxBurst];
        for (int guard = 0; guard < 1000; ++guard) {
          uint16_t n = l->Receive(q, burst, link::kMaxBurst);
          for (uint16_t k = 0; k < n; ++k) link::FreePacket(burst[k]);
          if (n == 0) break;
        }
      }
    }
  }
}

size_t TestNet::LinkBuffersMissing() {
  size_t n = 0;
  for (link::Link* l : {&link_->a(), &link_->b()}) {
    for (uint16_t q = 0; q < 2; ++q) n += l->pool(q).capacity() - l->pool(q).available();
  }
  return n;
}

}  // namespace locus::proxy::dataplane::testing
