// The applications echod runs on each shard: an echo server (RFC 862) and
// a discard server (RFC 863) on the user-level stack, and a client that
// pushes a deterministic byte stream through an echo server and checks
// every byte that comes back.
#ifndef LOCUS_STACK_ECHOD_ECHO_APP_H_
#define LOCUS_STACK_ECHOD_ECHO_APP_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "stack/engine/shard.h"
#include "stack/wire/addresses.h"

namespace locus::echod {

struct ServerOptions {
  uint16_t echo_port = 7;     // 0: no echo listener
  uint16_t discard_port = 9;  // 0: no discard listener
};

// Shared by all shards; read by the main thread for reports.
struct ServerCounters {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> closed{0};
  std::atomic<uint64_t> bytes_echoed{0};
  std::atomic<uint64_t> bytes_discarded{0};
};

class ServerApp final : public engine::ShardApp {
 public:
  ServerApp(ServerOptions options, ServerCounters* counters)
      : options_(options), counters_(counters) {}
  void OnStart(engine::Shard& shard, Instant now) override;
  void OnEvents(engine::Shard& shard, std::span<const tcp::EventRecord> events,
                Instant now) override;

 private:
  enum class Role : uint8_t { kEcho, kDiscard };
  void Service(tcp::Tcb* tcb, Role role);

  ServerOptions options_;
  ServerCounters* counters_;
  tcp::Listener* echo_ = nullptr;
  tcp::Listener* discard_ = nullptr;
};

struct ClientOptions {
  wire::Ipv4Address server;
  uint16_t port = 7;
  uint32_t connections = 1;      // at once
  uint64_t bytes = 1 << 20;      // per connection, each way
  uint32_t rounds = 1;           // connections opened one after another, per slot
  Duration timeout = Duration::Seconds(60);
};

struct ClientReport {
  std::atomic<uint64_t> completed{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> mismatches{0};
  std::atomic<uint64_t> bytes_sent{0};
  std::atomic<uint64_t> bytes_verified{0};
  std::atomic<bool> done{false};
};

// The byte at `offset` of connection `id`'s stream: cheap to generate and
// to check, different per connection, not periodic in any small window.
uint8_t StreamByte(uint64_t id, uint64_t offset);

class ClientApp final : public engine::ShardApp {
 public:
  ClientApp(ClientOptions options, ClientReport* report)
      : options_(options), report_(report) {}
  void OnStart(engine::Shard& shard, Instant now) override;
  void OnEvents(engine::Shard& shard, std::span<const tcp::EventRecord> events,
                Instant now) override;
  size_t OnPoll(engine::Shard& shard, Instant now) override;

 private:
  struct Flow {
    uint64_t id = 0;
    uint32_t slot = 0;
    uint64_t sent = 0;
    uint64_t received = 0;
    bool connected = false;
  };
  void Open(engine::Shard& shard, uint32_t slot, Instant now);
  void Pump(tcp::Tcb* tcb, Flow& flow);
  void Finish(engine::Shard& shard, tcp::Tcb* tcb, bool ok, Instant now);

  ClientOptions options_;
  ClientReport* report_;
  absl::flat_hash_map<tcp::Tcb*, Flow> flows_;
  std::vector<uint32_t> rounds_left_;
  uint64_t next_id_ = 1;
  Instant deadline_;
  uint32_t finished_slots_ = 0;
};

}  // namespace locus::echod

#endif  // LOCUS_STACK_ECHOD_ECHO_APP_H_
