#include "stack/link/packet.h"

#include <cassert>

namespace locus::link {

HeapPacketPool::HeapPacketPool(size_t count, uint16_t buffer_size)
    : count_(count),
      available_(count),
      packets_(new Packet[count]),
      storage_(new uint8_t[count * buffer_size]) {
  for (size_t i = 0; i < count; ++i) {
    Packet& p = packets_[i];
    p.buffer = storage_.get() + i * buffer_size;
    p.capacity = buffer_size;
    p.pool = this;
    p.Reset();
    p.next = free_list_;
    free_list_ = &p;
  }
}

HeapPacketPool::~HeapPacketPool() {
  // Every packet must be back before the pool goes; a leak here is a bug in
  // whoever held the packet, so make it loud in debug builds.
  assert(available_ == count_);
}

Packet* HeapPacketPool::Allocate() {
  Packet* p = free_list_;
  if (p == nullptr) return nullptr;
  free_list_ = p->next;
  --available_;
  p->Reset();
  return p;
}

void HeapPacketPool::Free(Packet* packet) {
  assert(packet->pool == this);
  packet->next = free_list_;
  free_list_ = packet;
  ++available_;
}

}  // namespace locus::link
