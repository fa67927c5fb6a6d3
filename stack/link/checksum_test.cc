#include "stack/link/checksum.h"

#include <vector>

#include "gtest/gtest.h"
#include "stack/link/test_frames.h"
#include "stack/wire/endian.h"

namespace locus::link {
namespace {

using testing::FrameSpec;
using testing::kEthernetLength;
using testing::kIpv4Length;

constexpr size_t kIpChecksum = kEthernetLength + 10;
constexpr size_t kTcpChecksum = kEthernetLength + kIpv4Length + 16;

TEST(ChecksumTest, Rfc1071Example) {
  // RFC 1071 section 3: these bytes sum to 0x2ddf0, folded 0xddf2.
  const uint8_t bytes[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(ChecksumAdd(bytes, sizeof bytes), 0x2ddf0u);
  EXPECT_EQ(ChecksumFold(0x2ddf0), 0xddf2);
}

TEST(ChecksumTest, OddLengthPadsWithZero) {
  const uint8_t bytes[] = {0x12, 0x34, 0x56};
  EXPECT_EQ(ChecksumAdd(bytes, 3), 0x1234u + 0x5600u);
}

TEST(ChecksumTest, KnownIpv4Header) {
  // A textbook header (192.168.0.1 -> 192.168.0.199, UDP) whose checksum
  // is 0xb861.
  uint8_t h[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(static_cast<uint16_t>(~ChecksumFold(ChecksumAdd(h, sizeof h))), 0xb861);
}

TEST(ChecksumTest, PseudoHeaderSum) {
  const std::vector<uint8_t> f = testing::TcpFrame({});
  const uint8_t* ip = f.data() + kEthernetLength;
  // 10.0.0.1 + 10.0.0.2 + proto 6 + TCP length (20 + 32).
  const uint32_t expected = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 6 + 52;
  EXPECT_EQ(Ipv4PseudoHeaderSum(ip), expected);
}

// Turns a correct frame into what the stack hands the port when it asks
// for both offloads: IP checksum zero, TCP checksum = pseudo-header seed.
Packet* OffloadRequest(PacketPool& pool, const std::vector<uint8_t>& frame) {
  Packet* p = testing::MakePacket(pool, frame);
  uint8_t* d = p->data();
  wire::StoreBe16(d + kIpChecksum, 0);
  wire::StoreBe16(d + kTcpChecksum, Ipv4PseudoHeaderSum(d + kEthernetLength));
  p->l2_length = kEthernetLength;
  p->l3_length = kIpv4Length;
  p->l4_length = testing::kTcpLength;
  p->flags = kTxIpv4Checksum | kTxTcpChecksum;
  return p;
}

TEST(ChecksumTest, ApplyTxChecksumsReproducesCorrectFrame) {
  HeapPacketPool pool(1);
  for (uint16_t payload : {4, 5, 32, 1000, 1459}) {
    const std::vector<uint8_t> frame = testing::TcpFrame({.tag = payload, .payload_length = payload});
    PacketPtr p(OffloadRequest(pool, frame));
    ASSERT_TRUE(ApplyTxChecksums(*p));
    EXPECT_EQ(p->flags & kTxChecksumFlags, 0u);
    EXPECT_EQ(std::vector<uint8_t>(p->bytes().begin(), p->bytes().end()), frame)
        << "payload " << payload;
  }
}

TEST(ChecksumTest, ApplyTxChecksumsIgnoresEthernetPadding) {
  HeapPacketPool pool(1);
  const std::vector<uint8_t> frame = testing::TcpFrame({.payload_length = 4});
  PacketPtr p(OffloadRequest(pool, frame));
  uint8_t* pad = p->Append(6);
  for (int i = 0; i < 6; ++i) pad[i] = 0xee;
  ASSERT_TRUE(ApplyTxChecksums(*p));
  EXPECT_TRUE(std::equal(frame.begin(), frame.end(), p->data()));
}

TEST(ChecksumTest, ApplyTxChecksumsRejectsInconsistentRequests) {
  HeapPacketPool pool(1);
  const std::vector<uint8_t> tcp = testing::TcpFrame({});
  {
    PacketPtr p(OffloadRequest(pool, tcp));
    p->l3_length = 24;  // does not match IHL
    const std::vector<uint8_t> before(p->bytes().begin(), p->bytes().end());
    EXPECT_FALSE(ApplyTxChecksums(*p));
    EXPECT_EQ(std::vector<uint8_t>(p->bytes().begin(), p->bytes().end()), before);
  }
  {
    PacketPtr p(OffloadRequest(pool, tcp));
    p->l2_length = 200;  // past the end
    EXPECT_FALSE(ApplyTxChecksums(*p));
  }
  {
    PacketPtr p(testing::MakePacket(pool, testing::UdpFrame({})));
    p->l2_length = kEthernetLength;
    p->l3_length = kIpv4Length;
    p->flags = kTxTcpChecksum;  // but it is UDP
    EXPECT_FALSE(ApplyTxChecksums(*p));
  }
  {
    PacketPtr p(OffloadRequest(pool, tcp));
    p->TrimBack(40);  // IP total length now exceeds the frame
    EXPECT_FALSE(ApplyTxChecksums(*p));
  }
}

TEST(ChecksumTest, MarkRxChecksums) {
  HeapPacketPool pool(1);
  {
    PacketPtr p(testing::MakePacket(pool, testing::TcpFrame({.tag = 9})));
    MarkRxChecksums(*p);
    EXPECT_EQ(p->flags, uint32_t{kRxIpChecksumGood | kRxL4ChecksumGood});
  }
  {
    PacketPtr p(testing::MakePacket(pool, testing::UdpFrame({.tag = 9})));
    MarkRxChecksums(*p);
    EXPECT_EQ(p->flags, uint32_t{kRxIpChecksumGood | kRxL4ChecksumGood});
  }
  {
    PacketPtr p(testing::MakePacket(pool, testing::TcpFrame({})));
    p->data()[p->length - 1] ^= 0x01;
    MarkRxChecksums(*p);
    EXPECT_EQ(p->flags, uint32_t{kRxIpChecksumGood | kRxL4ChecksumBad});
  }
  {
    PacketPtr p(testing::MakePacket(pool, testing::TcpFrame({})));
    p->data()[kEthernetLength + 8] ^= 0x01;  // TTL
    MarkRxChecksums(*p);
    EXPECT_EQ(p->flags, uint32_t{kRxIpChecksumBad});
  }
  {
    std::vector<uint8_t> f = testing::UdpFrame({});
    wire::StoreBe16(f.data() + kEthernetLength + kIpv4Length + 6, 0);  // no checksum
    PacketPtr p(testing::MakePacket(pool, f));
    MarkRxChecksums(*p);
    EXPECT_EQ(p->flags, uint32_t{kRxIpChecksumGood});
  }
  {
    std::vector<uint8_t> f = testing::TcpFrame({});
    wire::StoreBe16(f.data() + 12, 0x0806);  // ARP: not checked
    PacketPtr p(testing::MakePacket(pool, f));
    MarkRxChecksums(*p);
    EXPECT_EQ(p->flags, 0u);
  }
  {
    PacketPtr p(testing::MakePacket(pool, testing::TcpFrame({})));
    p->TrimBack(1);  // IP total length says one more byte than we hold
    MarkRxChecksums(*p);
    EXPECT_EQ(p->flags, 0u);
  }
  {
    PacketPtr p(testing::MakePacket(pool, testing::TcpFrame({})));
    p->TrimBack(static_cast<uint16_t>(p->length - 20));  // truncated to 20 bytes
    MarkRxChecksums(*p);
    EXPECT_EQ(p->flags, 0u);
  }
}

}  // namespace
}  // namespace locus::link
