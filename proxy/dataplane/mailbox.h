// How the control thread and the shards talk: single-producer,
// single-consumer rings of small messages, so that nothing on the data path
// takes a lock. Payloads that are not plain data travel as heap-allocated
// shared_ptr holders that the receiver deletes.
#ifndef LOCUS_PROXY_DATAPLANE_MAILBOX_H_
#define LOCUS_PROXY_DATAPLANE_MAILBOX_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proxy/dataplane/counters.h"
#include "proxy/tls/counters.h"
#include "proxy/lb/pool_config.h"
#include "stack/base/spsc_ring.h"

namespace locus::proxy::dataplane {

struct ShardMessage {
  enum class Kind : uint8_t {
    kConfig,        // payload: std::shared_ptr<const CompiledConfig>*
    kPoolSnapshot,  // payload: std::shared_ptr<const lb::PoolSnapshot>*; id = pool id
    kOutcome,       // to shard 0: id = pool id, endpoint, outcome
    kDrain,         // payload: std::string* listener name; value = grace in ns
  };
  Kind kind = Kind::kConfig;
  uint8_t outcome = 0;
  uint32_t id = 0;
  lb::EndpointKey endpoint;
  void* payload = nullptr;
  int64_t value = 0;
};

// Messages that did not fit are kept by the sender and retried; this many
// fit without waiting.
inline constexpr uint32_t kMailboxRingSize = 1024;

// Every ring between the control thread and the shards, and between the
// shards and the health owner (shard 0).
class ShardMailbox {
 public:
  static absl::StatusOr<std::unique_ptr<ShardMailbox>> Create(unsigned shards);
  ~ShardMailbox();

  unsigned shards() const { return shards_; }
  // Control thread -> shard.
  SpscRing<ShardMessage>& control_to(unsigned shard) { return *control_[shard]; }
  // Shard -> health owner, and back.
  SpscRing<ShardMessage>& to_owner_from(unsigned shard) { return *to_owner_[shard]; }
  SpscRing<ShardMessage>& from_owner_to(unsigned shard) { return *from_owner_[shard]; }

  // Frees the payload of a message that will never be delivered.
  static void Discard(const ShardMessage& m);

 private:
  explicit ShardMailbox(unsigned shards) : shards_(shards) {}
  unsigned shards_;
  std::vector<std::unique_ptr<SpscRing<ShardMessage>>> control_;
  std::vector<std::unique_ptr<SpscRing<ShardMessage>>> to_owner_;
  std::vector<std::unique_ptr<SpscRing<ShardMessage>>> from_owner_;
};

// Per-shard endpoint counters: append-only with a fixed capacity, so that
// stats readers on other threads can walk it while the shard appends.
inline constexpr size_t kMaxEndpointCountersPerShard = 16384;

class EndpointTable {
 public:
  EndpointTable() : entries_(kMaxEndpointCountersPerShard) {}
  // Finds or adds (owner shard only). Null when full.
  EndpointCounters* FindOrAdd(const std::string& pool, const lb::EndpointKey& key);
  size_t size() const { return size_.load(std::memory_order_acquire); }
  const EndpointCounters& at(size_t i) const { return entries_[i]; }

 private:
  std::vector<EndpointCounters> entries_;
  std::atomic<size_t> size_{0};
};

struct ListenerGauge {
  std::string name;
  std::atomic<uint64_t> active{0};
};

inline constexpr size_t kMaxListenerGaugesPerShard = 4096;

// Per-shard listener gauges, append-only like EndpointTable.
class ListenerGaugeTable {
 public:
  ListenerGaugeTable() : entries_(kMaxListenerGaugesPerShard) {}
  ListenerGauge* FindOrAdd(const std::string& name);
  size_t size() const { return size_.load(std::memory_order_acquire); }
  const ListenerGauge& at(size_t i) const { return entries_[i]; }

 private:
  std::vector<ListenerGauge> entries_;
  std::atomic<size_t> size_{0};
};

// Everything a shard publishes for readers on other threads.
struct ShardTables {
  ProxyCounters counters;
  tls::TlsCounters tls;           // TLS listeners: the client side
  tls::TlsCounters upstream_tls;  // pools with tls: the backend side
  EndpointTable endpoints;
  ListenerGaugeTable listeners;
};

}  // namespace locus::proxy::dataplane

#endif  // LOCUS_PROXY_DATAPLANE_MAILBOX_H_
