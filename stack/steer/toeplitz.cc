#include "stack/steer/toeplitz.h"

#include <algorithm>

namespace locus::steer {
namespace {

// K[bit .. bit+32): the 32 key bits starting at `bit`, most significant
// first. Valid for bit <= 8 * kMaxToeplitzInput - 1.
uint32_t KeyWindow(const RssKey& key, size_t bit) {
  const size_t byte = bit / 8;
  // Five bytes cover any 32-bit window that starts inside the first one.
  uint64_t v = 0;
  for (size_t i = 0; i < 5; ++i) {
    v = (v << 8) | (byte + i < kRssKeyLength ? key[byte + i] : 0);
  }
  return static_cast<uint32_t>(v >> (8 - bit % 8));
}

}  // namespace

uint32_t ToeplitzReference(const RssKey& key, std::span<const uint8_t> input) {
  const size_t length = std::min(input.size(), kMaxToeplitzInput);
  uint32_t hash = 0;
  for (size_t i = 0; i < length * 8; ++i) {
    if (input[i / 8] & (0x80 >> (i % 8))) hash ^= KeyWindow(key, i);
  }
  return hash;
}

ToeplitzHash::ToeplitzHash(const RssKey& key) : key_(key) {
  for (size_t pos = 0; pos < kIpv4L4InputLength; ++pos) {
    // window[b]: the key window for bit b (0 = most significant) of this byte.
    uint32_t window[8];
    for (size_t b = 0; b < 8; ++b) window[b] = KeyWindow(key, pos * 8 + b);
    for (uint32_t value = 0; value < 256; ++value) {
      uint32_t h = 0;
      for (size_t b = 0; b < 8; ++b) {
        if (value & (0x80u >> b)) h ^= window[b];
      }
      table_[pos][value] = h;
    }
  }
}

}  // namespace locus::steer
