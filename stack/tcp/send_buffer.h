// The bytes an application has written and the peer has not yet
// acknowledged: a chain of packet buffers used purely as storage. The front
// of the chain is SND.UNA; sending copies a range into a fresh packet, so a
// segment on the wire never shares memory with the retransmission copy.
#ifndef LOCUS_STACK_TCP_SEND_BUFFER_H_
#define LOCUS_STACK_TCP_SEND_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/link/packet.h"

namespace locus::tcp {

class SendBuffer {
 public:
  SendBuffer() = default;
  ~SendBuffer() { Clear(); }
  SendBuffer(const SendBuffer&) = delete;
  SendBuffer& operator=(const SendBuffer&) = delete;

  // Appends as much of `data` as fits under `limit` bytes in total, taking
  // buffers from `pool`. Returns the bytes appended (0 when full or when the
  // pool is empty).
  size_t Append(std::span<const uint8_t> data, size_t limit, link::PacketPool& pool);

  // Appends a received packet's data without copying: the chain takes
  // ownership. Used to splice one connection's input into another's output.
  // Returns false (and does not take the packet) when it would exceed limit.
  bool AppendPacket(link::Packet* packet, size_t limit);

  // Copies `length` bytes starting `offset` bytes after the front into `out`.
  // The range must be inside the buffer.
  void CopyOut(size_t offset, size_t length, uint8_t* out) const;

  // Drops `n` acknowledged bytes from the front, freeing emptied buffers.
  void Consume(size_t n);

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

#endif  // LOCUS_STACK_TCP_SEND_BUFFER_H_
