// Load generator for bench/run tls_handshake: N concurrent TLS connections
// from one thread (non-blocking sockets, epoll, OpenSSL). Each connection:
// TCP connect, TLS handshake, `GET / HTTP/1.1` with `Connection: close`,
// the whole response (status 200 required), then the server's close (EOF);
// the server closes first, so TIME-WAIT stays on the server as with wrk's
// close mode. Then the slot opens its next connection.
//
//   --mode=full     never offers a session: every handshake is full.
//   --mode=resumed  each slot offers the newest session (TLS 1.3 PSK ticket
//                   or TLS 1.2 ticket) that the server gave it, as a fresh
//                   copy each time: a server that issues no new ticket on
//                   resumption gets its last ticket again. (OpenSSL's own
//                   client cache, like browsers, uses a TLS 1.3 ticket once;
//                   against such a server it would resume only every other
//                   connection. `tickets_after_resumed` counts the resumed
//                   connections that did receive a new ticket.) Every
//                   connection is checked with SSL_session_reused and
//                   counted as resumed or full.
//
// Phases: a warm-up of --warmup seconds (which also collects every slot's
// first session), a drain, then "ready" on stdout; it waits for SIGUSR1
// (the bench samples the server's CPU counters in between), measures for
// --seconds, stops opening connections, lets those in flight finish (up to
// 5 s, counted), and prints one line of key=value results. So the server
// CPU sampled around the measured phase matches the connections counted.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "absl/strings/str_cat.h"
#include "bench/common/bench_util.h"

namespace locus::bench {
namespace {

constexpr int64_t kConnectionTimeoutNanos = 10'000'000'000;
constexpr int64_t kDrainNanos = 5'000'000'000;
constexpr int kReadyTimeoutSeconds = 60;

enum class Error { kConnect, kHandshake, kIo, kStatus, kTimeout, kCount };
constexpr const char* kErrorNames[] = {"connect", "handshake", "io", "status", "timeout"};

struct Counts {
  uint64_t completed = 0;  // 200 received and the server closed
  uint64_t resumed = 0;    // of completed: SSL_session_reused
  uint64_t tickets_after_resumed = 0;  // of resumed: a new ticket arrived
  uint64_t errors[static_cast<int>(Error::kCount)] = {};
  uint64_t ErrorTotal() const {
    uint64_t n = 0;
    for (uint64_t e : errors) n += e;
    return n;
  }
};

struct Slot {
  int fd = -1;
  SSL* ssl = nullptr;
  bool connected = false;
  bool handshaken = false;
  size_t written = 0;
  std::string response;
  int64_t started = 0;
  bool got_ticket = false;
  std::string session;  // DER of the newest session the server gave this slot
};

struct Options {
  sockaddr_in address{};
  std::string sni;
  bool resumed = false;
  int conns = 32;
  double warmup = 1;
  double seconds = 5;
};

// Time this thread spent runnable but waiting for a CPU (the second field of
// /proc/thread-self/schedstat), in nanoseconds; -1 if unavailable. With
// the measured wall time it tells a client starved of CPU by other load
// from a client waiting on the server.
int64_t RunQueueWaitNanos() {
  FILE* f = std::fopen("/proc/thread-self/schedstat", "r");
  if (f == nullptr) return -1;
  unsigned long long run = 0, wait = 0;
  int n = std::fscanf(f, "%llu %llu", &run, &wait);
  std::fclose(f);
  return n == 2 ? static_cast<int64_t>(wait) : -1;
}

const std::string kRequest = "GET / HTTP/1.1\r\nHost: bench.locus\r\nConnection: close\r\n\r\n";

int g_slot_index = -1;  // SSL ex_data index of the Slot*

// Keeps the newest session of each slot (TLS 1.3 tickets arrive after the
// handshake, while the response is read), serialized: each connection
// resumes from a fresh copy, which OpenSSL's client never marks as used.
int OnNewSession(SSL* ssl, SSL_SESSION* session) {
  auto* slot = static_cast<Slot*>(SSL_get_ex_data(ssl, g_slot_index));
  if (slot == nullptr) return 0;
  int len = i2d_SSL_SESSION(session, nullptr);
  if (len <= 0) return 0;
  slot->session.resize(len);
  auto* out = reinterpret_cast<unsigned char*>(slot->session.data());
  i2d_SSL_SESSION(session, &out);
  slot->got_ticket = true;
  return 0;  // not kept: OpenSSL frees it
}

class Client {
 public:
  Client(const Options& options, SSL_CTX* ctx) : options_(options), ctx_(ctx) {
    slots_.resize(options.conns);
    epoll_ = epoll_create1(0);
  }

  // Runs until `until` (no new connections after it), then drains.
  void Run(int64_t until) {
    for (size_t i = 0; i < slots_.size(); ++i) Open(i);
    epoll_event events[256];
    int64_t last_scan = WallNanos();
    for (;;) {
      int64_t now = WallNanos();
      if (now >= until) accepting_ = false;
      if (!accepting_ && open_ == 0) break;
      if (!accepting_ && now >= until + kDrainNanos) {
        for (size_t i = 0; i < slots_.size(); ++i) {
          if (slots_[i].fd >= 0) Fail(i, Error::kTimeout);
        }
        break;
      }
      int n = epoll_wait(epoll_, events, 256, 10);
      for (int k = 0; k < n; ++k) Drive(events[k].data.u32);
      if (now - last_scan > 100'000'000) {
        last_scan = now;
        for (size_t i = 0; i < slots_.size(); ++i) {
          if (slots_[i].fd >= 0 && now - slots_[i].started > kConnectionTimeoutNanos) {
            Fail(i, Error::kTimeout);
          } else if (slots_[i].fd < 0 && accepting_) {
            Open(i);  // its socket() or connect() failed at once
          }
        }
      }
    }
    accepting_ = true;
  }

  Counts TakeCounts() {
    Counts c = counts_;
    counts_ = Counts{};
    return c;
  }
  const std::string& version() const { return version_; }
  const std::string& key_type() const { return key_type_; }
  int sessions_held() const {
    int n = 0;
    for (const Slot& s : slots_) n += !s.session.empty();
    return n;
  }

 private:
  void Open(size_t i) {
    Slot& s = slots_[i];
    s.started = WallNanos();
    s.connected = s.handshaken = false;
    s.written = 0;
    s.got_ticket = false;
    s.response.clear();
    s.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s.fd < 0) {
      ++counts_.errors[static_cast<int>(Error::kConnect)];
      return;
    }
    int one = 1;
    setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    int rc = connect(s.fd, reinterpret_cast<const sockaddr*>(&options_.address),
                     sizeof(options_.address));
    if (rc < 0 && errno != EINPROGRESS) {
      close(s.fd);
      s.fd = -1;
      ++counts_.errors[static_cast<int>(Error::kConnect)];
      return;
    }
    s.ssl = SSL_new(ctx_);
    SSL_set_ex_data(s.ssl, g_slot_index, &s);
    SSL_set_fd(s.ssl, s.fd);
    SSL_set_connect_state(s.ssl);
    SSL_set_tlsext_host_name(s.ssl, options_.sni.c_str());
    if (options_.resumed && !s.session.empty()) {
      const auto* in = reinterpret_cast<const unsigned char*>(s.session.data());
      if (SSL_SESSION* copy = d2i_SSL_SESSION(nullptr, &in, static_cast<long>(s.session.size()))) {
        SSL_set_session(s.ssl, copy);
        SSL_SESSION_free(copy);  // the SSL holds its own reference
      }
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u32 = static_cast<uint32_t>(i);
    epoll_ctl(epoll_, EPOLL_CTL_ADD, s.fd, &ev);
    ++open_;
  }

  void Close(size_t i) {
    Slot& s = slots_[i];
    // Marks the connection as shut down without sending anything (the
    // server has closed), not as aborted: SSL_free would otherwise mark its
    // session not resumable. (Harmless since slots keep serialized copies,
    // but an aborted-looking close is not what happened.)
    SSL_set_shutdown(s.ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(s.ssl);
    s.ssl = nullptr;
    close(s.fd);  // also leaves the epoll set
    s.fd = -1;
    --open_;
    if (accepting_) Open(i);
  }

  void Fail(size_t i, Error e) {
    ++counts_.errors[static_cast<int>(e)];
    ERR_clear_error();
    Close(i);
  }

  // Advances slot i as far as it goes without blocking (edge-triggered).
  void Drive(size_t i) {
    Slot& s = slots_[i];
    if (s.fd < 0) return;
    if (!s.connected) {
      // (An event for the slot's previous socket may arrive first; TLS then
      // sees EAGAIN until the connect completes, and the edge follows.)
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) return Fail(i, Error::kConnect);
      s.connected = true;
    }
    if (!s.handshaken) {
      int rc = SSL_do_handshake(s.ssl);
      if (rc != 1) {
        int e = SSL_get_error(s.ssl, rc);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
        return Fail(i, Error::kHandshake);
      }
      s.handshaken = true;
      if (version_.empty()) {
        version_ = SSL_get_version(s.ssl);
        if (X509* cert = SSL_get0_peer_certificate(s.ssl)) {
          EVP_PKEY* key = X509_get0_pubkey(cert);
          key_type_ = key == nullptr                          ? "?"
                      : EVP_PKEY_get_base_id(key) == EVP_PKEY_EC ? absl::StrCat("EC-", EVP_PKEY_get_bits(key))
                      : EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA
                          ? absl::StrCat("RSA-", EVP_PKEY_get_bits(key))
                          : "other";
        }
      }
    }
    while (s.written < kRequest.size()) {
      size_t n = 0;
      int rc = SSL_write_ex(s.ssl, kRequest.data() + s.written, kRequest.size() - s.written, &n);
      if (rc != 1) {
        int e = SSL_get_error(s.ssl, rc);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
        return Fail(i, Error::kIo);
      }
      s.written += n;
    }
    char buf[4096];
    for (;;) {
      size_t n = 0;
      int rc = SSL_read_ex(s.ssl, buf, sizeof(buf), &n);
      if (rc == 1) {
        if (s.response.size() < 65536) s.response.append(buf, n);
        continue;
      }
      int e = SSL_get_error(s.ssl, rc);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
      // Closed by the server, with or without close_notify
      // (SSL_OP_IGNORE_UNEXPECTED_EOF makes both ZERO_RETURN).
      if (e != SSL_ERROR_ZERO_RETURN) return Fail(i, Error::kIo);
      if (!ResponseOk(s.response)) return Fail(i, Error::kStatus);
      ++counts_.completed;
      if (SSL_session_reused(s.ssl)) {
        ++counts_.resumed;
        if (s.got_ticket) ++counts_.tickets_after_resumed;
      }
      return Close(i);
    }
  }

  // A 200 status line and the whole body by Content-Length.
  static bool ResponseOk(const std::string& r) {
    if (r.compare(0, 12, "HTTP/1.1 200") != 0 && r.compare(0, 12, "HTTP/1.0 200") != 0) {
      return false;
    }
    size_t end = r.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    std::string head = r.substr(0, end);
    for (char& c : head) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
    size_t cl = head.find("\r\ncontent-length:");
    if (cl == std::string::npos) return true;  // chunked or to-EOF: EOF seen
    size_t length = std::strtoul(head.c_str() + cl + 17, nullptr, 10);
    return r.size() - (end + 4) >= length;
  }

  Options options_;
  SSL_CTX* ctx_;
  std::vector<Slot> slots_;
  int epoll_ = -1;
  int open_ = 0;
  bool accepting_ = true;
  Counts counts_;
  std::string version_, key_type_;
};

int Main(int argc, char** argv) {
  Flags flags(argc, argv);
  Options options;
  options.address.sin_family = AF_INET;
  options.address.sin_port = htons(static_cast<uint16_t>(flags.Int("port", 443)));
  if (inet_pton(AF_INET, flags.String("host", "").c_str(), &options.address.sin_addr) != 1) {
    std::fprintf(stderr, "tls_client: --host=IPV4 --port=N [--mode=full|resumed] [--conns=32] "
                         "[--seconds=5] [--warmup=1] [--sni=bench.locus]\n");
    return 2;
  }
  std::string mode = flags.String("mode", "full");
  if (mode != "full" && mode != "resumed") {
    std::fprintf(stderr, "tls_client: --mode is full or resumed\n");
    return 2;
  }
  options.resumed = mode == "resumed";
  options.sni = flags.String("sni", "bench.locus");
  options.conns = static_cast<int>(flags.Int("conns", 32));
  options.warmup = flags.Double("warmup", 1);
  options.seconds = flags.Double("seconds", 5);

  // SIGUSR1 starts the measured phase; blocked so that sigtimedwait takes it.
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, nullptr);
  signal(SIGPIPE, SIG_IGN);

  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);  // self-signed bench certificates
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  g_slot_index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  if (options.resumed) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, OnNewSession);
  } else {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  }

  Client client(options, ctx);
  client.Run(WallNanos() + static_cast<int64_t>(options.warmup * 1e9));
  Counts warm = client.TakeCounts();
  std::printf("ready warmup_completed=%llu warmup_errors=%llu sessions=%d\n",
              static_cast<unsigned long long>(warm.completed),
              static_cast<unsigned long long>(warm.ErrorTotal()), client.sessions_held());
  std::fflush(stdout);
  timespec wait{kReadyTimeoutSeconds, 0};
  if (sigtimedwait(&usr1, nullptr, &wait) != SIGUSR1) {
    std::fprintf(stderr, "tls_client: no SIGUSR1 within %d s\n", kReadyTimeoutSeconds);
    return 1;
  }
  int64_t start = WallNanos();
  int64_t cpu0 = ProcessCpuNanos();
  int64_t runq0 = RunQueueWaitNanos();
  client.Run(start + static_cast<int64_t>(options.seconds * 1e9));
  double wall = (WallNanos() - start) / 1e9;
  double cpu = (ProcessCpuNanos() - cpu0) / 1e9;
  int64_t runq1 = RunQueueWaitNanos();
  double runq = runq0 >= 0 && runq1 >= 0 ? (runq1 - runq0) / 1e9 : -1;
  Counts c = client.TakeCounts();
  std::string line = absl::StrCat("mode=", mode, " completed=", c.completed, " resumed=", c.resumed, " tickets_after_resumed=", c.tickets_after_resumed,
                                  " errors=", c.ErrorTotal());
  for (int e = 0; e < static_cast<int>(Error::kCount); ++e) {
    absl::StrAppend(&line, " ", kErrorNames[e], "=", c.errors[e]);
  }
  absl::StrAppend(&line, " wall=", wall, " client_cpu=", cpu, " client_runq_wait=", runq, " version=",
                  client.version().empty() ? "-" : client.version(),
                  " key=", client.key_type().empty() ? "-" : client.key_type());
  std::printf("%s\n", line.c_str());
  SSL_CTX_free(ctx);
  return 0;
}

}  // namespace
}  // namespace locus::bench

int main(int argc, char** argv) { return locus::bench::Main(argc, argv); }
