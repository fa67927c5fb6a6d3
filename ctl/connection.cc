#include "ctl/connection.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "api/defaults.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace locus::ctl {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path,
                                    absl::string_view flag) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", path, ": cannot read the file"));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string ServerAddress(const Invocation& inv) {
  if (!inv.server.empty()) return inv.server;
  const char* env = std::getenv(api::kServerEnvVar);
  if (env != nullptr && env[0] != '\0') return env;
  return api::kDefaultApiAddress;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Connect(const Invocation& inv) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(api::kMaxMessageBytes);
  args.SetMaxSendMessageSize(api::kMaxMessageBytes);
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (inv.ca_file.empty() && inv.cert_file.empty()) {
    creds = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    if (!inv.ca_file.empty()) {
      absl::StatusOr<std::string> ca = ReadPem(inv.ca_file, "--ca");
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *ca;
    }
    if (!inv.cert_file.empty()) {
      absl::StatusOr<std::string> cert = ReadPem(inv.cert_file, "--cert");
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = ReadPem(inv.key_file, "--key");
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *cert;
      ssl.pem_private_key = *key;
    }
    creds = grpc::SslCredentials(ssl);
    if (!inv.tls_server_name.empty()) {
      args.SetSslTargetNameOverride(inv.tls_server_name);
    }
  }
  return grpc::CreateCustomChannel(ServerAddress(inv), creds, args);
}

int ReportRpcError(const grpc::Status& status, const Invocation& inv,
                   std::ostream& err) {
  const std::string server = ServerAddress(inv);
  const std::string& message = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return kExitOk;
    case grpc::StatusCode::INVALID_ARGUMENT:
      err << "proxyctl: rejected; nothing was changed:\n  "
          << absl::StrReplaceAll(message, {{"\n", "\n  "}}) << "\n";
      return kExitUsage;
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
      err << "proxyctl: " << message << "\n";
      return kExitNo;
    case grpc::StatusCode::UNAVAILABLE:
      err << "proxyctl: cannot reach the control plane at " << server << ": "
          << message << "\nIs the daemon running? Point --server (or $"
          << api::kServerEnvVar
          << ") at its --api_address. A TLS API needs --ca, and --cert and "
             "--key if it checks client certificates.\n";
      return kExitUnreachable;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      err << "proxyctl: no answer from " << server << " within "
          << absl::FormatDuration(inv.timeout)
          << "; the daemon may be overloaded or the address wrong (raise "
             "--timeout to wait longer)\n";
      return kExitUnreachable;
    default:
      err << "proxyctl: the server failed (code " << status.error_code()
          << "): " << message << "\n";
      return kExitServerError;
  }
}

}  // namespace locus::ctl
