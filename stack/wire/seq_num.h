// TCP sequence numbers: 32-bit values compared modulo 2^32 (RFC 9293
// §3.4). Raw uint32_t comparisons are wrong near wraparound, so sequence
// space arithmetic goes only through this type.
#ifndef LOCUS_STACK_WIRE_SEQ_NUM_H_
#define LOCUS_STACK_WIRE_SEQ_NUM_H_

#include <cstdint>

namespace locus::wire {

class SeqNum {
 public:
  constexpr SeqNum() = default;
  constexpr explicit SeqNum(uint32_t raw) : raw_(raw) {}

  constexpr uint32_t raw() const { return raw_; }

  constexpr SeqNum operator+(uint32_t n) const { return SeqNum(raw_ + n); }
  constexpr SeqNum operator-(uint32_t n) const { return SeqNum(raw_ - n); }
  constexpr SeqNum& operator+=(uint32_t n) {
    raw_ += n;
    return *this;
  }
  // Signed distance from `o` to this, valid while |distance| < 2^31.
  constexpr int32_t operator-(SeqNum o) const { return static_cast<int32_t>(raw_ - o.raw_); }

  constexpr bool operator==(const SeqNum&) const = default;
  constexpr bool operator<(SeqNum o) const { return static_cast<int32_t>(raw_ - o.raw_) < 0; }
  constexpr bool operator<=(SeqNum o) const { return static_cast<int32_t>(raw_ - o.raw_) <= 0; }
  constexpr bool operator>(SeqNum o) const { return static_cast<int32_t>(raw_ - o.raw_) > 0; }
  constexpr bool operator>=(SeqNum o) const { return static_cast<int32_t>(raw_ - o.raw_) >= 0; }

 private:
  uint32_t raw_ = 0;
};

constexpr SeqNum SeqMax(SeqNum a, SeqNum b) { return a < b ? b : a; }
constexpr SeqNum SeqMin(SeqNum a, SeqNum b) { return a < b ? a : b; }

// lo <= s < hi in sequence space.
constexpr bool SeqInRange(SeqNum s, SeqNum lo, SeqNum hi) { return lo <= s && s < hi; }

}  // namespace locus::wire

#endif  // LOCUS_STACK_WIRE_SEQ_NUM_H_
