// Keyed hashing of a SYN's inputs: SipHash-2-4 here versus OpenSSL's EVP_MAC
// (its SIPHASH and HMAC-SHA-256), which is why the fast path does not use
// EVP_MAC. Run: bazel run -c opt //stack/tcp_support:siphash_benchmark
#include <array>
#include <cstdint>

#include "benchmark/benchmark.h"
#include "openssl/core_names.h"
#include "openssl/evp.h"
#include "openssl/params.h"
#include "stack/tcp_support/siphash.h"

namespace locus::tcp {
namespace {

// What a SYN cookie MAC hashes: domain, tuple, client ISN, counter, MSS index.
constexpr size_t kMessageSize = 22;
const std::array<uint8_t, 16> kKey = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

void BM_SipHash24(benchmark::State& state) {
  const SipHashKey key = SipHashKey::FromBytes(kKey);
  std::array<uint8_t, kMessageSize> message{};
  uint32_t i = 0;
  for (auto _ : state) {
    message[1] = static_cast<uint8_t>(++i);
    benchmark::DoNotOptimize(SipHash24(key, message));
  }
}
BENCHMARK(BM_SipHash24);

// The cheapest way to use EVP_MAC per packet: one context, re-initialized
// with the key for every message (EVP_MAC_init with a key resets it).
void EvpMac(benchmark::State& state, const char* name, const OSSL_PARAM* params) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, name, nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  if (EVP_MAC_CTX_set_params(ctx, params) != 1) state.SkipWithError("set_params");
  std::array<uint8_t, kMessageSize> message{};
  uint8_t out[64];
  size_t out_len = 0;
  uint32_t i = 0;
  for (auto _ : state) {
    message[1] = static_cast<uint8_t>(++i);
    EVP_MAC_init(ctx, kKey.data(), kKey.size(), nullptr);
    EVP_MAC_update(ctx, message.data(), message.size());
    EVP_MAC_final(ctx, out, &out_len, sizeof(out));
    benchmark::DoNotOptimize(out);
  }
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
}

void BM_EvpMacSipHash(benchmark::State& state) {
  size_t size = 8;
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size), OSSL_PARAM_END};
  EvpMac(state, "SIPHASH", params);
}
BENCHMARK(BM_EvpMacSipHash);

void BM_EvpMacHmacSha256(benchmark::State& state) {
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_END};
  EvpMac(state, "HMAC", params);
}
BENCHMARK(BM_EvpMacHmacSha256);

}  // namespace
}  // namespace locus::tcp

BENCHMARK_MAIN();
