// The data plane's view of a configuration: plain structs compiled once,
// on the control thread, into an immutable CompiledConfig that every shard
// reads without a lock. A new version replaces the whole object; shards pick
// it up at the top of a poll iteration (the gversion idea of
// docs/architecture.md: nothing is notified, stale state is rebuilt).
#ifndef LOCUS_PROXY_DATAPLANE_CONFIG_H_
#define LOCUS_PROXY_DATAPLANE_CONFIG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "proxy/http/limits.h"
#include "proxy/lb/pool_config.h"
#include "proxy/lb/pool_snapshot.h"
#include "proxy/route/config.h"
#include "proxy/route/route_table.h"
#include "proxy/tls/client_connection.h"
#include "proxy/tls/settings.h"
#include "proxy/tls/ticket_key_ring.h"
#include "stack/base/time.h"
#include "stack/steer/listener_ports.h"
#include "stack/wire/addresses.h"

namespace locus::proxy::dataplane {

enum class ListenerProtocol : uint8_t { kHttp, kTcp };
enum class ProxyProtocolVersion : uint8_t { kNone, kV1, kV2 };

struct ListenerLimits {
  uint32_t max_connections = 0;  // 0: unlimited; enforced per shard as ceil(n / shards)
  Duration idle_timeout = Duration::Seconds(60);
  Duration header_timeout = Duration::Seconds(10);
  Duration request_timeout = Duration::Zero();  // zero: only the route timeout
  uint32_t max_request_header_bytes = 64 * 1024;
  uint64_t max_request_body_bytes = 1 << 20;
  bool operator==(const ListenerLimits&) const = default;
};

struct ListenerConfig {
  std::string name;
  wire::Ipv4Address address;  // 0.0.0.0: any of the stack's addresses
  uint16_t port = 0;
  ListenerProtocol protocol = ListenerProtocol::kHttp;
  std::string route_table;  // HTTP
  std::string pool;         // TCP
  ListenerLimits limits;
  ProxyProtocolVersion proxy_protocol = ProxyProtocolVersion::kNone;
  Duration drain_timeout = Duration::Seconds(30);
  // HTTP: TLS is terminated; the listener's settings are in
  // DataPlaneConfig::tls (by listener name).
  bool tls = false;
  bool operator==(const ListenerConfig&) const = default;
};

// BackendPool.tls: each shard builds one tls::TlsClientContext from this
// per config version.
struct UpstreamTlsSettings {
  bool enabled = false;
  // SNI and the name verified; empty: the endpoint's IPv4 address is
  // verified against the certificate's IP addresses (no SNI).
  std::string server_name;
  std::string ca_pem;
  tls::TlsVersion min_version = tls::TlsVersion::kTls12;
  bool operator==(const UpstreamTlsSettings&) const = default;
};

// Pool settings the load balancer does not need.
struct UpstreamSettings {
  Duration connect_timeout = Duration::Seconds(5);
  uint32_t max_idle_per_core = 64;
  Duration keepalive_idle_timeout = Duration::Seconds(60);
  UpstreamTlsSettings tls;
  bool operator==(const UpstreamSettings&) const = default;
};

struct DataPlaneConfig {
  std::vector<ListenerConfig> listeners;
  std::vector<route::RouteTableConfig> route_tables;
  std::vector<lb::BackendPoolConfig> pools;
  std::vector<UpstreamSettings> upstream;  // parallel to pools
  // Certificates and per-listener TLS settings of the TLS listeners
  // (ticket keys are left empty: the shards add the keys in force).
  tls::TlsSettings tls;
  // Config.session_tickets.
  tls::TicketSettings tickets;
};

struct CompiledListener {
  ListenerConfig config;
  int32_t route_table = -1;  // index into CompiledConfig::route_tables (HTTP)
  int32_t pool = -1;         // index into CompiledConfig::pools (TCP)
  http::Limits http_limits;
};

struct CompiledPool {
  uint32_t id = 0;  // stable across versions for the same name
  lb::BackendPoolConfig config;
  UpstreamSettings upstream;
  // All endpoints usable: the health owner publishes narrower snapshots.
  std::shared_ptr<const lb::PoolSnapshot> initial;
};

struct CompiledConfig {
  uint64_t version = 0;
  std::vector<CompiledListener> listeners;
  // One compiled copy per shard: RE2 keeps per-object caches, so each core
  // matches against its own (route_tables[table][shard]).
  std::vector<std::vector<std::shared_ptr<const route::CompiledRouteTable>>> route_tables;
  std::vector<CompiledPool> pools;
  absl::flat_hash_map<std::string, uint32_t> pool_index;
  absl::flat_hash_map<std::string, int32_t> table_index;
  // Every port a listener uses: steering treats their segments as passive.
  std::shared_ptr<const steer::ListenerPortSet> listener_ports;
  // What each shard builds its TlsContextSet from; null when no listener
  // has TLS.
  std::shared_ptr<const tls::TlsSettings> tls;
  // Explicit, generated or no ticket keys; every shard gets the keys from
  // one tls::SharedTicketKeys.
  tls::TicketSettings tickets;

  // The pool a route names, or -1.
  int32_t PoolIndex(std::string_view name) const;
  // The route table of that name, or -1.
  int32_t TableIndex(std::string_view name) const;
};

// What a shard builds a pool's TLS client context from.
tls::TlsClientSettings UpstreamClientSettings(const UpstreamTlsSettings& settings);

// Validates and compiles. The error names the offending field path.
absl::StatusOr<std::shared_ptr<const CompiledConfig>> Compile(const DataPlaneConfig& config,
                                                              uint64_t version,
                                                              unsigned shards);

}  // namespace locus::proxy::dataplane

#endif  // LOCUS_PROXY_DATAPLANE_CONFIG_H_
