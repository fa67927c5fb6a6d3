// The access-log writer: one thread that drains every shard's
// AccessLogBuffer and writes the chunks to a file opened with O_APPEND (or to
// stdout for path "-"). It is the only place the access log touches the
// disk; shards never wait for it.
//
// Each pass takes at most kMaxChunksPerBufferPerPass chunks from each buffer
// in turn (so one busy shard cannot starve the others); a pass that finds
// nothing sleeps idle_sleep. A chunk is written whole with write(2) (retried
// on short writes and EINTR); if writing fails, the chunk's lines are
// counted lost and the chunk is recycled anyway, so a full disk costs log
// lines, never shard memory or shard time. After a write that stopped in the
// middle of a line, the next write starts with '\n' so that only the broken
// line is damaged.
//
// Reopen() (for logrotate: the daemon calls it on SIGHUP) only sets a flag;
// the thread opens the path again before its next pass, and keeps the old
// file when the open fails (counted in reopen_errors). Stop() writes every
// chunk already handed off, closes the file and joins. Lines still in a
// shard's current chunk are not visible to the writer: the daemon stops the
// shards and calls AccessLogBuffer::Flush() on each first.
#ifndef LOCUS_PROXY_ACCESSLOG_WRITER_H_
#define LOCUS_PROXY_ACCESSLOG_WRITER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proxy/accesslog/buffer.h"
#include "stack/base/time.h"

namespace locus::proxy::accesslog {

inline constexpr std::string_view kStdoutPath = "-";
inline constexpr uint32_t kMaxChunksPerBufferPerPass = 4;
inline constexpr Duration kDefaultWriterIdleSleep = Duration::Millis(5);
inline constexpr Duration kMinWriterIdleSleep = Duration::Micros(100);
inline constexpr Duration kMaxWriterIdleSleep = Duration::Seconds(1);
// write(2) calls per chunk before the rest of it is given up (each call
// either progresses or fails; EAGAIN on a non-blocking stdout waits up to
// kWriteStallPoll for room first).
inline constexpr uint32_t kMaxWriteCallsPerChunk = 64;
inline constexpr Duration kWriteStallPoll = Duration::Millis(100);
// Log files are created rw-r----- : they hold client addresses and headers.
inline constexpr uint32_t kLogFileMode = 0640;

struct AccessLogWriterOptions {
  std::string path;  // a file, or "-" for stdout
  Duration idle_sleep = kDefaultWriterIdleSleep;
};

struct AccessLogWriterCounters {
  uint64_t lines_written = 0;
  uint64_t bytes_written = 0;
  uint64_t chunks_written = 0;
  uint64_t write_errors = 0;   // chunks not written whole
  uint64_t lines_lost = 0;     // lines of those chunks
  uint64_t reopens = 0;        // successful reopens
  uint64_t reopen_errors = 0;
};

class AccessLogWriter {
 public:
  // Opens the file (creating it, mode kLogFileMode) and starts the thread.
  // `buffers` must not be empty, and must outlive the writer; the writer is
  // their only consumer.
  static absl::StatusOr<std::unique_ptr<AccessLogWriter>> Start(
      const AccessLogWriterOptions& options, std::vector<AccessLogBuffer*> buffers);

  ~AccessLogWriter();  // Stop()
  AccessLogWriter(const AccessLogWriter&) = delete;
  AccessLogWriter& operator=(const AccessLogWriter&) = delete;

  // Asks the thread to reopen the path. Stores a lock-free atomic flag and
  // nothing else, so a signal handler may call it. No-op for stdout.
  void Reopen() { reopen_requested_.store(true, std::memory_order_release); }

  // Writes what the buffers have handed off, closes the file, joins the
  // thread. Idempotent; call it from the thread that started the writer.
  void Stop();

  AccessLogWriterCounters counters() const;

 private:
  AccessLogWriter(const AccessLogWriterOptions& options, std::vector<AccessLogBuffer*> buffers,
                  int fd);
  void Run();
  // Takes up to `per_buffer` chunks from each buffer; returns how many.
  uint64_t Pass(uint64_t per_buffer);
  void WriteChunk(const AccessLogChunk& chunk);
  // Bytes written before an error (== n when all went).
  size_t WriteAll(const char* p, size_t n);
  void DoReopen();
  static void Bump(std::atomic<uint64_t>& c, uint64_t by = 1) {
    c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }

  const AccessLogWriterOptions options_;
  const std::vector<AccessLogBuffer*> buffers_;
  const bool to_stdout_;
  int fd_;                     // writer thread only (after Start)
  bool mid_line_ = false;      // the last write stopped inside a line
  std::atomic<bool> stop_{false};
  std::atomic<bool> reopen_requested_{false};
  static_assert(std::atomic<bool>::is_always_lock_free);
  std::thread thread_;

  std::atomic<uint64_t> lines_written_{0};
  std::atomic<uint64_t> bytes_written_{0};
  std::atomic<uint64_t> chunks_written_{0};
  std::atomic<uint64_t> write_errors_{0};
  std::atomic<uint64_t> lines_lost_{0};
  std::atomic<uint64_t> reopens_{0};
  std::atomic<uint64_t> reopen_errors_{0};
};

}  // namespace locus::proxy::accesslog

#endif  // LOCUS_PROXY_ACCESSLOG_WRITER_H_
