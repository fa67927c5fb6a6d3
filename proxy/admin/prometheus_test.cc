#include "proxy/admin/prometheus.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace locus::proxy::admin {
namespace {

TEST(PrometheusWriterTest, GoldenCountersAndGauges) {
  PrometheusWriter w;
  auto requests = w.AddFamily("locus_http_requests_total", "HTTP requests received.",
                              MetricType::kCounter);
  requests.Add({{"shard", "0"}, {"listener", "public"}}, uint64_t{123});
  requests.Add({{"listener", "public"}, {"shard", "1"}}, 45);
  w.Gauge("locus_open_connections", "Connections open now.", -3, {{"shard", "0"}});
  w.Gauge("locus_load", "A ratio.", 0.25);
  w.Counter("locus_up_seconds_total", "", 1.5);
  EXPECT_TRUE(w.status().ok()) << w.status();
  EXPECT_EQ(w.Render(),
            "# HELP locus_http_requests_total HTTP requests received.\n"
            "# TYPE locus_http_requests_total counter\n"
            "locus_http_requests_total{listener=\"public\",shard=\"0\"} 123\n"
            "locus_http_requests_total{listener=\"public\",shard=\"1\"} 45\n"
            "# HELP locus_open_connections Connections open now.\n"
            "# TYPE locus_open_connections gauge\n"
            "locus_open_connections{shard=\"0\"} -3\n"
            "# HELP locus_load A ratio.\n"
            "# TYPE locus_load gauge\n"
            "locus_load 0.25\n"
            "# TYPE locus_up_seconds_total counter\n"
            "locus_up_seconds_total 1.5\n");
}

TEST(PrometheusWriterTest, InterleavedSamplesAreGroupedByFamily) {
  PrometheusWriter w;
  for (int shard = 0; shard < 2; ++shard) {
    const std::string s = std::to_string(shard);
    w.Counter("a_total", "A.", shard * 10, {{"shard", s}});
    w.Gauge("b", "B.", shard, {{"shard", s}});
  }
  EXPECT_EQ(w.Render(),
            "# HELP a_total A.\n# TYPE a_total counter\n"
            "a_total{shard=\"0\"} 0\na_total{shard=\"1\"} 10\n"
            "# HELP b B.\n# TYPE b gauge\n"
            "b{shard=\"0\"} 0\nb{shard=\"1\"} 1\n");
  EXPECT_TRUE(w.status().ok());
}

TEST(PrometheusWriterTest, EscapesLabelValuesAndHelp) {
  PrometheusWriter w;
  w.Gauge("m", "Help with \\ and\nnewline and \"quotes\".", 1,
          {{"path", "C:\\dir\n\"x\""}, {"utf8", "caf\xc3\xa9"}});
  EXPECT_TRUE(w.status().ok()) << w.status();
  EXPECT_EQ(w.Render(),
            "# HELP m Help with \\\\ and\\nnewline and \"quotes\".\n"
            "# TYPE m gauge\n"
            "m{path=\"C:\\\\dir\\n\\\"x\\\"\",utf8=\"caf\xc3\xa9\"} 1\n");
}

TEST(PrometheusWriterTest, ValueSpellings) {
  PrometheusWriter w;
  auto g = w.AddFamily("g", "", MetricType::kGauge);
  g.Add({{"v", "max_u64"}}, std::numeric_limits<uint64_t>::max());
  g.Add({{"v", "min_i64"}}, std::numeric_limits<int64_t>::min());
  g.Add({{"v", "nan"}}, std::nan(""));
  g.Add({{"v", "inf"}}, std::numeric_limits<double>::infinity());
  g.Add({{"v", "-inf"}}, -std::numeric_limits<double>::infinity());
  g.Add({{"v", "tenth"}}, 0.1);
  g.Add({{"v", "big"}}, 1e300);
  g.Add({{"v", "float"}}, 2.5f);
  g.Add({{"v", "bool"}}, true);
  EXPECT_EQ(w.Render(),
            "# TYPE g gauge\n"
            "g{v=\"max_u64\"} 18446744073709551615\n"
            "g{v=\"min_i64\"} -9223372036854775808\n"
            "g{v=\"nan\"} NaN\n"
            "g{v=\"inf\"} +Inf\n"
            "g{v=\"-inf\"} -Inf\n"
            "g{v=\"tenth\"} 0.1\n"
            "g{v=\"big\"} 1e+300\n"
            "g{v=\"float\"} 2.5\n"
            "g{v=\"bool\"} 1\n");
}

TEST(PrometheusWriterTest, MetricNameRules) {
  for (const char* good : {"a", "_", ":", "a_b:c", "A9", "locus:rule:rate5m", "_x_total"}) {
    EXPECT_TRUE(PrometheusWriter::IsValidMetricName(good)) << good;
  }
  for (const char* bad : {"", "9a", "a-b", "a b", "a.b", "é", "a\n", "{a}"}) {
    EXPECT_FALSE(PrometheusWriter::IsValidMetricName(bad)) << bad;
  }
  for (const char* good : {"a", "_a", "a_9", "shard"}) {
    EXPECT_TRUE(PrometheusWriter::IsValidLabelName(good)) << good;
  }
  for (const char* bad : {"", "9", "a:b", "__name__", "__x", "a-b", "é"}) {
    EXPECT_FALSE(PrometheusWriter::IsValidLabelName(bad)) << bad;
  }
}

TEST(PrometheusWriterTest, BadFamiliesAndSamplesAreSkippedAndReported) {
  PrometheusWriter w;
  w.Counter("good_total", "Good.", 1);
  w.Counter("bad-name", "Bad.", 1);                               // 1: name
  w.Gauge("good_total", "Good.", 2);                              // 2: type clash
  w.Counter("good_total", "Good.", 3, {{"__reserved", "x"}});     // 3: label name
  w.Counter("good_total", "Good.", 4, {{"a", "1"}, {"a", "2"}});  // 4: label twice
  w.Counter("good_total", "Good.", 5, {{"a", "\xff"}});           // 5: not UTF-8
  w.Counter("good_total", "Good.", 6);                            // 6: same series again
  w.Counter("good_total", "Good.", -1, {{"a", "neg"}});           // 7: negative counter
  w.Counter("good_total", "Good.", std::nan(""), {{"a", "nan"}});  // 8: NaN counter
  w.Counter("good_total", "Other help.", 9, {{"a", "help"}});      // 9: HELP differs (kept)
  w.Gauge("g", "\xc3", 1);                                         // 10: HELP not UTF-8
  EXPECT_EQ(w.error_count(), 10u);
  EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(w.status().message().find("bad-name"), std::string::npos) << w.status();
  EXPECT_EQ(w.Render(),
            "# HELP good_total Good.\n"
            "# TYPE good_total counter\n"
            "good_total 1\n"
            "good_total{a=\"help\"} 9\n"
            "# locus: 10 metric problem(s), skipped; first: invalid metric name \"bad-name\"\n");
}

TEST(PrometheusWriterTest, LabelsAtTheLimitAndOneMore) {
  std::vector<std::string> names;
  for (size_t i = 0; i <= kMaxLabelsPerSample; ++i) names.push_back("l" + std::to_string(100 + i));
  std::vector<Label> labels;
  for (size_t i = 0; i < kMaxLabelsPerSample; ++i) labels.push_back({names[i], "v"});
  PrometheusWriter w;
  auto f = w.AddFamily("m", "", MetricType::kGauge);
  f.Add(labels, 1);
  EXPECT_TRUE(w.status().ok());
  labels.push_back({names.back(), "v"});
  f.Add(labels, 2);
  EXPECT_EQ(w.error_count(), 1u);
  const std::string text = w.Render();
  EXPECT_NE(text.find("l115=\"v\"} 1\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("} 2\n"), std::string::npos) << text;
}

TEST(PrometheusWriterTest, HostileTextInErrorsStaysOnOneCommentLine) {
  PrometheusWriter w;
  w.Counter("x\ny 1\n# TYPE", "", 1);
  const std::string text = w.Render();
  EXPECT_EQ(text.rfind("# locus: 1 metric problem(s)", 0), 0u) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
}

TEST(PrometheusWriterTest, FamilyWithoutSamplesStillDeclared) {
  PrometheusWriter w;
  w.AddFamily("declared_total", "Declared.", MetricType::kCounter);
  EXPECT_EQ(w.Render(), "# HELP declared_total Declared.\n# TYPE declared_total counter\n");
}

}  // namespace
}  // namespace locus::proxy::admin
