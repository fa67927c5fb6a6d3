// Helpers shared by the route tests.
#ifndef LOCUS_PROXY_ROUTE_TEST_UTIL_H_
#define LOCUS_PROXY_ROUTE_TEST_UTIL_H_

#include <string>
#include <vector>

#include "proxy/route/config.h"
#include "proxy/route/route_table.h"

namespace locus::proxy::route::testing {

inline RouteConfig Route(std::string name, std::string host, std::string prefix,
                         std::string pool = "web") {
  RouteConfig r;
  r.name = std::move(name);
  r.match.host = std::move(host);
  r.match.path.kind = PathMatch::Kind::kPrefix;
  r.match.path.value = std::move(prefix);
  r.action.clusters = {{std::move(pool), 1}};
  return r;
}

inline RouteConfig WithHeader(RouteConfig r, std::string name,
                              HeaderMatch::Kind kind, std::string value = "") {
  r.match.headers.push_back({std::move(name), kind, std::move(value)});
  return r;
}

inline PoolNames Pools() { return {"web", "api", "static", "canary"}; }

inline RouteRequest Req(absl::string_view host, absl::string_view path,
                        absl::string_view method = "GET",
                        absl::Span<const HeaderField> headers = {}) {
  return RouteRequest{host, http::MethodFromText(std::string_view(method.data(), method.size())),
                      path, headers};
}

}  // namespace locus::proxy::route::testing

#endif  // LOCUS_PROXY_ROUTE_TEST_UTIL_H_
