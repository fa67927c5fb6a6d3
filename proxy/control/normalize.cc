#include "proxy/control/normalize.h"

#include <algorithm>
#include <map>
#include <string>

#include "absl/strings/ascii.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace locus::proxy::control {
namespace {

namespace v1 = api::v1;

template <typename Message>
std::string Deterministic(const Message& m) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

template <typename Message>
void SortRepeated(google::protobuf::RepeatedPtrField<Message>* items) {
  std::stable_sort(
      items->pointer_begin(), items->pointer_end(),
      [](const Message* a, const Message* b) { return a->name() < b->name(); });
}

template <typename Message>
void DiffKind(const google::protobuf::RepeatedPtrField<Message>& from,
              const google::protobuf::RepeatedPtrField<Message>& to,
              v1::Kind kind, std::vector<v1::ResourceChange>* out) {
  std::map<std::string, std::string> before, after;
  for (const Message& m : from) before[m.name()] = Deterministic(m);
  for (const Message& m : to) after[m.name()] = Deterministic(m);
  auto add = [&](const std::string& name, v1::ResourceChange::Op op) {
    v1::ResourceChange* change = &out->emplace_back();
    change->set_kind(kind);
    change->set_name(name);
    change->set_op(op);
  };
  // Both maps are sorted; walk them together.
  auto b = before.begin();
  auto a = after.begin();
  while (b != before.end() || a != after.end()) {
    if (a == after.end() || (b != before.end() && b->first < a->first)) {
      add(b->first, v1::ResourceChange::DELETED);
      ++b;
    } else if (b == before.end() || a->first < b->first) {
      add(a->first, v1::ResourceChange::CREATED);
      ++a;
    } else {
      if (a->second != b->second) add(a->first, v1::ResourceChange::UPDATED);
      ++a;
      ++b;
    }
  }
}

}  // namespace

void FillDefaults(v1::Listener* l) {
  if (l->address().empty()) l->set_address(kDefaultListenAddress);
  if (l->protocol() == v1::Listener::PROTOCOL_UNSPECIFIED) {
    l->set_protocol(v1::Listener::HTTP);
  }
  v1::ListenerLimits* limits = l->mutable_limits();
  if (!limits->has_idle_timeout()) {
    limits->mutable_idle_timeout()->set_seconds(kDefaultIdleTimeoutSeconds);
  }
  if (l->protocol() == v1::Listener::HTTP) {
    if (!limits->has_header_timeout()) {
      limits->mutable_header_timeout()->set_seconds(
          kDefaultHeaderTimeoutSeconds);
    }
    if (!limits->has_request_timeout()) {
      limits->mutable_request_timeout()->set_seconds(
          kDefaultRequestTimeoutSeconds);
    }
    if (limits->max_request_header_bytes() == 0) {
      limits->set_max_request_header_bytes(kDefaultMaxRequestHeaderBytes);
    }
  }
  if (!l->has_drain_timeout()) {
    l->mutable_drain_timeout()->set_seconds(kDefaultDrainTimeoutSeconds);
  }
  if (l->has_tls() &&
      l->tls().min_version() == v1::ListenerTls::VERSION_UNSPECIFIED) {
    l->mutable_tls()->set_min_version(v1::ListenerTls::TLS1_2);
  }
}

void FillDefaults(v1::RouteTable* table) {
  for (v1::Route& route : *table->mutable_routes()) {
    v1::RouteMatch* match = route.mutable_match();
    if (match->host() == "*") match->clear_host();
    match->set_host(absl::AsciiStrToLower(match->host()));
    if (match->path_case() == v1::RouteMatch::PATH_NOT_SET) {
      match->set_prefix("/");
    }
    for (v1::HeaderMatch& header : *match->mutable_headers()) {
      if (header.match_case() == v1::HeaderMatch::MATCH_NOT_SET) {
        header.set_present(true);
      }
    }
    v1::RouteAction* action = route.mutable_action();
    for (v1::WeightedPool& wp : *action->mutable_weighted_pools()) {
      if (!wp.has_weight()) wp.set_weight(kDefaultWeight);
    }
    if (!action->has_timeout()) {
      action->mutable_timeout()->set_seconds(kDefaultRouteTimeoutSeconds);
    }
    if (action->has_retry()) {
      v1::RetryPolicy* retry = action->mutable_retry();
      if (!retry->has_num_retries()) retry->set_num_retries(kDefaultNumRetries);
      if (!retry->has_budget_percent()) {
        retry->set_budget_percent(kDefaultRetryBudgetPercent);
      }
    }
  }
}

void FillDefaults(v1::BackendPool* pool) {
  if (pool->lb_policy() == v1::BackendPool::LB_POLICY_UNSPECIFIED) {
    pool->set_lb_policy(v1::BackendPool::ROUND_ROBIN);
  }
  bool hashing = pool->lb_policy() == v1::BackendPool::MAGLEV ||
                 pool->lb_policy() == v1::BackendPool::RING_HASH;
  if (hashing &&
      pool->hash_key().source_case() == v1::HashKey::SOURCE_NOT_SET) {
    pool->mutable_hash_key()->set_client_ip(true);
  }
  if (pool->lb_policy() == v1::BackendPool::MAGLEV &&
      !pool->has_maglev_table_size()) {
    pool->set_maglev_table_size(kDefaultMaglevTableSize);
  }
  for (v1::Endpoint& endpoint : *pool->mutable_endpoints()) {
    if (!endpoint.has_weight()) endpoint.set_weight(kDefaultWeight);
  }
  if (pool->has_health_check()) {
    v1::HealthCheck* hc = pool->mutable_health_check();
    if (hc->kind_case() == v1::HealthCheck::KIND_NOT_SET) hc->mutable_tcp();
    if (hc->has_http()) {
      v1::HealthCheck::Http* http = hc->mutable_http();
      if (http->path().empty()) http->set_path(kDefaultHealthPath);
      if (http->expected_statuses().empty()) {
        http->add_expected_statuses(kDefaultHealthStatus);
      }
    }
    if (!hc->has_interval()) {
      hc->mutable_interval()->set_seconds(kDefaultHealthIntervalSeconds);
    }
    if (!hc->has_timeout()) {
      hc->mutable_timeout()->set_seconds(kDefaultHealthTimeoutSeconds);
    }
    if (hc->rise() == 0) hc->set_rise(kDefaultHealthRise);
    if (hc->fall() == 0) hc->set_fall(kDefaultHealthFall);
  }
  if (pool->has_outlier_detection()) {
    v1::OutlierDetection* od = pool->mutable_outlier_detection();
    if (!od->has_consecutive_5xx()) {
      od->set_consecutive_5xx(kDefaultConsecutive5xx);
    }
    if (!od->has_consecutive_connect_failures()) {
      od->set_consecutive_connect_failures(kDefaultConsecutiveConnectFailures);
    }
    if (!od->has_base_ejection_time()) {
      od->mutable_base_ejection_time()->set_seconds(
          kDefaultBaseEjectionSeconds);
    }
    if (!od->has_max_ejection_time()) {
      od->mutable_max_ejection_time()->set_seconds(kDefaultMaxEjectionSeconds);
    }
    if (!od->has_max_ejection_percent()) {
      od->set_max_ejection_percent(kDefaultMaxEjectionPercent);
    }
  }
  if (!pool->has_connect_timeout()) {
    pool->mutable_connect_timeout()->set_seconds(kDefaultConnectTimeoutSeconds);
  }
  v1::Keepalive* keepalive = pool->mutable_keepalive();
  if (!keepalive->has_max_idle_per_core()) {
    keepalive->set_max_idle_per_core(kDefaultKeepaliveMaxIdlePerCore);
  }
  if (!keepalive->has_idle_timeout()) {
    keepalive->mutable_idle_timeout()->set_seconds(
        kDefaultKeepaliveIdleSeconds);
  }
}

// Generated keys (no explicit ones) rotate hourly unless told otherwise.
void FillSessionTicketDefaults(v1::Config* config) {
  v1::SessionTickets* st = config->mutable_session_tickets();
  if (st->keys().empty() && !st->has_rotation_interval()) {
    st->mutable_rotation_interval()->set_seconds(
        kDefaultTicketRotationSeconds);
  }
}

void FillDefaults(v1::Config* config) {
  FillSessionTicketDefaults(config);
  for (v1::Listener& l : *config->mutable_listeners()) FillDefaults(&l);
  for (v1::RouteTable& t : *config->mutable_route_tables()) FillDefaults(&t);
  for (v1::BackendPool& p : *config->mutable_pools()) FillDefaults(&p);
}

void SortByName(v1::Config* config) {
  SortRepeated(config->mutable_listeners());
  SortRepeated(config->mutable_route_tables());
  SortRepeated(config->mutable_pools());
  SortRepeated(config->mutable_certificates());
}

std::string CanonicalBytes(const v1::Config& config) {
  if (config.version() == 0) return Deterministic(config);
  v1::Config copy = config;
  copy.clear_version();
  return Deterministic(copy);
}

std::vector<v1::ResourceChange> DiffConfigs(const v1::Config& from,
                                            const v1::Config& to) {
  std::vector<v1::ResourceChange> changes;
  DiffKind(from.listeners(), to.listeners(), v1::LISTENER, &changes);
  DiffKind(from.route_tables(), to.route_tables(), v1::ROUTE_TABLE, &changes);
  DiffKind(from.pools(), to.pools(), v1::POOL, &changes);
  DiffKind(from.certificates(), to.certificates(), v1::CERTIFICATE, &changes);
  // Compared with defaults filled in: the empty initial config has none,
  // and its first apply must not look like a change of session tickets.
  v1::Config from_tickets;
  v1::Config to_tickets;
  *from_tickets.mutable_session_tickets() = from.session_tickets();
  *to_tickets.mutable_session_tickets() = to.session_tickets();
  FillSessionTicketDefaults(&from_tickets);
  FillSessionTicketDefaults(&to_tickets);
  if (Deterministic(from_tickets) != Deterministic(to_tickets)) {
    v1::ResourceChange& c = changes.emplace_back();
    c.set_kind(v1::SESSION_TICKETS);
    c.set_name(kSessionTicketsName);
    c.set_op(v1::ResourceChange::UPDATED);
  }
  return changes;
}

}  // namespace locus::proxy::control
