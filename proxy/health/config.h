// Health-check and outlier-detection settings of a backend pool. Plain
// structs: the control plane's protobuf is translated into these, and the
// Validate functions are the single place that decides what is acceptable.
#ifndef LOCUS_PROXY_HEALTH_CONFIG_H_
#define LOCUS_PROXY_HEALTH_CONFIG_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "stack/base/time.h"

namespace locus::proxy::health {

// Bounds that keep a misconfiguration from turning into a probe storm or a
// check that can never change state.
inline constexpr Duration kMinCheckInterval = Duration::Millis(100);
inline constexpr Duration kMaxCheckInterval = Duration::Seconds(3600);
inline constexpr Duration kMinCheckTimeout = Duration::Millis(1);
inline constexpr uint32_t kMaxRiseFall = 100;
// Longest path accepted for an HTTP health check (it is sent as-is).
inline constexpr size_t kMaxCheckPathLength = 1024;
inline constexpr uint32_t kMaxConsecutiveThreshold = 1000;
inline constexpr Duration kMaxEjectionTime = Duration::Seconds(24 * 3600);

enum class CheckKind : uint8_t { kTcp, kHttp };

// Inclusive range of HTTP status codes that count as a passing check.
struct StatusRange {
  int min = 200;
  int max = 299;
  bool Contains(int code) const { return code >= min && code <= max; }
  bool operator==(const StatusRange&) const = default;
};

struct HealthCheckConfig {
  CheckKind kind = CheckKind::kTcp;
  // HTTP only: request target and Host header of the GET.
  std::string path = "/";
  std::string host;
  StatusRange expected_status;
  Duration interval = Duration::Seconds(5);
  Duration timeout = Duration::Seconds(1);
  // Consecutive passes that make an unhealthy endpoint healthy, and
  // consecutive failures that make a healthy one unhealthy.
  uint32_t rise = 2;
  uint32_t fall = 3;
  bool operator==(const HealthCheckConfig&) const = default;
};

struct OutlierDetectionConfig {
  // 0 disables that detector.
  uint32_t consecutive_5xx = 5;
  uint32_t consecutive_connect_failures = 5;
  Duration base_ejection_time = Duration::Seconds(30);
  Duration max_ejection_time = Duration::Seconds(300);
  // At most this share of the pool is ejected at once (floor of n*p/100).
  uint32_t max_ejection_percent = 10;
  bool operator==(const OutlierDetectionConfig&) const = default;
};

// Both return INVALID_ARGUMENT naming the offending field, prefixed with
// `field_path` (for example "pools[2].health_check").
absl::Status ValidateHealthCheck(const HealthCheckConfig& config,
                                 absl::string_view field_path);
absl::Status ValidateOutlierDetection(const OutlierDetectionConfig& config,
                                      absl::string_view field_path);

}  // namespace locus::proxy::health

#endif  // LOCUS_PROXY_HEALTH_CONFIG_H_
