#include "proxy/accesslog/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <limits>

#include "absl/strings/str_cat.h"

namespace locus::proxy::accesslog {
namespace {

int OpenLog(const std::string& path) {
  int fd;
  do {
    fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, kLogFileMode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

void SleepFor(Duration d) {
  timespec ts{static_cast<time_t>(d.nanos() / 1000000000),
              static_cast<long>(d.nanos() % 1000000000)};
  nanosleep(&ts, nullptr);  // an early wake-up only shortens one idle pass
}

}  // namespace

absl::StatusOr<std::unique_ptr<AccessLogWriter>> AccessLogWriter::Start(
    const AccessLogWriterOptions& options, std::vector<AccessLogBuffer*> buffers) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("access log path is empty (use \"-\" for stdout)");
  }
  if (options.idle_sleep < kMinWriterIdleSleep || options.idle_sleep > kMaxWriterIdleSleep) {
    return absl::InvalidArgumentError(absl::StrCat(
        "access log writer idle_sleep ", options.idle_sleep.micros(), " us outside [",
        kMinWriterIdleSleep.micros(), ", ", kMaxWriterIdleSleep.micros(), "] us"));
  }
  if (buffers.empty()) return absl::InvalidArgumentError("access log writer has no buffers");
  for (const AccessLogBuffer* b : buffers) {
    if (b == nullptr) return absl::InvalidArgumentError("access log writer: null buffer");
  }
  int fd = STDOUT_FILENO;
  if (options.path != kStdoutPath) {
    fd = OpenLog(options.path);
    if (fd < 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot open access log ", options.path, ": ", strerror(errno)));
    }
  }
  std::unique_ptr<AccessLogWriter> writer(new AccessLogWriter(options, std::move(buffers), fd));
  writer->thread_ = std::thread([w = writer.get()] { w->Run(); });
  pthread_setname_np(writer->thread_.native_handle(), "accesslog");
  return writer;
}

AccessLogWriter::AccessLogWriter(const AccessLogWriterOptions& options,
                                 std::vector<AccessLogBuffer*> buffers, int fd)
    : options_(options),
      buffers_(std::move(buffers)),
      to_stdout_(options.path == kStdoutPath),
      fd_(fd) {}

AccessLogWriter::~AccessLogWriter() { Stop(); }

void AccessLogWriter::Stop() {
  if (!thread_.joinable()) return;
  stop_.store(true, std::memory_order_release);
  thread_.join();
}

void AccessLogWriter::Run() {
  while (!stop_.load(std::memory_order_acquire)) {
    if (reopen_requested_.exchange(false, std::memory_order_acq_rel)) DoReopen();
    if (Pass(kMaxChunksPerBufferPerPass) == 0) SleepFor(options_.idle_sleep);
  }
  if (reopen_requested_.exchange(false, std::memory_order_acq_rel)) DoReopen();
  // The final drain. Shards have stopped (see the header), so each buffer
  // holds at most chunk_count chunks and a couple of passes empty them; the
  // bound only guards against a shard still logging.
  uint64_t bound = 2;
  for (const AccessLogBuffer* b : buffers_) bound += b->options().chunk_count;
  for (uint64_t i = 0; i < bound; ++i) {
    if (Pass(std::numeric_limits<uint64_t>::max()) == 0) break;
  }
  if (!to_stdout_ && fd_ >= 0) close(fd_);
  fd_ = -1;
}

uint64_t AccessLogWriter::Pass(uint64_t per_buffer) {
  uint64_t taken = 0;
  for (AccessLogBuffer* buffer : buffers_) {
    for (uint64_t i = 0; i < per_buffer; ++i) {
      AccessLogChunk* chunk = buffer->TakeFull();
      if (chunk == nullptr) break;
      WriteChunk(*chunk);
      buffer->Recycle(chunk);
      ++taken;
    }
  }
  return taken;
}

void AccessLogWriter::WriteChunk(const AccessLogChunk& chunk) {
  if (mid_line_) {
    if (WriteAll("\n", 1) != 1) {
      Bump(write_errors_);
      Bump(lines_lost_, chunk.lines);
      return;
    }
    mid_line_ = false;
  }
  const size_t done = WriteAll(chunk.data, chunk.size);
  Bump(bytes_written_, done);
  if (done == chunk.size) {
    Bump(lines_written_, chunk.lines);
    Bump(chunks_written_);
    return;
  }
  Bump(write_errors_);
  Bump(lines_lost_, chunk.lines);
  mid_line_ = done > 0 && chunk.data[done - 1] != '\n';
}

size_t AccessLogWriter::WriteAll(const char* p, size_t n) {
  if (fd_ < 0) return 0;
  size_t done = 0;
  for (uint32_t calls = 0; done < n && calls < kMaxWriteCallsPerChunk; ++calls) {
    const ssize_t r = write(fd_, p + done, n - done);
    if (r > 0) {
      done += static_cast<size_t>(r);
    } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd pfd{fd_, POLLOUT, 0};
      if (poll(&pfd, 1, static_cast<int>(kWriteStallPoll.millis())) <= 0) break;
    } else if (!(r < 0 && errno == EINTR)) {
      break;  // an error (ENOSPC, EIO, EBADF, ...), or no progress
    }
  }
  return done;
}

void AccessLogWriter::DoReopen() {
  if (to_stdout_) return;
  const int fd = OpenLog(options_.path);
  if (fd < 0) {
    Bump(reopen_errors_);
    return;  // keep writing to the old file rather than nowhere
  }
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
  Bump(reopens_);
}

AccessLogWriterCounters AccessLogWriter::counters() const {
  AccessLogWriterCounters c;
  c.lines_written = lines_written_.load(std::memory_order_relaxed);
  c.bytes_written = bytes_written_.load(std::memory_order_relaxed);
  c.chunks_written = chunks_written_.load(std::memory_order_relaxed);
  c.write_errors = write_errors_.load(std::memory_order_relaxed);
  c.lines_lost = lines_lost_.load(std::memory_order_relaxed);
  c.reopens = reopens_.load(std::memory_order_relaxed);
  c.reopen_errors = reopen_errors_.load(std::memory_order_relaxed);
  return c;
}

}  // namespace locus::proxy::accesslog
