// Cost of route lookups: a cache hit, a miss that matches, and matching
// without the cache, over a table of 200 routes (100 exact hosts, 50
// wildcard hosts, 50 any-host routes, some with regex paths).
//   bazel run -c opt //proxy/route:route_bench
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "proxy/route/route_cache.h"

namespace locus::proxy::route {
namespace {

std::shared_ptr<const CompiledRouteTable> BigTable() {
  RouteTableConfig c;
  c.name = "bench";
  for (int i = 0; i < 200; ++i) {
    RouteConfig r;
    r.name = "r" + std::to_string(i);
    if (i < 100) {
      r.match.host = "h" + std::to_string(i) + ".example.com";
    } else if (i < 150) {
      r.match.host = "*.d" + std::to_string(i) + ".example.net";
    }
    if (i % 10 == 3) {
      r.match.path = {PathMatch::Kind::kRegex, "/v[0-9]+/items/[0-9]+"};
    } else {
      r.match.path = {PathMatch::Kind::kPrefix, "/svc" + std::to_string(i % 7) + "/"};
    }
    r.action.clusters = {{"web", 1}};
    c.routes.push_back(r);
  }
  return *CompiledRouteTable::Compile(c, {"web"}, 1);
}

void BM_CacheHit(benchmark::State& state) {
  auto t = BigTable();
  auto cache = *RouteCache::Create(kDefaultRouteCacheCapacity, 1);
  const RouteRequest req{"H42.example.com:443", Method::kGet,
                         "/svc0/some/longer/path/for/hashing?q=1", {}};
  cache->Lookup(0, *t, req);
  for (auto _ : state) benchmark::DoNotOptimize(cache->Lookup(0, *t, req));
  state.counters["hits"] = static_cast<double>(cache->stats().hits);
}
BENCHMARK(BM_CacheHit);

void BM_MatchExactHostNoCache(benchmark::State& state) {
  auto t = BigTable();
  const RouteRequest req{"h42.example.com", Method::kGet, "/svc0/x", {}};
  for (auto _ : state) benchmark::DoNotOptimize(t->Match(req));
}
BENCHMARK(BM_MatchExactHostNoCache);

void BM_MatchUnknownHostRegexNoCache(benchmark::State& state) {
  auto t = BigTable();
  // Scans wildcard and any-host routes; falls through to a regex route.
  const RouteRequest req{"unknown.example.org", Method::kGet, "/v2/items/12345", {}};
  for (auto _ : state) benchmark::DoNotOptimize(t->Match(req));
}
BENCHMARK(BM_MatchUnknownHostRegexNoCache);

void BM_CacheMissAndFill(benchmark::State& state) {
  auto t = BigTable();
  auto cache = *RouteCache::Create(1024, 1);
  std::vector<std::string> paths;
  for (int i = 0; i < 4096; ++i) paths.push_back("/svc1/p" + std::to_string(i));
  size_t i = 0;
  for (auto _ : state) {
    // 4096 distinct keys through 1024 entries: every lookup misses/evicts.
    const RouteRequest req{"h7.example.com", Method::kGet, paths[i++ & 4095], {}};
    benchmark::DoNotOptimize(cache->Lookup(0, *t, req));
  }
}
BENCHMARK(BM_CacheMissAndFill);

}  // namespace
}  // namespace locus::proxy::route

BENCHMARK_MAIN();
