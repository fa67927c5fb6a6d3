#include "proxy/http/proxy_protocol.h"

#include <cstring>

#include "stack/wire/endian.h"

namespace locus::proxy::http {
namespace {

// Decimal without leading zeros (the spec forbids them). Returns the length.
size_t PutDecimal(uint32_t v, char* out) {
  char digits[10];
  size_t n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (size_t i = 0; i < n; ++i) out[i] = digits[n - 1 - i];
  return n;
}

size_t PutAddress(wire::Ipv4Address a, char* out) {
  size_t n = 0;
  for (int shift = 24; shift >= 0; shift -= 8) {
    n += PutDecimal((a.value() >> shift) & 0xff, out + n);
    if (shift != 0) out[n++] = '.';
  }
  return n;
}

size_t EncodeV1(const ProxiedConnection& c, char* out) {
  size_t n = 0;
  std::memcpy(out, "PROXY TCP4 ", 11);
  n += 11;
  n += PutAddress(c.source, out + n);
  out[n++] = ' ';
  n += PutAddress(c.destination, out + n);
  out[n++] = ' ';
  n += PutDecimal(c.source_port, out + n);
  out[n++] = ' ';
  n += PutDecimal(c.destination_port, out + n);
  out[n++] = '\r';
  out[n++] = '\n';
  return n;
}

}  // namespace

size_t ProxyV1Header::length() const {
  char scratch[kProxyV1MaxIpv4Length];
  return EncodeV1(connection, scratch);
}

void ProxyV1Header::Emit(std::span<char> out) const {
  char line[kProxyV1MaxIpv4Length];
  const size_t n = EncodeV1(connection, line);
  std::memcpy(out.data(), line, n);
}

void ProxyV2Header::Emit(std::span<uint8_t> out) const {
  uint8_t* p = out.data();
  std::memcpy(p, kProxyV2Signature.data(), kProxyV2Signature.size());
  if (local) {
    p[12] = kProxyV2VersionLocal;
    p[13] = kProxyV2Unspec;
    wire::StoreBe16(p + 14, 0);
    return;
  }
  p[12] = kProxyV2VersionProxy;
  p[13] = kProxyV2TcpOverIpv4;
  wire::StoreBe16(p + 14, kProxyV2Ipv4AddressLength);
  wire::StoreBe32(p + 16, connection.source.value());
  wire::StoreBe32(p + 20, connection.destination.value());
  wire::StoreBe16(p + 24, connection.source_port);
  wire::StoreBe16(p + 26, connection.destination_port);
}

}  // namespace locus::proxy::http
