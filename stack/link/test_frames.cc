#include "stack/link/test_frames.h"

#include <cstring>

#include "stack/link/checksum.h"
#include "stack/wire/endian.h"

namespace locus::link::testing {
namespace {

std::vector<uint8_t> Frame(const FrameSpec& spec, uint8_t protocol, size_t l4_header) {
  const size_t payload = spec.payload_length < 4 ? 4 : spec.payload_length;
  std::vector<uint8_t> f(kEthernetLength + kIpv4Length + l4_header + payload, 0);
  spec.destination_mac.CopyTo(f.data());
  spec.source_mac.CopyTo(f.data() + 6);
  wire::StoreBe16(f.data() + 12, 0x0800);
  uint8_t* ip = f.data() + kEthernetLength;
  ip[0] = 0x45;
  wire::StoreBe16(ip + 2, static_cast<uint16_t>(kIpv4Length + l4_header + payload));
  wire::StoreBe16(ip + 4, static_cast<uint16_t>(spec.tag));  // identification
  wire::StoreBe16(ip + 6, 0x4000);                             // DF
  ip[8] = 64;
  ip[9] = protocol;
  wire::StoreBe32(ip + 12, spec.source_ip.value());
  wire::StoreBe32(ip + 16, spec.destination_ip.value());
  wire::StoreBe16(ip + 10, static_cast<uint16_t>(~ChecksumFold(ChecksumAdd(ip, kIpv4Length))));
  uint8_t* l4 = ip + kIpv4Length;
  wire::StoreBe16(l4, spec.source_port);
  wire::StoreBe16(l4 + 2, spec.destination_port);
  uint8_t* body = l4 + l4_header;
  wire::StoreBe32(body, spec.tag);
  for (size_t i = 4; i < payload; ++i) body[i] = static_cast<uint8_t>(i * 7 + spec.tag);
  const size_t l4_length = l4_header + payload;
  size_t checksum_offset;
  if (protocol == 17) {
    wire::StoreBe16(l4 + 4, static_cast<uint16_t>(l4_length));
    checksum_offset = 6;
  } else {
    wire::StoreBe32(l4 + 4, spec.tag * 1000u);  // sequence number
    l4[12] = 5 << 4;                             // data offset
    l4[13] = 0x18;                               // PSH ACK
    wire::StoreBe16(l4 + 14, 65535);             // window
    checksum_offset = 16;
  }
  uint16_t sum = static_cast<uint16_t>(
      ~ChecksumFold(ChecksumAdd(l4, l4_length, Ipv4PseudoHeaderSum(ip))));
  if (protocol == 17 && sum == 0) sum = 0xffff;
  wire::StoreBe16(l4 + checksum_offset, sum);
  return f;
}

}  // namespace

std::vector<uint8_t> UdpFrame(const FrameSpec& spec) { return Frame(spec, 17, kUdpLength); }
std::vector<uint8_t> TcpFrame(const FrameSpec& spec) { return Frame(spec, 6, kTcpLength); }

int64_t TagOf(std::span<const uint8_t> frame) {
  if (frame.size() < kEthernetLength + kIpv4Length + kUdpLength + 4) return -1;
  if (wire::LoadBe16(frame.data() + 12) != 0x0800) return -1;
  const uint8_t* ip = frame.data() + kEthernetLength;
  size_t l4_header;
  if (ip[9] == 17) {
    l4_header = kUdpLength;
  } else if (ip[9] == 6) {
    l4_header = kTcpLength;
  } else {
    return -1;
  }
  const size_t offset = kEthernetLength + static_cast<size_t>(ip[0] & 0x0f) * 4 + l4_header;
  if (frame.size() < offset + 4) return -1;
  return wire::LoadBe32(frame.data() + offset);
}

Packet* MakePacket(PacketPool& pool, std::span<const uint8_t> frame) {
  Packet* p = pool.Allocate();
  if (p == nullptr) return nullptr;
  uint8_t* data = p->Append(static_cast<uint16_t>(frame.size()));
  if (data == nullptr) {
    FreePacket(p);
    return nullptr;
  }
  std::memcpy(data, frame.data(), frame.size());
  return p;
}

}  // namespace locus::link::testing
