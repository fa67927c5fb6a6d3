#include "proxy/admin/admin_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "proxy/admin/admin_http.h"
#include "proxy/http/http_parser.h"

namespace locus::proxy::admin {
namespace {

using Clock = std::chrono::steady_clock;

struct Response {
  uint16_t status = 0;
  std::map<std::string, std::string> fields;  // lower-case names
  std::string body;

  std::string field(const std::string& name) const {
    auto it = fields.find(name);
    return it == fields.end() ? "" : it->second;
  }
};

// A blocking test client. Every receive times out after 5 s, so no test
// waits forever; responses are read with the project's strict response
// parser, which also checks that the server's bytes are well-formed.
class Client {
 public:
  static std::unique_ptr<Client> Connect(uint16_t port, int rcvbuf = 0,
                                         const char* address = "127.0.0.1") {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return nullptr;
    if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    inet_pton(AF_INET, address, &sin.sin_addr);
    if (connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) != 0) {
      close(fd);
      return nullptr;
    }
    return std::unique_ptr<Client>(new Client(fd));
  }

  ~Client() { close(fd_); }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t r = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (r <= 0) return false;
      data.remove_prefix(static_cast<size_t>(r));
    }
    return true;
  }

  void ShutdownWrite() { shutdown(fd_, SHUT_WR); }

  // One response; nullopt on EOF, reset, timeout or a malformed response.
  std::optional<Response> Read(http::Method method = http::Method::kGet) {
    parser_.ExpectResponse({method, false});
    Response r;
    for (int i = 0; i < 100000; ++i) {
      const http::Step s = parser_.Parse(buffer_);
      switch (s.event) {
        case http::Event::kNeedMore:
          buffer_.erase(0, s.consumed);
          if (!Receive()) return std::nullopt;
          continue;
        case http::Event::kHead: {
          const http::ResponseHead& head = parser_.head();
          r.status = head.status();
          for (size_t k = 0; k < head.fields().size(); ++k) {
            std::string name(head.fields().name(k));
            for (char& c : name) c = static_cast<char>(tolower(c));
            r.fields[name] = std::string(head.fields().value(k));
          }
          buffer_.erase(0, s.consumed);
          continue;
        }
        case http::Event::kBody:
          r.body.append(reinterpret_cast<const char*>(s.data.data()), s.data.size());
          buffer_.erase(0, s.consumed);
          continue;
        case http::Event::kMessageComplete:
          buffer_.erase(0, s.consumed);
          return r;
        default:
          ADD_FAILURE() << "client parser: " << http::EventName(s.event) << " "
                        << http::HttpErrorName(parser_.error());
          return std::nullopt;
      }
    }
    return std::nullopt;
  }

  // Send a request, read its response.
  std::optional<Response> Get(const std::string& target, const std::string& fields = "") {
    if (!Send("GET " + target + " HTTP/1.1\r\nHost: admin\r\n" + fields + "\r\n")) {
      return std::nullopt;
    }
    return Read();
  }

  // True when the server closed the connection (EOF or reset) within 5 s
  // and sent nothing more.
  bool ClosedByServer() {
    if (!buffer_.empty()) return false;
    char c;
    const ssize_t r = recv(fd_, &c, 1, 0);
    return r == 0 || (r < 0 && errno == ECONNRESET);
  }

  int fd() const { return fd_; }

 private:
  explicit Client(int fd) : fd_(fd) {}

  bool Receive() {
    char buf[16384];
    const ssize_t r = recv(fd_, buf, sizeof(buf), 0);
    if (r <= 0) return false;
    buffer_.append(buf, static_cast<size_t>(r));
    return true;
  }

  int fd_;
  std::string buffer_;
  http::ResponseParser parser_;
};

// Polls `done` every millisecond for at most `limit`.
template <typename F>
bool WaitFor(F done, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return done();
}

class AdminServerTest : public ::testing::Test {
 protected:
  AdminHandlers Handlers() {
    AdminHandlers h;
    h.metrics = [this](PrometheusWriter& w) {
      handler_thread_ = std::this_thread::get_id();
      w.Counter("locus_test_requests_total", "Requests.", 42, {{"shard", "0"}});
    };
    h.stats_json = [this] {
      handler_thread_ = std::this_thread::get_id();
      return big_stats_ ? std::string(big_stats_size_, 'x') : std::string("{\"requests\":42}");
    };
    h.config_json = [] { return std::string("{\"admin\":{\"port\":0}}"); };
    h.ready = [this] {
      return ready_.load() ? absl::OkStatus() : absl::UnavailableError("warming up");
    };
    return h;
  }

  void StartServer(AdminServerOptions o = AdminServerOptions()) {
    o.port = 0;
    auto s = AdminServer::Start(o, Handlers());
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
    port_ = server_->port();
    ASSERT_NE(port_, 0);
    std::cout << "admin server bound to " << o.address << ":" << port_ << std::endl;
    RecordProperty("admin_port", port_);
  }

  std::unique_ptr<Client> Connect() {
    auto c = Client::Connect(port_);
    EXPECT_NE(c, nullptr) << strerror(errno);
    return c;
  }

  std::unique_ptr<AdminServer> server_;
  uint16_t port_ = 0;
  std::atomic<bool> ready_{true};
  std::atomic<bool> big_stats_{false};
  size_t big_stats_size_ = 32 << 20;  // more than loopback socket buffers hold
  std::thread::id handler_thread_;
};

TEST_F(AdminServerTest, ServesEveryEndpointOnAnEphemeralPort) {
  StartServer();
  auto c = Connect();
  ASSERT_NE(c, nullptr);

  auto r = c->Get("/metrics");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->field("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r->body.find("# TYPE locus_test_requests_total counter\n"
                         "locus_test_requests_total{shard=\"0\"} 42\n"),
            std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find("# TYPE locus_admin_requests_total counter\nlocus_admin_requests_total 1\n"),
            std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find("locus_admin_open_connections 1\n"), std::string::npos);
  EXPECT_NE(handler_thread_, std::this_thread::get_id());
  EXPECT_NE(handler_thread_, std::thread::id());

  r = c->Get("/stats");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->field("content-type"), "application/json");
  EXPECT_EQ(r->body, "{\"requests\":42}");

  r = c->Get("/config");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"admin\":{\"port\":0}}");

  r = c->Get("/ready");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ready\n");
  ready_ = false;
  r = c->Get("/ready");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "not ready: warming up\n");

  r = c->Get("/healthz");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok\n");

  r = c->Get("/");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.rfind("Locus admin\n", 0), 0u);

  EXPECT_FALSE(r->field("date").empty());
  EXPECT_EQ(r->field("cache-control"), "no-store");
  const AdminServerCounters n = server_->counters();
  EXPECT_EQ(n.connections_accepted, 1u);
  EXPECT_EQ(n.requests, 7u);
  EXPECT_EQ(n.open_connections, 1u);
}

TEST_F(AdminServerTest, HeadGetsTheHeadOnly) {
  StartServer();
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Send("HEAD /stats HTTP/1.1\r\nHost: admin\r\n\r\n"));
  auto r = c->Read(http::Method::kHead);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->field("content-length"), "15");
  EXPECT_EQ(r->body, "");
  // The connection is still in step: the next response is the next one.
  r = c->Get("/healthz");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "ok\n");
}

TEST_F(AdminServerTest, KeepAliveAndPipelining) {
  StartServer();
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  // Two requests one after the other on one connection.
  auto r = c->Get("/healthz");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->field("connection"), "");
  r = c->Get("/stats");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "{\"requests\":42}");

  // Many pipelined in one write (more than kMaxRequestsPerWake), answered
  // in order.
  constexpr uint32_t kCount = 3 * kMaxRequestsPerWake + 1;
  std::string batch;
  for (uint32_t i = 0; i < kCount; ++i) {
    batch += std::string("GET ") + (i % 2 == 0 ? "/healthz" : "/ready") +
             " HTTP/1.1\r\nHost: admin\r\n\r\n";
  }
  ASSERT_TRUE(c->Send(batch));
  for (uint32_t i = 0; i < kCount; ++i) {
    r = c->Read();
    ASSERT_TRUE(r.has_value()) << i;
    EXPECT_EQ(r->body, i % 2 == 0 ? "ok\n" : "ready\n") << i;
  }
  EXPECT_EQ(server_->counters().connections_accepted, 1u);
  EXPECT_EQ(server_->counters().requests, 2 + kCount);
}

TEST_F(AdminServerTest, ConnectionCloseAndHttp10) {
  StartServer();
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  auto r = c->Get("/healthz", "Connection: close\r\n");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->field("connection"), "close");
  EXPECT_TRUE(c->ClosedByServer());

  c = Connect();
  ASSERT_TRUE(c->Send("GET /healthz HTTP/1.0\r\n\r\n"));
  r = c->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->field("connection"), "close");
  EXPECT_TRUE(c->ClosedByServer());

  c = Connect();
  ASSERT_TRUE(c->Send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  r = c->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->field("connection"), "keep-alive");
  ASSERT_TRUE(c->Send("GET /ready HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  r = c->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "ready\n");
}

TEST_F(AdminServerTest, ClientHalfCloseStillGetsItsAnswer) {
  StartServer();
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Send("GET /healthz HTTP/1.1\r\nHost: admin\r\n\r\n"
                      "GET /ready HTTP/1.1\r\nHost: admin\r\n\r\n"));
  c->ShutdownWrite();
  auto r = c->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "ok\n");
  r = c->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "ready\n");
  EXPECT_TRUE(c->ClosedByServer());
}

TEST_F(AdminServerTest, NotFoundAndMethodNotAllowedKeepTheConnection) {
  StartServer();
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  auto r = c->Get("/nope");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 404);
  ASSERT_TRUE(c->Send("POST /metrics HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n\r\n"));
  r = c->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->field("allow"), "GET, HEAD");
  ASSERT_TRUE(c->Send("OPTIONS * HTTP/1.1\r\nHost: admin\r\n\r\n"));
  r = c->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 404);
  r = c->Get("/healthz");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);

  // With content the answer comes, then the connection closes (the content
  // is never read).
  ASSERT_TRUE(c->Send("PUT /config HTTP/1.1\r\nHost: admin\r\nContent-Length: 5\r\n\r\nhello"));
  r = c->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->field("connection"), "close");
  EXPECT_TRUE(c->ClosedByServer());
}

TEST_F(AdminServerTest, UpgradeIsNotHonouredButTheConnectionGoesOn) {
  StartServer();
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  auto r = c->Get("/healthz", "Connection: upgrade\r\nUpgrade: websocket\r\n");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  r = c->Get("/ready");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "ready\n");
}

// Malformed requests: the parser's status, then the connection closes.
TEST_F(AdminServerTest, MalformedRequestsGetTheParsersStatusAndClose) {
  StartServer();
  struct Case {
    std::string request;
    uint16_t status;
  };
  const std::vector<Case> cases = {
      {"garbage\r\n\r\n", 400},
      {"GET /healthz HTTP/1.1\r\n\r\n", 400},                          // no Host
      {"GET /healthz HTTP/1.1\nHost: a\n\n", 400},                     // bare LF
      {"GET /healthz HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", 400},
      {"GET /healthz HTTP/2.0\r\nHost: a\r\n\r\n", 505},
      {"GET /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx", 400},  // content
      {"GET /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999\r\n\r\n", 413},
  };
  uint64_t parser_rejections = 0;
  for (const Case& k : cases) {
    auto c = Connect();
    ASSERT_NE(c, nullptr);
    ASSERT_TRUE(c->Send(k.request));
    auto r = c->Read();
    ASSERT_TRUE(r.has_value()) << k.request;
    EXPECT_EQ(r->status, k.status) << k.request;
    EXPECT_EQ(r->field("connection"), "close") << k.request;
    EXPECT_TRUE(c->ClosedByServer()) << k.request;
    if (k.request.find("Content-Length: 1\r\n") == std::string::npos) ++parser_rejections;
  }
  EXPECT_EQ(server_->counters().bad_requests, parser_rejections);
}

TEST_F(AdminServerTest, StartLineAndFieldCountLimits) {
  StartServer();
  // "GET " + target + " HTTP/1.1" is exactly kAdminMaxStartLine: parsed
  // (404); one byte more: 414.
  const std::string prefix = "GET /";
  const std::string suffix = " HTTP/1.1";
  const std::string target(kAdminMaxStartLine - prefix.size() - suffix.size(), 'a');
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Send(prefix + target + suffix + "\r\nHost: a\r\n\r\n"));
  auto r = c->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 404);
  ASSERT_TRUE(c->Send(prefix + target + "a" + suffix + "\r\nHost: a\r\n\r\n"));
  r = c->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 414);
  EXPECT_TRUE(c->ClosedByServer());

  // kAdminMaxHeaderCount fields (Host and the rest): 200; one more: 431.
  std::string fields;
  for (uint32_t i = 1; i < kAdminMaxHeaderCount; ++i) fields += "X-F" + std::to_string(i) + ": v\r\n";
  c = Connect();
  ASSERT_NE(c, nullptr);
  r = c->Get("/healthz", fields);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  r = c->Get("/healthz", fields + "X-Extra: v\r\n");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 431);
  EXPECT_TRUE(c->ClosedByServer());
}

// max_connections clients are served; one more gets 503 and is closed; a
// slot freed is usable again.
void CheckConnectionLimit(AdminServerTest* t, uint16_t port, uint32_t limit,
                          AdminServer* server) {
  std::vector<std::unique_ptr<Client>> clients;
  for (uint32_t i = 0; i < limit; ++i) {
    clients.push_back(Client::Connect(port));
    ASSERT_NE(clients.back(), nullptr);
    auto r = clients.back()->Get("/healthz");  // also proves it was accepted
    ASSERT_TRUE(r.has_value()) << i;
    EXPECT_EQ(r->status, 200) << i;
  }
  EXPECT_EQ(server->counters().open_connections, limit);

  // limit + 1: a 503 without asking...
  auto extra = Client::Connect(port);
  ASSERT_NE(extra, nullptr);
  auto r = extra->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "too many admin connections (limit " + std::to_string(limit) + ")\n");
  EXPECT_EQ(r->field("connection"), "close");
  EXPECT_TRUE(extra->ClosedByServer());
  // ...and when the request is already on its way (the server drains it
  // rather than resetting the connection under the 503).
  extra = Client::Connect(port);
  ASSERT_NE(extra, nullptr);
  r = extra->Get("/healthz");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 503);
  EXPECT_TRUE(extra->ClosedByServer());
  EXPECT_EQ(server->counters().connections_refused, 2u);

  // The served clients were not disturbed.
  r = clients[0]->Get("/ready");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);

  // Free one slot: a new client is served once the server has seen the close.
  clients.pop_back();
  ASSERT_TRUE(WaitFor([&] { return server->counters().open_connections == limit - 1; }));
  auto again = Client::Connect(port);
  ASSERT_NE(again, nullptr);
  r = again->Get("/healthz");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  (void)t;
}

TEST_F(AdminServerTest, ConnectionLimitAtDefault) {
  StartServer();
  CheckConnectionLimit(this, port_, kDefaultAdminMaxConnections, server_.get());
}

TEST_F(AdminServerTest, ConnectionLimitOfOne) {
  AdminServerOptions o;
  o.max_connections = 1;
  StartServer(o);
  CheckConnectionLimit(this, port_, 1, server_.get());
}

TEST_F(AdminServerTest, ReadTimeouts) {
  AdminServerOptions o;
  o.read_timeout = Duration::Millis(200);
  StartServer(o);

  // Idle from the start: closed, no answer.
  auto idle = Connect();
  ASSERT_NE(idle, nullptr);
  const auto t0 = Clock::now();
  EXPECT_TRUE(idle->ClosedByServer());
  EXPECT_GE(Clock::now() - t0, std::chrono::milliseconds(150));

  // Part of a request: 408, then closed.
  auto partial = Connect();
  ASSERT_NE(partial, nullptr);
  ASSERT_TRUE(partial->Send("GET /healthz HTTP/1.1\r\nHo"));
  auto r = partial->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 408);
  EXPECT_TRUE(partial->ClosedByServer());

  // Idle after a keep-alive response: closed.
  auto kept = Connect();
  ASSERT_NE(kept, nullptr);
  r = kept->Get("/healthz");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(kept->ClosedByServer());

  // A slow request that keeps sending still has to finish in time.
  auto slow = Connect();
  ASSERT_NE(slow, nullptr);
  bool answered_408 = false;
  for (int i = 0; i < 40 && !answered_408; ++i) {
    if (!slow->Send("X")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    pollfd pfd{slow->fd(), POLLIN, 0};
    answered_408 = poll(&pfd, 1, 0) == 1;
  }
  ASSERT_TRUE(answered_408);
  r = slow->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 408);

  EXPECT_EQ(server_->counters().timeouts, 4u);
}

TEST_F(AdminServerTest, WriteTimeoutAbandonsAClientThatDoesNotRead) {
  AdminServerOptions o;
  o.write_timeout = Duration::Millis(200);
  StartServer(o);
  big_stats_ = true;  // 32 MiB: more than the socket buffers hold
  auto c = Client::Connect(port_, /*rcvbuf=*/4096);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Send("GET /stats HTTP/1.1\r\nHost: admin\r\n\r\n"));
  // Never read: the server's sends stop making progress.
  ASSERT_TRUE(WaitFor([&] { return server_->counters().timeouts == 1; }));
  ASSERT_TRUE(WaitFor([&] { return server_->counters().open_connections == 0; }));
  // Meanwhile and afterwards others are served.
  big_stats_ = false;
  auto other = Connect();
  ASSERT_NE(other, nullptr);
  auto r = other->Get("/stats");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
}

// A closing connection with input the server never read: closing the socket
// outright would reset it and throw away the part of the response still in
// the server's send buffer. The server shuts down its side and drains
// instead, so the client gets every byte.
TEST_F(AdminServerTest, LingeringCloseDeliversTheWholeResponse) {
  StartServer();
  big_stats_size_ = 8 << 20;
  big_stats_ = true;
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Send("GET /stats HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n"));
  // Input after the last request, more than the server's buffer takes.
  const std::string junk(256 * 1024, 'j');
  size_t queued = 0;
  for (int i = 0; i < 64 && queued < junk.size(); ++i) {
    const ssize_t r =
        send(c->fd(), junk.data() + queued, junk.size() - queued, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (r <= 0) break;
    queued += static_cast<size_t>(r);
  }
  EXPECT_GT(queued, kAdminInputBufferBytes);
  // Let the server write all it can and reach the close before we read.
  ASSERT_TRUE(WaitFor([&] {
    pollfd pfd{c->fd(), POLLIN, 0};
    return poll(&pfd, 1, 0) == 1;
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto r = c->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.size(), big_stats_size_);
  EXPECT_TRUE(c->ClosedByServer());
}

TEST_F(AdminServerTest, StopWithClientsConnected) {
  StartServer();
  auto idle = Connect();
  auto partial = Connect();
  auto kept = Connect();
  ASSERT_TRUE(idle && partial && kept);
  ASSERT_TRUE(partial->Send("GET /metr"));
  auto r = kept->Get("/healthz");
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(WaitFor([&] { return server_->counters().open_connections == 3; }));

  const auto t0 = Clock::now();
  server_->Stop();
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(2));
  server_->Stop();  // idempotent
  EXPECT_TRUE(idle->ClosedByServer());
  EXPECT_TRUE(partial->ClosedByServer());
  EXPECT_TRUE(kept->ClosedByServer());
  // The listener is gone.
  EXPECT_EQ(Client::Connect(port_), nullptr);
  server_.reset();
}

TEST_F(AdminServerTest, RefusesNonLoopbackUnlessAllowed) {
  for (const char* address : {"0.0.0.0", "192.0.2.1", "10.0.0.1", "::", "2001:db8::1",
                              "::ffff:10.0.0.1"}) {
    AdminServerOptions o;
    o.address = address;
    o.port = 0;
    auto s = AdminServer::Start(o, AdminHandlers());
    ASSERT_FALSE(s.ok()) << address;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << address;
    EXPECT_NE(s.status().message().find("not a loopback address"), std::string::npos)
        << s.status();
    EXPECT_NE(s.status().message().find("allow_non_loopback"), std::string::npos);
  }
  for (const char* address : {"localhost", "", "127.1", "1.2.3.4.5"}) {
    AdminServerOptions o;
    o.address = address;
    auto s = AdminServer::Start(o, AdminHandlers());
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << address;
  }

  // All of 127.0.0.0/8 is loopback.
  AdminServerOptions o;
  o.address = "127.0.0.2";
  o.port = 0;
  auto s = AdminServer::Start(o, AdminHandlers());
  ASSERT_TRUE(s.ok()) << s.status();
  auto c = Client::Connect((*s)->port(), 0, "127.0.0.2");
  ASSERT_NE(c, nullptr);
  auto r = c->Get("/healthz");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);

  // Allowed explicitly: the wildcard address (reached here over loopback).
  o.address = "0.0.0.0";
  o.allow_non_loopback = true;
  auto any = AdminServer::Start(o, AdminHandlers());
  ASSERT_TRUE(any.ok()) << any.status();
  c = Client::Connect((*any)->port());
  ASSERT_NE(c, nullptr);
  r = c->Get("/healthz");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
}

TEST_F(AdminServerTest, Ipv6Loopback) {
  AdminServerOptions o;
  o.address = "::1";
  o.port = 0;
  auto s = AdminServer::Start(o, AdminHandlers());
  if (!s.ok() && s.status().code() == absl::StatusCode::kUnavailable) {
    GTEST_SKIP() << "no IPv6 loopback here: " << s.status();
  }
  ASSERT_TRUE(s.ok()) << s.status();
  const int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons((*s)->port());
  sin6.sin6_addr = in6addr_loopback;
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sin6), sizeof(sin6)), 0);
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: [::1]\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  std::string got;
  char buf[1024];
  for (int i = 0; i < 100; ++i) {
    const ssize_t r = recv(fd, buf, sizeof(buf), 0);
    if (r <= 0) break;
    got.append(buf, static_cast<size_t>(r));
  }
  close(fd);
  EXPECT_EQ(got.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << got;
}

TEST(AdminServerOptionsTest, Limits) {
  AdminServerOptions o;
  EXPECT_TRUE(o.Validate().ok());
  o.max_connections = 1;
  EXPECT_TRUE(o.Validate().ok());
  o.max_connections = 0;
  EXPECT_FALSE(o.Validate().ok());
  o.max_connections = kMaxAdminMaxConnections;
  EXPECT_TRUE(o.Validate().ok());
  o.max_connections = kMaxAdminMaxConnections + 1;
  EXPECT_FALSE(o.Validate().ok());
  o = AdminServerOptions();
  o.read_timeout = kMinAdminTimeout;
  EXPECT_TRUE(o.Validate().ok());
  o.read_timeout = kMinAdminTimeout - Duration::Nanos(1);
  EXPECT_FALSE(o.Validate().ok());
  o.read_timeout = kMaxAdminTimeout + Duration::Nanos(1);
  EXPECT_FALSE(o.Validate().ok());
  o = AdminServerOptions();
  o.write_timeout = kMaxAdminTimeout;
  EXPECT_TRUE(o.Validate().ok());
  o.write_timeout = Duration::Zero();
  EXPECT_FALSE(o.Validate().ok());
  EXPECT_EQ(AdminServer::Start(o, AdminHandlers()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(AdminServerTest, PortInUse) {
  StartServer();
  AdminServerOptions o;
  o.port = port_;
  auto s = AdminServer::Start(o, AdminHandlers());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.status().message().find(std::to_string(port_)), std::string::npos) << s.status();
}

// The same endpoints through a real client, when the machine has curl.
std::string RunCurl(const std::string& args) {
  // -q: ignore any .curlrc; --noproxy: never through a proxy from the env.
  const std::string cmd = "/usr/bin/curl -q -sS --noproxy '*' --max-time 5 " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return "popen failed";
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

TEST_F(AdminServerTest, Curl) {
  if (access("/usr/bin/curl", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/curl";
  StartServer();
  const std::string base = "http://127.0.0.1:" + std::to_string(port_);
  std::string out = RunCurl("-i " + base + "/metrics");
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("locus_test_requests_total{shard=\"0\"} 42\n"), std::string::npos) << out;

  out = RunCurl("-I " + base + "/stats");  // HEAD
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("Content-Length: 15\r\n"), std::string::npos) << out;

  out = RunCurl("-i -X POST " + base + "/ready");
  EXPECT_EQ(out.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("Allow: GET, HEAD\r\n"), std::string::npos) << out;

  out = RunCurl("-i " + base + "/nope");
  EXPECT_EQ(out.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << out;

  // Two URLs: curl reuses the connection.
  const uint64_t before = server_->counters().connections_accepted;
  out = RunCurl(base + "/healthz " + base + "/ready");
  EXPECT_EQ(out, "ok\nready\n");
  EXPECT_EQ(server_->counters().connections_accepted, before + 1);
}

}  // namespace
}  // namespace locus::proxy::admin
