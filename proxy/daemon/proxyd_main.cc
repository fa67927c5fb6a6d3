// proxyd: the Locus reverse proxy. One shard per lcore on the user-level
// TCP/IP stack over DPDK; the gRPC control plane (proxyctl's server) and the
// admin endpoint run on their own threads and talk to the shards only
// through immutable snapshots and counters. See docs/operations.md.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "api/codec.h"
#include "openssl/rand.h"
#include "proxy/accesslog/buffer.h"
#include "proxy/accesslog/writer.h"
#include "proxy/control/control_flags.h"
#include "proxy/control/service.h"
#include "proxy/daemon/admin_glue.h"
#include "proxy/dataplane/data_plane.h"
#include "proxy/dataplane/mailbox.h"
#include "proxy/dataplane/proxy_shard.h"
#include "stack/engine/engine.h"

ABSL_FLAG(std::string, config, "",
          "apply this config file (JSON or YAML, the API's schema) at start-up, as "
          "`proxyctl apply -f` would; empty: keep the persisted config");
ABSL_FLAG(std::string, access_log, "-", "access log file, '-' for stdout, '' for none");
ABSL_FLAG(std::string, admin_address, "127.0.0.1:9901",
          "admin HTTP endpoint (/metrics, /stats, /ready, /config); '' to disable");
ABSL_FLAG(bool, admin_non_loopback_ok, false, "allow a non-loopback admin address");

namespace locus::proxyd {
namespace {

namespace control = proxy::control;
namespace dataplane = proxy::dataplane;

std::atomic<bool> g_reopen_log{false};

absl::Status ApplyFile(control::ControlPlane& cp, const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("--config: cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  api::v1::ApplyRequest request;
  if (absl::Status s = api::ParseText(text.str(), path, request.mutable_config()); !s.ok()) {
    return s;
  }
  absl::StatusOr<api::v1::ApplyResponse> response = cp.Apply(request);
  if (!response.ok()) return response.status();
  std::printf("proxyd: applied %s: version %llu%s\n", path.c_str(),
              static_cast<unsigned long long>(response->version()),
              response->changed() ? "" : " (unchanged)");
  return absl::OkStatus();
}

int Main() {
  absl::StatusOr<engine::EngineOptions> options = engine::EngineOptionsFromFlags();
  if (!options.ok()) {
    std::fprintf(stderr, "proxyd: %s\n", std::string(options.status().message()).c_str());
    return 2;
  }
  absl::StatusOr<std::unique_ptr<engine::Engine>> engine = engine::Engine::Create(*options);
  if (!engine.ok()) {
    std::fprintf(stderr, "proxyd: %s\n", std::string(engine.status().message()).c_str());
    return 1;
  }
  unsigned shards = (*engine)->shard_count();
  absl::StatusOr<std::unique_ptr<dataplane::ShardMailbox>> mailbox =
      dataplane::ShardMailbox::Create(shards);
  if (!mailbox.ok()) {
    std::fprintf(stderr, "proxyd: %s\n", std::string(mailbox.status().message()).c_str());
    return 1;
  }
  std::vector<std::unique_ptr<dataplane::ShardTables>> tables;
  std::vector<dataplane::ShardTables*> table_ptrs;
  for (unsigned i = 0; i < shards; ++i) {
    tables.push_back(std::make_unique<dataplane::ShardTables>());
    table_ptrs.push_back(tables.back().get());
  }

  // Access log: a buffer per shard, one writer thread.
  std::vector<std::unique_ptr<proxy::accesslog::AccessLogBuffer>> log_buffers;
  std::unique_ptr<proxy::accesslog::AccessLogWriter> log_writer;
  std::string log_path = absl::GetFlag(FLAGS_access_log);
  if (!log_path.empty()) {
    std::vector<proxy::accesslog::AccessLogBuffer*> ptrs;
    for (unsigned i = 0; i < shards; ++i) {
      auto buffer = proxy::accesslog::AccessLogBuffer::Create(i);
      if (!buffer.ok()) {
        std::fprintf(stderr, "proxyd: %s\n", std::string(buffer.status().message()).c_str());
        return 1;
      }
      ptrs.push_back(buffer->get());
      log_buffers.push_back(std::move(*buffer));
    }
    auto writer = proxy::accesslog::AccessLogWriter::Start({log_path}, ptrs);
    if (!writer.ok()) {
      std::fprintf(stderr, "proxyd: --access_log: %s\n",
                   std::string(writer.status().message()).c_str());
      return 1;
    }
    log_writer = std::move(*writer);
  }

  dataplane::ProxyDataPlane data_plane(mailbox->get(), table_ptrs, &(*engine)->group());
  absl::StatusOr<std::unique_ptr<control::ControlPlane>> cp =
      control::ControlPlane::Create(control::ControlPlaneOptionsFromFlags(), &data_plane);
  if (!cp.ok()) {
    std::fprintf(stderr, "proxyd: %s\n", std::string(cp.status().message()).c_str());
    return 1;
  }
  for (const std::string& w : (*cp)->load_warnings()) std::fprintf(stderr, "proxyd: %s\n", w.c_str());
  std::string config_path = absl::GetFlag(FLAGS_config);
  if (!config_path.empty()) {
    if (absl::Status s = ApplyFile(**cp, config_path); !s.ok()) {
      std::fprintf(stderr, "proxyd: --config %s: %s\n", config_path.c_str(),
                   std::string(s.message()).c_str());
      return 2;
    }
  }
  control::ControlPlaneService service(cp->get());
  absl::StatusOr<control::RunningServer> server =
      control::StartServer(control::ServerOptionsFromFlags(), {&service});
  if (!server.ok()) {
    std::fprintf(stderr, "proxyd: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }

  std::atomic<bool> stop{false};
  engine::StopOnSignals(&stop);
  std::signal(SIGHUP, [](int) { g_reopen_log.store(true); });

  std::unique_ptr<AdminGlue> admin;
  std::string admin_address = absl::GetFlag(FLAGS_admin_address);
  if (!admin_address.empty()) {
    absl::StatusOr<std::unique_ptr<AdminGlue>> a =
        AdminGlue::Start(admin_address, absl::GetFlag(FLAGS_admin_non_loopback_ok), **engine,
                         data_plane, table_ptrs, cp->get());
    if (!a.ok()) {
      std::fprintf(stderr, "proxyd: --admin_address: %s\n",
                   std::string(a.status().message()).c_str());
      return 1;
    }
    admin = std::move(*a);
  }
  std::printf(
      "proxyd: %u shard(s) on %s (%s), stack %s; control plane on port %d; admin %s\n", shards,
      (*engine)->link_info().driver.c_str(), (*engine)->stack(0).mac().ToString().c_str(),
      options->stack.interface.subnet().ToString().c_str(), server->port,
      admin_address.empty() ? "off" : admin_address.c_str());
  std::fflush(stdout);

  std::thread housekeeping([&] {
    while (!stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (g_reopen_log.exchange(false) && log_writer != nullptr) log_writer->Reopen();
    }
  });
  uint64_t seed = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof(seed));
  absl::Status run = (*engine)->Run(
      [&](unsigned shard) -> std::unique_ptr<engine::ShardApp> {
        dataplane::ProxyShardOptions o;
        o.shard_count = shards;
        o.seed = seed;
        o.access_log = log_buffers.empty() ? nullptr : log_buffers[shard].get();
        return std::make_unique<dataplane::ProxyShard>(shard, o, mailbox->get(),
                                                       table_ptrs[shard]);
      },
      stop);
  stop.store(true);
  housekeeping.join();
  if (admin != nullptr) admin->Stop();
  server->server->GetHealthCheckService()->Shutdown();
  (*cp)->Shutdown();
  server->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  if (log_writer != nullptr) {
    // The shards are stopped: hand over their partly filled chunks, then
    // let the writer drain everything.
    for (auto& buffer : log_buffers) buffer->Flush();
    log_writer->Stop();
  }
  if (!run.ok()) {
    std::fprintf(stderr, "proxyd: %s\n", std::string(run.message()).c_str());
    return 1;
  }
  std::printf("proxyd: stopped\n");
  return 0;
}

}  // namespace
}  // namespace locus::proxyd

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Locus reverse proxy on a user-level TCP/IP stack.\n"
      "  proxyd --device=net_tap0,iface=locus0 --ip=10.77.0.2/24 --config=locus.yaml");
  absl::ParseCommandLine(argc, argv);
  return locus::proxyd::Main();
}
