// Builds and starts the gRPC server that hosts the control-plane API, with
// the standard health service and server reflection. The daemon calls
// StartServer with options from its flags (control_flags.h) and nothing
// else.
//
// Security rule: the API changes what the proxy does, so by default it
// listens on loopback only. A non-loopback address needs TLS with client
// certificate verification (mTLS), unless insecure_ok says the operator
// takes the risk.
#ifndef LOCUS_PROXY_CONTROL_SERVER_H_
#define LOCUS_PROXY_CONTROL_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/defaults.h"
#include "grpcpp/server.h"

namespace locus::proxy::control {

struct ServerOptions {
  // "host:port" (IPv4 or [IPv6]; port 0 picks a free one) or "unix:PATH".
  std::string address = api::kDefaultApiAddress;
  // PEM files. cert and key enable TLS; client_ca additionally requires
  // and verifies client certificates against it.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string client_ca_file;
  // Allows a non-loopback address without mTLS.
  bool insecure_ok = false;
};

// Loopback: unix sockets, localhost, 127.0.0.0/8 and [::1].
bool IsLoopbackAddress(absl::string_view address);

// Checks the address form, TLS file combinations and the loopback rule,
// with messages that name the flags (--api_address, --api_tls_cert, ...).
absl::Status CheckServerOptions(const ServerOptions& options);

struct RunningServer {
  std::unique_ptr<grpc::Server> server;
  // The TCP port bound (useful with port 0); 0 for unix sockets.
  int port = 0;
};

inline constexpr char kControlPlaneServiceName[] = "locus.api.v1.ControlPlane";

// Checks the options, reads the PEM files, and starts serving `services`
// plus grpc.health.v1.Health (SERVING for "" and kControlPlaneServiceName)
// and server reflection. The services must outlive the server. To stop:
// server->GetHealthCheckService()->Shutdown() (NOT_SERVING), the control
// plane's Shutdown() (ends watches), then server->Shutdown(deadline).
absl::StatusOr<RunningServer> StartServer(
    const ServerOptions& options, const std::vector<grpc::Service*>& services);

}  // namespace locus::proxy::control

#endif  // LOCUS_PROXY_CONTROL_SERVER_H_
