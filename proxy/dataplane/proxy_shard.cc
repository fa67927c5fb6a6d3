#include "proxy/dataplane/proxy_shard.h"

#include <algorithm>
#include <cstdio>

#include "proxy/dataplane/health_probe.h"
#include "proxy/dataplane/http_session.h"
#include "proxy/dataplane/tcp_session.h"
#include "proxy/dataplane/upstream.h"
#include "stack/engine/dispatcher.h"
#include "stack/engine/steered_ports.h"

namespace locus::proxy::dataplane {

namespace {

// Housekeeping period: keep-alive expiry, drain deadlines, health checks,
// access-log flushes and stats snapshots.
constexpr Duration kTick = Duration::Millis(10);
// Active health probes started per pool per tick, at most.
constexpr size_t kMaxProbesPerTick = 64;

uint32_t SessionLimit(uint32_t max_connections, unsigned shards) {
  if (max_connections == 0) return 0;
  return (max_connections + shards - 1) / shards;
}

}  // namespace

ProxyShard::ProxyShard(unsigned index, ProxyShardOptions options, ShardMailbox* mailbox,
                       ShardTables* tables)
    : index_(index),
      options_(options),
      mailbox_(mailbox),
      tables_(tables),
      counters_(&tables->counters),
      endpoints_(&tables->endpoints),
      rng_(options.seed ^ (uint64_t{index} * 0x9e3779b97f4a7c15ULL)) {
  absl::StatusOr<std::unique_ptr<route::RouteCache>> cache =
      route::RouteCache::Create(options.route_cache_capacity, options.seed + index);
  if (cache.ok()) route_cache_ = std::move(*cache);
}

ProxyShard::~ProxyShard() {
  for (const Deferred& d : graveyard_) d.destroy(d.object);
  graveyard_.clear();
}

void ProxyShard::OnStart(engine::Shard& shard, Instant now) {
  shard_ = &shard;
  timers().Arm(tick_, now + kTick);
  DrainMailbox(now);
}

void ProxyShard::OnStop(engine::Shard& shard, Instant now) {
  // Close everything: sessions first, then idle upstream connections.
  for (auto& l : listeners_) {
    std::vector<DrainableSession*> live(l->live.begin(), l->live.end());
    for (DrainableSession* s : live) s->ForceClose();
    if (l->tcp_listener != nullptr) {
      tcp().CloseListener(l->tcp_listener, now);
      l->tcp_listener = nullptr;
    }
  }
  for (auto& p : pools_) {
    for (auto& [key, list] : p->idle) {
      for (UpstreamConn* c : list) c->Close(/*abort=*/false);
      list.clear();
    }
  }
  timers().Cancel(tick_);
  for (const Deferred& d : graveyard_) d.destroy(d.object);
  graveyard_.clear();
  (void)shard;
}

// ---- Events -------------------------------------------------------------------------

void ProxyShard::OnEvents(engine::Shard& shard, std::span<const tcp::EventRecord> events,
                          Instant now) {
  for (const tcp::EventRecord& e : events) {
    if (e.listener != nullptr) {
      Accept(static_cast<ListenerRuntime*>(e.listener->user_data()), now);
      continue;
    }
    tcp::Tcb* tcb = e.connection;
    // Every connection we hold has a handler. No handler means an earlier
    // event of this batch released it (Close or Abort, user_data cleared
    // first): its later records are stale. Releasing it again would free
    // the Tcb twice (the TCP frees released Tcbs after the batch).
    ConnHandler* handler = static_cast<ConnHandler*>(tcb->user_data());
    if (handler == nullptr) continue;
    handler->OnConnectionEvent(tcb, e.events, now);
  }
  for (const Deferred& d : graveyard_) d.destroy(d.object);
  graveyard_.clear();
  (void)shard;
}

size_t ProxyShard::OnPoll(engine::Shard& shard, Instant now) {
  size_t work = DrainMailbox(now);
  if (!graveyard_.empty()) {
    for (const Deferred& d : graveyard_) d.destroy(d.object);
    graveyard_.clear();
  }
  (void)shard;
  return work;
}

void ProxyShard::OnTimer(timer::Timer& timer, Instant now) {
  Housekeeping(now);
  timers().Arm(tick_, now + kTick);
  (void)timer;
}

void ProxyShard::Accept(ListenerRuntime* listener, Instant now) {
  if (listener == nullptr || listener->tcp_listener == nullptr) return;
  while (tcp::Tcb* tcb = listener->tcp_listener->Accept()) {
    Bump(counters_->connections_accepted);
    if (listener->max_sessions != 0 && listener->sessions >= listener->max_sessions) {
      // Over the listener's connection limit: refuse without serving.
      Bump(counters_->connections_rejected);
      if (listener->config.protocol == ListenerProtocol::kHttp && !listener->config.tls) {
        // The body is "503 Service Unavailable\nconnections\n": 36 bytes.
        static constexpr std::string_view kBusy =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; "
            "charset=utf-8\r\nContent-Length: 36\r\nConnection: close\r\n\r\n503 Service "
            "Unavailable\nconnections\n";
        tcb->Write({reinterpret_cast<const uint8_t*>(kBusy.data()), kBusy.size()});
        tcb->Close();
      } else {
        tcb->Abort();
      }
      continue;
    }
    if (listener->config.protocol == ListenerProtocol::kHttp) {
      std::unique_ptr<tls::TlsServerConnection> tls;
      if (listener->config.tls) {
        tls = NewTlsConnection(*listener);
        if (tls == nullptr) {
          tcb->Abort();
          continue;
        }
      }
      HttpSession* s = new HttpSession(*this, *listener, tcb, now, std::move(tls));
      s->Start(now);
    } else {
      TcpSession* s = new TcpSession(*this, *listener, tcb);
      s->Start(now);
    }
  }
}

std::unique_ptr<tls::TlsServerConnection> ProxyShard::NewTlsConnection(
    const ListenerRuntime& listener) {
  const tls::ServerContext* context =
      tls_contexts_ == nullptr ? nullptr : tls_contexts_->Find(listener.name);
  if (context == nullptr) {
    // The set failed to build (logged at apply): nothing can be served.
    Bump(tables_->tls.setup_failures);
    return nullptr;
  }
  // Null (and counted) only when OpenSSL cannot allocate.
  return tls::TlsServerConnection::Create(tls_contexts_, context, &tables_->tls);
}

tls::SharedTicketKeys& ProcessTicketKeys() {
  static tls::SharedTicketKeys* const keys = new tls::SharedTicketKeys();
  return *keys;
}

tls::SharedTicketKeys& ProxyShard::ticket_keys() {
  return options_.ticket_keys != nullptr ? *options_.ticket_keys : ProcessTicketKeys();
}

void ProxyShard::BuildTlsContexts(const CompiledConfig& config, bool apply_tickets,
                                  Instant now) {
  // Every config passes through here, TLS listeners or not, so the shared
  // keys follow the newest config's ticket settings.
  ticket_key_set_ = apply_tickets ? ticket_keys().Apply(config.tickets, config.version, now)
                                  : ticket_keys().Current();
  if (config.tls == nullptr) {
    tls_contexts_ = nullptr;
    return;
  }
  tls::TlsSettings settings = *config.tls;
  if (ticket_key_set_ != nullptr) {
    settings.ticket_keys = ticket_key_set_->keys;
    if (ticket_key_set_->lifetime_seconds > 0) {
      settings.session_lifetime_seconds = ticket_key_set_->lifetime_seconds;
    }
  }
  absl::StatusOr<std::shared_ptr<const tls::TlsContextSet>> set =
      tls::TlsContextSet::Create(settings);
  if (!set.ok()) {
    // Compile() built the same set: this is out of memory or the like.
    std::fprintf(stderr, "proxyd: shard %u: TLS contexts: %s\n", index_,
                 std::string(set.status().message()).c_str());
    tls_contexts_ = nullptr;
    return;
  }
  tls_contexts_ = std::move(*set);
}

void ProxyShard::OnSessionClosed(ListenerRuntime* listener) {
  --listener->sessions;
  // A drained listener with no sessions left goes away.
  if (listener->draining && listener->sessions == 0) {
    for (auto it = listeners_.begin(); it != listeners_.end(); ++it) {
      if (it->get() == listener) {
        listeners_.erase(it);
        break;
      }
    }
  }
}

// ---- Configuration ------------------------------------------------------------------

PoolRuntime* ProxyShard::pool(int32_t config_index) {
  if (config_index < 0 || static_cast<size_t>(config_index) >= pool_by_config_index_.size()) {
    return nullptr;
  }
  return pool_by_config_index_[config_index];
}

PoolRuntime* ProxyShard::pool_by_name(std::string_view name) {
  if (config_ == nullptr) return nullptr;
  return pool(config_->PoolIndex(name));
}

EndpointCounters* ProxyShard::endpoint_counters(PoolRuntime& pool, uint32_t index) {
  if (index >= pool.endpoint_counters.size()) return nullptr;
  return pool.endpoint_counters[index];
}

void ProxyShard::SyncPool(PoolRuntime& runtime, const CompiledPool& compiled) {
  bool endpoints_changed = runtime.config.endpoints != compiled.config.endpoints ||
                           runtime.balancer.snapshot() == nullptr;
  bool changed = !(runtime.config == compiled.config);
  // Kept-alive connections were verified with the old TLS settings (another
  // CA, name or version): new requests must not ride on them.
  bool tls_changed = !(runtime.upstream.tls == compiled.upstream.tls);
  runtime.config = compiled.config;
  runtime.upstream = compiled.upstream;
  runtime.removed = false;
  if (changed || endpoints_changed) {
    // New endpoints or policy: start from "all usable" until the health
    // owner publishes what it knows.
    runtime.balancer.Update(compiled.initial);
  }
  runtime.tls_client = nullptr;
  if (runtime.upstream.tls.enabled) {
    absl::StatusOr<std::shared_ptr<const tls::TlsClientContext>> ctx =
        tls::TlsClientContext::Create(UpstreamClientSettings(runtime.upstream.tls));
    if (ctx.ok()) {
      runtime.tls_client = std::move(*ctx);
    } else {
      // Compile() built the same context: this is out of memory or the like.
      std::fprintf(stderr, "proxyd: shard %u: pool %s: TLS context: %s\n", index_,
                   runtime.name.c_str(), std::string(ctx.status().message()).c_str());
    }
  }
  runtime.endpoint_counters.clear();
  for (const lb::EndpointConfig& e : runtime.config.endpoints) {
    runtime.endpoint_counters.push_back(endpoints_->FindOrAdd(runtime.name, e.key()));
  }
  // Kept-alive connections to endpoints that left the pool are closed (all
  // of them when the TLS settings changed).
  for (auto it = runtime.idle.begin(); it != runtime.idle.end();) {
    bool present = std::any_of(runtime.config.endpoints.begin(), runtime.config.endpoints.end(),
                               [&](const lb::EndpointConfig& e) { return e.key() == it->first; });
    if (!present || tls_changed) {
      for (UpstreamConn* c : it->second) {
        Drop(counters_->upstream_idle);
        c->Close(/*abort=*/false);
      }
      runtime.idle.erase(it++);
    } else {
      ++it;
    }
  }
}

void ProxyShard::ApplyConfig(std::shared_ptr<const CompiledConfig> config, Instant now) {
  // Pools, by name: a pool keeps its balancer state and idle connections
  // across versions.
  pool_by_config_index_.assign(config->pools.size(), nullptr);
  for (auto& p : pools_) p->removed = true;
  for (size_t i = 0; i < config->pools.size(); ++i) {
    const CompiledPool& compiled = config->pools[i];
    PoolRuntime* runtime = nullptr;
    for (auto& p : pools_) {
      if (p->name == compiled.config.name) runtime = p.get();
    }
    if (runtime == nullptr) {
      pools_.push_back(std::make_unique<PoolRuntime>(options_.shard_count));
      runtime = pools_.back().get();
      runtime->name = compiled.config.name;
      runtime->id = compiled.id;
    }
    SyncPool(*runtime, compiled);
    pool_by_config_index_[i] = runtime;
  }
  for (size_t i = 0; i < pools_.size();) {
    PoolRuntime* p = pools_[i].get();
    if (p->removed) {
      for (auto& [key, list] : p->idle) {
        for (UpstreamConn* c : list) {
          Drop(counters_->upstream_idle);
          c->Close(/*abort=*/false);
        }
      }
      p->idle.clear();
    }
    ++i;
  }
  RetireRemovedPools();

  // New TLS handshakes use the new certificates at once; open TLS
  // connections keep the set they started with.
  BuildTlsContexts(*config, /*apply_tickets=*/true, now);

  // Listeners, by name. Same address and port: updated in place (sessions
  // see new limits and routes at their next request). Otherwise the old
  // one drains and a new one opens.
  for (auto& l : listeners_) l->seen = false;
  for (const CompiledListener& compiled : config->listeners) {
    ListenerRuntime* existing = nullptr;
    for (auto& l : listeners_) {
      if (!l->draining && l->name == compiled.config.name) existing = l.get();
    }
    bool same_socket = existing != nullptr && existing->config.address == compiled.config.address &&
                       existing->config.port == compiled.config.port &&
                       existing->config.protocol == compiled.config.protocol;
    if (existing != nullptr && !same_socket) {
      DrainListener(existing, existing->config.drain_timeout, now);
      existing = nullptr;
    }
    if (existing == nullptr) {
      auto runtime = std::make_unique<ListenerRuntime>();
      runtime->id = next_listener_id_++;
      runtime->name = compiled.config.name;
      absl::StatusOr<tcp::Listener*> l =
          tcp().Listen(compiled.config.address, compiled.config.port);
      if (!l.ok()) {
        std::fprintf(stderr, "proxyd: shard %u: listener %s: %s\n", index_,
                     compiled.config.name.c_str(), std::string(l.status().message()).c_str());
        continue;
      }
      runtime->tcp_listener = *l;
      runtime->tcp_listener->set_user_data(runtime.get());
      runtime->gauge = tables_->listeners.FindOrAdd(runtime->name);
      existing = runtime.get();
      listeners_.push_back(std::move(runtime));
    }
    existing->seen = true;
    existing->config = compiled.config;
    existing->http_limits = compiled.http_limits;
    existing->max_sessions = SessionLimit(compiled.config.limits.max_connections,
                                          options_.shard_count);
  }
  // DrainListener may erase from listeners_: collect first.
  std::vector<ListenerRuntime*> removed;
  for (auto& l : listeners_) {
    if (!l->seen && !l->draining) removed.push_back(l.get());
  }
  for (ListenerRuntime* l : removed) DrainListener(l, l->config.drain_timeout, now);
  // Steering must know every listening port: those segments are passive.
  if (engine::Dispatcher* d = shard_->dispatcher()) d->set_listeners(config->listener_ports.get());
  if (engine::SteeredPorts* ports = shard_->ports()) {
    ports->set_listeners(config->listener_ports.get());
  }
  config_ = std::move(config);
  counters_->applied_version.store(config_->version, std::memory_order_release);

  if (index_ == 0) {
    // The health owner follows pool changes.
    absl::flat_hash_map<uint32_t, HealthPool> next;
    for (const CompiledPool& pool : config_->pools) {
      auto it = health_.find(pool.id);
      HealthPool hp;
      if (it != health_.end()) {
        hp = std::move(it->second);
        // Validated by the control plane; a failure keeps the old pool health.
        absl::StatusOr<bool> updated = hp.publisher->UpdateConfig(pool.config, now);
        if (!updated.ok()) {
          std::fprintf(stderr, "proxyd: pool %s health: %s\n", pool.config.name.c_str(),
                       std::string(updated.status().message()).c_str());
        }
      } else {
        absl::StatusOr<std::unique_ptr<lb::PoolPublisher>> publisher =
            lb::PoolPublisher::Create(pool.config, now);
        if (!publisher.ok()) continue;
        hp.publisher = std::move(*publisher);
      }
      hp.config_version = config_->version;
      next[pool.id] = std::move(hp);
    }
    health_ = std::move(next);
  }
}

void ProxyShard::RetireRemovedPools() {
  for (size_t i = 0; i < pools_.size();) {
    if (pools_[i]->removed && pools_[i]->users == 0) {
      pools_.erase(pools_.begin() + static_cast<long>(i));
    } else {
      ++i;
    }
  }
}

void ProxyShard::ReleasePoolUser(PoolRuntime* pool) {
  --pool->users;
  if (pool->removed && pool->users == 0) RetireRemovedPools();
}

void ProxyShard::DrainListener(ListenerRuntime* listener, Duration grace, Instant now) {
  if (listener->draining) return;
  // Serve what already completed the handshake, then stop accepting.
  Accept(listener, now);
  if (listener->tcp_listener != nullptr) {
    tcp().CloseListener(listener->tcp_listener, now);
    listener->tcp_listener = nullptr;
  }
  listener->draining = true;
  listener->drain_deadline = now + grace;
  std::vector<DrainableSession*> live(listener->live.begin(), listener->live.end());
  for (DrainableSession* s : live) s->BeginDrain(now);
  if (listener->sessions == 0) {
    for (auto it = listeners_.begin(); it != listeners_.end(); ++it) {
      if (it->get() == listener) {
        listeners_.erase(it);
        break;
      }
    }
  }
}

void ProxyShard::ApplyPoolSnapshot(uint32_t pool_id,
                                   std::shared_ptr<const lb::PoolSnapshot> snapshot) {
  for (auto& p : pools_) {
    if (p->id == pool_id && !p->removed && p->config == snapshot->config()) {
      p->balancer.Update(std::move(snapshot));
      return;
    }
  }
}

// ---- Upstream connections ----------------------------------------------------------

UpstreamConn* ProxyShard::AcquireUpstream(PoolRuntime& pool, const lb::Pick& pick,
                                          ConnHandler* owner, Instant now, bool* reused) {
  *reused = false;
  bool shareable = true;
  if (auto* l = dynamic_cast<HttpSession*>(owner); l == nullptr) shareable = false;
  auto it = pool.idle.find(pick.endpoint);
  while (shareable && it != pool.idle.end() && !it->second.empty()) {
    UpstreamConn* conn = it->second.back();
    it->second.pop_back();
    Drop(counters_->upstream_idle);
    tcp::Tcb* tcb = conn->tcb();
    if (tcb->state() != tcp::TcpState::kEstablished || tcb->readable() > 0 ||
        tcb->peer_closed()) {
      conn->Close(/*abort=*/tcb->readable() > 0);
      continue;
    }
    conn->set_owner(owner);
    conn->Unpark();
    *reused = true;
    Bump(counters_->upstream_reused);
    return conn;
  }
  std::unique_ptr<tls::TlsClientConnection> tls;
  if (pool.upstream.tls.enabled) {
    // Verified against server_name, or else the endpoint's address.
    std::string name = pool.upstream.tls.server_name.empty() ? pick.endpoint.ip.ToString()
                                                            : pool.upstream.tls.server_name;
    if (pool.tls_client != nullptr) {
      tls = tls::TlsClientConnection::Create(pool.tls_client, name, &upstream_tls_counters());
    }
    if (tls == nullptr) {
      Bump(upstream_tls_counters().setup_failures);
      return nullptr;
    }
  }
  absl::StatusOr<tcp::Tcb*> tcb =
      tcp().Connect(shard_->stack().interface().address, pick.endpoint.ip, pick.endpoint.port, now);
  if (!tcb.ok()) return nullptr;
  Bump(counters_->upstream_connects);
  EndpointCounters* counters = endpoint_counters(pool, pick.index);
  auto* conn = new UpstreamConn(*this, pool, pick, *tcb, counters, std::move(tls));
  conn->set_owner(owner);
  return conn;
}

void ProxyShard::ReleaseUpstream(UpstreamConn* conn, bool reusable, Instant now) {
  PoolRuntime& pool = conn->pool();
  tcp::Tcb* tcb = conn->tcb();
  std::deque<UpstreamConn*>& idle = pool.idle[conn->endpoint()];
  // A TLS connection is kept only open and with nothing of its own left to
  // send (so its next request's records follow in order).
  bool tls_idle = conn->tls() == nullptr || (conn->tls()->state() == tls::TlsState::kOpen &&
                                             conn->tls()->pending_ciphertext() == 0);
  if (reusable && !pool.removed && idle.size() < pool.upstream.max_idle_per_core &&
      tcb->state() == tcp::TcpState::kEstablished && tcb->readable() == 0 &&
      !tcb->peer_closed() && tls_idle) {
    conn->set_owner(nullptr);
    conn->set_idle_since(now);
    conn->Park();
    idle.push_back(conn);
    Bump(counters_->upstream_idle);
    return;
  }
  conn->Close(/*abort=*/tcb->readable() > 0);
}

void ProxyShard::ReportOutcome(PoolRuntime& pool, const lb::EndpointKey& endpoint,
                               uint8_t outcome) {
  if (index_ == 0) {
    OnOutcome(pool.id, endpoint, outcome, shard_->stack().timers().now());
    return;
  }
  ShardMessage m;
  m.kind = ShardMessage::Kind::kOutcome;
  m.id = pool.id;
  m.endpoint = endpoint;
  m.outcome = outcome;
  // A full ring drops the report: outlier detection is statistical.
  mailbox_->to_owner_from(index_).Enqueue(m);
}

// ---- Mailbox and housekeeping -------------------------------------------------------

size_t ProxyShard::DrainMailbox(Instant now) {
  size_t work = 0;
  ShardMessage m;
  while (mailbox_->control_to(index_).Dequeue(&m)) {
    ++work;
    switch (m.kind) {
      case ShardMessage::Kind::kConfig: {
        auto* holder = static_cast<std::shared_ptr<const CompiledConfig>*>(m.payload);
        ApplyConfig(std::move(*holder), now);
        delete holder;
        break;
      }
      case ShardMessage::Kind::kDrain: {
        auto* name = static_cast<std::string*>(m.payload);
        for (auto& l : listeners_) {
          if (l->name == *name && !l->draining) {
            DrainListener(l.get(), Duration::Nanos(m.value), now);
            break;
          }
        }
        delete name;
        break;
      }
      default:
        ShardMailbox::Discard(m);
        break;
    }
  }
  while (mailbox_->from_owner_to(index_).Dequeue(&m)) {
    ++work;
    if (m.kind == ShardMessage::Kind::kPoolSnapshot) {
      auto* holder = static_cast<std::shared_ptr<const lb::PoolSnapshot>*>(m.payload);
      ApplyPoolSnapshot(m.id, std::move(*holder));
      delete holder;
    } else {
      ShardMailbox::Discard(m);
    }
  }
  if (index_ == 0) {
    for (unsigned i = 1; i < mailbox_->shards(); ++i) {
      while (mailbox_->to_owner_from(i).Dequeue(&m)) {
        ++work;
        if (m.kind == ShardMessage::Kind::kOutcome) OnOutcome(m.id, m.endpoint, m.outcome, now);
      }
    }
  }
  return work;
}

void ProxyShard::Housekeeping(Instant now) {
  // Ticket keys: a due rotation (whichever shard sees it first), then this
  // shard's contexts if the keys in force changed. Handshakes never look at
  // the shared keys; they use the contexts built here.
  tls::SharedTicketKeys& tickets = ticket_keys();
  tickets.MaybeRotate(now);
  if (config_ != nullptr &&
      (ticket_key_set_ == nullptr || tickets.generation() != ticket_key_set_->generation)) {
    BuildTlsContexts(*config_, /*apply_tickets=*/false, now);
  }
  // Kept-alive upstream connections past their idle timeout.
  for (auto& p : pools_) {
    for (auto& [key, list] : p->idle) {
      while (!list.empty() &&
             now - list.front()->idle_since() >= p->upstream.keepalive_idle_timeout) {
        UpstreamConn* c = list.front();
        list.pop_front();
        Drop(counters_->upstream_idle);
        c->Close(/*abort=*/false);
      }
    }
  }
  // Drain deadlines.
  for (size_t i = 0; i < listeners_.size(); ++i) {
    ListenerRuntime* l = listeners_[i].get();
    if (l->draining && now >= l->drain_deadline && !l->live.empty()) {
      std::vector<DrainableSession*> live(l->live.begin(), l->live.end());
      for (DrainableSession* s : live) s->ForceClose();
    }
  }
  if (route_cache_ != nullptr) {
    const route::RouteCacheStats& stats = route_cache_->stats();
    counters_->route_cache_hits.store(stats.hits, std::memory_order_relaxed);
    counters_->route_cache_misses.store(stats.misses, std::memory_order_relaxed);
    counters_->route_cache_stale.store(stats.stale, std::memory_order_relaxed);
  }
  if (options_.access_log != nullptr) options_.access_log->MaybeFlush(now);
  if (index_ == 0) RunHealth(now);
}

// ---- Health owner (shard 0) ------------------------------------------------------------

void ProxyShard::RunHealth(Instant now) {
  for (auto& [id, hp] : health_) {
    lb::PoolPublisher& publisher = *hp.publisher;
    publisher.Advance(now);
    if (health::ActiveChecker* checker = publisher.health().active()) {
      checker->ExpireTimedOut(now);
      health::ProbeTicket tickets[kMaxProbesPerTick];
      size_t n = checker->TakeDueProbes(now, absl::Span<health::ProbeTicket>(tickets, kMaxProbesPerTick));
      for (size_t i = 0; i < n; ++i) {
        const lb::EndpointConfig& e = publisher.config().endpoints[tickets[i].endpoint];
        auto* probe = new HealthProbe(*this, id, hp.config_version, tickets[i], checker->config(),
                                      e.key());
        probe->Start(now);
      }
    }
    PublishHealth(id, publisher);
  }
}

void ProxyShard::PublishHealth(uint32_t pool_id, lb::PoolPublisher& publisher) {
  // Endpoint health for stats.
  const lb::BackendPoolConfig& config = publisher.config();
  for (size_t i = 0; i < config.endpoints.size(); ++i) {
    EndpointCounters* c = endpoints_->FindOrAdd(config.name, config.endpoints[i].key());
    if (c == nullptr) continue;
    health::EndpointHealth h = publisher.health().Query(i);
    uint32_t state = 0;  // unknown: no check has finished (and none ejected it)
    if (h.ejected) {
      state = 3;
    } else if (h.active_checked && h.active_state == health::ActiveState::kUnhealthy) {
      state = 2;
    } else if (h.active_checked && h.active_state == health::ActiveState::kHealthy) {
      state = 1;
    } else if (!h.active_checked && h.usable) {
      state = 1;  // no active check configured: healthy unless ejected
    }
    c->health.store(state, std::memory_order_relaxed);
  }
  std::shared_ptr<const lb::PoolSnapshot> snapshot = publisher.MaybePublish();
  if (snapshot == nullptr) return;
  for (unsigned i = 1; i < mailbox_->shards(); ++i) {
    ShardMessage m;
    m.kind = ShardMessage::Kind::kPoolSnapshot;
    m.id = pool_id;
    m.payload = new std::shared_ptr<const lb::PoolSnapshot>(snapshot);
    if (!mailbox_->from_owner_to(i).Enqueue(m)) ShardMailbox::Discard(m);
  }
  ApplyPoolSnapshot(pool_id, std::move(snapshot));
}

void ProxyShard::OnOutcome(uint32_t pool_id, const lb::EndpointKey& key, uint8_t outcome,
                           Instant now) {
  auto it = health_.find(pool_id);
  if (it == health_.end()) return;
  health::Outcome o = outcome == 0   ? health::Outcome::kSuccess
                      : outcome == 1 ? health::Outcome::k5xx
                                     : health::Outcome::kConnectFailure;
  health::OutlierEvent event = it->second.publisher->OnOutcome(key, o, now);
  if (event == health::OutlierEvent::kEjected) {
    if (EndpointCounters* c = endpoints_->FindOrAdd(it->second.publisher->config().name, key)) {
      Bump(c->ejections);
    }
    PublishHealth(pool_id, *it->second.publisher);
  }
}

void ProxyShard::OnProbeDone(uint32_t pool_id, uint64_t config_version, health::ProbeTicket ticket,
                             bool passed, Instant now) {
  auto it = health_.find(pool_id);
  if (it == health_.end() || it->second.config_version != config_version) return;
  health::ActiveChecker* checker = it->second.publisher->health().active();
  if (checker == nullptr) return;
  health::Transition t = checker->OnProbeResult(ticket, passed, now);
  (void)t;
  PublishHealth(pool_id, *it->second.publisher);
}

}  // namespace locus::proxy::dataplane
