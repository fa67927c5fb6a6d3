#include "proxy/route/route_table.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "proxy/lb/hash.h"
#include "re2/re2.h"

namespace locus::proxy::route {
namespace {

absl::Status Bad(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

bool IsTokenChar(char c) {
  // RFC 9110 §5.6.2 tchar.
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  return absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
}

re2::RE2::Options RegexOptions() {
  re2::RE2::Options o;
  o.set_log_errors(false);
  return o;
}

re2::StringPiece Piece(absl::string_view s) {
  return re2::StringPiece(s.data(), s.size());
}

// Compiles `pattern`, or says why not under `field`.
absl::StatusOr<std::unique_ptr<re2::RE2>> CompileRegex(absl::string_view pattern,
                                                       absl::string_view field) {
  if (pattern.empty()) return Bad(field, "must not be empty");
  if (pattern.size() > kMaxRegexLength) {
    return Bad(field, absl::StrCat("longer than ", kMaxRegexLength, " bytes"));
  }
  auto re = std::make_unique<re2::RE2>(Piece(pattern), RegexOptions());
  if (!re->ok()) return Bad(field, re->error());
  if (re->ProgramSize() > kMaxRegexProgramSize) {
    return Bad(field, absl::StrCat("compiled program size ", re->ProgramSize(),
                                   " exceeds ", kMaxRegexProgramSize));
  }
  return re;
}

absl::Status CheckName(absl::string_view name, absl::string_view field) {
  if (name.empty()) return Bad(field, "must not be empty");
  if (name.size() > kMaxNameLength) {
    return Bad(field, absl::StrCat("longer than ", kMaxNameLength, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status CheckPathValue(absl::string_view v, absl::string_view field) {
  if (v.empty() || v[0] != '/') return Bad(field, "must start with '/'");
  for (char c : v) {
    if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#') {
      return Bad(field, "contains a byte that never appears in a routing path");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateRoute(const RouteConfig& r, const std::string& at,
                           const PoolNames& pools) {
  if (absl::Status s = CheckName(r.name, at + ".name"); !s.ok()) return s;
  HostPattern host;
  if (absl::Status s = ParseHostPattern(r.match.host, &host); !s.ok()) {
    return Bad(at + ".match.host", s.message());
  }
  const PathMatch& p = r.match.path;
  switch (p.kind) {
    case PathMatch::Kind::kPrefix:
      if (absl::Status s = CheckPathValue(p.value, at + ".match.path.prefix");
          !s.ok()) {
        return s;
      }
      break;
    case PathMatch::Kind::kExact:
      if (absl::Status s = CheckPathValue(p.value, at + ".match.path.exact");
          !s.ok()) {
        return s;
      }
      break;
    case PathMatch::Kind::kRegex:
      if (auto re = CompileRegex(p.value, at + ".match.path.regex"); !re.ok()) {
        return re.status();
      }
      break;
  }
  for (size_t j = 0; j < r.match.methods.size(); ++j) {
    if (http::MethodFromText(r.match.methods[j]) == Method::kOther) {
      return Bad(absl::StrCat(at, ".match.methods[", j, "]"),
                 absl::StrCat("unknown method \"", r.match.methods[j], "\""));
    }
  }
  if (r.match.headers.size() > kMaxHeaderMatchersPerRoute) {
    return Bad(at + ".match.headers",
               absl::StrCat("more than ", kMaxHeaderMatchersPerRoute));
  }
  for (size_t j = 0; j < r.match.headers.size(); ++j) {
    const HeaderMatch& h = r.match.headers[j];
    const std::string hat = absl::StrCat(at, ".match.headers[", j, "]");
    if (h.name.empty() ||
        !std::all_of(h.name.begin(), h.name.end(), IsTokenChar)) {
      return Bad(hat + ".name", "is not an HTTP field name");
    }
    if (h.kind == HeaderMatch::Kind::kRegex) {
      if (auto re = CompileRegex(h.value, hat + ".regex"); !re.ok()) {
        return re.status();
      }
    }
  }
  const RouteAction& a = r.action;
  if (a.clusters.empty()) return Bad(at + ".action.clusters", "must not be empty");
  if (a.clusters.size() > kMaxClustersPerRoute) {
    return Bad(at + ".action.clusters",
               absl::StrCat("more than ", kMaxClustersPerRoute));
  }
  uint64_t total = 0;
  for (size_t j = 0; j < a.clusters.size(); ++j) {
    const WeightedCluster& c = a.clusters[j];
    const std::string cat = absl::StrCat(at, ".action.clusters[", j, "]");
    if (c.pool.empty()) return Bad(cat + ".pool", "must not be empty");
    if (!pools.contains(c.pool)) {
      return Bad(cat + ".pool", absl::StrCat("unknown pool \"", c.pool, "\""));
    }
    if (c.weight > kMaxClusterWeight) {
      return Bad(cat + ".weight", absl::StrCat("must be at most ", kMaxClusterWeight));
    }
    total += c.weight;
  }
  if (total == 0) return Bad(at + ".action.clusters", "all weights are zero");
  if (a.timeout <= Duration::Zero()) return Bad(at + ".action.timeout", "must be positive");
  if (a.idle_timeout <= Duration::Zero()) {
    return Bad(at + ".action.idle_timeout", "must be positive");
  }
  const RetryPolicy& rp = a.retry;
  if (rp.num_retries > kMaxRetries) {
    return Bad(at + ".action.retry.num_retries",
               absl::StrCat("must be at most ", kMaxRetries));
  }
  if (rp.per_try_timeout < Duration::Zero() || rp.per_try_timeout > a.timeout) {
    return Bad(at + ".action.retry.per_try_timeout",
               "must be between 0 and the route timeout");
  }
  if (rp.budget_percent > 100) {
    return Bad(at + ".action.retry.budget_percent", "must be 0..100");
  }
  return absl::OkStatus();
}

// Canonical encoding: every string length-prefixed, every number decimal,
// fields in a fixed order, so distinct configs cannot encode alike.
void Put(std::string* out, absl::string_view s) {
  absl::StrAppend(out, s.size(), ":", s, ";");
}
void Put(std::string* out, int64_t n) { absl::StrAppend(out, n, ";"); }

}  // namespace

absl::Status ValidateRouteTable(const RouteTableConfig& config,
                                const PoolNames& pools) {
  if (absl::Status s = CheckName(config.name, "name"); !s.ok()) return s;
  if (config.routes.size() > kMaxRoutesPerTable) {
    return Bad("routes", absl::StrCat("more than ", kMaxRoutesPerTable, " routes"));
  }
  absl::flat_hash_map<absl::string_view, size_t> names;
  for (size_t i = 0; i < config.routes.size(); ++i) {
    const std::string at = absl::StrCat("routes[", i, "]");
    if (absl::Status s = ValidateRoute(config.routes[i], at, pools); !s.ok()) {
      return s;
    }
    auto [it, inserted] = names.emplace(config.routes[i].name, i);
    if (!inserted) {
      return Bad(at + ".name", absl::StrCat("duplicate of routes[", it->second,
                                            "].name \"", config.routes[i].name, "\""));
    }
  }
  return absl::OkStatus();
}

std::string CanonicalForm(const RouteTableConfig& c) {
  std::string out = "locus.route.v1;";
  Put(&out, c.name);
  Put(&out, static_cast<int64_t>(c.routes.size()));
  for (const RouteConfig& r : c.routes) {
    Put(&out, r.name);
    Put(&out, r.match.host);
    Put(&out, static_cast<int64_t>(r.match.path.kind));
    Put(&out, r.match.path.value);
    Put(&out, static_cast<int64_t>(r.match.methods.size()));
    for (const std::string& m : r.match.methods) Put(&out, m);
    Put(&out, static_cast<int64_t>(r.match.headers.size()));
    for (const HeaderMatch& h : r.match.headers) {
      Put(&out, h.name);
      Put(&out, static_cast<int64_t>(h.kind));
      Put(&out, h.value);
    }
    const RouteAction& a = r.action;
    Put(&out, static_cast<int64_t>(a.clusters.size()));
    for (const WeightedCluster& w : a.clusters) {
      Put(&out, w.pool);
      Put(&out, w.weight);
    }
    Put(&out, a.timeout.nanos());
    Put(&out, a.idle_timeout.nanos());
    Put(&out, a.retry.retry_on_connect_failure);
    Put(&out, a.retry.retry_on_5xx);
    Put(&out, a.retry.num_retries);
    Put(&out, a.retry.per_try_timeout.nanos());
    Put(&out, a.retry.budget_percent);
    Put(&out, a.retry.min_retry_concurrency);
  }
  return out;
}

absl::string_view RoutingPath(absl::string_view target) {
  // A plain loop: find_first_of builds a lookup table on every call.
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == '?' || target[i] == '#') return target.substr(0, i);
  }
  return target;
}

CompiledRoute::CompiledRoute() = default;
CompiledRoute::~CompiledRoute() = default;
CompiledRoute::CompiledRoute(CompiledRoute&&) noexcept = default;

size_t CompiledRoute::PickCluster(uint64_t random) const {
  const uint64_t total = cumulative_weights_.back();
  const uint64_t r = static_cast<uint64_t>(
      (static_cast<unsigned __int128>(random) * total) >> 64);
  return std::upper_bound(cumulative_weights_.begin(), cumulative_weights_.end(), r) -
         cumulative_weights_.begin();
}

bool CompiledRoute::MatchesKey(absl::string_view host, Method method,
                               absl::string_view path) const {
  if (method_mask_ != 0 && (method_mask_ & MethodBit(method)) == 0) return false;
  if (!host_.Matches(host)) return false;
  switch (path_kind_) {
    case PathMatch::Kind::kPrefix:
      return path.size() >= path_.size() &&
             path.substr(0, path_.size()) == path_;
    case PathMatch::Kind::kExact:
      return path == path_;
    case PathMatch::Kind::kRegex:
      return re2::RE2::FullMatch(Piece(path), *path_regex_);
  }
  return false;
}

bool CompiledRoute::MatchesHeaders(absl::Span<const HeaderField> fields) const {
  // Every matcher must be satisfied by at least one field of that name.
  for (const Header& h : headers_) {
    bool satisfied = false;
    for (const HeaderField& f : fields) {
      if (!EqualsIgnoreCase(f.name, h.name)) continue;
      switch (h.kind) {
        case HeaderMatch::Kind::kPresent:
          satisfied = true;
          break;
        case HeaderMatch::Kind::kExact:
          satisfied = f.value == h.value;
          break;
        case HeaderMatch::Kind::kRegex:
          satisfied = re2::RE2::FullMatch(Piece(f.value), *h.regex);
          break;
      }
      if (satisfied) break;
    }
    if (!satisfied) return false;
  }
  return true;
}

size_t CompiledRouteTable::CaseInsensitiveHash::operator()(
    absl::string_view s) const {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a over lower-cased bytes
  for (char c : s) {
    h ^= static_cast<uint8_t>(AsciiLower(c));
    h *= 0x100000001b3ULL;
  }
  return static_cast<size_t>(h ^ (h >> 29));
}

absl::StatusOr<std::shared_ptr<const CompiledRouteTable>>
CompiledRouteTable::Compile(const RouteTableConfig& config,
                            const PoolNames& pools, uint64_t version) {
  if (absl::Status s = ValidateRouteTable(config, pools); !s.ok()) return s;
  std::shared_ptr<CompiledRouteTable> t(new CompiledRouteTable());
  t->name_ = config.name;
  t->version_ = version;
  t->canonical_ = CanonicalForm(config);
  t->fingerprint_ = lb::StableHash64(t->canonical_, 0);
  t->routes_.reserve(config.routes.size());
  for (const RouteConfig& rc : config.routes) {
    CompiledRoute r;
    r.name_ = rc.name;
    // Validated above: these cannot fail.
    (void)ParseHostPattern(rc.match.host, &r.host_);
    r.path_kind_ = rc.match.path.kind;
    if (r.path_kind_ == PathMatch::Kind::kRegex) {
      r.path_regex_ = std::make_unique<re2::RE2>(Piece(rc.match.path.value),
                                                 RegexOptions());
    } else {
      r.path_ = rc.match.path.value;
    }
    for (const std::string& m : rc.match.methods) {
      r.method_mask_ |= MethodBit(http::MethodFromText(m));
    }
    for (const HeaderMatch& h : rc.match.headers) {
      CompiledRoute::Header ch{h.name, h.kind, h.value, nullptr};
      if (h.kind == HeaderMatch::Kind::kRegex) {
        ch.regex = std::make_unique<re2::RE2>(Piece(h.value), RegexOptions());
      }
      r.headers_.push_back(std::move(ch));
    }
    t->any_header_matchers_ |= !r.headers_.empty();
    r.action_ = rc.action;
    uint64_t sum = 0;
    for (const WeightedCluster& c : rc.action.clusters) {
      sum += c.weight;
      r.cumulative_weights_.push_back(sum);
    }
    t->routes_.push_back(std::move(r));
  }
  // Host index. For each exact host named anywhere, the routes that can
  // match it, in declared order; every other host only ever needs the
  // wildcard and any-host routes.
  for (uint32_t i = 0; i < t->routes_.size(); ++i) {
    const HostPattern& h = t->routes_[i].host_;
    if (h.kind == HostPattern::Kind::kExact) {
      t->exact_candidates_.try_emplace(h.value);
    } else {
      t->other_candidates_.push_back(i);
    }
  }
  for (auto& [host, list] : t->exact_candidates_) {
    for (uint32_t i = 0; i < t->routes_.size(); ++i) {
      if (t->routes_[i].host_.Matches(host)) list.push_back(i);
    }
  }
  return std::shared_ptr<const CompiledRouteTable>(std::move(t));
}

MatchResult CompiledRouteTable::Match(const RouteRequest& request) const {
  const absl::string_view host = StripPort(request.host);
  const Method method = request.method;
  const absl::string_view path = RoutingPath(request.path);
  auto it = exact_candidates_.find(host);
  const std::vector<uint32_t>& candidates =
      it != exact_candidates_.end() ? it->second : other_candidates_;
  MatchResult result;
  for (uint32_t i : candidates) {
    const CompiledRoute& r = routes_[i];
    if (!r.MatchesKey(host, method, path)) continue;
    if (r.has_header_matchers()) {
      // From here on the answer depends on headers, match or not.
      result.cacheable = false;
      if (!r.MatchesHeaders(request.headers)) continue;
    }
    result.route = static_cast<int32_t>(i);
    return result;
  }
  return result;
}

}  // namespace locus::proxy::route
