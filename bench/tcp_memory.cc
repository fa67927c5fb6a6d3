// tcp_memory: the memory an idle established connection costs.
//
// Locus: a client and a server stack over the in-memory link open
// connections (no data; both ends established and accepted) in steps; the
// marginal cost is the RSS slope between two counts, which leaves out the
// fixed start-up memory (packet pools, tables' first chunks). Each
// connection has two endpoints (a Tcb and a flow-table entry on each
// side), so the per-endpoint figure is half of it. The theoretical floor
// (sizeof(Tcb) + a flow-table slot) is printed next to it.
//
// Peer, in the same run: Linux loopback connections held open by this
// process (blocking connect/accept, no epoll, no data), counted from
// /proc/slabinfo: the kernel memory (TCP socket, inode, file, dentry and
// everything else that grew) between the same two steps, plus this
// process's RSS growth (fd table). Also per endpoint (socket).
//
//   bench/run tcp_memory [--locus_connections=100000] [--kernel_connections=20000]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bench/common/bench_util.h"
#include "bench/common/locus_pair.h"
#include "stack/tcp/tcb.h"

using namespace locus;
using namespace locus::bench;

namespace {

constexpr uint32_t kServerPorts = 16;

// Accepts everything and keeps it.
class HoldServer final : public engine::ShardApp {
 public:
  void OnStart(engine::Shard& shard, Instant now) override {
    for (uint32_t i = 0; i < kServerPorts; ++i) {
      (void)shard.tcp().Listen(wire::Ipv4Address::Any(), static_cast<uint16_t>(80 + i));
    }
  }
  void OnEvents(engine::Shard& shard, std::span<const tcp::EventRecord> events,
                Instant now) override {
    for (const auto& e : events) {
      if (e.listener == nullptr) continue;
      while (e.listener->Accept() != nullptr) ++accepted_;
    }
  }
  uint64_t accepted_ = 0;
};

// Opens connections up to `target`, at most `window` handshakes at once.
class HoldClient final : public engine::ShardApp {
 public:
  void OnEvents(engine::Shard& shard, std::span<const tcp::EventRecord> events,
                Instant now) override {
    for (const auto& e : events) {
      if (e.connection == nullptr) continue;
      if (e.events & tcp::kEventConnected) {
        ++established_;
        --pending_;
      }
      if (e.events & tcp::kEventClosed) ++failed_;
    }
  }
  size_t OnPoll(engine::Shard& shard, Instant now) override {
    size_t opened = 0;
    while (opened_ < target_ && pending_ < 512) {
      auto tcb = shard.tcp().Connect(shard.stack().interface().address, kServerIp,
                                     static_cast<uint16_t>(80 + opened_ % kServerPorts), now);
      if (!tcb.ok()) {
        ++failed_;
        break;
      }
      ++opened_;
      ++pending_;
      ++opened;
    }
    return opened;
  }
  uint64_t target_ = 0, opened_ = 0, established_ = 0, failed_ = 0;
  int64_t pending_ = 0;
};

struct LocusStep {
  uint64_t connections;
  int64_t rss;
};

std::vector<LocusStep> MeasureLocus(const std::vector<uint64_t>& steps, std::string* error) {
  LocusPairOptions po;
  for (uint32_t i = 0; i < kServerPorts; ++i) po.server_ports.push_back(static_cast<uint16_t>(80 + i));
  auto pair = LocusPair::Create(po);
  if (!pair.ok()) {
    *error = pair.status().ToString();
    return {};
  }
  engine::Shard& cs = (*pair)->client().shard(0);
  engine::Shard& ss = (*pair)->server().shard(0);
  HoldClient client;
  HoldServer server;
  Instant now = MonotonicNow();
  server.OnStart(ss, now);
  std::vector<LocusStep> out;
  for (uint64_t target : steps) {
    client.target_ = target;
    const int64_t deadline = WallNanos() + 60000000000LL;
    while ((client.established_ < target || server.accepted_ < target) && WallNanos() < deadline) {
      now = MonotonicNow();
      cs.PollOnce(client, now);
      ss.PollOnce(server, now);
    }
    // A few idle polls: nothing left in flight, delayed ACKs sent.
    for (int i = 0; i < 1000; ++i) {
      now = MonotonicNow();
      cs.PollOnce(client, now);
      ss.PollOnce(server, now);
    }
    if (client.established_ < target || server.accepted_ < target) {
      *error = "locus: only " + std::to_string(client.established_) + " established, " +
               std::to_string(server.accepted_) + " accepted of " + std::to_string(target);
      return out;
    }
    out.push_back({target, RssBytes()});
  }
  return out;
}

// Sum over every slab cache of active_objs * objsize, and per cache.
std::map<std::string, int64_t> SlabBytes() {
  std::map<std::string, int64_t> m;
  std::ifstream f("/proc/slabinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#' || line.rfind("slabinfo", 0) == 0) continue;
    std::istringstream in(line);
    std::string name;
    int64_t active = 0, num = 0, size = 0;
    in >> name >> active >> num >> size;
    m[name] = active * size;
  }
  return m;
}

struct KernelStep {
  uint64_t connections;
  std::map<std::string, int64_t> slab;
  int64_t rss;
};

std::vector<KernelStep> MeasureKernel(const std::vector<uint64_t>& steps, std::vector<int>* fds,
                                      std::string* error) {
  std::vector<int> listeners;
  std::vector<sockaddr_in> addrs;
  for (uint32_t i = 0; i < kServerPorts; ++i) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(l, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(l, 4096) != 0) {
      *error = "kernel: listen failed";
      return {};
    }
    socklen_t len = sizeof(a);
    getsockname(l, reinterpret_cast<sockaddr*>(&a), &len);
    listeners.push_back(l);
    addrs.push_back(a);
    fds->push_back(l);
  }
  std::vector<KernelStep> out;
  uint64_t open = 0;
  for (uint64_t target : steps) {
    while (open < target) {
      int c = socket(AF_INET, SOCK_STREAM, 0);
      const sockaddr_in& a = addrs[open % kServerPorts];
      if (c < 0 || connect(c, reinterpret_cast<const sockaddr*>(&a), sizeof(a)) != 0) {
        *error = "kernel: connect failed after " + std::to_string(open) + " connections";
        if (c >= 0) close(c);
        return out;
      }
      int s = accept(listeners[open % kServerPorts], nullptr, nullptr);
      if (s < 0) {
        *error = std::string("kernel: accept failed: ") + std::strerror(errno) + " after " + std::to_string(open);
        return out;
      }
      fds->push_back(c);
      fds->push_back(s);
      ++open;
    }
    usleep(200000);  // let deferred frees (RCU) settle
    out.push_back({target, SlabBytes(), RssBytes()});
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags(argc, argv);
  const uint64_t locus_n = static_cast<uint64_t>(flags.Int("locus_connections", 100000));
  uint64_t kernel_n = static_cast<uint64_t>(flags.Int("kernel_connections", 20000));
  // Two descriptors per connection; the hard limit may not be raisable
  // (no CAP_SYS_RESOURCE in a container), so fit under it.
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  getrlimit(RLIMIT_NOFILE, &rl);
  const uint64_t fd_room = rl.rlim_cur > 200 ? (rl.rlim_cur - 200) / 2 : 0;
  if (kernel_n + kernel_n / 10 > fd_room) kernel_n = fd_room * 10 / 11;
  std::printf("tcp_memory: idle established connections (no data, buffers empty); marginal cost "
              "between two counts\n");
  std::printf("load average: %s; RLIMIT_NOFILE %llu\n\n", LoadAverage().c_str(),
              (unsigned long long)rl.rlim_cur);

  std::string error;
  const uint64_t locus_base = locus_n / 10;
  std::vector<LocusStep> l = MeasureLocus({locus_base, locus_base + locus_n}, &error);
  if (l.size() < 2) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  const double locus_conn = double(l[1].rss - l[0].rss) / double(l[1].connections - l[0].connections);
  const double locus_endpoint = locus_conn / 2;

  std::vector<int> fds;
  const uint64_t kernel_base = kernel_n / 10;
  std::vector<KernelStep> k = MeasureKernel({kernel_base, kernel_base + kernel_n}, &fds, &error);
  if (k.size() < 2) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  const double kn = double(k[1].connections - k[0].connections);
  // Headline: only the caches every socket of ours allocates from (other
  // engineers' processes make the rest move too); all growth is listed.
  static const char* const kSocketCaches[] = {"TCP", "sock_inode_cache", "dentry", "filp",
                                              "lsm_inode_cache", "lsm_file_cache"};
  int64_t slab_total = 0, slab_all = 0;
  std::vector<std::pair<int64_t, std::string>> grew;
  for (const auto& [name, bytes] : k[1].slab) {
    auto it = k[0].slab.find(name);
    int64_t d = bytes - (it == k[0].slab.end() ? 0 : it->second);
    slab_all += d;
    for (const char* c : kSocketCaches) {
      if (name == c) slab_total += d;
    }
    if (d / kn >= 16) grew.emplace_back(d, name);
  }
  std::sort(grew.rbegin(), grew.rend());
  const double kernel_rss = double(k[1].rss - k[0].rss) / kn;
  const double kernel_conn = slab_total / kn + kernel_rss;
  const double kernel_endpoint = kernel_conn / 2;
  for (int fd : fds) close(fd);

  Table table({"stack", "connections (step)", "bytes per connection (2 endpoints)",
               "bytes per endpoint", "what is counted"});
  table.Row({"locus (memory link)", std::to_string(l[1].connections - l[0].connections),
             Fmt(locus_conn), Fmt(locus_endpoint),
             "process RSS slope (Tcb pools + flow tables, both stacks)"});
  table.Row({"linux (loopback)", std::to_string(k[1].connections - k[0].connections),
             Fmt(kernel_conn), Fmt(kernel_endpoint),
             "slab growth of TCP, sock_inode, dentry, filp, lsm caches + process RSS slope"});
  table.Row({"linux (loopback), every cache", std::to_string(k[1].connections - k[0].connections),
             Fmt(slab_all / kn + kernel_rss), Fmt((slab_all / kn + kernel_rss) / 2),
             "all slab growth (includes other processes' noise)"});
  table.Print();
  std::printf("\nlocus floor: sizeof(Tcb) = %zu B per endpoint, plus a flow-table slot "
              "(flat_hash_map of FourTuple -> FlowEntry, %zu B + 1 control byte, at most 7/8 "
              "full, growing by doubling)\n",
              sizeof(tcp::Tcb), sizeof(tcp::FourTuple) + 16);
  std::printf("linux slab caches that grew (bytes per connection):\n");
  for (const auto& [d, name] : grew) std::printf("  %-24s %8.0f\n", name.c_str(), d / kn);
  std::printf("  %-24s %8.0f\n", "(process RSS: fd table)", kernel_rss);
  std::printf("load average after: %s\n", LoadAverage().c_str());
  PrintResultJson("tcp_memory",
                  "bytes per idle established connection endpoint (lower is better)",
                  locus_endpoint, "linux kernel TCP socket over loopback (same run, slabinfo)",
                  kernel_endpoint);
  return 0;
}
