#include "stack/link/checksum.h"

#include "stack/wire/endian.h"

namespace locus::link {
namespace {

constexpr size_t kEthernetHeader = 14;
constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr size_t kMinIpv4Header = 20;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr size_t kMinTcpHeader = 20;
constexpr size_t kUdpHeader = 8;
constexpr size_t kIpv4ChecksumOffset = 10;
constexpr size_t kTcpChecksumOffset = 16;
constexpr size_t kUdpChecksumOffset = 6;

}  // namespace

uint32_t ChecksumAdd(const uint8_t* data, size_t length, uint32_t sum) {
  // 64-bit accumulator: no carry handling inside the loop for any frame we
  // can hold.
  uint64_t acc = sum;
  size_t i = 0;
  for (; i + 1 < length; i += 2) acc += wire::LoadBe16(data + i);
  if (i < length) acc += uint32_t{data[i]} << 8;
  while (acc >> 32) acc = (acc & 0xffffffffu) + (acc >> 32);
  return static_cast<uint32_t>(acc);
}

uint16_t ChecksumFold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

uint16_t Ipv4PseudoHeaderSum(const uint8_t* ip) {
  const size_t header_length = static_cast<size_t>(ip[0] & 0x0f) * 4;
  const uint16_t total = wire::LoadBe16(ip + 2);
  const uint16_t l4_length =
      total > header_length ? static_cast<uint16_t>(total - header_length) : 0;
  uint32_t sum = ChecksumAdd(ip + 12, 8);  // source and destination
  sum += ip[9];                            // zero byte + protocol
  sum += l4_length;
  return ChecksumFold(sum);
}

bool ApplyTxChecksums(Packet& packet) {
  const uint32_t requested = packet.flags & kTxChecksumFlags;
  if (requested == 0) return true;
  uint8_t* frame = packet.data();
  const size_t l2 = packet.l2_length;
  const size_t l3 = packet.l3_length;
  if (l3 < kMinIpv4Header || l2 + l3 > packet.length) return false;
  uint8_t* ip = frame + l2;
  if ((ip[0] >> 4) != 4 || static_cast<size_t>(ip[0] & 0x0f) * 4 != l3) return false;
  uint8_t* tcp = nullptr;
  size_t segment = 0;
  if (requested & kTxTcpChecksum) {
    if (ip[9] != kProtoTcp) return false;
    // The IP total length, not the frame length: a short frame may carry
    // Ethernet padding that is not part of the segment.
    const size_t total = wire::LoadBe16(ip + 2);
    if (total < l3 + kMinTcpHeader || l2 + total > packet.length) return false;
    segment = total - l3;
    tcp = ip + l3;
  }
  if (requested & kTxIpv4Checksum) {
    wire::StoreBe16(ip + kIpv4ChecksumOffset, 0);
    wire::StoreBe16(ip + kIpv4ChecksumOffset,
                    static_cast<uint16_t>(~ChecksumFold(ChecksumAdd(ip, l3))));
  }
  if (tcp != nullptr) {
    // The field holds the pseudo-header seed, so summing the segment as it
    // is covers the pseudo-header too, as the hardware does.
    wire::StoreBe16(tcp + kTcpChecksumOffset,
                    static_cast<uint16_t>(~ChecksumFold(ChecksumAdd(tcp, segment))));
  }
  packet.flags &= ~kTxChecksumFlags;
  return true;
}

void MarkRxChecksums(Packet& packet) {
  packet.flags &= ~(kRxIpChecksumGood | kRxIpChecksumBad | kRxL4ChecksumGood |
                    kRxL4ChecksumBad);
  const uint8_t* frame = packet.data();
  const size_t length = packet.length;
  if (length < kEthernetHeader + kMinIpv4Header) return;
  if (wire::LoadBe16(frame + 12) != kEtherTypeIpv4) return;
  const uint8_t* ip = frame + kEthernetHeader;
  const size_t header_length = static_cast<size_t>(ip[0] & 0x0f) * 4;
  if ((ip[0] >> 4) != 4 || header_length < kMinIpv4Header) return;
  const size_t total = wire::LoadBe16(ip + 2);
  if (total < header_length || kEthernetHeader + total > length) return;
  if (ChecksumFold(ChecksumAdd(ip, header_length)) != 0xffff) {
    packet.flags |= kRxIpChecksumBad;
    return;
  }
  packet.flags |= kRxIpChecksumGood;
  const uint16_t fragment = wire::LoadBe16(ip + 6);
  if ((fragment & 0x3fff) != 0) return;  // MF set or offset non-zero
  const uint8_t protocol = ip[9];
  const uint8_t* l4 = ip + header_length;
  const size_t l4_length = total - header_length;
  if (protocol == kProtoTcp) {
    if (l4_length < kMinTcpHeader) return;
  } else if (protocol == kProtoUdp) {
    if (l4_length < kUdpHeader) return;
    if (wire::LoadBe16(l4 + kUdpChecksumOffset) == 0) return;  // not checksummed
  } else {
    return;
  }
  const uint32_t sum = ChecksumAdd(l4, l4_length, Ipv4PseudoHeaderSum(ip));
  packet.flags |= ChecksumFold(sum) == 0xffff ? kRxL4ChecksumGood : kRxL4ChecksumBad;
}

}  // namespace locus::link
