#include "proxy/control/server.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "proxy/control/validate.h"

namespace locus::proxy::control {
namespace {

// Splits "host:port" / "[v6]:port"; false if there is no numeric port.
bool SplitHostPort(absl::string_view address, std::string* host, int* port) {
  size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos) return false;
  absl::string_view h = address.substr(0, colon);
  if (absl::StartsWith(h, "[")) {
    if (!absl::EndsWith(h, "]")) return false;
    h = h.substr(1, h.size() - 2);
  } else if (h.find(':') != absl::string_view::npos) {
    return false;  // a bare IPv6 address needs brackets
  }
  int p = 0;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &p) || p < 0 || p > 65535) {
    return false;
  }
  *host = std::string(h);
  *port = p;
  return true;
}

absl::StatusOr<std::string> ReadPem(const std::string& path,
                                    absl::string_view flag) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, "=", path, ": cannot read the file"));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string pem = ss.str();
  if (pem.find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, "=", path, ": not a PEM file"));
  }
  return pem;
}

}  // namespace

bool IsLoopbackAddress(absl::string_view address) {
  if (absl::StartsWith(address, "unix:") ||
      absl::StartsWith(address, "unix-abstract:")) {
    return true;
  }
  std::string host;
  int port;
  if (!SplitHostPort(address, &host, &port)) return false;
  if (host == "localhost" || host == "::1") return true;
  uint32_t ip;
  return ParseIpv4(host, &ip) && (ip >> 24) == 127;
}

absl::Status CheckServerOptions(const ServerOptions& options) {
  const std::string& address = options.address;
  bool unix_socket = absl::StartsWith(address, "unix:") ||
                     absl::StartsWith(address, "unix-abstract:");
  std::string host;
  int port;
  if (!unix_socket && !SplitHostPort(address, &host, &port)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--api_address=", address,
        ": expected HOST:PORT (e.g. 127.0.0.1:7090, [::1]:7090) or "
        "unix:PATH"));
  }
  bool has_cert = !options.tls_cert_file.empty();
  bool has_key = !options.tls_key_file.empty();
  if (has_cert != has_key) {
    return absl::InvalidArgumentError(
        "--api_tls_cert and --api_tls_key go together: give both or neither");
  }
  if (!options.client_ca_file.empty() && !has_cert) {
    return absl::InvalidArgumentError(
        "--api_client_ca needs --api_tls_cert and --api_tls_key: client "
        "certificates are only checked over TLS");
  }
  bool mtls = has_cert && !options.client_ca_file.empty();
  if (!IsLoopbackAddress(address) && !mtls && !options.insecure_ok) {
    return absl::PermissionDeniedError(absl::StrCat(
        "--api_address=", address,
        " is not a loopback address, and without TLS client certificates "
        "anyone who can reach it could reconfigure the proxy. Give "
        "--api_tls_cert, --api_tls_key and --api_client_ca (mTLS), listen "
        "on 127.0.0.1 or a unix: socket, or pass --api_insecure_ok to accept "
        "the risk."));
  }
  return absl::OkStatus();
}

absl::StatusOr<RunningServer> StartServer(
    const ServerOptions& options, const std::vector<grpc::Service*>& services) {
  if (absl::Status s = CheckServerOptions(options); !s.ok()) return s;

  std::shared_ptr<grpc::ServerCredentials> credentials;
  if (options.tls_cert_file.empty()) {
    credentials = grpc::InsecureServerCredentials();
  } else {
    absl::StatusOr<std::string> cert =
        ReadPem(options.tls_cert_file, "--api_tls_cert");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key =
        ReadPem(options.tls_key_file, "--api_tls_key");
    if (!key.ok()) return key.status();
    grpc::SslServerCredentialsOptions ssl(
        GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    if (!options.client_ca_file.empty()) {
      absl::StatusOr<std::string> ca =
          ReadPem(options.client_ca_file, "--api_client_ca");
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *ca;
      ssl.client_certificate_request =
          GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    }
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    credentials = grpc::SslServerCredentials(ssl);
  }

  // Both are process-wide switches that take effect for builders made
  // after them.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.address, credentials, &port);
  builder.SetMaxReceiveMessageSize(api::kMaxMessageBytes);
  builder.SetMaxSendMessageSize(api::kMaxMessageBytes);
  for (grpc::Service* service : services) builder.RegisterService(service);
  RunningServer running;
  running.server = builder.BuildAndStart();
  if (running.server == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", options.address,
        ": the port may be in use, the address not local, or the key not "
        "match the certificate"));
  }
  bool unix_socket = absl::StartsWith(options.address, "unix");
  if (!unix_socket && port == 0) {
    running.server->Shutdown();
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.address));
  }
  running.port = unix_socket ? 0 : port;
  grpc::HealthCheckServiceInterface* health =
      running.server->GetHealthCheckService();
  if (health != nullptr) {
    health->SetServingStatus(true);
    health->SetServingStatus(kControlPlaneServiceName, true);
  }
  return running;
}

}  // namespace locus::proxy::control
