// What the control plane needs from the data plane, and nothing more. The
// daemon implements DataPlane over the real shards; tests use
// FakeDataPlane. The data plane never calls back into the control plane and
// never sees gRPC: it receives immutable snapshots and answers polls.
#ifndef LOCUS_PROXY_CONTROL_DATA_PLANE_H_
#define LOCUS_PROXY_CONTROL_DATA_PLANE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "locus/api/v1/config.pb.h"

namespace locus::proxy::control {

// One effective config. Immutable once published: every core may read it
// concurrently without locks, and it lives as long as someone holds it.
struct ConfigSnapshot {
  // Equals config.version().
  uint64_t version = 0;
  // Validated, with every fixed default filled in, listeners, route tables
  // and pools sorted by name; every reference in it resolves.
  api::v1::Config config;
};

struct CoreStatus {
  uint32_t core = 0;
  // Version of the snapshot this core runs (0 before the first).
  uint64_t applied_version = 0;
  uint64_t route_cache_hits = 0;
  uint64_t route_cache_misses = 0;
  // Entries found filled at an older version, and rebuilt.
  uint64_t route_cache_stale = 0;
  // Packets received from / handed to other cores by software steering.
  uint64_t redirects_in = 0;
  uint64_t redirects_out = 0;
  // Client plus backend connections open on this core.
  uint64_t active_connections = 0;
};

enum class ListenerState {
  kPending,   // in a published snapshot, not yet accepting on every core
  kActive,    // accepting on every core
  kDraining,  // not accepting, connections finishing
  kDrained,   // not accepting, no connections left
  kFailed,    // could not be started; see ListenerStatus::message
};

struct ListenerStatus {
  std::string name;
  ListenerState state = ListenerState::kPending;
  // Client connections on this listener, over all cores.
  uint64_t active_connections = 0;
  // While kDraining: time until the remaining connections are closed.
  absl::Duration drain_remaining = absl::ZeroDuration();
  std::string message;
};

struct DataPlaneStatus {
  std::vector<CoreStatus> cores;
  // Every listener the data plane knows: those of the latest snapshot and
  // removed ones still draining.
  std::vector<ListenerStatus> listeners;
};

struct CoreStats {
  uint32_t core = 0;
  uint64_t connections_accepted = 0;
  uint64_t connections_rejected = 0;
  uint64_t active_connections = 0;
  uint64_t requests = 0;
  uint64_t responses_2xx = 0;
  uint64_t responses_3xx = 0;
  uint64_t responses_4xx = 0;
  uint64_t responses_5xx = 0;
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
  uint64_t upstream_connect_failures = 0;
  uint64_t retries = 0;
  uint64_t retries_budget_exhausted = 0;
};

enum class EndpointHealth { kUnknown, kHealthy, kUnhealthy, kEjected };

struct EndpointStats {
  // Identifies the endpoint: pool name, IPv4 address, port.
  std::string pool;
  std::string address;
  uint32_t port = 0;
  EndpointHealth health = EndpointHealth::kUnknown;
  // Summed over all cores.
  uint64_t active_connections = 0;
  uint64_t requests = 0;
  uint64_t connect_failures = 0;
  uint64_t responses_5xx = 0;
  uint64_t ejections = 0;
};

struct StatsSnapshot {
  std::vector<CoreStats> cores;
  // Endpoints the data plane has counters for; the control plane joins them
  // with the config, so missing ones show as kUnknown with zero counters.
  std::vector<EndpointStats> endpoints;
};

class DataPlane {
 public:
  virtual ~DataPlane() = default;

  // A new effective config. Called once at start-up with the loaded config
  // and then once per effective change, in strictly increasing version
  // order, while the control plane holds its lock: it must not block (hand
  // the pointer to the shards and return). Each core switches to the newest
  // snapshot at a point of its choosing and then reports that version as
  // applied. Listeners that disappear or change address, port or protocol
  // are drained for their (old) drain_timeout, so no connection is dropped
  // by an apply.
  virtual void Publish(std::shared_ptr<const ConfigSnapshot> snapshot) = 0;

  // Per-core applied versions and counters, and listener states. Called from
  // gRPC threads, concurrently with anything else; may take a moment (e.g.
  // read per-core counters) but must not wait for traffic.
  virtual DataPlaneStatus Status() = 0;

  // Per-core counters and per-endpoint health and counters. Same threading
  // as Status().
  virtual StatsSnapshot Stats() = 0;

  // Stops `listener` accepting on every core now and closes the connections
  // still open after `grace`. The control plane has checked that the
  // listener is in the latest published snapshot and that grace >= 0. The
  // listener stays closed until a later snapshot changes or removes it.
  // Errors are returned to the API caller as they are.
  virtual absl::Status Drain(absl::string_view listener,
                             absl::Duration grace) = 0;
};

}  // namespace locus::proxy::control

#endif  // LOCUS_PROXY_CONTROL_DATA_PLANE_H_
