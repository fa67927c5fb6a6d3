#include "proxy/control/control_flags.h"

#include <string>

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, api_address, locus::api::kDefaultApiAddress,
          "Control-plane API address: HOST:PORT or unix:PATH. Anything but "
          "loopback needs --api_tls_cert, --api_tls_key and --api_client_ca, "
          "or --api_insecure_ok.");
ABSL_FLAG(std::string, api_tls_cert, "",
          "PEM certificate (chain) the API serves TLS with.");
ABSL_FLAG(std::string, api_tls_key, "", "PEM private key of --api_tls_cert.");
ABSL_FLAG(std::string, api_client_ca, "",
          "PEM CA bundle: clients must present a certificate it signed.");
ABSL_FLAG(bool, api_insecure_ok, false,
          "Serve the API on a non-loopback address without client "
          "certificates. Anyone who reaches it can reconfigure the proxy.");
ABSL_FLAG(std::string, config_state, locus::proxy::control::kDefaultStatePath,
          "File holding the current config (proto3 JSON of "
          "locus.api.v1.Config); FILE.last-good holds the previous one. Empty: "
          "keep the config in memory only.");

namespace locus::proxy::control {

ServerOptions ServerOptionsFromFlags() {
  ServerOptions options;
  options.address = absl::GetFlag(FLAGS_api_address);
  options.tls_cert_file = absl::GetFlag(FLAGS_api_tls_cert);
  options.tls_key_file = absl::GetFlag(FLAGS_api_tls_key);
  options.client_ca_file = absl::GetFlag(FLAGS_api_client_ca);
  options.insecure_ok = absl::GetFlag(FLAGS_api_insecure_ok);
  return options;
}

ControlPlane::Options ControlPlaneOptionsFromFlags() {
  ControlPlane::Options options;
  options.state_path = absl::GetFlag(FLAGS_config_state);
  return options;
}

}  // namespace locus::proxy::control
