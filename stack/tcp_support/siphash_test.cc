#include "stack/tcp_support/siphash.h"

#include <array>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "openssl/core_names.h"
#include "openssl/evp.h"
#include "openssl/params.h"

namespace locus::tcp {
namespace {

// The output as the reference implementation prints it: its 8 bytes,
// least significant first.
std::string OutputHex(uint64_t h) {
  std::string s;
  char buf[3];
  for (int i = 0; i < 8; ++i) {
    std::snprintf(buf, sizeof(buf), "%02x", static_cast<unsigned>((h >> (8 * i)) & 0xff));
    s += buf;
  }
  return s;
}

SipHashKey ReferenceKey() {
  std::array<uint8_t, 16> k;
  for (int i = 0; i < 16; ++i) k[i] = static_cast<uint8_t>(i);
  return SipHashKey::FromBytes(k);
}

TEST(SipHashTest, PaperAppendixAVector) {
  // SipHash paper, Appendix A: key 00 01 .. 0f, message 00 01 .. 0e
  // (15 bytes); the result is 0xa129ca6149be45e5.
  std::vector<uint8_t> message(15);
  for (int i = 0; i < 15; ++i) message[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(SipHash24(ReferenceKey(), message), 0xa129ca6149be45e5ull);
  // The paper's key words: k0 = 0x0706050403020100, k1 = 0x0f0e0d0c0b0a0908.
  EXPECT_EQ(ReferenceKey().k0, 0x0706050403020100ull);
  EXPECT_EQ(ReferenceKey().k1, 0x0f0e0d0c0b0a0908ull);
}

TEST(SipHashTest, ReferenceImplementationVectors) {
  // vectors_sip64 of the reference implementation (github.com/veorq/SipHash,
  // vectors.h): key 00..0f, message 00 01 .. (len-1) for len 0..63, output
  // bytes in order. Entry 15 is the paper's vector.
  static constexpr const char* kExpected[64] = {
    "310e0edd47db6f72", "fd67dc93c539f874", "5a4fa9d909806c0d", "2d7efbd796666785",
    "b7877127e09427cf", "8da699cd64557618", "cee3fe586e46c9cb", "37d1018bf50002ab",
    "6224939a79f5f593", "b0e4a90bdf82009e", "f3b9dd94c5bb5d7a", "a7ad6b22462fb3f4",
    "fbe50e86bc8f1e75", "903d84c02756ea14", "eef27a8e90ca23f7", "e545be4961ca29a1",
    "db9bc2577fcc2a3f", "9447be2cf5e99a69", "9cd38d96f0b3c14b", "bd6179a71dc96dbb",
    "98eea21af25cd6be", "c7673b2eb0cbf2d0", "883ea3e395675393", "c8ce5ccd8c030ca8",
    "94af49f6c650adb8", "eab8858ade92e1bc", "f315bb5bb835d817", "adcf6b0763612e2f",
    "a5c91da7acaa4dde", "716595876650a2a6", "28ef495c53a387ad", "42c341d8fa92d832",
    "ce7cf2722f512771", "e37859f94623f3a7", "381205bb1ab0e012", "ae97a10fd434e015",
    "b4a31508beff4d31", "81396229f0907902", "4d0cf49ee5d4dcca", "5c73336a76d8bf9a",
    "d0a704536ba93e0e", "925958fcd6420cad", "a915c29bc8067318", "952b79f3bc0aa6d4",
    "f21df2e41d4535f9", "87577519048f53a9", "10a56cf5dfcd9adb", "eb75095ccd986cd0",
    "51a9cb9ecba312e6", "96afadfc2ce666c7", "72fe52975a4364ee", "5a1645b276d592a1",
    "b274cb8ebf87870a", "6f9bb4203de7b381", "eaecb2a30b22a87f", "9924a43cc1315724",
    "bd838d3aafbf8db7", "0b1a2a3265d51aea", "135079a3231ce660", "932b2846e4d70666",
    "e1915f5cb1eca46c", "f325965ca16d629f", "575ff28e60381be5", "724506eb4c328a95",
  };
  std::vector<uint8_t> message;
  for (int len = 0; len < 64; ++len) {
    EXPECT_EQ(OutputHex(SipHash24(ReferenceKey(), message)), kExpected[len]) << "length " << len;
    message.push_back(static_cast<uint8_t>(len));
  }
}

// OpenSSL 3's own SipHash (EVP_MAC "SIPHASH" with an 8-byte output and the
// default 2/4 rounds) as an independent implementation.
uint64_t OpenSslSipHash(const std::array<uint8_t, 16>& key, const std::vector<uint8_t>& message) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "SIPHASH", nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  size_t size = 8;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size), OSSL_PARAM_END};
  uint8_t out[8] = {};
  size_t out_len = 0;
  const bool ok = EVP_MAC_init(ctx, key.data(), key.size(), params) == 1 &&
                  EVP_MAC_update(ctx, message.data(), message.size()) == 1 &&
                  EVP_MAC_final(ctx, out, &out_len, sizeof(out)) == 1;
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  EXPECT_TRUE(ok);
  EXPECT_EQ(out_len, 8u);
  uint64_t h = 0;
  for (int i = 7; i >= 0; --i) h = (h << 8) | out[i];
  return h;
}

TEST(SipHashTest, MatchesOpenSslOnRandomKeysAndLengths) {
  std::mt19937_64 rng(2012);
  for (int trial = 0; trial < 2000; ++trial) {
    std::array<uint8_t, 16> key;
    for (auto& b : key) b = static_cast<uint8_t>(rng());
    std::vector<uint8_t> message(rng() % 300);
    for (auto& b : message) b = static_cast<uint8_t>(rng());
    ASSERT_EQ(SipHash24(SipHashKey::FromBytes(key), message), OpenSslSipHash(key, message))
        << "length " << message.size();
  }
}

TEST(SipHashTest, EveryKeyAndMessageBitMatters) {
  const std::array<uint8_t, 12> base = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const uint64_t h = SipHash24(ReferenceKey(), base);
  for (size_t bit = 0; bit < base.size() * 8; ++bit) {
    std::array<uint8_t, 12> m = base;
    m[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_NE(SipHash24(ReferenceKey(), m), h) << bit;
  }
  for (int bit = 0; bit < 128; ++bit) {
    SipHashKey k = ReferenceKey();
    (bit < 64 ? k.k0 : k.k1) ^= uint64_t{1} << (bit % 64);
    EXPECT_NE(SipHash24(k, base), h) << bit;
  }
}

TEST(SecretKeyTest, GenerateDrawsDistinctKeys) {
  absl::StatusOr<SecretKey> a = SecretKey::Generate();
  absl::StatusOr<SecretKey> b = SecretKey::Generate();
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  // 2^-128 chance of a false failure.
  EXPECT_FALSE(a->siphash_key().k0 == b->siphash_key().k0 &&
               a->siphash_key().k1 == b->siphash_key().k1);
  EXPECT_FALSE(a->siphash_key().k0 == 0 && a->siphash_key().k1 == 0);
}

TEST(SecretKeyTest, FromBytesIsTheSipHashKey) {
  std::array<uint8_t, 16> k;
  for (int i = 0; i < 16; ++i) k[i] = static_cast<uint8_t>(i);
  const SecretKey key = SecretKey::FromBytes(k);
  EXPECT_EQ(key.siphash_key().k0, ReferenceKey().k0);
  EXPECT_EQ(key.siphash_key().k1, ReferenceKey().k1);
}

}  // namespace
}  // namespace locus::tcp
