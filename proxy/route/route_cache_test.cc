#include "proxy/route/route_cache.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proxy/route/publisher.h"
#include "proxy/route/test_util.h"

namespace locus::proxy::route {
namespace {

using testing::Pools;
using testing::Req;
using testing::Route;
using testing::WithHeader;

std::unique_ptr<RouteCache> NewCache(size_t capacity = kDefaultRouteCacheCapacity,
                                     uint64_t seed = 1) {
  auto c = RouteCache::Create(capacity, seed);
  EXPECT_TRUE(c.ok()) << c.status();
  return *std::move(c);
}

std::shared_ptr<const CompiledRouteTable> Compile(std::vector<RouteConfig> routes,
                                                  uint64_t version) {
  RouteTableConfig c;
  c.name = "t";
  c.routes = std::move(routes);
  auto t = CompiledRouteTable::Compile(c, Pools(), version);
  EXPECT_TRUE(t.ok()) << t.status();
  return *t;
}

TEST(RouteCacheTest, CapacityLimits) {
  EXPECT_TRUE(RouteCache::Create(1, 0).ok());
  EXPECT_TRUE(RouteCache::Create(kMaxRouteCacheCapacity, 0).ok());
  EXPECT_EQ(RouteCache::Create(kMaxRouteCacheCapacity + 1, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RouteCache::Create(0, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RouteCacheTest, MissThenHit) {
  auto t = Compile({Route("api", "", "/api/"), Route("all", "", "/")}, 1);
  auto cache = NewCache();
  RouteLookup a = cache->Lookup(0, *t, Req("h", "/api/x"));
  EXPECT_FALSE(a.from_cache);
  EXPECT_EQ(a.index, 0);
  ASSERT_NE(a.route, nullptr);
  EXPECT_EQ(a.route->name(), "api");
  RouteLookup b = cache->Lookup(0, *t, Req("h", "/api/x"));
  EXPECT_TRUE(b.from_cache);
  EXPECT_EQ(b.route, a.route);
  EXPECT_EQ(cache->stats().misses, 1u);
  EXPECT_EQ(cache->stats().hits, 1u);
  EXPECT_EQ(cache->size(), 1u);
}

TEST(RouteCacheTest, KeyIsListenerHostMethodAndPathBeforeQuery) {
  RouteConfig post = Route("post", "", "/");
  post.match.methods = {"POST"};
  auto t = Compile({post, Route("a", "a.com", "/"), Route("rest", "", "/")}, 1);
  auto cache = NewCache();
  EXPECT_EQ(cache->Lookup(0, *t, Req("a.com", "/x")).index, 1);
  // Same key modulo host case, port and query: hits.
  EXPECT_TRUE(cache->Lookup(0, *t, Req("A.COM:8080", "/x?q=1")).from_cache);
  // Each of listener, host, method and path is part of the key.
  RouteLookup other_listener = cache->Lookup(7, *t, Req("a.com", "/x"));
  EXPECT_FALSE(other_listener.from_cache);
  RouteLookup other_host = cache->Lookup(0, *t, Req("b.com", "/x"));
  EXPECT_FALSE(other_host.from_cache);
  EXPECT_EQ(other_host.index, 2);
  RouteLookup other_method = cache->Lookup(0, *t, Req("a.com", "/x", "POST"));
  EXPECT_FALSE(other_method.from_cache);
  EXPECT_EQ(other_method.index, 0);
  EXPECT_FALSE(cache->Lookup(0, *t, Req("a.com", "/X")).from_cache);
  EXPECT_EQ(cache->stats().hits, 1u);
  EXPECT_EQ(cache->stats().misses, 5u);
}

TEST(RouteCacheTest, NoRouteIsCachedToo) {
  auto t = Compile({Route("a", "a.com", "/")}, 1);
  auto cache = NewCache();
  EXPECT_EQ(cache->Lookup(0, *t, Req("b.com", "/")).route, nullptr);
  RouteLookup again = cache->Lookup(0, *t, Req("b.com", "/"));
  EXPECT_TRUE(again.from_cache);
  EXPECT_EQ(again.route, nullptr);
  EXPECT_EQ(again.index, MatchResult::kNoRoute);
}

// The gversion property: several cores, each with its own cache and its own
// copy of the table. After a route change every core answers from the new
// table on its very next lookup, and counts exactly one stale entry per key
// it had cached.
TEST(RouteCacheTest, RouteChangeTakesEffectOnNextLookupOnEveryCore) {
  constexpr size_t kCores = 4;
  VersionCounter versions;
  RouteTablePublisher publisher(&versions, kCores);
  RouteTableConfig v1;
  v1.name = "main";
  v1.routes = {Route("api", "", "/api/", "api"), Route("all", "", "/", "web")};
  auto r1 = publisher.Apply(v1, Pools());
  ASSERT_TRUE(r1.ok());
  std::vector<std::unique_ptr<RouteCache>> caches;
  std::vector<std::shared_ptr<const CompiledRouteTable>> current = r1->per_core;
  for (size_t core = 0; core < kCores; ++core) {
    caches.push_back(NewCache(64, core));
    for (int round = 0; round < 2; ++round) {
      RouteLookup l = caches[core]->Lookup(0, *current[core], Req("h", "/api/v1"));
      EXPECT_EQ(l.route->PickPool(0), "api");
      caches[core]->Lookup(0, *current[core], Req("h", "/img"));
    }
    EXPECT_EQ(caches[core]->stats().hits, 2u);
  }
  // The control plane sends /api/ to the canary pool.
  RouteTableConfig v2 = v1;
  v2.routes[0].action.clusters = {{"canary", 1}};
  auto r2 = publisher.Apply(v2, Pools());
  ASSERT_TRUE(r2.ok());
  ASSERT_TRUE(r2->changed);
  ASSERT_NE(r2->version, r1->version);
  current = r2->per_core;
  for (size_t core = 0; core < kCores; ++core) {
    RouteLookup l = caches[core]->Lookup(0, *current[core], Req("h", "/api/v1"));
    EXPECT_FALSE(l.from_cache);
    EXPECT_EQ(l.route->PickPool(0), "canary") << "core " << core;
    EXPECT_EQ(caches[core]->stats().stale, 1u);
    // Refilled at the new version: the next one hits.
    EXPECT_TRUE(caches[core]->Lookup(0, *current[core], Req("h", "/api/v1")).from_cache);
    EXPECT_EQ(caches[core]->stats().stale, 1u);
    // The other key is stale once too, then fresh.
    caches[core]->Lookup(0, *current[core], Req("h", "/img"));
    EXPECT_EQ(caches[core]->stats().stale, 2u);
    caches[core]->Lookup(0, *current[core], Req("h", "/img"));
    EXPECT_EQ(caches[core]->stats().stale, 2u);
    EXPECT_EQ(caches[core]->stats().hits, 4u);
  }
}

TEST(RouteCacheTest, IdenticalReapplyKeepsEntriesValid) {
  VersionCounter versions;
  RouteTablePublisher publisher(&versions, 1);
  RouteTableConfig cfg;
  cfg.name = "main";
  cfg.routes = {Route("all", "", "/")};
  auto r1 = publisher.Apply(cfg, Pools());
  ASSERT_TRUE(r1.ok());
  auto cache = NewCache();
  cache->Lookup(0, *r1->per_core[0], Req("h", "/"));
  auto r2 = publisher.Apply(cfg, Pools());
  ASSERT_TRUE(r2.ok());
  EXPECT_FALSE(r2->changed);
  EXPECT_EQ(r2->version, r1->version);
  EXPECT_TRUE(cache->Lookup(0, *r2->per_core[0], Req("h", "/")).from_cache);
  EXPECT_EQ(cache->stats().stale, 0u);
}

// A header route must never be served from the cache: not on a hit, not
// after a version change, not when a previously plain key becomes
// header-dependent.
TEST(RouteCacheTest, HeaderMatchingRoutesAreNeverServedFromCache) {
  auto t = Compile({WithHeader(Route("canary", "", "/app", "canary"), "x-canary",
                               HeaderMatch::Kind::kExact, "1"),
                    Route("default", "", "/")},
                   1);
  auto cache = NewCache();
  const HeaderField yes[] = {{"x-canary", "1"}};
  // Alternate requests with and without the header on the same key.
  for (int i = 0; i < 10; ++i) {
    RouteLookup with = cache->Lookup(0, *t, Req("h", "/app", "GET", yes));
    EXPECT_EQ(with.route->name(), "canary");
    EXPECT_FALSE(with.from_cache);
    RouteLookup without = cache->Lookup(0, *t, Req("h", "/app"));
    EXPECT_EQ(without.route->name(), "default");
    EXPECT_FALSE(without.from_cache);
  }
  EXPECT_EQ(cache->stats().hits, 0u);
  EXPECT_EQ(cache->stats().uncacheable, 20u);
  EXPECT_EQ(cache->size(), 0u);
  // Keys no header route can see still cache.
  cache->Lookup(0, *t, Req("h", "/other"));
  EXPECT_TRUE(cache->Lookup(0, *t, Req("h", "/other", "GET", yes)).from_cache);
}

TEST(RouteCacheTest, KeyThatBecomesHeaderDependentIsDroppedNotServed) {
  auto v1 = Compile({Route("default", "", "/")}, 1);
  auto cache = NewCache();
  const HeaderField yes[] = {{"x-canary", "1"}};
  cache->Lookup(0, *v1, Req("h", "/app"));
  ASSERT_TRUE(cache->Lookup(0, *v1, Req("h", "/app", "GET", yes)).from_cache);
  // v2 adds a header route in front.
  auto v2 = Compile({WithHeader(Route("canary", "", "/app", "canary"), "x-canary",
                                HeaderMatch::Kind::kExact, "1"),
                     Route("default", "", "/")},
                    2);
  RouteLookup l = cache->Lookup(0, *v2, Req("h", "/app", "GET", yes));
  EXPECT_EQ(l.route->name(), "canary");
  EXPECT_FALSE(l.from_cache);
  EXPECT_EQ(cache->stats().stale, 1u);
  EXPECT_EQ(cache->size(), 0u);
  EXPECT_EQ(cache->Lookup(0, *v2, Req("h", "/app")).route->name(), "default");
  EXPECT_EQ(cache->Lookup(0, *v2, Req("h", "/app", "GET", yes)).route->name(),
            "canary");
}

TEST(RouteCacheTest, ExactlyCapacityEntriesThenLeastRecentlyUsedIsEvicted) {
  constexpr size_t kCap = 8;
  auto t = Compile({Route("all", "", "/")}, 1);
  auto cache = NewCache(kCap);
  auto path = [](size_t i) { return "/p" + std::to_string(i); };
  for (size_t i = 0; i < kCap; ++i) cache->Lookup(0, *t, Req("h", path(i)));
  EXPECT_EQ(cache->size(), kCap);
  EXPECT_EQ(cache->stats().evictions, 0u);
  // At the limit: all present.
  for (size_t i = 0; i < kCap; ++i) {
    EXPECT_TRUE(cache->Lookup(0, *t, Req("h", path(i))).from_cache) << i;
  }
  // Touch 0 so that 1 is the least recently used, then add limit + 1.
  cache->Lookup(0, *t, Req("h", path(0)));
  cache->Lookup(0, *t, Req("h", path(kCap)));
  EXPECT_EQ(cache->size(), kCap);
  EXPECT_EQ(cache->stats().evictions, 1u);
  EXPECT_TRUE(cache->Lookup(0, *t, Req("h", path(0))).from_cache);
  EXPECT_TRUE(cache->Lookup(0, *t, Req("h", path(kCap))).from_cache);
  for (size_t i = 2; i < kCap; ++i) {
    EXPECT_TRUE(cache->Lookup(0, *t, Req("h", path(i))).from_cache) << i;
  }
  EXPECT_FALSE(cache->Lookup(0, *t, Req("h", path(1))).from_cache);
}

TEST(RouteCacheTest, KeyLengthAtLimitAndLimitPlusOne) {
  auto t = Compile({Route("all", "", "/")}, 1);
  auto cache = NewCache();
  const std::string host = "h.example.com";
  const std::string at = "/" + std::string(kMaxCachedKeyBytes - host.size() - 1, 'a');
  ASSERT_EQ(host.size() + at.size(), kMaxCachedKeyBytes);
  cache->Lookup(0, *t, Req(host, at));
  EXPECT_TRUE(cache->Lookup(0, *t, Req(host, at)).from_cache);
  const std::string over = at + "a";
  EXPECT_EQ(cache->Lookup(0, *t, Req(host, over)).index, 0);
  RouteLookup again = cache->Lookup(0, *t, Req(host, over));
  EXPECT_FALSE(again.from_cache);
  EXPECT_EQ(again.index, 0);
  EXPECT_EQ(cache->stats().too_long, 2u);
  // The port and query do not count towards the key.
  EXPECT_TRUE(cache->Lookup(0, *t, Req(host + ":443", at + "?x=1")).from_cache);
}

TEST(RouteCacheTest, EmptyRequestIsHandled) {
  auto t = Compile({Route("all", "", "/")}, 1);
  auto cache = NewCache();
  const RouteRequest empty{};  // null views: must not reach memcmp/memcpy
  EXPECT_EQ(cache->Lookup(0, *t, empty).index, MatchResult::kNoRoute);
  RouteLookup again = cache->Lookup(0, *t, empty);
  EXPECT_TRUE(again.from_cache);
  EXPECT_EQ(again.index, MatchResult::kNoRoute);
}

// Stress the open-addressing index: a tiny cache cycled through many keys
// with deletions (evictions and uncacheable drops) must always return the
// route a fresh match returns.
TEST(RouteCacheTest, ChurnAlwaysAgreesWithAFreshMatch) {
  std::vector<RouteConfig> routes;
  for (int i = 0; i < 20; ++i) {
    routes.push_back(Route("r" + std::to_string(i), "", "/" + std::to_string(i) + "/"));
  }
  routes.push_back(Route("rest", "", "/"));
  auto t = Compile(routes, 1);
  for (size_t cap : {1u, 2u, 3u, 16u}) {
    auto cache = NewCache(cap, cap);
    uint64_t x = 12345;
    for (int n = 0; n < 20000; ++n) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      const std::string path = "/" + std::to_string((x >> 33) % 25) + "/";
      const RouteRequest req = Req("h", path);
      ASSERT_EQ(cache->Lookup(0, *t, req).index, t->Match(req).route);
      ASSERT_LE(cache->size(), cap);
    }
    EXPECT_GT(cache->stats().hits, 0u);
    EXPECT_GT(cache->stats().evictions, 0u);
  }
}

}  // namespace
}  // namespace locus::proxy::route
