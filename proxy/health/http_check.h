// The bytes of an HTTP health check and the verdict on its response. The
// data plane writes the request on a fresh connection and feeds whatever it
// has read so far to EvaluateHttpCheckResponse until the verdict is final.
#ifndef LOCUS_PROXY_HEALTH_HTTP_CHECK_H_
#define LOCUS_PROXY_HEALTH_HTTP_CHECK_H_

#include <string>

#include "absl/strings/string_view.h"
#include "proxy/health/config.h"

namespace locus::proxy::health {

// A status line longer than this is malformed (RFC 9112 §2.3 lets us pick
// a limit; real status lines are a few dozen bytes).
inline constexpr size_t kMaxStatusLineLength = 1024;

// "GET <path> HTTP/1.1\r\nHost: <host>\r\nUser-Agent: locus-health\r\n
//  Connection: close\r\n\r\n". The config must have passed
// ValidateHealthCheck (no CR/LF in path or host). An empty host is sent as
// the endpoint's address text, which the caller passes as `fallback_host`.
std::string BuildHttpCheckRequest(const HealthCheckConfig& config,
                                  absl::string_view fallback_host);

enum class HttpCheckVerdict : uint8_t {
  kNeedMore,   // no complete status line yet
  kPassed,     // status code within the expected range
  kFailed,     // a well-formed status line with another code
  kMalformed,  // not an HTTP/1.x status line: counts as failed
};

// Looks only at the status line (RFC 9112 §4):
//   HTTP-version SP 3DIGIT SP [reason-phrase] CRLF
// A missing SP before CRLF with an empty reason is tolerated, as most
// clients do.
HttpCheckVerdict EvaluateHttpCheckResponse(absl::string_view received,
                                           StatusRange expected);

}  // namespace locus::proxy::health

#endif  // LOCUS_PROXY_HEALTH_HTTP_CHECK_H_
