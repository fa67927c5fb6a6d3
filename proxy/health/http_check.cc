#include "proxy/health/http_check.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace locus::proxy::health {

std::string BuildHttpCheckRequest(const HealthCheckConfig& config,
                                  absl::string_view fallback_host) {
  return absl::StrCat("GET ", config.path, " HTTP/1.1\r\nHost: ",
                      config.host.empty() ? fallback_host
                                          : absl::string_view(config.host),
                      "\r\nUser-Agent: locus-health\r\nConnection: close\r\n\r\n");
}

HttpCheckVerdict EvaluateHttpCheckResponse(absl::string_view received,
                                           StatusRange expected) {
  const size_t lf = received.find('\n');
  if (lf == absl::string_view::npos) {
    // Until the line ends we can only reject what can never become valid.
    if (received.size() >= kMaxStatusLineLength) {
      return HttpCheckVerdict::kMalformed;
    }
    constexpr absl::string_view kPrefix = "HTTP/1.";
    const size_t n = std::min(received.size(), kPrefix.size());
    if (received.substr(0, n) != kPrefix.substr(0, n)) {
      return HttpCheckVerdict::kMalformed;
    }
    return HttpCheckVerdict::kNeedMore;
  }
  // The line without LF must fit the limit, CR included.
  if (lf > kMaxStatusLineLength) return HttpCheckVerdict::kMalformed;
  if (lf == 0 || received[lf - 1] != '\r') return HttpCheckVerdict::kMalformed;
  const absl::string_view line = received.substr(0, lf - 1);
  // "HTTP/1.x 200" is the shortest acceptable line.
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." ||
      line[7] < '0' || line[7] > '9' || line[8] != ' ') {
    return HttpCheckVerdict::kMalformed;
  }
  int code = 0;
  for (int i = 9; i < 12; ++i) {
    const char c = line[i];
    if (c < '0' || c > '9') return HttpCheckVerdict::kMalformed;
    code = code * 10 + (c - '0');
  }
  if (code < 100) return HttpCheckVerdict::kMalformed;
  if (line.size() > 12 && line[12] != ' ') return HttpCheckVerdict::kMalformed;
  return expected.Contains(code) ? HttpCheckVerdict::kPassed
                                 : HttpCheckVerdict::kFailed;
}

}  // namespace locus::proxy::health
