#include "stack/wire/icmp.h"

#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "stack/wire/testdata/golden_packets.h"

namespace locus::wire {
namespace {

// Echo request and reply captured across a veth pair, and an ICMP port
// unreachable captured on loopback (stack/wire/testdata/golden_packets.h).
std::vector<uint8_t> Message(const std::vector<uint8_t>& frame) {
  std::span<const uint8_t> s = golden::AfterIpv4(frame);
  return std::vector<uint8_t>(s.begin(), s.end());
}

TEST(IcmpTest, ParsesCapturedEchoRequest) {
  std::vector<uint8_t> m = Message(golden::kIcmpEchoRequestFrame);
  ParseResult<IcmpView> v = IcmpView::Parse(m);
  ASSERT_TRUE(v.ok()) << WireErrorName(v.error());
  EXPECT_TRUE(v->is_echo_request());
  EXPECT_FALSE(v->is_echo_reply());
  EXPECT_EQ(v->type(), kIcmpTypeEchoRequest);
  EXPECT_EQ(v->code(), 0);
  EXPECT_EQ(v->checksum(), 0x7f9e);
  EXPECT_EQ(v->id(), 14780);
  EXPECT_EQ(v->sequence(), 1);
  ASSERT_EQ(v->payload().size(), 56u);
  EXPECT_EQ(v->payload().back(), 0x37);  // ping's pattern ends ... 0x36 0x37
}

TEST(IcmpTest, ParsesCapturedEchoReply) {
  ParseResult<IcmpHeader> h = IcmpHeader::Parse(Message(golden::kIcmpEchoReplyFrame));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(*h, IcmpHeader::EchoReply(14780, 1));
}

TEST(IcmpTest, EmitsCapturedEchoRequestAndReply) {
  for (auto [frame, header] :
       {std::pair{&golden::kIcmpEchoRequestFrame, IcmpHeader::EchoRequest(14780, 1)},
        std::pair{&golden::kIcmpEchoReplyFrame, IcmpHeader::EchoReply(14780, 1)}}) {
    std::vector<uint8_t> expected = Message(*frame);
    std::vector<uint8_t> out = expected;
    std::fill(out.begin(), out.begin() + kIcmpHeaderLength, 0xee);
    header.Emit(out);
    EXPECT_EQ(out, expected) << int{header.type};
  }
}

TEST(IcmpTest, EchoReplyInPlaceMatchesCapturedReply) {
  std::vector<uint8_t> m = Message(golden::kIcmpEchoRequestFrame);
  MakeEchoReplyInPlace(m);
  EXPECT_EQ(m, Message(golden::kIcmpEchoReplyFrame));
}

TEST(IcmpTest, ParsesOtherTypesGenerically) {
  std::vector<uint8_t> m = Message(golden::kIcmpPortUnreachableFrame);
  ParseResult<IcmpView> v = IcmpView::Parse(m);
  ASSERT_TRUE(v.ok()) << WireErrorName(v.error());
  EXPECT_EQ(v->type(), kIcmpTypeDestinationUnreachable);
  EXPECT_EQ(v->code(), 3);  // port unreachable
  EXPECT_EQ(v->rest_of_header(), 0u);
  EXPECT_FALSE(v->is_echo_request());
  ASSERT_EQ(v->payload().size(), 31u);  // the UDP datagram: 20 + 8 + "hi\n"
  EXPECT_EQ(v->payload()[0], 0x45);
  EXPECT_EQ(v->payload()[9], 17 /* UDP */);
}

TEST(IcmpTest, RejectsEveryTruncation) {
  std::vector<uint8_t> m = Message(golden::kIcmpEchoRequestFrame);
  for (size_t n = 0; n < kIcmpHeaderLength; ++n) {
    std::span<const uint8_t> cut(m.data(), n);
    EXPECT_EQ(IcmpView::Parse(cut).error(), WireError::kTruncated) << n;
    EXPECT_EQ(IcmpView::Parse(cut, RxChecksum::kSkip).error(), WireError::kTruncated) << n;
  }
  // Past the header a shorter message is well formed, but the checksum
  // covered the bytes that are now missing.
  for (size_t n = kIcmpHeaderLength; n < m.size(); ++n) {
    std::span<const uint8_t> cut(m.data(), n);
    EXPECT_EQ(IcmpView::Parse(cut).error(), WireError::kBadChecksum) << n;
    ParseResult<IcmpView> v = IcmpView::Parse(cut, RxChecksum::kSkip);
    ASSERT_TRUE(v.ok()) << n;
    EXPECT_EQ(v->payload().size(), n - kIcmpHeaderLength);
  }
}

TEST(IcmpTest, RejectsBadChecksumUnlessSkipped) {
  std::vector<uint8_t> m = Message(golden::kIcmpEchoRequestFrame);
  for (size_t i = 0; i < m.size(); i += 5) {
    std::vector<uint8_t> bad = m;
    bad[i] ^= 0x01;
    EXPECT_EQ(IcmpView::Parse(bad).error(), WireError::kBadChecksum) << i;
    EXPECT_TRUE(IcmpView::Parse(bad, RxChecksum::kSkip).ok()) << i;
  }
}

// Found by icmp_fuzz_test: a request with zero id and sequence and no data
// becomes an all-zero reply, whose only valid checksum is 0xffff; RFC 1624
// eqn. 3 alone would give 0x0000.
TEST(IcmpTest, EchoReplyInPlaceForAllZeroReply) {
  std::vector<uint8_t> m(kIcmpHeaderLength);
  IcmpHeader::EchoRequest(0, 0).Emit(m);
  EXPECT_EQ(m, (std::vector<uint8_t>{0x08, 0, 0xf7, 0xff, 0, 0, 0, 0}));
  MakeEchoReplyInPlace(m);
  EXPECT_EQ(m, (std::vector<uint8_t>{0, 0, 0xff, 0xff, 0, 0, 0, 0}));
  EXPECT_TRUE(IcmpView::Parse(m).ok());
  // A nonzero message whose reply sums to -0 keeps the checksum 0x0000.
  std::vector<uint8_t> minus_zero = {0x08, 0, 0, 0, 0xff, 0xff, 0, 0};
  IcmpHeader::EchoRequest(0xffff, 0).Emit(minus_zero);
  MakeEchoReplyInPlace(minus_zero);
  EXPECT_EQ(LoadBe16(minus_zero.data() + 2), 0x0000);
  EXPECT_TRUE(IcmpView::Parse(minus_zero).ok());
}

TEST(IcmpTest, OddLengthPayloadRoundTrips) {
  std::mt19937 rng(792);
  for (size_t payload = 0; payload < 40; ++payload) {
    std::vector<uint8_t> m(kIcmpHeaderLength + payload);
    for (uint8_t& b : m) b = static_cast<uint8_t>(rng());
    IcmpHeader h = IcmpHeader::EchoRequest(static_cast<uint16_t>(rng()),
                                           static_cast<uint16_t>(rng()));
    h.Emit(m);
    ParseResult<IcmpHeader> back = IcmpHeader::Parse(m);
    ASSERT_TRUE(back.ok()) << payload;
    EXPECT_EQ(*back, h);
    MakeEchoReplyInPlace(m);
    ParseResult<IcmpHeader> reply = IcmpHeader::Parse(m);
    ASSERT_TRUE(reply.ok()) << payload;
    EXPECT_EQ(*reply, IcmpHeader::EchoReply(h.id(), h.sequence()));
  }
}

}  // namespace
}  // namespace locus::wire
