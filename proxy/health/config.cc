#include "proxy/health/config.h"

#include "absl/strings/str_cat.h"

namespace locus::proxy::health {
namespace {

absl::Status Bad(absl::string_view path, absl::string_view field,
                 absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, path.empty() ? "" : ".", field, ": ", why));
}

// A byte that may appear in a request target or Host value we emit
// verbatim: visible ASCII only, so no CR/LF/space can split the request.
bool IsSafeHeaderByte(char c) {
  return c > 0x20 && c < 0x7f;
}

}  // namespace

absl::Status ValidateHealthCheck(const HealthCheckConfig& c,
                                 absl::string_view path) {
  if (c.interval < kMinCheckInterval || c.interval > kMaxCheckInterval) {
    return Bad(path, "interval", "must be between 100ms and 3600s");
  }
  if (c.timeout < kMinCheckTimeout) {
    return Bad(path, "timeout", "must be at least 1ms");
  }
  if (c.timeout > c.interval) {
    return Bad(path, "timeout", "must not exceed interval");
  }
  if (c.rise == 0 || c.rise > kMaxRiseFall) {
    return Bad(path, "rise", absl::StrCat("must be 1..", kMaxRiseFall));
  }
  if (c.fall == 0 || c.fall > kMaxRiseFall) {
    return Bad(path, "fall", absl::StrCat("must be 1..", kMaxRiseFall));
  }
  if (c.kind == CheckKind::kHttp) {
    if (c.path.empty() || c.path[0] != '/') {
      return Bad(path, "path", "must start with '/'");
    }
    if (c.path.size() > kMaxCheckPathLength) {
      return Bad(path, "path",
                 absl::StrCat("longer than ", kMaxCheckPathLength, " bytes"));
    }
    for (char ch : c.path) {
      if (!IsSafeHeaderByte(ch)) {
        return Bad(path, "path", "contains a control, space or non-ASCII byte");
      }
    }
    for (char ch : c.host) {
      if (!IsSafeHeaderByte(ch)) {
        return Bad(path, "host", "contains a control, space or non-ASCII byte");
      }
    }
    if (c.expected_status.min < 100 || c.expected_status.max > 599 ||
        c.expected_status.min > c.expected_status.max) {
      return Bad(path, "expected_status", "must be a range within 100..599");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateOutlierDetection(const OutlierDetectionConfig& c,
                                      absl::string_view path) {
  if (c.consecutive_5xx > kMaxConsecutiveThreshold) {
    return Bad(path, "consecutive_5xx",
               absl::StrCat("must be at most ", kMaxConsecutiveThreshold));
  }
  if (c.consecutive_connect_failures > kMaxConsecutiveThreshold) {
    return Bad(path, "consecutive_connect_failures",
               absl::StrCat("must be at most ", kMaxConsecutiveThreshold));
  }
  if (c.base_ejection_time <= Duration::Zero()) {
    return Bad(path, "base_ejection_time", "must be positive");
  }
  if (c.max_ejection_time < c.base_ejection_time ||
      c.max_ejection_time > kMaxEjectionTime) {
    return Bad(path, "max_ejection_time",
               "must be at least base_ejection_time and at most 24h");
  }
  if (c.max_ejection_percent > 100) {
    return Bad(path, "max_ejection_percent", "must be 0..100");
  }
  return absl::OkStatus();
}

}  // namespace locus::proxy::health
