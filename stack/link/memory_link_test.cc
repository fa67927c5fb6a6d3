#include "stack/link/memory_link.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "stack/link/checksum.h"
#include "stack/link/test_frames.h"
#include "stack/wire/endian.h"

namespace locus::link {
namespace {

using testing::FrameSpec;
using testing::MakePacket;
using testing::TagOf;
using testing::UdpFrame;

std::unique_ptr<MemoryLinkPair> MakePair(MemoryLinkConfig config = {}) {
  auto pair = MemoryLinkPair::Create(std::move(config));
  EXPECT_TRUE(pair.ok()) << pair.status();
  return std::move(pair).value();
}

// Sends tagged frames [first, first + count) on `queue`; returns how many
// the link took.
uint16_t SendTags(Link& link, uint16_t queue, uint32_t first, uint16_t count) {
  std::vector<Packet*> packets;
  for (uint32_t t = first; t < first + count; ++t) {
    packets.push_back(MakePacket(link.pool(queue), UdpFrame({.tag = t})));
  }
  const uint16_t sent = link.Transmit(queue, packets.data(), count);
  for (uint16_t i = sent; i < count; ++i) FreePacket(packets[i]);
  return sent;
}

// Receives everything waiting on `queue` and returns the tags, freeing
// the packets.
std::vector<int64_t> DrainTags(Link& link, uint16_t queue) {
  std::vector<int64_t> tags;
  Packet* packets[kMaxBurst];
  for (int round = 0; round < 1000; ++round) {
    const uint16_t n = link.Receive(queue, packets, kMaxBurst);
    if (n == 0) break;
    for (uint16_t i = 0; i < n; ++i) {
      tags.push_back(TagOf(packets[i]->bytes()));
      FreePacket(packets[i]);
    }
  }
  return tags;
}

TEST(MemoryLinkTest, RejectsBadConfig) {
  EXPECT_FALSE(MemoryLinkPair::Create({.queues = 0}).ok());
  EXPECT_FALSE(MemoryLinkPair::Create({.queues = kMemoryLinkMaxQueues + 1}).ok());
  EXPECT_TRUE(MemoryLinkPair::Create({.queues = kMemoryLinkMaxQueues, .ring_size = 2,
                                      .pool_size = kMaxBurst})
                  .ok());
  EXPECT_FALSE(MemoryLinkPair::Create({.ring_size = 3}).ok());
  EXPECT_FALSE(MemoryLinkPair::Create({.ring_size = 1}).ok());
  EXPECT_FALSE(MemoryLinkPair::Create({.pool_size = kMaxBurst - 1}).ok());
  EXPECT_FALSE(MemoryLinkPair::Create({.mtu = 67}).ok());
  EXPECT_FALSE(MemoryLinkPair::Create({.mtu = kPacketDataRoom - 17}).ok());
  EXPECT_TRUE(MemoryLinkPair::Create({.mtu = kPacketDataRoom - 18}).ok());
  EXPECT_FALSE(MemoryLinkPair::Create({.queues = 2, .reta = {0, 1, 2}}).ok());
}

TEST(MemoryLinkTest, InfoDescribesEndpoints) {
  auto pair = MakePair({.queues = 3, .mtu = 9000 < kPacketDataRoom ? 1400 : 1400});
  const LinkInfo& a = pair->a().info();
  EXPECT_EQ(a.driver, "memory");
  EXPECT_EQ(a.rx_queues, 3);
  EXPECT_EQ(a.tx_queues, 3);
  EXPECT_EQ(a.mtu, 1400);
  EXPECT_FALSE(a.tx_tcp_checksum);
  EXPECT_FALSE(a.rss);
  EXPECT_NE(a.mac, pair->b().info().mac);
}

TEST(MemoryLinkTest, DeliversBothWaysByteForByte) {
  auto pair = MakePair();
  const std::vector<uint8_t> frame = UdpFrame({.tag = 7, .payload_length = 1400});
  Packet* p = MakePacket(pair->a().pool(0), frame);
  ASSERT_EQ(pair->a().Transmit(0, &p, 1), 1);

  Packet* got[4];
  ASSERT_EQ(pair->b().Receive(0, got, 4), 1);
  EXPECT_EQ(std::vector<uint8_t>(got[0]->bytes().begin(), got[0]->bytes().end()), frame);
  EXPECT_EQ(got[0]->headroom(), kPacketHeadroom);
  EXPECT_EQ(got[0]->flags, 0u);
  // Echo it back on B's own buffer.
  ASSERT_EQ(pair->b().Transmit(0, got, 1), 1);
  ASSERT_EQ(pair->a().Receive(0, got, 4), 1);
  EXPECT_EQ(TagOf(got[0]->bytes()), 7);
  FreePacket(got[0]);
  EXPECT_EQ(pair->b().Receive(0, got, 4), 0);

  EXPECT_EQ(pair->a().stats(0).tx_packets, 1u);
  EXPECT_EQ(pair->a().stats(0).tx_bytes, frame.size());
  EXPECT_EQ(pair->a().stats(0).rx_packets, 1u);
  EXPECT_EQ(pair->b().stats(0).rx_bytes, frame.size());
}

TEST(MemoryLinkTest, CopiesIntoReceiversPoolAndReturnsSendersBuffer) {
  auto pair = MakePair({.queues = 2, .pool_size = 64});
  Link& a = pair->a();
  Link& b = pair->b();
  ASSERT_EQ(SendTags(a, 1, 0, 10), 10);
  // The sender's buffers are in flight until the receiver has copied them.
  EXPECT_EQ(a.pool(1).available(), 54u);

  Packet* got[kMaxBurst];
  ASSERT_EQ(b.Receive(1, got, kMaxBurst), 10);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(got[i]->pool, &b.pool(1));
  EXPECT_EQ(b.pool(1).available(), 54u);
  EXPECT_EQ(b.pool(0).available(), 64u);
  // Still out until A's owner touches queue 1 again (TX completion).
  EXPECT_EQ(a.pool(1).available(), 54u);
  EXPECT_EQ(a.Receive(1, got + 10, kMaxBurst - 10), 0);
  EXPECT_EQ(a.pool(1).available(), 64u);
  EXPECT_EQ(a.pool(0).available(), 64u);
  for (int i = 0; i < 10; ++i) FreePacket(got[i]);
  EXPECT_EQ(b.pool(1).available(), 64u);
}

TEST(MemoryLinkTest, DefaultSteeringKeepsTheQueueIndex) {
  auto pair = MakePair({.queues = 4});
  for (uint16_t q = 0; q < 4; ++q) ASSERT_EQ(SendTags(pair->a(), q, 100 * q, 3), 3);
  for (uint16_t q = 0; q < 4; ++q) {
    EXPECT_EQ(DrainTags(pair->b(), q),
              (std::vector<int64_t>{100 * q, 100 * q + 1, 100 * q + 2}));
  }
}

TEST(MemoryLinkTest, PluggableSteeringChoosesQueueAndHash) {
  MemoryLinkConfig config{.queues = 3};
  config.steering = [](std::span<const uint8_t> frame, uint16_t, uint16_t) {
    const uint32_t tag = static_cast<uint32_t>(TagOf(frame));
    return SteeringDecision{.queue = static_cast<uint16_t>(tag + 7),  // taken modulo 3
                            .hash_valid = true,
                            .hash = tag * 0x01010101u};
  };
  auto pair = MakePair(std::move(config));
  ASSERT_EQ(SendTags(pair->a(), 0, 0, 9), 9);
  Packet* got[kMaxBurst];
  for (uint16_t q = 0; q < 3; ++q) {
    const uint16_t n = pair->b().Receive(q, got, kMaxBurst);
    ASSERT_EQ(n, 3) << "queue " << q;
    for (uint16_t i = 0; i < n; ++i) {
      const uint32_t tag = static_cast<uint32_t>(TagOf(got[i]->bytes()));
      EXPECT_EQ((tag + 7) % 3, q);
      EXPECT_TRUE(got[i]->flags & kRxRssHashValid);
      EXPECT_EQ(got[i]->rss_hash, tag * 0x01010101u);
      FreePacket(got[i]);
    }
  }
}

TEST(MemoryLinkTest, FullRingRefusesTheRestAndRecovers) {
  auto pair = MakePair({.ring_size = 8});
  EXPECT_EQ(SendTags(pair->a(), 0, 0, 12), 8);
  EXPECT_EQ(pair->a().stats(0).tx_full, 4u);
  EXPECT_EQ(SendTags(pair->a(), 0, 8, 1), 0);
  std::vector<int64_t> tags = DrainTags(pair->b(), 0);
  EXPECT_EQ(tags.size(), 8u);
  // The consumer has copied them: the slots come back on the next send.
  EXPECT_EQ(SendTags(pair->a(), 0, 8, 8), 8);
  tags = DrainTags(pair->b(), 0);
  ASSERT_EQ(tags.size(), 8u);
  EXPECT_EQ(tags.front(), 8);
  EXPECT_EQ(pair->a().pool(0).available(), pair->a().pool(0).capacity() - 8);
}

TEST(MemoryLinkTest, EmptyReceiverPoolDropsFrames) {
  auto pair = MakePair({.ring_size = 64, .pool_size = kMaxBurst});
  ASSERT_EQ(SendTags(pair->a(), 0, 0, kMaxBurst), kMaxBurst);
  std::vector<Packet*> held;
  Packet* got[kMaxBurst];
  uint16_t n = pair->b().Receive(0, got, kMaxBurst);
  ASSERT_EQ(n, kMaxBurst);
  held.assign(got, got + n);  // B's whole pool is now in use
  pair->a().Receive(0, got, kMaxBurst);  // A reclaims its buffers
  ASSERT_EQ(SendTags(pair->a(), 0, 100, 5), 5);
  EXPECT_EQ(pair->b().Receive(0, got, kMaxBurst), 0);
  EXPECT_EQ(pair->b().stats(0).rx_dropped, 5u);
  for (Packet* p : held) FreePacket(p);
  ASSERT_EQ(SendTags(pair->a(), 0, 200, 1), 1);
  EXPECT_EQ(DrainTags(pair->b(), 0), std::vector<int64_t>{200});
}

TEST(MemoryLinkTest, FramesBeyondTheMtuAreDropped) {
  auto pair = MakePair({.mtu = 1000});
  // 1000-byte MTU: 1018 bytes on the wire with an 802.1Q tag.
  const uint16_t at_limit = 1018 - testing::kEthernetLength - testing::kIpv4Length - testing::kUdpLength;
  Packet* p[2] = {MakePacket(pair->a().pool(0), UdpFrame({.tag = 1, .payload_length = at_limit})),
                  MakePacket(pair->a().pool(0),
                             UdpFrame({.tag = 2, .payload_length = static_cast<uint16_t>(at_limit + 1)}))};
  ASSERT_EQ(pair->a().Transmit(0, p, 2), 2);
  EXPECT_EQ(DrainTags(pair->b(), 0), std::vector<int64_t>{1});
  EXPECT_EQ(pair->b().stats(0).rx_dropped, 1u);
}

TEST(MemoryLinkTest, KeepsOrderOverManyBursts) {
  auto pair = MakePair({.ring_size = 64});
  std::vector<int64_t> received;
  uint32_t next = 0;
  for (int round = 0; round < 200 && next < 5000; ++round) {
    next += SendTags(pair->a(), 0, next, 40);
    for (int64_t t : DrainTags(pair->b(), 0)) received.push_back(t);
  }
  for (int64_t t : DrainTags(pair->b(), 0)) received.push_back(t);
  ASSERT_EQ(received.size(), next);
  for (size_t i = 0; i < received.size(); ++i) ASSERT_EQ(received[i], static_cast<int64_t>(i));
}

// With emulated offload the receiver sees correct checksums filled in by
// "the port" and RX verdicts; the sender's buffer is not modified.
TEST(MemoryLinkTest, EmulatesChecksumOffload) {
  auto pair = MakePair({.checksum_offload = true});
  EXPECT_TRUE(pair->a().info().tx_tcp_checksum);
  EXPECT_TRUE(pair->a().info().rx_checksum);
  const std::vector<uint8_t> frame = testing::TcpFrame({.tag = 3, .payload_length = 100});
  Packet* p = MakePacket(pair->a().pool(0), frame);
  uint8_t* d = p->data();
  constexpr size_t kIp = testing::kEthernetLength;
  wire::StoreBe16(d + kIp + 10, 0);
  wire::StoreBe16(d + kIp + testing::kIpv4Length + 16, Ipv4PseudoHeaderSum(d + kIp));
  p->l2_length = testing::kEthernetLength;
  p->l3_length = testing::kIpv4Length;
  p->l4_length = testing::kTcpLength;
  p->flags = kTxIpv4Checksum | kTxTcpChecksum;
  const std::vector<uint8_t> sent_bytes(p->bytes().begin(), p->bytes().end());
  ASSERT_EQ(pair->a().Transmit(0, &p, 1), 1);
  EXPECT_EQ(std::vector<uint8_t>(p->bytes().begin(), p->bytes().end()), sent_bytes);

  Packet* got[2];
  ASSERT_EQ(pair->b().Receive(0, got, 2), 1);
  EXPECT_EQ(std::vector<uint8_t>(got[0]->bytes().begin(), got[0]->bytes().end()), frame);
  EXPECT_EQ(got[0]->flags, uint32_t{kRxIpChecksumGood | kRxL4ChecksumGood});
  EXPECT_EQ(got[0]->l2_length, 0);
  FreePacket(got[0]);

  std::vector<uint8_t> bad = testing::TcpFrame({.tag = 4});
  bad.back() ^= 0xff;
  Packet* q = MakePacket(pair->a().pool(0), bad);
  ASSERT_EQ(pair->a().Transmit(0, &q, 1), 1);
  ASSERT_EQ(pair->b().Receive(0, got, 2), 1);
  EXPECT_EQ(got[0]->flags, uint32_t{kRxIpChecksumGood | kRxL4ChecksumBad});
  FreePacket(got[0]);
}

TEST(MemoryLinkTest, WithoutOffloadReportsNoRxVerdicts) {
  auto pair = MakePair();
  ASSERT_EQ(SendTags(pair->a(), 0, 1, 1), 1);
  Packet* got[2];
  ASSERT_EQ(pair->b().Receive(0, got, 2), 1);
  EXPECT_EQ(got[0]->flags, 0u);
  FreePacket(got[0]);
}

TEST(MemoryLinkTest, DestroyingWithFramesInFlightReturnsEveryBuffer) {
  // HeapPacketPool asserts at destruction that all its packets are back;
  // ASan reports anything leaked.
  auto pair = MakePair({.queues = 2});
  ASSERT_EQ(SendTags(pair->a(), 0, 0, 20), 20);
  ASSERT_EQ(SendTags(pair->b(), 1, 0, 20), 20);
  Packet* got[kMaxBurst];
  const uint16_t n = pair->b().Receive(0, got, 5);
  ASSERT_EQ(n, 5);
  for (uint16_t i = 0; i < n; ++i) FreePacket(got[i]);
  pair.reset();
}

// Each endpoint's queue polled by its own thread: A sends tagged frames
// with a bounded window, B echoes every frame back on its own buffers, A
// checks that everything comes back once and in order.
TEST(MemoryLinkTest, EchoAcrossThreads) {
  constexpr uint32_t kFrames = 200000;
  constexpr uint32_t kWindow = 256;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto pair = MakePair({.queues = 2, .ring_size = 512, .pool_size = 4096});
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> echoed{0};

  auto echo = [&](uint16_t queue) {
    Link& b = pair->b();
    Packet* got[kMaxBurst];
    uint64_t count = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      const uint16_t n = b.Receive(queue, got, kMaxBurst);
      uint16_t sent = 0;
      for (int tries = 0; sent < n && tries < 1000000; ++tries) {
        sent = static_cast<uint16_t>(sent + b.Transmit(queue, got + sent,
                                                       static_cast<uint16_t>(n - sent)));
      }
      for (uint16_t i = sent; i < n; ++i) FreePacket(got[i]);
      count += sent;
      if (n == 0) std::this_thread::yield();
    }
    echoed.fetch_add(count);
  };

  auto client = [&](uint16_t queue, bool* ok, uint32_t* received_out) {
    Link& a = pair->a();
    uint32_t sent = 0;
    uint32_t received = 0;
    *ok = true;
    Packet* got[kMaxBurst];
    while (received < kFrames && std::chrono::steady_clock::now() < deadline) {
      if (sent < kFrames && sent - received < kWindow) {
        const uint16_t burst = static_cast<uint16_t>(
            std::min<uint32_t>({kMaxBurst, kFrames - sent, kWindow - (sent - received)}));
        sent += SendTags(a, queue, sent, burst);
      }
      const uint16_t n = a.Receive(queue, got, kMaxBurst);
      for (uint16_t i = 0; i < n; ++i) {
        if (TagOf(got[i]->bytes()) != received) *ok = false;
        ++received;
        FreePacket(got[i]);
      }
      if (n == 0) std::this_thread::yield();
    }
    *received_out = received;
  };

  bool ok0 = false, ok1 = false;
  uint32_t received0 = 0, received1 = 0;
  std::thread e0(echo, 0), e1(echo, 1);
  std::thread c0(client, 0, &ok0, &received0), c1(client, 1, &ok1, &received1);
  c0.join();
  c1.join();
  stop = true;
  e0.join();
  e1.join();
  EXPECT_EQ(received0, kFrames);
  EXPECT_EQ(received1, kFrames);
  EXPECT_TRUE(ok0);
  EXPECT_TRUE(ok1);
  EXPECT_EQ(echoed.load(), 2u * kFrames);
  EXPECT_EQ(pair->b().stats(0).rx_dropped + pair->a().stats(0).rx_dropped, 0u);
  // Everything is back home once each owner has reclaimed its TX slots.
  Packet* none[1];
  for (uint16_t q = 0; q < 2; ++q) {
    EXPECT_EQ(pair->a().Receive(q, none, 1), 0);
    EXPECT_EQ(pair->b().Receive(q, none, 1), 0);
    EXPECT_EQ(pair->a().pool(q).available(), 4096u);
    EXPECT_EQ(pair->b().pool(q).available(), 4096u);
  }
}

}  // namespace
}  // namespace locus::link
