#include "stack/wire/tcp.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "stack/wire/testdata/golden_packets.h"

namespace locus::wire {
namespace {

// Golden segments (stack/wire/testdata/golden_packets.h): curl's handshake
// and GET and a RST on loopback, and an ACK carrying three SACK blocks
// across a veth pair. Linux stores only the pseudo-header sum in the TCP
// checksum field of loopback and veth segments (checksum offload); the RST
// is checksummed in software. The full checksums below are the ones tcpdump
// computed for the captured bytes.

using Segment = std::vector<uint8_t>;

Segment SegmentOf(const std::vector<uint8_t>& frame) {
  std::span<const uint8_t> s = golden::AfterIpv4(frame);
  return Segment(s.begin(), s.end());
}

const Ipv4Address kLo = Ipv4Address::FromOctets(127, 0, 0, 1);
const Ipv4Address kA = Ipv4Address::FromOctets(10, 201, 0, 1);
const Ipv4Address kB = Ipv4Address::FromOctets(10, 201, 0, 2);
const TcpFlags kSyn(TcpFlags::kSyn);
const TcpFlags kAck(TcpFlags::kAck);

TcpOptions LinuxSynOptions(uint32_t ts_value, uint32_t ts_echo) {
  TcpOptions o;
  o.mss = 65495;
  o.sack_permitted = true;
  o.timestamps = TcpTimestamps{ts_value, ts_echo};
  o.window_scale = 10;
  return o;
}

TcpHeader CapturedSyn() {
  return {56884, 18080, SeqNum(486865640), SeqNum(0), kSyn, 65495, 0,
          LinuxSynOptions(332386000, 0)};
}
TcpHeader CapturedSynAck() {
  return {18080,           56884, SeqNum(1740780968), SeqNum(486865641), kSyn | kAck, 65483, 0,
          LinuxSynOptions(2494040160u, 332386000)};
}
TcpHeader CapturedGet() {
  TcpHeader h{56884, 18080, SeqNum(486865641), SeqNum(1740780969),
              TcpFlags(TcpFlags::kPsh | TcpFlags::kAck), 64, 0, {}};
  h.options.timestamps = TcpTimestamps{332386001, 2494040160u};
  return h;
}
TcpHeader CapturedRst() {
  return {18099, 35080, SeqNum(0), SeqNum(22096835), TcpFlags(TcpFlags::kRst | TcpFlags::kAck),
          0,     0,     {}};
}
TcpHeader CapturedSack() {
  TcpHeader h{9000, 39816, SeqNum(1280604991), SeqNum(3390000019u), kAck, 77, 0, {}};
  h.options.timestamps = TcpTimestamps{1086190346, 2730836439u};
  h.options.AddSackBlock({SeqNum(3390020291u), SeqNum(3390023187u)});
  h.options.AddSackBlock({SeqNum(3390010155u), SeqNum(3390011603u)});
  h.options.AddSackBlock({SeqNum(3390005811u), SeqNum(3390007259u)});
  return h;
}

struct Golden {
  const char* name;
  const std::vector<uint8_t>* frame;
  Ipv4Address source, destination;
  TcpHeader header;
  bool offloaded;     // the captured checksum field is the pseudo-header sum
  uint16_t full;      // the complete checksum, as tcpdump computed it
  size_t payload;
};

std::vector<Golden> Goldens() {
  return {
      {"syn", &golden::kTcpSynFrame, kLo, kLo, CapturedSyn(), true, 0x309d, 0},
      {"synack", &golden::kTcpSynAckFrame, kLo, kLo, CapturedSynAck(), true, 0xf624, 0},
      {"get", &golden::kTcpGetFrame, kLo, kLo, CapturedGet(), true, 0x5bf7, 79},
      {"rst", &golden::kTcpRstFrame, kLo, kLo, CapturedRst(), false, 0xb4fe, 0},
      {"sack", &golden::kTcpSackFrame, kB, kA, CapturedSack(), true, 0x8314, 0},
  };
}

TEST(TcpTest, ParsesCapturedSegments) {
  for (const Golden& g : Goldens()) {
    Segment s = SegmentOf(*g.frame);
    RxChecksum check = g.offloaded ? RxChecksum::kSkip : RxChecksum::kVerify;
    ParseResult<TcpHeader> h = TcpHeader::Parse(s, g.source, g.destination, check);
    ASSERT_TRUE(h.ok()) << g.name << ": " << WireErrorName(h.error());
    EXPECT_EQ(*h, g.header) << g.name;
    ParseResult<TcpView> v = TcpView::Parse(s, g.source, g.destination, check);
    ASSERT_TRUE(v.ok()) << g.name;
    EXPECT_EQ(v->payload().size(), g.payload) << g.name;
    EXPECT_EQ(v->header_length(), g.header.length()) << g.name;
  }
}

TEST(TcpTest, CapturedFieldsInDetail) {
  Segment syn = SegmentOf(golden::kTcpSynFrame);
  ParseResult<TcpView> v = TcpView::Parse(syn, kLo, kLo, RxChecksum::kSkip);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->source_port(), 56884);
  EXPECT_EQ(v->destination_port(), 18080);
  EXPECT_EQ(v->seq(), SeqNum(486865640));
  EXPECT_TRUE(v->flags().syn());
  EXPECT_FALSE(v->flags().ack());
  EXPECT_EQ(v->window(), 65495);
  EXPECT_EQ(v->checksum(), 0xfe30);
  EXPECT_EQ(v->urgent_pointer(), 0);
  EXPECT_EQ(v->header_length(), 40u);
  EXPECT_EQ(v->options_bytes().size(), 20u);
  EXPECT_EQ(v->options().mss, 65495);
  EXPECT_EQ(v->options().window_scale, 10);
  EXPECT_TRUE(v->options().sack_permitted);
  EXPECT_EQ(v->options().timestamps, (TcpTimestamps{332386000, 0}));
  EXPECT_EQ(v->options().sack_block_count, 0);

  Segment get = SegmentOf(golden::kTcpGetFrame);
  ParseResult<TcpView> g = TcpView::Parse(get, kLo, kLo, RxChecksum::kSkip);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->flags().psh());
  EXPECT_TRUE(g->flags().ack());
  EXPECT_EQ(std::string(g->payload().begin(), g->payload().begin() + 16), "GET / HTTP/1.1\r\n");

  Segment sack = SegmentOf(golden::kTcpSackFrame);
  ParseResult<TcpView> s = TcpView::Parse(sack, kB, kA, RxChecksum::kSkip);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->options_bytes().size(), kTcpMaxOptionsLength);
  ASSERT_EQ(s->options().sacks().size(), 3u);
  EXPECT_EQ(s->options().sacks()[0].left, SeqNum(3390020291u));
  EXPECT_EQ(s->options().sacks()[2].right, SeqNum(3390007259u));
  EXPECT_FALSE(s->options().mss.has_value());
}

// Emitting the parsed values for offload reproduces the captured bytes
// exactly: Linux's option order and its pseudo-header seed.
TEST(TcpTest, EmitsCapturedSegmentsForOffload) {
  for (const Golden& g : Goldens()) {
    if (!g.offloaded) continue;
    Segment expected = SegmentOf(*g.frame);
    Segment out = expected;
    std::fill(out.begin(), out.begin() + g.header.length(), 0xee);
    g.header.Emit(out, g.source, g.destination, TxChecksum::kOffload);
    EXPECT_EQ(out, expected) << g.name;
  }
}

// With kCompute the checksum is the one tcpdump calculated for the capture,
// and the segment verifies.
TEST(TcpTest, EmitsCapturedSegmentsWithFullChecksum) {
  for (const Golden& g : Goldens()) {
    Segment expected = SegmentOf(*g.frame);
    StoreBe16(expected.data() + 16, g.full);
    Segment out = expected;
    std::fill(out.begin(), out.begin() + g.header.length(), 0xee);
    g.header.Emit(out, g.source, g.destination);
    EXPECT_EQ(out, expected) << g.name;
    EXPECT_TRUE(TcpView::Parse(out, g.source, g.destination).ok()) << g.name;
  }
}

TEST(TcpTest, VerifiesChecksum) {
  Segment rst = SegmentOf(golden::kTcpRstFrame);
  EXPECT_TRUE(TcpView::Parse(rst, kLo, kLo).ok());
  // The pseudo-header counts: other addresses, other sum.
  EXPECT_EQ(TcpView::Parse(rst, kA, kLo).error(), WireError::kBadChecksum);
  for (size_t i = 0; i < rst.size(); ++i) {
    Segment bad = rst;
    bad[i] ^= 0x04;
    if (i == 12) continue;  // changes the data offset: tested below
    EXPECT_EQ(TcpView::Parse(bad, kLo, kLo).error(), WireError::kBadChecksum) << i;
    EXPECT_TRUE(TcpView::Parse(bad, kLo, kLo, RxChecksum::kSkip).ok()) << i;
  }
  // The offloaded captures carry only the seed, so they fail verification.
  Segment syn = SegmentOf(golden::kTcpSynFrame);
  EXPECT_EQ(TcpView::Parse(syn, kLo, kLo).error(), WireError::kBadChecksum);
}

TEST(TcpTest, RoundTripsRandomHeaders) {
  std::mt19937 rng(9293);
  auto r32 = [&] { return static_cast<uint32_t>(rng()); };
  for (int i = 0; i < 2000; ++i) {
    TcpHeader h;
    h.source_port = static_cast<uint16_t>(r32());
    h.destination_port = static_cast<uint16_t>(r32());
    h.seq = SeqNum(r32());
    h.ack = SeqNum(r32());
    h.flags = TcpFlags(static_cast<uint8_t>(r32()));
    h.window = static_cast<uint16_t>(r32());
    h.urgent_pointer = static_cast<uint16_t>(r32());
    if (r32() & 1) h.options.mss = static_cast<uint16_t>(r32());
    if (r32() & 1) h.options.window_scale = static_cast<uint8_t>(r32() % 15);
    h.options.sack_permitted = (r32() & 1) != 0;
    if (r32() & 1) h.options.timestamps = TcpTimestamps{r32(), r32()};
    for (uint32_t n = r32() % 5; n > 0; --n) h.options.AddSackBlock({SeqNum(r32()), SeqNum(r32())});
    // Keep only what fits, as the receiver will see it.
    h.options.sack_block_count = static_cast<uint8_t>(h.options.emitted_sack_blocks());

    Segment s(h.length() + r32() % 50);
    for (uint8_t& b : s) b = static_cast<uint8_t>(r32());
    Ipv4Address src(r32()), dst(r32());
    h.Emit(s, src, dst);
    ASSERT_LE(h.length(), kTcpMaxHeaderLength);
    ASSERT_EQ(h.length() % 4, 0u);
    ParseResult<TcpHeader> back = TcpHeader::Parse(s, src, dst);
    ASSERT_TRUE(back.ok()) << i << ": " << WireErrorName(back.error());
    ASSERT_EQ(*back, h) << i;
  }
}

TEST(TcpTest, RejectsEveryTruncation) {
  Segment syn = SegmentOf(golden::kTcpSynFrame);  // 40-byte header
  for (size_t n = 0; n < syn.size(); ++n) {
    std::span<const uint8_t> cut(syn.data(), n);
    WireError want = n < kTcpMinHeaderLength ? WireError::kTruncated : WireError::kBadHeaderLength;
    EXPECT_EQ(TcpView::Parse(cut, kLo, kLo, RxChecksum::kSkip).error(), want) << n;
    EXPECT_EQ(TcpView::Parse(cut, kLo, kLo).error(), want) << n;
  }
  // Without a length field of its own, a segment cut inside its payload is
  // only caught by the checksum.
  Segment rst = SegmentOf(golden::kTcpRstFrame);
  Segment longer = rst;
  longer.push_back(0x42);
  EXPECT_EQ(TcpView::Parse(longer, kLo, kLo).error(), WireError::kBadChecksum);
}

TEST(TcpTest, RejectsBadDataOffset) {
  Segment rst = SegmentOf(golden::kTcpRstFrame);  // 20 bytes, data offset 5
  for (uint8_t doff = 0; doff < 5; ++doff) {
    rst[12] = static_cast<uint8_t>(doff << 4);
    EXPECT_EQ(TcpView::Parse(rst, kLo, kLo, RxChecksum::kSkip).error(),
              WireError::kBadHeaderLength)
        << int{doff};
  }
  rst[12] = 6 << 4;  // 24 bytes of header in a 20-byte segment
  EXPECT_EQ(TcpView::Parse(rst, kLo, kLo, RxChecksum::kSkip).error(), WireError::kBadHeaderLength);
  rst[12] = 15 << 4;
  EXPECT_EQ(TcpView::Parse(rst, kLo, kLo, RxChecksum::kSkip).error(), WireError::kBadHeaderLength);
}

TEST(TcpTest, IgnoresReservedBits) {
  Segment rst = SegmentOf(golden::kTcpRstFrame);
  rst[12] |= 0x0f;
  ParseResult<TcpHeader> h = TcpHeader::Parse(rst, kLo, kLo, RxChecksum::kSkip);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(*h, CapturedRst());
}

TEST(TcpTest, MaximumHeaderWithPayload) {
  Segment sack = SegmentOf(golden::kTcpSackFrame);  // data offset 15
  const std::string data = "payload after 60 bytes of header";
  sack.insert(sack.end(), data.begin(), data.end());
  CapturedSack().Emit(sack, kB, kA);
  ParseResult<TcpView> v = TcpView::Parse(sack, kB, kA);
  ASSERT_TRUE(v.ok()) << WireErrorName(v.error());
  EXPECT_EQ(v->header_length(), kTcpMaxHeaderLength);
  EXPECT_EQ(std::string(v->payload().begin(), v->payload().end()), data);
}

TEST(TcpTest, RejectsSegmentsLongerThanIpv4Allows) {
  Segment huge(65536, 0);
  CapturedRst().Emit(std::span<uint8_t>(huge).first(20), kLo, kLo);
  EXPECT_EQ(TcpView::Parse(huge, kLo, kLo, RxChecksum::kSkip).error(), WireError::kBadTotalLength);
  huge.resize(65535);
  EXPECT_TRUE(TcpView::Parse(huge, kLo, kLo, RxChecksum::kSkip).ok());
}

// ---- Options -------------------------------------------------------------

ParseResult<TcpOptions> ParseOptions(std::vector<uint8_t> bytes) {
  return TcpOptions::Parse(bytes);
}

TEST(TcpOptionsTest, EmptyAndPadding) {
  ParseResult<TcpOptions> empty = ParseOptions({});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, TcpOptions());
  EXPECT_EQ(TcpOptions().length(), 0u);
  EXPECT_TRUE(ParseOptions({1, 1, 1, 1}).ok());
  EXPECT_TRUE(ParseOptions({0, 0, 0, 0}).ok());
}

TEST(TcpOptionsTest, EndOfListStopsParsing) {
  // After EOL even a malformed "option" is padding, not an option.
  ParseResult<TcpOptions> o = ParseOptions({2, 4, 0x05, 0xb4, 0, 2, 0, 9});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->mss, 1460);
}

TEST(TcpOptionsTest, RejectsLengthZeroOrOne) {
  EXPECT_EQ(ParseOptions({2, 0, 0, 0}).error(), WireError::kBadOption);
  EXPECT_EQ(ParseOptions({2, 1, 0, 0}).error(), WireError::kBadOption);
  EXPECT_EQ(ParseOptions({99, 0, 1, 1}).error(), WireError::kBadOption);
  EXPECT_EQ(ParseOptions({1, 1, 99, 1}).error(), WireError::kBadOption);
}

TEST(TcpOptionsTest, RejectsOverrun) {
  EXPECT_EQ(ParseOptions({2, 4, 0x05}).error(), WireError::kBadOption);  // MSS cut short
  EXPECT_EQ(ParseOptions({1, 1, 1, 8, 10, 0, 0, 0}).error(), WireError::kBadOption);
  EXPECT_EQ(ParseOptions({1, 1, 1, 2}).error(), WireError::kBadOption);  // no length byte
  EXPECT_EQ(ParseOptions({30, 5, 0, 0}).error(), WireError::kBadOption);  // unknown kind
  EXPECT_EQ(ParseOptions({1, 1, 30, 255}).error(), WireError::kBadOption);
  // Exactly up to the end is fine.
  EXPECT_TRUE(ParseOptions({1, 30, 3, 0}).ok());
}

TEST(TcpOptionsTest, SkipsUnknownKinds) {
  // MPTCP (30) and TCP-AO (29) with bodies, between known options.
  ParseResult<TcpOptions> o =
      ParseOptions({30, 6, 0xde, 0xad, 0xbe, 0xef, 2, 4, 0x05, 0xb4, 29, 4, 0xff, 0xff, 3, 3, 7, 0});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->mss, 1460);
  EXPECT_EQ(o->window_scale, 7);
}

// Known kinds with a wrong fixed length are skipped by their length and do
// not stop the options after them (see tcp.h).
TEST(TcpOptionsTest, IgnoresKnownKindsWithWrongLength) {
  for (const std::vector<uint8_t>& bad : std::vector<std::vector<uint8_t>>{
           {2, 3, 0x05},                           // MSS length 3
           {2, 6, 0x05, 0xb4, 0, 0},               // MSS length 6
           {3, 2},                                 // window scale length 2
           {3, 4, 7, 0},                           // window scale length 4
           {4, 3, 0},                              // SACK-permitted length 3
           {8, 9, 1, 2, 3, 4, 5, 6, 7},            // timestamps length 9
           {8, 11, 1, 2, 3, 4, 5, 6, 7, 8, 9},     // timestamps length 11
           {5, 2},                                 // SACK without blocks
           {5, 11, 1, 2, 3, 4, 5, 6, 7, 8, 9},     // SACK not 2 + 8n
           {5, 9, 1, 2, 3, 4, 5, 6, 7},            // SACK one byte short of a block
       }) {
    std::vector<uint8_t> bytes = bad;
    const std::vector<uint8_t> good = {1, 3, 3, 5};  // NOP, window scale 5
    bytes.insert(bytes.end(), good.begin(), good.end());
    ParseResult<TcpOptions> o = TcpOptions::Parse(bytes);
    ASSERT_TRUE(o.ok()) << int{bad[0]} << "/" << int{bad[1]};
    EXPECT_FALSE(o->mss.has_value()) << int{bad[0]};
    EXPECT_FALSE(o->sack_permitted) << int{bad[0]};
    EXPECT_FALSE(o->timestamps.has_value()) << int{bad[0]};
    EXPECT_EQ(o->sack_block_count, 0) << int{bad[0]};
    EXPECT_EQ(o->window_scale, 5) << int{bad[0]} << "/" << int{bad[1]};
  }
}

TEST(TcpOptionsTest, RepeatedOptionReplacesEarlierOne) {
  ParseResult<TcpOptions> o = ParseOptions({2, 4, 0x05, 0xb4, 2, 4, 0x02, 0x18});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->mss, 536);
}

TEST(TcpOptionsTest, WindowScaleAboveLimitIsReportedAsReceived) {
  ParseResult<TcpOptions> o = ParseOptions({3, 3, 200, 0});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->window_scale, 200);  // the TCP layer uses kTcpMaxWindowScale
}

std::vector<uint8_t> SackOption(size_t blocks) {
  std::vector<uint8_t> v = {5, static_cast<uint8_t>(2 + 8 * blocks)};
  for (size_t b = 0; b < blocks; ++b) {
    for (uint32_t edge : {1000 * uint32_t(b + 1), 1000 * uint32_t(b + 1) + 500}) {
      v.push_back(static_cast<uint8_t>(edge >> 24));
      v.push_back(static_cast<uint8_t>(edge >> 16));
      v.push_back(static_cast<uint8_t>(edge >> 8));
      v.push_back(static_cast<uint8_t>(edge));
    }
  }
  return v;
}

TEST(TcpOptionsTest, SackBlockLimit) {
  // Four blocks: 34 bytes, the most that fits.
  ParseResult<TcpOptions> four = TcpOptions::Parse(SackOption(4));
  ASSERT_TRUE(four.ok());
  ASSERT_EQ(four->sack_block_count, kTcpMaxSackBlocks);
  EXPECT_EQ(four->sacks()[3].left, SeqNum(4000));
  EXPECT_EQ(four->sacks()[3].right, SeqNum(4500));
  // Five blocks (42 bytes) exceed the option space however they are framed.
  EXPECT_EQ(TcpOptions::Parse(SackOption(5)).error(), WireError::kBadOption);
  std::vector<uint8_t> five_in_40 = SackOption(5);
  five_in_40.resize(kTcpMaxOptionsLength);
  EXPECT_EQ(TcpOptions::Parse(five_in_40).error(), WireError::kBadOption);
  // And AddSackBlock refuses a fifth.
  TcpOptions o = *four;
  EXPECT_FALSE(o.AddSackBlock({SeqNum(1), SeqNum(2)}));
  EXPECT_EQ(o.sack_block_count, kTcpMaxSackBlocks);
}

TEST(TcpOptionsTest, OptionSpaceLimit) {
  std::vector<uint8_t> at_limit(kTcpMaxOptionsLength, kTcpOptionNop);
  EXPECT_TRUE(TcpOptions::Parse(at_limit).ok());
  std::vector<uint8_t> over(kTcpMaxOptionsLength + 1, kTcpOptionNop);
  EXPECT_EQ(TcpOptions::Parse(over).error(), WireError::kBadOption);
  // An option that ends exactly at byte 40, and one that would end at 41.
  std::vector<uint8_t> last(kTcpMaxOptionsLength, kTcpOptionNop);
  last[36] = 2;
  last[37] = 4;
  last[38] = 0x05;
  last[39] = 0xb4;
  ParseResult<TcpOptions> o = TcpOptions::Parse(last);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->mss, 1460);
  std::vector<uint8_t> past(kTcpMaxOptionsLength, kTcpOptionNop);
  past[37] = 2;
  past[38] = 4;
  past[39] = 0x05;
  EXPECT_EQ(TcpOptions::Parse(past).error(), WireError::kBadOption);
}

TEST(TcpOptionsTest, EmitDropsSackBlocksThatDoNotFit) {
  TcpOptions o;
  o.timestamps = TcpTimestamps{1, 2};
  for (uint32_t b = 0; b < 4; ++b) o.AddSackBlock({SeqNum(b * 10), SeqNum(b * 10 + 5)});
  // Timestamps (12) + NOP NOP SACK header (4) + 3 blocks (24) = 40.
  EXPECT_EQ(o.emitted_sack_blocks(), 3u);
  EXPECT_EQ(o.length(), kTcpMaxOptionsLength);
  std::vector<uint8_t> out(o.length());
  o.Emit(out);
  ParseResult<TcpOptions> back = TcpOptions::Parse(out);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->sack_block_count, 3);
  EXPECT_EQ(back->sacks()[0], o.sacks()[0]);  // the newest block survives
  EXPECT_EQ(back->sacks()[2], o.sacks()[2]);

  o.timestamps.reset();  // 4 + 32 = 36
  EXPECT_EQ(o.emitted_sack_blocks(), 4u);
  EXPECT_EQ(o.length(), 36u);

  // A SYN's options leave room for two blocks; MSS + SYN options fill 20.
  TcpOptions full = LinuxSynOptions(1, 2);
  for (uint32_t b = 0; b < 4; ++b) full.AddSackBlock({SeqNum(b), SeqNum(b + 1)});
  EXPECT_EQ(full.emitted_sack_blocks(), 2u);
  EXPECT_EQ(full.length(), kTcpMaxOptionsLength);
}

TEST(TcpOptionsTest, EmitOrderAndPadding) {
  TcpOptions sack_perm_only;
  sack_perm_only.sack_permitted = true;
  std::vector<uint8_t> out(sack_perm_only.length());
  sack_perm_only.Emit(out);
  EXPECT_EQ(out, (std::vector<uint8_t>{1, 1, 4, 2}));

  TcpOptions ws_only;
  ws_only.window_scale = 7;
  out.resize(ws_only.length());
  ws_only.Emit(out);
  EXPECT_EQ(out, (std::vector<uint8_t>{1, 3, 3, 7}));

  TcpOptions mss_only;
  mss_only.mss = 1460;
  out.resize(mss_only.length());
  mss_only.Emit(out);
  EXPECT_EQ(out, (std::vector<uint8_t>{2, 4, 0x05, 0xb4}));
}

TEST(TcpOptionsTest, EqualityIgnoresUnusedBlocks) {
  TcpOptions a, b;
  b.sack_blocks[2] = {SeqNum(7), SeqNum(8)};  // not in use
  EXPECT_EQ(a, b);
  b.sack_block_count = 3;
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace locus::wire
