// Hashes whose values must be the same in every process, on every core and
// across restarts: consistent hashing (Maglev, ring hash) only keeps a
// client on its backend if every proxy instance computes the same numbers.
// absl::Hash is seeded per process and must not be used for that.
#ifndef LOCUS_PROXY_LB_HASH_H_
#define LOCUS_PROXY_LB_HASH_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "stack/wire/addresses.h"

namespace locus::proxy::lb {

// MurmurHash64A (Austin Appleby, public domain), reading bytes as little
// endian explicitly so the value does not depend on the host.
constexpr uint64_t StableHash64(absl::string_view data, uint64_t seed) {
  constexpr uint64_t m = 0xc6a4a7935bd1e995ULL;
  constexpr int r = 47;
  const size_t len = data.size();
  uint64_t h = seed ^ (static_cast<uint64_t>(len) * m);
  const size_t blocks = len / 8;
  for (size_t b = 0; b < blocks; ++b) {
    uint64_t k = 0;
    for (int i = 7; i >= 0; --i) {
      k = (k << 8) | static_cast<uint8_t>(data[b * 8 + i]);
    }
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
  }
  const size_t tail = blocks * 8;
  const size_t rest = len & 7;
  if (rest != 0) {
    for (size_t i = rest; i-- > 0;) {
      h ^= static_cast<uint64_t>(static_cast<uint8_t>(data[tail + i])) << (8 * i);
    }
    h *= m;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

inline constexpr uint64_t kHashKeySeed = 0x6c6f637573'6b6579ULL;  // "locuskey"

// The request hash key for MAGLEV and RING_HASH pools.
inline uint64_t HashClientIp(wire::Ipv4Address ip) {
  const uint32_t v = ip.value();
  const char bytes[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                         static_cast<char>(v >> 8), static_cast<char>(v)};
  return StableHash64(absl::string_view(bytes, 4), kHashKeySeed);
}
inline uint64_t HashHeaderValue(absl::string_view value) {
  return StableHash64(value, kHashKeySeed);
}

}  // namespace locus::proxy::lb

#endif  // LOCUS_PROXY_LB_HASH_H_
