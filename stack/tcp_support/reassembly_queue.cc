#include "stack/tcp_support/reassembly_queue.h"

#include <algorithm>

namespace locus::tcp {

using link::Packet;
using wire::SeqNum;

ReassemblyQueue::ReassemblyQueue(Limits limits) : limits_(limits) {
  limits_.max_bytes = std::min(limits_.max_bytes, kMaxBytesCeiling);
}

void ReassemblyQueue::FreeChain(Packet* p) {
  while (p != nullptr) {
    Packet* next = p->next;
    p->next = nullptr;
    --segments_;
    link::FreePacket(p);
    p = next;
  }
}

void ReassemblyQueue::Clear() {
  for (int i = 0; i < block_count_; ++i) FreeChain(blocks_[i].head);
  for (Block& b : blocks_) b = Block{};
  block_count_ = 0;
  bytes_ = 0;
  segments_ = 0;
}

void ReassemblyQueue::MoveToFront(int index) {
  const Block b = blocks_[index];
  std::copy_backward(blocks_, blocks_ + index, blocks_ + index + 1);
  blocks_[0] = b;
}

void ReassemblyQueue::RemoveBlock(int index) {
  std::copy(blocks_ + index + 1, blocks_ + block_count_, blocks_ + index);
  --block_count_;
  blocks_[block_count_] = Block{};
}

void ReassemblyQueue::PruneBelow(SeqNum rcv_nxt) {
  for (int i = 0; i < block_count_;) {
    Block& b = blocks_[i];
    if (b.end() <= rcv_nxt) {
      bytes_ -= b.length;
      FreeChain(b.head);
      RemoveBlock(i);
      continue;
    }
    if (b.start < rcv_nxt) {
      // The new RCV.NXT falls inside this block: drop the bytes before it.
      uint32_t drop = static_cast<uint32_t>(rcv_nxt - b.start);
      bytes_ -= drop;
      b.length -= drop;
      b.start = rcv_nxt;
      while (drop > 0) {
        Packet* p = b.head;
        if (p->length <= drop) {
          drop -= p->length;
          b.head = p->next;
          p->next = nullptr;
          FreeChain(p);
        } else {
          p->TrimFront(static_cast<uint16_t>(drop));
          drop = 0;
        }
      }
    }
    ++i;
  }
}

ReassemblyResult ReassemblyQueue::Insert(Packet* packet, SeqNum seq, uint16_t payload_offset,
                                         uint16_t payload_length, SeqNum rcv_nxt) {
  if (packet == nullptr) return ReassemblyResult::kMalformed;
  auto refuse = [packet](ReassemblyResult why) {
    link::FreePacket(packet);
    return why;
  };
  if (payload_offset > packet->length || payload_length > packet->length - payload_offset) {
    return refuse(ReassemblyResult::kMalformed);
  }
  PruneBelow(rcv_nxt);

  SeqNum s = seq;
  SeqNum e = seq + payload_length;
  const SeqNum limit = rcv_nxt + limits_.max_bytes;
  // RFC 9293 §3.10.7.4: only the part of a segment at or after RCV.NXT is
  // new, and only the part inside the window is kept.
  if (payload_length == 0 || e <= rcv_nxt) return refuse(ReassemblyResult::kDuplicate);
  if (s >= limit) return refuse(ReassemblyResult::kOutOfWindow);
  s = wire::SeqMax(s, rcv_nxt);
  e = wire::SeqMin(e, limit);

  // Queued bytes win. Blocks are maximal, so after skipping the block that
  // holds `s` the new data starts in a gap.
  for (int i = 0; i < block_count_; ++i) {
    const Block& b = blocks_[i];
    if (b.start <= s && s < b.end()) {
      if (e <= b.end()) {
        // Nothing new, but this block holds the segment that will trigger
        // the ACK, so it goes first in the SACK option (RFC 2018 §4).
        MoveToFront(i);
        return refuse(ReassemblyResult::kDuplicate);
      }
      s = b.end();
      break;
    }
  }
  // Keep only the part before the next queued block.
  for (int i = 0; i < block_count_; ++i) {
    if (s < blocks_[i].start && blocks_[i].start < e) e = blocks_[i].start;
  }

  int left = -1, right = -1;
  for (int i = 0; i < block_count_; ++i) {
    if (blocks_[i].end() == s) left = i;
    if (blocks_[i].start == e) right = i;
  }
  // Data at RCV.NXT is exempt from the limits, or the connection could stall
  // (see the header). Only one block can start at RCV.NXT, so the spare
  // entry suffices; the second test guards against a caller whose RCV.NXT
  // went backwards.
  const bool at_rcv_nxt = s == rcv_nxt;
  if (left < 0 && right < 0 &&
      ((block_count_ >= kMaxBlocks && !at_rcv_nxt) || block_count_ == kMaxBlocks + 1)) {
    return refuse(ReassemblyResult::kBlockLimit);
  }
  if (segments_ >= limits_.max_segments && !at_rcv_nxt) {
    return refuse(ReassemblyResult::kSegmentLimit);
  }

  // Zero copy: narrow the packet to the kept bytes.
  const uint32_t length = static_cast<uint32_t>(e - s);
  packet->TrimFront(static_cast<uint16_t>(payload_offset + static_cast<uint32_t>(s - seq)));
  packet->TrimBack(static_cast<uint16_t>(packet->length - length));
  packet->next = nullptr;
  bytes_ += length;
  ++segments_;

  if (left >= 0 && right >= 0) {  // fills the hole between two blocks
    Block& l = blocks_[left];
    const Block& r = blocks_[right];
    l.tail->next = packet;
    packet->next = r.head;
    l.tail = r.tail;
    l.length += length + r.length;
    RemoveBlock(right);
    if (right < left) --left;
    MoveToFront(left);
  } else if (left >= 0) {
    Block& l = blocks_[left];
    l.tail->next = packet;
    l.tail = packet;
    l.length += length;
    MoveToFront(left);
  } else if (right >= 0) {
    Block& r = blocks_[right];
    packet->next = r.head;
    r.head = packet;
    r.start = s;
    r.length += length;
    MoveToFront(right);
  } else {
    std::copy_backward(blocks_, blocks_ + block_count_, blocks_ + block_count_ + 1);
    blocks_[0] = Block{s, length, packet, packet};
    ++block_count_;
  }
  return ReassemblyResult::kQueued;
}

Delivered ReassemblyQueue::Pop(SeqNum rcv_nxt) {
  PruneBelow(rcv_nxt);
  for (int i = 0; i < block_count_; ++i) {
    const Block& b = blocks_[i];
    if (b.start != rcv_nxt) continue;
    Delivered d;
    d.head = b.head;
    d.bytes = b.length;
    for (const Packet* p = b.head; p != nullptr; p = p->next) ++d.segments;
    bytes_ -= b.length;
    segments_ = static_cast<uint16_t>(segments_ - d.segments);
    RemoveBlock(i);
    return d;
  }
  return Delivered{};
}

size_t ReassemblyQueue::GetSackBlocks(SeqNum rcv_nxt, std::span<SackBlock> out) const {
  size_t n = 0;
  for (int i = 0; i < block_count_ && n < out.size(); ++i) {
    const Block& b = blocks_[i];
    if (b.end() <= rcv_nxt) continue;
    out[n++] = SackBlock{wire::SeqMax(b.start, rcv_nxt), b.end()};
  }
  return n;
}

bool ReassemblyQueue::CheckInvariants() const {
  if (block_count_ > kMaxBlocks + 1) return false;
  uint32_t bytes = 0;
  uint32_t segments = 0;
  for (int i = 0; i < block_count_; ++i) {
    const Block& b = blocks_[i];
    if (b.length == 0 || b.head == nullptr || b.tail == nullptr || b.tail->next != nullptr) return false;
    uint32_t chain = 0;
    const Packet* last = nullptr;
    for (const Packet* p = b.head; p != nullptr; p = p->next) {
      if (p->length == 0) return false;
      chain += p->length;
      ++segments;
      last = p;
    }
    if (chain != b.length || last != b.tail) return false;
    bytes += b.length;
    for (int j = 0; j < block_count_; ++j) {
      if (j == i) continue;
      // Disjoint and not adjacent: another block's start is not in [start, end].
      const Block& o = blocks_[j];
      if (b.start <= o.start && o.start <= b.end()) return false;
    }
  }
  for (int i = block_count_; i <= kMaxBlocks; ++i) {
    if (blocks_[i].head != nullptr) return false;
  }
  return bytes == bytes_ && segments == segments_;
}

}  // namespace locus::tcp
