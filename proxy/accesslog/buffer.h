// A shard's access-log buffer: the shard appends formatted lines, a writer
// thread takes them away, and neither ever waits for the other.
//
// Lines go into fixed-size chunks allocated once, at Create(). The shard
// (the single producer) fills its current chunk; a chunk that is full, or
// whose first line is older than flush_interval when the shard calls
// MaybeFlush(now), goes to the writer through the `full` SPSC ring. The
// writer (the single consumer) writes it and returns it through the `free`
// ring. Both rings can hold every chunk, so an enqueue never fails. When
// the shard needs a chunk and none is free, the line is dropped and counted
// (dropped_lines): the data path never blocks on the disk.
//
// Lines are never split across chunks, and chunks travel in FIFO order, so
// the writer sees a shard's lines whole and in the order they were logged.
//
// Threads. Producer methods (Append, Log, MaybeFlush, Flush) are called by
// one thread at a time (the shard; after it stops, whoever joined it);
// consumer methods (TakeFull, Recycle) likewise by the writer. counters()
// may be read from anywhere.
#ifndef LOCUS_PROXY_ACCESSLOG_BUFFER_H_
#define LOCUS_PROXY_ACCESSLOG_BUFFER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proxy/accesslog/json.h"
#include "proxy/accesslog/record.h"
#include "stack/base/spsc_ring.h"
#include "stack/base/time.h"

namespace locus::proxy::accesslog {

// 64 KiB holds a hundred-odd typical lines and any line FormatJson makes
// (kMaxJsonLineBytes), and is one large write for the writer.
inline constexpr uint32_t kDefaultChunkBytes = 64 * 1024;
inline constexpr uint32_t kMinChunkBytes = 64;
inline constexpr uint32_t kMaxChunkBytes = 16 * 1024 * 1024;
// 16 x 64 KiB = 1 MiB per shard: at 50k requests/s of 400-byte lines, about
// 50 ms of log before lines drop if the writer stalls.
inline constexpr uint32_t kDefaultChunkCount = 16;
inline constexpr uint32_t kMinChunkCount = 1;
inline constexpr uint32_t kMaxChunkCount = 4096;
// chunk_bytes x chunk_count, per shard.
inline constexpr uint64_t kMaxBufferBytes = uint64_t{256} * 1024 * 1024;
// How long a line may wait in a partly filled chunk.
inline constexpr Duration kDefaultFlushInterval = Duration::Millis(100);
inline constexpr Duration kMinFlushInterval = Duration::Millis(1);
inline constexpr Duration kMaxFlushInterval = Duration::Seconds(60);

static_assert(kDefaultChunkBytes >= kMaxJsonLineBytes,
              "every formatted line must fit in a default chunk");

struct AccessLogBufferOptions {
  uint32_t chunk_bytes = kDefaultChunkBytes;
  uint32_t chunk_count = kDefaultChunkCount;
  Duration flush_interval = kDefaultFlushInterval;

  // InvalidArgument when a value is outside [kMin*, kMax*] or the chunks
  // total more than kMaxBufferBytes.
  absl::Status Validate() const;
};

// A chunk handed to the writer: `size` bytes of whole lines at `data`.
struct AccessLogChunk {
  char* data = nullptr;
  uint32_t size = 0;
  uint32_t lines = 0;
  Instant first_line_at;  // when its first line was appended
};

struct AccessLogBufferCounters {
  uint64_t appended_lines = 0;
  uint64_t appended_bytes = 0;
  uint64_t dropped_lines = 0;     // no free chunk, or longer than a chunk
  uint64_t oversized_lines = 0;   // of dropped_lines: longer than a chunk
  uint64_t chunks_handed_off = 0;
};

class AccessLogBuffer {
 public:
  static absl::StatusOr<std::unique_ptr<AccessLogBuffer>> Create(
      uint32_t shard, const AccessLogBufferOptions& options = AccessLogBufferOptions());

  AccessLogBuffer(const AccessLogBuffer&) = delete;
  AccessLogBuffer& operator=(const AccessLogBuffer&) = delete;

  // --- Producer (the shard) ------------------------------------------------

  // Copies `line` (which should end with '\n') into the current chunk,
  // handing the chunk to the writer first when the line does not fit.
  // False when the line was dropped (counted). `now` is the shard's clock.
  bool Append(std::string_view line, Instant now);

  // FormatJson into a scratch string reserved at Create(), then Append.
  bool Log(const AccessLogRecord& record, Instant now);

  // Hands the current chunk to the writer if its first line is at least
  // flush_interval old. Called by the shard once per poll.
  void MaybeFlush(Instant now);

  // Hands the current chunk to the writer now, if it holds anything (at
  // shutdown, before AccessLogWriter::Stop).
  void Flush();

  // --- Consumer (the writer) -----------------------------------------------

  // The oldest chunk handed off, or nullptr. The caller owns it until
  // Recycle().
  AccessLogChunk* TakeFull();
  // Gives a chunk taken with TakeFull back to the shard.
  void Recycle(AccessLogChunk* chunk);

  // --- Anyone --------------------------------------------------------------

  uint32_t shard() const { return shard_; }
  const AccessLogBufferOptions& options() const { return options_; }
  AccessLogBufferCounters counters() const;

 private:
  AccessLogBuffer(uint32_t shard, const AccessLogBufferOptions& options);
  void HandOff();
  void Bump(std::atomic<uint64_t>& counter, uint64_t by = 1) {
    // Single writer: a plain load and store, no locked instruction.
    counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }

  const uint32_t shard_;
  const AccessLogBufferOptions options_;
  std::unique_ptr<char[]> storage_;
  std::unique_ptr<AccessLogChunk[]> chunks_;
  std::unique_ptr<SpscRing<AccessLogChunk*>> full_;  // shard -> writer
  std::unique_ptr<SpscRing<AccessLogChunk*>> free_;  // writer -> shard

  // Producer state.
  AccessLogChunk* current_ = nullptr;
  std::string scratch_;
  alignas(kCacheLineSize) std::atomic<uint64_t> appended_lines_{0};
  std::atomic<uint64_t> appended_bytes_{0};
  std::atomic<uint64_t> dropped_lines_{0};
  std::atomic<uint64_t> oversized_lines_{0};
  std::atomic<uint64_t> chunks_handed_off_{0};
};

}  // namespace locus::proxy::accesslog

#endif  // LOCUS_PROXY_ACCESSLOG_BUFFER_H_
