// ICMP for IPv4 (RFC 792): the 8-byte header, with echo request and reply
// (types 8 and 0) understood fully. Every other type parses as a generic
// header (type, code, the 32-bit rest) so that callers can count what they
// receive; interpreting those is not the wire layer's business.
//
// The checksum covers the whole message, payload included, so Emit takes
// the whole message with the payload already in place after the header.
#ifndef LOCUS_STACK_WIRE_ICMP_H_
#define LOCUS_STACK_WIRE_ICMP_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/wire/checksum.h"
#include "stack/wire/endian.h"
#include "stack/wire/wire_error.h"

namespace locus::wire {

inline constexpr size_t kIcmpHeaderLength = 8;

inline constexpr uint8_t kIcmpTypeEchoReply = 0;
inline constexpr uint8_t kIcmpTypeDestinationUnreachable = 3;
inline constexpr uint8_t kIcmpTypeEchoRequest = 8;
inline constexpr uint8_t kIcmpTypeTimeExceeded = 11;

class IcmpView {
 public:
  // kTruncated below 8 bytes, kBadChecksum unless `checksum` is kSkip. The
  // message is the whole IPv4 payload (Ipv4View::payload()).
  static ParseResult<IcmpView> Parse(std::span<const uint8_t> message,
                                     RxChecksum checksum = RxChecksum::kVerify);

  uint8_t type() const { return bytes_[0]; }
  uint8_t code() const { return bytes_[1]; }
  uint16_t checksum() const { return LoadBe16(bytes_.data() + 2); }
  bool is_echo_request() const { return type() == kIcmpTypeEchoRequest; }
  bool is_echo_reply() const { return type() == kIcmpTypeEchoReply; }
  // Echo identifier and sequence number; for other types, the two halves of
  // rest_of_header().
  uint16_t id() const { return LoadBe16(bytes_.data() + 4); }
  uint16_t sequence() const { return LoadBe16(bytes_.data() + 6); }
  uint32_t rest_of_header() const { return LoadBe32(bytes_.data() + 4); }
  // Echo data, or for errors the invoking datagram's header and first bytes.
  std::span<const uint8_t> payload() const { return bytes_.subspan(kIcmpHeaderLength); }

  IcmpView() = default;  // for ParseResult; not a valid view

 private:
  explicit IcmpView(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  std::span<const uint8_t> bytes_;
};

struct IcmpHeader {
  uint8_t type = 0;
  uint8_t code = 0;
  uint32_t rest_of_header = 0;  // echo: id << 16 | sequence

  static IcmpHeader EchoRequest(uint16_t id, uint16_t sequence) {
    return {kIcmpTypeEchoRequest, 0, uint32_t{id} << 16 | sequence};
  }
  static IcmpHeader EchoReply(uint16_t id, uint16_t sequence) {
    return {kIcmpTypeEchoReply, 0, uint32_t{id} << 16 | sequence};
  }
  uint16_t id() const { return static_cast<uint16_t>(rest_of_header >> 16); }
  uint16_t sequence() const { return static_cast<uint16_t>(rest_of_header); }

  static ParseResult<IcmpHeader> Parse(std::span<const uint8_t> message,
                                       RxChecksum checksum = RxChecksum::kVerify);
  static constexpr size_t length() { return kIcmpHeaderLength; }
  // Writes length() bytes at the front of `message`, then the checksum over
  // all of `message`: the header and whatever payload follows it in place.
  void Emit(std::span<uint8_t> message) const;

  bool operator==(const IcmpHeader&) const = default;
};

// Turns a parsed echo request, in place, into the reply that carries the
// same id, sequence and data: only the type changes, and the checksum is
// patched incrementally (RFC 1624) instead of re-summing the payload
// (except in the all-zero case described at ChecksumUpdate16).
void MakeEchoReplyInPlace(std::span<uint8_t> message);

}  // namespace locus::wire

#endif  // LOCUS_STACK_WIRE_ICMP_H_
