// Validation of a whole config before anything changes. Every problem is
// reported as "path: what is wrong", where path leads into the request the
// user sent (e.g. "pools[1].endpoints[0].port"), so errors can be found in
// the file that was applied.
#ifndef LOCUS_PROXY_CONTROL_VALIDATE_H_
#define LOCUS_PROXY_CONTROL_VALIDATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "locus/api/v1/config.pb.h"

namespace locus::proxy::control {

// Limits. Each is tested at the limit and one past it.
inline constexpr size_t kMaxNameLength = 63;
inline constexpr int kMaxListeners = 1024;
inline constexpr int kMaxRouteTables = 1024;
inline constexpr int kMaxPools = 4096;
inline constexpr int kMaxRoutesPerTable = 10000;
inline constexpr int kMaxEndpointsPerPool = 10000;
inline constexpr int kMaxWeightedPools = 64;
inline constexpr int kMaxMethods = 16;
inline constexpr int kMaxHeaderMatches = 32;
inline constexpr uint32_t kMaxWeight = 10000;
inline constexpr uint32_t kMaxRetries = 10;
inline constexpr uint32_t kMinRequestHeaderBytes = 1024;
inline constexpr uint32_t kMaxRequestHeaderBytes = 1 << 20;
inline constexpr uint32_t kMinMaglevTableSize = 251;
inline constexpr uint32_t kMaxMaglevTableSize = 5000011;
inline constexpr uint32_t kMaxRiseFall = 100;
inline constexpr uint32_t kMaxIdlePerCore = 10000;
inline constexpr size_t kMaxRegexLength = 1024;
// RE2's program size (roughly, instructions): keeps matching cheap.
inline constexpr int kMaxRegexProgramSize = 2000;
inline constexpr size_t kMaxHostLength = 253;
inline constexpr size_t kMaxPathLength = 4096;
inline constexpr size_t kMaxHeaderValueLength = 8192;
// Durations above this are rejected as mistakes (and keep arithmetic safe).
inline constexpr int64_t kMaxDurationSeconds = 365LL * 24 * 3600;
// Only this many problems are listed; the rest are counted.
inline constexpr size_t kMaxReportedErrors = 20;
// Certificates per TLS listener: inline ones and references together.
inline constexpr int kMaxListenerCertificates = 64;
// Shared certificates (Config.certificates).
inline constexpr int kMaxSharedCertificates = 1024;
// BackendPool.tls works for pools that only HTTP listeners use (the data
// plane's HTTP sessions connect with TLS); these are refused rather than
// silently sent in the clear.
inline constexpr char kUpstreamTlsTcpNotImplemented[] =
    "TLS to backends is implemented for HTTP listeners only (a TCP listener "
    "would connect in plain TCP); use a pool without tls";
inline constexpr char kUpstreamTlsHealthCheckNotImplemented[] =
    "HTTP health checks over TLS are not implemented (the check would be "
    "sent in plain TCP); use a TCP health check on a pool with tls";
// SessionTickets.rotation_interval: shorter churns keys (and full
// handshakes) for nothing; longer keeps one key's exposure too long.
inline constexpr int64_t kMinTicketRotationSeconds = 60;
inline constexpr int64_t kMaxTicketRotationSeconds = 86400;

// Where each resource of a config came from, for error messages: one path
// per listener, route table, pool and shared certificate, in the config's
// order.
struct ResourcePaths {
  std::vector<std::string> listeners;
  std::vector<std::string> route_tables;
  std::vector<std::string> pools;
  std::vector<std::string> certificates;
};

// "listeners[i]", "route_tables[i]", "pools[i]", "certificates[i]", after
// `prefix` + "." when prefix is not empty.
ResourcePaths IndexPaths(const api::v1::Config& config,
                         absl::string_view prefix);

// How listener certificates are checked (proxy/tls/cert_util.h).
struct ValidateOptions {
  // The time certificate validity is checked against.
  absl::Time now = absl::Now();
  // Not-yet-valid or expired certificates are errors (a new config) or
  // only warnings (a config already stored: a restart or a delete must not
  // fail because a certificate in service expired).
  bool reject_expired = true;
  // When set: a certificate (inline or shared) whose chain is
  // byte-identical to one in this config is already in service, and its
  // validity period only warns.
  const api::v1::Config* previous = nullptr;
  // When set: receives warnings ("path: what"), e.g. a certificate that
  // expires within 30 days.
  std::vector<std::string>* warnings = nullptr;
};

// Checks a config whose defaults are filled in (FillDefaults): every field,
// uniqueness, listener address clashes and references, and every TLS
// certificate and key (parsed, matched, in their validity period). OK, or
// INVALID_ARGUMENT with one line per problem.
absl::Status ValidateConfig(const api::v1::Config& config,
                            const ResourcePaths& paths,
                            const ValidateOptions& options = {});

// Who refers to pool or route table `name` in `config`, as readable
// phrases ("listener \"web\"", "route table \"main\" route \"api\"").
std::vector<std::string> PoolReferrers(const api::v1::Config& config,
                                       absl::string_view name);
std::vector<std::string> RouteTableReferrers(const api::v1::Config& config,
                                             absl::string_view name);
// Listeners whose certificate_refs name shared certificate `name`.
std::vector<std::string> CertificateReferrers(const api::v1::Config& config,
                                              absl::string_view name);

// Helpers shared with tests and the rest of the control plane.
bool IsDnsLabel(absl::string_view name);
bool ParseIpv4(absl::string_view text, uint32_t* address);
bool IsPrime(uint32_t n);

}  // namespace locus::proxy::control

#endif  // LOCUS_PROXY_CONTROL_VALIDATE_H_
