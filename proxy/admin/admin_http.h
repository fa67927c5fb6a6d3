// The admin endpoints as bytes: what to answer to one parsed request. No
// I/O; AdminServer does the sockets. Routes:
//
//   /          200 text/plain, the list of endpoints
//   /metrics   200 Prometheus text 0.0.4 (handlers.metrics, then the server's own)
//   /stats     200 application/json (handlers.stats_json)
//   /config    200 application/json (handlers.config_json)
//   /ready     200 "ready" or 503 "not ready: <reason>" (handlers.ready)
//   /healthz   200 "ok"
//
// A query string is ignored. An endpoint whose handler is not set does not
// exist (404, and the index leaves it out). Other paths: 404. Other methods
// than GET and HEAD on an endpoint: 405 with `Allow: GET, HEAD`. A request
// with content (admin requests have none): 400 for GET and HEAD. Whenever
// the request had content the connection closes after the response, since
// its content is never read. HEAD gets GET's head without the body.
#ifndef LOCUS_PROXY_ADMIN_ADMIN_HTTP_H_
#define LOCUS_PROXY_ADMIN_ADMIN_HTTP_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "proxy/admin/handlers.h"
#include "proxy/admin/prometheus.h"
#include "proxy/http/message.h"

namespace locus::proxy::admin {

inline constexpr std::string_view kJsonContentType = "application/json";
inline constexpr std::string_view kTextContentType = "text/plain; charset=utf-8";
inline constexpr std::string_view kAllowHeaderValue = "GET, HEAD";

struct AdminResponse {
  uint16_t status = 0;
  bool keep_alive = false;  // the connection may carry another request
};

// Appends the complete response to `request` to `out`. `date` is the Date
// field value (IMF-fixdate, RFC 9110 §5.6.7). `self_metrics` (may be empty)
// adds the server's own families to /metrics.
AdminResponse WriteAdminResponse(const AdminHandlers& handlers,
                                 const std::function<void(PrometheusWriter&)>& self_metrics,
                                 const http::RequestHead& request, std::string_view date,
                                 std::string* out);

// One response the admin server writes.
struct ResponseSpec {
  uint16_t status = 200;
  std::string_view content_type = kTextContentType;
  std::string_view body;
  bool head_only = false;   // HEAD: no body, but GET's Content-Length
  bool keep_alive = false;  // else `Connection: close`
  bool http10 = false;      // an HTTP/1.0 request: keep-alive must be said
  std::string_view allow;   // an Allow field (405)
};

// Appends status line, fields (Date, Content-Type, Content-Length,
// Cache-Control: no-store, X-Content-Type-Options: nosniff, Allow,
// Connection) and the body. Also used for the errors the server answers on
// its own: parser rejections, 408, the 503 at the connection limit.
void WriteResponse(const ResponseSpec& spec, std::string_view date, std::string* out);

// "Sun, 06 Nov 1994 08:49:37 GMT" for a Unix time in seconds.
std::string FormatHttpDate(int64_t unix_seconds);

// The reason phrase for the statuses the admin server sends.
std::string_view AdminReasonPhrase(uint16_t status);

}  // namespace locus::proxy::admin

#endif  // LOCUS_PROXY_ADMIN_ADMIN_HTTP_H_
