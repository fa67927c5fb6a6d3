#include "stack/tcp/receive_buffer.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace locus::tcp {

void ReceiveBuffer::Append(link::Packet* packet) {
  size_ += packet->length;
  if (packet->length == 0) {
    link::FreePacket(packet);
    return;
  }
  if (tail_ != nullptr && packet->length < kCoalesceBelow &&
      tail_->tailroom() >= packet->length) {
    std::memcpy(tail_->Append(packet->length), packet->data(), packet->length);
    link::FreePacket(packet);
    return;
  }
  packet->next = nullptr;
  if (tail_ == nullptr) {
    head_ = packet;
  } else {
    tail_->next = packet;
  }
  tail_ = packet;
  ++count_;
}

size_t ReceiveBuffer::Read(std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size() && head_ != nullptr) {
    size_t chunk = std::min<size_t>(out.size() - done, head_->length);
    std::memcpy(out.data() + done, head_->data(), chunk);
    done += chunk;
    Consume(chunk);
  }
  return done;
}

std::span<const uint8_t> ReceiveBuffer::Front() const {
  if (head_ == nullptr) return {};
  return head_->bytes();
}

void ReceiveBuffer::Consume(size_t n) {
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

link::Packet* ReceiveBuffer::TakeFront() {
  link::Packet* p = head_;
  if (p == nullptr) return nullptr;
  head_ = p->next;
  if (head_ == nullptr) tail_ = nullptr;
  --count_;
  size_ -= p->length;
  p->next = nullptr;
  return p;
}

void ReceiveBuffer::Clear() {
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
