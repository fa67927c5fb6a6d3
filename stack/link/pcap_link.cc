#include "stack/link/pcap_link.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

#include "absl/strings/str_cat.h"

namespace locus::link {
namespace {

constexpr uint16_t kPcapVersionMajor = 2;
constexpr uint16_t kPcapVersionMinor = 4;
// Room staged per frame before the buffer has to grow: a full standard
// buffer plus its record header.
constexpr size_t kStagedFrame = kPcapRecordHeaderLength + kPacketBufferSize;

template <typename T>
void AppendHost(std::vector<uint8_t>& out, T value) {
  uint8_t bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.insert(out.end(), bytes, bytes + sizeof(T));
}

}  // namespace

void AppendPcapFileHeader(std::vector<uint8_t>& out, bool nanosecond, uint32_t snaplen) {
  AppendHost<uint32_t>(out, nanosecond ? kPcapMagicNanos : kPcapMagicMicros);
  AppendHost<uint16_t>(out, kPcapVersionMajor);
  AppendHost<uint16_t>(out, kPcapVersionMinor);
  AppendHost<int32_t>(out, 0);   // thiszone: timestamps are UTC
  AppendHost<uint32_t>(out, 0);  // sigfigs
  AppendHost<uint32_t>(out, snaplen);
  AppendHost<uint32_t>(out, kLinktypeEthernet);
}

void AppendPcapRecord(std::vector<uint8_t>& out, int64_t unix_nanos, bool nanosecond,
                      uint32_t snaplen, std::span<const uint8_t> frame) {
  const int64_t seconds = unix_nanos / 1000000000;
  const int64_t fraction = unix_nanos % 1000000000;
  const uint32_t captured = static_cast<uint32_t>(std::min<size_t>(frame.size(), snaplen));
  AppendHost<uint32_t>(out, static_cast<uint32_t>(seconds));
  AppendHost<uint32_t>(out, static_cast<uint32_t>(nanosecond ? fraction : fraction / 1000));
  AppendHost<uint32_t>(out, captured);
  AppendHost<uint32_t>(out, static_cast<uint32_t>(frame.size()));
  out.insert(out.end(), frame.begin(), frame.begin() + captured);
}

absl::StatusOr<std::unique_ptr<PcapLink>> PcapLink::Create(Link& inner, const std::string& path,
                                                           PcapOptions options) {
  if (options.snaplen == 0) return absl::InvalidArgumentError("pcap: snaplen must be > 0");
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("pcap: cannot create ", path, ": ", std::strerror(errno)));
  }
  std::vector<uint8_t> header;
  AppendPcapFileHeader(header, options.nanosecond, options.snaplen);
  if (std::fwrite(header.data(), 1, header.size(), file) != header.size() ||
      std::fflush(file) != 0) {
    const int error = errno;
    std::fclose(file);
    return absl::InternalError(
        absl::StrCat("pcap: cannot write ", path, ": ", std::strerror(error)));
  }
  return std::unique_ptr<PcapLink>(new PcapLink(inner, file, std::move(options)));
}

PcapLink::PcapLink(Link& inner, std::FILE* file, PcapOptions options)
    : inner_(inner), options_(std::move(options)), file_(file) {
  const LinkInfo& info = inner.info();
  staging_.resize(info.tx_queues);
  for (Staging& s : staging_) {
    s.bytes.reserve(kMaxBurst * kStagedFrame);
    s.ends.reserve(kMaxBurst);
  }
  rx_buffers_.resize(info.rx_queues);
  for (auto& b : rx_buffers_) b.reserve(kMaxBurst * kStagedFrame);
}

PcapLink::~PcapLink() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::fclose(file_);
}

int64_t PcapLink::Now() const {
  if (options_.clock) return options_.clock();
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

void PcapLink::Write(const uint8_t* data, size_t length, uint64_t frames) {
  if (length == 0) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (std::fwrite(data, 1, length, file_) != length && error_.ok()) {
    error_ = absl::InternalError(absl::StrCat("pcap: write failed: ", std::strerror(errno)));
  }
  frames_written_ += frames;
}

uint16_t PcapLink::Receive(uint16_t queue, Packet** packets, uint16_t max) {
  const uint16_t n = inner_.Receive(queue, packets, max);
  if (n == 0 || !options_.capture_rx) return n;
  std::vector<uint8_t>& buffer = rx_buffers_[queue];
  buffer.clear();
  const int64_t now = Now();
  for (uint16_t i = 0; i < n; ++i) {
    AppendPcapRecord(buffer, now, options_.nanosecond, options_.snaplen, packets[i]->bytes());
  }
  Write(buffer.data(), buffer.size(), n);
  return n;
}

uint16_t PcapLink::Transmit(uint16_t queue, Packet** packets, uint16_t count) {
  if (!options_.capture_tx) return inner_.Transmit(queue, packets, count);
  Staging& staging = staging_[queue];
  uint16_t taken = 0;
  while (taken < count) {
    const uint16_t chunk = static_cast<uint16_t>(std::min<int>(kMaxBurst, count - taken));
    // Copies now, because once the inner link has a frame it may already
    // be freed or reused.
    staging.bytes.clear();
    staging.ends.clear();
    const int64_t now = Now();
    for (uint16_t i = 0; i < chunk; ++i) {
      AppendPcapRecord(staging.bytes, now, options_.nanosecond, options_.snaplen,
                       packets[taken + i]->bytes());
      staging.ends.push_back(staging.bytes.size());
    }
    const uint16_t sent = inner_.Transmit(queue, packets + taken, chunk);
    if (sent > 0) Write(staging.bytes.data(), staging.ends[sent - 1], sent);
    taken = static_cast<uint16_t>(taken + sent);
    if (sent < chunk) break;
  }
  return taken;
}

absl::Status PcapLink::Flush() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (std::fflush(file_) != 0 && error_.ok()) {
    error_ = absl::InternalError(absl::StrCat("pcap: flush failed: ", std::strerror(errno)));
  }
  return error_;
}

uint64_t PcapLink::frames_written() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return frames_written_;
}

}  // namespace locus::link
