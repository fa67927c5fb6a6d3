#include "bench/common/kernel_lifecycle.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "bench/common/bench_util.h"

namespace locus::bench {

namespace {

enum class Role : uint8_t { kListener, kClient, kServer };

struct Conn {
  Role role;
  int fd = -1;
  uint32_t received = 0;
  bool sent = false;
  bool shut = false;
  uint32_t slot = 0;
};

class Loop {
 public:
  explicit Loop(const KernelLifecycleOptions& o) : o_(o) {}
  ~Loop() {
    for (Conn* c : all_) {
      if (c->fd >= 0) close(c->fd);
      delete c;
    }
    if (ep_ >= 0) close(ep_);
  }

  bool Start() {
    ep_ = epoll_create1(0);
    for (uint32_t i = 0; i < o_.server_ports; ++i) {
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(fd, 4096) != 0) {
        std::perror("kernel lifecycle: bind/listen");
        return false;
      }
      socklen_t len = sizeof(a);
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
      ports_.push_back(a.sin_port);
      Conn* l = new Conn{Role::kListener, fd};
      all_.push_back(l);
      Add(l, EPOLLIN);
    }
    return true;
  }

  PhaseResult Run() {
    for (uint32_t s = 0; s < o_.concurrency; ++s) Open(s);
    const int64_t start = WallNanos();
    const int64_t measure_at = start + static_cast<int64_t>(o_.warmup_seconds * 1e9);
    const int64_t end = measure_at + static_cast<int64_t>(o_.seconds * 1e9);
    PhaseResult at_start;
    bool measuring = false;
    epoll_event evs[256];
    for (;;) {
      int64_t now = WallNanos();
      if (!measuring && now >= measure_at) {
        measuring = true;
        at_start = {completed_, failed_, now, ThreadCpuNanos()};
      }
      if (now >= end) break;
      int n = epoll_wait(ep_, evs, 256, 10);
      for (int i = 0; i < n; ++i) Handle(static_cast<Conn*>(evs[i].data.ptr), evs[i].events);
      FreeDead();
    }
    PhaseResult r;
    r.completed = completed_ - at_start.completed;
    r.failed = failed_ - at_start.failed;
    r.wall_nanos = WallNanos() - at_start.wall_nanos;
    r.cpu_nanos = ThreadCpuNanos() - at_start.cpu_nanos;
    r.busy_nanos = r.cpu_nanos;
    return r;
  }

 private:
  void Add(Conn* c, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = c;
    epoll_ctl(ep_, EPOLL_CTL_ADD, c->fd, &ev);
  }

  void Open(uint32_t slot) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = ports_[next_port_++ % ports_.size()];
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 && errno != EINPROGRESS) {
      ++failed_;
      close(fd);
      pending_.push_back(slot);
      return;
    }
    Conn* c = new Conn{Role::kClient, fd};
    c->slot = slot;
    all_.push_back(c);
    Add(c, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
  }

  void Close(Conn* c) {
    close(c->fd);  // also removes it from the epoll set
    c->fd = -1;
    dead_.push_back(c);
  }

  void Handle(Conn* c, uint32_t events) {
    if (c->fd < 0) return;
    switch (c->role) {
      case Role::kListener:
        for (;;) {
          int fd = accept4(c->fd, nullptr, nullptr, SOCK_NONBLOCK);
          if (fd < 0) break;
          int one = 1;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
          Conn* s = new Conn{Role::kServer, fd};
          all_.push_back(s);
          Add(s, EPOLLIN | EPOLLRDHUP | EPOLLET);
          ServerRead(s);
        }
        return;
      case Role::kServer:
        ServerRead(c);
        return;
      case Role::kClient:
        ClientEvent(c, events);
        return;
    }
  }

  void ServerRead(Conn* c) {
    uint8_t buf[kMessageBytes * 2];
    for (;;) {
      ssize_t n = read(c->fd, buf, sizeof(buf));
      if (n > 0) {
        c->received += static_cast<uint32_t>(n);
        if (!c->sent && c->received >= kMessageBytes) {
          std::memset(buf, 'A', kMessageBytes);
          c->sent = write(c->fd, buf, kMessageBytes) == static_cast<ssize_t>(kMessageBytes);
        }
        continue;
      }
      if (n == 0) {  // the client's FIN: answer with ours
        Close(c);
      } else if (errno != EAGAIN) {
        Close(c);
      }
      return;
    }
  }

  void ClientEvent(Conn* c, uint32_t events) {
    if ((events & EPOLLOUT) && !c->sent) {
      uint8_t req[kMessageBytes];
      std::memset(req, 'a', sizeof(req));
      ssize_t n = write(c->fd, req, sizeof(req));
      if (n == static_cast<ssize_t>(sizeof(req))) {
        c->sent = true;
      } else if (n < 0 && errno != EAGAIN) {
        Fail(c);
        return;
      }
    }
    uint8_t buf[kMessageBytes * 2];
    for (;;) {
      ssize_t n = read(c->fd, buf, sizeof(buf));
      if (n > 0) {
        c->received += static_cast<uint32_t>(n);
        if (c->received >= kMessageBytes && !c->shut) {
          shutdown(c->fd, SHUT_WR);  // we close first: TIME-WAIT is ours
          c->shut = true;
        }
        continue;
      }
      if (n == 0) {  // the server's FIN: the connection is in TIME-WAIT now
        uint32_t slot = c->slot;
        if (c->received == kMessageBytes && c->shut) {
          ++completed_;
        } else {
          ++failed_;
        }
        Close(c);
        Open(slot);
      } else if (errno != EAGAIN) {
        Fail(c);
      }
      return;
    }
  }

  void Fail(Conn* c) {
    ++failed_;
    uint32_t slot = c->slot;
    Close(c);
    Open(slot);
  }

  void FreeDead() {
    for (Conn* c : dead_) {
      for (size_t i = 0; i < all_.size(); ++i) {
        if (all_[i] == c) {
          all_[i] = all_.back();
          all_.pop_back();
          break;
        }
      }
      delete c;
    }
    dead_.clear();
    std::vector<uint32_t> again;
    again.swap(pending_);
    for (uint32_t s : again) Open(s);
  }

  KernelLifecycleOptions o_;
  int ep_ = -1;
  std::vector<uint16_t> ports_;  // network order
  uint32_t next_port_ = 0;
  std::vector<Conn*> all_;
  std::vector<Conn*> dead_;
  std::vector<uint32_t> pending_;
  uint64_t completed_ = 0;
  uint64_t failed_ = 0;
};

}  // namespace

PhaseResult RunKernelLifecycles(const KernelLifecycleOptions& options) {
  if (options.cpu >= 0) PinThread(options.cpu);
  Loop loop(options);
  if (!loop.Start()) return {};
  return loop.Run();
}

}  // namespace locus::bench
