// The four values that name a TCP connection over IPv4, as keyed-hash input
// for ISNs and SYN cookies. "Local" is this host's side.
#ifndef LOCUS_STACK_TCP_SUPPORT_IPV4_TUPLE_H_
#define LOCUS_STACK_TCP_SUPPORT_IPV4_TUPLE_H_

#include <cstddef>
#include <cstdint>
#include <utility>

#include "stack/wire/addresses.h"

namespace locus::tcp {

struct Ipv4Tuple {
  static constexpr size_t kEncodedSize = 12;

  wire::Ipv4Address local_ip;
  uint16_t local_port = 0;
  wire::Ipv4Address remote_ip;
  uint16_t remote_port = 0;

  // Writes local ip, local port, remote ip, remote port in network byte
  // order: a fixed layout, so a hash of it does not depend on the host.
  void Encode(uint8_t* out) const {
    auto put32 = [&out](uint32_t v) {
      for (int shift = 24; shift >= 0; shift -= 8) *out++ = static_cast<uint8_t>(v >> shift);
    };
    auto put16 = [&out](uint16_t v) {
      *out++ = static_cast<uint8_t>(v >> 8);
      *out++ = static_cast<uint8_t>(v);
    };
    put32(local_ip.value());
    put16(local_port);
    put32(remote_ip.value());
    put16(remote_port);
  }

  bool operator==(const Ipv4Tuple&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const Ipv4Tuple& t) {
    return H::combine(std::move(h), t.local_ip.value(), t.remote_ip.value(), t.local_port,
                      t.remote_port);
  }
};

}  // namespace locus::tcp

#endif  // LOCUS_STACK_TCP_SUPPORT_IPV4_TUPLE_H_
