// The receiver's out-of-order queue: segments that arrived beyond RCV.NXT,
// held until the hole before them is filled (RFC 9293 §3.10.7.4: "segments
// with higher beginning sequence numbers SHOULD be held for later
// processing"), and the SACK blocks that describe them (RFC 2018 §4).
//
// Zero copy: the queue holds the link::Packet itself. On Insert it trims the
// packet (TrimFront/length) so that data() is exactly the bytes it keeps;
// headers are gone after that. Held packets are chained through their own
// `next` field in sequence order; per contiguous run of data ("block") the
// queue keeps one small record in a fixed inline array. Nothing is allocated.
//
// Overlaps: queued bytes win (RFC 9293 §3.10.7.4 lets a receiver keep
// either copy; one rule, always applied, so the delivered stream never
// depends on which copy of a byte was seen last). A new segment is trimmed
// to the gap it starts in; if it spans a queued block, only its part before
// that block is kept (the part after is dropped and will be retransmitted;
// one packet cannot be two pieces without copying). Bytes below RCV.NXT are
// trimmed (RFC 9293 §3.10.7.4: "only the new parts are processed").
//
// Limits, and what is dropped at them: the arriving segment, never queued
// data. Dropping queued data would be reneging on SACKed data, which RFC
// 2018 §8 permits but discourages: the sender cannot free it and recovers
// only by retransmission timeout. A dropped arrival is simply not SACKed and
// is retransmitted by ordinary loss recovery.
// * max_bytes: only sequence space [RCV.NXT, RCV.NXT + max_bytes) is held;
//   data beyond is trimmed off (and a segment starting there is refused).
//   Set it to the receive window advertised. This also bounds the bytes held.
// * max_segments: packets held. Each is a whole buffer (~2 KiB) however few
//   bytes it carries, so this is the real memory bound (a peer sending
//   1-byte segments out of order would otherwise pin a buffer per byte).
// * kMaxBlocks islands of data (the fixed array). A segment that would open
//   one more island is refused; one that extends or joins islands is not.
// Data that starts exactly at RCV.NXT is exempt from the last two limits
// (there is one spare block for it): refusing it could stall the connection
// for good, since the retransmission that fills the first hole could then
// never get in. It is popped right away, so this adds at most one packet.
//
// Usage by the TCP receive path: in-order data (SEG.SEQ <= RCV.NXT) may be
// delivered directly or inserted; either way, after RCV.NXT moves call
// Pop(RCV.NXT) until it returns nothing, advancing RCV.NXT by what it
// returns. SEG.SEQ values must be within 2^31 of RCV.NXT (the window check
// of RFC 9293 §3.10.7.4 guarantees far less).
#ifndef LOCUS_STACK_TCP_SUPPORT_REASSEMBLY_QUEUE_H_
#define LOCUS_STACK_TCP_SUPPORT_REASSEMBLY_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/link/packet.h"
#include "stack/wire/seq_num.h"
#include "stack/wire/tcp.h"

namespace locus::tcp {

enum class ReassemblyResult : uint8_t {
  kQueued,        // some new bytes are held now (perhaps after trimming)
  kDuplicate,     // no new byte: all below RCV.NXT or already held (or empty)
  kOutOfWindow,   // starts at or beyond RCV.NXT + max_bytes
  kSegmentLimit,  // max_segments packets are held already (not at RCV.NXT)
  kBlockLimit,    // would open island kMaxBlocks + 1 (not at RCV.NXT)
  kMalformed,     // the payload range lies outside the packet
};

// [left, right) in sequence space, as in the SACK option (RFC 2018 §3).
// The receiver's SACK blocks are the option's own type.
using SackBlock = wire::SackBlock;

// Packets handed back in sequence order, chained through `next` (the last
// one's next is null). Their data() is exactly the delivered bytes. The
// caller owns them.
struct Delivered {
  link::Packet* head = nullptr;
  uint32_t bytes = 0;
  uint16_t segments = 0;
};

class ReassemblyQueue {
 public:
  static constexpr int kMaxBlocks = 8;
  // RFC 7323 §2.3: a window never exceeds 2^30 bytes; larger limits would
  // also break sequence comparisons.
  static constexpr uint32_t kMaxBytesCeiling = uint32_t{1} << 30;
  static constexpr uint32_t kDefaultMaxBytes = 256 * 1024;
  static constexpr uint16_t kDefaultMaxSegments = 128;

  struct Limits {
    uint32_t max_bytes = kDefaultMaxBytes;  // clamped to kMaxBytesCeiling
    uint16_t max_segments = kDefaultMaxSegments;
  };

  ReassemblyQueue() : ReassemblyQueue(Limits{}) {}
  explicit ReassemblyQueue(Limits limits);
  // Frees every held packet.
  ~ReassemblyQueue() { Clear(); }
  ReassemblyQueue(const ReassemblyQueue&) = delete;
  ReassemblyQueue& operator=(const ReassemblyQueue&) = delete;

  // Takes ownership of `packet` in every case: it is either held or freed
  // (the result says why). Its payload is the `payload_length` bytes at
  // `payload_offset` from data(), with sequence number `seq`.
  ReassemblyResult Insert(link::Packet* packet, wire::SeqNum seq, uint16_t payload_offset,
                          uint16_t payload_length, wire::SeqNum rcv_nxt);

  // Frees held bytes below `rcv_nxt` and returns the run that starts at
  // `rcv_nxt`, if any; the caller advances RCV.NXT by `bytes`.
  Delivered Pop(wire::SeqNum rcv_nxt);

  // Fills `out` with up to out.size() SACK blocks (3 with timestamps, 4
  // without; RFC 2018 §3) and returns how many: first the block holding the
  // most recently received segment, then the others from most to least
  // recently received into (RFC 2018 §4). Blocks are clipped at `rcv_nxt`,
  // and none at or below it is reported.
  size_t GetSackBlocks(wire::SeqNum rcv_nxt, std::span<SackBlock> out) const;

  // Frees every held packet (connection reset or closed).
  void Clear();

  bool empty() const { return block_count_ == 0; }
  uint32_t bytes() const { return bytes_; }
  uint16_t segments() const { return segments_; }
  int blocks() const { return block_count_; }
  const Limits& limits() const { return limits_; }

  // Walks everything: blocks disjoint and not touching, chains matching
  // their lengths, counters matching the chains. O(held packets); tests.
  bool CheckInvariants() const;

 private:
  // A maximal contiguous run of held bytes; runs never touch or overlap.
  struct Block {
    wire::SeqNum start;
    uint32_t length = 0;
    link::Packet* head = nullptr;  // packets in sequence order, via next
    link::Packet* tail = nullptr;
    wire::SeqNum end() const { return start + length; }
  };

  void PruneBelow(wire::SeqNum rcv_nxt);
  void MoveToFront(int index);
  void RemoveBlock(int index);
  void FreeChain(link::Packet* head);

  // Most recently received first (the SACK order of RFC 2018 §4). The
  // extra entry is for a block at RCV.NXT when the others are all in use.
  Block blocks_[kMaxBlocks + 1];
  Limits limits_;
  uint32_t bytes_ = 0;
  uint16_t segments_ = 0;
  uint8_t block_count_ = 0;
};

}  // namespace locus::tcp

#endif  // LOCUS_STACK_TCP_SUPPORT_REASSEMBLY_QUEUE_H_
