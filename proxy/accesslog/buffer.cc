#include "proxy/accesslog/buffer.h"

#include <bit>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace locus::proxy::accesslog {

absl::Status AccessLogBufferOptions::Validate() const {
  if (chunk_bytes < kMinChunkBytes || chunk_bytes > kMaxChunkBytes) {
    return absl::InvalidArgumentError(absl::StrCat("access log chunk_bytes ", chunk_bytes,
                                                   " outside [", kMinChunkBytes, ", ",
                                                   kMaxChunkBytes, "]"));
  }
  if (chunk_count < kMinChunkCount || chunk_count > kMaxChunkCount) {
    return absl::InvalidArgumentError(absl::StrCat("access log chunk_count ", chunk_count,
                                                   " outside [", kMinChunkCount, ", ",
                                                   kMaxChunkCount, "]"));
  }
  if (uint64_t{chunk_bytes} * chunk_count > kMaxBufferBytes) {
    return absl::InvalidArgumentError(absl::StrCat("access log chunks of ", chunk_bytes, " x ",
                                                   chunk_count, " bytes exceed ",
                                                   kMaxBufferBytes, " bytes per shard"));
  }
  if (flush_interval < kMinFlushInterval || flush_interval > kMaxFlushInterval) {
    return absl::InvalidArgumentError(
        absl::StrCat("access log flush_interval ", flush_interval.millis(), " ms outside [",
                     kMinFlushInterval.millis(), ", ", kMaxFlushInterval.millis(), "] ms"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<AccessLogBuffer>> AccessLogBuffer::Create(
    uint32_t shard, const AccessLogBufferOptions& options) {
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  std::unique_ptr<AccessLogBuffer> buffer(new AccessLogBuffer(shard, options));
  // Rings that can hold every chunk: a hand-off never finds its ring full.
  const uint32_t ring_capacity = std::bit_ceil(options.chunk_count);
  auto full = SpscRing<AccessLogChunk*>::Create(ring_capacity);
  if (!full.ok()) return full.status();
  auto free = SpscRing<AccessLogChunk*>::Create(ring_capacity);
  if (!free.ok()) return free.status();
  buffer->full_ = *std::move(full);
  buffer->free_ = *std::move(free);
  // The creating thread plays the writer's part once: every chunk starts
  // free. Starting the shard and writer threads publishes these writes.
  for (uint32_t i = 0; i < options.chunk_count; ++i) {
    AccessLogChunk* chunk = &buffer->chunks_[i];
    chunk->data = buffer->storage_.get() + size_t{i} * options.chunk_bytes;
    buffer->free_->Enqueue(chunk);
  }
  return buffer;
}

AccessLogBuffer::AccessLogBuffer(uint32_t shard, const AccessLogBufferOptions& options)
    : shard_(shard),
      options_(options),
      storage_(new char[size_t{options.chunk_count} * options.chunk_bytes]),
      chunks_(new AccessLogChunk[options.chunk_count]) {
  scratch_.reserve(kMaxJsonLineBytes);
}

bool AccessLogBuffer::Append(std::string_view line, Instant now) {
  if (line.size() > options_.chunk_bytes) {
    Bump(oversized_lines_);
    Bump(dropped_lines_);
    return false;
  }
  if (current_ != nullptr && options_.chunk_bytes - current_->size < line.size()) HandOff();
  if (current_ == nullptr) {
    if (!free_->Dequeue(&current_)) {
      current_ = nullptr;
      Bump(dropped_lines_);
      return false;
    }
    current_->size = 0;
    current_->lines = 0;
    current_->first_line_at = now;
  }
  std::memcpy(current_->data + current_->size, line.data(), line.size());
  current_->size += static_cast<uint32_t>(line.size());
  ++current_->lines;
  Bump(appended_lines_);
  Bump(appended_bytes_, line.size());
  // A full chunk goes now rather than with the next line.
  if (current_->size == options_.chunk_bytes) HandOff();
  return true;
}

bool AccessLogBuffer::Log(const AccessLogRecord& record, Instant now) {
  scratch_.clear();  // keeps its capacity
  FormatJson(record, &scratch_);
  return Append(scratch_, now);
}

void AccessLogBuffer::MaybeFlush(Instant now) {
  if (current_ != nullptr && current_->size > 0 &&
      now - current_->first_line_at >= options_.flush_interval) {
    HandOff();
  }
}

void AccessLogBuffer::Flush() {
  if (current_ != nullptr && current_->size > 0) HandOff();
}

void AccessLogBuffer::HandOff() {
  // Cannot fail: the ring holds every chunk (see Create).
  const bool queued = full_->Enqueue(current_);
  static_cast<void>(queued);
  current_ = nullptr;
  Bump(chunks_handed_off_);
}

AccessLogChunk* AccessLogBuffer::TakeFull() {
  AccessLogChunk* chunk = nullptr;
  return full_->Dequeue(&chunk) ? chunk : nullptr;
}

void AccessLogBuffer::Recycle(AccessLogChunk* chunk) {
  const bool queued = free_->Enqueue(chunk);  // cannot fail, as in HandOff
  static_cast<void>(queued);
}

AccessLogBufferCounters AccessLogBuffer::counters() const {
  AccessLogBufferCounters c;
  c.appended_lines = appended_lines_.load(std::memory_order_relaxed);
  c.appended_bytes = appended_bytes_.load(std::memory_order_relaxed);
  c.dropped_lines = dropped_lines_.load(std::memory_order_relaxed);
  c.oversized_lines = oversized_lines_.load(std::memory_order_relaxed);
  c.chunks_handed_off = chunks_handed_off_.load(std::memory_order_relaxed);
  return c;
}

}  // namespace locus::proxy::accesslog
