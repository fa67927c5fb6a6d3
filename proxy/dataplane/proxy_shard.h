// The proxy as it runs on one shard: listeners on this core's TCP, HTTP
// and TCP sessions, the upstream keep-alive pool, and (on shard 0) the
// health owner. Reads configuration only from immutable snapshots handed
// over through a ring; takes no lock on the data path.
#ifndef LOCUS_PROXY_DATAPLANE_PROXY_SHARD_H_
#define LOCUS_PROXY_DATAPLANE_PROXY_SHARD_H_

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "proxy/accesslog/buffer.h"
#include "proxy/dataplane/config.h"
#include "proxy/dataplane/counters.h"
#include "proxy/dataplane/mailbox.h"
#include "proxy/lb/balancer.h"
#include "proxy/lb/pool_publisher.h"
#include "proxy/lb/rng.h"
#include "proxy/route/retry.h"
#include "proxy/route/route_cache.h"
#include "proxy/tls/client_connection.h"
#include "proxy/tls/context_set.h"
#include "proxy/tls/server_connection.h"
#include "proxy/tls/ticket_key_ring.h"
#include "proxy/tls/counters.h"
#include "stack/engine/shard.h"
#include "stack/timer/timer_wheel.h"

namespace locus::proxy::dataplane {

class ProxyShard;
class HttpSession;
class TcpSession;
class UpstreamConn;
class HealthProbe;

// What a connection's Tcb::user_data() points to.
class ConnHandler {
 public:
  virtual void OnConnectionEvent(tcp::Tcb* tcb, uint16_t events, Instant now) = 0;

 protected:
  ~ConnHandler() = default;
};

// Sessions a draining listener can ask to finish up.
class DrainableSession {
 public:
  // Finish the request in flight, then close.
  virtual void BeginDrain(Instant now) = 0;
  // The drain deadline passed: close now.
  virtual void ForceClose() = 0;

 protected:
  ~DrainableSession() = default;
};

// A listener on this shard; lives while it accepts or still has sessions.
struct ListenerRuntime {
  uint32_t id = 0;  // route cache key
  std::string name;
  ListenerConfig config;
  int32_t route_table = -1;
  int32_t pool = -1;
  http::Limits http_limits;
  tcp::Listener* tcp_listener = nullptr;  // null once draining
  uint32_t sessions = 0;
  uint32_t max_sessions = 0;  // this shard's share; 0 = unlimited
  absl::flat_hash_set<DrainableSession*> live;
  bool draining = false;
  bool seen = false;  // present in the config being applied
  Instant drain_deadline;
  ListenerGauge* gauge = nullptr;  // active sessions, for stats (may be null)
};

// A backend pool on this shard, stable across config versions by name.
struct PoolRuntime {
  uint32_t id = 0;
  std::string name;
  lb::BackendPoolConfig config;
  UpstreamSettings upstream;
  lb::Balancer balancer;
  uint32_t users = 0;       // sessions and connections pointing here
  uint64_t active_requests = 0;  // HTTP requests routed here, retries included
  route::RetryBudget retry_budget;
  bool removed = false;     // no longer in the config
  // Idle kept-alive connections per endpoint, most recently used last.
  absl::flat_hash_map<lb::EndpointKey, std::deque<UpstreamConn*>> idle;
  std::vector<EndpointCounters*> endpoint_counters;  // parallel to config.endpoints
  // upstream.tls.enabled: this shard's context for this config version
  // (null if it could not be built: connects then fail). Connections keep
  // the context they started with.
  std::shared_ptr<const tls::TlsClientContext> tls_client;
  explicit PoolRuntime(uint32_t shards) : balancer(shards) {}
};

struct ProxyShardOptions {
  unsigned shard_count = 1;
  size_t route_cache_capacity = 4096;
  uint64_t seed = 1;
  accesslog::AccessLogBuffer* access_log = nullptr;  // null: no access log
  // Session ticket keys shared by every shard of this data plane. Null:
  // the process's (ProcessTicketKeys()).
  tls::SharedTicketKeys* ticket_keys = nullptr;
};

class ProxyShard final : public engine::ShardApp, public timer::TimerHandler {
 public:
  ProxyShard(unsigned index, ProxyShardOptions options, ShardMailbox* mailbox,
             ShardTables* tables);
  ~ProxyShard() override;

  // engine::ShardApp
  void OnStart(engine::Shard& shard, Instant now) override;
  void OnEvents(engine::Shard& shard, std::span<const tcp::EventRecord> events,
                Instant now) override;
  size_t OnPoll(engine::Shard& shard, Instant now) override;
  void OnStop(engine::Shard& shard, Instant now) override;
  // timer::TimerHandler (the housekeeping tick)
  void OnTimer(timer::Timer& timer, Instant now) override;

  // ---- For sessions -----------------------------------------------------------
  unsigned index() const { return index_; }
  engine::Shard& shard() { return *shard_; }
  tcp::TcpLayer& tcp() { return shard_->tcp(); }
  timer::TimerWheel& timers() { return shard_->stack().timers(); }
  const CompiledConfig* config() const { return config_.get(); }
  const std::vector<std::unique_ptr<ListenerRuntime>>& listeners() const { return listeners_; }
  ProxyCounters& counters() { return *counters_; }
  route::RouteCache& route_cache() { return *route_cache_; }
  lb::Rng& rng() { return rng_; }
  PoolRuntime* pool(int32_t config_index);
  PoolRuntime* pool_by_name(std::string_view name);
  accesslog::AccessLogBuffer* access_log() { return options_.access_log; }
  // This shard's TLS contexts for the config it runs (null: no TLS
  // listener, or they could not be built).
  const std::shared_ptr<const tls::TlsContextSet>& tls_contexts() const { return tls_contexts_; }
  tls::TlsCounters& tls_counters() { return tables_->tls; }
  tls::TlsCounters& upstream_tls_counters() { return tables_->upstream_tls; }

  // An upstream connection to the endpoint picked from `pool`: a kept-alive
  // one when available, else a new connect. Null on failure (`*error` set).
  UpstreamConn* AcquireUpstream(PoolRuntime& pool, const lb::Pick& pick, ConnHandler* owner,
                                Instant now, bool* reused);
  // Returns a healthy idle connection to the keep-alive pool, or closes it.
  void ReleaseUpstream(UpstreamConn* conn, bool reusable, Instant now);
  // Reports an upstream outcome to the health owner (outlier detection).
  void ReportOutcome(PoolRuntime& pool, const lb::EndpointKey& endpoint, uint8_t outcome);
  EndpointCounters* endpoint_counters(PoolRuntime& pool, uint32_t index);

  // Session lifecycle.
  void OnSessionClosed(ListenerRuntime* listener);
  void RetirePool(PoolRuntime* pool);
  void ReleasePoolUser(PoolRuntime* pool);

  // Deferred deletion: sessions and connections are freed after the batch.
  template <typename T>
  void Defer(T* object) {
    graveyard_.push_back({[](void* p) { delete static_cast<T*>(p); }, object});
  }

 private:
  void ApplyConfig(std::shared_ptr<const CompiledConfig> config, Instant now);
  // Takes the ticket keys in force (applying the config's ticket settings
  // first when `apply_tickets`) and builds this shard's TLS contexts.
  void BuildTlsContexts(const CompiledConfig& config, bool apply_tickets, Instant now);
  tls::SharedTicketKeys& ticket_keys();
  // An accepted connection on a TLS listener: its TLS server side, or null
  // (counted) when there is none to give.
  std::unique_ptr<tls::TlsServerConnection> NewTlsConnection(const ListenerRuntime& listener);
  void ApplyPoolSnapshot(uint32_t pool_id, std::shared_ptr<const lb::PoolSnapshot> snapshot);
  void SyncPool(PoolRuntime& runtime, const CompiledPool& compiled);
  void RetireRemovedPools();
  void Accept(ListenerRuntime* listener, Instant now);
  void DrainListener(ListenerRuntime* listener, Duration grace, Instant now);
  void Housekeeping(Instant now);
  size_t DrainMailbox(Instant now);
  // Health owner (shard 0).
  void RunHealth(Instant now);
  void PublishHealth(uint32_t pool_id, lb::PoolPublisher& publisher);
  void OnOutcome(uint32_t pool_id, const lb::EndpointKey& key, uint8_t outcome, Instant now);
  friend class HealthProbe;
  void OnProbeDone(uint32_t pool_id, uint64_t config_version, health::ProbeTicket ticket,
                   bool passed, Instant now);

  unsigned index_;
  ProxyShardOptions options_;
  ShardMailbox* mailbox_;
  ShardTables* tables_;
  ProxyCounters* counters_;
  EndpointTable* endpoints_;
  engine::Shard* shard_ = nullptr;
  std::shared_ptr<const CompiledConfig> config_;
  // Built from config_->tls when a config is applied; connections keep the
  // set they started with.
  std::shared_ptr<const tls::TlsContextSet> tls_contexts_;
  // The ticket keys tls_contexts_ was built with; housekeeping rebuilds the
  // contexts when the shared set's generation moves on (a rotation, or a
  // config another shard applied first).
  std::shared_ptr<const tls::TicketKeySet> ticket_key_set_;
  std::vector<std::unique_ptr<ListenerRuntime>> listeners_;
  uint32_t next_listener_id_ = 1;
  std::vector<std::unique_ptr<PoolRuntime>> pools_;
  std::vector<PoolRuntime*> pool_by_config_index_;
  std::unique_ptr<route::RouteCache> route_cache_;
  lb::Rng rng_;
  timer::Timer tick_{this};
  struct Deferred {
    void (*destroy)(void*);
    void* object;
  };
  std::vector<Deferred> graveyard_;
  // Health owner state: one publisher per pool id.
  struct HealthPool {
    std::unique_ptr<lb::PoolPublisher> publisher;
    uint64_t config_version = 0;
  };
  absl::flat_hash_map<uint32_t, HealthPool> health_;
};

// The session ticket keys of this process, shared by every shard (so a
// ticket from one core resumes on any other): configured ones, or
// generated ones that rotate (see tls::SharedTicketKeys).
tls::SharedTicketKeys& ProcessTicketKeys();

}  // namespace locus::proxy::dataplane

#endif  // LOCUS_PROXY_DATAPLANE_PROXY_SHARD_H_
