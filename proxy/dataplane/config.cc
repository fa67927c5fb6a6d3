#include "proxy/dataplane/config.h"

#include "proxy/tls/client_connection.h"
#include "proxy/tls/context_set.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace locus::proxy::dataplane {

tls::TlsClientSettings UpstreamClientSettings(const UpstreamTlsSettings& settings) {
  tls::TlsClientSettings out;
  out.ca_pem = settings.ca_pem;
  out.min_version = settings.min_version;
  return out;
}

int32_t CompiledConfig::PoolIndex(std::string_view name) const {
  auto it = pool_index.find(absl::string_view(name.data(), name.size()));
  return it == pool_index.end() ? -1 : static_cast<int32_t>(it->second);
}

int32_t CompiledConfig::TableIndex(std::string_view name) const {
  auto it = table_index.find(absl::string_view(name.data(), name.size()));
  return it == table_index.end() ? -1 : it->second;
}

namespace {

// Pool ids are stable per name for the life of the process, so that health
// reports and snapshots keep finding their pool across config versions.
uint32_t PoolId(const std::string& name) {
  static absl::Mutex mu(absl::kConstInit);
  static absl::flat_hash_map<std::string, uint32_t>* ids = nullptr;
  absl::MutexLock lock(&mu);
  if (ids == nullptr) ids = new absl::flat_hash_map<std::string, uint32_t>();
  auto [it, inserted] = ids->emplace(name, static_cast<uint32_t>(ids->size() + 1));
  return it->second;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const CompiledConfig>> Compile(const DataPlaneConfig& config,
                                                              uint64_t version,
                                                              unsigned shards) {
  auto out = std::make_shared<CompiledConfig>();
  out->version = version;
  route::PoolNames pool_names;
  for (size_t i = 0; i < config.pools.size(); ++i) {
    const lb::BackendPoolConfig& pool = config.pools[i];
    std::string path = absl::StrCat("pools[", i, "]");
    if (absl::Status s = lb::ValidatePool(pool, path); !s.ok()) return s;
    if (!pool_names.insert(pool.name).second) {
      return absl::InvalidArgumentError(absl::StrCat(path, ".name: duplicate pool '", pool.name, "'"));
    }
    CompiledPool compiled;
    compiled.id = PoolId(pool.name);
    compiled.config = pool;
    if (i < config.upstream.size()) compiled.upstream = config.upstream[i];
    if (compiled.upstream.tls.enabled) {
      if (pool.health_check.has_value() && pool.health_check->kind == health::CheckKind::kHttp) {
        return absl::InvalidArgumentError(absl::StrCat(
            path, ".health_check.http: HTTP health checks over TLS are not implemented "
                  "(use a TCP health check on a pool with tls)"));
      }
      // Every shard builds its own context when it applies the config;
      // building one here refuses a bundle they could not load.
      absl::StatusOr<std::shared_ptr<const tls::TlsClientContext>> ctx =
          tls::TlsClientContext::Create(UpstreamClientSettings(compiled.upstream.tls));
      if (!ctx.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(path, ".tls: ", ctx.status().message()));
      }
    }
    absl::StatusOr<std::shared_ptr<const lb::PoolSnapshot>> snapshot = lb::PoolSnapshot::Build(
        pool, std::vector<bool>(pool.endpoints.size(), true), version);
    if (!snapshot.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", snapshot.status().message()));
    }
    compiled.initial = std::move(*snapshot);
    out->pool_index[pool.name] = static_cast<uint32_t>(out->pools.size());
    out->pools.push_back(std::move(compiled));
  }
  absl::flat_hash_map<std::string, int32_t>& table_index = out->table_index;
  for (size_t t = 0; t < config.route_tables.size(); ++t) {
    const route::RouteTableConfig& table = config.route_tables[t];
    std::vector<std::shared_ptr<const route::CompiledRouteTable>> per_shard;
    for (unsigned s = 0; s < shards; ++s) {
      absl::StatusOr<std::shared_ptr<const route::CompiledRouteTable>> compiled =
          route::CompiledRouteTable::Compile(table, pool_names, version);
      if (!compiled.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("route_tables[", t, "]: ", compiled.status().message()));
      }
      per_shard.push_back(std::move(*compiled));
    }
    if (!table_index.emplace(table.name, static_cast<int32_t>(t)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("route_tables[", t, "].name: duplicate route table '", table.name, "'"));
    }
    out->route_tables.push_back(std::move(per_shard));
  }
  absl::flat_hash_set<std::string> listener_names;
  absl::flat_hash_map<uint16_t, std::vector<wire::Ipv4Address>> bound;
  for (size_t i = 0; i < config.listeners.size(); ++i) {
    const ListenerConfig& l = config.listeners[i];
    std::string path = absl::StrCat("listeners[", i, "]");
    if (l.name.empty()) return absl::InvalidArgumentError(path + ".name: must not be empty");
    if (!listener_names.insert(l.name).second) {
      return absl::InvalidArgumentError(absl::StrCat(path, ".name: duplicate listener '", l.name, "'"));
    }
    if (l.port == 0) return absl::InvalidArgumentError(path + ".port: must be 1..65535");
    // Same port twice is a clash when either side listens on every address.
    std::vector<wire::Ipv4Address>& addresses = bound[l.port];
    for (wire::Ipv4Address a : addresses) {
      if (a == l.address || a.is_any() || l.address.is_any()) {
        return absl::InvalidArgumentError(absl::StrCat(
            path, ".port: ", l.address.ToString(), ":", l.port, " clashes with another listener"));
      }
    }
    addresses.push_back(l.address);
    if (l.tls && l.protocol != ListenerProtocol::kHttp) {
      return absl::InvalidArgumentError(path + ".tls: only HTTP listeners terminate TLS");
    }
    CompiledListener compiled;
    compiled.config = l;
    if (l.protocol == ListenerProtocol::kHttp) {
      auto it = table_index.find(l.route_table);
      if (it == table_index.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ".route_table: no route table named '", l.route_table, "'"));
      }
      compiled.route_table = it->second;
      compiled.http_limits.max_header_section = l.limits.max_request_header_bytes;
      compiled.http_limits.max_request_body = l.limits.max_request_body_bytes;
      if (absl::Status s = compiled.http_limits.Validate(); !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(path, ".limits: ", s.message()));
      }
    } else {
      int32_t pool = out->PoolIndex(l.pool);
      if (pool < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ".pool: no pool named '", l.pool, "'"));
      }
      if (out->pools[pool].upstream.tls.enabled) {
        return absl::InvalidArgumentError(absl::StrCat(
            path, ".pool: pool '", l.pool,
            "' has tls; TLS to backends is implemented for HTTP listeners only"));
      }
      compiled.pool = pool;
    }
    out->listeners.push_back(std::move(compiled));
  }
  if (!config.tls.listeners.empty()) {
    // Every shard builds its own contexts from these settings when it
    // applies the config; building one set here refuses what they could
    // not load, before any shard sees it.
    absl::StatusOr<std::shared_ptr<const tls::TlsContextSet>> set =
        tls::TlsContextSet::Create(config.tls);
    if (!set.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("tls: ", set.status().message()));
    }
    out->tls = std::make_shared<const tls::TlsSettings>(config.tls);
  }
  out->tickets = config.tickets;
  std::vector<uint16_t> ports;
  for (const CompiledListener& l : out->listeners) ports.push_back(l.config.port);
  out->listener_ports = steer::ListenerPortSet::Create(ports);
  return std::shared_ptr<const CompiledConfig>(std::move(out));
}

}  // namespace locus::proxy::dataplane
