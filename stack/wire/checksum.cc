#include "stack/wire/checksum.h"

#include <bit>
#include <cstring>

namespace locus::wire {
namespace {

constexpr bool kLittleEndian = std::endian::native == std::endian::little;

uint16_t Swap16(uint16_t v) { return static_cast<uint16_t>((v << 8) | (v >> 8)); }

uint16_t Fold(uint64_t s) {
  s = (s & 0xffffffffu) + (s >> 32);
  s = (s & 0xffffffffu) + (s >> 32);
  s = (s & 0xffffu) + (s >> 16);
  s = (s & 0xffffu) + (s >> 16);
  s = (s & 0xffffu) + (s >> 16);
  return static_cast<uint16_t>(s);
}

// One's complement sum of the bytes taken as native-order 16-bit words
// starting at p, unfolded. Adding 32-bit halves into 64 bits keeps every
// carry (2^32 additions would be needed to overflow), and since
// 2^16 = 1 (mod 2^16 - 1) the halves fold to the same sum as 16-bit words.
uint64_t NativeSum(const uint8_t* p, size_t n) {
  uint64_t a = 0, b = 0, c = 0, d = 0;
  while (n >= 32) {
    uint64_t w[4];
    std::memcpy(w, p, sizeof(w));
    a += (w[0] & 0xffffffffu) + (w[0] >> 32);
    b += (w[1] & 0xffffffffu) + (w[1] >> 32);
    c += (w[2] & 0xffffffffu) + (w[2] >> 32);
    d += (w[3] & 0xffffffffu) + (w[3] >> 32);
    p += 32;
    n -= 32;
  }
  uint64_t sum = a + b + c + d;
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, sizeof(w));
    sum += (w & 0xffffffffu) + (w >> 32);
    p += 8;
    n -= 8;
  }
  if (n >= 4) {
    uint32_t w;
    std::memcpy(&w, p, sizeof(w));
    sum += w;
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    uint16_t w;
    std::memcpy(&w, p, sizeof(w));
    sum += w;
    p += 2;
    n -= 2;
  }
  if (n == 1) {
    // The last byte is the high half of a zero-padded big-endian word.
    sum += kLittleEndian ? uint64_t{p[0]} : uint64_t{p[0]} << 8;
  }
  return sum;
}

}  // namespace

void InternetChecksum::Add(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return;
  uint16_t part = Fold(NativeSum(bytes.data(), bytes.size()));
  // A native little-endian sum is the byte-swapped big-endian sum; a span
  // that starts at an odd offset needs one more swap (RFC 1071 §2(B)).
  if (kLittleEndian != odd_) part = Swap16(part);
  sum_ += part;
  if (bytes.size() % 2 == 1) odd_ = !odd_;
}

uint16_t InternetChecksum::Folded() const { return Fold(sum_); }

uint16_t ComputeChecksum(std::span<const uint8_t> bytes) {
  InternetChecksum sum;
  sum.Add(bytes);
  return sum.Checksum();
}

bool ChecksumIsValid(std::span<const uint8_t> bytes) {
  InternetChecksum sum;
  sum.Add(bytes);
  return sum.Folded() == 0xffff;
}

uint16_t PseudoHeaderSum(Ipv4Address source, Ipv4Address destination, uint8_t protocol,
                         uint16_t length) {
  InternetChecksum sum;
  sum.AddBe32(source.value());
  sum.AddBe32(destination.value());
  sum.AddBe16(protocol);
  sum.AddBe16(length);
  return sum.Folded();
}

uint16_t ChecksumUpdate16(uint16_t checksum, uint16_t old_value, uint16_t new_value) {
  uint64_t sum = uint16_t(~checksum) + uint16_t(~old_value) + new_value;
  return static_cast<uint16_t>(~Fold(sum));
}

uint16_t ChecksumUpdate32(uint16_t checksum, uint32_t old_value, uint32_t new_value) {
  uint64_t sum = uint16_t(~checksum);
  sum += uint16_t(~(old_value >> 16)) + uint16_t(~old_value);
  sum += (new_value >> 16) + (new_value & 0xffff);
  return static_cast<uint16_t>(~Fold(sum));
}

}  // namespace locus::wire
