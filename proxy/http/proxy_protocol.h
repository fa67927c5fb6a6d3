// PROXY protocol headers (HAProxy's proxy-protocol.txt, versions 1 and 2)
// that the proxy prepends to a backend connection so the backend learns
// the client's address. Encoders only, for TCP over IPv4.
#ifndef LOCUS_PROXY_HTTP_PROXY_PROTOCOL_H_
#define LOCUS_PROXY_HTTP_PROXY_PROTOCOL_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/wire/addresses.h"

namespace locus::proxy::http {

struct ProxiedConnection {
  wire::Ipv4Address source;       // the client
  wire::Ipv4Address destination;  // the address the client connected to
  uint16_t source_port = 0;
  uint16_t destination_port = 0;
};

// Version 1: "PROXY TCP4 <src> <dst> <sport> <dport>\r\n" (spec §2.1).
// Longest IPv4 form: "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n".
inline constexpr size_t kProxyV1MaxIpv4Length = 56;
// The spec's longest line of any kind (receivers need 107 bytes).
inline constexpr size_t kProxyV1MaxLength = 107;

struct ProxyV1Header {
  ProxiedConnection connection;

  size_t length() const;
  // Writes length() bytes (at most kProxyV1MaxIpv4Length) at the front of
  // `out`, which must be that long.
  void Emit(std::span<char> out) const;
};

// "PROXY UNKNOWN\r\n": the sender cannot fill the line (spec §2.1).
inline constexpr std::array<char, 15> kProxyV1Unknown = {'P', 'R', 'O', 'X', 'Y', ' ', 'U', 'N',
                                                          'K', 'N', 'O', 'W', 'N', '\r', '\n'};

// Version 2 (spec §2.2): 12-byte signature, version/command, family/
// protocol, 16-bit length, then the addresses.
inline constexpr std::array<uint8_t, 12> kProxyV2Signature = {
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
inline constexpr size_t kProxyV2FixedLength = 16;
inline constexpr size_t kProxyV2Ipv4AddressLength = 12;  // 2 x 4 address + 2 x 2 port
inline constexpr uint8_t kProxyV2VersionLocal = 0x20;    // version 2, LOCAL
inline constexpr uint8_t kProxyV2VersionProxy = 0x21;    // version 2, PROXY
inline constexpr uint8_t kProxyV2Unspec = 0x00;          // AF_UNSPEC, UNSPEC
inline constexpr uint8_t kProxyV2TcpOverIpv4 = 0x11;     // AF_INET, STREAM

struct ProxyV2Header {
  // PROXY with `connection`; LOCAL (the proxy's own connection, e.g. a
  // health check) carries no address block.
  bool local = false;
  ProxiedConnection connection;

  size_t length() const {
    return kProxyV2FixedLength + (local ? 0 : kProxyV2Ipv4AddressLength);
  }
  // Writes length() bytes at the front of `out`, which must be that long.
  void Emit(std::span<uint8_t> out) const;
};

}  // namespace locus::proxy::http

#endif  // LOCUS_PROXY_HTTP_PROXY_PROTOCOL_H_
