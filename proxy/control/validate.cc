#include "proxy/control/validate.h"

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "api/codec.h"
#include "api/secrets.h"
#include "proxy/tls/cert_util.h"
#include "proxy/tls/settings.h"
#include "proxy/tls/ticket_keys.h"
#include "re2/re2.h"

namespace locus::proxy::control {
namespace {

namespace v1 = api::v1;
using google::protobuf::Duration;

class Errors {
 public:
  void Add(absl::string_view path, absl::string_view what) {
    ++total_;
    if (lines_.size() < kMaxReportedErrors) {
      lines_.push_back(absl::StrCat(path, ": ", what));
    }
  }

  absl::Status ToStatus() const {
    if (total_ == 0) return absl::OkStatus();
    std::string message = absl::StrJoin(lines_, "\n");
    if (total_ > lines_.size()) {
      absl::StrAppend(&message, "\n... and ", total_ - lines_.size(),
                      " more problems");
    }
    return absl::InvalidArgumentError(message);
  }

 private:
  std::vector<std::string> lines_;
  size_t total_ = 0;
};

std::string Quote(absl::string_view s) { return absl::StrCat("\"", s, "\""); }

std::string Field(absl::string_view path, absl::string_view field) {
  return absl::StrCat(path, ".", field);
}

std::string Index(absl::string_view path, absl::string_view field, int i) {
  return absl::StrCat(path, ".", field, "[", i, "]");
}

bool IsZero(const Duration& d) { return d.seconds() == 0 && d.nanos() == 0; }

bool Less(const Duration& a, const Duration& b) {
  return a.seconds() != b.seconds() ? a.seconds() < b.seconds()
                                    : a.nanos() < b.nanos();
}

enum class DurationRule { kNonNegative, kPositive };

void CheckDuration(const Duration& d, absl::string_view path, DurationRule rule,
                   Errors* errors) {
  if (d.seconds() < 0 || d.nanos() < 0) {
    errors->Add(path, "must not be negative");
  } else if (d.nanos() > 999999999) {
    errors->Add(path, "nanos must be 0..999999999");
  } else if (d.seconds() > kMaxDurationSeconds) {
    errors->Add(path, absl::StrCat(api::FormatDuration(d), " is longer than ",
                                   kMaxDurationSeconds, "s (365 days)"));
  } else if (rule == DurationRule::kPositive && IsZero(d)) {
    errors->Add(path, "must be more than 0s");
  }
}

void CheckName(absl::string_view name, absl::string_view path, Errors* errors) {
  if (name.empty()) {
    errors->Add(path, "required");
  } else if (name.size() > kMaxNameLength) {
    errors->Add(path,
                absl::StrCat(Quote(name.substr(0, 20)), "... is ", name.size(),
                             " characters; at most ", kMaxNameLength));
  } else if (!IsDnsLabel(name)) {
    errors->Add(path,
                absl::StrCat(Quote(name),
                             " must be a DNS label: lower-case letters, digits "
                             "and '-', starting and ending with a letter or "
                             "digit"));
  }
}

void CheckPort(uint32_t port, absl::string_view path, Errors* errors) {
  if (port == 0) {
    errors->Add(path, "required: 1..65535");
  } else if (port > 65535) {
    errors->Add(path, absl::StrCat(port, " must be 1..65535"));
  }
}

bool IsTchar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view("!#$%&'*+-.^_`|~").find(c) !=
             absl::string_view::npos;
}

// RFC 9110 section 5.6.2 token: methods and header names.
bool IsToken(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTchar(c)) return false;
  }
  return true;
}

bool HasControlOrSpace(absl::string_view s) {
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

bool IsHostName(absl::string_view host) {
  if (host.empty() || host.size() > kMaxHostLength) return false;
  for (absl::string_view label : absl::StrSplit(host, '.')) {
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') {
        return false;
      }
    }
  }
  return true;
}

void CheckRegex(absl::string_view pattern, absl::string_view path,
                Errors* errors) {
  if (pattern.empty()) {
    errors->Add(path, "must not be empty");
    return;
  }
  if (pattern.size() > kMaxRegexLength) {
    errors->Add(path, absl::StrCat("is ", pattern.size(),
                                   " characters; at most ", kMaxRegexLength));
    return;
  }
  RE2::Options options;
  options.set_log_errors(false);
  RE2 re(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!re.ok()) {
    errors->Add(path, absl::StrCat("invalid RE2 regex: ", re.error()));
  } else if (re.ProgramSize() > kMaxRegexProgramSize) {
    errors->Add(
        path, absl::StrCat("regex too complex (program size ", re.ProgramSize(),
                           ", at most ", kMaxRegexProgramSize, ")"));
  }
}

void CheckPathValue(absl::string_view value, absl::string_view path,
                    Errors* errors) {
  if (value.empty() || value[0] != '/') {
    errors->Add(path, absl::StrCat(Quote(value), " must start with '/'"));
  } else if (value.size() > kMaxPathLength) {
    errors->Add(path,
                absl::StrCat("longer than ", kMaxPathLength, " characters"));
  } else if (HasControlOrSpace(value) ||
             value.find_first_of("?#") != absl::string_view::npos) {
    errors->Add(path, absl::StrCat(Quote(value),
                                   " must not contain spaces, control "
                                   "characters, '?' or '#'"));
  }
}

// ------------------------------------------------------------ listeners

void ValidateListener(const v1::Listener& l, const std::string& p,
                      Errors* errors) {
  CheckName(l.name(), Field(p, "name"), errors);
  uint32_t ip;
  if (!ParseIpv4(l.address(), &ip)) {
    errors->Add(
        Field(p, "address"),
        absl::StrCat(Quote(l.address()), " is not an IPv4 address (a.b.c.d)"));
  }
  CheckPort(l.port(), Field(p, "port"), errors);
  bool http = l.protocol() == v1::Listener::HTTP;
  bool tcp = l.protocol() == v1::Listener::TCP;
  if (!http && !tcp) {
    errors->Add(Field(p, "protocol"),
                absl::StrCat("unknown value ", l.protocol(), "; HTTP or TCP"));
  }
  if (http) {
    if (l.route_table().empty()) {
      errors->Add(Field(p, "route_table"), "required for HTTP listeners");
    }
    if (!l.pool().empty()) {
      errors->Add(Field(p, "pool"),
                  "only for TCP listeners (HTTP listeners use route_table)");
    }
  }
  if (tcp) {
    if (l.pool().empty()) {
      errors->Add(Field(p, "pool"), "required for TCP listeners");
    }
    if (!l.route_table().empty()) {
      errors->Add(Field(p, "route_table"),
                  "only for HTTP listeners (TCP listeners use pool)");
    }
  }
  const v1::ListenerLimits& limits = l.limits();
  std::string lp = Field(p, "limits");
  CheckDuration(limits.idle_timeout(), Field(lp, "idle_timeout"),
                DurationRule::kNonNegative, errors);
  CheckDuration(limits.header_timeout(), Field(lp, "header_timeout"),
                DurationRule::kNonNegative, errors);
  CheckDuration(limits.request_timeout(), Field(lp, "request_timeout"),
                DurationRule::kNonNegative, errors);
  if (tcp) {
    const char* kHttpOnly = "only for HTTP listeners";
    if (limits.has_header_timeout()) {
      errors->Add(Field(lp, "header_timeout"), kHttpOnly);
    }
    if (limits.has_request_timeout()) {
      errors->Add(Field(lp, "request_timeout"), kHttpOnly);
    }
    if (limits.max_request_header_bytes() != 0) {
      errors->Add(Field(lp, "max_request_header_bytes"), kHttpOnly);
    }
    if (limits.max_request_body_bytes() != 0) {
      errors->Add(Field(lp, "max_request_body_bytes"), kHttpOnly);
    }
  }
  if (http && (limits.max_request_header_bytes() < kMinRequestHeaderBytes ||
               limits.max_request_header_bytes() > kMaxRequestHeaderBytes)) {
    errors->Add(
        Field(lp, "max_request_header_bytes"),
        absl::StrCat(limits.max_request_header_bytes(), " must be ",
                     kMinRequestHeaderBytes, "..", kMaxRequestHeaderBytes));
  }
  if (!v1::Listener::ProxyProtocol_IsValid(l.proxy_protocol())) {
    errors->Add(
        Field(p, "proxy_protocol"),
        absl::StrCat("unknown value ", l.proxy_protocol(), "; NONE, V1 or V2"));
  }
  CheckDuration(l.drain_timeout(), Field(p, "drain_timeout"),
                DurationRule::kNonNegative, errors);
}

// True when `chain_pem` is in `previous`, inline or shared.
bool InService(const v1::Config* previous, const std::string& chain_pem) {
  if (previous == nullptr) return false;
  for (const v1::Listener& l : previous->listeners()) {
    for (const v1::Certificate& c : l.tls().certificates()) {
      if (c.cert_chain_pem() == chain_pem) return true;
    }
  }
  for (const v1::Certificate& c : previous->certificates()) {
    if (c.cert_chain_pem() == chain_pem) return true;
  }
  return false;
}

// The PEM checks every certificate gets, inline or shared; `cp` is its path.
// Problems name the field and never quote the key.
void ValidateCertificatePem(const v1::Certificate& c, const std::string& cp,
                            const ValidateOptions& options, Errors* errors) {
  if (c.cert_chain_pem().empty()) {
    errors->Add(Field(cp, "cert_chain_pem"), "required");
  }
  if (c.private_key_pem().empty()) {
    errors->Add(Field(cp, "private_key_pem"), "required");
  } else if (api::IsRedacted(c.private_key_pem())) {
    // Only an apply can swap a redacted key for the stored one; here (a
    // state file, a start-up config) there is nothing to swap it with.
    errors->Add(Field(cp, "private_key_pem"),
                "is a redacted key with no stored key to stand for; send the "
                "PEM");
    return;
  }
  if (c.cert_chain_pem().empty() || c.private_key_pem().empty()) return;
  const bool reject_time = options.reject_expired &&
                           !InService(options.previous, c.cert_chain_pem());
  tls::CertificateCheck check = tls::CheckCertificate(
      c.cert_chain_pem(), c.private_key_pem(), options.now,
      reject_time ? tls::TimeRule::kReject : tls::TimeRule::kWarn);
  auto field = [&](tls::CertField f) {
    return Field(cp, f == tls::CertField::kKey ? "private_key_pem"
                                               : "cert_chain_pem");
  };
  for (const tls::CertProblem& e : check.errors) {
    errors->Add(field(e.field), e.what);
  }
  if (options.warnings != nullptr) {
    for (const tls::CertProblem& w : check.warnings) {
      options.warnings->push_back(absl::StrCat(field(w.field), ": ", w.what));
    }
  }
}

// `shared`: the names of Config.certificates.
void ValidateListenerTls(const v1::Listener& l, const std::string& p,
                         const std::set<std::string>& shared,
                         const ValidateOptions& options, Errors* errors) {
  if (!l.has_tls()) return;
  const std::string tp = Field(p, "tls");
  if (l.protocol() != v1::Listener::HTTP) {
    errors->Add(tp, "only for HTTP listeners");
    return;
  }
  const v1::ListenerTls& t = l.tls();
  const int total = t.certificates_size() + t.certificate_refs_size();
  if (total == 0) {
    errors->Add(Field(tp, "certificates"),
                "at least one certificate is required (in certificates or "
                "certificate_refs)");
  }
  if (total > kMaxListenerCertificates) {
    errors->Add(Field(tp, "certificates"),
                absl::StrCat(total,
                             " certificates (inline and references); at most ",
                             kMaxListenerCertificates));
    return;
  }
  // Name -> path of its first use; inline names and references share it.
  std::map<std::string, std::string> names;
  for (int i = 0; i < t.certificates_size(); ++i) {
    const v1::Certificate& c = t.certificates(i);
    const std::string cp = Index(tp, "certificates", i);
    CheckName(c.name(), Field(cp, "name"), errors);
    if (!c.name().empty() && !names.emplace(c.name(), cp).second) {
      errors->Add(Field(cp, "name"),
                  absl::StrCat("duplicate certificate name ", Quote(c.name())));
    }
    ValidateCertificatePem(c, cp, options, errors);
  }
  for (int i = 0; i < t.certificate_refs_size(); ++i) {
    const std::string& ref = t.certificate_refs(i);
    const std::string rp = Index(tp, "certificate_refs", i);
    if (ref.empty()) {
      errors->Add(rp, "must name a certificate of certificates");
      continue;
    }
    if (!shared.contains(ref)) {
      errors->Add(rp, absl::StrCat("certificate ", Quote(ref),
                                   " does not exist in certificates"));
    }
    auto [it, inserted] = names.emplace(ref, rp);
    if (!inserted) {
      errors->Add(rp, absl::StrCat("duplicate certificate name ", Quote(ref),
                                   " (already at ", it->second, ")"));
    }
  }
  if (!t.default_certificate().empty() &&
      !names.contains(t.default_certificate())) {
    errors->Add(Field(tp, "default_certificate"),
                absl::StrCat(Quote(t.default_certificate()),
                             " is not the name of one of certificates or "
                             "certificate_refs"));
  }
  if (!v1::ListenerTls::Version_IsValid(t.min_version())) {
    errors->Add(Field(tp, "min_version"),
                absl::StrCat("unknown value ", t.min_version(), "; TLS1_2 or TLS1_3"));
  }
  if (absl::Status s = tls::CheckCipherList(t.cipher_list()); !s.ok()) {
    errors->Add(Field(tp, "cipher_list"), s.message());
  }
  if (absl::Status s = tls::CheckCiphersuites(t.ciphersuites()); !s.ok()) {
    errors->Add(Field(tp, "ciphersuites"), s.message());
  }
}

void ValidateListeners(const v1::Config& config, const ResourcePaths& paths,
                       const ValidateOptions& options, Errors* errors) {
  if (config.listeners_size() > kMaxListeners) {
    errors->Add("listeners",
                absl::StrCat(config.listeners_size(), " listeners; at most ",
                             kMaxListeners));
    return;
  }
  std::map<std::string, int> names;
  // port -> (address, index) of the listeners seen so far.
  std::map<uint32_t, std::vector<std::pair<uint32_t, int>>> ports;
  std::set<std::string> tables;
  std::map<std::string, const v1::BackendPool*> pools;
  for (const v1::RouteTable& t : config.route_tables()) tables.insert(t.name());
  for (const v1::BackendPool& p : config.pools()) pools[p.name()] = &p;
  std::set<std::string> shared;
  for (const v1::Certificate& c : config.certificates()) shared.insert(c.name());

  for (int i = 0; i < config.listeners_size(); ++i) {
    const v1::Listener& l = config.listeners(i);
    const std::string& p = paths.listeners[i];
    ValidateListener(l, p, errors);
    ValidateListenerTls(l, p, shared, options, errors);
    if (!l.name().empty()) {
      auto [it, inserted] = names.emplace(l.name(), i);
      if (!inserted) {
        errors->Add(Field(p, "name"),
                    absl::StrCat(Quote(l.name()), " is already used by ",
                                 paths.listeners[it->second]));
      }
    }
    uint32_t ip;
    if (ParseIpv4(l.address(), &ip) && l.port() >= 1 && l.port() <= 65535) {
      for (const auto& [other_ip, j] : ports[l.port()]) {
        if (other_ip == ip || other_ip == 0 || ip == 0) {
          const v1::Listener& other = config.listeners(j);
          errors->Add(
              Field(p, "port"),
              absl::StrCat(l.address(), ":", l.port(), " clashes with ",
                           paths.listeners[j], " (", Quote(other.name()),
                           " on ", other.address(), ":", other.port(), ")"));
          break;
        }
      }
      ports[l.port()].emplace_back(ip, i);
    }
    if (l.protocol() == v1::Listener::HTTP && !l.route_table().empty() &&
        !tables.count(l.route_table())) {
      errors->Add(Field(p, "route_table"),
                  absl::StrCat("route table ", Quote(l.route_table()),
                               " does not exist"));
    }
    if (l.protocol() == v1::Listener::TCP && !l.pool().empty()) {
      auto pool = pools.find(l.pool());
      if (pool == pools.end()) {
        errors->Add(Field(p, "pool"),
                    absl::StrCat("pool ", Quote(l.pool()), " does not exist"));
      } else if (pool->second->has_tls()) {
        errors->Add(Field(p, "pool"),
                    absl::StrCat("pool ", Quote(l.pool()), " has tls: ",
                                 kUpstreamTlsTcpNotImplemented));
      } else if (pool->second->hash_key().has_header()) {
        errors->Add(Field(p, "pool"),
                    absl::StrCat("pool ", Quote(l.pool()), " hashes on header ",
                                 Quote(pool->second->hash_key().header()),
                                 ", but TCP connections have no headers; set "
                                 "the pool's hash_key to client_ip"));
      }
    }
  }
}

// ---------------------------------------------------------- route tables

void ValidateHost(const std::string& host, const std::string& path,
                  Errors* errors) {
  if (host.empty()) return;
  absl::string_view name = host;
  if (absl::StartsWith(name, "*.")) name.remove_prefix(2);
  if (!IsHostName(name)) {
    errors->Add(path,
                absl::StrCat(Quote(host),
                             " must be a host name (\"api.example.com\"), "
                             "a wildcard (\"*.example.com\") or \"*\"; "
                             "no port"));
  }
}

void ValidateMatch(const v1::RouteMatch& m, const std::string& p,
                   Errors* errors) {
  ValidateHost(m.host(), Field(p, "host"), errors);
  switch (m.path_case()) {
    case v1::RouteMatch::kExact:
      CheckPathValue(m.exact(), Field(p, "exact"), errors);
      break;
    case v1::RouteMatch::kPrefix:
      CheckPathValue(m.prefix(), Field(p, "prefix"), errors);
      break;
    case v1::RouteMatch::kRegex:
      CheckRegex(m.regex(), Field(p, "regex"), errors);
      break;
    case v1::RouteMatch::PATH_NOT_SET:
      break;
  }
  if (m.methods_size() > kMaxMethods) {
    errors->Add(
        Field(p, "methods"),
        absl::StrCat(m.methods_size(), " methods; at most ", kMaxMethods));
  } else {
    std::set<std::string> seen;
    for (int i = 0; i < m.methods_size(); ++i) {
      if (!IsToken(m.methods(i))) {
        errors->Add(
            Index(p, "methods", i),
            absl::StrCat(Quote(m.methods(i)), " is not an HTTP method token"));
      } else if (!seen.insert(m.methods(i)).second) {
        errors->Add(Index(p, "methods", i),
                    absl::StrCat(Quote(m.methods(i)), " is listed twice"));
      }
    }
  }
  if (m.headers_size() > kMaxHeaderMatches) {
    errors->Add(Field(p, "headers"),
                absl::StrCat(m.headers_size(), " header matches; at most ",
                             kMaxHeaderMatches));
    return;
  }
  for (int i = 0; i < m.headers_size(); ++i) {
    const v1::HeaderMatch& h = m.headers(i);
    std::string hp = Index(p, "headers", i);
    if (h.name().empty()) {
      errors->Add(Field(hp, "name"), "required");
    } else if (!IsToken(h.name())) {
      errors->Add(Field(hp, "name"),
                  absl::StrCat(Quote(h.name()), " is not a header name"));
    }
    if (h.has_regex()) CheckRegex(h.regex(), Field(hp, "regex"), errors);
    if (h.has_exact()) {
      if (h.exact().size() > kMaxHeaderValueLength) {
        errors->Add(
            Field(hp, "exact"),
            absl::StrCat("longer than ", kMaxHeaderValueLength, " characters"));
      } else if (h.exact().find_first_of(std::string("\r\n\0", 3)) !=
                 std::string::npos) {
        errors->Add(Field(hp, "exact"), "must not contain CR, LF or NUL");
      }
    }
  }
}

void ValidateAction(const v1::RouteAction& a, const std::string& p,
                    const std::set<std::string>& pools, Errors* errors) {
  if (a.weighted_pools_size() == 0) {
    errors->Add(Field(p, "weighted_pools"), "required: at least one pool");
  } else if (a.weighted_pools_size() > kMaxWeightedPools) {
    errors->Add(Field(p, "weighted_pools"),
                absl::StrCat(a.weighted_pools_size(), " pools; at most ",
                             kMaxWeightedPools));
  } else {
    std::map<std::string, int> seen;
    uint64_t total = 0;
    for (int i = 0; i < a.weighted_pools_size(); ++i) {
      const v1::WeightedPool& wp = a.weighted_pools(i);
      std::string wpp = Index(p, "weighted_pools", i);
      total += wp.weight();
      if (wp.weight() > kMaxWeight) {
        errors->Add(Field(wpp, "weight"),
                    absl::StrCat(wp.weight(), " must be 0..", kMaxWeight));
      }
      if (wp.pool().empty()) {
        errors->Add(Field(wpp, "pool"), "required");
        continue;
      }
      if (!pools.count(wp.pool())) {
        errors->Add(Field(wpp, "pool"),
                    absl::StrCat("pool ", Quote(wp.pool()), " does not exist"));
      }
      auto [it, inserted] = seen.emplace(wp.pool(), i);
      if (!inserted) {
        errors->Add(Field(wpp, "pool"),
                    absl::StrCat(Quote(wp.pool()), " is already listed at ",
                                 Index(p, "weighted_pools", it->second)));
      }
    }
    if (total == 0) {
      errors->Add(Field(p, "weighted_pools"),
                  "every weight is 0: at least one pool must get traffic");
    }
  }
  CheckDuration(a.timeout(), Field(p, "timeout"), DurationRule::kNonNegative,
                errors);
  if (!a.has_retry()) return;
  const v1::RetryPolicy& r = a.retry();
  std::string rp = Field(p, "retry");
  std::set<int> seen;
  for (int i = 0; i < r.retry_on_size(); ++i) {
    int value = r.retry_on(i);
    if (value != v1::RetryPolicy::CONNECT_FAILURE &&
        value != v1::RetryPolicy::HTTP_5XX) {
      errors->Add(Index(rp, "retry_on", i),
                  absl::StrCat("unknown value ", value,
                               "; CONNECT_FAILURE or HTTP_5XX"));
    } else if (!seen.insert(value).second) {
      errors->Add(Index(rp, "retry_on", i),
                  absl::StrCat(v1::RetryPolicy::RetryOn_Name(r.retry_on(i)),
                               " is listed twice"));
    }
  }
  if (r.num_retries() > kMaxRetries) {
    errors->Add(Field(rp, "num_retries"),
                absl::StrCat(r.num_retries(), " must be 0..", kMaxRetries));
  }
  if (r.has_per_try_timeout()) {
    CheckDuration(r.per_try_timeout(), Field(rp, "per_try_timeout"),
                  DurationRule::kPositive, errors);
    if (!IsZero(a.timeout()) && Less(a.timeout(), r.per_try_timeout())) {
      errors->Add(Field(rp, "per_try_timeout"),
                  absl::StrCat(api::FormatDuration(r.per_try_timeout()),
                               " is longer than the route timeout ",
                               api::FormatDuration(a.timeout())));
    }
  }
  if (r.budget_percent() > 100) {
    errors->Add(Field(rp, "budget_percent"),
                absl::StrCat(r.budget_percent(), " must be 0..100"));
  }
}

void ValidateRouteTables(const v1::Config& config, const ResourcePaths& paths,
                         Errors* errors) {
  if (config.route_tables_size() > kMaxRouteTables) {
    errors->Add("route_tables",
                absl::StrCat(config.route_tables_size(),
                             " route tables; at most ", kMaxRouteTables));
    return;
  }
  std::set<std::string> pools;
  for (const v1::BackendPool& p : config.pools()) pools.insert(p.name());
  std::map<std::string, int> names;
  for (int t = 0; t < config.route_tables_size(); ++t) {
    const v1::RouteTable& table = config.route_tables(t);
    const std::string& p = paths.route_tables[t];
    CheckName(table.name(), Field(p, "name"), errors);
    if (!table.name().empty()) {
      auto [it, inserted] = names.emplace(table.name(), t);
      if (!inserted) {
        errors->Add(Field(p, "name"),
                    absl::StrCat(Quote(table.name()), " is already used by ",
                                 paths.route_tables[it->second]));
      }
    }
    if (table.routes_size() > kMaxRoutesPerTable) {
      errors->Add(Field(p, "routes"),
                  absl::StrCat(table.routes_size(), " routes; at most ",
                               kMaxRoutesPerTable));
      continue;
    }
    std::map<std::string, int> route_names;
    for (int i = 0; i < table.routes_size(); ++i) {
      const v1::Route& route = table.routes(i);
      std::string rp = Index(p, "routes", i);
      CheckName(route.name(), Field(rp, "name"), errors);
      if (!route.name().empty()) {
        auto [it, inserted] = route_names.emplace(route.name(), i);
        if (!inserted) {
          errors->Add(Field(rp, "name"),
                      absl::StrCat(Quote(route.name()), " is already used by ",
                                   Index(p, "routes", it->second)));
        }
      }
      ValidateMatch(route.match(), Field(rp, "match"), errors);
      ValidateAction(route.action(), Field(rp, "action"), pools, errors);
    }
  }
}

// ----------------------------------------------------------------- pools

void ValidateEndpoints(const v1::BackendPool& pool, const std::string& p,
                       Errors* errors) {
  std::map<std::pair<uint32_t, uint32_t>, int> seen;
  for (int i = 0; i < pool.endpoints_size(); ++i) {
    const v1::Endpoint& e = pool.endpoints(i);
    std::string ep = Index(p, "endpoints", i);
    uint32_t ip = 0;
    bool ip_ok = ParseIpv4(e.address(), &ip);
    if (e.address().empty()) {
      errors->Add(Field(ep, "address"), "required: an IPv4 address");
    } else if (!ip_ok) {
      errors->Add(Field(ep, "address"),
                  absl::StrCat(Quote(e.address()),
                               " is not an IPv4 address (a.b.c.d); the data "
                               "plane resolves no host names"));
    } else if (ip == 0 || ip == 0xffffffffu || (ip >> 28) == 0xe) {
      errors->Add(Field(ep, "address"),
                  absl::StrCat(e.address(),
                               " cannot be a backend (unspecified, broadcast "
                               "or multicast)"));
    }
    CheckPort(e.port(), Field(ep, "port"), errors);
    if (e.weight() > kMaxWeight) {
      errors->Add(Field(ep, "weight"),
                  absl::StrCat(e.weight(), " must be 0..", kMaxWeight));
    }
    if (ip_ok && e.port() != 0) {
      auto [it, inserted] = seen.emplace(std::make_pair(ip, e.port()), i);
      if (!inserted) {
        errors->Add(ep, absl::StrCat(e.address(), ":", e.port(),
                                     " is already listed at ",
                                     Index(p, "endpoints", it->second)));
      }
    }
  }
}

void ValidateHealthCheck(const v1::HealthCheck& hc, const std::string& p,
                         Errors* errors) {
  if (hc.has_http()) {
    const v1::HealthCheck::Http& http = hc.http();
    std::string hp = Field(p, "http");
    CheckPathValue(http.path(), Field(hp, "path"), errors);
    if (!http.host().empty() && (http.host().size() > kMaxHostLength ||
                                 HasControlOrSpace(http.host()))) {
      errors->Add(Field(hp, "host"),
                  absl::StrCat(Quote(http.host()),
                               " must be a Host header value without spaces"));
    }
    std::set<uint32_t> seen;
    for (int i = 0; i < http.expected_statuses_size(); ++i) {
      uint32_t status = http.expected_statuses(i);
      if (status < 100 || status > 599) {
        errors->Add(Index(hp, "expected_statuses", i),
                    absl::StrCat(status, " must be 100..599"));
      } else if (!seen.insert(status).second) {
        errors->Add(Index(hp, "expected_statuses", i),
                    absl::StrCat(status, " is listed twice"));
      }
    }
  }
  CheckDuration(hc.interval(), Field(p, "interval"), DurationRule::kPositive,
                errors);
  CheckDuration(hc.timeout(), Field(p, "timeout"), DurationRule::kPositive,
                errors);
  if (Less(hc.interval(), hc.timeout())) {
    errors->Add(Field(p, "timeout"),
                absl::StrCat(api::FormatDuration(hc.timeout()),
                             " is longer than interval ",
                             api::FormatDuration(hc.interval())));
  }
  if (hc.rise() > kMaxRiseFall) {
    errors->Add(Field(p, "rise"),
                absl::StrCat(hc.rise(), " must be 1..", kMaxRiseFall));
  }
  if (hc.fall() > kMaxRiseFall) {
    errors->Add(Field(p, "fall"),
                absl::StrCat(hc.fall(), " must be 1..", kMaxRiseFall));
  }
}

// BackendPool.tls. The bundle is parsed here so that a bad one fails the
// apply instead of every connection to the pool.
void ValidateUpstreamTls(const v1::BackendPool& pool, const std::string& p,
                         Errors* errors) {
  if (!pool.has_tls()) return;
  const std::string tp = Field(p, "tls");
  const v1::UpstreamTls& t = pool.tls();
  uint32_t ip = 0;
  if (!t.server_name().empty() &&
      (!IsHostName(t.server_name()) ||
       absl::AsciiStrToLower(t.server_name()) != t.server_name() ||
       ParseIpv4(t.server_name(), &ip))) {
    errors->Add(Field(tp, "server_name"),
                absl::StrCat(Quote(t.server_name()),
                             " is not a lower-case DNS name (IP addresses: "
                             "leave server_name empty)"));
  }
  if (absl::StatusOr<std::vector<tls::X509Ptr>> bundle =
          tls::ParseCaBundle(t.ca_bundle_pem());
      !bundle.ok()) {
    errors->Add(Field(tp, "ca_bundle_pem"), bundle.status().message());
  }
  if (!v1::ListenerTls::Version_IsValid(t.min_version())) {
    errors->Add(Field(tp, "min_version"),
                absl::StrCat("unknown value ", t.min_version()));
  }
  if (pool.has_health_check() && pool.health_check().has_http()) {
    errors->Add(Field(Field(p, "health_check"), "http"),
                kUpstreamTlsHealthCheckNotImplemented);
  }
}

void ValidatePool(const v1::BackendPool& pool, const std::string& p,
                  Errors* errors) {
  ValidateUpstreamTls(pool, p, errors);
  CheckName(pool.name(), Field(p, "name"), errors);
  if (pool.endpoints_size() > kMaxEndpointsPerPool) {
    errors->Add(Field(p, "endpoints"),
                absl::StrCat(pool.endpoints_size(), " endpoints; at most ",
                             kMaxEndpointsPerPool));
  } else {
    ValidateEndpoints(pool, p, errors);
  }
  if (!v1::BackendPool::LbPolicy_IsValid(pool.lb_policy()) ||
      pool.lb_policy() == v1::BackendPool::LB_POLICY_UNSPECIFIED) {
    errors->Add(Field(p, "lb_policy"),
                absl::StrCat("unknown value ", pool.lb_policy()));
  }
  bool maglev = pool.lb_policy() == v1::BackendPool::MAGLEV;
  bool hashing = maglev || pool.lb_policy() == v1::BackendPool::RING_HASH;
  if (pool.has_hash_key() && !hashing) {
    errors->Add(Field(p, "hash_key"), "only for MAGLEV and RING_HASH pools");
  } else if (hashing) {
    const v1::HashKey& key = pool.hash_key();
    if (key.has_client_ip() && !key.client_ip()) {
      errors->Add(Field(p, "hash_key.client_ip"),
                  "must be true when set (or set hash_key.header instead)");
    }
    if (key.has_header() && !IsToken(key.header())) {
      errors->Add(Field(p, "hash_key.header"),
                  absl::StrCat(Quote(key.header()), " is not a header name"));
    }
  }
  if (pool.has_maglev_table_size()) {
    uint32_t size = pool.maglev_table_size();
    std::string mp = Field(p, "maglev_table_size");
    if (!maglev) {
      errors->Add(mp, "only for MAGLEV pools");
    } else if (size < kMinMaglevTableSize || size > kMaxMaglevTableSize) {
      errors->Add(mp, absl::StrCat(size, " must be ", kMinMaglevTableSize, "..",
                                   kMaxMaglevTableSize));
    } else if (!IsPrime(size)) {
      errors->Add(mp, absl::StrCat(size, " must be a prime (e.g. 65537)"));
    } else if (size <= static_cast<uint32_t>(pool.endpoints_size())) {
      errors->Add(mp, absl::StrCat(size,
                                   " must be larger than the number of "
                                   "endpoints (",
                                   pool.endpoints_size(), ")"));
    }
  }
  if (pool.has_health_check()) {
    ValidateHealthCheck(pool.health_check(), Field(p, "health_check"), errors);
  }
  if (pool.has_outlier_detection()) {
    const v1::OutlierDetection& od = pool.outlier_detection();
    std::string op = Field(p, "outlier_detection");
    CheckDuration(od.base_ejection_time(), Field(op, "base_ejection_time"),
                  DurationRule::kPositive, errors);
    CheckDuration(od.max_ejection_time(), Field(op, "max_ejection_time"),
                  DurationRule::kPositive, errors);
    if (Less(od.max_ejection_time(), od.base_ejection_time())) {
      errors->Add(Field(op, "max_ejection_time"),
                  absl::StrCat(api::FormatDuration(od.max_ejection_time()),
                               " is shorter than base_ejection_time ",
                               api::FormatDuration(od.base_ejection_time())));
    }
    if (od.max_ejection_percent() > 100) {
      errors->Add(Field(op, "max_ejection_percent"),
                  absl::StrCat(od.max_ejection_percent(), " must be 0..100"));
    }
  }
  CheckDuration(pool.connect_timeout(), Field(p, "connect_timeout"),
                DurationRule::kPositive, errors);
  const v1::Keepalive& ka = pool.keepalive();
  if (ka.max_idle_per_core() > kMaxIdlePerCore) {
    errors->Add(
        Field(p, "keepalive.max_idle_per_core"),
        absl::StrCat(ka.max_idle_per_core(), " must be 0..", kMaxIdlePerCore));
  }
  CheckDuration(ka.idle_timeout(), Field(p, "keepalive.idle_timeout"),
                DurationRule::kPositive, errors);
}

void ValidatePools(const v1::Config& config, const ResourcePaths& paths,
                   Errors* errors) {
  if (config.pools_size() > kMaxPools) {
    errors->Add("pools", absl::StrCat(config.pools_size(), " pools; at most ",
                                      kMaxPools));
    return;
  }
  std::map<std::string, int> names;
  for (int i = 0; i < config.pools_size(); ++i) {
    const v1::BackendPool& pool = config.pools(i);
    const std::string& p = paths.pools[i];
    ValidatePool(pool, p, errors);
    if (!pool.name().empty()) {
      auto [it, inserted] = names.emplace(pool.name(), i);
      if (!inserted) {
        errors->Add(Field(p, "name"),
                    absl::StrCat(Quote(pool.name()), " is already used by ",
                                 paths.pools[it->second]));
      }
    }
  }
}

// ---------------------------------------------------- shared certificates

void ValidateSharedCertificates(const v1::Config& config,
                                const ResourcePaths& paths,
                                const ValidateOptions& options,
                                Errors* errors) {
  if (config.certificates_size() > kMaxSharedCertificates) {
    errors->Add("certificates",
                absl::StrCat(config.certificates_size(),
                             " certificates; at most ", kMaxSharedCertificates));
    return;
  }
  std::map<std::string, int> names;
  for (int i = 0; i < config.certificates_size(); ++i) {
    const v1::Certificate& c = config.certificates(i);
    const std::string& p = paths.certificates[i];
    CheckName(c.name(), Field(p, "name"), errors);
    if (!c.name().empty()) {
      auto [it, inserted] = names.emplace(c.name(), i);
      if (!inserted) {
        errors->Add(Field(p, "name"),
                    absl::StrCat(Quote(c.name()), " is already used by ",
                                 paths.certificates[it->second]));
      }
    }
    ValidateCertificatePem(c, p, options, errors);
  }
}

// Config.session_tickets. Errors name the key by index and never quote it.
void ValidateSessionTickets(const v1::Config& config, Errors* errors) {
  if (!config.has_session_tickets()) return;
  const v1::SessionTickets& st = config.session_tickets();
  const std::string sp = "session_tickets";
  if (st.keys_size() > static_cast<int>(tls::kMaxTicketKeys)) {
    errors->Add(Field(sp, "keys"), absl::StrCat(st.keys_size(),
                                                " keys; at most ",
                                                tls::kMaxTicketKeys));
  } else {
    std::vector<std::string> raw;
    bool decoded = true;
    for (int i = 0; i < st.keys_size(); ++i) {
      std::string bytes;
      if (!absl::Base64Unescape(st.keys(i), &bytes)) {
        errors->Add(Index(sp, "keys", i), "is not base64");
        decoded = false;
      }
      raw.push_back(std::move(bytes));
    }
    if (decoded) {
      if (absl::StatusOr<std::vector<tls::TicketKey>> keys =
              tls::ParseTicketKeys(raw);
          !keys.ok()) {
        // "key N: ..." from ParseTicketKeys; the path carries the index.
        errors->Add(Field(sp, "keys"), keys.status().message());
      }
    }
  }
  if (st.has_rotation_interval()) {
    const std::string rp = Field(sp, "rotation_interval");
    const Duration& d = st.rotation_interval();
    if (st.keys_size() > 0) {
      errors->Add(rp, "only for generated keys (leave it unset with keys)");
    } else if (d.seconds() < kMinTicketRotationSeconds ||
               d.seconds() > kMaxTicketRotationSeconds ||
               (d.seconds() == kMaxTicketRotationSeconds && d.nanos() != 0) ||
               d.nanos() < 0) {
      errors->Add(rp, absl::StrCat(api::FormatDuration(d), " must be ",
                                   kMinTicketRotationSeconds, "s..",
                                   kMaxTicketRotationSeconds, "s"));
    }
  }
}

}  // namespace

bool IsDnsLabel(absl::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (char c : name) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c)) &&
        !(c >= 'a' && c <= 'z') && c != '-') {
      return false;
    }
  }
  return name.front() != '-' && name.back() != '-';
}

bool ParseIpv4(absl::string_view text, uint32_t* address) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '.');
  if (parts.size() != 4) return false;
  uint32_t value = 0;
  for (absl::string_view part : parts) {
    // Decimal only: "010" would be octal to inet_aton, so it is refused.
    if (part.empty() || part.size() > 3 ||
        (part.size() > 1 && part[0] == '0')) {
      return false;
    }
    uint32_t octet = 0;
    for (char c : part) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
      octet = octet * 10 + static_cast<uint32_t>(c - '0');
    }
    if (octet > 255) return false;
    value = (value << 8) | octet;
  }
  *address = value;
  return true;
}

bool IsPrime(uint32_t n) {
  if (n < 2) return false;
  if (n % 2 == 0) return n == 2;
  for (uint32_t d = 3; static_cast<uint64_t>(d) * d <= n; d += 2) {
    if (n % d == 0) return false;
  }
  return true;
}

ResourcePaths IndexPaths(const v1::Config& config, absl::string_view prefix) {
  std::string base = prefix.empty() ? "" : absl::StrCat(prefix, ".");
  ResourcePaths paths;
  for (int i = 0; i < config.listeners_size(); ++i) {
    paths.listeners.push_back(absl::StrCat(base, "listeners[", i, "]"));
  }
  for (int i = 0; i < config.route_tables_size(); ++i) {
    paths.route_tables.push_back(absl::StrCat(base, "route_tables[", i, "]"));
  }
  for (int i = 0; i < config.pools_size(); ++i) {
    paths.pools.push_back(absl::StrCat(base, "pools[", i, "]"));
  }
  for (int i = 0; i < config.certificates_size(); ++i) {
    paths.certificates.push_back(absl::StrCat(base, "certificates[", i, "]"));
  }
  return paths;
}

absl::Status ValidateConfig(const v1::Config& config,
                            const ResourcePaths& paths,
                            const ValidateOptions& options) {
  if (paths.listeners.size() != static_cast<size_t>(config.listeners_size()) ||
      paths.route_tables.size() !=
          static_cast<size_t>(config.route_tables_size()) ||
      paths.pools.size() != static_cast<size_t>(config.pools_size()) ||
      paths.certificates.size() !=
          static_cast<size_t>(config.certificates_size())) {
    return absl::InternalError("ValidateConfig: paths do not match the config");
  }
  Errors errors;
  ValidateListeners(config, paths, options, &errors);
  ValidateRouteTables(config, paths, &errors);
  ValidatePools(config, paths, &errors);
  ValidateSharedCertificates(config, paths, options, &errors);
  ValidateSessionTickets(config, &errors);
  return errors.ToStatus();
}

std::vector<std::string> PoolReferrers(const v1::Config& config,
                                       absl::string_view name) {
  std::vector<std::string> out;
  for (const v1::Listener& l : config.listeners()) {
    if (l.protocol() == v1::Listener::TCP && l.pool() == name) {
      out.push_back(absl::StrCat("listener ", Quote(l.name())));
    }
  }
  for (const v1::RouteTable& t : config.route_tables()) {
    for (const v1::Route& r : t.routes()) {
      for (const v1::WeightedPool& wp : r.action().weighted_pools()) {
        if (wp.pool() == name) {
          out.push_back(absl::StrCat("route table ", Quote(t.name()), " route ",
                                     Quote(r.name())));
          break;
        }
      }
    }
  }
  return out;
}

std::vector<std::string> CertificateReferrers(const v1::Config& config,
                                              absl::string_view name) {
  std::vector<std::string> out;
  for (const v1::Listener& l : config.listeners()) {
    for (const std::string& ref : l.tls().certificate_refs()) {
      if (ref == name) {
        out.push_back(absl::StrCat("listener ", Quote(l.name())));
        break;
      }
    }
  }
  return out;
}

std::vector<std::string> RouteTableReferrers(const v1::Config& config,
                                             absl::string_view name) {
  std::vector<std::string> out;
  for (const v1::Listener& l : config.listeners()) {
    if (l.protocol() == v1::Listener::HTTP && l.route_table() == name) {
      out.push_back(absl::StrCat("listener ", Quote(l.name())));
    }
  }
  return out;
}

}  // namespace locus::proxy::control
