#include "proxy/http/proxy_protocol.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace locus::proxy::http {
namespace {

using wire::Ipv4Address;

std::string V1(const ProxiedConnection& c) {
  const ProxyV1Header h{c};
  std::string out(h.length(), '\0');
  h.Emit(out);
  return out;
}

std::vector<uint8_t> V2(const ProxyV2Header& h) {
  std::vector<uint8_t> out(h.length());
  h.Emit(out);
  return out;
}

TEST(ProxyProtocolTest, V1GoldenFromSpec) {
  // proxy-protocol.txt §2.1, the example before an HTTP request.
  EXPECT_EQ(V1({Ipv4Address::FromOctets(192, 168, 0, 1), Ipv4Address::FromOctets(192, 168, 0, 11),
                56324, 443}),
            "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
}

TEST(ProxyProtocolTest, V1LongestIpv4LineFromSpec) {
  // §2.1: the longest TCP/IPv4 line is 56 characters.
  const std::string line = V1({Ipv4Address::Broadcast(), Ipv4Address::Broadcast(), 65535, 65535});
  EXPECT_EQ(line, "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n");
  EXPECT_EQ(line.size(), kProxyV1MaxIpv4Length);
  EXPECT_LE(line.size(), kProxyV1MaxLength);
}

TEST(ProxyProtocolTest, V1NoLeadingZeros) {
  // §2.1: "Heading zeroes are not permitted".
  EXPECT_EQ(V1({Ipv4Address::FromOctets(10, 0, 0, 7), Ipv4Address::Any(), 0, 80}),
            "PROXY TCP4 10.0.0.7 0.0.0.0 0 80\r\n");
}

TEST(ProxyProtocolTest, V1Unknown) {
  EXPECT_EQ(std::string(kProxyV1Unknown.begin(), kProxyV1Unknown.end()), "PROXY UNKNOWN\r\n");
}

TEST(ProxyProtocolTest, V2GoldenTcp4) {
  // §2.2 layout: signature, 0x21 (v2 PROXY), 0x11 (TCP over IPv4), length
  // 12, then source/destination addresses and ports in network order. The
  // same bytes as a capture of HAProxy sending 172.19.0.1:42578 ->
  // 172.19.0.3:80.
  const std::vector<uint8_t> golden = {
      0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,  // signature
      0x21, 0x11, 0x00, 0x0c,                                                  // ver/cmd fam len
      0xac, 0x13, 0x00, 0x01,                                                  // 172.19.0.1
      0xac, 0x13, 0x00, 0x03,                                                  // 172.19.0.3
      0xa6, 0x52,                                                              // 42578
      0x00, 0x50,                                                              // 80
  };
  ProxyV2Header h;
  h.connection = {Ipv4Address::FromOctets(172, 19, 0, 1), Ipv4Address::FromOctets(172, 19, 0, 3),
                  42578, 80};
  EXPECT_EQ(h.length(), 28u);
  EXPECT_EQ(V2(h), golden);
}

TEST(ProxyProtocolTest, V2Local) {
  // §2.2: LOCAL (0x20) with AF_UNSPEC and no address block.
  ProxyV2Header h;
  h.local = true;
  EXPECT_EQ(V2(h), (std::vector<uint8_t>{0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55,
                                         0x49, 0x54, 0x0a, 0x20, 0x00, 0x00, 0x00}));
}

TEST(ProxyProtocolTest, V2SignatureIsNotAnHttpMethod) {
  // §2.2: the signature starts with CRLF CRLF NUL, which no HTTP request can.
  EXPECT_EQ(kProxyV2Signature[4], 0x00);
}

}  // namespace
}  // namespace locus::proxy::http
