// What the proxy logs about one request: a plain struct the shard fills at
// the end of a request and hands to AccessLogBuffer::Log (or FormatJson).
// Nothing here owns bytes: every string is a view that must stay valid only
// for the duration of that call.
#ifndef LOCUS_PROXY_ACCESSLOG_RECORD_H_
#define LOCUS_PROXY_ACCESSLOG_RECORD_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "stack/base/time.h"
#include "stack/wire/addresses.h"

namespace locus::proxy::accesslog {

struct Endpoint {
  wire::Ipv4Address address;
  uint16_t port = 0;
};

// Response flags a proxy attaches to a request it could not serve normally.
// The record takes any string (the data plane may define more); these are
// the names the project uses, so that log queries can rely on them.
inline constexpr std::string_view kFlagNone = "-";
inline constexpr std::string_view kFlagUpstreamConnectFailure = "upstream_connect_failure";
inline constexpr std::string_view kFlagNoHealthyUpstream = "no_healthy_upstream";
inline constexpr std::string_view kFlagUpstreamTimeout = "upstream_timeout";
inline constexpr std::string_view kFlagUpstreamReset = "upstream_reset";
inline constexpr std::string_view kFlagDownstreamReset = "downstream_reset";
inline constexpr std::string_view kFlagNoRoute = "no_route";
inline constexpr std::string_view kFlagBadRequest = "bad_request";

struct AccessLogRecord {
  // Wall clock (CLOCK_REALTIME) when the request's first byte arrived, in
  // microseconds since the Unix epoch. Logged as RFC 3339 UTC with
  // milliseconds.
  int64_t start_unix_micros = 0;
  uint32_t shard = 0;
  Endpoint client;
  std::string_view listener;
  std::string_view method;     // as received ("GET", or any token)
  std::string_view authority;  // the request's host (RequestHead::host())
  std::string_view path;       // the request target as received
  std::string_view protocol;   // "HTTP/1.1", "HTTP/1.0"
  uint16_t status = 0;         // 0: no response was sent
  std::string_view response_flags;  // kFlag*; empty is logged as "-"
  uint64_t bytes_received = 0;      // from the client, head and body
  uint64_t bytes_sent = 0;          // to the client, head and body
  Duration duration;                // first byte received to last byte sent
  std::string_view upstream_pool;
  std::optional<Endpoint> upstream_endpoint;  // none when no upstream was tried
  std::optional<Duration> upstream_connect;   // time to connect to it
  std::string_view route;
  uint32_t retries = 0;
  std::string_view user_agent;
  std::string_view x_forwarded_for;  // as received, before we appended
  std::string_view request_id;       // X-Request-Id, when present
};

}  // namespace locus::proxy::accesslog

#endif  // LOCUS_PROXY_ACCESSLOG_RECORD_H_
