// The per-core stack's L2/L3: ARP, ICMP echo, ICMP unreachable, and a
// reason for every dropped frame. Raw frames go in through the far end of
// an in-memory link, and what the stack sends comes back out of it.
#include "stack/core/stack.h"

#include <cstring>
#include <vector>

#include "gtest/gtest.h"
#include "stack/link/memory_link.h"
#include "stack/wire/arp.h"
#include "stack/wire/checksum.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/icmp.h"
#include "stack/wire/ipv4.h"

namespace locus::core {
namespace {

const wire::Ipv4Address kStackIp = wire::Ipv4Address::FromOctets(10, 0, 0, 2);
const wire::Ipv4Address kPeerIp = wire::Ipv4Address::FromOctets(10, 0, 0, 1);

class StackTest : public ::testing::Test {
 protected:
  StackTest() {
    link::MemoryLinkConfig config;
    config.pool_size = 256;
    pair_ = std::move(*link::MemoryLinkPair::Create(config));
    std::array<uint8_t, tcp::SecretKey::kSize> key{};
    secrets_ = std::make_unique<StackSecrets>(tcp::SecretKey::FromBytes(key));
    StackConfig sc;
    sc.interface.address = kStackIp;
    sc.interface.prefix_length = 24;
    stack_ = std::make_unique<Stack>(sc, pair_->a(), 0, *secrets_, now_);
    peer_mac_ = pair_->b().info().mac;
    stack_mac_ = pair_->a().info().mac;
  }

  void Send(const std::vector<uint8_t>& frame) {
    link::Packet* p = pair_->b().pool(0).Allocate();
    std::memcpy(p->Append(static_cast<uint16_t>(frame.size())), frame.data(), frame.size());
    ASSERT_EQ(pair_->b().Transmit(0, &p, 1), 1);
    now_ += Duration::Millis(1);
    stack_->PollInput(now_);
    stack_->Flush(now_);
  }

  std::vector<std::vector<uint8_t>> Received() {
    std::vector<std::vector<uint8_t>> out;
    link::Packet* burst[32];
    for (int round = 0; round < 4; ++round) {
      uint16_t n = pair_->b().Receive(0, burst, 32);
      for (uint16_t i = 0; i < n; ++i) {
        out.emplace_back(burst[i]->data(), burst[i]->data() + burst[i]->length);
        link::FreePacket(burst[i]);
      }
    }
    return out;
  }

  std::vector<uint8_t> Ipv4Frame(uint8_t protocol, std::span<const uint8_t> payload,
                                 wire::Ipv4Address destination = kStackIp, uint16_t frag = 0) {
    std::vector<uint8_t> f(wire::kEthernetHeaderLength + wire::kIpv4MinHeaderLength + payload.size());
    wire::EthernetHeader{stack_mac_, peer_mac_, wire::kEtherTypeIpv4}.Emit(f);
    wire::Ipv4Header ip{};
    ip.total_length = static_cast<uint16_t>(wire::kIpv4MinHeaderLength + payload.size());
    ip.protocol = protocol;
    ip.source = kPeerIp;
    ip.destination = destination;
    ip.Emit(std::span<uint8_t>(f.data() + wire::kEthernetHeaderLength, wire::kIpv4MinHeaderLength));
    if (frag != 0) {
      uint8_t* h = f.data() + wire::kEthernetHeaderLength;
      wire::StoreBe16(h + 6, frag);
      wire::StoreBe16(h + 10, 0);
      wire::StoreBe16(h + 10, wire::ComputeChecksum(std::span<const uint8_t>(h, 20)));
    }
    std::memcpy(f.data() + wire::kEthernetHeaderLength + wire::kIpv4MinHeaderLength,
                payload.data(), payload.size());
    return f;
  }

  void LearnPeer() {
    // The peer asks for us; we learn it from the request (RFC 826).
    std::vector<uint8_t> f(wire::kEthernetHeaderLength + wire::kArpLength);
    wire::EthernetHeader{wire::MacAddress::Broadcast(), peer_mac_, wire::kEtherTypeArp}.Emit(f);
    wire::ArpPacket::Request(peer_mac_, kPeerIp, kStackIp)
        .Emit(std::span<uint8_t>(f.data() + wire::kEthernetHeaderLength, wire::kArpLength));
    Send(f);
  }

  Instant now_ = Instant::FromNanos(1000000000);
  std::unique_ptr<link::MemoryLinkPair> pair_;
  std::unique_ptr<StackSecrets> secrets_;
  std::unique_ptr<Stack> stack_;
  wire::MacAddress peer_mac_;
  wire::MacAddress stack_mac_;
};

TEST_F(StackTest, AnswersArpRequestsForItsAddressOnly) {
  LearnPeer();
  std::vector<std::vector<uint8_t>> out = Received();
  ASSERT_EQ(out.size(), 1u);
  wire::ParseResult<wire::ArpPacket> reply =
      wire::ArpPacket::Parse(std::span<const uint8_t>(out[0]).subspan(wire::kEthernetHeaderLength));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->op, wire::ArpOp::kReply);
  EXPECT_EQ(reply->sender_ip, kStackIp);
  EXPECT_EQ(reply->sender_mac, stack_mac_);
  EXPECT_EQ(reply->target_mac, peer_mac_);
  EXPECT_EQ(*stack_->arp().Peek(kPeerIp), peer_mac_);
  // A request for someone else is not answered.
  std::vector<uint8_t> f(wire::kEthernetHeaderLength + wire::kArpLength);
  wire::EthernetHeader{wire::MacAddress::Broadcast(), peer_mac_, wire::kEtherTypeArp}.Emit(f);
  wire::ArpPacket::Request(peer_mac_, kPeerIp, wire::Ipv4Address::FromOctets(10, 0, 0, 9))
      .Emit(std::span<uint8_t>(f.data() + wire::kEthernetHeaderLength, wire::kArpLength));
  Send(f);
  EXPECT_TRUE(Received().empty());
}

TEST_F(StackTest, GratuitousArpAnnouncesTheAddress) {
  stack_->AnnounceAddress(now_);
  stack_->Flush(now_);
  std::vector<std::vector<uint8_t>> out = Received();
  ASSERT_EQ(out.size(), 1u);
  wire::ParseResult<wire::ArpPacket> arp =
      wire::ArpPacket::Parse(std::span<const uint8_t>(out[0]).subspan(wire::kEthernetHeaderLength));
  ASSERT_TRUE(arp.ok());
  EXPECT_EQ(arp->sender_ip, kStackIp);
  EXPECT_EQ(arp->target_ip, kStackIp);  // RFC 5227 §2.3
}

TEST_F(StackTest, AnswersEchoRequestsWithTheSamePayload) {
  LearnPeer();
  Received();
  std::vector<uint8_t> icmp(wire::kIcmpHeaderLength + 56, 0xab);
  wire::IcmpHeader::EchoRequest(0x1234, 7).Emit(icmp);
  Send(Ipv4Frame(wire::kIpProtocolIcmp, icmp));
  std::vector<std::vector<uint8_t>> out = Received();
  ASSERT_EQ(out.size(), 1u);
  wire::ParseResult<wire::Ipv4View> ip =
      wire::Ipv4View::Parse(std::span<const uint8_t>(out[0]).subspan(wire::kEthernetHeaderLength));
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(ip->destination(), kPeerIp);
  wire::ParseResult<wire::IcmpView> reply = wire::IcmpView::Parse(ip->payload());
  ASSERT_TRUE(reply.ok()) << "checksum must verify";
  EXPECT_TRUE(reply->is_echo_reply());
  EXPECT_EQ(reply->id(), 0x1234);
  EXPECT_EQ(reply->sequence(), 7);
  EXPECT_TRUE(std::equal(reply->payload().begin(), reply->payload().end(), icmp.begin() + 8));
  EXPECT_EQ(stack_->counters().icmp_echo_in, 1u);
}

TEST_F(StackTest, UdpGetsPortUnreachableOtherProtocolsProtocolUnreachable) {
  LearnPeer();
  Received();
  std::vector<uint8_t> udp = {0x30, 0x39, 0x00, 0x35, 0x00, 0x0c, 0x00, 0x00, 'a', 'b', 'c', 'd'};
  Send(Ipv4Frame(wire::kIpProtocolUdp, udp));
  Send(Ipv4Frame(132 /* SCTP */, udp));
  std::vector<std::vector<uint8_t>> out = Received();
  ASSERT_EQ(out.size(), 2u);
  uint8_t codes[2];
  for (int i = 0; i < 2; ++i) {
    wire::ParseResult<wire::Ipv4View> ip = wire::Ipv4View::Parse(
        std::span<const uint8_t>(out[i]).subspan(wire::kEthernetHeaderLength));
    ASSERT_TRUE(ip.ok());
    wire::ParseResult<wire::IcmpView> icmp = wire::IcmpView::Parse(ip->payload());
    ASSERT_TRUE(icmp.ok());
    EXPECT_EQ(icmp->type(), wire::kIcmpTypeDestinationUnreachable);
    codes[i] = icmp->code();
    // RFC 792: the offending header and its first bytes are quoted.
    EXPECT_GE(icmp->payload().size(), wire::kIpv4MinHeaderLength + 8u);
  }
  EXPECT_EQ(codes[0], kIcmpPortUnreachable);
  EXPECT_EQ(codes[1], kIcmpProtocolUnreachable);
}

TEST_F(StackTest, UnreachableIsRateLimitedAtTheLimitAndLimitPlusOne) {
  LearnPeer();
  Received();
  std::vector<uint8_t> udp(8, 0);
  size_t sent = 0;
  for (uint32_t i = 0; i < kMaxUnreachablePerSecond + 1; ++i) {
    link::Packet* p = pair_->b().pool(0).Allocate();
    std::vector<uint8_t> f = Ipv4Frame(wire::kIpProtocolUdp, udp);
    std::memcpy(p->Append(static_cast<uint16_t>(f.size())), f.data(), f.size());
    pair_->b().Transmit(0, &p, 1);
    stack_->PollInput(now_);  // same instant: one rate window
    stack_->Flush(now_);
    sent += Received().size();
  }
  EXPECT_EQ(sent, kMaxUnreachablePerSecond);
}

TEST_F(StackTest, EveryDropHasAReason) {
  std::vector<uint8_t> payload(8, 0);
  // Fragment: recognised, not reassembled.
  Send(Ipv4Frame(wire::kIpProtocolUdp, payload, kStackIp, 0x2000));
  EXPECT_EQ(stack_->counters().dropped(NetDrop::kIpv4Fragment), 1u);
  // Not our address.
  Send(Ipv4Frame(wire::kIpProtocolUdp, payload, wire::Ipv4Address::FromOctets(10, 0, 0, 3)));
  EXPECT_EQ(stack_->counters().dropped(NetDrop::kIpv4NotOurAddress), 1u);
  // Bad IPv4 checksum.
  std::vector<uint8_t> f = Ipv4Frame(wire::kIpProtocolUdp, payload);
  f[wire::kEthernetHeaderLength + 10] ^= 0xff;
  Send(f);
  EXPECT_EQ(stack_->counters().dropped(NetDrop::kIpv4BadChecksum), 1u);
  // Truncated Ethernet, unknown EtherType, IPv6, another host's MAC.
  Send(std::vector<uint8_t>(10, 0));
  EXPECT_EQ(stack_->counters().dropped(NetDrop::kEthernetMalformed), 1u);
  std::vector<uint8_t> v6(60, 0);
  wire::EthernetHeader{stack_mac_, peer_mac_, wire::kEtherTypeIpv6}.Emit(v6);
  Send(v6);
  EXPECT_EQ(stack_->counters().dropped(NetDrop::kUnsupportedEtherType), 1u);
  std::vector<uint8_t> other = Ipv4Frame(wire::kIpProtocolUdp, payload);
  wire::MacAddress({0x02, 9, 9, 9, 9, 9}).CopyTo(other.data());
  Send(other);
  EXPECT_EQ(stack_->counters().dropped(NetDrop::kNotOurMac), 1u);
  // Malformed ARP.
  std::vector<uint8_t> arp(wire::kEthernetHeaderLength + 10, 0);
  wire::EthernetHeader{wire::MacAddress::Broadcast(), peer_mac_, wire::kEtherTypeArp}.Emit(arp);
  Send(arp);
  EXPECT_EQ(stack_->counters().dropped(NetDrop::kArpMalformed), 1u);
}

}  // namespace
}  // namespace locus::core
