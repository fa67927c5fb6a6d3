// The per-core random source the balancer draws from. SplitMix64: tiny
// state, no allocation, statistically sound for load balancing (not for
// anything security-related). Each core seeds its own.
#ifndef LOCUS_PROXY_LB_RNG_H_
#define LOCUS_PROXY_LB_RNG_H_

#include <cstdint>

namespace locus::proxy::lb {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, n) for n > 0 (Lemire's multiply-shift; the bias is
  // below 2^-32 for any n that fits 32 bits).
  uint64_t Uniform(uint64_t n) {
    return static_cast<uint64_t>(
        (static_cast<unsigned __int128>(Next()) * n) >> 64);
  }

 private:
  uint64_t state_;
};

}  // namespace locus::proxy::lb

#endif  // LOCUS_PROXY_LB_RNG_H_
