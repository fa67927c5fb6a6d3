#include "proxy/control/control_plane.h"

#include <cstdio>

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/strings/str_join.h"
#include "api/resources.h"
#include "proxy/control/normalize.h"
#include "proxy/control/secrets.h"
#include "proxy/control/validate.h"

namespace locus::proxy::control {
namespace {

namespace v1 = api::v1;

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* ts) {
  timespec spec = absl::ToTimespec(t);
  ts->set_seconds(spec.tv_sec);
  ts->set_nanos(static_cast<int32_t>(spec.tv_nsec));
}

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

const char* KindName(v1::Kind kind) {
  switch (kind) {
    case v1::LISTENER:
      return "listener";
    case v1::ROUTE_TABLE:
      return "route table";
    case v1::POOL:
      return "pool";
    case v1::CERTIFICATE:
      return "certificate";
    case v1::SESSION_TICKETS:
      return "session tickets";
    default:
      return "resource";
  }
}

// Normalizes and validates a config read from the state file; keeps its
// version.
absl::Status AcceptLoaded(v1::Config* config) {
  FillDefaults(config);
  // Stored certificates were valid when applied: expiry since then only
  // warns (a restart must not fail on it).
  ValidateOptions options;
  options.reject_expired = false;
  if (absl::Status s =
          ValidateConfig(*config, IndexPaths(*config, ""), options);
      !s.ok()) {
    return s;
  }
  SortByName(config);
  return absl::OkStatus();
}

// Replaces the resource named like `item` in `items`, or appends it; returns
// its index.
template <typename Message>
int Upsert(google::protobuf::RepeatedPtrField<Message>* items,
           const Message& item) {
  for (int i = 0; i < items->size(); ++i) {
    if (items->Get(i).name() == item.name()) {
      *items->Mutable(i) = item;
      return i;
    }
  }
  *items->Add() = item;
  return items->size() - 1;
}

// Paths for resources already in the config: by name, as they have no index
// in the request.
template <typename Message>
std::vector<std::string> NamePaths(
    const google::protobuf::RepeatedPtrField<Message>& items,
    absl::string_view kind) {
  std::vector<std::string> paths;
  for (const Message& m : items) {
    paths.push_back(absl::StrCat(kind, "[name=", m.name(), "]"));
  }
  return paths;
}

ResourcePaths ExistingPaths(const v1::Config& config) {
  return ResourcePaths{NamePaths(config.listeners(), "listeners"),
                       NamePaths(config.route_tables(), "route_tables"),
                       NamePaths(config.pools(), "pools"),
                       NamePaths(config.certificates(), "certificates")};
}

template <typename Message>
void MergeInto(const google::protobuf::RepeatedPtrField<Message>& from,
               absl::string_view kind,
               google::protobuf::RepeatedPtrField<Message>* into,
               std::vector<std::string>* paths) {
  for (int i = 0; i < from.size(); ++i) {
    Message item = from.Get(i);
    FillDefaults(&item);
    int at = Upsert(into, item);
    std::string path = absl::StrCat(kind, "[", i, "]");
    if (at < static_cast<int>(paths->size())) {
      (*paths)[at] = path;
    } else {
      paths->push_back(path);
    }
  }
}

// A merge request names each resource once; a repeat would silently
// replace the first.
template <typename Message>
absl::Status CheckUniqueNames(
    const google::protobuf::RepeatedPtrField<Message>& items,
    absl::string_view kind) {
  std::map<std::string, int> seen;
  for (int i = 0; i < items.size(); ++i) {
    auto [it, inserted] = seen.emplace(items.Get(i).name(), i);
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat(kind, "[", i, "].name: \"", items.Get(i).name(),
                       "\" is already used by ", kind, "[", it->second, "]"));
    }
  }
  return absl::OkStatus();
}

v1::EndpointStats::Health ToProto(EndpointHealth health) {
  switch (health) {
    case EndpointHealth::kHealthy:
      return v1::EndpointStats::HEALTHY;
    case EndpointHealth::kUnhealthy:
      return v1::EndpointStats::UNHEALTHY;
    case EndpointHealth::kEjected:
      return v1::EndpointStats::EJECTED;
    case EndpointHealth::kUnknown:
      break;
  }
  return v1::EndpointStats::UNKNOWN;
}

v1::ListenerStatus::State ToProto(ListenerState state) {
  switch (state) {
    case ListenerState::kPending:
      return v1::ListenerStatus::PENDING;
    case ListenerState::kActive:
      return v1::ListenerStatus::ACTIVE;
    case ListenerState::kDraining:
      return v1::ListenerStatus::DRAINING;
    case ListenerState::kDrained:
      return v1::ListenerStatus::DRAINED;
    case ListenerState::kFailed:
      return v1::ListenerStatus::FAILED;
  }
  return v1::ListenerStatus::STATE_UNSPECIFIED;
}

}  // namespace

ControlPlane::ControlPlane(Options options, DataPlane* data_plane)
    : options_(std::move(options)),
      data_plane_(data_plane),
      hub_(options_.watch_queue_limit) {}

absl::StatusOr<std::unique_ptr<ControlPlane>> ControlPlane::Create(
    Options options, DataPlane* data_plane) {
  std::unique_ptr<ControlPlane> cp(
      new ControlPlane(std::move(options), data_plane));
  v1::Config config;
  absl::Time changed_at = absl::InfinitePast();
  if (!cp->options_.state_path.empty()) {
    cp->state_file_.emplace(cp->options_.state_path);
    absl::StatusOr<StateFile::Loaded> loaded =
        cp->state_file_->Load(AcceptLoaded);
    if (!loaded.ok()) return loaded.status();
    config = std::move(loaded->config);
    cp->load_warnings_ = std::move(loaded->warnings);
    if (config.version() > 0) changed_at = loaded->modified;
  }
  auto snapshot = std::make_shared<ConfigSnapshot>();
  snapshot->version = config.version();
  snapshot->config = std::move(config);
  {
    absl::MutexLock lock(&cp->mu_);
    cp->current_canonical_ = CanonicalBytes(snapshot->config);
    cp->current_ = snapshot;
    cp->changed_at_ = changed_at;
    cp->data_plane_->Publish(std::move(snapshot));
  }
  return cp;
}

std::shared_ptr<const ConfigSnapshot> ControlPlane::Current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

absl::Status ControlPlane::CheckVersion(
    std::optional<uint64_t> if_version) const {
  if (!if_version.has_value() || *if_version == current_->version) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the config is at version ", current_->version, ", not ", *if_version,
      " (if_version): it changed since you read it. Read it again, check "
      "your change still applies, and retry with if_version ",
      current_->version));
}

absl::Status ControlPlane::Commit(v1::Config candidate, bool validate_only,
                                  v1::ApplyResponse* response) {
  SortByName(&candidate);
  candidate.clear_version();
  std::string canonical = CanonicalBytes(candidate);
  if (canonical == current_canonical_) {
    response->set_version(current_->version);
    response->set_changed(false);
    *response->mutable_config() = current_->config;
    return absl::OkStatus();
  }
  const uint64_t version = current_->version + 1;
  candidate.set_version(version);
  std::vector<v1::ResourceChange> changes =
      DiffConfigs(current_->config, candidate);
  response->set_version(version);
  response->set_changed(true);
  for (const v1::ResourceChange& c : changes) *response->add_changes() = c;
  if (validate_only) {
    *response->mutable_config() = std::move(candidate);
    return absl::OkStatus();
  }
  if (state_file_.has_value()) {
    if (absl::Status s = state_file_->Save(candidate); !s.ok()) {
      return absl::InternalError(
          absl::StrCat("could not persist version ", version,
                       ", so nothing was changed: ", s.message()));
    }
  }
  *response->mutable_config() = candidate;
  auto snapshot = std::make_shared<ConfigSnapshot>();
  snapshot->version = version;
  snapshot->config = std::move(candidate);
  std::shared_ptr<const ConfigSnapshot> published = std::move(snapshot);
  current_ = published;
  current_canonical_ = std::move(canonical);
  changed_at_ = options_.clock();
  data_plane_->Publish(published);
  hub_.Publish(ConfigChange{published, std::move(changes)});
  return absl::OkStatus();
}

absl::StatusOr<v1::ApplyResponse> ControlPlane::CommitApply(
    const v1::ApplyRequest& request) {
  if (request.merge() && !request.has_config()) {
    return absl::InvalidArgumentError(
        "merge: only applies to a request with config");
  }
  absl::MutexLock lock(&mu_);
  std::optional<uint64_t> if_version;
  if (request.has_if_version()) if_version = request.if_version();
  if (absl::Status s = CheckVersion(if_version); !s.ok()) return s;

  v1::Config candidate;
  ResourcePaths paths;
  switch (request.resource_case()) {
    case v1::ApplyRequest::kConfig:
      if (request.merge()) {
        for (absl::Status s :
             {CheckUniqueNames(request.config().listeners(), "listeners"),
              CheckUniqueNames(request.config().route_tables(), "route_tables"),
              CheckUniqueNames(request.config().pools(), "pools"),
              CheckUniqueNames(request.config().certificates(),
                               "certificates")}) {
          if (!s.ok()) return s;
        }
        candidate = current_->config;
        paths = ExistingPaths(candidate);
        MergeInto(request.config().listeners(), "listeners",
                  candidate.mutable_listeners(), &paths.listeners);
        MergeInto(request.config().route_tables(), "route_tables",
                  candidate.mutable_route_tables(), &paths.route_tables);
        MergeInto(request.config().pools(), "pools", candidate.mutable_pools(),
                  &paths.pools);
        MergeInto(request.config().certificates(), "certificates",
                  candidate.mutable_certificates(), &paths.certificates);
        // Session tickets are one setting, not a named resource: a merge
        // that carries them replaces them.
        if (request.config().has_session_tickets()) {
          *candidate.mutable_session_tickets() =
              request.config().session_tickets();
          FillSessionTicketDefaults(&candidate);
        }
      } else {
        candidate = request.config();
        FillDefaults(&candidate);
        paths = IndexPaths(candidate, "");
      }
      break;
    case v1::ApplyRequest::kListener: {
      candidate = current_->config;
      paths = ExistingPaths(candidate);
      v1::Listener item = request.listener();
      FillDefaults(&item);
      int at = Upsert(candidate.mutable_listeners(), item);
      if (at == static_cast<int>(paths.listeners.size())) {
        paths.listeners.emplace_back();
      }
      paths.listeners[at] = "listener";
      break;
    }
    case v1::ApplyRequest::kRouteTable: {
      candidate = current_->config;
      paths = ExistingPaths(candidate);
      v1::RouteTable item = request.route_table();
      FillDefaults(&item);
      int at = Upsert(candidate.mutable_route_tables(), item);
      if (at == static_cast<int>(paths.route_tables.size())) {
        paths.route_tables.emplace_back();
      }
      paths.route_tables[at] = "route_table";
      break;
    }
    case v1::ApplyRequest::kPool: {
      candidate = current_->config;
      paths = ExistingPaths(candidate);
      v1::BackendPool item = request.pool();
      FillDefaults(&item);
      int at = Upsert(candidate.mutable_pools(), item);
      if (at == static_cast<int>(paths.pools.size()))
        paths.pools.emplace_back();
      paths.pools[at] = "pool";
      break;
    }
    case v1::ApplyRequest::kCertificate: {
      candidate = current_->config;
      paths = ExistingPaths(candidate);
      int at = Upsert(candidate.mutable_certificates(), request.certificate());
      if (at == static_cast<int>(paths.certificates.size())) {
        paths.certificates.emplace_back();
      }
      paths.certificates[at] = "certificate";
      break;
    }
    case v1::ApplyRequest::RESOURCE_NOT_SET:
      return absl::InvalidArgumentError(
          "request: set one of config, listener, route_table, pool or "
          "certificate");
  }
  // Keys sent back redacted stand for the stored ones: from here on the
  // candidate holds real keys only.
  if (absl::Status s = RestoreSecrets(&candidate, paths, current_->config);
      !s.ok()) {
    return s;
  }
  // Certificates already in service only warn about their validity; new
  // ones must be valid now.
  std::vector<std::string> warnings;
  ValidateOptions options;
  options.now = options_.clock();
  options.previous = &current_->config;
  options.warnings = &warnings;
  if (absl::Status s = ValidateConfig(candidate, paths, options); !s.ok()) {
    return s;
  }
  v1::ApplyResponse response;
  if (absl::Status s =
          Commit(std::move(candidate), request.validate_only(), &response);
      !s.ok()) {
    return s;
  }
  for (std::string& w : warnings) {
    if (!request.validate_only()) {
      std::fprintf(stderr, "proxyd: apply: version %llu: warning: %s\n",
                   static_cast<unsigned long long>(response.version()),
                   w.c_str());
    }
    response.add_warnings(std::move(w));
  }
  return response;
}

absl::StatusOr<v1::DeleteResponse> ControlPlane::Delete(
    const v1::DeleteRequest& request) {
  absl::StatusOr<v1::DeleteResponse> response = CommitDelete(request);
  if (response.ok() && !request.validate_only()) {
    response->set_applied(WaitApplied(response->version()));
  }
  return response;
}

absl::StatusOr<v1::ApplyResponse> ControlPlane::Apply(
    const v1::ApplyRequest& request) {
  absl::StatusOr<v1::ApplyResponse> response = CommitApply(request);
  if (response.ok() && !request.validate_only()) {
    response->set_applied(WaitApplied(response->version()));
  }
  return response;
}

bool ControlPlane::WaitApplied(uint64_t version) const {
  // Cores pick a snapshot up within one poll loop (microseconds); the
  // limit only matters when a core is stuck or the daemon is shutting down.
  const absl::Time deadline = absl::Now() + options_.apply_wait_limit;
  absl::Duration pause = absl::Microseconds(50);
  while (true) {
    DataPlaneStatus dp = data_plane_->Status();
    bool all = !dp.cores.empty();
    for (const CoreStatus& core : dp.cores) all = all && core.applied_version >= version;
    if (all) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(pause);
    pause = std::min(pause * 2, absl::Milliseconds(5));
  }
}

absl::StatusOr<v1::DeleteResponse> ControlPlane::CommitDelete(
    const v1::DeleteRequest& request) {
  if (request.name().empty()) {
    return absl::InvalidArgumentError("name: required");
  }
  absl::MutexLock lock(&mu_);
  std::optional<uint64_t> if_version;
  if (request.has_if_version()) if_version = request.if_version();
  if (absl::Status s = CheckVersion(if_version); !s.ok()) return s;

  v1::Config candidate = current_->config;
  int index = -1;
  std::vector<std::string> referrers;
  switch (request.kind()) {
    case v1::LISTENER:
      index = api::IndexOfName(candidate.listeners(), request.name());
      if (index >= 0) candidate.mutable_listeners()->DeleteSubrange(index, 1);
      break;
    case v1::ROUTE_TABLE:
      index = api::IndexOfName(candidate.route_tables(), request.name());
      referrers = RouteTableReferrers(candidate, request.name());
      if (index >= 0)
        candidate.mutable_route_tables()->DeleteSubrange(index, 1);
      break;
    case v1::POOL:
      index = api::IndexOfName(candidate.pools(), request.name());
      referrers = PoolReferrers(candidate, request.name());
      if (index >= 0) candidate.mutable_pools()->DeleteSubrange(index, 1);
      break;
    case v1::CERTIFICATE:
      index = api::IndexOfName(candidate.certificates(), request.name());
      referrers = CertificateReferrers(candidate, request.name());
      if (index >= 0) {
        candidate.mutable_certificates()->DeleteSubrange(index, 1);
      }
      break;
    default:
      return absl::InvalidArgumentError(
          "kind: required: LISTENER, ROUTE_TABLE, POOL or CERTIFICATE");
  }
  const char* kind = KindName(request.kind());
  if (index < 0) {
    const char* list = request.kind() == v1::LISTENER      ? "listeners"
                       : request.kind() == v1::ROUTE_TABLE ? "routes"
                       : request.kind() == v1::POOL        ? "pools"
                                                           : "certificates";
    return absl::NotFoundError(absl::StrCat(
        kind, " \"", request.name(), "\" not found at version ",
        current_->version, "; `proxyctl get ", list, "` lists them"));
  }
  if (!referrers.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        kind, " \"", request.name(), "\" is still used by ",
        absl::StrJoin(referrers, ", "),
        "; change or delete those first (or apply a whole config without "
        "them)"));
  }
  ValidateOptions keep_certificates;
  keep_certificates.reject_expired = false;
  if (absl::Status s = ValidateConfig(candidate, ExistingPaths(candidate),
                                      keep_certificates);
      !s.ok()) {
    return absl::InternalError(
        absl::StrCat("deleting would leave an invalid config: ", s.message()));
  }
  v1::ApplyResponse applied;
  if (absl::Status s =
          Commit(std::move(candidate), request.validate_only(), &applied);
      !s.ok()) {
    return s;
  }
  v1::DeleteResponse response;
  response.set_version(applied.version());
  return response;
}

std::shared_ptr<WatchHub::Subscription> ControlPlane::Watch(
    bool include_config) {
  absl::MutexLock lock(&mu_);
  return hub_.Subscribe(ConfigChange{current_, {}}, include_config);
}

void ControlPlane::EndWatch(
    const std::shared_ptr<WatchHub::Subscription>& subscription) {
  hub_.Unsubscribe(subscription);
}

v1::StatusResponse ControlPlane::Status() const {
  std::shared_ptr<const ConfigSnapshot> current;
  absl::Time changed_at;
  {
    absl::MutexLock lock(&mu_);
    current = current_;
    changed_at = changed_at_;
  }
  DataPlaneStatus dp = data_plane_->Status();
  const absl::Time now = options_.clock();

  v1::StatusResponse response;
  response.set_config_version(current->version);
  if (changed_at != absl::InfinitePast()) {
    SetTimestamp(changed_at, response.mutable_config_changed());
  }
  std::sort(
      dp.cores.begin(), dp.cores.end(),
      [](const CoreStatus& a, const CoreStatus& b) { return a.core < b.core; });
  bool converged = !dp.cores.empty();
  for (const CoreStatus& core : dp.cores) {
    v1::CoreStatus* out = response.add_cores();
    out->set_core(core.core);
    out->set_applied_version(core.applied_version);
    out->set_route_cache_hits(core.route_cache_hits);
    out->set_route_cache_misses(core.route_cache_misses);
    out->set_route_cache_stale(core.route_cache_stale);
    out->set_redirects_in(core.redirects_in);
    out->set_redirects_out(core.redirects_out);
    out->set_active_connections(core.active_connections);
    converged = converged && core.applied_version == current->version;
  }
  response.set_converged(converged);

  std::map<std::string, v1::ListenerStatus> listeners;
  for (const ListenerStatus& ls : dp.listeners) {
    v1::ListenerStatus& out = listeners[ls.name];
    out.set_name(ls.name);
    out.set_state(ToProto(ls.state));
    out.set_active_connections(ls.active_connections);
    if (ls.state == ListenerState::kDraining) {
      SetTimestamp(now + ls.drain_remaining, out.mutable_drain_deadline());
    }
    out.set_message(ls.message);
  }
  for (const v1::Listener& l : current->config.listeners()) {
    if (listeners.count(l.name())) continue;
    v1::ListenerStatus& out = listeners[l.name()];
    out.set_name(l.name());
    out.set_state(v1::ListenerStatus::PENDING);
  }
  for (auto& [name, ls] : listeners) *response.add_listeners() = std::move(ls);
  return response;
}

v1::StatsResponse ControlPlane::Stats() const {
  std::shared_ptr<const ConfigSnapshot> current = Current();
  StatsSnapshot dp = data_plane_->Stats();
  v1::StatsResponse response;
  response.set_config_version(current->version);
  std::sort(
      dp.cores.begin(), dp.cores.end(),
      [](const CoreStats& a, const CoreStats& b) { return a.core < b.core; });
  for (const CoreStats& c : dp.cores) {
    v1::CoreStats* out = response.add_cores();
    out->set_core(c.core);
    out->set_connections_accepted(c.connections_accepted);
    out->set_connections_rejected(c.connections_rejected);
    out->set_active_connections(c.active_connections);
    out->set_requests(c.requests);
    out->set_responses_2xx(c.responses_2xx);
    out->set_responses_3xx(c.responses_3xx);
    out->set_responses_4xx(c.responses_4xx);
    out->set_responses_5xx(c.responses_5xx);
    out->set_bytes_received(c.bytes_received);
    out->set_bytes_sent(c.bytes_sent);
    out->set_upstream_connect_failures(c.upstream_connect_failures);
    out->set_retries(c.retries);
    out->set_retries_budget_exhausted(c.retries_budget_exhausted);
  }
  using Key = std::tuple<std::string, std::string, uint32_t>;
  std::map<Key, const EndpointStats*> by_key;
  for (const EndpointStats& e : dp.endpoints) {
    by_key[Key(e.pool, e.address, e.port)] = &e;
  }
  for (const v1::BackendPool& pool : current->config.pools()) {
    for (const v1::Endpoint& e : pool.endpoints()) {
      v1::EndpointStats* out = response.add_endpoints();
      out->set_pool(pool.name());
      out->set_address(e.address());
      out->set_port(e.port());
      out->set_weight(e.weight());
      out->set_health(v1::EndpointStats::UNKNOWN);
      auto it = by_key.find(Key(pool.name(), e.address(), e.port()));
      if (it == by_key.end()) continue;
      const EndpointStats& s = *it->second;
      out->set_health(ToProto(s.health));
      out->set_active_connections(s.active_connections);
      out->set_requests(s.requests);
      out->set_connect_failures(s.connect_failures);
      out->set_responses_5xx(s.responses_5xx);
      out->set_ejections(s.ejections);
    }
  }
  return response;
}

absl::StatusOr<v1::DrainResponse> ControlPlane::Drain(
    const v1::DrainRequest& request) {
  if (request.listener().empty()) {
    return absl::InvalidArgumentError("listener: required");
  }
  absl::MutexLock lock(&mu_);
  int index =
      api::IndexOfName(current_->config.listeners(), request.listener());
  if (index < 0) {
    return absl::NotFoundError(absl::StrCat(
        "listener \"", request.listener(), "\" not found at version ",
        current_->version, "; `proxyctl get listeners` lists them"));
  }
  absl::Duration grace;
  if (request.has_deadline()) {
    const google::protobuf::Duration& d = request.deadline();
    if (d.seconds() < 0 || d.nanos() < 0 || d.nanos() > 999999999 ||
        d.seconds() > kMaxDurationSeconds) {
      return absl::InvalidArgumentError(
          absl::StrCat("deadline: must be 0s..", kMaxDurationSeconds, "s"));
    }
    grace = FromProto(d);
  } else {
    grace = FromProto(current_->config.listeners(index).drain_timeout());
  }
  if (absl::Status s = data_plane_->Drain(request.listener(), grace); !s.ok()) {
    return s;
  }
  v1::DrainResponse response;
  SetTimestamp(options_.clock() + grace, response.mutable_deadline());
  return response;
}

void ControlPlane::Shutdown() { hub_.Shutdown(); }

}  // namespace locus::proxy::control
