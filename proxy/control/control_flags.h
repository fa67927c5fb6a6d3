// Command-line flags of the control plane, for the daemon (and
// fake_controld). Link this library and call these after
// absl::ParseCommandLine.
//
//   --api_address=127.0.0.1:7090   HOST:PORT or unix:PATH
//   --api_tls_cert=FILE --api_tls_key=FILE   serve TLS
//   --api_client_ca=FILE           require client certificates (mTLS)
//   --api_insecure_ok              allow non-loopback without mTLS
//   --config_state=/var/lib/locus/config.json   persisted config
//                                  ("" = keep it in memory only)
#ifndef LOCUS_PROXY_CONTROL_CONTROL_FLAGS_H_
#define LOCUS_PROXY_CONTROL_CONTROL_FLAGS_H_

#include "proxy/control/control_plane.h"
#include "proxy/control/server.h"

namespace locus::proxy::control {

inline constexpr char kDefaultStatePath[] = "/var/lib/locus/config.json";

ServerOptions ServerOptionsFromFlags();
ControlPlane::Options ControlPlaneOptionsFromFlags();

}  // namespace locus::proxy::control

#endif  // LOCUS_PROXY_CONTROL_CONTROL_FLAGS_H_
