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
  assert(available() == count_);
}

namespace {
// Its address names the calling thread.
thread_local char tls_thread_token;
}  // namespace

bool HeapPacketPool::CalledByOwner() const {
  const void* owner = owner_.load(std::memory_order_relaxed);
  return owner == nullptr || owner == &tls_thread_token;
}

void HeapPacketPool::TakeBackRemote() {
  Packet* chain = remote_head_.exchange(nullptr, std::memory_order_acquire);
  while (chain != nullptr) {
    Packet* p = chain;
    chain = p->next;
    p->next = free_list_;
    free_list_ = p;
    remote_count_.fetch_sub(1, std::memory_order_relaxed);
    ++available_;
  }
}

Packet* HeapPacketPool::Allocate() {
  if (owner_.load(std::memory_order_relaxed) == nullptr) {
    owner_.store(&tls_thread_token, std::memory_order_relaxed);
  }
  if (free_list_ == nullptr) TakeBackRemote();
  Packet* p = free_list_;
  if (p == nullptr) return nullptr;
  free_list_ = p->next;
  --available_;
  p->Reset();
  return p;
}

void HeapPacketPool::Free(Packet* packet) {
  assert(packet->pool == this);
  if (!CalledByOwner()) {
    // Treiber-stack push; only the owner pops (all at once), so there is
    // no ABA problem.
    remote_count_.fetch_add(1, std::memory_order_relaxed);
    Packet* head = remote_head_.load(std::memory_order_relaxed);
    do {
      packet->next = head;
    } while (!remote_head_.compare_exchange_weak(head, packet, std::memory_order_release,
                                                 std::memory_order_relaxed));
    return;
  }
  packet->next = free_list_;
  free_list_ = packet;
  ++available_;
}

}  // namespace locus::link
