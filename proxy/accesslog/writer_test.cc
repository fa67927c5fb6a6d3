#include "proxy/accesslog/writer.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace locus::proxy::accesslog {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    const size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      out.push_back(text.substr(start) + "<no newline>");
      break;
    }
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

// Polls `done` every millisecond for at most `limit`.
bool WaitFor(const std::function<bool()>& done,
             std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return done();
}

std::unique_ptr<AccessLogBuffer> MakeBuffer(uint32_t shard, uint32_t chunk_bytes = 4096,
                                            uint32_t chunk_count = 4) {
  AccessLogBufferOptions o;
  o.chunk_bytes = chunk_bytes;
  o.chunk_count = chunk_count;
  auto b = AccessLogBuffer::Create(shard, o);
  EXPECT_TRUE(b.ok()) << b.status();
  return b.ok() ? *std::move(b) : nullptr;
}

std::unique_ptr<AccessLogWriter> StartWriter(const std::string& path,
                                             std::vector<AccessLogBuffer*> buffers) {
  AccessLogWriterOptions o;
  o.path = path;
  o.idle_sleep = Duration::Millis(1);
  auto w = AccessLogWriter::Start(o, std::move(buffers));
  EXPECT_TRUE(w.ok()) << w.status();
  return w.ok() ? *std::move(w) : nullptr;
}

AccessLogRecord Record(uint32_t shard, uint32_t seq) {
  AccessLogRecord r;
  r.start_unix_micros = 1700000000000000 + seq;
  r.shard = shard;
  r.method = "GET";
  r.path = "/item";
  r.status = 200;
  r.retries = seq;  // the sequence number, readable back from the line
  return r;
}

TEST(AccessLogWriterTest, RejectsBadOptions) {
  auto b = MakeBuffer(0);
  AccessLogWriterOptions o;
  EXPECT_EQ(AccessLogWriter::Start(o, {b.get()}).status().code(),
            absl::StatusCode::kInvalidArgument);  // empty path
  o.path = TempPath("unused.log");
  EXPECT_FALSE(AccessLogWriter::Start(o, {}).ok());
  EXPECT_FALSE(AccessLogWriter::Start(o, {nullptr}).ok());
  o.idle_sleep = kMinWriterIdleSleep - Duration::Nanos(1);
  EXPECT_FALSE(AccessLogWriter::Start(o, {b.get()}).ok());
  o.idle_sleep = kMaxWriterIdleSleep + Duration::Nanos(1);
  EXPECT_FALSE(AccessLogWriter::Start(o, {b.get()}).ok());
  o.idle_sleep = kDefaultWriterIdleSleep;
  o.path = TempPath("no/such/dir/x.log");
  auto w = AccessLogWriter::Start(o, {b.get()});
  EXPECT_EQ(w.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(w.status().message().find("no/such/dir/x.log"), std::string::npos);
}

TEST(AccessLogWriterTest, WritesLinesAndAppendsToAnExistingFile) {
  const std::string path = TempPath("append.log");
  {
    std::ofstream f(path, std::ios::trunc);
    f << "existing line\n";
  }
  auto b = MakeBuffer(0);
  auto w = StartWriter(path, {b.get()});
  ASSERT_NE(w, nullptr);
  for (uint32_t i = 0; i < 3; ++i) ASSERT_TRUE(b->Log(Record(0, i), MonotonicNow()));
  b->Flush();
  ASSERT_TRUE(WaitFor([&] { return w->counters().lines_written == 3; }));
  w->Stop();
  w->Stop();  // idempotent

  const std::vector<std::string> lines = Lines(ReadFile(path));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "existing line");
  std::string expected;
  FormatJson(Record(0, 2), &expected);
  EXPECT_EQ(lines[3] + "\n", expected);
  const AccessLogWriterCounters n = w->counters();
  EXPECT_EQ(n.lines_written, 3u);
  EXPECT_EQ(n.bytes_written, b->counters().appended_bytes);
  EXPECT_EQ(n.chunks_written, 1u);
  EXPECT_EQ(n.write_errors, 0u);

  // A new file is created with kLogFileMode (less the umask).
  struct stat st;
  const std::string fresh = TempPath("fresh.log");
  unlink(fresh.c_str());
  auto w2 = StartWriter(fresh, {b.get()});
  ASSERT_NE(w2, nullptr);
  w2->Stop();
  ASSERT_EQ(stat(fresh.c_str(), &st), 0);
  const mode_t mask = umask(0);
  umask(mask);
  EXPECT_EQ(st.st_mode & 0777, kLogFileMode & ~mask);
}

TEST(AccessLogWriterTest, StopWritesWhatWasHandedOff) {
  const std::string path = TempPath("stop.log");
  unlink(path.c_str());
  auto b = MakeBuffer(0, 4096, 8);
  AccessLogWriterOptions o;
  o.path = path;
  o.idle_sleep = kMaxWriterIdleSleep;  // asleep when Stop comes
  auto started = AccessLogWriter::Start(o, {b.get()});
  ASSERT_TRUE(started.ok());
  auto w = *std::move(started);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  uint32_t n = 0;
  while (b->counters().chunks_handed_off < 5) ASSERT_TRUE(b->Log(Record(0, n++), MonotonicNow()));
  b->Flush();
  w->Stop();
  EXPECT_EQ(Lines(ReadFile(path)).size(), n);
  EXPECT_EQ(w->counters().lines_written, n);
}

// Several shards log concurrently into their buffers; one writer drains all
// of them. Every line that was not dropped is in the file, whole, and each
// shard's lines are in the order it logged them.
TEST(AccessLogWriterTest, ShardsAndWriterEndToEnd) {
  const std::string path = TempPath("e2e.log");
  unlink(path.c_str());
  constexpr uint32_t kShards = 3;
  constexpr uint32_t kLinesPerShard = 20000;
  std::vector<std::unique_ptr<AccessLogBuffer>> buffers;
  std::vector<AccessLogBuffer*> raw;
  for (uint32_t s = 0; s < kShards; ++s) {
    buffers.push_back(MakeBuffer(s, 8192, 4));
    raw.push_back(buffers.back().get());
  }
  auto w = StartWriter(path, raw);
  ASSERT_NE(w, nullptr);

  std::vector<std::thread> shards;
  for (uint32_t s = 0; s < kShards; ++s) {
    shards.emplace_back([&, s] {
      for (uint32_t i = 0; i < kLinesPerShard; ++i) {
        buffers[s]->Log(Record(s, i), MonotonicNow());
        buffers[s]->MaybeFlush(MonotonicNow());
        if (i % 64 == 0) std::this_thread::yield();
      }
    });
  }
  for (auto& t : shards) t.join();
  for (auto& b : buffers) b->Flush();  // the shards' threads are done
  w->Stop();

  uint64_t appended = 0, dropped = 0;
  for (auto& b : buffers) {
    appended += b->counters().appended_lines;
    dropped += b->counters().dropped_lines;
  }
  EXPECT_EQ(appended + dropped, uint64_t{kShards} * kLinesPerShard);
  EXPECT_EQ(w->counters().lines_written, appended);

  const std::vector<std::string> lines = Lines(ReadFile(path));
  ASSERT_EQ(lines.size(), appended);
  std::vector<int64_t> last(kShards, -1);
  for (const std::string& line : lines) {
    // Whole lines only: each parses back to one of the records.
    const size_t shard_at = line.find("\"shard\":");
    const size_t retries_at = line.find("\"retries\":");
    ASSERT_NE(shard_at, std::string::npos) << line;
    ASSERT_NE(retries_at, std::string::npos) << line;
    const uint32_t s = static_cast<uint32_t>(std::stoul(line.substr(shard_at + 8)));
    const uint32_t seq = static_cast<uint32_t>(std::stoul(line.substr(retries_at + 10)));
    ASSERT_LT(s, kShards);
    std::string expected;
    FormatJson(Record(s, seq), &expected);
    ASSERT_EQ(line + "\n", expected);
    ASSERT_GT(int64_t{seq}, last[s]) << "shard " << s << " out of order";
    last[s] = seq;
  }
}

TEST(AccessLogWriterTest, ReopenAfterRotation) {
  const std::string path = TempPath("rotate.log");
  const std::string rotated = path + ".1";
  unlink(path.c_str());
  unlink(rotated.c_str());
  auto b = MakeBuffer(0);
  auto w = StartWriter(path, {b.get()});
  ASSERT_NE(w, nullptr);

  for (uint32_t i = 0; i < 5; ++i) ASSERT_TRUE(b->Log(Record(0, i), MonotonicNow()));
  b->Flush();
  ASSERT_TRUE(WaitFor([&] { return w->counters().lines_written == 5; }));
  // What logrotate does: move the file, then signal.
  ASSERT_EQ(rename(path.c_str(), rotated.c_str()), 0);
  w->Reopen();
  ASSERT_TRUE(WaitFor([&] { return w->counters().reopens == 1; }));
  for (uint32_t i = 5; i < 8; ++i) ASSERT_TRUE(b->Log(Record(0, i), MonotonicNow()));
  b->Flush();
  w->Stop();

  EXPECT_EQ(Lines(ReadFile(rotated)).size(), 5u);
  const std::vector<std::string> now = Lines(ReadFile(path));
  ASSERT_EQ(now.size(), 3u);
  std::string expected;
  FormatJson(Record(0, 5), &expected);
  EXPECT_EQ(now[0] + "\n", expected);
  EXPECT_EQ(w->counters().reopen_errors, 0u);
}

TEST(AccessLogWriterTest, FailedReopenKeepsTheOldFile) {
  const std::string dir = TempPath("reopen_dir");
  const std::string moved = TempPath("reopen_dir_moved");
  mkdir(dir.c_str(), 0755);
  const std::string path = dir + "/x.log";
  unlink(path.c_str());
  auto b = MakeBuffer(0);
  auto w = StartWriter(path, {b.get()});
  ASSERT_NE(w, nullptr);
  // The directory goes away: the path cannot be opened any more.
  ASSERT_EQ(rename(dir.c_str(), moved.c_str()), 0);
  w->Reopen();
  ASSERT_TRUE(WaitFor([&] { return w->counters().reopen_errors == 1; }));
  ASSERT_TRUE(b->Log(Record(0, 1), MonotonicNow()));
  b->Flush();
  ASSERT_TRUE(WaitFor([&] { return w->counters().lines_written == 1; }));
  w->Stop();
  EXPECT_EQ(w->counters().reopens, 0u);
  EXPECT_EQ(Lines(ReadFile(moved + "/x.log")).size(), 1u);
  unlink((moved + "/x.log").c_str());
  rmdir(moved.c_str());
}

TEST(AccessLogWriterTest, WriteErrorsLoseLinesButRecycleChunks) {
  if (access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no /dev/full";
  auto b = MakeBuffer(0, 1024, 2);
  auto w = StartWriter("/dev/full", {b.get()});
  ASSERT_NE(w, nullptr);
  // Many more chunks than the buffer has: chunks come back despite errors.
  uint64_t lines = 0;
  for (int chunk = 0; chunk < 10; ++chunk) {
    ASSERT_TRUE(WaitFor([&] { return b->Append("0123456789\n", MonotonicNow()); }));
    ++lines;
    b->Flush();
  }
  ASSERT_TRUE(WaitFor([&] { return w->counters().lines_lost == lines; }));
  w->Stop();
  const AccessLogWriterCounters n = w->counters();
  EXPECT_EQ(n.write_errors, 10u);
  EXPECT_EQ(n.lines_written, 0u);
  EXPECT_EQ(n.bytes_written, 0u);
}

TEST(AccessLogWriterTest, Stdout) {
  auto b = MakeBuffer(0);
  auto w = StartWriter(std::string(kStdoutPath), {b.get()});
  ASSERT_NE(w, nullptr);
  ASSERT_TRUE(b->Append("access log to stdout\n", MonotonicNow()));
  b->Flush();
  w->Reopen();  // nothing to reopen
  ASSERT_TRUE(WaitFor([&] { return w->counters().lines_written == 1; }));
  w->Stop();
  EXPECT_EQ(w->counters().reopens, 0u);
  EXPECT_EQ(w->counters().reopen_errors, 0u);
  // stdout is still open.
  EXPECT_EQ(write(STDOUT_FILENO, "", 0), 0);
}

}  // namespace
}  // namespace locus::proxy::accesslog
