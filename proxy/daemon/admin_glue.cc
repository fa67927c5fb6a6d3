#include "proxy/daemon/admin_glue.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "api/codec.h"
#include "api/secrets.h"
#include "stack/engine/dispatcher.h"

namespace locus::proxyd {

namespace admin = proxy::admin;
namespace dataplane = proxy::dataplane;

namespace {

uint64_t Load(const std::atomic<uint64_t>& c) { return c.load(std::memory_order_relaxed); }

const char* HealthName(uint32_t h) {
  switch (h) {
    case 1: return "healthy";
    case 2: return "unhealthy";
    case 3: return "ejected";
    default: return "unknown";
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<AdminGlue>> AdminGlue::Start(
    const std::string& address, bool allow_non_loopback, engine::Engine& engine,
    dataplane::ProxyDataPlane& data_plane, std::vector<dataplane::ShardTables*> tables,
    proxy::control::ControlPlane* cp) {
  admin::AdminServerOptions options;
  size_t colon = address.rfind(':');
  uint32_t port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(absl::string_view(address).substr(colon + 1), &port) || port > 65535) {
    return absl::InvalidArgumentError("want HOST:PORT, e.g. 127.0.0.1:9901, got '" + address + "'");
  }
  options.address = address.substr(0, colon);
  options.port = static_cast<uint16_t>(port);
  options.allow_non_loopback = allow_non_loopback;
  std::unique_ptr<AdminGlue> glue(new AdminGlue(engine, data_plane, std::move(tables), cp));
  AdminGlue* self = glue.get();
  admin::AdminHandlers handlers;
  handlers.metrics = [self](admin::PrometheusWriter& w) { self->WriteMetrics(w); };
  handlers.stats_json = [self] { return self->StatsJson(); };
  handlers.config_json = [self]() -> std::string {
    std::shared_ptr<const proxy::control::ConfigSnapshot> snapshot = self->cp_->Current();
    if (snapshot == nullptr) return "{}";
    // Secrets never leave through the admin endpoint: redacted as the API
    // does (api/secrets.h), so /config and GetConfig show the same digests.
    api::v1::Config config = snapshot->config;
    api::RedactSecrets(&config);
    absl::StatusOr<std::string> json = api::ToJson(config);
    return json.ok() ? *json : "{}";
  };
  handlers.ready = [self] { return self->Ready(); };
  absl::StatusOr<std::unique_ptr<admin::AdminServer>> server =
      admin::AdminServer::Start(options, std::move(handlers));
  if (!server.ok()) return server.status();
  glue->server_ = std::move(*server);
  return glue;
}

void AdminGlue::Stop() {
  if (server_ != nullptr) server_->Stop();
}

absl::Status AdminGlue::Ready() {
  uint64_t published = data_plane_.published_version();
  for (size_t i = 0; i < tables_.size(); ++i) {
    uint64_t applied = tables_[i]->counters.applied_version.load(std::memory_order_acquire);
    if (applied < published) {
      return absl::UnavailableError(absl::StrCat("core ", i, " runs config version ", applied,
                                                 ", published is ", published));
    }
  }
  return absl::OkStatus();
}

void AdminGlue::WriteMetrics(admin::PrometheusWriter& w) {
  auto counter = [&](const char* name, const char* help) {
    return w.AddFamily(name, help, admin::MetricType::kCounter);
  };
  auto gauge = [&](const char* name, const char* help) {
    return w.AddFamily(name, help, admin::MetricType::kGauge);
  };
  struct CoreMetric {
    const char* name;
    const char* help;
    bool is_gauge;
    std::atomic<uint64_t> dataplane::ProxyCounters::*field;
  };
  static const CoreMetric kCore[] = {
      {"locus_applied_config_version", "Config version this core runs", true,
       &dataplane::ProxyCounters::applied_version},
      {"locus_downstream_connections_accepted_total", "Client connections accepted", false,
       &dataplane::ProxyCounters::connections_accepted},
      {"locus_downstream_connections_rejected_total", "Client connections refused at a limit",
       false, &dataplane::ProxyCounters::connections_rejected},
      {"locus_downstream_connections_active", "Client connections open", true,
       &dataplane::ProxyCounters::active_connections},
      {"locus_requests_total", "HTTP requests received", false, &dataplane::ProxyCounters::requests},
      {"locus_downstream_bytes_received_total", "Bytes received from clients", false,
       &dataplane::ProxyCounters::bytes_received},
      {"locus_downstream_bytes_sent_total", "Bytes sent to clients", false,
       &dataplane::ProxyCounters::bytes_sent},
      {"locus_upstream_connects_total", "Connections opened to backends", false,
       &dataplane::ProxyCounters::upstream_connects},
      {"locus_upstream_reused_total", "Requests sent on kept-alive backend connections", false,
       &dataplane::ProxyCounters::upstream_reused},
      {"locus_upstream_connect_failures_total", "Backend connects that failed", false,
       &dataplane::ProxyCounters::upstream_connect_failures},
      {"locus_upstream_timeouts_total", "Backend responses that timed out", false,
       &dataplane::ProxyCounters::upstream_timeouts},
      {"locus_upstream_idle_connections", "Kept-alive backend connections idle", true,
       &dataplane::ProxyCounters::upstream_idle},
      {"locus_retries_total", "Requests retried", false, &dataplane::ProxyCounters::retries},
      {"locus_retries_budget_exhausted_total",
       "Retries the route allowed but the pool's retry budget refused", false,
       &dataplane::ProxyCounters::retries_budget_exhausted},
      {"locus_no_healthy_upstream_total", "Requests answered 503: no healthy endpoint", false,
       &dataplane::ProxyCounters::no_healthy_upstream},
      {"locus_no_route_total", "Requests answered 404: no route", false,
       &dataplane::ProxyCounters::no_route},
      {"locus_bad_requests_total", "Requests rejected by the HTTP parser", false,
       &dataplane::ProxyCounters::bad_requests},
      {"locus_downstream_timeouts_total", "Client-side timeouts (idle, header, request)", false,
       &dataplane::ProxyCounters::downstream_timeouts},
      {"locus_tunnels_total", "Upgraded and L4 sessions", false,
       &dataplane::ProxyCounters::tunnels},
      {"locus_route_cache_hits_total", "Route lookups served from the per-core cache", false,
       &dataplane::ProxyCounters::route_cache_hits},
      {"locus_route_cache_misses_total", "Route lookups that matched the table", false,
       &dataplane::ProxyCounters::route_cache_misses},
      {"locus_route_cache_stale_total", "Cache entries found stale by version", false,
       &dataplane::ProxyCounters::route_cache_stale},
      {"locus_health_probes_total", "Active health checks started", false,
       &dataplane::ProxyCounters::health_probes},
      {"locus_health_probe_failures_total", "Active health checks that failed", false,
       &dataplane::ProxyCounters::health_probe_failures},
  };
  for (const CoreMetric& m : kCore) {
    admin::PrometheusWriter::Family f = m.is_gauge ? gauge(m.name, m.help) : counter(m.name, m.help);
    for (size_t i = 0; i < tables_.size(); ++i) {
      std::string core = std::to_string(i);
      f.Add({{"core", core}}, Load(tables_[i]->counters.*m.field));
    }
  }
  admin::PrometheusWriter::Family responses =
      counter("locus_responses_total", "HTTP responses sent to clients, by status class");
  for (size_t i = 0; i < tables_.size(); ++i) {
    std::string core = std::to_string(i);
    for (int c = 1; c <= 5; ++c) {
      std::string cls = std::to_string(c) + "xx";
      responses.Add({{"core", core}, {"class", cls}},
                    Load(tables_[i]->counters.responses_by_class[c]));
    }
  }
  // TLS termination, per core. Labels are bounded (proxy/tls/counters.h).
  admin::PrometheusWriter::Family handshakes =
      counter("locus_tls_handshakes_total", "TLS handshakes completed, full or resumed");
  admin::PrometheusWriter::Family handshake_failures = counter(
      "locus_tls_handshake_failures_total", "TLS handshakes that failed, by reason");
  admin::PrometheusWriter::Family tls_versions =
      counter("locus_tls_versions_total", "TLS handshakes completed, by protocol version");
  admin::PrometheusWriter::Family tls_errors = counter(
      "locus_tls_protocol_errors_total", "Fatal TLS errors after the handshake (bad record)");
  admin::PrometheusWriter::Family tickets = counter(
      "locus_tls_tickets_total",
      "Session tickets issued, and offered tickets sealed with an older or unknown key");
  // TLS to backends (pools with tls), per core: this proxy is the client.
  admin::PrometheusWriter::Family upstream_handshakes = counter(
      "locus_tls_upstream_handshakes_total", "TLS handshakes with backends completed");
  admin::PrometheusWriter::Family upstream_failures = counter(
      "locus_tls_upstream_handshake_failures_total",
      "TLS handshakes with backends that failed, by reason (certificate_verify: the backend's "
      "certificate did not verify); setup: no TLS connection could be made");
  for (size_t i = 0; i < tables_.size(); ++i) {
    std::string core = std::to_string(i);
    const proxy::tls::TlsCounters& t = tables_[i]->tls;
    handshakes.Add({{"core", core}, {"kind", "full"}}, Load(t.handshakes_full));
    handshakes.Add({{"core", core}, {"kind", "resumed"}}, Load(t.handshakes_resumed));
    // absl::string_view is not std::string_view on Debian.
    auto std_view = [](absl::string_view s) { return std::string_view(s.data(), s.size()); };
    for (size_t f = 1; f < proxy::tls::kTlsFailureCount; ++f) {
      handshake_failures.Add(
          {{"core", core},
           {"reason", std_view(proxy::tls::TlsFailureName(static_cast<proxy::tls::TlsFailure>(f)))}},
          Load(t.handshake_failures[f]));
    }
    for (size_t v = 0; v < proxy::tls::kVersionLabelCount; ++v) {
      tls_versions.Add({{"core", core}, {"version", std_view(proxy::tls::VersionLabel(v))}},
                       Load(t.versions[v]));
    }
    tls_errors.Add({{"core", core}}, Load(t.protocol_errors));
    tickets.Add({{"core", core}, {"result", "issued"}}, Load(t.tickets_issued));
    tickets.Add({{"core", core}, {"result", "old_key"}}, Load(t.tickets_old_key));
    tickets.Add({{"core", core}, {"result", "unknown_key"}}, Load(t.tickets_unknown_key));
    const proxy::tls::TlsCounters& u = tables_[i]->upstream_tls;
    upstream_handshakes.Add({{"core", core}},
                            Load(u.handshakes_full) + Load(u.handshakes_resumed));
    for (size_t f = 1; f < proxy::tls::kTlsFailureCount; ++f) {
      upstream_failures.Add(
          {{"core", core},
           {"reason", std_view(proxy::tls::TlsFailureName(static_cast<proxy::tls::TlsFailure>(f)))}},
          Load(u.handshake_failures[f]));
    }
    upstream_failures.Add({{"core", core}, {"reason", "setup"}}, Load(u.setup_failures));
  }
  // The stack and steering of each core.
  admin::PrometheusWriter::Family rx = counter("locus_stack_rx_frames_total", "Frames received");
  admin::PrometheusWriter::Family tx = counter("locus_stack_tx_frames_total", "Frames sent");
  admin::PrometheusWriter::Family seg_in = counter("locus_tcp_segments_in_total", "TCP segments in");
  admin::PrometheusWriter::Family seg_out = counter("locus_tcp_segments_out_total", "TCP segments out");
  admin::PrometheusWriter::Family rexmit = counter("locus_tcp_retransmits_total", "TCP retransmissions");
  admin::PrometheusWriter::Family conns = gauge("locus_tcp_connections", "TCP connections open");
  admin::PrometheusWriter::Family tw = gauge("locus_tcp_time_wait", "Connections in TIME-WAIT");
  admin::PrometheusWriter::Family drops = counter("locus_stack_drops_total", "Frames and segments dropped, by reason");
  admin::PrometheusWriter::Family redirect_in = counter("locus_steering_redirects_in_total", "Frames other cores handed to this one");
  admin::PrometheusWriter::Family redirect_out = counter("locus_steering_redirects_out_total", "Frames handed to the core owning their flow");
  admin::PrometheusWriter::Family ring_full = counter("locus_steering_ring_full_drops_total", "Redirects dropped: ring full");
  admin::PrometheusWriter::Family busy = counter("locus_loop_busy_seconds_total", "Time spent in poll iterations that did work");
  admin::PrometheusWriter::Family iterations = counter("locus_loop_iterations_total", "Poll iterations");
  admin::PrometheusWriter::Family busy_iterations = counter("locus_loop_busy_iterations_total", "Poll iterations that did work");
  for (unsigned i = 0; i < engine_.shard_count(); ++i) {
    std::string core = std::to_string(i);
    const core::Stack& stack = engine_.stack(i);
    const core::NetCounters& n = stack.counters();
    const tcp::TcpCounters& t = stack.tcp().counters();
    rx.Add({{"core", core}}, n.rx_frames);
    tx.Add({{"core", core}}, n.tx_frames);
    seg_in.Add({{"core", core}}, t.segments_in);
    seg_out.Add({{"core", core}}, t.segments_out);
    rexmit.Add({{"core", core}}, t.retransmits);
    conns.Add({{"core", core}}, stack.tcp().connection_count());
    tw.Add({{"core", core}}, stack.tcp().time_wait_count());
    for (size_t d = 0; d < n.drops.size(); ++d) {
      if (n.drops[d] == 0) continue;
      std::string reason(core::NetDropName(static_cast<core::NetDrop>(d)));
      drops.Add({{"core", core}, {"layer", "net"}, {"reason", reason}}, n.drops[d]);
    }
    for (size_t d = 0; d < t.drops.size(); ++d) {
      if (t.drops[d] == 0) continue;
      std::string reason(tcp::TcpDropName(static_cast<tcp::TcpDrop>(d)));
      drops.Add({{"core", core}, {"layer", "tcp"}, {"reason", reason}}, t.drops[d]);
    }
    if (const engine::Dispatcher* dispatcher = engine_.group().dispatcher(i)) {
      const engine::SteeringCounters& s = dispatcher->counters();
      redirect_in.Add({{"core", core}}, Load(s.redirects_in));
      redirect_out.Add({{"core", core}}, Load(s.redirects_out));
      ring_full.Add({{"core", core}}, Load(s.ring_full_drops));
    }
    const engine::ShardLoopStats& loop = engine_.shard(i).loop_stats();
    busy.Add({{"core", core}}, static_cast<double>(Load(loop.busy_nanos)) / 1e9);
    iterations.Add({{"core", core}}, Load(loop.iterations));
    busy_iterations.Add({{"core", core}}, Load(loop.busy_iterations));
  }
  // Endpoints, summed over cores.
  proxy::control::StatsSnapshot stats = data_plane_.Stats();
  admin::PrometheusWriter::Family ep_active = gauge("locus_endpoint_active_connections", "Connections open to the endpoint");
  admin::PrometheusWriter::Family ep_requests = counter("locus_endpoint_requests_total", "Requests sent to the endpoint");
  admin::PrometheusWriter::Family ep_fail = counter("locus_endpoint_connect_failures_total", "Failed connects to the endpoint");
  admin::PrometheusWriter::Family ep_5xx = counter("locus_endpoint_responses_5xx_total", "5xx responses from the endpoint");
  admin::PrometheusWriter::Family ep_ejections = counter("locus_endpoint_ejections_total", "Outlier ejections of the endpoint");
  admin::PrometheusWriter::Family ep_health = gauge("locus_endpoint_healthy", "1 when the endpoint takes traffic (state label: healthy, unhealthy, ejected, unknown)");
  for (const proxy::control::EndpointStats& e : stats.endpoints) {
    std::string endpoint = e.address + ":" + std::to_string(e.port);
    ep_active.Add({{"pool", e.pool}, {"endpoint", endpoint}}, e.active_connections);
    ep_requests.Add({{"pool", e.pool}, {"endpoint", endpoint}}, e.requests);
    ep_fail.Add({{"pool", e.pool}, {"endpoint", endpoint}}, e.connect_failures);
    ep_5xx.Add({{"pool", e.pool}, {"endpoint", endpoint}}, e.responses_5xx);
    ep_ejections.Add({{"pool", e.pool}, {"endpoint", endpoint}}, e.ejections);
    uint32_t h = static_cast<uint32_t>(e.health);
    const char* state = h == 1 ? "healthy" : h == 2 ? "unhealthy" : h == 3 ? "ejected" : "unknown";
    ep_health.Add({{"pool", e.pool}, {"endpoint", endpoint}, {"state", state}},
                  (h == 1 || h == 0) ? 1 : 0);
  }
  (void)HealthName;
}

std::string AdminGlue::StatsJson() {
  proxy::control::StatsSnapshot stats = data_plane_.Stats();
  proxy::control::DataPlaneStatus status = data_plane_.Status();
  std::string out = "{\"published_version\":" + std::to_string(data_plane_.published_version());
  out += ",\"cores\":[";
  for (size_t i = 0; i < stats.cores.size(); ++i) {
    const proxy::control::CoreStats& c = stats.cores[i];
    if (i > 0) out += ",";
    out += absl::StrCat("{\"core\":", c.core,
                        ",\"applied_version\":", status.cores[i].applied_version,
                        ",\"active_connections\":", c.active_connections,
                        ",\"requests\":", c.requests, ",\"responses_2xx\":", c.responses_2xx,
                        ",\"responses_4xx\":", c.responses_4xx,
                        ",\"responses_5xx\":", c.responses_5xx,
                        ",\"upstream_connect_failures\":", c.upstream_connect_failures,
                        ",\"retries\":", c.retries,
                        ",\"retries_budget_exhausted\":", c.retries_budget_exhausted,
                        ",\"route_cache_hits\":", status.cores[i].route_cache_hits,
                        ",\"route_cache_misses\":", status.cores[i].route_cache_misses,
                        ",\"route_cache_stale\":", status.cores[i].route_cache_stale,
                        ",\"redirects_in\":", status.cores[i].redirects_in,
                        ",\"redirects_out\":", status.cores[i].redirects_out, "}");
  }
  out += "],\"endpoints\":[";
  for (size_t i = 0; i < stats.endpoints.size(); ++i) {
    const proxy::control::EndpointStats& e = stats.endpoints[i];
    if (i > 0) out += ",";
    // Pool names are DNS-label-like (validated), addresses numeric: no
    // escaping needed.
    out += absl::StrCat("{\"pool\":\"", e.pool, "\",\"address\":\"", e.address,
                        "\",\"port\":", e.port, ",\"health\":\"",
                        HealthName(static_cast<uint32_t>(e.health)),
                        "\",\"active_connections\":", e.active_connections,
                        ",\"requests\":", e.requests, ",\"connect_failures\":", e.connect_failures,
                        ",\"responses_5xx\":", e.responses_5xx, ",\"ejections\":", e.ejections,
                        "}");
  }
  out += "]}\n";
  return out;
}

}  // namespace locus::proxyd
