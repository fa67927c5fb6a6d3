// DpdkLink and DpdkEal on real kernel devices: net_tap and net_af_packet
// ports in a network namespace this test makes for itself. Needs root
// (tagged "tap"); everything it creates vanishes with its namespace.
#include "stack/link/dpdk_link.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "stack/link/checksum.h"
#include "stack/link/dpdk_eal.h"
#include "stack/link/dpdk_headers.h"
#include "stack/link/fault_injecting_link.h"
#include "stack/link/pcap_link.h"
#include "stack/link/tap_test_util.h"
#include "stack/link/test_frames.h"
#include "stack/wire/endian.h"

namespace locus::link {
namespace {

using testing::FrameSpec;
using testing::MakePacket;
using testing::RawSocket;
using testing::ReceiveMatching;
using testing::Sh;
using testing::TagOf;
using testing::TcpFrame;
using testing::TransmitOne;
using testing::UdpFrame;

constexpr char kInitVdev[] = "net_tap0";
constexpr char kInitIface[] = "ltap0";
const Duration kWait = Duration::Seconds(3);

bool HasTag(std::span<const uint8_t> frame, int64_t tag) { return TagOf(frame) == tag; }

// A port hot-plugged for one test and removed after it.
class Port {
 public:
  // "net_tap", "ltap" -> net_tap<N>,iface=ltap<N>
  Port(const std::string& driver, const std::string& iface, uint16_t queues,
       const std::string& extra = "") {
    static int serial = 1;
    vdev_ = absl::StrCat(driver, serial++);
    iface_ = iface;
    auto port = DpdkEal::Get()->AttachDevice(absl::StrCat(vdev_, ",iface=", iface_, extra));
    EXPECT_TRUE(port.ok()) << port.status();
    if (!port.ok()) return;
    auto link = DpdkLink::Create({.device = vdev_, .queues = queues});
    EXPECT_TRUE(link.ok()) << link.status();
    if (link.ok()) link_ = std::move(link).value();
  }
  ~Port() {
    link_.reset();
    EXPECT_TRUE(DpdkEal::Get()->DetachDevice(vdev_).ok());
  }
  DpdkLink* link() { return link_.get(); }
  const std::string& iface() const { return iface_; }

 private:
  std::string vdev_;
  std::string iface_;
  std::unique_ptr<DpdkLink> link_;
};

// --- EAL ---------------------------------------------------------------

TEST(DpdkEalTest, InitVdevBecamePortAndLcoresAreKnown) {
  DpdkEal* eal = DpdkEal::Get();
  ASSERT_NE(eal, nullptr);
  auto port = eal->FindPort(kInitVdev);
  ASSERT_TRUE(port.ok()) << port.status();
  auto first = eal->FindPort("");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, *port);
  EXPECT_EQ(eal->lcore_count(), 2u);
  EXPECT_EQ(DpdkEal::CurrentLcoreIndex(), 0);
  const auto missing = eal->FindPort("net_tap99");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("net_tap0"), std::string::npos)
      << missing.status();
}

TEST(DpdkEalTest, RunOnLcoresRunsEveryIndexOnItsOwnLcore) {
  DpdkEal* eal = DpdkEal::Get();
  std::mutex mutex;
  std::map<unsigned, int> lcore_of;
  std::set<std::thread::id> threads;
  ASSERT_TRUE(eal->RunOnLcores([&](unsigned index) {
                   std::lock_guard<std::mutex> lock(mutex);
                   lcore_of[index] = DpdkEal::CurrentLcoreIndex();
                   threads.insert(std::this_thread::get_id());
                 }).ok());
  EXPECT_EQ(lcore_of, (std::map<unsigned, int>{{0, 0}, {1, 1}}));
  EXPECT_EQ(threads.size(), 2u);
  // Again: workers are reusable after the wait.
  std::atomic<int> calls{0};
  ASSERT_TRUE(eal->RunOnLcores([&](unsigned) { ++calls; }).ok());
  EXPECT_EQ(calls.load(), 2);
}

TEST(DpdkEalTest, RunOnLcoresOnlyFromTheMainLcore) {
  absl::Status status;
  std::thread t([&] { status = DpdkEal::Get()->RunOnLcores([](unsigned) {}); });
  t.join();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(DpdkEal::CurrentLcoreIndex(), 0);
}

TEST(DpdkEalTest, InitTwiceIsRefused) {
  auto again = DpdkEal::Init({"x", "--no-huge"});
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(DpdkEalTest, AttachDiagnosesLikeInit) {
  ASSERT_TRUE(Sh("ip link add lbusy type veth peer name lbusy-peer").ok());
  auto busy = DpdkEal::Get()->AttachDevice("net_tap90,iface=lbusy");
  EXPECT_EQ(busy.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(busy.status().message().rfind("tap device lbusy busy", 0), 0u) << busy.status();
  auto missing = DpdkEal::Get()->AttachDevice("net_af_packet90,iface=lnosuch");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message().rfind("af_packet interface lnosuch not found", 0), 0u)
      << missing.status();
  EXPECT_TRUE(Sh("ip link del lbusy").ok());
}

// --- DpdkLink on net_tap ----------------------------------------------

TEST(DpdkLinkTest, CreateErrors) {
  EXPECT_EQ(DpdkLink::Create({.device = "net_tap99"}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(DpdkLink::Create({.device = kInitVdev, .mtu = 3000}).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto too_many = DpdkLink::Create({.device = kInitVdev, .queues = 17});
  EXPECT_EQ(too_many.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(too_many.status().message().find("at most 16"), std::string::npos)
      << too_many.status();
}

// The port created at EAL init, used through the whole Link API.
class InitTapTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto link = DpdkLink::Create({.device = kInitVdev});
    ASSERT_TRUE(link.ok()) << link.status();
    link_ = std::move(link).value().release();
  }
  static void TearDownTestSuite() {
    delete link_;
    link_ = nullptr;
    // Closing the port removes the kernel's side of the tap.
    EXPECT_EQ(if_nametoindex(kInitIface), 0u);
  }
  void SetUp() override {
    ASSERT_NE(link_, nullptr);
    kernel_ = std::make_unique<RawSocket>(kInitIface);
    ASSERT_TRUE(kernel_->ok());
    kernel_mac_ = testing::InterfaceMac(kInitIface);
  }
  void TearDown() override {
    // Nothing may stay out of the pool between tests.
    Packet* none[kMaxBurst];
    for (int round = 0; round < 1000; ++round) {
      const uint16_t n = link_->Receive(0, none, kMaxBurst);
      if (n == 0) break;
      for (uint16_t i = 0; i < n; ++i) FreePacket(none[i]);
    }
  }

  FrameSpec ToDpdk(uint32_t tag) const {
    return {.source_mac = kernel_mac_, .destination_mac = link_->info().mac, .tag = tag};
  }
  FrameSpec ToKernel(uint32_t tag) const {
    return {.source_mac = link_->info().mac, .destination_mac = kernel_mac_, .tag = tag};
  }

  static DpdkLink* link_;
  std::unique_ptr<RawSocket> kernel_;
  wire::MacAddress kernel_mac_;
};
DpdkLink* InitTapTest::link_ = nullptr;

TEST_F(InitTapTest, InfoComesFromThePort) {
  const LinkInfo& info = link_->info();
  EXPECT_EQ(info.driver, "net_tap");
  EXPECT_FALSE(info.mac.is_zero());
  // net_tap gives the kernel's side of the tap the port's own MAC.
  EXPECT_EQ(info.mac, kernel_mac_);
  EXPECT_EQ(info.mtu, 1500);
  EXPECT_EQ(info.rx_queues, 1);
  EXPECT_EQ(info.tx_queues, 1);
  EXPECT_TRUE(info.tx_ipv4_checksum);
  EXPECT_TRUE(info.tx_tcp_checksum);
  EXPECT_TRUE(info.rx_checksum);
  EXPECT_FALSE(info.rss);  // tap cannot report its key and RETA
  EXPECT_TRUE(info.reta.empty());
  // The default formula with this EAL's two lcores.
  EXPECT_EQ(link_->pool(0).capacity(), MbufsPerQueue({.caching_lcores = 2}));
}

TEST_F(InitTapTest, KernelFramesArriveWithOffloadVerdicts) {
  for (uint32_t t = 1; t <= 3; ++t) ASSERT_TRUE(kernel_->Send(UdpFrame(ToDpdk(t))));
  std::vector<uint8_t> bad = UdpFrame(ToDpdk(4));
  bad.back() ^= 0x5a;  // breaks the UDP checksum only
  ASSERT_TRUE(kernel_->Send(bad));

  std::vector<Packet*> got = ReceiveMatching(
      *link_, 0, [](const Packet& p) { return TagOf(p.bytes()) >= 1 && TagOf(p.bytes()) <= 4; },
      4, kWait);
  ASSERT_EQ(got.size(), 4u);
  for (uint32_t i = 0; i < 3; ++i) {
    Packet* p = got[i];
    EXPECT_EQ(std::vector<uint8_t>(p->bytes().begin(), p->bytes().end()), UdpFrame(ToDpdk(i + 1)));
    EXPECT_EQ(p->flags, uint32_t{kRxIpChecksumGood | kRxL4ChecksumGood});
    EXPECT_EQ(p->pool, &link_->pool(0));
    // The Packet is the mbuf's private area, and the two agree.
    rte_mbuf* m = static_cast<rte_mbuf*>(p->native);
    EXPECT_EQ(rte_mbuf_to_priv(m), static_cast<void*>(p));
    EXPECT_EQ(m->data_off, p->data_offset);
    EXPECT_EQ(m->data_len, p->length);
    EXPECT_EQ(p->buffer, m->buf_addr);
  }
  EXPECT_EQ(got[3]->flags, uint32_t{kRxIpChecksumGood | kRxL4ChecksumBad});
  for (Packet* p : got) FreePacket(p);
  EXPECT_GE(link_->stats(0).rx_packets, 4u);
}

TEST_F(InitTapTest, TransmittedFramesReachTheKernelByteForByte) {
  std::vector<std::vector<uint8_t>> sent;
  for (uint32_t t = 10; t < 13; ++t) {
    const std::vector<uint8_t> frame = UdpFrame(ToKernel(t));
    Packet* p = link_->pool(0).Allocate();
    ASSERT_NE(p, nullptr);
    // Unusual headroom, so a stale data_off in the mbuf would show.
    ASSERT_NE(p->Append(static_cast<uint16_t>(frame.size() + 40)), nullptr);
    ASSERT_TRUE(p->TrimFront(40));
    std::memcpy(p->data(), frame.data(), frame.size());
    const uint64_t before = link_->stats(0).tx_packets;
    ASSERT_TRUE(TransmitOne(*link_, 0, p));
    EXPECT_EQ(link_->stats(0).tx_packets, before + 1);
    sent.push_back(frame);
  }
  auto frames = kernel_->Receive(
      [](std::span<const uint8_t> f) { return TagOf(f) >= 10 && TagOf(f) < 13; }, 3, kWait);
  EXPECT_EQ(frames, sent);
}

// The stack's offload contract (packet.h): IP checksum 0, TCP checksum
// seeded with the pseudo-header sum. The kernel must see a correct frame.
Packet* OffloadRequest(PacketPool& pool, const std::vector<uint8_t>& frame) {
  Packet* p = MakePacket(pool, frame);
  uint8_t* d = p->data();
  constexpr size_t kIp = testing::kEthernetLength;
  wire::StoreBe16(d + kIp + 10, 0);
  wire::StoreBe16(d + kIp + testing::kIpv4Length + 16, Ipv4PseudoHeaderSum(d + kIp));
  p->l2_length = testing::kEthernetLength;
  p->l3_length = testing::kIpv4Length;
  p->l4_length = testing::kTcpLength;
  p->flags = kTxIpv4Checksum | kTxTcpChecksum;
  return p;
}

TEST_F(InitTapTest, ChecksumOffloadFillsTcpAndIpChecksums) {
  // Our pseudo-header sum is DPDK's, byte-swapped into memory order.
  const std::vector<uint8_t> reference = TcpFrame(ToKernel(20));
  const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(reference.data() + testing::kEthernetLength);
  EXPECT_EQ(rte_be_to_cpu_16(rte_ipv4_phdr_cksum(ip, 0)),
            Ipv4PseudoHeaderSum(reference.data() + testing::kEthernetLength));

  for (uint16_t payload : {1, 100, 1400}) {
    FrameSpec spec = ToKernel(20 + payload);
    spec.payload_length = payload < 4 ? 4 : payload;
    const std::vector<uint8_t> frame = TcpFrame(spec);
    ASSERT_TRUE(TransmitOne(*link_, 0, OffloadRequest(link_->pool(0), frame)));
    auto frames = kernel_->Receive(
        [&](std::span<const uint8_t> f) { return HasTag(f, 20 + payload); }, 1, kWait);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0], frame) << "payload " << payload;
  }
}

// ARP and UDP with the real kernel stack: the kernel resolves our address,
// we answer, and it then sends the datagram to our MAC.
TEST_F(InitTapTest, AnswersKernelArpAndGetsItsDatagram) {
  ASSERT_TRUE(Sh(absl::StrCat("ip addr add 10.77.0.1/24 dev ", kInitIface)).ok());
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9999);
  to.sin_addr.s_addr = htonl(0x0a4d0002);  // 10.77.0.2, "us"
  const char kHello[] = "hello from the kernel";
  ASSERT_EQ(sendto(fd, kHello, sizeof kHello, 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
            static_cast<ssize_t>(sizeof kHello));

  std::vector<Packet*> arp = ReceiveMatching(
      *link_, 0,
      [](const Packet& p) {
        return p.length >= 42 && wire::LoadBe16(p.data() + 12) == 0x0806 &&
               wire::LoadBe16(p.data() + 20) == 1 &&              // request
               wire::LoadBe32(p.data() + 38) == 0x0a4d0002;       // for 10.77.0.2
      },
      1, kWait);
  ASSERT_EQ(arp.size(), 1u);
  // Turn the request into the reply in place and send it back.
  uint8_t* d = arp[0]->data();
  uint8_t requester[6];
  std::memcpy(requester, d + 22, 6);
  std::memcpy(d, requester, 6);
  link_->info().mac.CopyTo(d + 6);
  wire::StoreBe16(d + 20, 2);
  uint8_t sender_ip[4];
  std::memcpy(sender_ip, d + 28, 4);
  link_->info().mac.CopyTo(d + 22);
  wire::StoreBe32(d + 28, 0x0a4d0002);
  std::memcpy(d + 32, requester, 6);
  std::memcpy(d + 38, sender_ip, 4);
  ASSERT_TRUE(TransmitOne(*link_, 0, arp[0]));

  const wire::MacAddress ours = link_->info().mac;
  std::vector<Packet*> udp = ReceiveMatching(
      *link_, 0,
      [&](const Packet& p) {
        return p.length > 42 && wire::MacAddress::FromBytes(p.data()) == ours &&
               wire::LoadBe16(p.data() + 12) == 0x0800 && p.data()[23] == 17 &&
               wire::LoadBe16(p.data() + 36) == 9999;
      },
      1, kWait);
  ASSERT_EQ(udp.size(), 1u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(udp[0]->data() + 42)), kHello);
  EXPECT_EQ(udp[0]->flags, uint32_t{kRxIpChecksumGood | kRxL4ChecksumGood});
  FreePacket(udp[0]);
  close(fd);
  EXPECT_TRUE(Sh(absl::StrCat("ip addr flush dev ", kInitIface)).ok());
}

TEST_F(InitTapTest, PacketsFromOtherPoolsAreCopiedIntoMbufs) {
  HeapPacketPool heap(2);
  const std::vector<uint8_t> frame = UdpFrame(ToKernel(60));
  ASSERT_TRUE(TransmitOne(*link_, 0, MakePacket(heap, frame)));
  EXPECT_EQ(heap.available(), 2u);  // the original went back to its pool
  auto frames = kernel_->Receive([](std::span<const uint8_t> f) { return HasTag(f, 60); }, 1, kWait);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], frame);
}

TEST_F(InitTapTest, PoolAllocatesUntilEmptyAndRecovers) {
  PacketPool& pool = link_->pool(0);
  const size_t available = pool.available();
  ASSERT_GT(available, 0u);
  ASSERT_LT(available, pool.capacity());  // the RX ring holds its share
  std::vector<Packet*> all;
  for (size_t i = 0; i < pool.capacity(); ++i) {
    Packet* p = pool.Allocate();
    if (p == nullptr) break;
    EXPECT_EQ(p->headroom(), kPacketHeadroom);
    EXPECT_EQ(p->length, 0);
    all.push_back(p);
  }
  EXPECT_EQ(all.size(), available);
  EXPECT_EQ(pool.Allocate(), nullptr);
  EXPECT_EQ(pool.available(), 0u);
  for (Packet* p : all) FreePacket(p);
  EXPECT_EQ(pool.available(), available);
}

TEST_F(InitTapTest, FaultInjectionWrapsTheDpdkLink) {
  auto faulty = FaultInjectingLink::Create(*link_, {.tx = {.duplicate = 1}, .rx = {.loss = 1}},
                                           nullptr);
  ASSERT_TRUE(faulty.ok()) << faulty.status();
  for (uint32_t t = 30; t < 33; ++t) {
    ASSERT_TRUE(TransmitOne(**faulty, 0, MakePacket((*faulty)->pool(0), UdpFrame(ToKernel(t)))));
  }
  auto frames = kernel_->Receive(
      [](std::span<const uint8_t> f) { return TagOf(f) >= 30 && TagOf(f) < 33; }, 6, kWait);
  ASSERT_EQ(frames.size(), 6u);
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(TagOf(frames[i]), 30 + static_cast<int64_t>(i / 2));

  ASSERT_TRUE(kernel_->Send(UdpFrame(ToDpdk(34))));
  EXPECT_TRUE(ReceiveMatching(**faulty, 0, [](const Packet& p) { return HasTag(p.bytes(), 34); },
                              1, Duration::Millis(500))
                  .empty());
  EXPECT_GE((*faulty)->fault_stats(Direction::kRx).dropped, 1u);
  EXPECT_EQ((*faulty)->fault_stats(Direction::kTx).duplicated, 3u);
}

// What the TCP interop tests do: 5% reordering and duplication on a real
// port, on the real clock.
TEST_F(InitTapTest, ReordersAndDuplicatesOnTheRealClock) {
  constexpr uint32_t kFrames = 300;
  constexpr uint32_t kFirst = 5000;
  auto faulty = FaultInjectingLink::Create(
      *link_,
      {.seed = 5, .tx = {.duplicate = 0.05, .reorder = 0.05, .reorder_delay = Duration::Millis(2)}},
      MonotonicNow);
  ASSERT_TRUE(faulty.ok()) << faulty.status();
  for (uint32_t t = kFirst; t < kFirst + kFrames; ++t) {
    ASSERT_TRUE(TransmitOne(**faulty, 0, MakePacket((*faulty)->pool(0), UdpFrame(ToKernel(t)))));
    if (t % 10 == 0) std::this_thread::sleep_for(std::chrono::microseconds(300));
  }
  // Held frames leave on a later poll once due.
  const Instant deadline = MonotonicNow() + kWait;
  while ((*faulty)->held(0, Direction::kTx) > 0 && MonotonicNow() < deadline) {
    (*faulty)->Flush(0);
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  EXPECT_EQ((*faulty)->held(0, Direction::kTx), 0u);
  const FaultStats s = (*faulty)->fault_stats(Direction::kTx);
  EXPECT_GT(s.reordered, 0u);
  EXPECT_GT(s.duplicated, 0u);
  auto frames = kernel_->Receive(
      [](std::span<const uint8_t> f) { return TagOf(f) >= kFirst && TagOf(f) < kFirst + kFrames; },
      kFrames + s.duplicated, kWait);
  ASSERT_EQ(frames.size(), kFrames + s.duplicated);
  std::vector<int64_t> order;
  std::set<int64_t> distinct;
  for (const auto& f : frames) {
    order.push_back(TagOf(f));
    distinct.insert(TagOf(f));
  }
  EXPECT_EQ(distinct.size(), kFrames);
  EXPECT_FALSE(std::is_sorted(order.begin(), order.end()));
}

TEST_F(InitTapTest, PcapRecordsBothDirectionsOnDpdk) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = absl::StrCat(dir ? dir : "/tmp", "/dpdk.pcap");
  {
    auto pcap = PcapLink::Create(*link_, path);
    ASSERT_TRUE(pcap.ok()) << pcap.status();
    ASSERT_TRUE(TransmitOne(**pcap, 0, MakePacket((*pcap)->pool(0), UdpFrame(ToKernel(40)))));
    ASSERT_TRUE(kernel_->Send(UdpFrame(ToDpdk(41))));
    std::vector<Packet*> got =
        ReceiveMatching(**pcap, 0, [](const Packet& p) { return HasTag(p.bytes(), 41); }, 1, kWait);
    ASSERT_EQ(got.size(), 1u);
    FreePacket(got[0]);
    EXPECT_GE((*pcap)->frames_written(), 2u);
  }
  std::ifstream in(path, std::ios::binary);
  const std::string file((std::istreambuf_iterator<char>(in)), {});
  const std::vector<uint8_t> tx = UdpFrame(ToKernel(40));
  const std::vector<uint8_t> rx = UdpFrame(ToDpdk(41));
  EXPECT_NE(file.find(std::string(tx.begin(), tx.end())), std::string::npos);
  EXPECT_NE(file.find(std::string(rx.begin(), rx.end())), std::string::npos);
}

TEST(TapMtuTest, MtuReachesTheKernelInterface) {
  ASSERT_TRUE(DpdkEal::Get()->AttachDevice("net_tap70,iface=lmtu").ok());
  {
    auto link = DpdkLink::Create({.device = "net_tap70", .mtu = 1400});
    ASSERT_TRUE(link.ok()) << link.status();
    EXPECT_EQ((*link)->info().mtu, 1400);
    EXPECT_TRUE(Sh("ip link show lmtu | grep -q 'mtu 1400'").ok());
  }
  EXPECT_TRUE(DpdkEal::Get()->DetachDevice("net_tap70").ok());
}

// --- Multi-queue tap ---------------------------------------------------

// 64 flows from the kernel spread over both queues by the tun driver's
// flow hash; each arrives exactly once.
void ExpectFlowsSpreadOverQueues(Link& link, RawSocket& kernel, wire::MacAddress kernel_mac,
                                 uint32_t first_tag) {
  constexpr uint32_t kFlows = 64;
  for (uint32_t i = 0; i < kFlows; ++i) {
    ASSERT_TRUE(kernel.Send(UdpFrame({.source_mac = kernel_mac,
                                      .destination_mac = link.info().mac,
                                      .source_port = static_cast<uint16_t>(20000 + i * 7),
                                      .tag = first_tag + i})));
  }
  std::map<int64_t, int> seen;
  int per_queue[2] = {0, 0};
  const Instant deadline = MonotonicNow() + kWait;
  Packet* got[kMaxBurst];
  while (seen.size() < kFlows && MonotonicNow() < deadline) {
    for (uint16_t q = 0; q < 2; ++q) {
      const uint16_t n = link.Receive(q, got, kMaxBurst);
      for (uint16_t i = 0; i < n; ++i) {
        const int64_t tag = TagOf(got[i]->bytes());
        if (tag >= first_tag && tag < first_tag + kFlows) {
          ++seen[tag];
          ++per_queue[q];
          EXPECT_EQ(got[i]->pool, &link.pool(q));
        }
        FreePacket(got[i]);
      }
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  EXPECT_EQ(seen.size(), kFlows);
  for (const auto& [tag, n] : seen) EXPECT_EQ(n, 1) << tag;
  EXPECT_GT(per_queue[0], 0);
  EXPECT_GT(per_queue[1], 0);
}

TEST(MultiQueueTapTest, TwoQueuesReceiveAndTransmit) {
  Port port("net_tap", "ltapmq", 2);
  ASSERT_NE(port.link(), nullptr);
  DpdkLink& link = *port.link();
  EXPECT_EQ(link.info().rx_queues, 2);
  EXPECT_FALSE(link.info().rss);
  RawSocket kernel(port.iface());
  ASSERT_TRUE(kernel.ok());
  const wire::MacAddress kernel_mac = testing::InterfaceMac(port.iface());
  ExpectFlowsSpreadOverQueues(link, kernel, kernel_mac, 1000);
  for (uint16_t q = 0; q < 2; ++q) {
    ASSERT_TRUE(TransmitOne(link, q, MakePacket(link.pool(q), UdpFrame({.source_mac = link.info().mac,
                                                                         .destination_mac = kernel_mac,
                                                                         .tag = 2000u + q}))));
  }
  auto frames = kernel.Receive(
      [](std::span<const uint8_t> f) { return TagOf(f) == 2000 || TagOf(f) == 2001; }, 2, kWait);
  EXPECT_EQ(frames.size(), 2u);
}

// --- net_af_packet on a veth pair ---------------------------------------

class AfPacketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Sh("ip link add lva type veth peer name lvb").ok());
    ASSERT_TRUE(Sh("ip link set lva up && ip link set lvb up").ok());
  }
  void TearDown() override { EXPECT_TRUE(Sh("ip link del lva").ok()); }
};

TEST_F(AfPacketTest, BothDirectionsAndSoftwareChecksums) {
  RawSocket kernel("lvb");
  ASSERT_TRUE(kernel.ok());
  Port port("net_af_packet", "lva", 1);
  ASSERT_NE(port.link(), nullptr);
  DpdkLink& link = *port.link();
  const LinkInfo& info = link.info();
  EXPECT_EQ(info.driver, "net_af_packet");
  EXPECT_FALSE(info.tx_tcp_checksum);
  EXPECT_FALSE(info.rx_checksum);
  EXPECT_FALSE(info.rss);
  const wire::MacAddress peer = testing::InterfaceMac("lvb");
  EXPECT_EQ(info.mac, testing::InterfaceMac("lva"));

  const std::vector<uint8_t> in = UdpFrame({.source_mac = peer, .destination_mac = info.mac, .tag = 50});
  ASSERT_TRUE(kernel.Send(in));
  std::vector<Packet*> got =
      ReceiveMatching(link, 0, [](const Packet& p) { return HasTag(p.bytes(), 50); }, 1, kWait);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(std::vector<uint8_t>(got[0]->bytes().begin(), got[0]->bytes().end()), in);
  EXPECT_EQ(got[0]->flags, 0u);  // no RX offload: the stack checks
  FreePacket(got[0]);

  // Offload asked of a port without it: computed in software on the way.
  const std::vector<uint8_t> out =
      TcpFrame({.source_mac = info.mac, .destination_mac = peer, .tag = 51, .payload_length = 333});
  ASSERT_TRUE(TransmitOne(link, 0, OffloadRequest(link.pool(0), out)));
  auto frames = kernel.Receive([](std::span<const uint8_t> f) { return HasTag(f, 51); }, 1, kWait);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], out);
}

TEST_F(AfPacketTest, TwoQueuePairs) {
  RawSocket kernel("lvb");
  ASSERT_TRUE(kernel.ok());
  Port port("net_af_packet", "lva", 2, ",qpairs=2");
  ASSERT_NE(port.link(), nullptr);
  ExpectFlowsSpreadOverQueues(*port.link(), kernel, testing::InterfaceMac("lvb"), 3000);
}

}  // namespace
}  // namespace locus::link

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (absl::Status s = locus::link::testing::EnterPrivateNetns(); !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 1;
  }
  auto eal = locus::link::DpdkEal::Init({"dpdk_link_test", "-l", "0-1", "--no-huge", "--no-pci",
                                         "-m", "512", "--log-level=pmd.net.tap:error",
                                         absl::StrCat("--vdev=", locus::link::kInitVdev,
                                                      ",iface=", locus::link::kInitIface)});
  if (!eal.ok()) {
    std::fprintf(stderr, "DPDK: %s\n", std::string(eal.status().message()).c_str());
    return 1;
  }
  return RUN_ALL_TESTS();
}
