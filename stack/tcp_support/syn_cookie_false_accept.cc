// Measures the SYN cookie false-accept rate on a large sample of random
// final ACKs (random tuple, SEG.SEQ, SEG.ACK) under a fresh random key.
// Expected: 2^-29 per ACK (syn_cookie.h).
//   bazel run -c opt //stack/tcp_support:syn_cookie_false_accept -- [trials]
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "stack/tcp_support/syn_cookie.h"

namespace {

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

int main(int argc, char** argv) {
  using locus::tcp::CookieVerdict;
  const uint64_t trials = argc > 1 ? std::strtoull(argv[1], nullptr, 0) : (uint64_t{1} << 28);
  absl::StatusOr<locus::tcp::SecretKey> key = locus::tcp::SecretKey::Generate();
  if (!key.ok()) {
    std::fprintf(stderr, "%s\n", key.status().ToString().c_str());
    return 1;
  }
  const locus::tcp::SynCookies cookies(*key);
  const locus::Instant now = locus::Instant::Zero() + locus::Duration::Seconds(86400);
  uint64_t rng = 12345, accepted = 0;
  for (uint64_t i = 0; i < trials; ++i) {
    const uint64_t a = SplitMix64(rng), b = SplitMix64(rng), c = SplitMix64(rng);
    const locus::tcp::Ipv4Tuple t{locus::wire::Ipv4Address(static_cast<uint32_t>(a)),
                                  static_cast<uint16_t>(a >> 32),
                                  locus::wire::Ipv4Address(static_cast<uint32_t>(b)),
                                  static_cast<uint16_t>(b >> 32)};
    accepted += cookies.Check(t, locus::wire::SeqNum(static_cast<uint32_t>(c)),
                              locus::wire::SeqNum(static_cast<uint32_t>(c >> 32)), now)
                    .verdict == CookieVerdict::kValid;
  }
  // Exact one-sided 95% upper bound on the Poisson mean: the lambda with
  // P(X <= accepted; lambda) = 0.05, found by bisection.
  auto cdf = [accepted](double lambda) {
    double term = std::exp(-lambda), sum = term;
    for (uint64_t k = 1; k <= accepted; ++k) sum += term *= lambda / static_cast<double>(k);
    return sum;
  };
  double lo = 0, hi = 10.0 + 4.0 * static_cast<double>(accepted);
  for (int i = 0; i < 200; ++i) {
    const double mid = (lo + hi) / 2;
    (cdf(mid) > 0.05 ? lo : hi) = mid;
  }
  const double n = static_cast<double>(trials);
  const double upper = hi / n;
  std::printf("trials %" PRIu64 ", accepted %" PRIu64 ", rate %.3g (2^%.1f), 95%% upper bound %.3g (2^%.1f), expected 2^-29 = %.3g\n",
              trials, accepted, accepted / n, accepted ? std::log2(accepted / n) : -INFINITY, upper,
              std::log2(upper), std::ldexp(1.0, -29));
  return 0;
}
