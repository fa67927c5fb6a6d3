#include "proxy/admin/admin_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "proxy/admin/admin_http.h"
#include "proxy/http/http_parser.h"

namespace locus::proxy::admin {
namespace {

absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

struct BindAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  bool loopback = false;
};

absl::StatusOr<BindAddress> ParseAddress(const std::string& text, uint16_t port) {
  BindAddress a;
  in_addr v4;
  in6_addr v6;
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&a.storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr = v4;
    a.length = sizeof(sockaddr_in);
    a.loopback = (ntohl(v4.s_addr) >> 24) == 127;
  } else if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    sin6->sin6_addr = v6;
    a.length = sizeof(sockaddr_in6);
    a.loopback = IN6_IS_ADDR_LOOPBACK(&v6) || (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("admin address \"", text, "\" is not a numeric IPv4 or IPv6 address"));
  }
  return a;
}

http::Limits AdminLimits() {
  http::Limits l;
  l.max_start_line = kAdminMaxStartLine;
  l.max_header_section = kAdminMaxHeaderSection;
  l.max_header_count = kAdminMaxHeaderCount;
  l.max_request_body = kAdminMaxRequestBody;
  return l;
}

int CeilMillis(Duration d) {
  if (d <= Duration::Zero()) return 0;
  return static_cast<int>(std::min<int64_t>((d.nanos() + 999999) / 1000000, 1000));
}

}  // namespace

struct AdminServer::Connection {
  Connection(int fd_in, bool counted_in) : fd(fd_in), counted(counted_in), parser(AdminLimits()) {}

  bool pending() const { return sent < out.size(); }

  int fd;
  const bool counted;          // toward max_connections (else a refusal)
  bool closed = false;
  bool peer_eof = false;       // the client shut down its side
  bool close_after_write = false;
  bool lingering = false;      // our side shut down; discarding input
  bool runnable = false;       // stopped at kMaxRequestsPerWake with input left
  Instant deadline;
  http::RequestParser parser;
  std::unique_ptr<char[]> in{new char[kAdminInputBufferBytes]};
  size_t in_len = 0;
  std::string out;
  size_t sent = 0;
};

absl::Status AdminServerOptions::Validate() const {
  if (max_connections < 1 || max_connections > kMaxAdminMaxConnections) {
    return absl::InvalidArgumentError(absl::StrCat("admin max_connections ", max_connections,
                                                   " outside [1, ", kMaxAdminMaxConnections,
                                                   "]"));
  }
  for (const auto& [name, value] : {std::pair{"read_timeout", read_timeout},
                                    std::pair{"write_timeout", write_timeout}}) {
    if (value < kMinAdminTimeout || value > kMaxAdminTimeout) {
      return absl::InvalidArgumentError(absl::StrCat(
          "admin ", name, " ", value.millis(), " ms outside [", kMinAdminTimeout.millis(), ", ",
          kMaxAdminTimeout.millis(), "] ms"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<AdminServer>> AdminServer::Start(const AdminServerOptions& options,
                                                                AdminHandlers handlers) {
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  absl::StatusOr<BindAddress> address = ParseAddress(options.address, options.port);
  if (!address.ok()) return address.status();
  if (!address->loopback && !options.allow_non_loopback) {
    return absl::InvalidArgumentError(absl::StrCat(
        "admin address ", options.address,
        " is not a loopback address (127.0.0.0/8 or ::1); the admin endpoint has no "
        "authentication, set allow_non_loopback to serve it there anyway"));
  }
  const std::string where = absl::StrCat(options.address, " port ", options.port);
  const int fd = socket(address->storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("admin socket: ", strerror(errno)));
  }
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (address->storage.ss_family == AF_INET6) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  }
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address->storage), address->length) != 0) {
    const int e = errno;
    close(fd);
    return absl::UnavailableError(absl::StrCat("cannot bind admin ", where, ": ", strerror(e)));
  }
  if (listen(fd, kAdminListenBacklog) != 0) {
    const int e = errno;
    close(fd);
    return absl::UnavailableError(
        absl::StrCat("cannot listen on admin ", where, ": ", strerror(e)));
  }
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length);
  const uint16_t port = ntohs(bound.ss_family == AF_INET6
                                  ? reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port
                                  : reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
  const int wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake < 0) {
    const int e = errno;
    close(fd);
    return absl::UnavailableError(absl::StrCat("admin eventfd: ", strerror(e)));
  }
  std::unique_ptr<AdminServer> server(
      new AdminServer(options, std::move(handlers), fd, wake, port));
  server->thread_ = std::thread([s = server.get()] { s->Run(); });
  pthread_setname_np(server->thread_.native_handle(), "admin");
  return server;
}

AdminServer::AdminServer(const AdminServerOptions& options, AdminHandlers handlers, int listen_fd,
                         int wake_fd, uint16_t port)
    : options_(options),
      handlers_(std::move(handlers)),
      listen_fd_(listen_fd),
      wake_fd_(wake_fd),
      port_(port) {}

AdminServer::~AdminServer() {
  Stop();
  close(wake_fd_);
}

void AdminServer::Stop() {
  if (!thread_.joinable()) return;
  stop_.store(true, std::memory_order_release);
  const uint64_t one = 1;
  // Cannot fail but for a counter at 2^64-1; the loop also re-checks stop_
  // at least once a second.
  [[maybe_unused]] ssize_t w = write(wake_fd_, &one, sizeof(one));
  thread_.join();
}

AdminServerCounters AdminServer::counters() const {
  AdminServerCounters c;
  c.connections_accepted = connections_accepted_.load(std::memory_order_relaxed);
  c.connections_refused = connections_refused_.load(std::memory_order_relaxed);
  c.requests = requests_.load(std::memory_order_relaxed);
  c.bad_requests = bad_requests_.load(std::memory_order_relaxed);
  c.timeouts = timeouts_.load(std::memory_order_relaxed);
  c.open_connections = open_connections_.load(std::memory_order_relaxed);
  return c;
}

void AdminServer::Run() {
  std::vector<pollfd> fds;
  std::vector<Connection*> polled;
  while (!stop_.load(std::memory_order_acquire)) {
    Instant now = MonotonicNow();
    const int64_t second = time(nullptr);
    if (second != date_second_) {
      date_second_ = second;
      date_ = FormatHttpDate(second);
    }
    for (auto& c : connections_) {
      if (!c->closed && now >= c->deadline) OnDeadline(*c, now);
    }
    Reap();

    fds.clear();
    polled.clear();
    fds.push_back({wake_fd_, POLLIN, 0});
    const bool accepting = now >= accept_paused_until_;
    fds.push_back({accepting ? listen_fd_ : -1, POLLIN, 0});  // poll ignores fd -1
    Instant wake_at = now + Duration::Seconds(1);
    if (!accepting) wake_at = std::min(wake_at, accept_paused_until_);
    for (auto& c : connections_) {
      short events = 0;
      if (c->pending()) events |= POLLOUT;
      if (c->lingering || (!c->peer_eof && c->in_len < kAdminInputBufferBytes)) events |= POLLIN;
      fds.push_back({c->fd, events, 0});
      polled.push_back(c.get());
      wake_at = std::min(wake_at, c->runnable ? now : c->deadline);
    }
    const int ready = poll(fds.data(), fds.size(), CeilMillis(wake_at - now));
    if (ready < 0 && errno != EINTR) {
      // ENOMEM and the like: nothing to do but try again, without spinning.
      const timespec pause{0, 10 * 1000 * 1000};
      nanosleep(&pause, nullptr);
      continue;
    }
    if (ready < 0) continue;
    if ((fds[0].revents & POLLIN) != 0) {
      uint64_t value;
      [[maybe_unused]] ssize_t r = read(wake_fd_, &value, sizeof(value));
    }
    if (stop_.load(std::memory_order_acquire)) break;
    now = MonotonicNow();
    for (size_t i = 0; i < polled.size(); ++i) {
      Connection& c = *polled[i];
      const short revents = fds[i + 2].revents;
      if (c.closed) continue;
      if ((revents & POLLERR) != 0) {
        Close(c);
        continue;
      }
      if ((revents & (POLLIN | POLLHUP)) != 0) OnReadable(c, now);
      // POLLHUP: both directions are gone (not a mere FIN); nobody to answer.
      if (!c.closed && (revents & POLLHUP) != 0) Close(c);
      if (!c.closed && (revents & POLLOUT) != 0) Service(c, now);
      if (!c.closed && revents == 0 && c.runnable) Service(c, now);
    }
    if ((fds[1].revents & POLLIN) != 0) AcceptSome(now);
    Reap();
  }
  for (auto& c : connections_) {
    if (!c->closed) Close(*c);
  }
  connections_.clear();
  close(listen_fd_);
}

void AdminServer::AcceptSome(Instant now) {
  for (uint32_t i = 0; i < kMaxAcceptsPerWake; ++i) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // The listener stays readable: stop polling it for a moment instead
        // of spinning.
        accept_paused_until_ = now + Duration::Millis(100);
      }
      return;
    }
    Bump(connections_accepted_);
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (active_ < options_.max_connections) {
      auto c = std::make_unique<Connection>(fd, /*counted=*/true);
      c->deadline = now + options_.read_timeout;
      ++active_;
      open_connections_.store(active_, std::memory_order_relaxed);
      connections_.push_back(std::move(c));
      continue;
    }
    Bump(connections_refused_);
    if (refused_ >= kMaxRefusedConnections) {
      close(fd);
      continue;
    }
    auto c = std::make_unique<Connection>(fd, /*counted=*/false);
    ++refused_;
    ResponseSpec spec;
    spec.status = 503;
    const std::string body =
        absl::StrCat("too many admin connections (limit ", options_.max_connections, ")\n");
    spec.body = body;
    WriteResponse(spec, date_, &c->out);
    c->close_after_write = true;
    c->deadline = now + options_.write_timeout;
    Service(*c, now);
    connections_.push_back(std::move(c));
  }
}

void AdminServer::OnReadable(Connection& c, Instant now) {
  if (c.lingering) {
    char discard[4096];
    for (int i = 0; i < 16; ++i) {
      const ssize_t r = recv(c.fd, discard, sizeof(discard), 0);
      if (r > 0) continue;
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      Close(c);  // EOF or error: the client has read what it wanted
      return;
    }
    return;
  }
  if (c.peer_eof || c.in_len == kAdminInputBufferBytes) return;
  const ssize_t r = recv(c.fd, c.in.get() + c.in_len, kAdminInputBufferBytes - c.in_len, 0);
  if (r > 0) {
    c.in_len += static_cast<size_t>(r);
  } else if (r == 0) {
    c.peer_eof = true;
  } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
    return;
  } else {
    Close(c);
    return;
  }
  Service(c, now);
}

void AdminServer::Service(Connection& c, Instant now) {
  c.runnable = false;
  for (uint32_t n = 0; n <= kMaxRequestsPerWake; ++n) {
    if (c.closed || c.lingering) return;
    if (!c.pending() && !c.close_after_write) {
      if (n == kMaxRequestsPerWake) {
        c.runnable = true;  // let the other connections have a turn, then go on
        return;
      }
      if (!ProcessOne(c, now)) return;  // waiting for bytes
    }
    if (c.pending()) {
      Write(c, now);
      if (c.closed || c.pending()) return;  // wait for POLLOUT
    }
    if (c.close_after_write) {
      BeginLinger(c, now);
      return;
    }
  }
}

bool AdminServer::ProcessOne(Connection& c, Instant now) {
  auto consume = [&c](size_t n) {
    if (n == 0) return;
    std::memmove(c.in.get(), c.in.get() + n, c.in_len - n);
    c.in_len -= n;
  };
  // A request is a few events (head, message complete, paused); the bound
  // only guards against a parser that would stop making progress.
  for (int step = 0; step < 8; ++step) {
    const http::Step s = c.parser.Parse(std::string_view(c.in.get(), c.in_len));
    switch (s.event) {
      case http::Event::kNeedMore:
        consume(s.consumed);
        if (!c.peer_eof) return false;
        if (c.parser.Finish().event == http::Event::kError) {
          RespondToParserError(c, now);
        } else {
          c.close_after_write = true;  // a clean end between requests
        }
        return true;
      case http::Event::kHead: {
        Bump(requests_);
        const AdminResponse r = WriteAdminResponse(
            handlers_, [this](PrometheusWriter& w) { SelfMetrics(w); }, c.parser.head(), date_,
            &c.out);
        consume(s.consumed);  // the head's views are not used past here
        if (!r.keep_alive) c.close_after_write = true;
        c.deadline = now + options_.write_timeout;
        return true;
      }
      case http::Event::kPaused:
        consume(s.consumed);
        c.parser.RejectUpgrade();  // the 200 went out; no protocol switch
        continue;
      case http::Event::kBody:
      case http::Event::kTrailers:
      case http::Event::kMessageComplete:
        consume(s.consumed);
        continue;
      case http::Event::kError:
        RespondToParserError(c, now);
        return true;
      case http::Event::kDone:
      case http::Event::kTunnel:  // not reached: upgrades are rejected
        consume(s.consumed);
        c.close_after_write = true;
        return true;
    }
  }
  return true;
}

void AdminServer::RespondToParserError(Connection& c, Instant now) {
  Bump(bad_requests_);
  ResponseSpec spec;
  spec.status = c.parser.error_status();
  const std::string body = absl::StrCat(spec.status, " ", AV(AdminReasonPhrase(spec.status)),
                                        "\n", AV(http::HttpErrorName(c.parser.error())), "\n");
  spec.body = body;
  WriteResponse(spec, date_, &c.out);
  c.close_after_write = true;
  c.deadline = now + options_.write_timeout;
}

void AdminServer::Write(Connection& c, Instant now) {
  for (int i = 0; i < 64 && c.pending(); ++i) {
    const ssize_t r = send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent,
                           MSG_NOSIGNAL | MSG_DONTWAIT);
    if (r > 0) {
      c.sent += static_cast<size_t>(r);
      c.deadline = now + options_.write_timeout;  // progress
    } else if (r < 0 && errno == EINTR) {
      continue;
    } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return;
    } else {
      Close(c);
      return;
    }
  }
  if (c.pending()) return;
  // Do not keep a large /metrics body's buffer per idle connection.
  if (c.out.capacity() > 64 * 1024) {
    std::string().swap(c.out);
  } else {
    c.out.clear();
  }
  c.sent = 0;
  if (!c.close_after_write) c.deadline = now + options_.read_timeout;  // the next request
}

void AdminServer::BeginLinger(Connection& c, Instant now) {
  if (c.peer_eof) {
    Close(c);  // the client sends nothing more: no reset to fear
    return;
  }
  shutdown(c.fd, SHUT_WR);
  c.lingering = true;
  c.deadline = now + kLingerTimeout;
}

void AdminServer::OnDeadline(Connection& c, Instant now) {
  if (c.lingering) {
    Close(c);
    return;
  }
  Bump(timeouts_);
  if (c.pending() || c.close_after_write || c.in_len == 0) {
    Close(c);  // a stalled response, or an idle connection
    return;
  }
  // Part of a request arrived, not all of it in time.
  ResponseSpec spec;
  spec.status = 408;
  spec.body = "408 Request Timeout\n";
  WriteResponse(spec, date_, &c.out);
  c.close_after_write = true;
  c.deadline = now + options_.write_timeout;
  Service(c, now);
}

void AdminServer::Close(Connection& c) {
  if (c.closed) return;
  close(c.fd);
  c.fd = -1;
  c.closed = true;
  if (c.counted) {
    --active_;
    open_connections_.store(active_, std::memory_order_relaxed);
  } else {
    --refused_;
  }
}

void AdminServer::Reap() {
  connections_.erase(std::remove_if(connections_.begin(), connections_.end(),
                                    [](const std::unique_ptr<Connection>& c) { return c->closed; }),
                     connections_.end());
}

void AdminServer::SelfMetrics(PrometheusWriter& w) const {
  const AdminServerCounters n = counters();
  w.Counter("locus_admin_connections_accepted_total", "Connections the admin server accepted.",
            n.connections_accepted);
  w.Counter("locus_admin_connections_refused_total",
            "Admin connections refused at the connection limit.", n.connections_refused);
  w.Counter("locus_admin_requests_total", "Admin requests answered.", n.requests);
  w.Counter("locus_admin_bad_requests_total", "Admin requests the HTTP parser rejected.",
            n.bad_requests);
  w.Counter("locus_admin_timeouts_total", "Admin connections closed by a read or write timeout.",
            n.timeouts);
  w.Gauge("locus_admin_open_connections", "Admin connections open now.", n.open_connections);
}

}  // namespace locus::proxy::admin
