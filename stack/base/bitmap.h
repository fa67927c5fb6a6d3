// A fixed-size bit set sized at run time, with word access so that callers
// can combine several bitmaps a word at a time (for example "owned and not
// busy" when picking a port). Bits past size() are always zero.
#ifndef LOCUS_STACK_BASE_BITMAP_H_
#define LOCUS_STACK_BASE_BITMAP_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace locus {

class Bitmap {
 public:
  static constexpr size_t kWordBits = 64;

  Bitmap() = default;
  explicit Bitmap(size_t bits) : bits_(bits), words_((bits + kWordBits - 1) / kWordBits, 0) {}

  size_t size() const { return bits_; }
  size_t word_count() const { return words_.size(); }
  // Callers index with i < size(); these do not check.
  bool Test(size_t i) const { return (words_[i / kWordBits] >> (i % kWordBits)) & 1; }
  void Set(size_t i) { words_[i / kWordBits] |= uint64_t{1} << (i % kWordBits); }
  void Clear(size_t i) { words_[i / kWordBits] &= ~(uint64_t{1} << (i % kWordBits)); }
  uint64_t word(size_t w) const { return words_[w]; }

  size_t Count() const {
    size_t n = 0;
    for (uint64_t w : words_) n += static_cast<size_t>(std::popcount(w));
    return n;
  }

  // The first set bit at or after `from`, or size() when there is none.
  size_t FindNextSet(size_t from) const {
    if (from >= bits_) return bits_;
    size_t w = from / kWordBits;
    uint64_t bits = words_[w] & (~uint64_t{0} << (from % kWordBits));
    while (true) {
      if (bits != 0) return w * kWordBits + static_cast<size_t>(std::countr_zero(bits));
      if (++w == words_.size()) return bits_;
      bits = words_[w];
    }
  }

  size_t MemoryBytes() const { return words_.size() * sizeof(uint64_t); }

 private:
  size_t bits_ = 0;
  std::vector<uint64_t> words_;
};

}  // namespace locus

#endif  // LOCUS_STACK_BASE_BITMAP_H_
