#include "stack/wire/arp.h"

#include <vector>

#include "gtest/gtest.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/testdata/golden_packets.h"

namespace locus::wire {
namespace {

// ARP request and reply captured across a veth pair between two temporary
// network namespaces (stack/wire/testdata/capture_golden.sh, ns.pcap).
using golden::kArpReplyFrame;
using golden::kArpRequestFrame;

const MacAddress kMacA = *MacAddress::Parse("02:00:00:00:00:01");
const MacAddress kMacB = *MacAddress::Parse("02:00:00:00:00:02");
const Ipv4Address kIpA = Ipv4Address::FromOctets(10, 201, 0, 1);
const Ipv4Address kIpB = Ipv4Address::FromOctets(10, 201, 0, 2);

std::vector<uint8_t> ArpBytes(const std::vector<uint8_t>& frame) {
  return std::vector<uint8_t>(frame.begin() + kEthernetHeaderLength, frame.end());
}

TEST(ArpTest, ParsesCapturedRequest) {
  ParseResult<EthernetView> eth = EthernetView::Parse(kArpRequestFrame);
  ASSERT_TRUE(eth.ok());
  ASSERT_EQ(eth->ether_type(), kEtherTypeArp);
  ParseResult<ArpView> v = ArpView::Parse(eth->payload());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->op(), ArpOp::kRequest);
  EXPECT_EQ(v->sender_mac(), kMacA);
  EXPECT_EQ(v->sender_ip(), kIpA);
  EXPECT_TRUE(v->target_mac().is_zero());
  EXPECT_EQ(v->target_ip(), kIpB);
}

TEST(ArpTest, ParsesCapturedReply) {
  ParseResult<ArpPacket> p = ArpPacket::Parse(ArpBytes(kArpReplyFrame));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->op, ArpOp::kReply);
  EXPECT_EQ(p->sender_mac, kMacB);
  EXPECT_EQ(p->sender_ip, kIpB);
  EXPECT_EQ(p->target_mac, kMacA);
  EXPECT_EQ(p->target_ip, kIpA);
}

TEST(ArpTest, EmitsCapturedRequestAndReply) {
  ArpPacket request = ArpPacket::Request(kMacA, kIpA, kIpB);
  std::vector<uint8_t> out(ArpPacket::length());
  request.Emit(out);
  EXPECT_EQ(out, ArpBytes(kArpRequestFrame));

  ArpPacket reply = ArpPacket::ReplyTo(request, kMacB);
  reply.Emit(out);
  EXPECT_EQ(out, ArpBytes(kArpReplyFrame));
}

TEST(ArpTest, RoundTrips) {
  ArpPacket p{ArpOp::kReply, *MacAddress::Parse("de:ad:be:ef:00:01"),
              Ipv4Address::FromOctets(192, 168, 1, 1), *MacAddress::Parse("02:11:22:33:44:55"),
              Ipv4Address::FromOctets(192, 168, 1, 200)};
  std::vector<uint8_t> out(ArpPacket::length());
  p.Emit(out);
  ParseResult<ArpPacket> back = ArpPacket::Parse(out);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, p);
}

TEST(ArpTest, IgnoresEthernetPadding) {
  std::vector<uint8_t> padded = ArpBytes(kArpRequestFrame);
  padded.resize(60 - kEthernetHeaderLength, 0);  // minimum frame without FCS
  ParseResult<ArpPacket> p = ArpPacket::Parse(padded);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, *ArpPacket::Parse(ArpBytes(kArpRequestFrame)));
}

TEST(ArpTest, RejectsEveryTruncation) {
  std::vector<uint8_t> arp = ArpBytes(kArpRequestFrame);
  for (size_t n = 0; n < kArpLength; ++n) {
    std::span<const uint8_t> cut(arp.data(), n);
    EXPECT_EQ(ArpView::Parse(cut).error(), WireError::kTruncated) << n;
    EXPECT_EQ(ArpPacket::Parse(cut).error(), WireError::kTruncated) << n;
  }
  EXPECT_TRUE(ArpView::Parse(arp).ok());
}

TEST(ArpTest, RejectsOtherHardwareAndProtocols) {
  struct Case {
    size_t offset;
    uint8_t value;
    WireError error;
  };
  for (Case c : {Case{1, 6, WireError::kBadVersion},      // htype 6: IEEE 802
                 Case{0, 1, WireError::kBadVersion},      // htype 0x0101
                 Case{2, 0x86, WireError::kBadVersion},   // ptype 0x8600
                 Case{3, 0xdd, WireError::kBadVersion},   // ptype 0x08dd
                 Case{4, 8, WireError::kBadVersion},      // hlen 8
                 Case{5, 16, WireError::kBadVersion},     // plen 16 (IPv6-sized)
                 Case{7, 0, WireError::kUnsupported},     // op 0
                 Case{7, 3, WireError::kUnsupported},     // RARP request
                 Case{7, 4, WireError::kUnsupported},     // RARP reply
                 Case{7, 8, WireError::kUnsupported},     // InARP request
                 Case{6, 1, WireError::kUnsupported}}) {  // op 0x0101
    std::vector<uint8_t> arp = ArpBytes(kArpRequestFrame);
    arp[c.offset] = c.value;
    EXPECT_EQ(ArpView::Parse(arp).error(), c.error) << c.offset << "=" << int{c.value};
  }
}

}  // namespace
}  // namespace locus::wire
