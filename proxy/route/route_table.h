// A route table compiled into an immutable snapshot that every core reads
// without locks, and the first-match lookup over it.
//
// Lookup order equals declared order. To avoid testing every route, routes
// are indexed by host: an exact host known to the table has a precomputed
// list of candidate routes (its exact routes plus every wildcard and any-
// host route that matches it, in declared order); any other host scans only
// the wildcard and any-host routes. Both lists keep declared order, so the
// first match found is the first match of the full table.
//
// Regexes are RE2 (Debian's libre2-dev): linear-time matching whatever the
// pattern, so a route cannot be turned into a ReDoS vector; std::regex is
// backtracking, slow and allocates. RE2 objects are safe to share, but
// RE2's DFA cache takes an internal reader lock on each search and may
// allocate new DFA states in its first uses. To keep even that core-local
// the publisher can compile one copy per core (see publisher.h); the route
// cache means regexes run only on cache misses anyway.
#ifndef LOCUS_PROXY_ROUTE_ROUTE_TABLE_H_
#define LOCUS_PROXY_ROUTE_ROUTE_TABLE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "proxy/route/config.h"
#include "proxy/route/host.h"
#include "proxy/route/method.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace locus::proxy::route {

inline constexpr size_t kMaxRoutesPerTable = 10000;
inline constexpr size_t kMaxNameLength = 128;
inline constexpr size_t kMaxHeaderMatchersPerRoute = 16;
inline constexpr size_t kMaxClustersPerRoute = 64;
inline constexpr uint32_t kMaxClusterWeight = 1000000;
inline constexpr size_t kMaxRegexLength = 1024;
// RE2's measure of compiled size; bounds memory and DFA state growth.
inline constexpr int kMaxRegexProgramSize = 2000;
inline constexpr uint32_t kMaxRetries = 10;

using PoolNames = absl::flat_hash_set<std::string>;

// INVALID_ARGUMENT naming the first offending field, e.g.
// "routes[3].match.path.regex: missing ): (abc". Checks names (non-empty,
// unique, bounded), host patterns, paths, methods, header matchers, regexes
// (RE2 syntax and size), cluster weights (not all zero) and pool references
// (must be in `pools`), timeouts and retry settings.
absl::Status ValidateRouteTable(const RouteTableConfig& config,
                                const PoolNames& pools);

// A deterministic byte string covering every field of the config: equal
// strings mean structurally equal configs. Used to tell an identical push.
std::string CanonicalForm(const RouteTableConfig& config);

struct HeaderField {
  absl::string_view name;
  absl::string_view value;
};

// What routing looks at. The views must outlive the lookup only.
struct RouteRequest {
  absl::string_view host;    // Host / :authority, port allowed
  Method method;
  absl::string_view path;    // origin-form target; '?' and after are ignored
  absl::Span<const HeaderField> headers;
};

// The path that routes see: the target up to the first '?' or '#'.
absl::string_view RoutingPath(absl::string_view target);

class CompiledRoute {
 public:
  struct Header {
    std::string name;
    HeaderMatch::Kind kind;
    std::string value;
    std::unique_ptr<re2::RE2> regex;
  };

  const std::string& name() const { return name_; }
  const RouteAction& action() const { return action_; }
  const HostPattern& host() const { return host_; }
  bool has_header_matchers() const { return !headers_.empty(); }

  // Index into action().clusters, weighted, from a uniform 64-bit random.
  size_t PickCluster(uint64_t random) const;
  const std::string& PickPool(uint64_t random) const {
    return action_.clusters[PickCluster(random)].pool;
  }

  // Everything but headers; `host` has its port stripped.
  bool MatchesKey(absl::string_view host, Method method,
                  absl::string_view path) const;
  bool MatchesHeaders(absl::Span<const HeaderField> headers) const;

  CompiledRoute();
  ~CompiledRoute();
  CompiledRoute(CompiledRoute&&) noexcept;

 private:
  friend class CompiledRouteTable;
  std::string name_;
  HostPattern host_;
  PathMatch::Kind path_kind_ = PathMatch::Kind::kPrefix;
  std::string path_;
  std::unique_ptr<re2::RE2> path_regex_;
  uint16_t method_mask_ = 0;  // 0: any
  std::vector<Header> headers_;
  RouteAction action_;
  std::vector<uint64_t> cumulative_weights_;
};

struct MatchResult {
  static constexpr int32_t kNoRoute = -1;
  int32_t route = kNoRoute;
  // False when the result depends on request headers: some route whose
  // host, method and path matched had header conditions (whether or not
  // they held). Only results with cacheable == true may be cached by key.
  bool cacheable = true;
};

class CompiledRouteTable {
 public:
  // Validates, then compiles. `version` is the publisher's global version
  // (see publisher.h): it must differ between any two different tables
  // that a cache could see.
  static absl::StatusOr<std::shared_ptr<const CompiledRouteTable>> Compile(
      const RouteTableConfig& config, const PoolNames& pools,
      uint64_t version);

  MatchResult Match(const RouteRequest& request) const;

  const std::string& name() const { return name_; }
  uint64_t version() const { return version_; }
  // StableHash64 of canonical(): for display and quick comparison.
  uint64_t fingerprint() const { return fingerprint_; }
  const std::string& canonical() const { return canonical_; }
  // Structural equality of the configs the two were compiled from.
  bool IdenticalTo(const CompiledRouteTable& other) const {
    return fingerprint_ == other.fingerprint_ && canonical_ == other.canonical_;
  }

  size_t size() const { return routes_.size(); }
  const CompiledRoute& route(size_t i) const { return routes_[i]; }
  // True if any route has header matchers (cache statistics, tests).
  bool any_header_matchers() const { return any_header_matchers_; }

 private:
  CompiledRouteTable() = default;

  struct CaseInsensitiveHash {
    using is_transparent = void;
    size_t operator()(absl::string_view s) const;
  };
  struct CaseInsensitiveEq {
    using is_transparent = void;
    bool operator()(absl::string_view a, absl::string_view b) const {
      return EqualsIgnoreCase(a, b);
    }
  };

  std::string name_;
  uint64_t version_ = 0;
  uint64_t fingerprint_ = 0;
  std::string canonical_;
  std::vector<CompiledRoute> routes_;
  bool any_header_matchers_ = false;
  absl::flat_hash_map<std::string, std::vector<uint32_t>, CaseInsensitiveHash,
                      CaseInsensitiveEq>
      exact_candidates_;
  std::vector<uint32_t> other_candidates_;
};

}  // namespace locus::proxy::route

#endif  // LOCUS_PROXY_ROUTE_ROUTE_TABLE_H_
