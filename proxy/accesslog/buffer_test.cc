#include "proxy/accesslog/buffer.h"

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace locus::proxy::accesslog {
namespace {

std::unique_ptr<AccessLogBuffer> Make(uint32_t chunk_bytes, uint32_t chunk_count,
                                      Duration flush = kDefaultFlushInterval) {
  AccessLogBufferOptions o;
  o.chunk_bytes = chunk_bytes;
  o.chunk_count = chunk_count;
  o.flush_interval = flush;
  auto b = AccessLogBuffer::Create(7, o);
  EXPECT_TRUE(b.ok()) << b.status();
  return b.ok() ? *std::move(b) : nullptr;
}

// A 16-byte line "line NNNNNNNNNN\n".
std::string Line16(uint32_t n) {
  char buf[17];
  snprintf(buf, sizeof(buf), "line %010u\n", n);
  return std::string(buf, 16);
}

std::string ChunkText(const AccessLogChunk* c) { return std::string(c->data, c->size); }

const Instant kT0 = Instant::FromNanos(1000000000);

TEST(AccessLogBufferOptionsTest, LimitsAtTheEdges) {
  AccessLogBufferOptions o;
  EXPECT_TRUE(o.Validate().ok());
  o.chunk_bytes = kMinChunkBytes;
  EXPECT_TRUE(o.Validate().ok());
  o.chunk_bytes = kMinChunkBytes - 1;
  EXPECT_FALSE(o.Validate().ok());
  o.chunk_bytes = kMaxChunkBytes;
  o.chunk_count = 16;
  EXPECT_TRUE(o.Validate().ok());
  o.chunk_bytes = kMaxChunkBytes + 1;
  EXPECT_FALSE(o.Validate().ok());

  o = AccessLogBufferOptions();
  o.chunk_count = kMinChunkCount;
  EXPECT_TRUE(o.Validate().ok());
  o.chunk_count = kMinChunkCount - 1;
  EXPECT_FALSE(o.Validate().ok());
  o.chunk_count = kMaxChunkCount;
  EXPECT_TRUE(o.Validate().ok());
  o.chunk_count = kMaxChunkCount + 1;
  EXPECT_FALSE(o.Validate().ok());

  // The total per shard: at kMaxBufferBytes and one chunk more.
  o.chunk_bytes = kMaxChunkBytes;
  o.chunk_count = static_cast<uint32_t>(kMaxBufferBytes / kMaxChunkBytes);
  EXPECT_TRUE(o.Validate().ok());
  o.chunk_count += 1;
  EXPECT_FALSE(o.Validate().ok());

  o = AccessLogBufferOptions();
  o.flush_interval = kMinFlushInterval;
  EXPECT_TRUE(o.Validate().ok());
  o.flush_interval = kMinFlushInterval - Duration::Nanos(1);
  EXPECT_FALSE(o.Validate().ok());
  o.flush_interval = kMaxFlushInterval;
  EXPECT_TRUE(o.Validate().ok());
  o.flush_interval = kMaxFlushInterval + Duration::Nanos(1);
  EXPECT_FALSE(o.Validate().ok());

  o.flush_interval = Duration::Zero();
  EXPECT_FALSE(AccessLogBuffer::Create(0, o).ok());
}

TEST(AccessLogBufferTest, NothingIsHandedOffUntilAChunkFillsOrAges) {
  auto b = Make(64, 4);
  EXPECT_EQ(b->TakeFull(), nullptr);
  ASSERT_TRUE(b->Append(Line16(1), kT0));
  EXPECT_EQ(b->TakeFull(), nullptr);
  b->MaybeFlush(kT0 + kDefaultFlushInterval - Duration::Nanos(1));
  EXPECT_EQ(b->TakeFull(), nullptr);
  b->MaybeFlush(kT0 + kDefaultFlushInterval);
  AccessLogChunk* c = b->TakeFull();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(ChunkText(c), Line16(1));
  EXPECT_EQ(c->lines, 1u);
  EXPECT_EQ(c->first_line_at, kT0);
  b->Recycle(c);
  // No current chunk, or an empty one: nothing to flush.
  b->MaybeFlush(kT0 + Duration::Seconds(10));
  b->Flush();
  EXPECT_EQ(b->TakeFull(), nullptr);
}

TEST(AccessLogBufferTest, AgeCountsFromTheFirstLineOfTheChunk) {
  auto b = Make(1024, 2, Duration::Millis(100));
  ASSERT_TRUE(b->Append(Line16(1), kT0));
  ASSERT_TRUE(b->Append(Line16(2), kT0 + Duration::Millis(90)));
  b->MaybeFlush(kT0 + Duration::Millis(99));
  EXPECT_EQ(b->TakeFull(), nullptr);
  b->MaybeFlush(kT0 + Duration::Millis(100));
  AccessLogChunk* c = b->TakeFull();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(ChunkText(c), Line16(1) + Line16(2));
}

TEST(AccessLogBufferTest, ChunkRotation) {
  auto b = Make(64, 4);
  // Four 16-byte lines fill a 64-byte chunk exactly: it goes at once.
  for (uint32_t i = 0; i < 4; ++i) ASSERT_TRUE(b->Append(Line16(i), kT0));
  AccessLogChunk* c = b->TakeFull();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->size, 64u);
  EXPECT_EQ(c->lines, 4u);
  EXPECT_EQ(ChunkText(c), Line16(0) + Line16(1) + Line16(2) + Line16(3));
  EXPECT_EQ(b->TakeFull(), nullptr);
  b->Recycle(c);

  // 3 x 20 bytes leave 4: the next 20-byte line starts a new chunk and the
  // old one goes whole. Lines are never split.
  const std::string l20 = "twenty bytes line..\n";
  ASSERT_EQ(l20.size(), 20u);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(b->Append(l20, kT0));
  EXPECT_EQ(b->TakeFull(), nullptr);
  ASSERT_TRUE(b->Append("x\n", kT0));  // 62 bytes: still fits
  ASSERT_TRUE(b->Append(l20, kT0 + Duration::Millis(1)));
  c = b->TakeFull();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(ChunkText(c), l20 + l20 + l20 + "x\n");
  EXPECT_EQ(c->lines, 4u);
  b->Recycle(c);
  b->Flush();
  c = b->TakeFull();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(ChunkText(c), l20);
  EXPECT_EQ(c->first_line_at, kT0 + Duration::Millis(1));
  b->Recycle(c);

  const AccessLogBufferCounters n = b->counters();
  EXPECT_EQ(n.appended_lines, 9u);
  EXPECT_EQ(n.appended_bytes, 64u + 62u + 20u);
  EXPECT_EQ(n.dropped_lines, 0u);
  EXPECT_EQ(n.chunks_handed_off, 3u);
}

TEST(AccessLogBufferTest, LineOfExactlyAChunkFitsAndOneMoreByteDrops) {
  auto b = Make(64, 2);
  const std::string at_limit(63, 'a');
  ASSERT_TRUE(b->Append(at_limit + "\n", kT0));
  AccessLogChunk* c = b->TakeFull();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->size, 64u);
  b->Recycle(c);
  EXPECT_FALSE(b->Append(at_limit + "a\n", kT0));
  const AccessLogBufferCounters n = b->counters();
  EXPECT_EQ(n.oversized_lines, 1u);
  EXPECT_EQ(n.dropped_lines, 1u);
  EXPECT_EQ(n.appended_lines, 1u);
}

TEST(AccessLogBufferTest, DropsWhenEveryChunkIsWithTheWriter) {
  // chunk_count chunks of 4 lines: 4 * chunk_count lines fit (the limit);
  // the next one finds no free chunk and is dropped.
  for (uint32_t count : {1u, 2u, 3u}) {
    auto b = Make(64, count);
    uint32_t seq = 0;
    for (uint32_t i = 0; i < 4 * count; ++i) ASSERT_TRUE(b->Append(Line16(seq++), kT0)) << i;
    EXPECT_FALSE(b->Append(Line16(seq), kT0));
    EXPECT_FALSE(b->Append(Line16(seq), kT0));
    EXPECT_EQ(b->counters().dropped_lines, 2u);
    EXPECT_EQ(b->counters().oversized_lines, 0u);

    // The writer returns one chunk: logging resumes, and what was kept is
    // intact and in order.
    std::vector<AccessLogChunk*> taken;
    while (AccessLogChunk* c = b->TakeFull()) taken.push_back(c);
    ASSERT_EQ(taken.size(), count);
    std::string all;
    for (AccessLogChunk* c : taken) all += ChunkText(c);
    std::string expected;
    for (uint32_t i = 0; i < 4 * count; ++i) expected += Line16(i);
    EXPECT_EQ(all, expected);
    b->Recycle(taken[0]);
    EXPECT_TRUE(b->Append(Line16(seq++), kT0));
    EXPECT_EQ(b->counters().dropped_lines, 2u);
    for (size_t i = 1; i < taken.size(); ++i) b->Recycle(taken[i]);
  }
}

TEST(AccessLogBufferTest, DropWhenAPartialChunkCannotBeReplaced) {
  // One chunk, partly filled, then a line that does not fit: the chunk goes
  // to the writer, no chunk is free, the line drops.
  auto b = Make(64, 1);
  ASSERT_TRUE(b->Append(std::string(50, 'a') + "\n", kT0));
  EXPECT_FALSE(b->Append(std::string(19, 'b') + "\n", kT0));
  EXPECT_EQ(b->counters().dropped_lines, 1u);
  AccessLogChunk* c = b->TakeFull();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->size, 51u);
  b->Recycle(c);
  EXPECT_TRUE(b->Append(std::string(19, 'b') + "\n", kT0));
}

TEST(AccessLogBufferTest, LogFormatsTheRecord) {
  auto b = Make(kDefaultChunkBytes, 2);
  AccessLogRecord r;
  r.method = "GET";
  r.path = "/";
  r.status = 200;
  ASSERT_TRUE(b->Log(r, kT0));
  b->Flush();
  AccessLogChunk* c = b->TakeFull();
  ASSERT_NE(c, nullptr);
  std::string expected;
  FormatJson(r, &expected);
  EXPECT_EQ(ChunkText(c), expected);
}

TEST(AccessLogBufferTest, LongestRecordFitsADefaultChunk) {
  auto b = Make(kDefaultChunkBytes, 1);
  const std::string worst(3 * kMaxJsonValueBytes, '\x01');
  AccessLogRecord r;
  r.listener = r.method = r.authority = r.path = r.protocol = r.response_flags = worst;
  r.upstream_pool = r.route = r.user_agent = r.x_forwarded_for = r.request_id = worst;
  EXPECT_TRUE(b->Log(r, kT0));
  EXPECT_EQ(b->counters().dropped_lines, 0u);
}

// One producer thread and one consumer thread, as a shard and the writer:
// every line that was not dropped arrives whole and in order.
TEST(AccessLogBufferTest, ProducerAndConsumerThreads) {
  auto b = Make(256, 4);
  constexpr uint32_t kLines = 200000;
  std::atomic<bool> producer_done{false};
  std::thread producer([&] {
    Instant now = kT0;
    for (uint32_t i = 0; i < kLines; ++i) {
      b->Append(Line16(i), now);
      now += Duration::Micros(10);
      b->MaybeFlush(now);
    }
    b->Flush();
    producer_done.store(true, std::memory_order_release);
  });

  std::string received;
  uint64_t received_lines = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    const bool done = producer_done.load(std::memory_order_acquire);
    AccessLogChunk* c = b->TakeFull();
    if (c == nullptr) {
      if (done) break;  // the final Flush happened before `done`
      std::this_thread::yield();
      continue;
    }
    received.append(c->data, c->size);
    received_lines += c->lines;
    b->Recycle(c);
  }
  producer.join();

  const AccessLogBufferCounters n = b->counters();
  EXPECT_EQ(n.appended_lines + n.dropped_lines, kLines);
  EXPECT_EQ(received_lines, n.appended_lines);
  ASSERT_EQ(received.size(), received_lines * 16);
  int64_t last = -1;
  for (size_t off = 0; off < received.size(); off += 16) {
    const std::string line = received.substr(off, 16);
    ASSERT_EQ(line.rfind("line ", 0), 0u) << off;
    ASSERT_EQ(line.back(), '\n') << off;
    const int64_t seq = std::stoll(line.substr(5, 10));
    ASSERT_GT(seq, last) << off;
    last = seq;
  }
  EXPECT_GT(received_lines, 0u);
}

}  // namespace
}  // namespace locus::proxy::accesslog
