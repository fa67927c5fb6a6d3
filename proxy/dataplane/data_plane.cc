#include "proxy/dataplane/data_plane.h"

#include <cstdio>
#include <thread>

#include "proxy/dataplane/from_proto.h"
#include "stack/engine/dispatcher.h"

namespace locus::proxy::dataplane {

namespace {
// How long Publish waits for a full shard mailbox before giving up on that
// message (the shard is stuck or gone).
constexpr absl::Duration kSendPatience = absl::Seconds(5);
}  // namespace

ProxyDataPlane::ProxyDataPlane(ShardMailbox* mailbox, std::vector<ShardTables*> tables,
                               engine::ShardGroup* group)
    : mailbox_(mailbox), tables_(std::move(tables)), group_(group) {}

void ProxyDataPlane::Send(unsigned shard, const ShardMessage& message) {
  absl::Time give_up = absl::Now() + kSendPatience;
  while (!mailbox_->control_to(shard).Enqueue(message)) {
    if (absl::Now() > give_up) {
      std::fprintf(stderr, "proxyd: shard %u does not take messages; dropping one\n", shard);
      ShardMailbox::Discard(message);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void ProxyDataPlane::Publish(std::shared_ptr<const control::ConfigSnapshot> snapshot) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<DataPlaneConfig> config = FromProto(snapshot->config);
  absl::StatusOr<std::shared_ptr<const CompiledConfig>> compiled =
      config.ok() ? Compile(*config, snapshot->version, mailbox_->shards())
                  : absl::StatusOr<std::shared_ptr<const CompiledConfig>>(config.status());
  if (!compiled.ok()) {
    ++compile_errors_;
    std::fprintf(stderr, "proxyd: config version %llu not applied: %s\n",
                 static_cast<unsigned long long>(snapshot->version),
                 std::string(compiled.status().message()).c_str());
    return;
  }
  current_ = *compiled;
  // A drained listener stays drained until a later config changes it.
  for (auto it = drains_.begin(); it != drains_.end();) {
    bool present = false;
    for (const CompiledListener& l : current_->listeners) present |= l.config.name == it->first;
    if (!present) {
      drains_.erase(it++);
    } else {
      ++it;
    }
  }
  for (unsigned i = 0; i < mailbox_->shards(); ++i) {
    ShardMessage m;
    m.kind = ShardMessage::Kind::kConfig;
    m.payload = new std::shared_ptr<const CompiledConfig>(current_);
    Send(i, m);
  }
}

absl::Status ProxyDataPlane::Drain(absl::string_view listener, absl::Duration grace) {
  absl::MutexLock lock(&mu_);
  drains_[std::string(listener)] = absl::Now() + grace;
  for (unsigned i = 0; i < mailbox_->shards(); ++i) {
    ShardMessage m;
    m.kind = ShardMessage::Kind::kDrain;
    m.payload = new std::string(listener);
    m.value = absl::ToInt64Nanoseconds(grace);
    Send(i, m);
  }
  return absl::OkStatus();
}

std::shared_ptr<const CompiledConfig> ProxyDataPlane::current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

uint64_t ProxyDataPlane::published_version() const {
  absl::MutexLock lock(&mu_);
  return current_ == nullptr ? 0 : current_->version;
}

uint64_t ProxyDataPlane::compile_errors() const {
  absl::MutexLock lock(&mu_);
  return compile_errors_;
}

control::DataPlaneStatus ProxyDataPlane::Status() {
  control::DataPlaneStatus status;
  uint64_t published = 0;
  std::shared_ptr<const CompiledConfig> config;
  absl::flat_hash_map<std::string, absl::Time> drains;
  {
    absl::MutexLock lock(&mu_);
    config = current_;
    drains = drains_;
  }
  if (config != nullptr) published = config->version;
  uint64_t min_applied = UINT64_MAX;
  for (unsigned i = 0; i < tables_.size(); ++i) {
    const ProxyCounters& c = tables_[i]->counters;
    control::CoreStatus core;
    core.core = i;
    core.applied_version = c.applied_version.load(std::memory_order_acquire);
    core.route_cache_hits = c.route_cache_hits.load(std::memory_order_relaxed);
    core.route_cache_misses = c.route_cache_misses.load(std::memory_order_relaxed);
    core.route_cache_stale = c.route_cache_stale.load(std::memory_order_relaxed);
    core.active_connections = c.active_connections.load(std::memory_order_relaxed);
    if (group_ != nullptr) {
      if (const engine::Dispatcher* d = group_->dispatcher(i)) {
        core.redirects_in = d->counters().redirects_in.load(std::memory_order_relaxed);
        core.redirects_out = d->counters().redirects_out.load(std::memory_order_relaxed);
      }
    }
    min_applied = std::min(min_applied, core.applied_version);
    status.cores.push_back(core);
  }
  if (config != nullptr) {
    absl::Time now = absl::Now();
    for (const CompiledListener& l : config->listeners) {
      control::ListenerStatus ls;
      ls.name = l.config.name;
      for (ShardTables* t : tables_) {
        for (size_t j = 0; j < t->listeners.size(); ++j) {
          const ListenerGauge& g = t->listeners.at(j);
          if (g.name == ls.name) ls.active_connections += g.active.load(std::memory_order_relaxed);
        }
      }
      auto drain = drains.find(ls.name);
      if (drain != drains.end()) {
        ls.state = (ls.active_connections == 0 || now >= drain->second)
                       ? control::ListenerState::kDrained
                       : control::ListenerState::kDraining;
        ls.drain_remaining = std::max(absl::ZeroDuration(), drain->second - now);
      } else {
        ls.state = min_applied >= published ? control::ListenerState::kActive
                                            : control::ListenerState::kPending;
      }
      status.listeners.push_back(std::move(ls));
    }
  }
  return status;
}

control::StatsSnapshot ProxyDataPlane::Stats() {
  control::StatsSnapshot stats;
  for (unsigned i = 0; i < tables_.size(); ++i) {
    const ProxyCounters& c = tables_[i]->counters;
    control::CoreStats core;
    core.core = i;
    core.connections_accepted = c.connections_accepted.load(std::memory_order_relaxed);
    core.connections_rejected = c.connections_rejected.load(std::memory_order_relaxed);
    core.active_connections = c.active_connections.load(std::memory_order_relaxed);
    core.requests = c.requests.load(std::memory_order_relaxed);
    core.responses_2xx = c.responses_by_class[2].load(std::memory_order_relaxed);
    core.responses_3xx = c.responses_by_class[3].load(std::memory_order_relaxed);
    core.responses_4xx = c.responses_by_class[4].load(std::memory_order_relaxed);
    core.responses_5xx = c.responses_by_class[5].load(std::memory_order_relaxed);
    core.bytes_received = c.bytes_received.load(std::memory_order_relaxed);
    core.bytes_sent = c.bytes_sent.load(std::memory_order_relaxed);
    core.upstream_connect_failures = c.upstream_connect_failures.load(std::memory_order_relaxed);
    core.retries = c.retries.load(std::memory_order_relaxed);
    core.retries_budget_exhausted = c.retries_budget_exhausted.load(std::memory_order_relaxed);
    stats.cores.push_back(core);
  }
  // Endpoints: summed over shards; health as the owner (shard 0) sees it.
  absl::flat_hash_map<std::string, size_t> index;
  for (unsigned i = 0; i < tables_.size(); ++i) {
    const EndpointTable& table = tables_[i]->endpoints;
    for (size_t j = 0; j < table.size(); ++j) {
      const EndpointCounters& e = table.at(j);
      std::string key = e.pool + "/" + e.key.ip.ToString() + ":" + std::to_string(e.key.port);
      auto [it, inserted] = index.emplace(key, stats.endpoints.size());
      if (inserted) {
        control::EndpointStats s;
        s.pool = e.pool;
        s.address = e.key.ip.ToString();
        s.port = e.key.port;
        stats.endpoints.push_back(s);
      }
      control::EndpointStats& s = stats.endpoints[it->second];
      s.active_connections += e.active_connections.load(std::memory_order_relaxed);
      s.requests += e.requests.load(std::memory_order_relaxed);
      s.connect_failures += e.connect_failures.load(std::memory_order_relaxed);
      s.responses_5xx += e.responses_5xx.load(std::memory_order_relaxed);
      s.ejections += e.ejections.load(std::memory_order_relaxed);
      if (i == 0) {
        switch (e.health.load(std::memory_order_relaxed)) {
          case 1: s.health = control::EndpointHealth::kHealthy; break;
          case 2: s.health = control::EndpointHealth::kUnhealthy; break;
          case 3: s.health = control::EndpointHealth::kEjected; break;
          default: s.health = control::EndpointHealth::kUnknown; break;
        }
      }
    }
  }
  return stats;
}

}  // namespace locus::proxy::dataplane
