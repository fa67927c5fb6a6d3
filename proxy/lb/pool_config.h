// A backend pool as the control plane describes it. Plain structs; the
// protobuf mirrors them. ValidatePool is the single judge of what is
// acceptable, and PoolSnapshot::Build refuses anything it rejects.
#ifndef LOCUS_PROXY_LB_POOL_CONFIG_H_
#define LOCUS_PROXY_LB_POOL_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "proxy/health/config.h"
#include "stack/wire/addresses.h"

namespace locus::proxy::lb {

inline constexpr size_t kMaxEndpointsPerPool = 4096;
inline constexpr uint32_t kMaxEndpointWeight = 65535;
inline constexpr size_t kMaxPoolNameLength = 128;
inline constexpr uint32_t kDefaultMaglevTableSize = 65537;  // prime
inline constexpr uint32_t kMaxMaglevTableSize = 5000011;    // prime
inline constexpr uint32_t kDefaultMinRingSize = 1024;
inline constexpr uint32_t kMaxRingSize = 8 * 1024 * 1024;  // Envoy's default cap

enum class LbPolicy : uint8_t {
  kRoundRobin,        // smooth weighted round robin (nginx)
  kLeastConnections,  // weighted, ties broken at random in proportion to weight
  kPowerOfTwo,        // two random endpoints, the less loaded per weight wins
  kRandom,            // weighted random
  kMaglev,            // Maglev consistent hashing, weighted
  kRingHash,          // Karger ring with a minimum size, weighted
};

struct EndpointKey {
  wire::Ipv4Address ip;
  uint16_t port = 0;
  bool operator==(const EndpointKey&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const EndpointKey& k) {
    return H::combine(std::move(h), k.ip, k.port);
  }
};

struct EndpointConfig {
  wire::Ipv4Address ip;
  uint16_t port = 0;
  uint32_t weight = 1;           // 0 = drained: no new connections
  uint32_t max_connections = 0;  // 0 = unlimited; enforced per core, see Balancer
  EndpointKey key() const { return EndpointKey{ip, port}; }
  bool operator==(const EndpointConfig&) const = default;
};

struct HashKeyConfig {
  enum class Source : uint8_t { kClientIp, kHeader };
  Source source = Source::kClientIp;
  std::string header_name;  // for kHeader; matched case-insensitively
  bool operator==(const HashKeyConfig&) const = default;
};

struct BackendPoolConfig {
  std::string name;
  std::vector<EndpointConfig> endpoints;
  LbPolicy lb_policy = LbPolicy::kRoundRobin;
  HashKeyConfig hash_key;  // MAGLEV and RING_HASH only
  uint32_t maglev_table_size = kDefaultMaglevTableSize;
  uint32_t ring_hash_min_ring_size = kDefaultMinRingSize;
  std::optional<health::HealthCheckConfig> health_check;
  std::optional<health::OutlierDetectionConfig> outlier_detection;
  bool operator==(const BackendPoolConfig&) const = default;
};

bool IsPrime(uint32_t n);

// INVALID_ARGUMENT naming the field, e.g. "pools[2].endpoints[3].weight: ...",
// where `field_path` is "pools[2]" (may be empty).
absl::Status ValidatePool(const BackendPoolConfig& pool,
                          absl::string_view field_path = "");

}  // namespace locus::proxy::lb

#endif  // LOCUS_PROXY_LB_POOL_CONFIG_H_
