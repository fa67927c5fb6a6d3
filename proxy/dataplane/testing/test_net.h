// A whole proxy in one thread and in virtual time, for integration tests of
// the data plane: an in-memory link whose endpoint A runs the proxy (one or
// two shards, 10.0.0.2) and whose endpoint B runs peer stacks hosting test
// backends and clients (10.0.0.1 on queue 0, 10.0.0.3 on queue 1).
//
// Nothing here sleeps or reads a clock: every loop is bounded by a round
// count and by virtual time, and time only moves when the test says so.
#ifndef LOCUS_PROXY_DATAPLANE_TESTING_TEST_NET_H_
#define LOCUS_PROXY_DATAPLANE_TESTING_TEST_NET_H_

#include <functional>
#include <memory>
#include <vector>

#include "proxy/dataplane/config.h"
#include "proxy/dataplane/mailbox.h"
#include "proxy/dataplane/proxy_shard.h"
#include "stack/core/stack.h"
#include "stack/engine/shard.h"
#include "stack/engine/shard_group.h"
#include "stack/link/memory_link.h"
#include "stack/tcp/tcp_layer.h"

namespace locus::proxy::dataplane::testing {

inline constexpr wire::Ipv4Address kProxyIp = wire::Ipv4Address::FromOctets(10, 0, 0, 2);
inline constexpr wire::Ipv4Address kPeerIp = wire::Ipv4Address::FromOctets(10, 0, 0, 1);
inline constexpr wire::Ipv4Address kPeer2Ip = wire::Ipv4Address::FromOctets(10, 0, 0, 3);
// Where virtual time starts (any value far from zero).
inline constexpr Instant kStartTime = Instant::FromNanos(int64_t{1000} * 1000000000);
// Poll passes at one instant before the network must be quiet.
inline constexpr int kMaxSettleRounds = 10000;

// Something on a peer host that owns connections (user_data of its Tcbs).
class PeerConn {
 public:
  virtual void OnEvent(tcp::Tcb* tcb, uint16_t events, Instant now) = 0;

 protected:
  ~PeerConn() = default;
};

// What a peer listener's user_data points to.
class PeerAcceptor {
 public:
  virtual void OnAcceptable(tcp::Listener* listener, Instant now) = 0;

 protected:
  ~PeerAcceptor() = default;
};

// Polled on every pass: delayed actions, resumed reads. Returns work done.
class PeerPollable {
 public:
  virtual size_t Poll(Instant now) = 0;

 protected:
  ~PeerPollable() = default;
};

// One stack on endpoint B.
class PeerHost {
 public:
  PeerHost(const core::StackConfig& config, link::Link& link, uint16_t queue,
           const core::StackSecrets& secrets, Instant now);
  size_t Poll(Instant now);
  core::Stack& stack() { return stack_; }
  wire::Ipv4Address address() const { return stack_.interface().address; }
  void Register(PeerPollable* p) { pollables_.push_back(p); }
  void Unregister(PeerPollable* p);
  // A fresh local port for a client connection (never reused in a test).
  uint16_t NextClientPort() { return next_port_++; }

 private:
  core::Stack stack_;
  std::vector<tcp::EventRecord> events_;
  std::vector<PeerPollable*> pollables_;
  uint16_t next_port_ = 40000;
};

struct TestNetOptions {
  unsigned shards = 1;  // 1 or 2
  tcp::TcpConfig proxy_tcp;
  tcp::TcpConfig peer_tcp;
  size_t pool_size = 8192;  // packet buffers per queue and side
  Duration step = Duration::Millis(1);
  uint64_t seed = 1;
  // The link fills and checks checksums (as DPDK ports do). Without it the
  // stacks compute them in software, which is broken: see
  // stack_checksum_test.cc.
  bool checksum_offload = true;
};

class TestNet {
 public:
  explicit TestNet(TestNetOptions options = {});
  ~TestNet();

  Instant now() const { return now_; }
  unsigned shards() const { return options_.shards; }
  PeerHost& peer() { return *peers_[0]; }
  PeerHost& peer2() { return *peers_[1]; }
  ProxyShard& proxy(unsigned i) { return *apps_[i]; }
  engine::Shard& shard(unsigned i) { return *shards_[i]; }
  core::Stack& proxy_stack(unsigned i) { return shard(i).stack(); }
  ShardTables& tables(unsigned i) { return *tables_[i]; }
  ProxyCounters& counters(unsigned i) { return tables_[i]->counters; }
  ShardMailbox& mailbox() { return *mailbox_; }
  std::vector<ShardTables*> table_pointers();
  engine::ShardGroup* group() { return group_.get(); }

  // Compiles `config` as the next version and hands it to every shard's
  // mailbox, as ProxyDataPlane::Publish does. Nothing is polled.
  uint64_t Publish(const DataPlaneConfig& config);
  // The same with an explicit version (re-applying a version).
  void PublishVersion(const DataPlaneConfig& config, uint64_t version);
  // Publish, then poll until every shard applied it.
  uint64_t Apply(const DataPlaneConfig& config);
  uint64_t version() const { return version_; }

  // Polls everything at the current instant until nothing moves.
  void Settle();
  // While paused the proxy shards are not polled: frames for them wait in
  // the link, so that what the peers send in several passes reaches the
  // proxy in one batch (one PollOnce) when it resumes.
  void PauseProxy(bool paused) { proxy_paused_ = paused; }
  // Moves time forward by `d` in steps, settling after each.
  void Advance(Duration d);
  // Steps until `done` or until `limit` of virtual time passed.
  bool RunUntil(const std::function<bool()>& done, Duration limit);

  // Sum of a proxy counter over shards.
  uint64_t Sum(std::atomic<uint64_t> ProxyCounters::*counter);
  uint64_t SumResponses(int klass);

  // Packet buffers: proxy queues and peer queues.
  size_t ProxyBuffersInUse();
  size_t PeerBuffersInUse();

  // Frame, drop and connection counts of every stack, for failure messages.
  std::string Describe();

  // Stops the proxy shards (OnStop), lets the last segments go, destroys
  // the shards and stacks and returns every frame still in the link to its
  // pool. Afterwards only the buffer counts may be queried.
  void Shutdown();
  bool shut_down() const { return shut_down_; }
  // After Shutdown: buffers missing from any pool of the link.
  size_t LinkBuffersMissing();

 private:
  class TestPorts;

  TestNetOptions options_;
  Instant now_ = kStartTime;
  uint64_t version_ = 0;
  bool shut_down_ = false;
  bool proxy_paused_ = false;
  std::unique_ptr<link::MemoryLinkPair> link_;
  std::unique_ptr<core::StackSecrets> proxy_secrets_;
  std::unique_ptr<core::StackSecrets> peer_secrets_;
  // One shard: our own stack, shard and port allocator; two: a ShardGroup.
  std::unique_ptr<core::Stack> single_stack_;
  std::unique_ptr<TestPorts> single_ports_;
  std::unique_ptr<engine::Shard> single_shard_;
  std::unique_ptr<engine::ShardGroup> group_;
  std::vector<engine::Shard*> shards_;
  std::unique_ptr<ShardMailbox> mailbox_;
  std::vector<std::unique_ptr<ShardTables>> tables_;
  // Each net is its own "process": ticket keys (and their rotation
  // schedule, in this net's virtual time) are shared by its shards only.
  std::unique_ptr<tls::SharedTicketKeys> ticket_keys_;
  std::vector<std::unique_ptr<ProxyShard>> apps_;
  std::vector<std::unique_ptr<PeerHost>> peers_;
};

}  // namespace locus::proxy::dataplane::testing

#endif  // LOCUS_PROXY_DATAPLANE_TESTING_TEST_NET_H_
