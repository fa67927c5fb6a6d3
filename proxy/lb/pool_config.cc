#include "proxy/lb/pool_config.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace locus::proxy::lb {
namespace {

std::string Field(absl::string_view path, absl::string_view field) {
  return path.empty() ? std::string(field) : absl::StrCat(path, ".", field);
}

absl::Status Bad(absl::string_view path, absl::string_view field,
                 absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(Field(path, field), ": ", why));
}

bool IsHeaderNameChar(char c) {
  // RFC 9110 §5.6.2 tchar.
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  return absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
}

}  // namespace

bool IsPrime(uint32_t n) {
  if (n < 2) return false;
  if (n % 2 == 0) return n == 2;
  for (uint64_t d = 3; d * d <= n; d += 2) {
    if (n % d == 0) return false;
  }
  return true;
}

absl::Status ValidatePool(const BackendPoolConfig& pool,
                          absl::string_view path) {
  if (pool.name.empty()) return Bad(path, "name", "must not be empty");
  if (pool.name.size() > kMaxPoolNameLength) {
    return Bad(path, "name",
               absl::StrCat("longer than ", kMaxPoolNameLength, " bytes"));
  }
  if (pool.endpoints.size() > kMaxEndpointsPerPool) {
    return Bad(path, "endpoints",
               absl::StrCat("more than ", kMaxEndpointsPerPool, " endpoints"));
  }
  absl::flat_hash_set<EndpointKey> seen;
  for (size_t i = 0; i < pool.endpoints.size(); ++i) {
    const EndpointConfig& e = pool.endpoints[i];
    const std::string ep = Field(path, absl::StrCat("endpoints[", i, "]"));
    if (e.port == 0) return Bad(ep, "port", "must not be 0");
    if (e.ip.is_any() || e.ip.is_broadcast() || e.ip.is_multicast()) {
      return Bad(ep, "ip", "must be a unicast address");
    }
    if (e.weight > kMaxEndpointWeight) {
      return Bad(ep, "weight", absl::StrCat("must be at most ", kMaxEndpointWeight));
    }
    if (!seen.insert(e.key()).second) {
      return Bad(ep, "ip", absl::StrCat("duplicate endpoint ", e.ip.ToString(),
                                        ":", e.port));
    }
  }
  const bool hashing = pool.lb_policy == LbPolicy::kMaglev ||
                       pool.lb_policy == LbPolicy::kRingHash;
  if (hashing && pool.hash_key.source == HashKeyConfig::Source::kHeader) {
    if (pool.hash_key.header_name.empty()) {
      return Bad(path, "hash_key.header_name", "must not be empty");
    }
    for (char c : pool.hash_key.header_name) {
      if (!IsHeaderNameChar(c)) {
        return Bad(path, "hash_key.header_name", "is not an HTTP field name");
      }
    }
  }
  if (pool.lb_policy == LbPolicy::kMaglev) {
    const uint32_t m = pool.maglev_table_size;
    if (m > kMaxMaglevTableSize) {
      return Bad(path, "maglev_table_size",
                 absl::StrCat("must be at most ", kMaxMaglevTableSize));
    }
    if (!IsPrime(m)) return Bad(path, "maglev_table_size", "must be prime");
    // Every endpoint needs at least one slot; the paper wants M >> N.
    if (m <= pool.endpoints.size()) {
      return Bad(path, "maglev_table_size",
                 "must be larger than the number of endpoints");
    }
  }
  if (pool.lb_policy == LbPolicy::kRingHash) {
    const uint32_t r = pool.ring_hash_min_ring_size;
    if (r == 0 || r > kMaxRingSize) {
      return Bad(path, "ring_hash_min_ring_size",
                 absl::StrCat("must be 1..", kMaxRingSize));
    }
  }
  if (pool.health_check) {
    absl::Status s =
        health::ValidateHealthCheck(*pool.health_check, Field(path, "health_check"));
    if (!s.ok()) return s;
  }
  if (pool.outlier_detection) {
    absl::Status s = health::ValidateOutlierDetection(
        *pool.outlier_detection, Field(path, "outlier_detection"));
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace locus::proxy::lb
