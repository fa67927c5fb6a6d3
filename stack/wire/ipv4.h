// The IPv4 header (RFC 791).
//
// Ipv4View::Parse accepts a datagram only when every length agrees:
// version 4, IHL >= 5, IHL*4 <= total length <= bytes received. payload()
// ends at the total length, so the Ethernet padding of short frames never
// reaches the transport layer. Options (IHL > 5) are skipped, not
// interpreted. Fragments (MF set or a nonzero offset) are recognised and
// rejected with kFragment: Locus does not reassemble. Address policy
// (martian sources, broadcast destinations) belongs to the IPv4 layer.
#ifndef LOCUS_STACK_WIRE_IPV4_H_
#define LOCUS_STACK_WIRE_IPV4_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/wire/addresses.h"
#include "stack/wire/checksum.h"
#include "stack/wire/endian.h"
#include "stack/wire/wire_error.h"

namespace locus::wire {

inline constexpr size_t kIpv4MinHeaderLength = 20;
inline constexpr size_t kIpv4MaxHeaderLength = 60;  // IHL is 4 bits of 32-bit words
inline constexpr size_t kIpv4MaxTotalLength = 65535;
inline constexpr uint8_t kIpv4DefaultTtl = 64;

inline constexpr uint8_t kIpProtocolIcmp = 1;
inline constexpr uint8_t kIpProtocolTcp = 6;
inline constexpr uint8_t kIpProtocolUdp = 17;

class Ipv4View {
 public:
  // Checks, in this order: kTruncated (fewer than 20 bytes), kBadVersion,
  // kBadHeaderLength (IHL < 5), kBadTotalLength (total length < IHL*4),
  // kTruncated (fewer bytes than the total length), kBadChecksum (unless
  // `checksum` is kSkip because the NIC verified it), kFragment.
  static ParseResult<Ipv4View> Parse(std::span<const uint8_t> packet,
                                     RxChecksum checksum = RxChecksum::kVerify);

  size_t header_length() const { return size_t{bytes_[0] & 0x0fu} * 4; }
  uint8_t tos() const { return bytes_[1]; }  // DSCP (6 bits) and ECN (2 bits)
  uint16_t total_length() const { return LoadBe16(bytes_.data() + 2); }
  uint16_t id() const { return LoadBe16(bytes_.data() + 4); }
  bool dont_fragment() const { return (bytes_[6] & 0x40) != 0; }
  uint8_t ttl() const { return bytes_[8]; }
  uint8_t protocol() const { return bytes_[9]; }
  uint16_t header_checksum() const { return LoadBe16(bytes_.data() + 10); }
  Ipv4Address source() const { return Ipv4Address(LoadBe32(bytes_.data() + 12)); }
  Ipv4Address destination() const { return Ipv4Address(LoadBe32(bytes_.data() + 16)); }

  std::span<const uint8_t> header() const { return bytes_.first(header_length()); }
  std::span<const uint8_t> options() const {
    return bytes_.subspan(kIpv4MinHeaderLength, header_length() - kIpv4MinHeaderLength);
  }
  // The transport bytes: from the end of the header to the total length.
  std::span<const uint8_t> payload() const { return bytes_.subspan(header_length()); }

  Ipv4View() = default;  // for ParseResult; not a valid view

 private:
  explicit Ipv4View(std::span<const uint8_t> datagram) : bytes_(datagram) {}
  std::span<const uint8_t> bytes_;  // exactly total_length() bytes
};

// The fields Locus sends. It never sends options or fragments, so length()
// is always 20; parsing a datagram with options keeps only these fields.
struct Ipv4Header {
  uint8_t tos = 0;
  uint16_t total_length = 0;  // header + payload
  uint16_t id = 0;
  bool dont_fragment = false;
  uint8_t ttl = kIpv4DefaultTtl;
  uint8_t protocol = 0;
  Ipv4Address source;
  Ipv4Address destination;

  static ParseResult<Ipv4Header> Parse(std::span<const uint8_t> packet,
                                       RxChecksum checksum = RxChecksum::kVerify);
  static constexpr size_t length() { return kIpv4MinHeaderLength; }
  // Writes length() bytes at the front of `out`. With kOffload the header
  // checksum is left zero for the NIC to fill.
  void Emit(std::span<uint8_t> out, TxChecksum checksum = TxChecksum::kCompute) const;

  bool operator==(const Ipv4Header&) const = default;
};

}  // namespace locus::wire

#endif  // LOCUS_STACK_WIRE_IPV4_H_
