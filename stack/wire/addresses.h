// Link and network addresses as value types. Ipv4Address holds the address
// in host byte order so that comparisons and masks read naturally; the wire
// code converts at the boundary.
#ifndef LOCUS_STACK_WIRE_ADDRESSES_H_
#define LOCUS_STACK_WIRE_ADDRESSES_H_

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>
#include <string>
#include "absl/strings/string_view.h"

namespace locus::wire {

class MacAddress {
 public:
  constexpr MacAddress() = default;
  constexpr explicit MacAddress(std::array<uint8_t, 6> bytes) : bytes_(bytes) {}
  static constexpr MacAddress Broadcast() {
    return MacAddress({0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  }
  static MacAddress FromBytes(const uint8_t* p) {
    return MacAddress({p[0], p[1], p[2], p[3], p[4], p[5]});
  }
  // "02:00:00:00:00:01"; nullopt when malformed.
  static std::optional<MacAddress> Parse(absl::string_view text);

  const std::array<uint8_t, 6>& bytes() const { return bytes_; }
  void CopyTo(uint8_t* p) const {
    for (int i = 0; i < 6; ++i) p[i] = bytes_[i];
  }
  bool is_broadcast() const { return *this == Broadcast(); }
  bool is_multicast() const { return (bytes_[0] & 1) != 0; }
  bool is_zero() const { return *this == MacAddress(); }
  std::string ToString() const;

  constexpr auto operator<=>(const MacAddress&) const = default;

 private:
  std::array<uint8_t, 6> bytes_{};
};

class Ipv4Address {
 public:
  constexpr Ipv4Address() = default;
  constexpr explicit Ipv4Address(uint32_t host_order) : value_(host_order) {}
  static constexpr Ipv4Address FromOctets(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return Ipv4Address((uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d);
  }
  static constexpr Ipv4Address Any() { return Ipv4Address(0); }
  static constexpr Ipv4Address Broadcast() { return Ipv4Address(0xffffffffu); }
  // Dotted quad; nullopt when malformed.
  static std::optional<Ipv4Address> Parse(absl::string_view text);

  constexpr uint32_t value() const { return value_; }
  bool is_any() const { return value_ == 0; }
  bool is_broadcast() const { return value_ == 0xffffffffu; }
  bool is_multicast() const { return (value_ >> 28) == 0xe; }
  bool is_loopback() const { return (value_ >> 24) == 127; }
  std::string ToString() const;

  constexpr auto operator<=>(const Ipv4Address&) const = default;

  template <typename H>
  friend H AbslHashValue(H h, const Ipv4Address& a) {
    return H::combine(std::move(h), a.value_);
  }

 private:
  uint32_t value_ = 0;
};

// An IPv4 prefix such as 10.0.0.0/24.
struct Ipv4Prefix {
  Ipv4Address address;
  uint8_t length = 0;  // 0..32

  static std::optional<Ipv4Prefix> Parse(absl::string_view text);  // "a.b.c.d/n"
  uint32_t mask() const { return length == 0 ? 0 : ~uint32_t{0} << (32 - length); }
  bool Contains(Ipv4Address a) const {
    return (a.value() & mask()) == (address.value() & mask());
  }
  Ipv4Address network() const { return Ipv4Address(address.value() & mask()); }
  Ipv4Address broadcast() const { return Ipv4Address(address.value() | ~mask()); }
  std::string ToString() const;
};

}  // namespace locus::wire

#endif  // LOCUS_STACK_WIRE_ADDRESSES_H_
