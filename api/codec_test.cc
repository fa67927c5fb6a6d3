#include "api/codec.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "locus/api/v1/config.pb.h"

namespace locus::api {
namespace {

using v1::Config;

TEST(CodecTest, FormatsDurationsAsProto3Json) {
  google::protobuf::Duration d;
  EXPECT_EQ(FormatDuration(d), "0s");
  d.set_seconds(30);
  EXPECT_EQ(FormatDuration(d), "30s");
  d.set_seconds(1);
  d.set_nanos(500000000);
  EXPECT_EQ(FormatDuration(d), "1.5s");
  d.set_seconds(0);
  d.set_nanos(1000);
  EXPECT_EQ(FormatDuration(d), "0.000001s");
}

TEST(CodecTest, DetectsFormat) {
  EXPECT_EQ(DetectFormat("{}"), TextFormat::kJson);
  EXPECT_EQ(DetectFormat("  \n\t{\"a\":1}"), TextFormat::kJson);
  EXPECT_EQ(DetectFormat("# comment {\n{}"), TextFormat::kJson);
  EXPECT_EQ(DetectFormat("listeners: []"), TextFormat::kYaml);
  EXPECT_EQ(DetectFormat(""), TextFormat::kYaml);
}

TEST(CodecTest, ParsesJson) {
  Config config;
  ASSERT_TRUE(ParseText(R"({"listeners":[{"name":"web","port":80,
      "protocol":"HTTP","routeTable":"main",
      "drainTimeout":"1.5s"}]})",
                        "test.json", &config)
                  .ok());
  ASSERT_EQ(config.listeners_size(), 1);
  EXPECT_EQ(config.listeners(0).name(), "web");
  EXPECT_EQ(config.listeners(0).port(), 80u);
  EXPECT_EQ(config.listeners(0).route_table(), "main");
  EXPECT_EQ(config.listeners(0).drain_timeout().seconds(), 1);
  EXPECT_EQ(config.listeners(0).drain_timeout().nanos(), 500000000);
}

TEST(CodecTest, ParsesYamlWithSnakeCaseCommentsAndTypes) {
  Config config;
  absl::Status status = ParseText(R"(# a comment
listeners:
  - name: web          # trailing comment
    port: 8080
    protocol: TCP
    pool: "api"
    drain_timeout: 30s
pools:
  - name: api
    lb_policy: MAGLEV
    maglev_table_size: 0x101
    hash_key: {client_ip: true}
    endpoints:
      - {address: "10.0.0.1", port: 80, weight: 0}
      - address: 10.0.0.2
        port: '81'
)",
                                  "c.yaml", &config);
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_EQ(config.listeners_size(), 1);
  EXPECT_EQ(config.listeners(0).port(), 8080u);
  EXPECT_EQ(config.listeners(0).protocol(), v1::Listener::TCP);
  EXPECT_EQ(config.listeners(0).drain_timeout().seconds(), 30);
  ASSERT_EQ(config.pools_size(), 1);
  const v1::BackendPool& pool = config.pools(0);
  EXPECT_EQ(pool.lb_policy(), v1::BackendPool::MAGLEV);
  EXPECT_EQ(pool.maglev_table_size(), 257u);
  EXPECT_TRUE(pool.hash_key().client_ip());
  ASSERT_EQ(pool.endpoints_size(), 2);
  EXPECT_TRUE(pool.endpoints(0).has_weight());
  EXPECT_EQ(pool.endpoints(0).weight(), 0u);
  EXPECT_FALSE(pool.endpoints(1).has_weight());
  EXPECT_EQ(pool.endpoints(1).port(), 81u);  // proto3 JSON takes "81" too
}

TEST(CodecTest, EmptyYamlIsEmptyConfig) {
  Config config;
  config.set_version(3);
  EXPECT_TRUE(ParseText("# nothing here\n", "empty.yaml", &config).ok());
  EXPECT_EQ(config.ByteSizeLong(), 0u);
}

TEST(CodecTest, UnknownFieldIsAnErrorNamingIt) {
  Config config;
  absl::Status status = ParseText("listeners:\n  - name: web\n    prot: 80\n",
                                  "bad.yaml", &config);
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("bad.yaml"), std::string::npos) << status;
  EXPECT_NE(status.message().find("prot"), std::string::npos) << status;
}

TEST(CodecTest, WrongTypeIsAnError) {
  Config config;
  absl::Status status =
      ParseText("listeners:\n  - port: eighty\n", "t.yaml", &config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  status = ParseText(R"({"listeners": [{"port": -1}]})", "t.json", &config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
}

TEST(CodecTest, YamlSyntaxErrorHasLineAndColumn) {
  Config config;
  absl::Status status =
      ParseText("listeners:\n  - name: [unclosed\n", "broken.yaml", &config);
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(status.message(), "broken.yaml:")) << status;
  EXPECT_EQ(config.ByteSizeLong(), 0u);
}

TEST(CodecTest, RejectsDuplicateKeysAndMultipleDocuments) {
  absl::StatusOr<std::string> json = YamlToJson("a: 1\na: 2\n", "d.yaml");
  ASSERT_FALSE(json.ok());
  EXPECT_NE(json.status().message().find("duplicate key \"a\""),
            std::string::npos)
      << json.status();
  json = YamlToJson("a: 1\n---\nb: 2\n", "m.yaml");
  ASSERT_FALSE(json.ok());
  EXPECT_NE(json.status().message().find("2 YAML documents"),
            std::string::npos);
}

TEST(CodecTest, RejectsDeepNestingAndHugeInput) {
  std::string deep(kMaxYamlDepth + 2, '[');
  deep += std::string(kMaxYamlDepth + 2, ']');
  EXPECT_FALSE(YamlToJson(deep, "deep.yaml").ok());
  std::string at_limit(kMaxYamlDepth, '[');
  at_limit += std::string(kMaxYamlDepth, ']');
  EXPECT_TRUE(YamlToJson(at_limit, "ok.yaml").ok());

  Config config;
  std::string huge(kMaxTextBytes + 1, ' ');
  EXPECT_EQ(ParseText(huge, "huge", &config).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CodecTest, YamlScalarsFollowTheCoreSchema) {
  absl::StatusOr<std::string> json = YamlToJson(
      "a: 080\nb: -0o17\nc: 1.5e3\nd: ~\ne: True\nf: 'true'\ng: 1.5s\nh: "
      "yes\ni: .inf\nj: \"80\"\n",
      "s.yaml");
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(
      *json,
      R"({"a":80,"b":-15,"c":1500,"d":null,"e":true,"f":"true","g":"1.5s",)"
      R"("h":"yes","i":"Infinity","j":"80"})");
}

TEST(CodecTest, YamlOutputQuotesOnlyWhatNeedsIt) {
  Config config;
  v1::Listener* l = config.add_listeners();
  l->set_name("web");
  l->set_address("0.0.0.0");
  l->set_port(80);
  l->set_protocol(v1::Listener::HTTP);
  l->set_route_table("main");
  l->mutable_drain_timeout()->set_seconds(30);
  v1::RouteTable* rt = config.add_route_tables();
  rt->set_name("main");
  v1::Route* r = rt->add_routes();
  r->set_name("api");
  r->mutable_match()->set_host("*.example.com");
  r->mutable_match()->set_prefix("/api");
  r->mutable_match()->add_methods("GET");
  r->mutable_action()->add_weighted_pools()->set_pool("yes");
  config.add_pools()->set_name("empty");
  config.set_version(7);

  absl::StatusOr<std::string> yaml = ToYaml(config);
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  EXPECT_EQ(*yaml, R"(listeners:
  - name: web
    address: "0.0.0.0"
    port: 80
    protocol: HTTP
    routeTable: main
    drainTimeout: 30s
routeTables:
  - name: main
    routes:
      - name: api
        match:
          host: "*.example.com"
          prefix: /api
          methods:
            - GET
        action:
          weightedPools:
            - pool: "yes"
pools:
  - name: empty
version: "7"
)");

  // And it reads back to the same message.
  Config back;
  ASSERT_TRUE(ParseText(*yaml, "round-trip", &back).ok());
  EXPECT_EQ(back.SerializeAsString(), config.SerializeAsString());
}

TEST(CodecTest, JsonOutputIsIndentedAndReadsBack) {
  Config config;
  v1::BackendPool* pool = config.add_pools();
  pool->set_name("api");
  pool->add_endpoints()->set_address("10.0.0.1");
  pool->mutable_endpoints(0)->set_port(8080);
  pool->mutable_endpoints(0)->set_weight(0);
  absl::StatusOr<std::string> json = ToJson(config);
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(*json, R"({
  "pools": [
    {
      "name": "api",
      "endpoints": [
        {
          "address": "10.0.0.1",
          "port": 8080,
          "weight": 0
        }
      ]
    }
  ]
}
)");
  Config back;
  ASSERT_TRUE(ParseText(*json, "round-trip", &back).ok());
  EXPECT_EQ(back.SerializeAsString(), config.SerializeAsString());
}

TEST(CodecTest, JsonToYamlHandlesEmptyAndNestedCollections) {
  absl::StatusOr<std::string> yaml =
      JsonToYaml(R"({"a":[],"b":{},"c":[[1,2],[]],"d":[{"x":{"y":"-"}}]})");
  ASSERT_TRUE(yaml.ok());
  EXPECT_EQ(*yaml, R"(a: []
b: {}
c:
  -
    - 1
    - 2
  - []
d:
  - x:
      "y": "-"
)");
  absl::StatusOr<std::string> json = YamlToJson(*yaml, "back");
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json, R"({"a":[],"b":{},"c":[[1,2],[]],"d":[{"x":{"y":"-"}}]})");
}

}  // namespace
}  // namespace locus::api
