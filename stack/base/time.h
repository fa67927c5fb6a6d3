// Virtual-time-friendly time types. State machines never read a clock: the
// caller passes the current Instant in, so tests can drive them with
// scripted time and production code with a monotonic clock.
#ifndef LOCUS_STACK_BASE_TIME_H_
#define LOCUS_STACK_BASE_TIME_H_

#include <compare>
#include <cstdint>
#include <limits>

namespace locus {

class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration Nanos(int64_t n) { return Duration(n); }
  static constexpr Duration Micros(int64_t us) { return Duration(us * 1000); }
  static constexpr Duration Millis(int64_t ms) { return Duration(ms * 1000000); }
  static constexpr Duration Seconds(int64_t s) { return Duration(s * 1000000000); }
  static constexpr Duration Zero() { return Duration(0); }
  static constexpr Duration Infinite() {
    return Duration(std::numeric_limits<int64_t>::max());
  }

  constexpr int64_t nanos() const { return ns_; }
  constexpr int64_t micros() const { return ns_ / 1000; }
  constexpr int64_t millis() const { return ns_ / 1000000; }
  constexpr double seconds() const { return static_cast<double>(ns_) / 1e9; }

  constexpr Duration operator+(Duration o) const { return Duration(ns_ + o.ns_); }
  constexpr Duration operator-(Duration o) const { return Duration(ns_ - o.ns_); }
  constexpr Duration operator*(int64_t k) const { return Duration(ns_ * k); }
  constexpr Duration operator/(int64_t k) const { return Duration(ns_ / k); }
  constexpr Duration& operator+=(Duration o) { ns_ += o.ns_; return *this; }
  constexpr Duration& operator-=(Duration o) { ns_ -= o.ns_; return *this; }
  constexpr auto operator<=>(const Duration&) const = default;

 private:
  constexpr explicit Duration(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

// A point on a monotonic clock whose origin is arbitrary (the process start
// for the real clock, zero for virtual time).
class Instant {
 public:
  constexpr Instant() = default;
  static constexpr Instant FromNanos(int64_t ns) { return Instant(ns); }
  static constexpr Instant Zero() { return Instant(0); }

  constexpr int64_t nanos() const { return ns_; }

  constexpr Instant operator+(Duration d) const { return Instant(ns_ + d.nanos()); }
  constexpr Instant operator-(Duration d) const { return Instant(ns_ - d.nanos()); }
  constexpr Duration operator-(Instant o) const { return Duration::Nanos(ns_ - o.ns_); }
  constexpr Instant& operator+=(Duration d) { ns_ += d.nanos(); return *this; }
  constexpr auto operator<=>(const Instant&) const = default;

 private:
  constexpr explicit Instant(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

// Reads CLOCK_MONOTONIC. Only event loops call this; everything below them
// takes an Instant argument.
Instant MonotonicNow();

}  // namespace locus

#endif  // LOCUS_STACK_BASE_TIME_H_
