// The admin HTTP endpoint: a small HTTP/1.1 server on a loopback address,
// on kernel sockets and one thread of its own (never a data-path thread).
// What it serves is in admin_http.h; the content comes from AdminHandlers,
// called on this thread.
//
// One poll() loop serves every connection. Requests are parsed by the
// project's strict http::RequestParser with small limits (kAdmin*). Keep-
// alive and pipelining work; responses are written in request order, one
// request at a time per connection. Bounds:
//   * max_connections clients at once (default kDefaultAdminMaxConnections).
//     One more is accepted, answered 503 and closed; up to
//     kMaxRefusedConnections such refusals are in flight at once, beyond
//     that a connection is closed without an answer.
//   * read_timeout: a whole request must arrive within it, counted from the
//     accept or from the end of the previous response. An idle connection is
//     closed; one with part of a request gets 408 and is closed.
//   * write_timeout: a response that makes no progress for this long is
//     abandoned and the connection closed.
//   * When the server closes a connection it shuts down its side and reads
//     (and discards) what the client still sends for up to kLingerTimeout,
//     so that the client reads the last response instead of a reset.
// Stop() closes every connection at once (no draining) and joins.
#ifndef LOCUS_PROXY_ADMIN_ADMIN_SERVER_H_
#define LOCUS_PROXY_ADMIN_ADMIN_SERVER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proxy/admin/handlers.h"
#include "stack/base/time.h"

namespace locus::proxy::admin {

inline constexpr uint16_t kDefaultAdminPort = 9901;  // Envoy's admin port too
inline constexpr char kDefaultAdminAddress[] = "127.0.0.1";

// Clients served at once. Admin clients are a scraper, a probe or two and an
// operator: 16 leaves room.
inline constexpr uint32_t kDefaultAdminMaxConnections = 16;
inline constexpr uint32_t kMaxAdminMaxConnections = 1024;
// Connections being answered 503 at once (see the file comment).
inline constexpr uint32_t kMaxRefusedConnections = 16;

inline constexpr Duration kDefaultAdminReadTimeout = Duration::Seconds(10);
inline constexpr Duration kDefaultAdminWriteTimeout = Duration::Seconds(10);
inline constexpr Duration kMinAdminTimeout = Duration::Millis(1);
inline constexpr Duration kMaxAdminTimeout = Duration::Seconds(3600);
inline constexpr Duration kLingerTimeout = Duration::Seconds(1);

// Request parser limits: admin requests are a line and a few fields.
inline constexpr uint32_t kAdminMaxStartLine = 2 * 1024;      // over it: 414
inline constexpr uint32_t kAdminMaxHeaderSection = 8 * 1024;  // over it: 431
inline constexpr uint32_t kAdminMaxHeaderCount = 32;          // over it: 431
// A request with content is answered and the connection closed without
// reading it; this only bounds what the parser would accept as a length.
inline constexpr uint64_t kAdminMaxRequestBody = 64 * 1024;  // over it: 413
// Per-connection input buffer: holds any head the limits allow (start line,
// header section, leading empty lines), so a full buffer always holds a
// whole head or a parser error.
inline constexpr uint32_t kAdminInputBufferBytes = 16 * 1024;
static_assert(kAdminInputBufferBytes >=
              kAdminMaxStartLine + 2 + kAdminMaxHeaderSection + 2 * 4 /* empty lines */);

inline constexpr int kAdminListenBacklog = 64;
// accept() calls per wake-up, so a connection flood cannot starve clients.
inline constexpr uint32_t kMaxAcceptsPerWake = 64;
// Requests handled per connection per wake-up (pipelined requests beyond
// wait for the next turn).
inline constexpr uint32_t kMaxRequestsPerWake = 8;

struct AdminServerOptions {
  std::string address = kDefaultAdminAddress;  // numeric IPv4 or IPv6
  uint16_t port = kDefaultAdminPort;           // 0: an ephemeral port (see port())
  // The admin endpoint has no authentication: anything but a loopback
  // address is refused unless this is set.
  bool allow_non_loopback = false;
  uint32_t max_connections = kDefaultAdminMaxConnections;
  Duration read_timeout = kDefaultAdminReadTimeout;
  Duration write_timeout = kDefaultAdminWriteTimeout;

  absl::Status Validate() const;
};

struct AdminServerCounters {
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0;  // over max_connections (503 or plain close)
  uint64_t requests = 0;             // parsed requests answered
  uint64_t bad_requests = 0;         // parser rejections (4xx/5xx from the parser)
  uint64_t timeouts = 0;             // read or write timeouts
  uint64_t open_connections = 0;     // now, counted toward max_connections
};

class AdminServer {
 public:
  // Binds, listens and starts the thread. InvalidArgument for bad options or
  // a non-loopback address without allow_non_loopback; Unavailable when the
  // socket cannot be bound.
  static absl::StatusOr<std::unique_ptr<AdminServer>> Start(const AdminServerOptions& options,
                                                            AdminHandlers handlers);

  ~AdminServer();  // Stop()
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Closes every connection and the listener, joins the thread. Idempotent;
  // call it from the thread that started the server.
  void Stop();

  // The bound port (the ephemeral one when options.port was 0).
  uint16_t port() const { return port_; }
  const AdminServerOptions& options() const { return options_; }
  AdminServerCounters counters() const;

 private:
  struct Connection;

  AdminServer(const AdminServerOptions& options, AdminHandlers handlers, int listen_fd,
              int wake_fd, uint16_t port);
  void Run();
  void AcceptSome(Instant now);
  void OnReadable(Connection& c, Instant now);
  // Answers buffered requests and writes, one response at a time, up to
  // kMaxRequestsPerWake; then lingers if the connection is to close.
  void Service(Connection& c, Instant now);
  // Parses until one response is queued (true) or more bytes are needed.
  bool ProcessOne(Connection& c, Instant now);
  void RespondToParserError(Connection& c, Instant now);
  void Write(Connection& c, Instant now);
  void BeginLinger(Connection& c, Instant now);
  void OnDeadline(Connection& c, Instant now);
  void Close(Connection& c);
  void Reap();
  void SelfMetrics(PrometheusWriter& w) const;
  static void Bump(std::atomic<uint64_t>& c, int64_t by = 1) {
    c.store(c.load(std::memory_order_relaxed) + static_cast<uint64_t>(by),
            std::memory_order_relaxed);
  }

  const AdminServerOptions options_;
  const AdminHandlers handlers_;
  const int listen_fd_;
  const int wake_fd_;  // eventfd: Stop() wakes the poll
  const uint16_t port_;
  std::atomic<bool> stop_{false};
  std::thread thread_;

  // Admin thread only.
  std::vector<std::unique_ptr<Connection>> connections_;
  uint32_t active_ = 0;   // counted toward max_connections
  uint32_t refused_ = 0;  // answering 503
  Instant accept_paused_until_;
  std::string date_;  // the Date value, refreshed once per second
  int64_t date_second_ = -1;

  std::atomic<uint64_t> connections_accepted_{0};
  std::atomic<uint64_t> connections_refused_{0};
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> bad_requests_{0};
  std::atomic<uint64_t> timeouts_{0};
  std::atomic<uint64_t> open_connections_{0};
};

}  // namespace locus::proxy::admin

#endif  // LOCUS_PROXY_ADMIN_ADMIN_SERVER_H_
