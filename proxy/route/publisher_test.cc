#include "proxy/route/publisher.h"

#include "gtest/gtest.h"
#include "proxy/route/test_util.h"

namespace locus::proxy::route {
namespace {

using testing::Pools;
using testing::Route;

RouteTableConfig Config() {
  RouteTableConfig c;
  c.name = "main";
  c.routes = {Route("a", "", "/a"), Route("b", "", "/")};
  return c;
}

TEST(PublisherTest, FirstApplyCompilesOneCopyPerCore) {
  VersionCounter versions;
  RouteTablePublisher p(&versions, 3);
  EXPECT_EQ(p.version(), 0u);
  auto r = p.Apply(Config(), Pools());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->changed);
  EXPECT_EQ(r->version, 1u);
  ASSERT_EQ(r->per_core.size(), 3u);
  EXPECT_NE(r->per_core[0].get(), r->per_core[1].get());  // distinct copies
  for (const auto& t : r->per_core) {
    EXPECT_EQ(t->version(), 1u);
    EXPECT_TRUE(t->IdenticalTo(*r->per_core[0]));
  }
  EXPECT_EQ(p.version(), 1u);
}

TEST(PublisherTest, IdenticalPushIsANoOp) {
  VersionCounter versions;
  RouteTablePublisher p(&versions, 1);
  auto r1 = p.Apply(Config(), Pools());
  auto r2 = p.Apply(Config(), Pools());
  ASSERT_TRUE(r2.ok());
  EXPECT_FALSE(r2->changed);
  EXPECT_EQ(r2->version, r1->version);
  EXPECT_EQ(r2->per_core[0].get(), r1->per_core[0].get());
  EXPECT_EQ(versions.last(), 1u);
}

TEST(PublisherTest, AnyChangeBumpsTheGlobalVersion) {
  VersionCounter versions;
  RouteTablePublisher main(&versions, 1);
  RouteTablePublisher other(&versions, 1);
  ASSERT_TRUE(main.Apply(Config(), Pools()).ok());
  RouteTableConfig o = Config();
  o.name = "other";
  ASSERT_TRUE(other.Apply(o, Pools()).ok());
  EXPECT_EQ(other.version(), 2u);  // versions are unique across tables
  RouteTableConfig c = Config();
  c.routes[1].action.idle_timeout = Duration::Seconds(1);
  auto r = main.Apply(c, Pools());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->changed);
  EXPECT_EQ(r->version, 3u);
}

TEST(PublisherTest, OptimisticConcurrency) {
  VersionCounter versions;
  RouteTablePublisher p(&versions, 1);
  EXPECT_EQ(p.Apply(Config(), Pools(), /*expected_version=*/5).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(p.Apply(Config(), Pools(), 0).ok());
  RouteTableConfig c = Config();
  c.routes.pop_back();
  auto stale = p.Apply(c, Pools(), 0);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(p.version(), 1u);
  EXPECT_TRUE(p.Apply(c, Pools(), 1).ok());
  EXPECT_EQ(p.version(), 2u);
}

TEST(PublisherTest, RejectedPushLeavesTheCurrentTable) {
  VersionCounter versions;
  RouteTablePublisher p(&versions, 2);
  auto good = p.Apply(Config(), Pools());
  ASSERT_TRUE(good.ok());
  RouteTableConfig bad = Config();
  bad.routes[0].match.path = {PathMatch::Kind::kRegex, "(("};
  auto r = p.Apply(bad, Pools());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("routes[0].match.path.regex"),
            absl::string_view::npos);
  EXPECT_EQ(p.version(), good->version);
  EXPECT_EQ(p.current().per_core[0].get(), good->per_core[0].get());
  EXPECT_EQ(versions.last(), good->version);  // no version burnt
  // An identical config whose pool disappeared is rejected, not a no-op.
  PoolNames fewer = {"api"};
  EXPECT_EQ(p.Apply(Config(), fewer).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace locus::proxy::route
