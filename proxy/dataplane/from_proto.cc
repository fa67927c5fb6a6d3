#include "proxy/dataplane/from_proto.h"

#include <algorithm>
#include <limits>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "proxy/tls/ticket_keys.h"

namespace locus::proxy::dataplane {

namespace {

Duration FromProtoDuration(const google::protobuf::Duration& d, Duration fallback) {
  if (d.seconds() == 0 && d.nanos() == 0) return fallback;
  return Duration::Nanos(d.seconds() * 1000000000 + d.nanos());
}

absl::StatusOr<wire::Ipv4Address> Address(const std::string& text, const std::string& path) {
  if (text.empty()) return wire::Ipv4Address::Any();
  std::optional<wire::Ipv4Address> a = wire::Ipv4Address::Parse(text);
  if (!a.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": '", text, "' is not an IPv4 address"));
  }
  return *a;
}

absl::StatusOr<lb::BackendPoolConfig> Pool(const api::v1::BackendPool& p, size_t index,
                                           UpstreamSettings* upstream) {
  std::string path = absl::StrCat("pools[", index, "]");
  lb::BackendPoolConfig pool;
  pool.name = p.name();
  for (int i = 0; i < p.endpoints_size(); ++i) {
    const api::v1::Endpoint& e = p.endpoints(i);
    absl::StatusOr<wire::Ipv4Address> ip =
        Address(e.address(), absl::StrCat(path, ".endpoints[", i, "].address"));
    if (!ip.ok()) return ip.status();
    lb::EndpointConfig endpoint;
    endpoint.ip = *ip;
    endpoint.port = static_cast<uint16_t>(e.port());
    endpoint.weight = e.has_weight() ? e.weight() : 1;
    endpoint.max_connections = e.max_connections();
    pool.endpoints.push_back(endpoint);
  }
  switch (p.lb_policy()) {
    case api::v1::BackendPool::LEAST_CONNECTIONS:
      pool.lb_policy = lb::LbPolicy::kLeastConnections;
      break;
    case api::v1::BackendPool::POWER_OF_TWO:
      pool.lb_policy = lb::LbPolicy::kPowerOfTwo;
      break;
    case api::v1::BackendPool::RANDOM:
      pool.lb_policy = lb::LbPolicy::kRandom;
      break;
    case api::v1::BackendPool::MAGLEV:
      pool.lb_policy = lb::LbPolicy::kMaglev;
      break;
    case api::v1::BackendPool::RING_HASH:
      pool.lb_policy = lb::LbPolicy::kRingHash;
      break;
    default:
      pool.lb_policy = lb::LbPolicy::kRoundRobin;
      break;
  }
  if (p.hash_key().has_header()) {
    pool.hash_key.source = lb::HashKeyConfig::Source::kHeader;
    pool.hash_key.header_name = p.hash_key().header();
  }
  if (p.has_maglev_table_size()) pool.maglev_table_size = p.maglev_table_size();
  if (p.has_health_check()) {
    const api::v1::HealthCheck& h = p.health_check();
    health::HealthCheckConfig check;
    check.kind = h.has_http() ? health::CheckKind::kHttp : health::CheckKind::kTcp;
    if (h.has_http()) {
      check.path = h.http().path().empty() ? "/" : h.http().path();
      check.host = h.http().host();
      if (h.http().expected_statuses_size() > 0) {
        // A range covering every listed status (the health checker checks
        // ranges).
        auto [lo, hi] = std::minmax_element(h.http().expected_statuses().begin(),
                                            h.http().expected_statuses().end());
        check.expected_status.min = static_cast<int>(*lo);
        check.expected_status.max = static_cast<int>(*hi);
      }
    }
    check.interval = FromProtoDuration(h.interval(), check.interval);
    check.timeout = FromProtoDuration(h.timeout(), check.timeout);
    if (h.rise() != 0) check.rise = h.rise();
    if (h.fall() != 0) check.fall = h.fall();
    pool.health_check = check;
  }
  if (p.has_outlier_detection()) {
    const api::v1::OutlierDetection& o = p.outlier_detection();
    health::OutlierDetectionConfig od;
    if (o.has_consecutive_5xx()) od.consecutive_5xx = o.consecutive_5xx();
    if (o.has_consecutive_connect_failures()) {
      od.consecutive_connect_failures = o.consecutive_connect_failures();
    }
    od.base_ejection_time = FromProtoDuration(o.base_ejection_time(), od.base_ejection_time);
    od.max_ejection_time = FromProtoDuration(o.max_ejection_time(), od.max_ejection_time);
    if (o.has_max_ejection_percent()) od.max_ejection_percent = o.max_ejection_percent();
    pool.outlier_detection = od;
  }
  upstream->connect_timeout = FromProtoDuration(p.connect_timeout(), upstream->connect_timeout);
  if (p.has_tls()) {
    upstream->tls.enabled = true;
    upstream->tls.server_name = p.tls().server_name();
    upstream->tls.ca_pem = p.tls().ca_bundle_pem();
    upstream->tls.min_version = p.tls().min_version() == api::v1::ListenerTls::TLS1_3
                                    ? tls::TlsVersion::kTls13
                                    : tls::TlsVersion::kTls12;
  }
  if (p.keepalive().has_max_idle_per_core()) {
    upstream->max_idle_per_core = p.keepalive().max_idle_per_core();
  }
  upstream->keepalive_idle_timeout =
      FromProtoDuration(p.keepalive().idle_timeout(), upstream->keepalive_idle_timeout);
  return pool;
}

route::RouteTableConfig Table(const api::v1::RouteTable& t) {
  route::RouteTableConfig table;
  table.name = t.name();
  for (const api::v1::Route& r : t.routes()) {
    route::RouteConfig route;
    route.name = r.name();
    const api::v1::RouteMatch& m = r.match();
    route.match.host = m.host();
    switch (m.path_case()) {
      case api::v1::RouteMatch::kExact:
        route.match.path = {route::PathMatch::Kind::kExact, m.exact()};
        break;
      case api::v1::RouteMatch::kRegex:
        route.match.path = {route::PathMatch::Kind::kRegex, m.regex()};
        break;
      case api::v1::RouteMatch::kPrefix:
        route.match.path = {route::PathMatch::Kind::kPrefix, m.prefix()};
        break;
      default:
        route.match.path = {route::PathMatch::Kind::kPrefix, "/"};
        break;
    }
    for (const std::string& method : m.methods()) route.match.methods.push_back(method);
    for (const api::v1::HeaderMatch& h : m.headers()) {
      route::HeaderMatch header;
      header.name = h.name();
      switch (h.match_case()) {
        case api::v1::HeaderMatch::kRegex:
          header.kind = route::HeaderMatch::Kind::kRegex;
          header.value = h.regex();
          break;
        case api::v1::HeaderMatch::kPresent:
          header.kind = route::HeaderMatch::Kind::kPresent;
          break;
        default:
          header.kind = route::HeaderMatch::Kind::kExact;
          header.value = h.exact();
          break;
      }
      route.match.headers.push_back(header);
    }
    const api::v1::RouteAction& a = r.action();
    for (const api::v1::WeightedPool& w : a.weighted_pools()) {
      route.action.clusters.push_back({w.pool(), w.has_weight() ? w.weight() : 1});
    }
    route.action.timeout = FromProtoDuration(a.timeout(), route.action.timeout);
    // config.proto: an unset retry policy means no retries.
    route.action.retry.retry_on_connect_failure = false;
    route.action.retry.retry_on_5xx = false;
    route.action.retry.num_retries = 0;
    if (a.has_retry()) {
      const api::v1::RetryPolicy& rp = a.retry();
      route.action.retry.retry_on_connect_failure = false;
      route.action.retry.retry_on_5xx = false;
      for (int on : rp.retry_on()) {
        if (on == api::v1::RetryPolicy::CONNECT_FAILURE) {
          route.action.retry.retry_on_connect_failure = true;
        }
        if (on == api::v1::RetryPolicy::HTTP_5XX) route.action.retry.retry_on_5xx = true;
      }
      route.action.retry.num_retries = rp.has_num_retries() ? rp.num_retries() : 1;
      route.action.retry.per_try_timeout =
          FromProtoDuration(rp.per_try_timeout(), Duration::Zero());
      if (rp.has_budget_percent()) route.action.retry.budget_percent = rp.budget_percent();
    }
    table.routes.push_back(std::move(route));
  }
  return table;
}

// Certificate names are per listener in the API, global in TlsSettings:
// inline ones are qualified with the listener's name ("web/www"), shared
// ones (certificate_refs) with "shared:" ("shared:www"; listener names are
// DNS labels, so the two never clash). A shared certificate is loaded once
// however many listeners serve it: rotating it (new PEM under the same name)
// rotates it on all of them. Fills lt->certificates (inline first, then
// references, as config.proto orders them) and lt->default_certificate.
absl::Status ListenerCertificates(const api::v1::Config& config, const api::v1::Listener& l,
                                  const std::string& path, tls::TlsSettings* out,
                                  tls::ListenerTlsSettings* lt) {
  const api::v1::ListenerTls& t = l.tls();
  std::string default_name;
  for (const api::v1::Certificate& c : t.certificates()) {
    std::string name = absl::StrCat(l.name(), "/", c.name());
    if (!t.default_certificate().empty() && c.name() == t.default_certificate()) {
      default_name = name;
    }
    out->certificates.push_back({name, c.cert_chain_pem(), c.private_key_pem()});
    lt->certificates.push_back(std::move(name));
  }
  for (int i = 0; i < t.certificate_refs_size(); ++i) {
    const std::string& ref = t.certificate_refs(i);
    const api::v1::Certificate* shared = nullptr;
    for (const api::v1::Certificate& c : config.certificates()) {
      if (c.name() == ref) shared = &c;
    }
    if (shared == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ".tls.certificate_refs[", i, "]: certificate '", ref, "' does not exist"));
    }
    std::string name = absl::StrCat("shared:", ref);
    bool loaded = false;
    for (const tls::CertificateSettings& c : out->certificates) loaded = loaded || c.name == name;
    if (!loaded) {
      out->certificates.push_back({name, shared->cert_chain_pem(), shared->private_key_pem()});
    }
    if (!t.default_certificate().empty() && ref == t.default_certificate() &&
        default_name.empty()) {
      default_name = name;
    }
    lt->certificates.push_back(std::move(name));
  }
  lt->default_certificate = std::move(default_name);
  return absl::OkStatus();
}

}  // namespace

namespace {

// Config.session_tickets: base64 keys in nginx's layout (validated by the
// control plane; checked again so a bad key never reaches a shard).
absl::Status SessionTicketsFromProto(const api::v1::Config& config, tls::TicketSettings* out) {
  const api::v1::SessionTickets& st = config.session_tickets();
  out->disabled = st.disabled();
  out->rotation_interval = FromProtoDuration(st.rotation_interval(), out->rotation_interval);
  std::vector<std::string> raw;
  for (int i = 0; i < st.keys_size(); ++i) {
    std::string bytes;
    if (!absl::Base64Unescape(st.keys(i), &bytes)) {
      return absl::InvalidArgumentError(
          absl::StrCat("session_tickets.keys[", i, "]: is not base64"));
    }
    raw.push_back(std::move(bytes));
  }
  absl::StatusOr<std::vector<tls::TicketKey>> keys = tls::ParseTicketKeys(raw);
  if (!keys.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("session_tickets.keys: ", keys.status().message()));
  }
  out->keys = std::move(*keys);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DataPlaneConfig> FromProto(const api::v1::Config& config) {
  DataPlaneConfig out;
  if (absl::Status s = SessionTicketsFromProto(config, &out.tickets); !s.ok()) return s;
  for (int i = 0; i < config.pools_size(); ++i) {
    UpstreamSettings upstream;
    absl::StatusOr<lb::BackendPoolConfig> pool = Pool(config.pools(i), i, &upstream);
    if (!pool.ok()) return pool.status();
    out.pools.push_back(std::move(*pool));
    out.upstream.push_back(upstream);
  }
  for (const api::v1::RouteTable& t : config.route_tables()) out.route_tables.push_back(Table(t));
  for (int i = 0; i < config.listeners_size(); ++i) {
    const api::v1::Listener& l = config.listeners(i);
    std::string path = absl::StrCat("listeners[", i, "]");
    ListenerConfig listener;
    listener.name = l.name();
    absl::StatusOr<wire::Ipv4Address> address = Address(l.address(), path + ".address");
    if (!address.ok()) return address.status();
    listener.address = *address;
    if (l.port() == 0 || l.port() > 65535) {
      return absl::InvalidArgumentError(path + ".port: must be 1..65535");
    }
    listener.port = static_cast<uint16_t>(l.port());
    listener.protocol = l.protocol() == api::v1::Listener::TCP ? ListenerProtocol::kTcp
                                                              : ListenerProtocol::kHttp;
    listener.route_table = l.route_table();
    listener.pool = l.pool();
    const api::v1::ListenerLimits& lim = l.limits();
    listener.limits.max_connections = lim.max_connections();
    listener.limits.idle_timeout = FromProtoDuration(lim.idle_timeout(), listener.limits.idle_timeout);
    listener.limits.header_timeout =
        FromProtoDuration(lim.header_timeout(), listener.limits.header_timeout);
    listener.limits.request_timeout =
        FromProtoDuration(lim.request_timeout(), listener.limits.request_timeout);
    if (lim.max_request_header_bytes() != 0) {
      listener.limits.max_request_header_bytes = lim.max_request_header_bytes();
    }
    // 0 = unlimited (config.proto): the parser's largest configurable body.
    listener.limits.max_request_body_bytes = lim.max_request_body_bytes() != 0
                                                 ? lim.max_request_body_bytes()
                                                 : std::numeric_limits<uint64_t>::max();
    switch (l.proxy_protocol()) {
      case api::v1::Listener::V1:
        listener.proxy_protocol = ProxyProtocolVersion::kV1;
        break;
      case api::v1::Listener::V2:
        listener.proxy_protocol = ProxyProtocolVersion::kV2;
        break;
      default:
        break;
    }
    listener.drain_timeout = FromProtoDuration(l.drain_timeout(), listener.drain_timeout);
    if (l.has_tls()) {
      listener.tls = true;
      const api::v1::ListenerTls& t = l.tls();
      tls::ListenerTlsSettings lt;
      lt.listener = l.name();
      if (absl::Status s = ListenerCertificates(config, l, path, &out.tls, &lt); !s.ok()) {
        return s;
      }
      if (!t.default_certificate().empty()) {
        lt.on_unknown_sni = tls::UnknownSni::kDefaultCertificate;
      } else {
        // No default: unknown names (and no SNI) fail the handshake.
        lt.on_unknown_sni = tls::UnknownSni::kReject;
      }
      lt.min_version = t.min_version() == api::v1::ListenerTls::TLS1_3 ? tls::TlsVersion::kTls13
                                                                       : tls::TlsVersion::kTls12;
      lt.cipher_list = t.cipher_list();
      lt.ciphersuites = t.ciphersuites();
      out.tls.listeners.push_back(std::move(lt));
    }
    out.listeners.push_back(std::move(listener));
  }
  return out;
}

}  // namespace locus::proxy::dataplane
