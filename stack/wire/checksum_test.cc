#include "stack/wire/checksum.h"

#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "stack/wire/endian.h"

namespace locus::wire {
namespace {

// The obvious RFC 1071 loop, word by word, as the reference.
uint16_t ReferenceFolded(std::span<const uint8_t> b) {
  uint32_t sum = 0;
  for (size_t i = 0; i < b.size(); i += 2) {
    uint32_t word = uint32_t{b[i]} << 8;
    if (i + 1 < b.size()) word |= b[i + 1];
    sum += word;
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(sum);
}

std::vector<uint8_t> RandomBytes(std::mt19937& rng, size_t n) {
  std::vector<uint8_t> v(n);
  for (uint8_t& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

TEST(ChecksumTest, Rfc1071Example) {
  // RFC 1071 §3: the sum of these bytes is ddf2.
  const std::vector<uint8_t> data = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  InternetChecksum sum;
  sum.Add(data);
  EXPECT_EQ(sum.Folded(), 0xddf2);
  EXPECT_EQ(sum.Checksum(), 0x220d);
  EXPECT_EQ(ComputeChecksum(data), 0x220d);
}

TEST(ChecksumTest, EmptyAndOddLengths) {
  EXPECT_EQ(ComputeChecksum({}), 0xffff);
  const std::vector<uint8_t> one = {0xab};
  InternetChecksum s1;
  s1.Add(one);
  EXPECT_EQ(s1.Folded(), 0xab00);  // padded with a zero byte on the right
  const std::vector<uint8_t> three = {0x01, 0x02, 0x03};
  InternetChecksum s3;
  s3.Add(three);
  EXPECT_EQ(s3.Folded(), 0x0402);
}

TEST(ChecksumTest, MatchesReferenceForEveryLengthAndAlignment) {
  std::mt19937 rng(1071);
  std::vector<uint8_t> big = RandomBytes(rng, 600);
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t n = 0; n + offset <= 300; ++n) {
      std::span<const uint8_t> s(big.data() + offset, n);
      InternetChecksum sum;
      sum.Add(s);
      ASSERT_EQ(sum.Folded(), ReferenceFolded(s)) << "offset " << offset << " length " << n;
    }
  }
}

TEST(ChecksumTest, AllOnesDoNotOverflow) {
  std::vector<uint8_t> ones(65536, 0xff);
  InternetChecksum sum;
  sum.Add(ones);
  EXPECT_EQ(sum.Folded(), 0xffff);
  // Odd length: the last 0xff is the high byte of 0xff00.
  std::span<const uint8_t> odd(ones.data(), 65535);
  InternetChecksum sum_odd;
  sum_odd.Add(odd);
  EXPECT_EQ(sum_odd.Folded(), ReferenceFolded(odd));
  EXPECT_EQ(sum_odd.Folded(), 0xff00);
}

TEST(ChecksumTest, SplitAnywhereEqualsWhole) {
  std::mt19937 rng(7);
  std::vector<uint8_t> data = RandomBytes(rng, 101);
  uint16_t whole = ReferenceFolded(data);
  for (size_t a = 0; a <= data.size(); ++a) {
    for (size_t b = a; b <= data.size(); b += 7) {
      InternetChecksum sum;
      sum.Add(std::span<const uint8_t>(data).subspan(0, a));
      sum.Add(std::span<const uint8_t>(data).subspan(a, b - a));
      sum.Add(std::span<const uint8_t>(data).subspan(b));
      ASSERT_EQ(sum.Folded(), whole) << a << " " << b;
    }
  }
}

TEST(ChecksumTest, ScalarAddsEqualByteAdds) {
  const std::vector<uint8_t> bytes = {0xc0, 0xa8, 0x00, 0x01, 0xbe, 0xef};
  InternetChecksum a;
  a.Add(bytes);
  InternetChecksum b;
  b.AddBe32(0xc0a80001);
  b.AddBe16(0xbeef);
  EXPECT_EQ(a.Folded(), b.Folded());
  InternetChecksum c;
  c.AddFolded(b.Folded());
  EXPECT_EQ(c.Folded(), b.Folded());
}

// IPv4 header of an ICMP echo request captured on a veth pair (see
// ipv4_test.cc for the capture); its checksum dfb0 was written by Linux.
TEST(ChecksumTest, CapturedIpv4HeaderIsValid) {
  std::vector<uint8_t> header = {0x45, 0x00, 0x00, 0x54, 0x45, 0x64, 0x40, 0x00, 0x40, 0x01,
                                 0xdf, 0xb0, 0x0a, 0xc9, 0x00, 0x01, 0x0a, 0xc9, 0x00, 0x02};
  EXPECT_TRUE(ChecksumIsValid(header));
  header[10] = header[11] = 0;
  EXPECT_EQ(ComputeChecksum(header), 0xdfb0);
  header[19] ^= 1;
  EXPECT_FALSE(ChecksumIsValid(header));
}

// On loopback Linux leaves TCP checksums to "offload" and stores only the
// pseudo-header sum: a SYN from 127.0.0.1 to 127.0.0.1 (40 bytes of TCP)
// was captured with fe30 in its checksum field (tcp_test.cc).
TEST(ChecksumTest, PseudoHeaderSumMatchesLinuxSeed) {
  Ipv4Address lo = Ipv4Address::FromOctets(127, 0, 0, 1);
  EXPECT_EQ(PseudoHeaderSum(lo, lo, 6, 40), 0xfe30);
  EXPECT_EQ(PseudoHeaderSum(lo, lo, 6, 111), 0xfe77);  // the 79-byte GET segment
}

TEST(ChecksumTest, Rfc1624UpdateMatchesRecomputation16) {
  std::mt19937 rng(1624);
  for (int iter = 0; iter < 20000; ++iter) {
    size_t n = 2 + 2 * (rng() % 40);
    std::vector<uint8_t> data = RandomBytes(rng, n);
    // Word 0 is the checksum field.
    StoreBe16(data.data(), 0);
    StoreBe16(data.data(), ComputeChecksum(data));
    size_t at = 2 * (rng() % (n / 2));
    if (at == 0) continue;
    uint16_t before = LoadBe16(data.data() + at);
    uint16_t after = static_cast<uint16_t>(rng());
    if (iter % 5 == 0) after = 0;
    if (iter % 7 == 0) after = 0xffff;
    uint16_t updated = ChecksumUpdate16(LoadBe16(data.data()), before, after);
    StoreBe16(data.data() + at, after);
    StoreBe16(data.data(), 0);
    if (ReferenceFolded(data) == 0) continue;  // all zero: see AllZeroData below
    ASSERT_EQ(updated, ComputeChecksum(data)) << "iteration " << iter;
  }
}

TEST(ChecksumTest, Rfc1624UpdateMatchesRecomputation32) {
  std::mt19937 rng(16241);
  for (int iter = 0; iter < 20000; ++iter) {
    size_t n = 4 + 4 * (rng() % 20);
    std::vector<uint8_t> data = RandomBytes(rng, n);
    StoreBe16(data.data(), 0);
    StoreBe16(data.data(), ComputeChecksum(data));
    if (n < 8) continue;
    // Any 16-bit aligned position after the checksum field.
    size_t at = 2 * (1 + rng() % (n / 2 - 2));
    uint32_t before = LoadBe32(data.data() + at);
    uint32_t after = static_cast<uint32_t>(rng());
    uint16_t updated = ChecksumUpdate32(LoadBe16(data.data()), before, after);
    StoreBe32(data.data() + at, after);
    StoreBe16(data.data(), 0);
    if (ReferenceFolded(data) == 0) continue;  // all zero: see AllZeroData below
    ASSERT_EQ(updated, ComputeChecksum(data)) << "iteration " << iter;
  }
}

// RFC 1624 §3-4: eqn. 2 of RFC 1141 yields 0xffff where a recomputation
// gives 0x0000 when the new data sums to zero; eqn. 3 must not.
TEST(ChecksumTest, Rfc1624MinusZeroCase) {
  // Words: checksum, 0x0001, 0xfffe. After changing 0x0001 to 0x0000 the
  // data sums to 0xfffe and then to 0xffff (all ones) with 0x0001 back.
  std::vector<uint8_t> data = {0, 0, 0x00, 0x01, 0xff, 0xfe};
  StoreBe16(data.data(), ComputeChecksum(data));
  EXPECT_EQ(LoadBe16(data.data()), 0x0000);  // 0x0001 + 0xfffe = 0xffff
  uint16_t updated = ChecksumUpdate16(0x0000, 0x0001, 0x0000);
  data[3] = 0x00;
  data[0] = data[1] = 0;
  EXPECT_EQ(updated, ComputeChecksum(data));
  EXPECT_EQ(updated, 0x0001);
  // And back: the result is 0x0000, not 0xffff.
  EXPECT_EQ(ChecksumUpdate16(0x0001, 0x0000, 0x0001), 0x0000);
}

// The one exception: when every covered byte becomes zero, a recomputation
// gives 0xffff (sum +0) and eqn. 3 gives 0x0000 (sum -0). No IPv4, ICMP or
// TCP checksum covers all-zero data (version, type or protocol is nonzero).
TEST(ChecksumTest, Rfc1624AllZeroData) {
  std::vector<uint8_t> data = {0, 0, 0x12, 0x34};
  StoreBe16(data.data(), ComputeChecksum(data));
  uint16_t updated = ChecksumUpdate16(LoadBe16(data.data()), 0x1234, 0x0000);
  EXPECT_EQ(updated, 0x0000);
  EXPECT_EQ(ComputeChecksum(std::vector<uint8_t>{0, 0, 0, 0}), 0xffff);
}

}  // namespace
}  // namespace locus::wire
