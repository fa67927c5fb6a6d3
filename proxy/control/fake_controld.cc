// A control-plane server over FakeDataPlane: the real API, persistence and
// flags, with no data plane behind them. For trying proxyctl and API
// clients (grpcurl) by hand, and for the lead's integration work; it is not
// the daemon.
//
//   bazel run //proxy/control:fake_controld -- --config_state=/tmp/c.json
#include <csignal>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "proxy/control/control_flags.h"
#include "proxy/control/fake_data_plane.h"
#include "proxy/control/service.h"

ABSL_FLAG(int, fake_cores, 2, "Cores the fake data plane reports.");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Serves the Locus control-plane API over a fake data plane.");
  absl::ParseCommandLine(argc, argv);
  namespace control = locus::proxy::control;

  // Block the stop signals before any thread starts, then wait for them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  int cores = absl::GetFlag(FLAGS_fake_cores);
  control::FakeDataPlane data_plane(
      cores < 1 ? 1 : static_cast<uint32_t>(cores),
      /*auto_apply=*/true);
  absl::StatusOr<std::unique_ptr<control::ControlPlane>> cp =
      control::ControlPlane::Create(control::ControlPlaneOptionsFromFlags(),
                                    &data_plane);
  if (!cp.ok()) {
    std::fprintf(stderr, "fake_controld: %s\n",
                 std::string(cp.status().message()).c_str());
    return 1;
  }
  for (const std::string& warning : (*cp)->load_warnings()) {
    std::fprintf(stderr, "fake_controld: warning: %s\n", warning.c_str());
  }
  control::ControlPlaneService service(cp->get());
  control::ServerOptions options = control::ServerOptionsFromFlags();
  absl::StatusOr<control::RunningServer> server =
      control::StartServer(options, {&service});
  if (!server.ok()) {
    std::fprintf(stderr, "fake_controld: %s\n",
                 std::string(server.status().message()).c_str());
    return 1;
  }
  std::fprintf(stderr, "fake_controld: serving on %s (port %d), version %llu\n",
               options.address.c_str(), server->port,
               static_cast<unsigned long long>((*cp)->Current()->version));
  int signal = 0;
  sigwait(&stop, &signal);
  server->server->GetHealthCheckService()->Shutdown();
  (*cp)->Shutdown();
  server->server->Shutdown(std::chrono::system_clock::now() +
                           std::chrono::seconds(2));
  return 0;
}
