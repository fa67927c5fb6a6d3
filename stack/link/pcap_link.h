// Captures every frame a Link receives and transmits into a classic pcap
// file (LINKTYPE_ETHERNET) that tcpdump and Wireshark read; behind the
// programs' --pcap FILE flag.
//
// RX frames are written as Receive returns them; TX frames only once the
// inner link has taken them, so a frame refused by a full ring and sent
// again later appears once. Queues polled from several threads share the
// file under a mutex: this is a debugging aid, not a fast path.
#ifndef LOCUS_STACK_LINK_PCAP_LINK_H_
#define LOCUS_STACK_LINK_PCAP_LINK_H_

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "stack/link/link.h"

namespace locus::link {

inline constexpr uint32_t kPcapMagicMicros = 0xa1b2c3d4;
inline constexpr uint32_t kPcapMagicNanos = 0xa1b23c4d;
inline constexpr uint32_t kLinktypeEthernet = 1;
inline constexpr size_t kPcapFileHeaderLength = 24;
inline constexpr size_t kPcapRecordHeaderLength = 16;

struct PcapOptions {
  bool nanosecond = true;  // else microsecond timestamps
  uint32_t snaplen = 65535;
  bool capture_rx = true;
  bool capture_tx = true;
  // Nanoseconds since the Unix epoch; null reads CLOCK_REALTIME.
  std::function<int64_t()> clock{};
};

// The 24-byte file header and 16-byte record headers in host byte order
// (the magic tells readers which), as libpcap writes them.
void AppendPcapFileHeader(std::vector<uint8_t>& out, bool nanosecond, uint32_t snaplen);
void AppendPcapRecord(std::vector<uint8_t>& out, int64_t unix_nanos, bool nanosecond,
                      uint32_t snaplen, std::span<const uint8_t> frame);

class PcapLink final : public Link {
 public:
  // Creates (truncates) `path` and writes the file header. `inner` must
  // outlive the decorator.
  static absl::StatusOr<std::unique_ptr<PcapLink>> Create(Link& inner, const std::string& path,
                                                          PcapOptions options = {});
  ~PcapLink() override;  // flushes and closes

  const LinkInfo& info() const override { return inner_.info(); }
  PacketPool& pool(uint16_t queue) override { return inner_.pool(queue); }
  QueueStats stats(uint16_t queue) const override { return inner_.stats(queue); }
  uint16_t Receive(uint16_t queue, Packet** packets, uint16_t max) override;
  uint16_t Transmit(uint16_t queue, Packet** packets, uint16_t count) override;

  // Pushes buffered records to the file; the first write error so far.
  absl::Status Flush();
  uint64_t frames_written() const;

 private:
  PcapLink(Link& inner, std::FILE* file, PcapOptions options);
  int64_t Now() const;
  void Write(const uint8_t* data, size_t length, uint64_t frames);

  Link& inner_;
  const PcapOptions options_;
  // Per TX queue, touched only by its owner: records staged before the
  // inner link decides how many frames it takes.
  struct Staging {
    std::vector<uint8_t> bytes;
    std::vector<size_t> ends;  // ends[i]: end of record i in bytes
  };
  std::vector<Staging> staging_;
  std::vector<std::vector<uint8_t>> rx_buffers_;  // per RX queue, likewise

  mutable std::mutex mutex_;
  std::FILE* file_;              // guarded by mutex_
  uint64_t frames_written_ = 0;  // guarded by mutex_
  absl::Status error_;           // guarded by mutex_
};

}  // namespace locus::link

#endif  // LOCUS_STACK_LINK_PCAP_LINK_H_
