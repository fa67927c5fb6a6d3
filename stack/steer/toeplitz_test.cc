#include "stack/steer/toeplitz.h"

#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "stack/steer/reta.h"
#include "stack/wire/addresses.h"

namespace locus::steer {
namespace {

using wire::Ipv4Address;

// Microsoft, "Verifying the RSS Hash Calculation" (learn.microsoft.com,
// windows-hardware/drivers/network/verifying-the-rss-hash-calculation),
// with kMicrosoftRssKey. The same table is Intel 82599 datasheet §7.1.2.8.3
// "RSS Verification Suite" and DPDK app/test/test_thash.c v4_tbl.
struct Ipv4Vector {
  const char* src;
  uint16_t src_port;
  const char* dst;
  uint16_t dst_port;
  uint32_t hash_ipv4;
  uint32_t hash_ipv4_tcp;
};

constexpr Ipv4Vector kIpv4Vectors[] = {
    {"66.9.149.187", 2794, "161.142.100.80", 1766, 0x323e8fc2, 0x51ccc178},
    {"199.92.111.2", 14230, "65.69.140.83", 4739, 0xd718262a, 0xc626b0ea},
    {"24.19.198.95", 12898, "12.22.207.184", 38024, 0xd2d0a5de, 0x5c2b394a},
    {"38.27.205.30", 48228, "209.142.163.6", 2217, 0x82989176, 0xafc7327f},
    {"153.39.163.191", 44251, "202.188.127.2", 1303, 0x5d1809c5, 0x10e828a2},
};

// The IPv6 half of the same table. The table-driven class covers IPv4
// only; these check the reference on the longest input a 40-byte key
// allows (36 bytes), i.e. the key windows right up to the key's last bit.
struct Ipv6Vector {
  std::array<uint8_t, 16> src;
  uint16_t src_port;
  std::array<uint8_t, 16> dst;
  uint16_t dst_port;
  uint32_t hash_ipv6;
  uint32_t hash_ipv6_tcp;
};

const Ipv6Vector kIpv6Vectors[] = {
    // 3ffe:2501:200:1fff::7 :2794 -> 3ffe:2501:200:3::1 :1766
    {{0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x1f, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x07},
     2794,
     {0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, 0x01},
     1766,
     0x2cc18cd5,
     0x40207d3d},
    // 3ffe:501:8::260:97ff:fe40:efab :14230 -> ff02::1 :4739
    {{0x3f, 0xfe, 0x05, 0x01, 0x00, 0x08, 0, 0, 0x02, 0x60, 0x97, 0xff, 0xfe, 0x40, 0xef, 0xab},
     14230,
     {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01},
     4739,
     0x0f0c461c,
     0xdde51bbf},
    // 3ffe:1900:4545:3:200:f8ff:fe21:67cf :44251 -> fe80::200:f8ff:fe21:67cf :38024
    {{0x3f, 0xfe, 0x19, 0x00, 0x45, 0x45, 0x00, 0x03, 0x02, 0x00, 0xf8, 0xff, 0xfe, 0x21, 0x67,
      0xcf},
     44251,
     {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x00, 0xf8, 0xff, 0xfe, 0x21, 0x67, 0xcf},
     38024,
     0x4b61e985,
     0x02d1feef},
};

uint32_t Ip(const char* text) {
  auto a = Ipv4Address::Parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a ? a->value() : 0;
}

std::vector<uint8_t> Ipv4Input(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport) {
  return {static_cast<uint8_t>(src >> 24), static_cast<uint8_t>(src >> 16),
          static_cast<uint8_t>(src >> 8),  static_cast<uint8_t>(src),
          static_cast<uint8_t>(dst >> 24), static_cast<uint8_t>(dst >> 16),
          static_cast<uint8_t>(dst >> 8),  static_cast<uint8_t>(dst),
          static_cast<uint8_t>(sport >> 8), static_cast<uint8_t>(sport),
          static_cast<uint8_t>(dport >> 8), static_cast<uint8_t>(dport)};
}

TEST(ToeplitzTest, MicrosoftIpv4VectorsTableDriven) {
  const ToeplitzHash hash(kMicrosoftRssKey);
  for (const auto& v : kIpv4Vectors) {
    EXPECT_EQ(hash.HashIpv4(Ip(v.src), Ip(v.dst)), v.hash_ipv4) << v.src;
    EXPECT_EQ(hash.HashIpv4L4(Ip(v.src), Ip(v.dst), v.src_port, v.dst_port), v.hash_ipv4_tcp)
        << v.src;
  }
}

TEST(ToeplitzTest, MicrosoftIpv4VectorsReference) {
  for (const auto& v : kIpv4Vectors) {
    const auto input = Ipv4Input(Ip(v.src), Ip(v.dst), v.src_port, v.dst_port);
    EXPECT_EQ(ToeplitzReference(kMicrosoftRssKey, std::span(input).first(kIpv4InputLength)),
              v.hash_ipv4);
    EXPECT_EQ(ToeplitzReference(kMicrosoftRssKey, input), v.hash_ipv4_tcp);
  }
}

TEST(ToeplitzTest, MicrosoftIpv6VectorsReference) {
  for (const auto& v : kIpv6Vectors) {
    std::vector<uint8_t> input(v.src.begin(), v.src.end());
    input.insert(input.end(), v.dst.begin(), v.dst.end());
    EXPECT_EQ(ToeplitzReference(kMicrosoftRssKey, input), v.hash_ipv6);
    input.push_back(static_cast<uint8_t>(v.src_port >> 8));
    input.push_back(static_cast<uint8_t>(v.src_port));
    input.push_back(static_cast<uint8_t>(v.dst_port >> 8));
    input.push_back(static_cast<uint8_t>(v.dst_port));
    ASSERT_EQ(input.size(), kMaxToeplitzInput);
    EXPECT_EQ(ToeplitzReference(kMicrosoftRssKey, input), v.hash_ipv6_tcp);
  }
}

TEST(ToeplitzTest, ReferenceOfNothingIsZeroAndOverlongInputIsTruncated) {
  EXPECT_EQ(ToeplitzReference(kMicrosoftRssKey, {}), 0u);
  std::vector<uint8_t> input(kMaxToeplitzInput + 8, 0xa5);
  EXPECT_EQ(ToeplitzReference(kMicrosoftRssKey, input),
            ToeplitzReference(kMicrosoftRssKey, std::span(input).first(kMaxToeplitzInput)));
}

// The first input bit selects the key's first 32 bits; the last bit of a
// 36-byte input selects the key's last 32 bits shifted by one.
TEST(ToeplitzTest, SingleBitsSelectKeyWindows) {
  std::vector<uint8_t> input(kMaxToeplitzInput, 0);
  input[0] = 0x80;
  EXPECT_EQ(ToeplitzReference(kMicrosoftRssKey, input), 0x6d5a56dau);
  input[0] = 0x01;  // bit 7: K[7..39)
  EXPECT_EQ(ToeplitzReference(kMicrosoftRssKey, input), (0x6d5a56da25ull >> 1) & 0xffffffff);
  input[0] = 0;
  input.back() = 0x01;  // bit 287: K[287..319), the key's last 32 bits but one
  EXPECT_EQ(ToeplitzReference(kMicrosoftRssKey, input), (0x6a42b73bbeac01faull >> 1) & 0xffffffff);
}

RssKey RandomKey(std::mt19937_64& rng) {
  RssKey key;
  for (auto& b : key) b = static_cast<uint8_t>(rng());
  return key;
}

// 20,000 random tuples per key: the table-driven hash equals the reference.
TEST(ToeplitzTest, TableDrivenMatchesReferenceOnRandomTuples) {
  std::mt19937_64 rng(1);
  for (const RssKey& key : {kMicrosoftRssKey, kSymmetricRssKey, RandomKey(rng), RandomKey(rng)}) {
    const ToeplitzHash hash(key);
    EXPECT_EQ(hash.key(), key);
    for (int i = 0; i < 20'000; ++i) {
      const uint32_t src = static_cast<uint32_t>(rng()), dst = static_cast<uint32_t>(rng());
      const uint16_t sport = static_cast<uint16_t>(rng()), dport = static_cast<uint16_t>(rng());
      const auto input = Ipv4Input(src, dst, sport, dport);
      ASSERT_EQ(hash.HashIpv4L4(src, dst, sport, dport), ToeplitzReference(key, input));
      ASSERT_EQ(hash.HashIpv4(src, dst),
                ToeplitzReference(key, std::span(input).first(kIpv4InputLength)));
      ASSERT_EQ(hash.HashIpv4L4(src, dst, sport, 0) ^ hash.DstPortTerm(dport),
                hash.HashIpv4L4(src, dst, sport, dport));
    }
  }
}

TEST(ToeplitzTest, SymmetricKeyHashesBothDirectionsAlike) {
  const ToeplitzHash hash(kSymmetricRssKey);
  std::mt19937_64 rng(2);
  for (int i = 0; i < 100'000; ++i) {
    const uint32_t a = static_cast<uint32_t>(rng()), b = static_cast<uint32_t>(rng());
    const uint16_t pa = static_cast<uint16_t>(rng()), pb = static_cast<uint16_t>(rng());
    ASSERT_EQ(hash.HashIpv4L4(a, b, pa, pb), hash.HashIpv4L4(b, a, pb, pa));
    ASSERT_EQ(hash.HashIpv4(a, b), hash.HashIpv4(b, a));
  }
  for (const auto& v : kIpv4Vectors) {
    EXPECT_EQ(hash.HashIpv4L4(Ip(v.src), Ip(v.dst), v.src_port, v.dst_port),
              hash.HashIpv4L4(Ip(v.dst), Ip(v.src), v.dst_port, v.src_port));
  }
}

TEST(ToeplitzTest, MicrosoftKeyIsNotSymmetric) {
  const ToeplitzHash hash(kMicrosoftRssKey);
  int asymmetric = 0;
  for (const auto& v : kIpv4Vectors) {
    asymmetric += hash.HashIpv4L4(Ip(v.src), Ip(v.dst), v.src_port, v.dst_port) !=
                  hash.HashIpv4L4(Ip(v.dst), Ip(v.src), v.dst_port, v.src_port);
  }
  EXPECT_EQ(asymmetric, 5);
}

TEST(RetaTest, SizesArePowersOfTwoUpToTheLimit) {
  EXPECT_FALSE(IsValidRetaSize(0));
  EXPECT_TRUE(IsValidRetaSize(1));
  EXPECT_TRUE(IsValidRetaSize(128));
  EXPECT_FALSE(IsValidRetaSize(96));
  EXPECT_TRUE(IsValidRetaSize(kMaxRetaSize));
  EXPECT_FALSE(IsValidRetaSize(kMaxRetaSize + 1));
  EXPECT_FALSE(IsValidRetaSize(kMaxRetaSize * 2));
}

TEST(RetaTest, LookupUsesTheLowBits) {
  std::vector<uint16_t> reta(128);
  for (size_t i = 0; i < reta.size(); ++i) reta[i] = static_cast<uint16_t>(1000 + i);
  // 0x51ccc178: low 7 bits are 0x78 = 120.
  EXPECT_EQ(RetaLookup(reta, 0x51ccc178), 1120);
  EXPECT_EQ(RetaLookup(reta, 0xffffff80), 1000);
  EXPECT_EQ(RetaLookup(reta, 0x7f), 1127);
}

TEST(RetaTest, RoundRobin) {
  const auto reta = RoundRobinReta(8, 3);
  EXPECT_EQ(reta, (std::vector<uint16_t>{0, 1, 2, 0, 1, 2, 0, 1}));
}

}  // namespace
}  // namespace locus::steer
