// In-order bytes received and not yet read by the application: the
// received packets themselves, trimmed to their payload (zero copy).
#ifndef LOCUS_STACK_TCP_RECEIVE_BUFFER_H_
#define LOCUS_STACK_TCP_RECEIVE_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/link/packet.h"

namespace locus::tcp {

// Payloads up to this size are copied into the tail buffer when it has room,
// so that a stream of tiny segments cannot pin one 2 KiB buffer per byte.
inline constexpr uint16_t kCoalesceBelow = 512;

class ReceiveBuffer {
 public:
  ReceiveBuffer() = default;
  ~ReceiveBuffer() { Clear(); }
  ReceiveBuffer(const ReceiveBuffer&) = delete;
  ReceiveBuffer& operator=(const ReceiveBuffer&) = delete;

  // Takes ownership of `packet`, whose data() is exactly the new payload.
  void Append(link::Packet* packet);

  // Copies up to out.size() bytes out and consumes them.
  size_t Read(std::span<uint8_t> out);

  // The first contiguous run of readable bytes, for zero-copy consumers;
  // empty when nothing is queued.
  std::span<const uint8_t> Front() const;
  std::span<const uint8_t> Peek() const { return Front(); }
  // Consumes n bytes (n <= size()).
  void Consume(size_t n);
  // Detaches the front packet (its data() is unread payload) for splicing
  // into another connection. Null when empty.
  link::Packet* TakeFront();

  void Clear();
  size_t size() const { return size_; }
  size_t buffers() const { return count_; }

 private:
  link::Packet* head_ = nullptr;
  link::Packet* tail_ = nullptr;
  uint32_t size_ = 0;
  uint32_t count_ = 0;
};

}  // namespace locus::tcp

#endif  // LOCUS_STACK_TCP_RECEIVE_BUFFER_H_
