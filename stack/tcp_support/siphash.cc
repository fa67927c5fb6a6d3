#include "stack/tcp_support/siphash.h"

#include <bit>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "openssl/crypto.h"
#include "openssl/err.h"
#include "openssl/rand.h"

namespace locus::tcp {
namespace {

uint64_t LoadLe64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// One SipRound (paper, §2, Figure 2.1).
inline void SipRound(uint64_t& v0, uint64_t& v1, uint64_t& v2, uint64_t& v3) {
  v0 += v1;
  v1 = std::rotl(v1, 13);
  v1 ^= v0;
  v0 = std::rotl(v0, 32);
  v2 += v3;
  v3 = std::rotl(v3, 16);
  v3 ^= v2;
  v0 += v3;
  v3 = std::rotl(v3, 21);
  v3 ^= v0;
  v2 += v1;
  v1 = std::rotl(v1, 17);
  v1 ^= v2;
  v2 = std::rotl(v2, 32);
}

}  // namespace

SipHashKey SipHashKey::FromBytes(std::span<const uint8_t, 16> bytes) {
  return SipHashKey{LoadLe64(bytes.data()), LoadLe64(bytes.data() + 8)};
}

uint64_t SipHash24(const SipHashKey& key, std::span<const uint8_t> message) {
  // Initialization: the key XORed with "somepseudorandomlygeneratedbytes".
  uint64_t v0 = key.k0 ^ 0x736f6d6570736575ull;
  uint64_t v1 = key.k1 ^ 0x646f72616e646f6dull;
  uint64_t v2 = key.k0 ^ 0x6c7967656e657261ull;
  uint64_t v3 = key.k1 ^ 0x7465646279746573ull;

  const uint8_t* p = message.data();
  const size_t n = message.size();
  const uint8_t* const end = p + (n & ~size_t{7});
  // Compression: c = 2 rounds per 8-byte little-endian word.
  for (; p != end; p += 8) {
    const uint64_t m = LoadLe64(p);
    v3 ^= m;
    SipRound(v0, v1, v2, v3);
    SipRound(v0, v1, v2, v3);
    v0 ^= m;
  }
  // The last word: the remaining 0-7 bytes, zero padded, with the message
  // length mod 256 in the top byte.
  uint64_t b = static_cast<uint64_t>(n & 0xff) << 56;
  for (size_t i = 0; i < (n & 7); ++i) b |= static_cast<uint64_t>(p[i]) << (8 * i);
  v3 ^= b;
  SipRound(v0, v1, v2, v3);
  SipRound(v0, v1, v2, v3);
  v0 ^= b;
  // Finalization: d = 4 rounds.
  v2 ^= 0xff;
  SipRound(v0, v1, v2, v3);
  SipRound(v0, v1, v2, v3);
  SipRound(v0, v1, v2, v3);
  SipRound(v0, v1, v2, v3);
  return v0 ^ v1 ^ v2 ^ v3;
}

absl::StatusOr<SecretKey> SecretKey::Generate() {
  uint8_t bytes[kSize];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    char reason[256];
    ERR_error_string_n(ERR_get_error(), reason, sizeof(reason));
    OPENSSL_cleanse(bytes, sizeof(bytes));
    return absl::UnavailableError(absl::StrCat("RAND_bytes failed: ", reason));
  }
  SecretKey key = FromBytes(bytes);
  OPENSSL_cleanse(bytes, sizeof(bytes));
  return key;
}

SecretKey SecretKey::FromBytes(std::span<const uint8_t, kSize> bytes) {
  return SecretKey(SipHashKey::FromBytes(bytes));
}

SecretKey::~SecretKey() { OPENSSL_cleanse(&key_, sizeof(key_)); }

}  // namespace locus::tcp
