// The fast path must not allocate: count every operator new during route
// cache lookups (hits, misses, stale refills, evictions, header routes).
// Regex routes are left out: RE2 may grow its DFA cache on first use (see
// route_table.h).
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proxy/route/route_cache.h"
#include "proxy/route/test_util.h"

namespace {
long g_allocations = 0;
}  // namespace

void* operator new(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  std::abort();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace locus::proxy::route {
namespace {

using testing::Pools;
using testing::Req;
using testing::Route;
using testing::WithHeader;

TEST(NoAllocTest, LookupsDoNotAllocate) {
  RouteTableConfig c;
  c.name = "t";
  c.routes = {Route("a", "a.example.com", "/a/"), Route("w", "*.example.com", "/w/"),
              WithHeader(Route("h", "", "/h/"), "x-h", HeaderMatch::Kind::kPresent),
              Route("all", "", "/")};
  auto v1 = *CompiledRouteTable::Compile(c, Pools(), 1);
  auto v2 = *CompiledRouteTable::Compile(c, Pools(), 2);
  auto cache = *RouteCache::Create(8, 1);
  std::vector<std::string> paths;
  for (int i = 0; i < 32; ++i) {
    paths.push_back((i % 4 == 0 ? "/a/" : i % 4 == 1 ? "/w/" : i % 4 == 2 ? "/h/" : "/") +
                    std::to_string(i));
  }
  const HeaderField h[] = {{"X-H", "1"}};
  const char* hosts[] = {"a.example.com", "b.c.example.com:80", "other.org"};
  const long before = g_allocations;
  for (int round = 0; round < 4; ++round) {
    const CompiledRouteTable& t = round < 2 ? *v1 : *v2;
    for (size_t i = 0; i < paths.size(); ++i) {
      // Twice: the second is a hit (or a stale refill after the switch).
      for (int k = 0; k < 2; ++k) {
        RouteLookup l = cache->Lookup(0, t, Req(hosts[i % 3], paths[i], "GET", h));
        (void)l;
      }
    }
  }
  EXPECT_EQ(g_allocations, before);
  EXPECT_GT(cache->stats().hits, 0u);
  EXPECT_GT(cache->stats().uncacheable, 0u);
  EXPECT_GT(cache->stats().evictions, 0u);
}

}  // namespace
}  // namespace locus::proxy::route
