// echod: echo (RFC 862) and discard (RFC 863) servers on Locus's user-level
// TCP/IP stack over DPDK, and a client that checks an echo server byte for
// byte. Used to try the stack against other TCPs; see docs/echod.md.
//
//   echod --device=net_tap0,iface=locus0 --ip=10.77.0.2/24
//   echod --mode=client --connect=10.77.0.1:7 --connections=4 --bytes=104857600
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "stack/echod/echo_app.h"
#include "stack/engine/engine.h"

ABSL_FLAG(std::string, mode, "server", "server (echo + discard) or client");
ABSL_FLAG(int, echo_port, 7, "echo server port (0: off)");
ABSL_FLAG(int, discard_port, 9, "discard server port (0: off)");
ABSL_FLAG(std::string, connect, "", "client: the echo server, IP:PORT");
ABSL_FLAG(int, connections, 1, "client: connections at once");
ABSL_FLAG(int, rounds, 1, "client: connections opened one after another per slot");
ABSL_FLAG(uint64_t, bytes, 1 << 20, "client: bytes per connection, each way");
ABSL_FLAG(int, timeout_s, 120, "client: give up after this many seconds");
ABSL_FLAG(int, run_s, 0, "server: stop after this many seconds (0: until SIGINT/SIGTERM)");
ABSL_FLAG(int, stats_s, 0, "print counters every this many seconds (0: only at exit)");

namespace locus::echod {
namespace {

void PrintCounters(engine::Engine& engine) {
  for (unsigned i = 0; i < engine.shard_count(); ++i) {
    if (const engine::Dispatcher* d = engine.group().dispatcher(i)) {
      const engine::SteeringCounters& c = d->counters();
      std::printf(
          "shard %u steering: tcp %llu local %llu redirect out %llu (active %llu) in %llu ring "
          "full %llu arp clones %llu hash mismatch %llu\n",
          i, static_cast<unsigned long long>(c.tcp_frames.load()),
          static_cast<unsigned long long>(c.local.load()),
          static_cast<unsigned long long>(c.redirects_out.load()),
          static_cast<unsigned long long>(c.redirects_active.load()),
          static_cast<unsigned long long>(c.redirects_in.load()),
          static_cast<unsigned long long>(c.ring_full_drops.load()),
          static_cast<unsigned long long>(c.arp_clones.load()),
          static_cast<unsigned long long>(c.hash_mismatches.load()));
    }
    const core::NetCounters& n = engine.stack(i).counters();
    const tcp::TcpCounters& t = engine.stack(i).tcp().counters();
    std::printf(
        "shard %u: rx %llu tx %llu frames | arp req %llu/%llu | icmp echo %llu | tcp in %llu "
        "out %llu rexmit %llu | opens a=%llu p=%llu | resets in %llu out %llu | conns %zu "
        "tw %zu\n",
        i, static_cast<unsigned long long>(n.rx_frames),
        static_cast<unsigned long long>(n.tx_frames),
        static_cast<unsigned long long>(n.arp_requests_in),
        static_cast<unsigned long long>(n.arp_replies_out),
        static_cast<unsigned long long>(n.icmp_echo_in),
        static_cast<unsigned long long>(t.segments_in),
        static_cast<unsigned long long>(t.segments_out),
        static_cast<unsigned long long>(t.retransmits),
        static_cast<unsigned long long>(t.active_opens),
        static_cast<unsigned long long>(t.passive_opens),
        static_cast<unsigned long long>(t.resets_in),
        static_cast<unsigned long long>(t.resets_out), engine.stack(i).tcp().connection_count(),
        engine.stack(i).tcp().time_wait_count());
    {
      const link::QueueStats q = engine.link_stats(i);
      auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
      std::printf(
          "shard %u counters: rx_frames=%llu tx_frames=%llu rx_dropped=%llu tx_full=%llu "
          "arp_requests_in=%llu arp_replies_in=%llu arp_requests_out=%llu "
          "arp_replies_out=%llu icmp_echo_in=%llu icmp_echo_out=%llu segments_in=%llu "
          "segments_out=%llu retransmits=%llu fast_retransmits=%llu rto_timeouts=%llu "
          "active_opens=%llu passive_opens=%llu failed_opens=%llu resets_in=%llu "
          "resets_out=%llu syn_cookies_sent=%llu syn_cookies_valid=%llu "
          "syn_cookies_invalid=%llu ooo_segments=%llu sack_recoveries=%llu "
          "connections_current=%llu request_socks_current=%llu time_wait_current=%llu\n",
          i, u(n.rx_frames), u(n.tx_frames), u(q.rx_dropped), u(q.tx_full), u(n.arp_requests_in),
          u(n.arp_replies_in), u(n.arp_requests_out), u(n.arp_replies_out), u(n.icmp_echo_in),
          u(n.icmp_echo_out), u(t.segments_in), u(t.segments_out), u(t.retransmits),
          u(t.fast_retransmits), u(t.rto_timeouts), u(t.active_opens), u(t.passive_opens),
          u(t.failed_opens), u(t.resets_in), u(t.resets_out), u(t.syn_cookies_sent),
          u(t.syn_cookies_valid), u(t.syn_cookies_invalid), u(t.ooo_segments),
          u(t.sack_recoveries), u(t.connections_current), u(t.request_socks_current),
          u(t.time_wait_current));
    }
    for (size_t d = 0; d < n.drops.size(); ++d) {
      if (n.drops[d] != 0) {
        std::printf("  drop %s: %llu\n",
                    std::string(core::NetDropName(static_cast<core::NetDrop>(d))).c_str(),
                    static_cast<unsigned long long>(n.drops[d]));
      }
    }
    for (size_t d = 0; d < t.drops.size(); ++d) {
      if (t.drops[d] != 0) {
        std::printf("  tcp drop %s: %llu\n",
                    std::string(tcp::TcpDropName(static_cast<tcp::TcpDrop>(d))).c_str(),
                    static_cast<unsigned long long>(t.drops[d]));
      }
    }
  }
  if (const link::FaultInjectingLink* f = engine.faults()) {
    for (link::Direction dir : {link::Direction::kTx, link::Direction::kRx}) {
      const link::FaultStats s = f->fault_stats(dir);
      std::printf(
          "faults %s: packets=%llu dropped=%llu duplicated=%llu duplicate_failed=%llu "
          "reordered=%llu held_full=%llu\n",
          dir == link::Direction::kTx ? "tx" : "rx", static_cast<unsigned long long>(s.packets),
          static_cast<unsigned long long>(s.dropped),
          static_cast<unsigned long long>(s.duplicated),
          static_cast<unsigned long long>(s.duplicate_failed),
          static_cast<unsigned long long>(s.reordered),
          static_cast<unsigned long long>(s.held_full));
    }
  }
  std::fflush(stdout);
}

int Main() {
  absl::StatusOr<engine::EngineOptions> options = engine::EngineOptionsFromFlags();
  if (!options.ok()) {
    std::fprintf(stderr, "echod: %s\n", std::string(options.status().message()).c_str());
    return 2;
  }
  std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode != "server" && mode != "client") {
    std::fprintf(stderr, "echod: --mode: server or client\n");
    return 2;
  }
  ClientOptions client;
  if (mode == "client") {
    std::vector<std::string> parts = absl::StrSplit(absl::GetFlag(FLAGS_connect), ':');
    std::optional<wire::Ipv4Address> ip;
    uint32_t port = 0;
    if (parts.size() == 2) ip = wire::Ipv4Address::Parse(parts[0]);
    if (!ip.has_value() || !absl::SimpleAtoi(parts[1], &port) || port == 0 || port > 65535) {
      std::fprintf(stderr, "echod: --connect: want IP:PORT, e.g. 10.77.0.1:7\n");
      return 2;
    }
    client.server = *ip;
    client.port = static_cast<uint16_t>(port);
    client.connections = static_cast<uint32_t>(std::max(1, absl::GetFlag(FLAGS_connections)));
    client.rounds = static_cast<uint32_t>(std::max(1, absl::GetFlag(FLAGS_rounds)));
    client.bytes = absl::GetFlag(FLAGS_bytes);
    client.timeout = Duration::Seconds(absl::GetFlag(FLAGS_timeout_s));
  }

  absl::StatusOr<std::unique_ptr<engine::Engine>> engine = engine::Engine::Create(*options);
  if (!engine.ok()) {
    std::fprintf(stderr, "echod: %s\n", std::string(engine.status().message()).c_str());
    return 1;
  }
  std::printf("echod: %s on %s (%s, mac %s), %u shard(s), steering %s\n", mode.c_str(),
              options->stack.interface.subnet().ToString().c_str(),
              (*engine)->link_info().driver.c_str(), (*engine)->stack(0).mac().ToString().c_str(),
              (*engine)->shard_count(),
              (*engine)->group().mode() == steer::SteeringMode::kRss ? "rss" : "port_hash");
  std::fflush(stdout);

  {
    // Listening ports make the dispatcher treat their segments as passive.
    std::vector<uint16_t> listening;
    for (int port : {absl::GetFlag(FLAGS_echo_port), absl::GetFlag(FLAGS_discard_port)}) {
      if (port > 0 && port < 65536) listening.push_back(static_cast<uint16_t>(port));
    }
    (*engine)->group().SetListenerPorts(listening);
  }
  std::atomic<bool> stop{false};
  engine::StopOnSignals(&stop);
  ServerCounters server_counters;
  ClientReport report;
  ServerOptions server;
  server.echo_port = static_cast<uint16_t>(absl::GetFlag(FLAGS_echo_port));
  server.discard_port = static_cast<uint16_t>(absl::GetFlag(FLAGS_discard_port));

  Instant start = MonotonicNow();
  int run_s = absl::GetFlag(FLAGS_run_s);
  int stats_s = absl::GetFlag(FLAGS_stats_s);
  std::thread watchdog([&] {
    Instant next_stats = start + Duration::Seconds(stats_s);
    while (!stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      Instant now = MonotonicNow();
      if (mode == "client" && report.done.load()) stop.store(true);
      if (run_s > 0 && now - start >= Duration::Seconds(run_s)) stop.store(true);
      if (stats_s > 0 && now >= next_stats) {
        PrintCounters(**engine);
        next_stats = now + Duration::Seconds(stats_s);
      }
    }
  });
  absl::Status run = (*engine)->Run(
      [&](unsigned shard) -> std::unique_ptr<engine::ShardApp> {
        if (mode == "client" && shard == 0) return std::make_unique<ClientApp>(client, &report);
        return std::make_unique<ServerApp>(server, &server_counters);
      },
      stop);
  stop.store(true);
  watchdog.join();
  Duration elapsed = MonotonicNow() - start;
  PrintCounters(**engine);
  if (!run.ok()) {
    std::fprintf(stderr, "echod: %s\n", std::string(run.message()).c_str());
    return 1;
  }
  if (mode == "client") {
    double seconds = elapsed.seconds();
    uint64_t verified = report.bytes_verified.load();
    std::printf(
        "echod client: %llu completed, %llu failed, %llu mismatches, %llu bytes sent, %llu "
        "verified, %.2f s, %.1f Mbit/s each way\n",
        static_cast<unsigned long long>(report.completed.load()),
        static_cast<unsigned long long>(report.failed.load()),
        static_cast<unsigned long long>(report.mismatches.load()),
        static_cast<unsigned long long>(report.bytes_sent.load()),
        static_cast<unsigned long long>(verified), seconds,
        seconds > 0 ? static_cast<double>(verified) * 8 / seconds / 1e6 : 0.0);
    bool ok = report.failed.load() == 0 && report.mismatches.load() == 0 &&
              report.completed.load() ==
                  static_cast<uint64_t>(client.connections) * client.rounds;
    return ok ? 0 : 1;
  }
  std::printf("echod server: %llu accepted, %llu closed, %llu bytes echoed, %llu discarded\n",
              static_cast<unsigned long long>(server_counters.accepted.load()),
              static_cast<unsigned long long>(server_counters.closed.load()),
              static_cast<unsigned long long>(server_counters.bytes_echoed.load()),
              static_cast<unsigned long long>(server_counters.bytes_discarded.load()));
  return 0;
}

}  // namespace
}  // namespace locus::echod

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "echo/discard server and checking client on Locus's user-level TCP/IP stack.\n"
      "  echod --device=net_tap0,iface=locus0 --ip=10.77.0.2/24\n"
      "  echod --mode=client --connect=10.77.0.1:7 --bytes=104857600");
  absl::ParseCommandLine(argc, argv);
  return locus::echod::Main();
}
