#include "proxy/health/config.h"

#include <string>

#include "gtest/gtest.h"

namespace locus::proxy::health {
namespace {

void ExpectInvalid(const absl::Status& s, const std::string& field) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find(field), absl::string_view::npos) << s;
}

TEST(HealthConfigTest, DefaultsAreValid) {
  EXPECT_TRUE(ValidateHealthCheck(HealthCheckConfig{}, "hc").ok());
  HealthCheckConfig http;
  http.kind = CheckKind::kHttp;
  EXPECT_TRUE(ValidateHealthCheck(http, "hc").ok());
  EXPECT_TRUE(ValidateOutlierDetection(OutlierDetectionConfig{}, "od").ok());
}

TEST(HealthConfigTest, RiseAndFallLimits) {
  HealthCheckConfig c;
  c.rise = kMaxRiseFall;
  c.fall = kMaxRiseFall;
  EXPECT_TRUE(ValidateHealthCheck(c, "p").ok());
  c.rise = kMaxRiseFall + 1;
  ExpectInvalid(ValidateHealthCheck(c, "pools[1].health_check"),
                "pools[1].health_check.rise");
  c.rise = 0;
  ExpectInvalid(ValidateHealthCheck(c, "p"), "p.rise");
  c.rise = 1;
  c.fall = kMaxRiseFall + 1;
  ExpectInvalid(ValidateHealthCheck(c, "p"), "p.fall");
}

TEST(HealthConfigTest, IntervalAndTimeoutLimits) {
  HealthCheckConfig c;
  c.timeout = kMinCheckTimeout;
  c.interval = kMinCheckInterval;
  EXPECT_TRUE(ValidateHealthCheck(c, "p").ok());
  c.interval = kMinCheckInterval - Duration::Nanos(1);
  ExpectInvalid(ValidateHealthCheck(c, "p"), "p.interval");
  c.interval = kMaxCheckInterval;
  EXPECT_TRUE(ValidateHealthCheck(c, "p").ok());
  c.interval = kMaxCheckInterval + Duration::Nanos(1);
  ExpectInvalid(ValidateHealthCheck(c, "p"), "p.interval");
  c.interval = Duration::Seconds(1);
  c.timeout = Duration::Seconds(1);
  EXPECT_TRUE(ValidateHealthCheck(c, "p").ok());
  c.timeout = Duration::Seconds(1) + Duration::Nanos(1);
  ExpectInvalid(ValidateHealthCheck(c, "p"), "p.timeout");
  c.timeout = kMinCheckTimeout - Duration::Nanos(1);
  ExpectInvalid(ValidateHealthCheck(c, "p"), "p.timeout");
}

TEST(HealthConfigTest, HttpPathRules) {
  HealthCheckConfig c;
  c.kind = CheckKind::kHttp;
  c.path = "/" + std::string(kMaxCheckPathLength - 1, 'a');
  EXPECT_TRUE(ValidateHealthCheck(c, "p").ok());
  c.path += "a";
  ExpectInvalid(ValidateHealthCheck(c, "p"), "p.path");
  c.path = "healthz";
  ExpectInvalid(ValidateHealthCheck(c, "p"), "p.path");
  c.path = "/a\r\nX-Injected: 1";
  ExpectInvalid(ValidateHealthCheck(c, "p"), "p.path");
  c.path = "/a b";
  ExpectInvalid(ValidateHealthCheck(c, "p"), "p.path");
  c.path = "/ok";
  c.host = "evil\r\nhost";
  ExpectInvalid(ValidateHealthCheck(c, "p"), "p.host");
  c.host = "svc.internal";
  c.expected_status = {300, 200};
  ExpectInvalid(ValidateHealthCheck(c, "p"), "p.expected_status");
  c.expected_status = {99, 200};
  ExpectInvalid(ValidateHealthCheck(c, "p"), "p.expected_status");
  c.expected_status = {100, 599};
  EXPECT_TRUE(ValidateHealthCheck(c, "p").ok());
  c.expected_status = {100, 600};
  ExpectInvalid(ValidateHealthCheck(c, "p"), "p.expected_status");
}

TEST(HealthConfigTest, TcpCheckIgnoresHttpFields) {
  HealthCheckConfig c;
  c.kind = CheckKind::kTcp;
  c.path = "not a path";
  EXPECT_TRUE(ValidateHealthCheck(c, "p").ok());
}

TEST(HealthConfigTest, OutlierLimits) {
  OutlierDetectionConfig c;
  c.consecutive_5xx = kMaxConsecutiveThreshold;
  c.consecutive_connect_failures = kMaxConsecutiveThreshold;
  c.max_ejection_percent = 100;
  EXPECT_TRUE(ValidateOutlierDetection(c, "od").ok());
  c.consecutive_5xx = kMaxConsecutiveThreshold + 1;
  ExpectInvalid(ValidateOutlierDetection(c, "od"), "od.consecutive_5xx");
  c.consecutive_5xx = 0;
  c.consecutive_connect_failures = kMaxConsecutiveThreshold + 1;
  ExpectInvalid(ValidateOutlierDetection(c, "od"),
                "od.consecutive_connect_failures");
  c.consecutive_connect_failures = 0;
  c.max_ejection_percent = 101;
  ExpectInvalid(ValidateOutlierDetection(c, "od"), "od.max_ejection_percent");
  c.max_ejection_percent = 10;
  c.base_ejection_time = Duration::Zero();
  ExpectInvalid(ValidateOutlierDetection(c, "od"), "od.base_ejection_time");
  c.base_ejection_time = Duration::Seconds(60);
  c.max_ejection_time = Duration::Seconds(59);
  ExpectInvalid(ValidateOutlierDetection(c, "od"), "od.max_ejection_time");
  c.max_ejection_time = kMaxEjectionTime;
  EXPECT_TRUE(ValidateOutlierDetection(c, "od").ok());
  c.max_ejection_time = kMaxEjectionTime + Duration::Nanos(1);
  ExpectInvalid(ValidateOutlierDetection(c, "od"), "od.max_ejection_time");
}

}  // namespace
}  // namespace locus::proxy::health
