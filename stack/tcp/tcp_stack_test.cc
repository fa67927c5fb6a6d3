// Stack against stack: two TcpLayers (client and server) joined by an
// in-memory path that loses, reorders and duplicates segments, in virtual
// time. Checks that every byte arrives exactly once and in order (SHA-256
// of each stream at both ends, OpenSSL), that connections close cleanly,
// and that no packet buffer leaks.
//
// Volume: LOCUS_TCP_STRESS_BYTES (bytes per direction per connection,
// default kDefaultBytes) and LOCUS_TCP_STRESS_CONNECTIONS (default 100).
// The full-size run (50 MiB each way) is the manual target
// tcp_stack_full_test.
#include <openssl/evp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "stack/link/packet.h"
#include "stack/tcp/tcp_layer.h"
#include "stack/tcp_support/isn_generator.h"
#include "stack/tcp_support/siphash.h"
#include "stack/tcp_support/syn_cookie.h"
#include "stack/timer/timer_wheel.h"
#include "stack/wire/checksum.h"
#include "stack/wire/endian.h"

namespace locus::tcp {
namespace {

constexpr uint64_t kDefaultBytes = 1u << 20;
constexpr size_t kDefaultConnections = 100;
constexpr Instant kStart = Instant::FromNanos(int64_t{5000} * 1000000000);
constexpr wire::Ipv4Address kClientIp = wire::Ipv4Address::FromOctets(10, 1, 0, 1);
constexpr wire::Ipv4Address kServerIp = wire::Ipv4Address::FromOctets(10, 1, 0, 2);
constexpr uint16_t kServerPort = 80;

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::strtoull(v, nullptr, 10);
}

SecretKey KeyFrom(uint8_t seed) {
  std::array<uint8_t, SecretKey::kSize> bytes{};
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(seed + i * 13);
  return SecretKey::FromBytes(bytes);
}

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::span<const uint8_t> b) { EVP_DigestUpdate(ctx_, b.data(), b.size()); }
  std::string Final() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, out, &n);
    return std::string(reinterpret_cast<char*>(out), n);
  }

 private:
  EVP_MD_CTX* ctx_;
};

// The lossy path between the two layers, both directions.
struct Faults {
  double loss = 0;
  double reorder = 0;
  double duplicate = 0;
  Duration delay = Duration::Millis(5);  // one way
};

class Network;

class Side final : public SegmentTransmitter {
 public:
  Side(Network& net, bool is_client, const TcpConfig& config, link::PacketPool& pool,
       uint8_t key_seed)
      : net_(net),
        is_client_(is_client),
        key_(KeyFrom(key_seed)),
        isn_(key_),
        cookies_(key_),
        wheel_(kStart),
        layer_(config, pool, *this, wheel_, isn_, cookies_, TcpLayer::Limits{}) {}

  void TransmitSegment(const FourTuple& tuple, link::Packet* packet) override;
  TcpLayer& layer() { return layer_; }
  timer::TimerWheel& wheel() { return wheel_; }

 private:
  Network& net_;
  bool is_client_;
  SecretKey key_;
  IsnGenerator isn_;
  SynCookies cookies_;
  timer::TimerWheel wheel_;
  TcpLayer layer_;
};

class Network {
 public:
  Network(const TcpConfig& config, size_t pool_packets, Faults faults, uint64_t seed)
      : pool_(pool_packets), faults_(faults), rng_(seed) {
    client_ = std::make_unique<Side>(*this, true, config, pool_, 1);
    server_ = std::make_unique<Side>(*this, false, config, pool_, 2);
  }
  ~Network() {
    client_.reset();
    server_.reset();
    DropInFlight();
  }

  Side& client() { return *client_; }
  Side& server() { return *server_; }
  link::HeapPacketPool& pool() { return pool_; }
  Instant now() const { return now_; }
  uint64_t delivered() const { return delivered_; }
  uint64_t lost() const { return lost_; }
  uint64_t duplicated() const { return duplicated_; }
  uint64_t reordered() const { return reordered_; }

  void Send(bool from_client, const FourTuple& tuple, link::Packet* packet) {
    // The transmitter completes the checksum (the TCP header carries the
    // pseudo-header seed, wire::TxChecksum::kOffload).
    wire::InternetChecksum sum;
    sum.Add(packet->bytes());
    wire::StoreBe16(packet->data() + 16, sum.Checksum());
    std::uniform_real_distribution<double> u(0, 1);
    if (u(rng_) < faults_.loss) {
      ++lost_;
      link::FreePacket(packet);
      return;
    }
    if (u(rng_) < faults_.duplicate) {
      link::Packet* copy = pool_.Allocate();
      if (copy != nullptr) {
        std::memcpy(copy->Append(packet->length), packet->data(), packet->length);
        ++duplicated_;
        Enqueue(from_client, tuple, copy, now_ + faults_.delay + Duration::Millis(1));
      }
    }
    Duration delay = faults_.delay;
    if (u(rng_) < faults_.reorder) {
      ++reordered_;
      delay += Duration::Millis(std::uniform_int_distribution<int>(1, 8)(rng_));
    }
    Enqueue(from_client, tuple, packet, now_ + delay);
  }

  // One millisecond of virtual time: timers, deliveries, then output.
  void Step() {
    now_ += Duration::Millis(1);
    client_->wheel().Advance(now_);
    server_->wheel().Advance(now_);
    while (!queue_.empty() && queue_.top().at <= now_) {
      InFlight f = queue_.top();
      queue_.pop();
      ++delivered_;
      Side& to = f.from_client ? *server_ : *client_;
      to.layer().Input(f.tuple.local_ip, f.tuple.remote_ip, f.packet, /*checksum_ok=*/false, now_);
    }
  }

  // Output, then the event batch (a Tcb is freed only once it is off the
  // event list, so an event loop must take its events).
  void Flush() {
    client_->layer().FlushOutput(now_);
    server_->layer().FlushOutput(now_);
    events_.clear();
    client_->layer().TakeEvents(events_);
    server_->layer().TakeEvents(events_);
  }

  void DropInFlight() {
    while (!queue_.empty()) {
      link::FreePacket(queue_.top().packet);
      queue_.pop();
    }
  }
  size_t in_flight() const { return queue_.size(); }

 private:
  struct InFlight {
    Instant at;
    uint64_t order;
    bool from_client;
    FourTuple tuple;
    link::Packet* packet;
    bool operator>(const InFlight& o) const {
      return at != o.at ? at > o.at : order > o.order;
    }
  };
  void Enqueue(bool from_client, const FourTuple& tuple, link::Packet* p, Instant at) {
    queue_.push(InFlight{at, next_order_++, from_client, tuple, p});
  }

  link::HeapPacketPool pool_;
  Faults faults_;
  std::mt19937_64 rng_;
  Instant now_ = kStart;
  std::unique_ptr<Side> client_;
  std::unique_ptr<Side> server_;
  std::priority_queue<InFlight, std::vector<InFlight>, std::greater<InFlight>> queue_;
  uint64_t next_order_ = 0;
  std::vector<EventRecord> events_;
  uint64_t delivered_ = 0, lost_ = 0, duplicated_ = 0, reordered_ = 0;
};

void Side::TransmitSegment(const FourTuple& tuple, link::Packet* packet) {
  net_.Send(is_client_, tuple, packet);
}

// One direction of one connection: a deterministic byte stream.
class Stream {
 public:
  explicit Stream(uint64_t seed) : rng_(seed) {}
  // Fills `out` with the next bytes of the stream.
  void Generate(std::span<uint8_t> out) {
    for (uint8_t& b : out) {
      if (have_ == 0) {
        word_ = rng_();
        have_ = 8;
      }
      b = static_cast<uint8_t>(word_);
      word_ >>= 8;
      --have_;
    }
  }

 private:
  std::mt19937_64 rng_;
  uint64_t word_ = 0;
  int have_ = 0;
};

// An application endpoint: writes `total` bytes of its stream, reads and
// hashes the peer's, shuts down when done writing, closes after EOF.
struct Endpoint {
  Endpoint(uint64_t seed, uint64_t total) : out(seed), to_send(total) {}
  Tcb* tcb = nullptr;
  Stream out;
  Sha256 sent_hash;
  Sha256 received_hash;
  uint64_t to_send;
  uint64_t sent = 0;
  uint64_t received = 0;
  bool shut = false;
  bool closed = false;
  bool failed = false;
  CloseReason failure = CloseReason::kNone;
  std::string sent_digest, received_digest;

  void Pump(std::vector<uint8_t>& scratch) {
    if (tcb == nullptr || closed) return;
    if (tcb->state() == TcpState::kClosed && tcb->close_reason() != CloseReason::kNormal) {
      failed = true;
      failure = tcb->close_reason();
      Finish();
      return;
    }
    for (std::span<const uint8_t> in = tcb->Peek(); !in.empty(); in = tcb->Peek()) {
      received_hash.Update(in);
      received += in.size();
      tcb->Consume(in.size());
    }
    while (sent < to_send) {
      size_t room = tcb->writable();
      if (room == 0) break;
      size_t n = static_cast<size_t>(std::min<uint64_t>({room, to_send - sent, scratch.size()}));
      std::span<uint8_t> chunk(scratch.data(), n);
      out.Generate(chunk);
      size_t w = tcb->Write(chunk);
      EXPECT_EQ(w, n);
      sent_hash.Update(chunk.first(w));
      sent += w;
      if (w < n) break;
    }
    if (sent == to_send && !shut) {
      tcb->Shutdown();
      shut = true;
    }
    if (shut && tcb->peer_closed() && tcb->readable() == 0) Finish();
  }

  void Finish() {
    sent_digest = sent_hash.Final();
    received_digest = received_hash.Final();
    closed = true;
    tcb->Close();
    tcb = nullptr;
  }
};

TcpConfig StressConfig() {
  TcpConfig config;
  config.congestion = CongestionAlgorithm::kCubic;
  return config;
}

struct StressResult {
  uint64_t bytes = 0;
  double wall_seconds = 0;
  double virtual_seconds = 0;
};

StressResult RunBulk(size_t connections, uint64_t bytes_each_way, Faults faults, uint64_t seed) {
  StressResult result;
  // Enough buffers for every send buffer, receive buffer and reassembly
  // queue at once.
  const size_t pool_packets = 4096 + connections * 2 * 400;
  Network net(StressConfig(), pool_packets, faults, seed);
  absl::StatusOr<Listener*> listener = net.server().layer().Listen(kServerIp, kServerPort);
  EXPECT_TRUE(listener.ok());
  if (!listener.ok()) return result;

  std::vector<std::unique_ptr<Endpoint>> clients, servers;
  for (size_t i = 0; i < connections; ++i) {
    clients.push_back(std::make_unique<Endpoint>(seed * 1000 + 2 * i, bytes_each_way));
    absl::StatusOr<Tcb*> c = net.client().layer().Connect(
        kClientIp, kServerIp, kServerPort, net.now(), static_cast<uint16_t>(10000 + i));
    EXPECT_TRUE(c.ok()) << c.status();
    if (!c.ok()) return result;
    clients.back()->tcb = *c;
  }
  net.Flush();

  std::vector<uint8_t> scratch(64 * 1024);
  auto start = std::chrono::steady_clock::now();
  const Instant deadline = net.now() + Duration::Seconds(3600);
  size_t done = 0;
  while (net.now() < deadline) {
    net.Step();
    while (Tcb* t = (*listener)->Accept()) {
      // The peer's port says which client this is.
      size_t i = t->tuple().remote_port - 10000;
      auto e = std::make_unique<Endpoint>(seed * 1000 + 2 * i + 1, bytes_each_way);
      e->tcb = t;
      if (servers.size() <= i) servers.resize(connections);
      servers[i] = std::move(e);
    }
    done = 0;
    for (auto& c : clients) {
      c->Pump(scratch);
      done += c->closed;
    }
    for (auto& s : servers) {
      if (s == nullptr) continue;
      s->Pump(scratch);
      done += s->closed;
    }
    net.Flush();
    if (done == 2 * connections && net.client().layer().connection_count() == 0 &&
        net.server().layer().connection_count() == 0) {
      break;
    }
  }
  auto end = std::chrono::steady_clock::now();
  result.wall_seconds = std::chrono::duration<double>(end - start).count();
  result.virtual_seconds = (net.now() - kStart).seconds();
  EXPECT_EQ(done, 2 * connections) << "virtual time ran out";

  for (size_t i = 0; i < connections; ++i) {
    Endpoint& c = *clients[i];
    if (i >= servers.size() || servers[i] == nullptr) {
      ADD_FAILURE() << "connection " << i << " never accepted";
      continue;
    }
    Endpoint& s = *servers[i];
    EXPECT_FALSE(c.failed) << "client " << i << ": " << CloseReasonName(c.failure);
    EXPECT_FALSE(s.failed) << "server " << i << ": " << CloseReasonName(s.failure);
    EXPECT_EQ(c.sent, bytes_each_way);
    EXPECT_EQ(s.sent, bytes_each_way);
    EXPECT_EQ(s.received, bytes_each_way) << "connection " << i;
    EXPECT_EQ(c.received, bytes_each_way) << "connection " << i;
    EXPECT_EQ(c.sent_digest, s.received_digest) << "client→server stream " << i;
    EXPECT_EQ(s.sent_digest, c.received_digest) << "server→client stream " << i;
    result.bytes += c.received + s.received;
  }
  const TcpCounters& cc = net.client().layer().counters();
  const TcpCounters& sc = net.server().layer().counters();
  EXPECT_EQ(cc.established_resets + sc.established_resets, 0u);
  EXPECT_EQ(cc.active_opens, connections);
  EXPECT_EQ(sc.passive_opens, connections);
  // Every connection enters TIME-WAIT at least once (on both ends after a
  // simultaneous close). An entry can end early: a duplicated final ACK
  // reaching a peer that has already closed draws a RST whose SEQ is
  // exactly RCV.NXT of the TIME-WAIT end, which RFC 9293 §3.10.7.4 lets
  // close it (the RFC 1337 hazard, accepted as Linux's default does).
  size_t tw = net.client().layer().time_wait_count() + net.server().layer().time_wait_count();
  uint64_t entered = cc.time_wait_entered + sc.time_wait_entered;
  EXPECT_GE(entered, connections);
  EXPECT_LE(entered, 2 * connections);
  EXPECT_LE(tw, entered);
  EXPECT_LE(entered - tw, cc.resets_out + sc.resets_out);
  for (int i = 0; i < 61000; ++i) {
    net.Step();
    net.Flush();
  }
  EXPECT_EQ(net.client().layer().time_wait_count(), 0u);
  EXPECT_EQ(net.server().layer().time_wait_count(), 0u);
  EXPECT_EQ(net.client().layer().connection_count(), 0u);
  EXPECT_EQ(net.server().layer().connection_count(), 0u);
  net.DropInFlight();
  EXPECT_EQ(net.pool().available(), net.pool().capacity()) << "packet buffers leaked";

  std::printf(
      "bulk: %zu connections x %llu bytes each way, faults loss %.0f%% reorder %.0f%% dup %.0f%%: "
      "%.1f MB in %.2f s wall (%.1f MB/s), %.1f s virtual; segments delivered %llu, lost %llu, "
      "duplicated %llu, reordered %llu; retransmits client %llu server %llu; sack recoveries "
      "%llu, rto %llu\n",
      connections, static_cast<unsigned long long>(bytes_each_way), faults.loss * 100,
      faults.reorder * 100, faults.duplicate * 100, result.bytes / 1e6, result.wall_seconds,
      result.bytes / 1e6 / result.wall_seconds, result.virtual_seconds,
      static_cast<unsigned long long>(net.delivered()),
      static_cast<unsigned long long>(net.lost()),
      static_cast<unsigned long long>(net.duplicated()),
      static_cast<unsigned long long>(net.reordered()),
      static_cast<unsigned long long>(cc.retransmits),
      static_cast<unsigned long long>(sc.retransmits),
      static_cast<unsigned long long>(cc.sack_recoveries + sc.sack_recoveries),
      static_cast<unsigned long long>(cc.rto_timeouts + sc.rto_timeouts));
  return result;
}

TEST(StackTest, BulkBothWaysOverLossyReorderingDuplicatingPath) {
  const size_t connections = EnvOr("LOCUS_TCP_STRESS_CONNECTIONS", kDefaultConnections);
  const uint64_t bytes = EnvOr("LOCUS_TCP_STRESS_BYTES", kDefaultBytes);
  Faults faults{.loss = 0.05, .reorder = 0.05, .duplicate = 0.05};
  StressResult r = RunBulk(connections, bytes, faults, /*seed=*/42);
  EXPECT_EQ(r.bytes, 2 * connections * bytes);
}

TEST(StackTest, BulkOverACleanPath) {
  Faults faults;
  StressResult r = RunBulk(10, 4u << 20, faults, /*seed=*/7);
  EXPECT_EQ(r.bytes, 2 * 10 * (4u << 20));
}

TEST(StackTest, ThousandShortConnectionsInARow) {
  // connect, 64-byte request, 64-byte response, close; one at a time.
  constexpr int kConnections = 1000;
  Network net(StressConfig(), 4096, Faults{}, 1);
  absl::StatusOr<Listener*> listener = net.server().layer().Listen(kServerIp, kServerPort);
  ASSERT_TRUE(listener.ok());
  std::string request(64, 'Q'), response(64, 'R');
  int completed = 0;
  for (int i = 0; i < kConnections; ++i) {
    absl::StatusOr<Tcb*> c = net.client().layer().Connect(kClientIp, kServerIp, kServerPort,
                                                          net.now(),
                                                          static_cast<uint16_t>(20000 + i));
    ASSERT_TRUE(c.ok()) << c.status();
    Tcb* client = *c;
    Tcb* server = nullptr;
    bool request_sent = false, response_sent = false, client_closed = false,
         server_closed = false;
    std::string got_request, got_response;
    net.Flush();
    for (int ms = 0; ms < 2000 && !(client_closed && server_closed); ++ms) {
      net.Step();
      if (server == nullptr) server = (*listener)->Accept();
      if (!client_closed && client->state() == TcpState::kEstablished && !request_sent) {
        ASSERT_EQ(client->Write({reinterpret_cast<const uint8_t*>(request.data()), 64}), 64u);
        request_sent = true;
      }
      if (server != nullptr && !server_closed) {
        uint8_t buf[128];
        while (size_t n = server->Read(buf)) got_request.append(reinterpret_cast<char*>(buf), n);
        if (got_request.size() == 64 && !response_sent) {
          ASSERT_EQ(server->Write({reinterpret_cast<const uint8_t*>(response.data()), 64}), 64u);
          response_sent = true;
        }
        if (server->peer_closed() && response_sent) {
          server->Close();
          server_closed = true;
        }
      }
      if (!client_closed) {
        uint8_t buf[128];
        while (size_t n = client->Read(buf)) got_response.append(reinterpret_cast<char*>(buf), n);
        if (got_response.size() == 64) {
          client->Close();
          client_closed = true;
        }
      }
      net.Flush();
    }
    // Let the last ACKs land.
    for (int ms = 0; ms < 20; ++ms) {
      net.Step();
      net.Flush();
    }
    ASSERT_TRUE(client_closed && server_closed) << "connection " << i;
    EXPECT_EQ(got_request, request);
    EXPECT_EQ(got_response, response);
    ++completed;
  }
  EXPECT_EQ(completed, kConnections);
  const TcpCounters& cc = net.client().layer().counters();
  const TcpCounters& sc = net.server().layer().counters();
  EXPECT_EQ(cc.active_opens, static_cast<uint64_t>(kConnections));
  EXPECT_EQ(sc.passive_opens, static_cast<uint64_t>(kConnections));
  EXPECT_EQ(cc.resets_out + sc.resets_out + cc.resets_in + sc.resets_in, 0u);
  EXPECT_EQ(cc.retransmits + sc.retransmits, 0u) << "clean path";
  EXPECT_EQ(net.client().layer().connection_count(), 0u);
  EXPECT_EQ(net.server().layer().connection_count(), 0u);
  // The client closed first: it holds every TIME-WAIT (the run is shorter
  // than 2*MSL), the server none.
  EXPECT_LT((net.now() - kStart).seconds(), 60.0);
  EXPECT_EQ(net.client().layer().time_wait_count(), static_cast<size_t>(kConnections));
  EXPECT_EQ(net.server().layer().time_wait_count(), 0u);
  for (int ms = 0; ms < 61000; ++ms) net.Step();
  EXPECT_EQ(net.client().layer().time_wait_count(), 0u);
  EXPECT_EQ(net.pool().available(), net.pool().capacity()) << "packet buffers leaked";
}

}  // namespace
}  // namespace locus::tcp
