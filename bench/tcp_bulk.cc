// tcp_bulk: one-direction bulk TCP throughput per core.
//
// Locus: one connection from a client stack to a server stack over the
// in-memory link (MTU 1500, TCP checksums computed and verified in
// software, as without offload), both stacks driven by one pinned thread;
// the client writes 64 KiB chunks whenever there is room, the server reads
// everything. Peer, in the same run: one kernel TCP connection over
// loopback, both ends in one pinned thread (non-blocking write of 64 KiB
// chunks until EAGAIN, then read until EAGAIN). The kernel runs twice: on
// the host's loopback (MTU 65536, no checksums: loopback skips them) and in
// a private network namespace whose loopback has MTU 1500 (closer to what
// Locus does; still no checksums). Gbit/s of payload per CPU second of the
// thread.
//
//   bench/run tcp_bulk [--seconds=3] [--cpu=1] [--repeat=3]
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bench/common/bench_util.h"
#include "bench/common/kernel_lifecycle.h"
#include "bench/common/locus_pair.h"

using namespace locus;
using namespace locus::bench;

namespace {

constexpr size_t kChunk = 64 * 1024;
constexpr uint16_t kPort = 5001;

class Sender final : public engine::ShardApp {
 public:
  void OnStart(engine::Shard& shard, Instant now) override {
    chunk_.assign(kChunk, 'x');
    auto tcb = shard.tcp().Connect(shard.stack().interface().address, kServerIp, kPort, now);
    if (tcb.ok()) tcb_ = *tcb;
  }
  void OnEvents(engine::Shard& shard, std::span<const tcp::EventRecord> events,
                Instant now) override {
    for (const auto& e : events) {
      if (e.connection == tcb_ && (e.events & tcp::kEventConnected)) connected_ = true;
      if (e.connection == tcb_ && (e.events & tcp::kEventClosed)) {
        tcb_->Close();
        tcb_ = nullptr;
      }
    }
  }
  size_t OnPoll(engine::Shard& shard, Instant now) override {
    if (tcb_ == nullptr || !connected_) return 0;
    size_t total = 0;
    while (tcb_->writable() > 0) {
      size_t n = tcb_->Write(chunk_);
      total += n;
      if (n < chunk_.size()) break;
    }
    return total > 0;
  }
  tcp::Tcb* tcb() { return tcb_; }

 private:
  std::vector<uint8_t> chunk_;
  tcp::Tcb* tcb_ = nullptr;
  bool connected_ = false;
};

class Receiver final : public engine::ShardApp {
 public:
  void OnStart(engine::Shard& shard, Instant now) override {
    (void)shard.tcp().Listen(wire::Ipv4Address::Any(), kPort);
  }
  void OnEvents(engine::Shard& shard, std::span<const tcp::EventRecord> events,
                Instant now) override {
    for (const auto& e : events) {
      if (e.listener != nullptr) {
        while (tcp::Tcb* t = e.listener->Accept()) Drain(t);
        continue;
      }
      if (e.events & tcp::kEventClosed) {
        e.connection->Close();
        continue;
      }
      Drain(e.connection);
    }
  }
  uint64_t bytes() const { return bytes_; }

 private:
  void Drain(tcp::Tcb* t) {
    while (t->readable() > 0) {
      size_t n = t->Peek().size();
      t->Consume(n);
      bytes_ += n;
    }
  }
  uint64_t bytes_ = 0;
};

struct BulkResult {
  uint64_t bytes = 0;
  int64_t wall_nanos = 0;
  int64_t cpu_nanos = 0;
  double gbps_cpu() const { return bytes * 8 / (cpu_nanos / 1e9) / 1e9; }
  double gbps_wall() const { return bytes * 8 / (wall_nanos / 1e9) / 1e9; }
};

BulkResult RunLocus(double warmup, double seconds, int cpu, TcpTotals* client_tcp,
                    TcpTotals* server_tcp) {
  PinThread(cpu);
  LocusPairOptions po;
  po.server_ports = {kPort};
  auto pair = LocusPair::Create(po);
  if (!pair.ok()) {
    std::fprintf(stderr, "%s\n", pair.status().ToString().c_str());
    return {};
  }
  engine::Shard& cs = (*pair)->client().shard(0);
  engine::Shard& ss = (*pair)->server().shard(0);
  Sender sender;
  Receiver receiver;
  Instant now = MonotonicNow();
  receiver.OnStart(ss, now);
  sender.OnStart(cs, now);
  cs.stack().Flush(now);
  const int64_t measure_at = WallNanos() + static_cast<int64_t>(warmup * 1e9);
  const int64_t end = measure_at + static_cast<int64_t>(seconds * 1e9);
  bool measuring = false;
  BulkResult start;
  for (;;) {
    now = MonotonicNow();
    int64_t wall = WallNanos();
    if (!measuring && wall >= measure_at) {
      measuring = true;
      start = {receiver.bytes(), wall, ThreadCpuNanos()};
    }
    if (wall >= end) break;
    cs.PollOnce(sender, now);
    ss.PollOnce(receiver, now);
  }
  BulkResult r{receiver.bytes() - start.bytes, WallNanos() - start.wall_nanos,
               ThreadCpuNanos() - start.cpu_nanos};
  *client_tcp = SumTcp((*pair)->client());
  *server_tcp = SumTcp((*pair)->server());
  if (sender.tcb() != nullptr) sender.tcb()->Abort();
  for (int i = 0; i < 10; ++i) {
    now = MonotonicNow();
    cs.PollOnce(sender, now);
    ss.PollOnce(receiver, now);
  }
  return r;
}

BulkResult RunKernel(double warmup, double seconds, int cpu) {
  PinThread(cpu);
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(lfd, 1) != 0) {
    std::perror("bulk: listen");
    return {};
  }
  socklen_t len = sizeof(a);
  getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(c, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    std::perror("bulk: connect");
    return {};
  }
  int s = accept(lfd, nullptr, nullptr);
  close(lfd);
  fcntl(c, F_SETFL, O_NONBLOCK);
  fcntl(s, F_SETFL, O_NONBLOCK);
  std::vector<uint8_t> out(kChunk, 'x'), in(kChunk);
  uint64_t bytes = 0;
  const int64_t measure_at = WallNanos() + static_cast<int64_t>(warmup * 1e9);
  const int64_t end = measure_at + static_cast<int64_t>(seconds * 1e9);
  bool measuring = false;
  BulkResult start;
  for (;;) {
    int64_t wall = WallNanos();
    if (!measuring && wall >= measure_at) {
      measuring = true;
      start = {bytes, wall, ThreadCpuNanos()};
    }
    if (wall >= end) break;
    while (write(c, out.data(), out.size()) > 0) {
    }
    for (;;) {
      ssize_t n = read(s, in.data(), in.size());
      if (n <= 0) break;
      bytes += n;
    }
  }
  BulkResult r{bytes - start.bytes, WallNanos() - start.wall_nanos,
               ThreadCpuNanos() - start.cpu_nanos};
  close(c);
  close(s);
  return r;
}

// In a child process: a private network namespace whose loopback has the
// given MTU. Returns the child's result through a pipe.
BulkResult RunKernelInNamespace(double warmup, double seconds, int cpu, int mtu,
                                bool offloads = true) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    BulkResult r{};
    if (unshare(CLONE_NEWNET) == 0) {
      int sock = socket(AF_INET, SOCK_DGRAM, 0);
      ifreq ifr{};
      std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
      ifr.ifr_mtu = mtu;
      ioctl(sock, SIOCSIFMTU, &ifr);
      ioctl(sock, SIOCGIFFLAGS, &ifr);
      ifr.ifr_flags |= IFF_UP;
      ioctl(sock, SIOCSIFFLAGS, &ifr);
      close(sock);
      // Loopback's TSO/GSO/GRO move 64 KiB buffers whatever the MTU; off,
      // the kernel handles MTU-sized packets as Locus does.
      if (!offloads &&
          std::system("ethtool -K lo tso off gso off gro off sg off >/dev/null 2>&1") != 0) {
        std::fprintf(stderr, "bulk: ethtool -K lo ... off failed\n");
      } else {
        r = RunKernel(warmup, seconds, cpu);
      }
    } else {
      std::perror("bulk: unshare(CLONE_NEWNET) (needs root)");
    }
    (void)!write(fds[1], &r, sizeof(r));
    _exit(0);
  }
  close(fds[1]);
  BulkResult r{};
  if (read(fds[0], &r, sizeof(r)) != sizeof(r)) r = {};
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags(argc, argv);
  const double seconds = flags.Double("seconds", 3);
  const int cpu = static_cast<int>(flags.Int("cpu", 1));
  const int repeat = static_cast<int>(flags.Int("repeat", 3));
  std::printf("tcp_bulk: one connection, one direction, 64 KiB writes; one thread pinned to CPU "
              "%d runs sender and receiver\n",
              cpu);
  std::printf("load average before: %s\n\n", LoadAverage().c_str());
  Table table({"run", "stack", "MTU", "checksums", "GB moved", "wall s", "cpu s",
               "Gbit/s (wall)", "Gbit/s per cpu s"});
  double sum_ours = 0, sum_peer = 0, sum_peer1500 = 0, sum_peer_seg = 0;
  const bool kernel = !flags.Has("locus_only");
  for (int r = 1; r <= repeat; ++r) {
    TcpTotals ct, st;
    BulkResult l = RunLocus(0.5, seconds, cpu, &ct, &st);
    table.Row({std::to_string(r), "locus (memory link)", "1500", "software, both ends",
               Fmt(l.bytes / 1e9, 2), Fmt(l.wall_nanos / 1e9, 2), Fmt(l.cpu_nanos / 1e9, 2),
               Fmt(l.gbps_wall(), 2), Fmt(l.gbps_cpu(), 2)});
    std::fprintf(stderr,
                 "run %d locus: client segs_out=%llu retransmits=%llu; server segs_out=%llu "
                 "(ACKs) delayed_acks=%llu drops=%llu\n",
                 r, (unsigned long long)ct.segments_out, (unsigned long long)ct.retransmits,
                 (unsigned long long)st.segments_out, (unsigned long long)st.delayed_acks,
                 (unsigned long long)(ct.drops + st.drops));
    sum_ours += l.gbps_cpu();
    if (!kernel) continue;
    BulkResult k = RunKernelInNamespace(0.5, seconds, cpu, 65536);
    table.Row({std::to_string(r), "linux (loopback)", "65536", "none (loopback)",
               Fmt(k.bytes / 1e9, 2), Fmt(k.wall_nanos / 1e9, 2), Fmt(k.cpu_nanos / 1e9, 2),
               Fmt(k.gbps_wall(), 2), Fmt(k.gbps_cpu(), 2)});
    BulkResult k1500 = RunKernelInNamespace(0.5, seconds, cpu, 1500);
    table.Row({std::to_string(r), "linux (loopback)", "1500", "none (loopback)",
               Fmt(k1500.bytes / 1e9, 2), Fmt(k1500.wall_nanos / 1e9, 2),
               Fmt(k1500.cpu_nanos / 1e9, 2), Fmt(k1500.gbps_wall(), 2),
               Fmt(k1500.gbps_cpu(), 2)});
    BulkResult kseg = RunKernelInNamespace(0.5, seconds, cpu, 1500, /*offloads=*/false);
    table.Row({std::to_string(r), "linux (loopback, TSO/GSO/GRO/SG off)", "1500", "none (loopback)",
               Fmt(kseg.bytes / 1e9, 2), Fmt(kseg.wall_nanos / 1e9, 2),
               Fmt(kseg.cpu_nanos / 1e9, 2), Fmt(kseg.gbps_wall(), 2), Fmt(kseg.gbps_cpu(), 2)});
    sum_peer_seg += kseg.gbps_cpu();
    sum_peer += k.gbps_cpu();
    sum_peer1500 += k1500.gbps_cpu();
  }
  table.Print();
  std::printf("\nload average after: %s\n", LoadAverage().c_str());
  std::printf("mean Gbit/s per CPU second: locus %.2f, linux lo MTU 65536 %.2f (ratio %.2f), "
              "linux lo MTU 1500 %.2f (ratio %.2f)\n",
              sum_ours / repeat, sum_peer / repeat, sum_ours / sum_peer, sum_peer1500 / repeat,
              sum_ours / sum_peer1500);
  std::printf("linux lo MTU 1500 without TSO/GSO/GRO/SG %.2f (ratio %.2f)\n", sum_peer_seg / repeat,
              sum_ours / sum_peer_seg);
  PrintResultJson("tcp_bulk", "Gbit/s of payload per CPU second, one direction (higher is better; "
                              "mean of runs)",
                  sum_ours / repeat, "linux kernel TCP over loopback, MTU 65536 (same run)",
                  sum_peer / repeat);
  return 0;
}
