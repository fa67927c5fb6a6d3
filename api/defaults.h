// Defaults shared by the daemon's API server and proxyctl.
#ifndef LOCUS_API_DEFAULTS_H_
#define LOCUS_API_DEFAULTS_H_

#include <cstddef>

namespace locus::api {

// The control-plane API listens here unless told otherwise (loopback only:
// anything else needs TLS with client certificates, see proxy/control).
inline constexpr char kDefaultApiAddress[] = "127.0.0.1:7090";
// proxyctl reads the server address from this environment variable when
// --server is not given.
inline constexpr char kServerEnvVar[] = "LOCUS_SERVER";
// Largest gRPC message either side accepts: a config file of the largest
// size the codec reads, plus room for the response that echoes it.
inline constexpr int kMaxMessageBytes = 40 << 20;

}  // namespace locus::api

#endif  // LOCUS_API_DEFAULTS_H_
