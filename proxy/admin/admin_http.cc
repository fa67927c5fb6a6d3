#include "proxy/admin/admin_http.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "proxy/http/canned.h"

namespace locus::proxy::admin {
namespace {

absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

struct Endpoint {
  std::string_view path;
  std::string_view description;
};

constexpr Endpoint kEndpoints[] = {
    {"/metrics", "Prometheus metrics (text format 0.0.4)"},
    {"/stats", "statistics (JSON)"},
    {"/config", "effective configuration (JSON)"},
    {"/ready", "200 when ready for traffic, else 503 and the reason"},
    {"/healthz", "200 while the process runs"},
};

bool Served(const AdminHandlers& h, std::string_view path) {
  if (path == "/" || path == "/metrics" || path == "/healthz") return true;
  if (path == "/stats") return static_cast<bool>(h.stats_json);
  if (path == "/config") return static_cast<bool>(h.config_json);
  if (path == "/ready") return static_cast<bool>(h.ready);
  return false;
}

std::string IndexBody(const AdminHandlers& h) {
  std::string body = "Locus admin\n";
  for (const Endpoint& e : kEndpoints) {
    if (!Served(h, e.path)) continue;
    absl::StrAppend(&body, AV(e.path), std::string(10 - e.path.size(), ' '), AV(e.description),
                    "\n");
  }
  return body;
}

}  // namespace

std::string_view AdminReasonPhrase(uint16_t status) {
  switch (status) {
    case 200: return "OK";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    default: return http::ReasonPhrase(status);
  }
}

std::string FormatHttpDate(int64_t unix_seconds) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", absl::FromUnixSeconds(unix_seconds),
                          absl::UTCTimeZone());
}

void WriteResponse(const ResponseSpec& spec, std::string_view date, std::string* out) {
  absl::StrAppend(out, "HTTP/1.1 ", spec.status, " ", AV(AdminReasonPhrase(spec.status)),
                  "\r\nDate: ", AV(date), "\r\nContent-Type: ", AV(spec.content_type),
                  "\r\nContent-Length: ", spec.body.size(),
                  "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n");
  if (!spec.allow.empty()) absl::StrAppend(out, "Allow: ", AV(spec.allow), "\r\n");
  if (!spec.keep_alive) {
    out->append("Connection: close\r\n");
  } else if (spec.http10) {
    out->append("Connection: keep-alive\r\n");  // RFC 9112 §9.3: 1.0 persistence is opt-in
  }
  out->append("\r\n");
  if (!spec.head_only) out->append(spec.body);
}

AdminResponse WriteAdminResponse(const AdminHandlers& handlers,
                                 const std::function<void(PrometheusWriter&)>& self_metrics,
                                 const http::RequestHead& request, std::string_view date,
                                 std::string* out) {
  std::string_view path = request.path();
  if (const size_t q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  // Content-Length: 0 is no content; chunked may be empty but is unread.
  const bool has_content =
      request.framing() == http::BodyFraming::kChunked ||
      (request.framing() == http::BodyFraming::kContentLength && request.content_length() > 0);
  const bool get = request.method() == http::Method::kGet;
  const bool head = request.method() == http::Method::kHead;

  ResponseSpec spec;
  spec.head_only = head;
  spec.keep_alive = request.keep_alive() && !has_content;
  spec.http10 = request.version_minor() == 0;

  std::string body;
  if (!Served(handlers, path)) {
    spec.status = 404;
    body = "not found; GET / lists the endpoints\n";
  } else if (!get && !head) {
    spec.status = 405;
    spec.allow = kAllowHeaderValue;
    body = "only GET and HEAD\n";
  } else if (has_content) {
    spec.status = 400;
    body = "admin requests carry no content\n";
  } else if (path == "/") {
    body = IndexBody(handlers);
  } else if (path == "/metrics") {
    PrometheusWriter writer;
    if (handlers.metrics) handlers.metrics(writer);
    if (self_metrics) self_metrics(writer);
    writer.Render(&body);
    spec.content_type = kPrometheusContentType;
  } else if (path == "/stats") {
    body = handlers.stats_json();
    spec.content_type = kJsonContentType;
  } else if (path == "/config") {
    body = handlers.config_json();
    spec.content_type = kJsonContentType;
  } else if (path == "/ready") {
    const absl::Status ready = handlers.ready();
    if (ready.ok()) {
      body = "ready\n";
    } else {
      spec.status = 503;
      body = absl::StrCat("not ready: ", ready.message(), "\n");
    }
  } else {  // /healthz
    body = "ok\n";
  }
  spec.body = body;
  WriteResponse(spec, date, out);
  return AdminResponse{spec.status, spec.keep_alive};
}

}  // namespace locus::proxy::admin
