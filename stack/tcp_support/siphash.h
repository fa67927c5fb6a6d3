// SipHash-2-4, the keyed 64-bit PRF of Aumasson and Bernstein ("SipHash: a
// fast short-input PRF", INDOCRYPT 2012; its Appendix A gives the test
// vector, the reference implementation the 64-entry table), for
// keyed hashing on the packet path: ISNs (RFC 6528) and SYN cookies.
//
// Why not OpenSSL per packet: EVP_MAC costs a context re-initialization with
// parameter handling for every message, and HMAC-SHA-256 is two SHA-256
// compressions or more. For the 22-byte SYN cookie input, siphash_benchmark
// measured on the (shared, loaded) 2-core development VM: SipHash24 here
// ~20 ns, EVP_MAC "SIPHASH" ~50 ns, EVP_MAC HMAC-SHA-256 ~360 ns. A cookie
// costs two hashes to issue and two to check, and a SYN flood is exactly
// when that cost matters. OpenSSL is used only for the key (RAND_bytes) and,
// in tests, as an independent oracle.
#ifndef LOCUS_STACK_TCP_SUPPORT_SIPHASH_H_
#define LOCUS_STACK_TCP_SUPPORT_SIPHASH_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "absl/status/statusor.h"

namespace locus::tcp {

// The 128-bit key as the two little-endian 64-bit halves the algorithm uses.
struct SipHashKey {
  uint64_t k0 = 0;
  uint64_t k1 = 0;

  // Bytes 0-7 little-endian into k0, 8-15 into k1 (the paper's convention).
  static SipHashKey FromBytes(std::span<const uint8_t, 16> bytes);
};

uint64_t SipHash24(const SipHashKey& key, std::span<const uint8_t> message);

// A random 128-bit secret for keyed hashing. Generate once at start-up (per
// process or per core) and copy it to whoever needs it; the fast path never
// calls OpenSSL. Wiped on destruction.
class SecretKey {
 public:
  static constexpr size_t kSize = 16;

  // Draws the key from OpenSSL's CSPRNG; an error when RAND_bytes fails
  // (for instance an unseeded DRBG), in which case no key must be used.
  static absl::StatusOr<SecretKey> Generate();
  // A fixed key: tests, or a key agreed between processes.
  static SecretKey FromBytes(std::span<const uint8_t, kSize> bytes);

  SecretKey(const SecretKey&) = default;
  SecretKey& operator=(const SecretKey&) = default;
  ~SecretKey();

  const SipHashKey& siphash_key() const { return key_; }

 private:
  explicit SecretKey(SipHashKey key) : key_(key) {}
  SipHashKey key_;
};

}  // namespace locus::tcp

#endif  // LOCUS_STACK_TCP_SUPPORT_SIPHASH_H_
