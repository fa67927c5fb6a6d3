#include "proxy/route/route_table.h"

#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proxy/lb/rng.h"
#include "re2/re2.h"
#include "proxy/route/test_util.h"

namespace locus::proxy::route {
namespace {

using testing::Pools;
using testing::Req;
using testing::Route;
using testing::WithHeader;

std::shared_ptr<const CompiledRouteTable> Compile(const RouteTableConfig& c,
                                                  uint64_t version = 1) {
  auto t = CompiledRouteTable::Compile(c, Pools(), version);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : nullptr;
}

int32_t MatchIndex(const CompiledRouteTable& t, const RouteRequest& r) {
  return t.Match(r).route;
}

void ExpectInvalid(const RouteTableConfig& c, const std::string& message) {
  absl::Status s = ValidateRouteTable(c, Pools());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(s.message().substr(0, message.size()), message) << s;
  // Compile refuses the same config.
  EXPECT_FALSE(CompiledRouteTable::Compile(c, Pools(), 1).ok());
}

RouteTableConfig Table(std::vector<RouteConfig> routes) {
  RouteTableConfig c;
  c.name = "main";
  c.routes = std::move(routes);
  return c;
}

// --- Validation -----------------------------------------------------------

TEST(RouteValidationTest, AcceptsAGoodTable) {
  RouteTableConfig c = Table({Route("a", "a.example.com", "/"),
                              Route("b", "*.example.com", "/api", "api"),
                              Route("c", "", "/")});
  c.routes[1].match.methods = {"GET", "POST"};
  EXPECT_TRUE(ValidateRouteTable(c, Pools()).ok());
  EXPECT_TRUE(ValidateRouteTable(Table({}), Pools()).ok());
}

TEST(RouteValidationTest, NamesEmptyDuplicateAndTooLong) {
  RouteTableConfig c = Table({Route("a", "", "/")});
  c.name = "";
  ExpectInvalid(c, "name: must not be empty");
  c = Table({Route("a", "", "/"), Route("", "", "/")});
  ExpectInvalid(c, "routes[1].name: must not be empty");
  c = Table({Route("a", "", "/"), Route("b", "", "/"), Route("a", "", "/x")});
  ExpectInvalid(c, "routes[2].name: duplicate of routes[0].name \"a\"");
  c = Table({Route(std::string(kMaxNameLength, 'r'), "", "/")});
  EXPECT_TRUE(ValidateRouteTable(c, Pools()).ok());
  c = Table({Route(std::string(kMaxNameLength + 1, 'r'), "", "/")});
  ExpectInvalid(c, "routes[0].name: longer than");
}

TEST(RouteValidationTest, BadRegexNamesTheFieldAndRe2sReason) {
  RouteTableConfig c = Table({Route("a", "", "/"), Route("b", "", "/"),
                              Route("c", "", "/"), Route("d", "", "/")});
  c.routes[3].match.path = {PathMatch::Kind::kRegex, "/(abc"};
  ExpectInvalid(c, "routes[3].match.path.regex: missing ): /(abc");
  c.routes[3].match.path = {PathMatch::Kind::kRegex, ""};
  ExpectInvalid(c, "routes[3].match.path.regex: must not be empty");
  c.routes[3].match.path = {PathMatch::Kind::kRegex, "/x"};
  c.routes[3] = WithHeader(c.routes[3], "x-v", HeaderMatch::Kind::kRegex, "[z-a]");
  ExpectInvalid(c, "routes[3].match.headers[0].regex: invalid character class range");
}

TEST(RouteValidationTest, RegexLimits) {
  RouteTableConfig c = Table({Route("a", "", "/")});
  // Exactly kMaxRegexLength bytes with a tiny program: empty groups
  // compile to nothing.
  std::string at_limit = "/";
  while (at_limit.size() + 4 <= kMaxRegexLength - 3) at_limit += "(?:)";
  at_limit += std::string(kMaxRegexLength - at_limit.size(), 'x');
  ASSERT_EQ(at_limit.size(), kMaxRegexLength);
  c.routes[0].match.path = {PathMatch::Kind::kRegex, at_limit};
  EXPECT_TRUE(ValidateRouteTable(c, Pools()).ok())
      << ValidateRouteTable(c, Pools());
  c.routes[0].match.path.value = at_limit + "x";
  ExpectInvalid(c, "routes[0].match.path.regex: longer than 1024 bytes");
  // Program size: a counted repetition blows up the compiled program.
  c.routes[0].match.path.value = "/(a|b|c|d){1000}";
  ExpectInvalid(c, "routes[0].match.path.regex: compiled program size");
  c.routes[0].match.path.value = "/a{10}";
  EXPECT_TRUE(ValidateRouteTable(c, Pools()).ok());
}

TEST(RouteValidationTest, RegexProgramSizeAtLimitAndLimitPlusOne) {
  // Find "/a{1000}b{k}" whose RE2 program is exactly at the limit.
  auto pattern = [](int k) {
    return "/a{1000}b{" + std::to_string(k) + "}";
  };
  int at = -1;
  for (int k = 1; k <= 1000 && at < 0; ++k) {
    if (re2::RE2(pattern(k)).ProgramSize() == kMaxRegexProgramSize) at = k;
  }
  ASSERT_GT(at, 0) << "no k gives program size " << kMaxRegexProgramSize;
  ASSERT_EQ(re2::RE2(pattern(at + 1)).ProgramSize(), kMaxRegexProgramSize + 1);
  RouteTableConfig c = Table({Route("a", "", "/")});
  c.routes[0].match.path = {PathMatch::Kind::kRegex, pattern(at)};
  EXPECT_TRUE(ValidateRouteTable(c, Pools()).ok()) << ValidateRouteTable(c, Pools());
  c.routes[0].match.path.value = pattern(at + 1);
  ExpectInvalid(c, "routes[0].match.path.regex: compiled program size 2001 exceeds 2000");
}

TEST(RouteValidationTest, WeightsAndPools) {
  RouteTableConfig c = Table({Route("a", "", "/")});
  c.routes[0].action.clusters = {{"web", 0}, {"api", 0}};
  ExpectInvalid(c, "routes[0].action.clusters: all weights are zero");
  c.routes[0].action.clusters = {{"web", 0}, {"api", 1}};
  EXPECT_TRUE(ValidateRouteTable(c, Pools()).ok());
  c.routes[0].action.clusters = {{"web", 1}, {"nosuch", 1}};
  ExpectInvalid(c, "routes[0].action.clusters[1].pool: unknown pool \"nosuch\"");
  c.routes[0].action.clusters = {};
  ExpectInvalid(c, "routes[0].action.clusters: must not be empty");
  c.routes[0].action.clusters = {{"web", kMaxClusterWeight}};
  EXPECT_TRUE(ValidateRouteTable(c, Pools()).ok());
  c.routes[0].action.clusters = {{"web", kMaxClusterWeight + 1}};
  ExpectInvalid(c, "routes[0].action.clusters[0].weight:");
  c.routes[0].action.clusters.assign(kMaxClustersPerRoute, {"web", 1});
  EXPECT_TRUE(ValidateRouteTable(c, Pools()).ok());
  c.routes[0].action.clusters.push_back({"web", 1});
  ExpectInvalid(c, "routes[0].action.clusters: more than 64");
}

TEST(RouteValidationTest, HostPatterns) {
  RouteTableConfig c = Table({Route("a", "", "/"), Route("b", "a.*.com", "/")});
  ExpectInvalid(c, "routes[1].match.host: '*' is only allowed");
  c.routes[1].match.host = "a..com";
  ExpectInvalid(c, "routes[1].match.host: empty label");
}

TEST(RouteValidationTest, PathsMethodsHeaders) {
  RouteTableConfig c = Table({Route("a", "", "api")});
  ExpectInvalid(c, "routes[0].match.path.prefix: must start with '/'");
  c.routes[0].match.path = {PathMatch::Kind::kExact, "/a?b"};
  ExpectInvalid(c, "routes[0].match.path.exact:");
  c = Table({Route("a", "", "/")});
  c.routes[0].match.methods = {"GET", "get"};
  ExpectInvalid(c, "routes[0].match.methods[1]: unknown method \"get\"");
  c = Table({WithHeader(Route("a", "", "/"), "bad name", HeaderMatch::Kind::kPresent)});
  ExpectInvalid(c, "routes[0].match.headers[0].name:");
  c = Table({Route("a", "", "/")});
  for (size_t i = 0; i < kMaxHeaderMatchersPerRoute; ++i) {
    c.routes[0] = WithHeader(c.routes[0], "x-h", HeaderMatch::Kind::kPresent);
  }
  EXPECT_TRUE(ValidateRouteTable(c, Pools()).ok());
  c.routes[0] = WithHeader(c.routes[0], "x-h", HeaderMatch::Kind::kPresent);
  ExpectInvalid(c, "routes[0].match.headers: more than 16");
}

TEST(RouteValidationTest, TimeoutsAndRetries) {
  RouteTableConfig c = Table({Route("a", "", "/")});
  c.routes[0].action.timeout = Duration::Zero();
  ExpectInvalid(c, "routes[0].action.timeout:");
  c = Table({Route("a", "", "/")});
  c.routes[0].action.retry.num_retries = kMaxRetries;
  EXPECT_TRUE(ValidateRouteTable(c, Pools()).ok());
  c.routes[0].action.retry.num_retries = kMaxRetries + 1;
  ExpectInvalid(c, "routes[0].action.retry.num_retries:");
  c = Table({Route("a", "", "/")});
  c.routes[0].action.retry.per_try_timeout = c.routes[0].action.timeout;
  EXPECT_TRUE(ValidateRouteTable(c, Pools()).ok());
  c.routes[0].action.retry.per_try_timeout += Duration::Nanos(1);
  ExpectInvalid(c, "routes[0].action.retry.per_try_timeout:");
  c = Table({Route("a", "", "/")});
  c.routes[0].action.retry.budget_percent = 101;
  ExpectInvalid(c, "routes[0].action.retry.budget_percent:");
}

TEST(RouteValidationTest, RouteCountLimit) {
  RouteTableConfig c;
  c.name = "big";
  for (size_t i = 0; i < kMaxRoutesPerTable; ++i) {
    c.routes.push_back(Route("r" + std::to_string(i), "", "/"));
  }
  EXPECT_TRUE(ValidateRouteTable(c, Pools()).ok());
  c.routes.push_back(Route("one-more", "", "/"));
  ExpectInvalid(c, "routes: more than 10000 routes");
}

// --- Matching -------------------------------------------------------------

TEST(RouteMatchTest, FirstMatchInDeclaredOrderWins) {
  auto t = Compile(Table({Route("api", "", "/api/"), Route("all", "", "/"),
                          Route("never", "", "/api/v2")}));
  EXPECT_EQ(MatchIndex(*t, Req("h", "/api/v2/x")), 0);
  EXPECT_EQ(MatchIndex(*t, Req("h", "/apix")), 1);
  EXPECT_EQ(MatchIndex(*t, Req("h", "/")), 1);
}

TEST(RouteMatchTest, WildcardBeforeExactWinsIfDeclaredFirst) {
  auto t = Compile(Table({Route("wild", "*.example.com", "/"),
                          Route("exact", "a.example.com", "/")}));
  EXPECT_EQ(MatchIndex(*t, Req("a.example.com", "/")), 0);
  auto u = Compile(Table({Route("exact", "a.example.com", "/"),
                          Route("wild", "*.example.com", "/")}));
  EXPECT_EQ(MatchIndex(*u, Req("a.example.com", "/")), 0);
  EXPECT_EQ(MatchIndex(*u, Req("b.example.com", "/")), 1);
  EXPECT_EQ(MatchIndex(*u, Req("x.y.example.com", "/")), 1);
  EXPECT_EQ(MatchIndex(*u, Req("example.com", "/")), MatchResult::kNoRoute);
}

TEST(RouteMatchTest, HostIgnoresCaseAndPort) {
  auto t = Compile(Table({Route("a", "a.example.com", "/")}));
  EXPECT_EQ(MatchIndex(*t, Req("A.Example.COM:8443", "/")), 0);
  EXPECT_EQ(MatchIndex(*t, Req("a.example.com.", "/")), MatchResult::kNoRoute);
}

TEST(RouteMatchTest, PathKinds) {
  RouteTableConfig c = Table({Route("exact", "", "/"), Route("regex", "", "/"),
                              Route("prefix", "", "/static/")});
  c.routes[0].match.path = {PathMatch::Kind::kExact, "/login"};
  c.routes[1].match.path = {PathMatch::Kind::kRegex, "/users/[0-9]+/profile"};
  auto t = Compile(c);
  EXPECT_EQ(MatchIndex(*t, Req("h", "/login")), 0);
  EXPECT_EQ(MatchIndex(*t, Req("h", "/login?next=/x")), 0);  // query ignored
  EXPECT_EQ(MatchIndex(*t, Req("h", "/login/")), MatchResult::kNoRoute);
  EXPECT_EQ(MatchIndex(*t, Req("h", "/Login")), MatchResult::kNoRoute);  // case
  EXPECT_EQ(MatchIndex(*t, Req("h", "/users/42/profile")), 1);
  EXPECT_EQ(MatchIndex(*t, Req("h", "/users/42/profile/x")), MatchResult::kNoRoute);
  EXPECT_EQ(MatchIndex(*t, Req("h", "/x/users/42/profile")), MatchResult::kNoRoute);
  EXPECT_EQ(MatchIndex(*t, Req("h", "/static/a.css#frag")), 2);
}

TEST(RouteMatchTest, Methods) {
  RouteTableConfig c = Table({Route("writes", "", "/"), Route("rest", "", "/")});
  c.routes[0].match.methods = {"POST", "PUT"};
  auto t = Compile(c);
  EXPECT_EQ(MatchIndex(*t, Req("h", "/", "POST")), 0);
  EXPECT_EQ(MatchIndex(*t, Req("h", "/", "PUT")), 0);
  EXPECT_EQ(MatchIndex(*t, Req("h", "/", "GET")), 1);
  EXPECT_EQ(MatchIndex(*t, Req("h", "/", "post")), 1);
  EXPECT_EQ(MatchIndex(*t, Req("h", "/", "PROPFIND")), 1);
}

TEST(RouteMatchTest, HeadersAndCacheability) {
  RouteTableConfig c = Table({
      Route("plain-before", "", "/static/"),
      WithHeader(Route("canary", "", "/", "canary"), "X-Canary",
                 HeaderMatch::Kind::kExact, "1"),
      WithHeader(Route("mobile", "", "/", "api"), "user-agent",
                 HeaderMatch::Kind::kRegex, ".*Mobile.*"),
      WithHeader(Route("traced", "", "/", "api"), "x-trace",
                 HeaderMatch::Kind::kPresent),
      Route("default", "", "/"),
  });
  auto t = Compile(c);
  ASSERT_TRUE(t->any_header_matchers());
  const HeaderField canary[] = {{"x-canary", "1"}};
  const HeaderField not_canary[] = {{"X-CANARY", "0"}};
  const HeaderField mobile[] = {{"User-Agent", "Foo Mobile Safari"}};
  const HeaderField two[] = {{"x-canary", "0"}, {"x-canary", "1"}};
  const HeaderField traced[] = {{"X-Trace", ""}};

  MatchResult m = t->Match(Req("h", "/static/x"));
  EXPECT_EQ(m.route, 0);
  EXPECT_TRUE(m.cacheable);  // decided before any header route
  m = t->Match(Req("h", "/x", "GET", canary));
  EXPECT_EQ(m.route, 1);
  EXPECT_FALSE(m.cacheable);
  EXPECT_EQ(MatchIndex(*t, Req("h", "/x", "GET", not_canary)), 4);
  EXPECT_EQ(MatchIndex(*t, Req("h", "/x", "GET", mobile)), 2);
  EXPECT_EQ(MatchIndex(*t, Req("h", "/x", "GET", two)), 1);  // any field counts
  EXPECT_EQ(MatchIndex(*t, Req("h", "/x", "GET", traced)), 3);
  m = t->Match(Req("h", "/x"));
  EXPECT_EQ(m.route, 4);
  EXPECT_FALSE(m.cacheable);  // header routes were passed over
}

TEST(RouteMatchTest, HeaderRouteOnAnotherHostDoesNotSpoilCacheability) {
  RouteTableConfig c = Table({
      WithHeader(Route("canary", "canary.example.com", "/", "canary"), "x-canary",
                 HeaderMatch::Kind::kPresent),
      Route("default", "", "/"),
  });
  auto t = Compile(c);
  MatchResult m = t->Match(Req("www.example.com", "/"));
  EXPECT_EQ(m.route, 1);
  EXPECT_TRUE(m.cacheable);
  m = t->Match(Req("canary.example.com", "/"));
  EXPECT_EQ(m.route, 1);
  EXPECT_FALSE(m.cacheable);
}

TEST(RouteMatchTest, NoRoute) {
  auto t = Compile(Table({Route("a", "a.example.com", "/")}));
  MatchResult m = t->Match(Req("b.example.com", "/"));
  EXPECT_EQ(m.route, MatchResult::kNoRoute);
  EXPECT_TRUE(m.cacheable);
  auto empty = Compile(Table({}));
  EXPECT_EQ(MatchIndex(*empty, Req("x", "/")), MatchResult::kNoRoute);
}

// The host index must never change the answer: compare with a plain scan
// of every route over random requests.
TEST(RouteMatchTest, IndexedLookupEqualsLinearFirstMatch) {
  const std::vector<std::string> hosts = {"a.example.com", "b.example.com",
                                          "x.a.example.com", "example.com",
                                          "other.org", "A.EXAMPLE.COM:80"};
  const std::vector<std::string> patterns = {"a.example.com", "*.example.com",
                                             "", "*.a.example.com", "other.org",
                                             "b.example.com"};
  const std::vector<std::string> paths = {"/", "/api/", "/api/v1", "/s/"};
  lb::Rng rng(5);
  RouteTableConfig c;
  c.name = "rand";
  for (int i = 0; i < 60; ++i) {
    RouteConfig r = Route("r" + std::to_string(i), patterns[rng.Uniform(patterns.size())],
                          paths[rng.Uniform(paths.size())]);
    if (rng.Uniform(4) == 0) r.match.methods = {"POST"};
    if (rng.Uniform(5) == 0) r = WithHeader(r, "x-k", HeaderMatch::Kind::kPresent);
    c.routes.push_back(r);
  }
  auto t = Compile(c);
  const HeaderField hk[] = {{"x-k", "v"}};
  for (int n = 0; n < 5000; ++n) {
    const std::string& host = hosts[rng.Uniform(hosts.size())];
    const std::string path = paths[rng.Uniform(paths.size())] + "z";
    const char* method = rng.Uniform(2) ? "GET" : "POST";
    absl::Span<const HeaderField> headers;
    if (rng.Uniform(2)) headers = hk;
    const RouteRequest req = Req(host, path, method, headers);
    int32_t linear = MatchResult::kNoRoute;
    for (size_t i = 0; i < t->size(); ++i) {
      if (t->route(i).MatchesKey(StripPort(host), http::MethodFromText(method),
                                 RoutingPath(path)) &&
          t->route(i).MatchesHeaders(headers)) {
        linear = static_cast<int32_t>(i);
        break;
      }
    }
    ASSERT_EQ(t->Match(req).route, linear) << host << " " << path << " " << method;
  }
}

TEST(RouteMatchTest, WeightedSplitFollowsWeights) {
  RouteTableConfig c = Table({Route("split", "", "/")});
  c.routes[0].action.clusters = {{"web", 90}, {"canary", 10}, {"api", 0}};
  auto t = Compile(c);
  const CompiledRoute& r = t->route(0);
  lb::Rng rng(3);
  int canary = 0;
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; ++i) {
    const size_t k = r.PickCluster(rng.Next());
    ASSERT_NE(k, 2u);  // weight 0 is never chosen
    canary += k == 1;
  }
  EXPECT_NEAR(canary, kDraws / 10, 5 * std::sqrt(kDraws * 0.1 * 0.9));
  // Boundaries of the random range.
  EXPECT_EQ(r.PickPool(0), "web");
  EXPECT_EQ(r.PickPool(UINT64_MAX), "canary");
}

TEST(RouteTableTest, FingerprintAndIdentity) {
  RouteTableConfig c = Table({Route("a", "", "/"), Route("b", "x.com", "/b")});
  auto t1 = Compile(c, 1);
  auto t2 = Compile(c, 2);
  EXPECT_TRUE(t1->IdenticalTo(*t2));
  EXPECT_EQ(t1->fingerprint(), t2->fingerprint());
  RouteTableConfig d = c;
  d.routes[1].action.timeout += Duration::Millis(1);
  auto t3 = Compile(d, 3);
  EXPECT_FALSE(t1->IdenticalTo(*t3));
  EXPECT_NE(t1->fingerprint(), t3->fingerprint());
  // Field boundaries are unambiguous: moving a byte between fields differs.
  RouteTableConfig e = Table({Route("ab", "", "/"), Route("b", "x.com", "/b")});
  RouteTableConfig f = Table({Route("a", "", "/"), Route("bb", "x.com", "/b")});
  EXPECT_NE(CanonicalForm(e), CanonicalForm(f));
  EXPECT_EQ(CanonicalForm(c), CanonicalForm(c));
}

TEST(RouteTableTest, RoutingPath) {
  EXPECT_EQ(RoutingPath("/a/b?c=d"), "/a/b");
  EXPECT_EQ(RoutingPath("/a#x"), "/a");
  EXPECT_EQ(RoutingPath("/"), "/");
  EXPECT_EQ(RoutingPath("?x"), "");
}

}  // namespace
}  // namespace locus::proxy::route
