#include "stack/tcp/send_buffer.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace locus::tcp {

size_t SendBuffer::Append(std::span<const uint8_t> data, size_t limit, link::PacketPool& pool) {
  size_t room = limit > size_ ? limit - size_ : 0;
  size_t want = std::min(data.size(), room);
  size_t done = 0;
  while (done < want) {
    if (tail_ == nullptr || tail_->tailroom() == 0) {
      link::Packet* p = pool.Allocate();
      if (p == nullptr) break;
      // Storage only: no headers will ever be prepended here.
      p->data_offset = 0;
      if (tail_ == nullptr) {
        head_ = p;
      } else {
        tail_->next = p;
      }
      tail_ = p;
      ++count_;
    }
    uint16_t chunk = static_cast<uint16_t>(std::min<size_t>(want - done, tail_->tailroom()));
    std::memcpy(tail_->Append(chunk), data.data() + done, chunk);
    done += chunk;
  }
  size_ += static_cast<uint32_t>(done);
  return done;
}

bool SendBuffer::AppendPacket(link::Packet* packet, size_t limit) {
  if (size_ + packet->length > limit) return false;
  packet->next = nullptr;
  if (tail_ == nullptr) {
    head_ = packet;
  } else {
    tail_->next = packet;
  }
  tail_ = packet;
  ++count_;
  size_ += packet->length;
  return true;
}

void SendBuffer::CopyOut(size_t offset, size_t length, uint8_t* out) const {
  assert(offset + length <= size_);
  const link::Packet* p = head_;
  while (p != nullptr && offset >= p->length) {
    offset -= p->length;
    p = p->next;
  }
  while (length > 0) {
    assert(p != nullptr);
    size_t chunk = std::min<size_t>(length, p->length - offset);
    std::memcpy(out, p->data() + offset, chunk);
    out += chunk;
    length -= chunk;
    offset = 0;
    p = p->next;
  }
}

void SendBuffer::Consume(size_t n) {
  assert(n <= size_);
  size_ -= static_cast<uint32_t>(n);
  while (n > 0) {
    link::Packet* p = head_;
    if (n < p->length) {
      p->TrimFront(static_cast<uint16_t>(n));
      return;
    }
    n -= p->length;
    head_ = p->next;
    if (head_ == nullptr) tail_ = nullptr;
    --count_;
    link::FreePacket(p);
  }
}

void SendBuffer::Clear() {
  while (head_ != nullptr) {
    link::Packet* p = head_;
    head_ = p->next;
    link::FreePacket(p);
  }
  tail_ = nullptr;
  size_ = 0;
  count_ = 0;
}

}  // namespace locus::tcp
