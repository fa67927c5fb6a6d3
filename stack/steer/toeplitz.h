// The Toeplitz hash that NICs use for receive-side scaling (RSS), computed
// in software so that the stack can predict which queue a NIC delivers a
// flow to, and pick source ports whose replies come back to the right core.
//
// Definition (Microsoft, "RSS hashing functions"; Intel 82599 datasheet
// §7.1.2.8): treat the key as a bit string K, most significant bit of
// key[0] first. For every bit i of the input that is set (bit 0 being the
// most significant bit of input[0]), XOR the 32 key bits K[i..i+32) into
// the result. The hash is linear over GF(2): hash(a ^ b) = hash(a) ^ hash(b).
//
// Input byte order is the packet's: for IPv4 with TCP (or UDP) the input
// is source address, destination address, source port, destination port,
// each in network byte order, 12 bytes in all. The functions here take
// addresses and ports in host byte order and place them accordingly.
#ifndef LOCUS_STACK_STEER_TOEPLITZ_H_
#define LOCUS_STACK_STEER_TOEPLITZ_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace locus::steer {

inline constexpr size_t kRssKeyLength = 40;
using RssKey = std::array<uint8_t, kRssKeyLength>;

// The longest input a 40-byte key can hash: each input bit needs 32 key
// bits starting at its own position (IPv6 with ports is exactly 36).
inline constexpr size_t kMaxToeplitzInput = kRssKeyLength - 4;
inline constexpr size_t kIpv4L4InputLength = 12;
inline constexpr size_t kIpv4InputLength = 8;

// The key of Microsoft's RSS verification suite, which is also the default
// key of Intel's drivers and the one DPDK's own Toeplitz tests use.
inline constexpr RssKey kMicrosoftRssKey = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

// 0x6d5a repeated (Woo and Park, "Scalable TCP Session Monitoring with
// Symmetric Receive-side Scaling", 2012). A key whose bits repeat every 16
// makes the window K[i..i+32) depend only on i mod 16; swapping source and
// destination moves address bits by 32 and port bits by 16, so both
// directions of a flow hash alike.
inline constexpr RssKey kSymmetricRssKey = [] {
  RssKey key{};
  for (size_t i = 0; i < kRssKeyLength; i += 2) {
    key[i] = 0x6d;
    key[i + 1] = 0x5a;
  }
  return key;
}();

// Bit-at-a-time Toeplitz, straight from the definition. Slow; it is the
// reference the table-driven hash is checked against. Input longer than
// kMaxToeplitzInput is truncated to it.
uint32_t ToeplitzReference(const RssKey& key, std::span<const uint8_t> input);

// Table-driven Toeplitz for IPv4 inputs: one 256-entry table per input byte
// position, each entry the XOR of the key windows for the bits set in that
// byte value. A 4-tuple costs 12 loads and 11 XORs; the tables take 12 KiB.
class ToeplitzHash {
 public:
  explicit ToeplitzHash(const RssKey& key);

  const RssKey& key() const { return key_; }

  // IPv4 with TCP or UDP ports: the NIC's "IPv4 TCP" hash type.
  uint32_t HashIpv4L4(uint32_t src_ip, uint32_t dst_ip, uint16_t src_port,
                      uint16_t dst_port) const {
    return HashIpv4(src_ip, dst_ip) ^ PortTerm(8, src_port) ^ PortTerm(10, dst_port);
  }

  // IPv4 addresses only: the NIC's "IPv4" hash type (fragments, non-TCP).
  uint32_t HashIpv4(uint32_t src_ip, uint32_t dst_ip) const {
    return WordTerm(0, src_ip) ^ WordTerm(4, dst_ip);
  }

  // The destination port's share of HashIpv4L4. By linearity
  // HashIpv4L4(s, d, sp, dp) == HashIpv4L4(s, d, sp, 0) ^ DstPortTerm(dp),
  // which is how source ports are searched without rehashing the tuple.
  uint32_t DstPortTerm(uint16_t dst_port) const { return PortTerm(10, dst_port); }

 private:
  uint32_t WordTerm(size_t pos, uint32_t v) const {
    return table_[pos][v >> 24] ^ table_[pos + 1][(v >> 16) & 0xff] ^
           table_[pos + 2][(v >> 8) & 0xff] ^ table_[pos + 3][v & 0xff];
  }
  uint32_t PortTerm(size_t pos, uint16_t v) const {
    return table_[pos][v >> 8] ^ table_[pos + 1][v & 0xff];
  }

  std::array<std::array<uint32_t, 256>, kIpv4L4InputLength> table_;
  RssKey key_;
};

}  // namespace locus::steer

#endif  // LOCUS_STACK_STEER_TOEPLITZ_H_
