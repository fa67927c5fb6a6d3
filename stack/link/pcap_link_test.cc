#include "stack/link/pcap_link.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "stack/link/memory_link.h"
#include "stack/link/test_frames.h"

namespace locus::link {
namespace {

using testing::MakePacket;
using testing::TagOf;
using testing::UdpFrame;

// 2023-11-14T22:13:20.123456789Z
constexpr int64_t kTimestamp = int64_t{1700000000} * 1000000000 + 123456789;

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

TEST(PcapFormatTest, NanosecondFileHeaderGoldenBytes) {
  std::vector<uint8_t> out;
  AppendPcapFileHeader(out, /*nanosecond=*/true, 65535);
  const std::vector<uint8_t> golden = {
      0x4d, 0x3c, 0xb2, 0xa1,  // magic 0xa1b23c4d, little-endian host
      0x02, 0x00, 0x04, 0x00,  // version 2.4
      0x00, 0x00, 0x00, 0x00,  // thiszone
      0x00, 0x00, 0x00, 0x00,  // sigfigs
      0xff, 0xff, 0x00, 0x00,  // snaplen 65535
      0x01, 0x00, 0x00, 0x00,  // LINKTYPE_ETHERNET
  };
  EXPECT_EQ(out, golden);
}

TEST(PcapFormatTest, MicrosecondFileHeaderGoldenBytes) {
  std::vector<uint8_t> out;
  AppendPcapFileHeader(out, /*nanosecond=*/false, 262144);
  const std::vector<uint8_t> golden = {0xd4, 0xc3, 0xb2, 0xa1, 0x02, 0x00, 0x04, 0x00,
                                       0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                       0x00, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00};
  EXPECT_EQ(out, golden);
}

TEST(PcapFormatTest, RecordGoldenBytes) {
  const std::vector<uint8_t> frame = {1, 2, 3, 4, 5};
  std::vector<uint8_t> nanos;
  AppendPcapRecord(nanos, kTimestamp, true, 65535, frame);
  const std::vector<uint8_t> golden_nanos = {
      0x00, 0xf1, 0x53, 0x65,  // 1700000000 s
      0x15, 0xcd, 0x5b, 0x07,  // 123456789 ns
      0x05, 0x00, 0x00, 0x00,  // captured
      0x05, 0x00, 0x00, 0x00,  // on the wire
      1,    2,    3,    4,    5};
  EXPECT_EQ(nanos, golden_nanos);
  std::vector<uint8_t> micros;
  AppendPcapRecord(micros, kTimestamp, false, 65535, frame);
  EXPECT_EQ(std::vector<uint8_t>(micros.begin() + 4, micros.begin() + 8),
            (std::vector<uint8_t>{0x40, 0xe2, 0x01, 0x00}));  // 123456 us
}

TEST(PcapFormatTest, SnaplenTruncatesButKeepsOriginalLength) {
  std::vector<uint8_t> out;
  AppendPcapRecord(out, 0, true, 3, std::vector<uint8_t>{9, 8, 7, 6, 5});
  ASSERT_EQ(out.size(), kPcapRecordHeaderLength + 3);
  EXPECT_EQ(out[8], 3);   // captured
  EXPECT_EQ(out[12], 5);  // original
  EXPECT_EQ(out[18], 7);
}

// Reads back records: (timestamp fraction, captured bytes).
struct Record {
  uint32_t seconds;
  uint32_t fraction;
  std::vector<uint8_t> bytes;
};
std::vector<Record> ParseRecords(const std::vector<uint8_t>& file) {
  std::vector<Record> records;
  size_t at = kPcapFileHeaderLength;
  auto u32 = [&](size_t o) {
    uint32_t v;
    std::memcpy(&v, file.data() + o, 4);
    return v;
  };
  while (at + kPcapRecordHeaderLength <= file.size()) {
    const uint32_t captured = u32(at + 8);
    EXPECT_LE(at + kPcapRecordHeaderLength + captured, file.size());
    if (at + kPcapRecordHeaderLength + captured > file.size()) break;
    records.push_back({u32(at), u32(at + 4),
                       std::vector<uint8_t>(file.begin() + at + kPcapRecordHeaderLength,
                                            file.begin() + at + kPcapRecordHeaderLength + captured)});
    at += kPcapRecordHeaderLength + captured;
  }
  EXPECT_EQ(at, file.size());
  return records;
}

struct Rig {
  explicit Rig(const std::string& path, MemoryLinkConfig memory = {}) {
    pair = std::move(MemoryLinkPair::Create(std::move(memory))).value();
    auto p = PcapLink::Create(pair->a(), path, {.clock = [] { return kTimestamp; }});
    EXPECT_TRUE(p.ok()) << p.status();
    pcap = std::move(p).value();
  }
  uint16_t Send(uint32_t first, uint16_t count) {
    std::vector<Packet*> p;
    for (uint32_t t = first; t < first + count; ++t) {
      p.push_back(MakePacket(pcap->pool(0), UdpFrame({.tag = t})));
    }
    const uint16_t taken = pcap->Transmit(0, p.data(), count);
    for (uint16_t i = taken; i < count; ++i) FreePacket(p[i]);
    return taken;
  }
  std::vector<int64_t> Drain(Link& link) {
    std::vector<int64_t> tags;
    Packet* got[kMaxBurst];
    for (int round = 0; round < 1000; ++round) {
      const uint16_t n = link.Receive(0, got, kMaxBurst);
      if (n == 0) break;
      for (uint16_t i = 0; i < n; ++i) {
        tags.push_back(TagOf(got[i]->bytes()));
        FreePacket(got[i]);
      }
    }
    return tags;
  }
  std::unique_ptr<MemoryLinkPair> pair;
  std::unique_ptr<PcapLink> pcap;
};

TEST(PcapLinkTest, RecordsTransmittedAndReceivedFrames) {
  const std::string path = TempPath("both.pcap");
  Rig rig(path);
  ASSERT_EQ(rig.Send(0, 3), 3);
  // B echoes two frames back.
  Packet* got[4];
  ASSERT_EQ(rig.pair->b().Receive(0, got, 4), 3);
  ASSERT_EQ(rig.pair->b().Transmit(0, got, 2), 2);
  FreePacket(got[2]);
  EXPECT_EQ(rig.Drain(*rig.pcap), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(rig.pcap->frames_written(), 5u);
  ASSERT_TRUE(rig.pcap->Flush().ok());

  const std::vector<uint8_t> file = ReadFile(path);
  ASSERT_GE(file.size(), kPcapFileHeaderLength);
  std::vector<uint8_t> header;
  AppendPcapFileHeader(header, true, 65535);
  EXPECT_TRUE(std::equal(header.begin(), header.end(), file.begin()));
  const std::vector<Record> records = ParseRecords(file);
  ASSERT_EQ(records.size(), 5u);
  const int64_t expected_tags[] = {0, 1, 2, 0, 1};
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].seconds, 1700000000u);
    EXPECT_EQ(records[i].fraction, 123456789u);
    EXPECT_EQ(records[i].bytes, UdpFrame({.tag = static_cast<uint32_t>(expected_tags[i])}));
  }
}

TEST(PcapLinkTest, RefusedFramesAreWrittenOnlyWhenSent) {
  const std::string path = TempPath("refused.pcap");
  Rig rig(path, {.ring_size = 4});
  EXPECT_EQ(rig.Send(0, 6), 4);
  EXPECT_EQ(rig.Drain(rig.pair->b()).size(), 4u);
  EXPECT_EQ(rig.Send(4, 2), 2);
  ASSERT_TRUE(rig.pcap->Flush().ok());
  const std::vector<Record> records = ParseRecords(ReadFile(path));
  ASSERT_EQ(records.size(), 6u);
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(TagOf(records[i].bytes), static_cast<int64_t>(i));
}

TEST(PcapLinkTest, CreateFailsClearlyOnBadPath) {
  auto pair = std::move(MemoryLinkPair::Create({})).value();
  auto p = PcapLink::Create(pair->a(), "/nonexistent-dir/x.pcap");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("/nonexistent-dir/x.pcap"), std::string::npos);
}

std::string RunCommand(const std::string& command) {
  std::string out;
  if (std::FILE* f = popen(command.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    pclose(f);
  }
  return out;
}

TEST(PcapLinkTest, TcpdumpReadsTheFile) {
  const char* tcpdump = "/usr/bin/tcpdump";
  if (std::FILE* f = std::fopen(tcpdump, "r")) {
    std::fclose(f);
  } else {
    tcpdump = "/usr/sbin/tcpdump";
    if (std::FILE* g = std::fopen(tcpdump, "r")) {
      std::fclose(g);
    } else {
      GTEST_SKIP() << "tcpdump is not installed";
    }
  }
  for (bool nanosecond : {true, false}) {
    const std::string path = TempPath(nanosecond ? "ns.pcap" : "us.pcap");
    {
      auto pair = std::move(MemoryLinkPair::Create({})).value();
      auto pcap = std::move(PcapLink::Create(pair->a(), path,
                                             {.nanosecond = nanosecond,
                                              .clock = [] { return kTimestamp; }}))
                      .value();
      std::vector<Packet*> p;
      for (uint32_t t = 0; t < 3; ++t) {
        p.push_back(MakePacket(pcap->pool(0), UdpFrame({.source_port = 40000,
                                                         .destination_port = 40001,
                                                         .tag = t})));
      }
      ASSERT_EQ(pcap->Transmit(0, p.data(), 3), 3);
      Packet* got[4];
      ASSERT_EQ(pair->b().Receive(0, got, 4), 3);
      for (Packet* g : {got[0], got[1], got[2]}) FreePacket(g);
    }  // closing flushes
    const std::string out = RunCommand(absl::StrCat(tcpdump, " -Z root -nn -tt --time-stamp-precision=nano -r ",
                                             path, " 2>&1"));
    const std::vector<std::string> lines =
        absl::StrSplit(out, '\n', absl::SkipEmpty());
    int packets = 0;
    for (const std::string& line : lines) {
      if (line.find("10.0.0.1.40000 > 10.0.0.2.40001: UDP, length 32") != std::string::npos) {
        ++packets;
        EXPECT_EQ(line.rfind(nanosecond ? "1700000000.123456789 " : "1700000000.123456000 ", 0),
                  0u)
            << line;
      }
    }
    EXPECT_EQ(packets, 3) << out;
  }
}

}  // namespace
}  // namespace locus::link
