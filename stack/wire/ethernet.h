// Ethernet II framing (IEEE 802.3 with an EtherType >= 0x0600).
//
// Pattern shared by every format in stack/wire:
//   * a View is a checked window onto received bytes. View::Parse is the only
//     way to build one and validates every length it will later trust, so
//     accessors never read past the span;
//   * a Header is a value type. Header::Parse reads one from bytes and
//     Header::Emit writes exactly Header::length() bytes.
#ifndef LOCUS_STACK_WIRE_ETHERNET_H_
#define LOCUS_STACK_WIRE_ETHERNET_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/wire/addresses.h"
#include "stack/wire/endian.h"
#include "stack/wire/wire_error.h"

namespace locus::wire {

inline constexpr size_t kEthernetHeaderLength = 14;
// Frames with an 802.1Q tag are recognised (and dropped) by EtherType.
inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeArp = 0x0806;
inline constexpr uint16_t kEtherTypeVlan = 0x8100;
inline constexpr uint16_t kEtherTypeIpv6 = 0x86dd;
// Below this value the field is an 802.3 length, not an EtherType.
inline constexpr uint16_t kMinEtherType = 0x0600;

class EthernetView {
 public:
  static ParseResult<EthernetView> Parse(std::span<const uint8_t> frame);

  MacAddress destination() const { return MacAddress::FromBytes(bytes_.data()); }
  MacAddress source() const { return MacAddress::FromBytes(bytes_.data() + 6); }
  uint16_t ether_type() const { return LoadBe16(bytes_.data() + 12); }
  std::span<const uint8_t> payload() const { return bytes_.subspan(kEthernetHeaderLength); }

  EthernetView() = default;  // for ParseResult; not a valid view

 private:
  explicit EthernetView(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  std::span<const uint8_t> bytes_;
};

struct EthernetHeader {
  MacAddress destination;
  MacAddress source;
  uint16_t ether_type = 0;

  static ParseResult<EthernetHeader> Parse(std::span<const uint8_t> frame);
  static constexpr size_t length() { return kEthernetHeaderLength; }
  // Writes length() bytes at the front of `out`, which must be that long.
  void Emit(std::span<uint8_t> out) const;

  bool operator==(const EthernetHeader&) const = default;
};

}  // namespace locus::wire

#endif  // LOCUS_STACK_WIRE_ETHERNET_H_
