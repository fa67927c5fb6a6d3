// A route table as the control plane describes it. Plain structs; the
// protobuf mirrors them. Routes are tried in declared order and the first
// match wins.
#ifndef LOCUS_PROXY_ROUTE_CONFIG_H_
#define LOCUS_PROXY_ROUTE_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "stack/base/time.h"

namespace locus::proxy::route {

struct PathMatch {
  enum class Kind : uint8_t { kPrefix, kExact, kRegex };
  Kind kind = Kind::kPrefix;
  // kPrefix / kExact: compared byte for byte (case-sensitive) with the path
  // before any '?'. kRegex: RE2 syntax, must match that whole path.
  std::string value = "/";
  bool operator==(const PathMatch&) const = default;
};

struct HeaderMatch {
  enum class Kind : uint8_t { kExact, kPresent, kRegex };
  std::string name;  // case-insensitive
  Kind kind = Kind::kExact;
  std::string value;  // kExact: the value; kRegex: RE2, whole value
  bool operator==(const HeaderMatch&) const = default;
};

struct RouteMatch {
  // "" or "*": any host; "a.example.com": exact (case-insensitive);
  // "*.example.com": any subdomain of example.com at any depth, not
  // example.com itself (Envoy's rule).
  std::string host;
  PathMatch path;
  // Empty: any method. Names as in RFC 9110 §9.3 ("GET", "POST", ...).
  std::vector<std::string> methods;
  // All must match.
  std::vector<HeaderMatch> headers;
  bool operator==(const RouteMatch&) const = default;
};

struct WeightedCluster {
  std::string pool;
  uint32_t weight = 1;
  bool operator==(const WeightedCluster&) const = default;
};

struct RetryPolicy {
  // Retrying a connect failure is safe for any method: no byte of the
  // request reached a backend. A 5xx is retried only for idempotent
  // methods (RFC 9110 §9.2.2).
  bool retry_on_connect_failure = true;
  bool retry_on_5xx = false;
  uint32_t num_retries = 1;
  Duration per_try_timeout = Duration::Zero();  // zero: only the route timeout
  // Retries in flight per pool and core may be at most this share of the
  // active requests, but at least min_retry_concurrency (Envoy's budget).
  uint32_t budget_percent = 20;
  uint32_t min_retry_concurrency = 3;
  bool operator==(const RetryPolicy&) const = default;
};

struct RouteAction {
  std::vector<WeightedCluster> clusters;
  Duration timeout = Duration::Seconds(15);
  Duration idle_timeout = Duration::Seconds(300);
  RetryPolicy retry;
  bool operator==(const RouteAction&) const = default;
};

struct RouteConfig {
  std::string name;
  RouteMatch match;
  RouteAction action;
  bool operator==(const RouteConfig&) const = default;
};

struct RouteTableConfig {
  std::string name;
  std::vector<RouteConfig> routes;
  bool operator==(const RouteTableConfig&) const = default;
};

}  // namespace locus::proxy::route

#endif  // LOCUS_PROXY_ROUTE_CONFIG_H_
