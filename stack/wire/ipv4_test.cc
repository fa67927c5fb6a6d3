#include "stack/wire/ipv4.h"

#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "stack/wire/testdata/golden_packets.h"

namespace locus::wire {
namespace {

// Captured datagrams (stack/wire/testdata/golden_packets.h): ICMP echo
// request and reply across a veth pair, a TCP SYN and an ICMP error on
// loopback, and two fragments from a sender with MTU 68.

std::vector<uint8_t> Datagram(const std::vector<uint8_t>& frame) {
  std::span<const uint8_t> s = golden::AfterEthernet(frame);
  return std::vector<uint8_t>(s.begin(), s.end());
}

const Ipv4Address kA = Ipv4Address::FromOctets(10, 201, 0, 1);
const Ipv4Address kB = Ipv4Address::FromOctets(10, 201, 0, 2);
const Ipv4Address kLo = Ipv4Address::FromOctets(127, 0, 0, 1);

TEST(Ipv4Test, ParsesCapturedEchoRequest) {
  std::vector<uint8_t> d = Datagram(golden::kIcmpEchoRequestFrame);
  ParseResult<Ipv4View> v = Ipv4View::Parse(d);
  ASSERT_TRUE(v.ok()) << WireErrorName(v.error());
  EXPECT_EQ(v->header_length(), 20u);
  EXPECT_EQ(v->tos(), 0);
  EXPECT_EQ(v->total_length(), 84);
  EXPECT_EQ(v->id(), 17764);
  EXPECT_TRUE(v->dont_fragment());
  EXPECT_EQ(v->ttl(), 64);
  EXPECT_EQ(v->protocol(), kIpProtocolIcmp);
  EXPECT_EQ(v->header_checksum(), 0xdfb0);
  EXPECT_EQ(v->source(), kA);
  EXPECT_EQ(v->destination(), kB);
  EXPECT_TRUE(v->options().empty());
  EXPECT_EQ(v->header().size(), 20u);
  ASSERT_EQ(v->payload().size(), 64u);
  EXPECT_EQ(v->payload().data(), d.data() + 20);
}

TEST(Ipv4Test, EmitsCapturedHeaders) {
  struct Case {
    const std::vector<uint8_t>* frame;
    Ipv4Header header;
  };
  const Case cases[] = {
      {&golden::kIcmpEchoRequestFrame, {0x00, 84, 17764, true, 64, kIpProtocolIcmp, kA, kB}},
      {&golden::kIcmpEchoReplyFrame, {0x00, 84, 19251, false, 64, kIpProtocolIcmp, kB, kA}},
      {&golden::kTcpSynFrame, {0x00, 60, 25894, true, 64, kIpProtocolTcp, kLo, kLo}},
      {&golden::kTcpSynAckFrame, {0x00, 60, 0, true, 64, kIpProtocolTcp, kLo, kLo}},
      {&golden::kIcmpPortUnreachableFrame, {0xc0, 59, 62741, false, 64, kIpProtocolIcmp, kLo, kLo}},
  };
  for (const Case& c : cases) {
    std::vector<uint8_t> d = Datagram(*c.frame);
    ParseResult<Ipv4Header> parsed = Ipv4Header::Parse(d);
    ASSERT_TRUE(parsed.ok()) << WireErrorName(parsed.error());
    EXPECT_EQ(*parsed, c.header);
    std::vector<uint8_t> out(Ipv4Header::length());
    c.header.Emit(out);
    EXPECT_EQ(out, std::vector<uint8_t>(d.begin(), d.begin() + 20)) << c.header.id;
  }
}

TEST(Ipv4Test, EmitForOffloadLeavesChecksumZero) {
  Ipv4Header h{0x00, 84, 17764, true, 64, kIpProtocolIcmp, kA, kB};
  std::vector<uint8_t> out(Ipv4Header::length(), 0xee);
  h.Emit(out, TxChecksum::kOffload);
  std::vector<uint8_t> expected = Datagram(golden::kIcmpEchoRequestFrame);
  expected.resize(20);
  expected[10] = expected[11] = 0;
  EXPECT_EQ(out, expected);
  // Until the NIC fills it in, such a header only passes unverified.
  h.total_length = 20;
  h.Emit(out, TxChecksum::kOffload);
  EXPECT_EQ(Ipv4View::Parse(out, RxChecksum::kVerify).error(), WireError::kBadChecksum);
  EXPECT_TRUE(Ipv4View::Parse(out, RxChecksum::kSkip).ok());
}

TEST(Ipv4Test, RoundTrips) {
  std::mt19937 rng(791);
  for (int i = 0; i < 1000; ++i) {
    Ipv4Header h;
    h.tos = static_cast<uint8_t>(rng());
    h.total_length = static_cast<uint16_t>(20 + rng() % 100);
    h.id = static_cast<uint16_t>(rng());
    h.dont_fragment = (rng() & 1) != 0;
    h.ttl = static_cast<uint8_t>(rng());
    h.protocol = static_cast<uint8_t>(rng());
    h.source = Ipv4Address(static_cast<uint32_t>(rng()));
    h.destination = Ipv4Address(static_cast<uint32_t>(rng()));
    std::vector<uint8_t> out(h.total_length, 0x5a);
    h.Emit(out);
    ParseResult<Ipv4Header> back = Ipv4Header::Parse(out);
    ASSERT_TRUE(back.ok()) << WireErrorName(back.error());
    ASSERT_EQ(*back, h);
  }
}

TEST(Ipv4Test, PayloadEndsAtTotalLengthNotAtBuffer) {
  // The RST frame is 54 bytes; on a real wire it would be padded to 60.
  std::vector<uint8_t> d = Datagram(golden::kTcpRstFrame);
  ASSERT_EQ(d.size(), 40u);
  d.resize(60 - golden::kEthernet, 0);
  ParseResult<Ipv4View> v = Ipv4View::Parse(d);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->total_length(), 40);
  EXPECT_EQ(v->payload().size(), 20u);
  EXPECT_EQ(v->payload().data() + v->payload().size(), d.data() + 40);
}

TEST(Ipv4Test, RejectsEveryTruncation) {
  std::vector<uint8_t> d = Datagram(golden::kIcmpEchoRequestFrame);
  for (size_t n = 0; n < d.size(); ++n) {
    std::span<const uint8_t> cut(d.data(), n);
    EXPECT_EQ(Ipv4View::Parse(cut).error(), WireError::kTruncated) << n;
    EXPECT_EQ(Ipv4View::Parse(cut, RxChecksum::kSkip).error(), WireError::kTruncated) << n;
  }
  EXPECT_TRUE(Ipv4View::Parse(d).ok());
}

TEST(Ipv4Test, RejectsOtherVersions) {
  std::vector<uint8_t> d = Datagram(golden::kIcmpEchoRequestFrame);
  for (uint8_t version : {0, 5, 6, 15}) {
    d[0] = static_cast<uint8_t>(version << 4 | 5);
    EXPECT_EQ(Ipv4View::Parse(d).error(), WireError::kBadVersion) << int{version};
  }
}

TEST(Ipv4Test, RejectsShortIhl) {
  std::vector<uint8_t> d = Datagram(golden::kIcmpEchoRequestFrame);
  for (uint8_t ihl = 0; ihl < 5; ++ihl) {
    d[0] = static_cast<uint8_t>(0x40 | ihl);
    EXPECT_EQ(Ipv4View::Parse(d, RxChecksum::kSkip).error(), WireError::kBadHeaderLength)
        << int{ihl};
  }
}

TEST(Ipv4Test, RejectsTotalLengthBelowHeader) {
  std::vector<uint8_t> d = Datagram(golden::kIcmpEchoRequestFrame);
  for (uint16_t total : {0, 1, 19}) {
    StoreBe16(d.data() + 2, total);
    EXPECT_EQ(Ipv4View::Parse(d, RxChecksum::kSkip).error(), WireError::kBadTotalLength) << total;
  }
  StoreBe16(d.data() + 2, 20);  // header only: valid, empty payload
  ParseResult<Ipv4View> v = Ipv4View::Parse(d, RxChecksum::kSkip);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->payload().empty());
  // IHL 15 (60 bytes) with a total length of 59.
  d[0] = 0x4f;
  StoreBe16(d.data() + 2, 59);
  EXPECT_EQ(Ipv4View::Parse(d, RxChecksum::kSkip).error(), WireError::kBadTotalLength);
}

TEST(Ipv4Test, RejectsTotalLengthBeyondBuffer) {
  std::vector<uint8_t> d = Datagram(golden::kIcmpEchoRequestFrame);
  StoreBe16(d.data() + 2, static_cast<uint16_t>(d.size() + 1));
  EXPECT_EQ(Ipv4View::Parse(d, RxChecksum::kSkip).error(), WireError::kTruncated);
  StoreBe16(d.data() + 2, 0xffff);
  EXPECT_EQ(Ipv4View::Parse(d, RxChecksum::kSkip).error(), WireError::kTruncated);
}

TEST(Ipv4Test, ChecksumIsVerifiedUnlessSkipped) {
  std::vector<uint8_t> d = Datagram(golden::kIcmpEchoRequestFrame);
  for (size_t i = 0; i < 20; ++i) {
    if (i == 0 || i == 2 || i == 3) continue;  // those change lengths, tested above
    std::vector<uint8_t> bad = d;
    bad[i] ^= 0x10;
    ParseResult<Ipv4View> verified = Ipv4View::Parse(bad);
    ParseResult<Ipv4View> skipped = Ipv4View::Parse(bad, RxChecksum::kSkip);
    if (i == 6 || i == 7) {  // the flip sets an offset bit: a fragment once verified
      EXPECT_EQ(verified.error(), WireError::kBadChecksum);
      EXPECT_EQ(skipped.error(), WireError::kFragment);
      continue;
    }
    EXPECT_EQ(verified.error(), WireError::kBadChecksum) << i;
    EXPECT_TRUE(skipped.ok()) << i;
  }
  // A corrupted payload is not the IPv4 header checksum's business.
  d[30] ^= 0xff;
  EXPECT_TRUE(Ipv4View::Parse(d).ok());
}

TEST(Ipv4Test, RejectsCapturedFragments) {
  std::vector<uint8_t> first = Datagram(golden::kIpv4FirstFragmentFrame);
  std::vector<uint8_t> last = Datagram(golden::kIpv4LastFragmentFrame);
  EXPECT_EQ(Ipv4View::Parse(first).error(), WireError::kFragment);  // MF, offset 0
  EXPECT_EQ(Ipv4View::Parse(last).error(), WireError::kFragment);   // offset 48
  EXPECT_EQ(Ipv4View::Parse(first, RxChecksum::kSkip).error(), WireError::kFragment);
  // The captured fragments really are intact: clearing MF (and fixing the
  // checksum) makes the first one parse.
  first[6] &= static_cast<uint8_t>(~0x20);
  StoreBe16(first.data() + 10, ChecksumUpdate16(LoadBe16(first.data() + 10), 0x2000, 0x0000));
  EXPECT_TRUE(Ipv4View::Parse(first).ok());
  // Offset bits alone, in the high and low parts of the field.
  std::vector<uint8_t> d = Datagram(golden::kIcmpEchoRequestFrame);
  for (uint16_t flags_offset : {0x4001, 0x0100, 0x1fff, 0x5fff}) {
    StoreBe16(d.data() + 6, static_cast<uint16_t>(flags_offset));
    EXPECT_EQ(Ipv4View::Parse(d, RxChecksum::kSkip).error(), WireError::kFragment)
        << flags_offset;
  }
  StoreBe16(d.data() + 6, 0x8000);  // the reserved bit alone is not a fragment
  EXPECT_TRUE(Ipv4View::Parse(d, RxChecksum::kSkip).ok());
}

// A captured header with a 4-byte Router Alert option (RFC 2113) inserted
// and IHL, total length and checksum fixed up: options are skipped.
TEST(Ipv4Test, SkipsOptions) {
  std::vector<uint8_t> d = Datagram(golden::kIcmpEchoRequestFrame);
  const std::vector<uint8_t> router_alert = {0x94, 0x04, 0x00, 0x00};
  d.insert(d.begin() + 20, router_alert.begin(), router_alert.end());
  d[0] = 0x46;
  StoreBe16(d.data() + 2, 88);
  StoreBe16(d.data() + 10, 0);
  StoreBe16(d.data() + 10, ComputeChecksum(std::span<const uint8_t>(d).first(24)));
  ParseResult<Ipv4View> v = Ipv4View::Parse(d);
  ASSERT_TRUE(v.ok()) << WireErrorName(v.error());
  EXPECT_EQ(v->header_length(), 24u);
  EXPECT_EQ(std::vector<uint8_t>(v->options().begin(), v->options().end()), router_alert);
  ASSERT_EQ(v->payload().size(), 64u);
  EXPECT_EQ(v->payload()[0], 0x08);  // the echo request's type
  ParseResult<Ipv4Header> h = Ipv4Header::Parse(d);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->total_length, 88);
}

TEST(Ipv4Test, MaximumHeaderLength) {
  // IHL 15: 40 bytes of options (all NOP), no payload.
  std::vector<uint8_t> d(kIpv4MaxHeaderLength, 0x01);
  Ipv4Header{0, kIpv4MaxHeaderLength, 1, false, 64, kIpProtocolTcp, kA, kB}.Emit(d);
  d[0] = 0x4f;
  StoreBe16(d.data() + 10, 0);
  StoreBe16(d.data() + 10, ComputeChecksum(d));
  ParseResult<Ipv4View> v = Ipv4View::Parse(d);
  ASSERT_TRUE(v.ok()) << WireErrorName(v.error());
  EXPECT_EQ(v->header_length(), kIpv4MaxHeaderLength);
  EXPECT_EQ(v->options().size(), 40u);
  EXPECT_TRUE(v->payload().empty());
  // One byte short of the header it announces.
  EXPECT_EQ(Ipv4View::Parse(std::span<const uint8_t>(d).first(59)).error(), WireError::kTruncated);
}

}  // namespace
}  // namespace locus::wire
