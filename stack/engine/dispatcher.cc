#include "stack/engine/dispatcher.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "stack/link/link.h"
#include "stack/wire/endian.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/ipv4.h"

namespace locus::engine {

namespace {

void Bump(std::atomic<uint64_t>& counter, uint64_t by = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

}  // namespace

absl::StatusOr<std::unique_ptr<RingMesh>> RingMesh::Create(unsigned shards, uint32_t ring_size) {
  std::unique_ptr<RingMesh> mesh(new RingMesh(shards));
  mesh->rings_.resize(size_t{shards} * shards);
  for (unsigned from = 0; from < shards; ++from) {
    for (unsigned to = 0; to < shards; ++to) {
      if (from == to) continue;
      absl::StatusOr<std::unique_ptr<SpscRing<link::Packet*>>> ring =
          SpscRing<link::Packet*>::Create(ring_size);
      if (!ring.ok()) return ring.status();
      mesh->rings_[from * shards + to] = std::move(*ring);
    }
  }
  return mesh;
}

RingMesh::~RingMesh() {
  // Frames still in flight go back to their pools.
  for (auto& ring : rings_) {
    if (ring == nullptr) continue;
    link::Packet* p = nullptr;
    while (ring->Dequeue(&p)) link::FreePacket(p);
  }
}

Dispatcher::Dispatcher(unsigned index, const steer::FlowSteering& steering, RingMesh& mesh)
    : index_(index),
      shards_(mesh.shards()),
      steering_(steering),
      mesh_(mesh),
      listeners_(&steer::ListenerPortSet::Empty()),
      outgoing_(mesh.shards()) {
  for (auto& v : outgoing_) v.reserve(link::kMaxBurst);
}

unsigned Dispatcher::OwnerOf(const link::Packet& frame, bool* active) const {
  std::span<const uint8_t> bytes = frame.bytes();
  if (bytes.size() < wire::kEthernetHeaderLength + wire::kIpv4MinHeaderLength + 4) return kLocal;
  if (wire::LoadBe16(bytes.data() + 12) != wire::kEtherTypeIpv4) return kLocal;
  const uint8_t* ip = bytes.data() + wire::kEthernetHeaderLength;
  size_t ihl = size_t{ip[0] & 0x0fu} * 4;
  if ((ip[0] >> 4) != 4 || ihl < wire::kIpv4MinHeaderLength) return kLocal;
  if (ip[9] != wire::kIpProtocolTcp) return kLocal;
  // Fragments carry no ports: whoever gets them drops them (not reassembled).
  if ((wire::LoadBe16(ip + 6) & 0x3fff) != 0) return kLocal;
  if (bytes.size() < wire::kEthernetHeaderLength + ihl + 4) return kLocal;
  const uint8_t* tcp = ip + ihl;
  steer::Ipv4TcpTuple tuple{wire::Ipv4Address(wire::LoadBe32(ip + 12)),
                            wire::Ipv4Address(wire::LoadBe32(ip + 16)), wire::LoadBe16(tcp),
                            wire::LoadBe16(tcp + 2)};
  steer::SteeringDecision d = steering_.Steer(tuple, *listeners_);
  if ((frame.flags & link::kRxRssHashValid) && steering_.uses_nic_rss() &&
      frame.rss_hash != steering_.FlowHash(tuple)) {
    // The port's RSS is not what it reported: steering still works (by
    // redirect), but count it so that operators can see it.
    Bump(counters_.hash_mismatches);
  }
  if (active != nullptr) *active = d.direction == steer::FlowDirection::kActive;
  return d.core;
}

void Dispatcher::CloneArp(const link::Packet& frame, core::Stack& stack) {
  for (unsigned to = 0; to < shards_; ++to) {
    if (to == index_) continue;
    link::Packet* copy = stack.pool().Allocate();
    if (copy == nullptr) return;
    std::memcpy(copy->Append(frame.length), frame.data(), frame.length);
    copy->flags = link::kSteerArpLearnOnly;
    outgoing_[to].push_back(copy);
    Bump(counters_.arp_clones);
    if (outgoing_[to].size() >= link::kMaxBurst) FlushOutgoing();
  }
}

void Dispatcher::FlushOutgoing() {
  for (unsigned to = 0; to < shards_; ++to) {
    std::vector<link::Packet*>& out = outgoing_[to];
    if (out.empty()) continue;
    uint32_t sent = mesh_.ring(index_, to).EnqueueBurst(out.data(), static_cast<uint32_t>(out.size()));
    for (size_t i = sent; i < out.size(); ++i) {
      Bump(counters_.ring_full_drops);
      link::FreePacket(out[i]);
    }
    out.clear();
  }
}

size_t Dispatcher::Poll(core::Stack& stack, Instant now) {
  link::Packet* burst[link::kMaxBurst];
  uint16_t n = stack.ReceiveBurst(burst, link::kMaxBurst);
  size_t work = n;
  for (uint16_t i = 0; i < n; ++i) {
    link::Packet* frame = burst[i];
    bool active = false;
    unsigned owner = OwnerOf(*frame, &active);
    if (owner == kLocal) {
      if (frame->length >= wire::kEthernetHeaderLength &&
          wire::LoadBe16(frame->data() + 12) == wire::kEtherTypeArp) {
        CloneArp(*frame, stack);
      }
      stack.ReceiveFrame(frame, now);
      continue;
    }
    Bump(counters_.tcp_frames);
    if (owner == index_) {
      Bump(counters_.local);
      stack.ReceiveFrame(frame, now);
      continue;
    }
    Bump(counters_.redirects_out);
    if (active) Bump(counters_.redirects_active);
    outgoing_[owner].push_back(frame);
  }
  FlushOutgoing();
  // What the other shards handed us.
  for (unsigned from = 0; from < shards_; ++from) {
    if (from == index_) continue;
    link::Packet* in[link::kMaxBurst];
    uint32_t m = mesh_.ring(from, index_).DequeueBurst(in, link::kMaxBurst);
    work += m;
    for (uint32_t i = 0; i < m; ++i) {
      if (in[i]->flags & link::kSteerArpLearnOnly) {
        stack.LearnFromArp(in[i], now);
      } else {
        Bump(counters_.redirects_in);
        stack.ReceiveFrame(in[i], now);
      }
    }
  }
  return work;
}

}  // namespace locus::engine
