#include "stack/wire/ethernet.h"

#include <vector>

#include "gtest/gtest.h"

namespace locus::wire {
namespace {

// First 14 bytes of an ARP request captured with tcpdump on a tap device.
const std::vector<uint8_t> kGoldenArpFrameHeader = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // broadcast
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01,  // source
    0x08, 0x06,                          // ARP
};

TEST(EthernetTest, ParsesGoldenBytes) {
  ParseResult<EthernetHeader> h = EthernetHeader::Parse(kGoldenArpFrameHeader);
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(h->destination.is_broadcast());
  EXPECT_EQ(h->source.ToString(), "02:00:00:00:00:01");
  EXPECT_EQ(h->ether_type, kEtherTypeArp);
}

TEST(EthernetTest, EmitsGoldenBytes) {
  EthernetHeader h{MacAddress::Broadcast(), *MacAddress::Parse("02:00:00:00:00:01"),
                   kEtherTypeArp};
  std::vector<uint8_t> out(h.length());
  h.Emit(out);
  EXPECT_EQ(out, kGoldenArpFrameHeader);
}

TEST(EthernetTest, RoundTrips) {
  EthernetHeader h{*MacAddress::Parse("de:ad:be:ef:00:01"),
                   *MacAddress::Parse("02:11:22:33:44:55"), kEtherTypeIpv4};
  std::vector<uint8_t> out(h.length());
  h.Emit(out);
  ParseResult<EthernetHeader> back = EthernetHeader::Parse(out);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, h);
}

TEST(EthernetTest, RejectsEveryTruncation) {
  for (size_t n = 0; n < kEthernetHeaderLength; ++n) {
    std::span<const uint8_t> cut(kGoldenArpFrameHeader.data(), n);
    EXPECT_EQ(EthernetView::Parse(cut).error(), WireError::kTruncated) << n;
  }
}

TEST(EthernetTest, Rejects8023LengthFrames) {
  std::vector<uint8_t> frame = kGoldenArpFrameHeader;
  frame[12] = 0x05;
  frame[13] = 0xdc;  // 1500: a length, not an EtherType
  EXPECT_EQ(EthernetView::Parse(frame).error(), WireError::kUnsupported);
}

TEST(EthernetTest, PayloadFollowsHeader) {
  std::vector<uint8_t> frame = kGoldenArpFrameHeader;
  frame.push_back(0xab);
  ParseResult<EthernetView> v = EthernetView::Parse(frame);
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->payload().size(), 1u);
  EXPECT_EQ(v->payload()[0], 0xab);
}

}  // namespace
}  // namespace locus::wire
