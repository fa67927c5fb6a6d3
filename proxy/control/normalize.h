// From what a request says to the effective config: fixed defaults filled
// in, a canonical order, and the comparison that makes an identical apply a
// no-op. The defaults here are the ones config.proto documents.
#ifndef LOCUS_PROXY_CONTROL_NORMALIZE_H_
#define LOCUS_PROXY_CONTROL_NORMALIZE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "locus/api/v1/config.pb.h"
#include "locus/api/v1/control_plane.pb.h"

namespace locus::proxy::control {

inline constexpr char kDefaultListenAddress[] = "0.0.0.0";
inline constexpr int64_t kDefaultDrainTimeoutSeconds = 30;
inline constexpr int64_t kDefaultIdleTimeoutSeconds = 60;
inline constexpr int64_t kDefaultHeaderTimeoutSeconds = 10;
inline constexpr int64_t kDefaultRequestTimeoutSeconds = 60;
inline constexpr uint32_t kDefaultMaxRequestHeaderBytes = 65536;
inline constexpr int64_t kDefaultRouteTimeoutSeconds = 15;
inline constexpr uint32_t kDefaultWeight = 1;
inline constexpr uint32_t kDefaultNumRetries = 1;
inline constexpr uint32_t kDefaultRetryBudgetPercent = 20;
inline constexpr uint32_t kDefaultMaglevTableSize = 65537;
inline constexpr int64_t kDefaultConnectTimeoutSeconds = 5;
inline constexpr int64_t kDefaultHealthIntervalSeconds = 5;
inline constexpr int64_t kDefaultHealthTimeoutSeconds = 1;
inline constexpr uint32_t kDefaultHealthRise = 2;
inline constexpr uint32_t kDefaultHealthFall = 3;
inline constexpr char kDefaultHealthPath[] = "/";
inline constexpr uint32_t kDefaultHealthStatus = 200;
inline constexpr uint32_t kDefaultConsecutive5xx = 5;
inline constexpr uint32_t kDefaultConsecutiveConnectFailures = 5;
inline constexpr int64_t kDefaultBaseEjectionSeconds = 30;
inline constexpr int64_t kDefaultMaxEjectionSeconds = 300;
inline constexpr uint32_t kDefaultMaxEjectionPercent = 10;
inline constexpr uint32_t kDefaultKeepaliveMaxIdlePerCore = 16;
inline constexpr int64_t kDefaultKeepaliveIdleSeconds = 60;
inline constexpr int64_t kDefaultTicketRotationSeconds = 3600;
// ResourceChange.name of a change to Config.session_tickets.
inline constexpr char kSessionTicketsName[] = "session_tickets";

// Fill every unset field that has a fixed default. They never reorder and
// never reject: a value that is invalid stays for Validate to report, and a
// field that is set (even wrongly, e.g. maglev_table_size on a ROUND_ROBIN
// pool) is left as it is.
void FillDefaults(api::v1::Listener* listener);
void FillDefaults(api::v1::RouteTable* table);
void FillDefaults(api::v1::BackendPool* pool);
// A certificate has no defaults; this exists for the generic merge code.
inline void FillDefaults(api::v1::Certificate*) {}
void FillDefaults(api::v1::Config* config);
// Config.session_tickets: rotation_interval for generated keys.
void FillSessionTicketDefaults(api::v1::Config* config);

// Sorts listeners, route tables, pools and shared certificates by name.
// Routes, endpoints, a listener's inline certificates and certificate_refs
// keep their order: it matters.
void SortByName(api::v1::Config* config);

// Deterministic serialization of a normalized config without its version.
// Two configs with equal bytes run identically.
std::string CanonicalBytes(const api::v1::Config& config);

// What changed from `from` to `to` (both normalized), by kind then name.
std::vector<api::v1::ResourceChange> DiffConfigs(const api::v1::Config& from,
                                                 const api::v1::Config& to);

}  // namespace locus::proxy::control

#endif  // LOCUS_PROXY_CONTROL_NORMALIZE_H_
