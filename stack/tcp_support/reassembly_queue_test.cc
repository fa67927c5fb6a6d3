#include "stack/tcp_support/reassembly_queue.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace locus::tcp {
namespace {

using link::HeapPacketPool;
using link::Packet;
using wire::SeqNum;

constexpr uint16_t kHeader = 40;  // bytes before the payload (IP + TCP)

// The byte a sender puts at sequence number `seq` in transmission
// `version`, so tests can tell which copy of a byte was kept.
uint8_t Byte(uint32_t seq, uint8_t version) {
  return static_cast<uint8_t>(seq * 131u + (seq >> 8) + version * 77u);
}

class ReassemblyQueueTest : public ::testing::Test {
 protected:
  static constexpr size_t kPoolSize = 256;

  void TearDown() override {
    queue_.reset();
    EXPECT_EQ(pool_.available(), kPoolSize) << "a packet leaked";
  }

  void MakeQueue(ReassemblyQueue::Limits limits) { queue_ = std::make_unique<ReassemblyQueue>(limits); }

  Packet* Segment(uint32_t seq, uint16_t length, uint8_t version = 0) {
    Packet* p = pool_.Allocate();
    EXPECT_NE(p, nullptr);
    uint8_t* d = p->Append(static_cast<uint16_t>(kHeader + length));
    for (int i = 0; i < kHeader; ++i) d[i] = 0xee;
    for (uint16_t i = 0; i < length; ++i) d[kHeader + i] = Byte(seq + i, version);
    return p;
  }

  ReassemblyResult Insert(uint32_t seq, uint16_t length, uint32_t rcv_nxt, uint8_t version = 0) {
    return queue_->Insert(Segment(seq, length, version), SeqNum(seq), kHeader, length, SeqNum(rcv_nxt));
  }

  // Pops at rcv_nxt, checks the bytes against `versions` (the version each
  // byte is expected to come from, default 0), frees the packets and returns
  // how many bytes came out.
  uint32_t PopAndCheck(uint32_t rcv_nxt, std::function<uint8_t(uint32_t)> version = nullptr) {
    Delivered d = queue_->Pop(SeqNum(rcv_nxt));
    uint32_t seq = rcv_nxt, bytes = 0;
    uint16_t segments = 0;
    for (Packet* p = d.head; p != nullptr;) {
      for (uint8_t b : p->bytes()) {
        EXPECT_EQ(b, Byte(seq, version ? version(seq) : 0)) << "seq " << seq;
        ++seq;
        ++bytes;
      }
      ++segments;
      Packet* next = p->next;
      link::FreePacket(p);
      p = next;
    }
    EXPECT_EQ(bytes, d.bytes);
    EXPECT_EQ(segments, d.segments);
    return bytes;
  }

  std::vector<SackBlock> Sack(uint32_t rcv_nxt, size_t n = 4) {
    std::vector<SackBlock> out(n);
    out.resize(queue_->GetSackBlocks(SeqNum(rcv_nxt), out));
    return out;
  }

  static SackBlock B(uint32_t l, uint32_t r) { return SackBlock{SeqNum(l), SeqNum(r)}; }

  HeapPacketPool pool_{kPoolSize};
  std::unique_ptr<ReassemblyQueue> queue_ = std::make_unique<ReassemblyQueue>();
};

TEST_F(ReassemblyQueueTest, SizeIsSmall) {
  // Embedded in every connection: 8 + 1 blocks of 24 bytes plus counters.
  EXPECT_EQ(sizeof(ReassemblyQueue), 232u);
}

TEST_F(ReassemblyQueueTest, InOrderSegmentPopsAtOnceWithoutItsHeaders) {
  EXPECT_EQ(Insert(1000, 500, 1000), ReassemblyResult::kQueued);
  EXPECT_EQ(queue_->bytes(), 500u);
  EXPECT_EQ(PopAndCheck(1000), 500u);
  EXPECT_TRUE(queue_->empty());
  EXPECT_EQ(PopAndCheck(1500), 0u);
}

TEST_F(ReassemblyQueueTest, OutOfOrderSegmentsComeOutInOrder) {
  EXPECT_EQ(Insert(2000, 500, 500), ReassemblyResult::kQueued);
  EXPECT_EQ(Insert(1000, 500, 500), ReassemblyResult::kQueued);
  EXPECT_EQ(Insert(1500, 500, 500), ReassemblyResult::kQueued);  // joins both
  EXPECT_EQ(queue_->blocks(), 1);
  EXPECT_EQ(PopAndCheck(500), 0u);  // hole at 500
  EXPECT_EQ(Insert(500, 500, 500), ReassemblyResult::kQueued);
  EXPECT_EQ(queue_->segments(), 4);
  EXPECT_EQ(PopAndCheck(500), 2000u);
  EXPECT_TRUE(queue_->CheckInvariants());
  EXPECT_EQ(queue_->segments(), 0);
}

TEST_F(ReassemblyQueueTest, DuplicatesAndOldDataAreFreed) {
  EXPECT_EQ(Insert(1000, 500, 0), ReassemblyResult::kQueued);
  EXPECT_EQ(Insert(1000, 500, 0, 1), ReassemblyResult::kDuplicate);
  EXPECT_EQ(Insert(1100, 100, 0, 1), ReassemblyResult::kDuplicate);
  EXPECT_EQ(Insert(0, 0, 0), ReassemblyResult::kDuplicate);     // empty
  EXPECT_EQ(Insert(100, 400, 500), ReassemblyResult::kDuplicate);  // below RCV.NXT
  EXPECT_EQ(pool_.available(), kPoolSize - 1);
  EXPECT_EQ(PopAndCheck(500), 0u);
  EXPECT_EQ(queue_->segments(), 1);
}

TEST_F(ReassemblyQueueTest, SegmentStraddlingRcvNxtKeepsOnlyNewBytes) {
  EXPECT_EQ(Insert(900, 300, 1000), ReassemblyResult::kQueued);
  EXPECT_EQ(queue_->bytes(), 200u);
  EXPECT_EQ(PopAndCheck(1000), 200u);
}

TEST_F(ReassemblyQueueTest, QueuedBytesWinOnOverlap) {
  // Version 0 is queued first; overlapping later copies are version 1.
  EXPECT_EQ(Insert(1000, 500, 0), ReassemblyResult::kQueued);
  EXPECT_EQ(Insert(1300, 500, 0, 1), ReassemblyResult::kQueued);  // front overlap: 1500..1800 kept
  EXPECT_EQ(Insert(700, 500, 0, 1), ReassemblyResult::kQueued);   // back overlap: 700..1000 kept
  EXPECT_EQ(queue_->blocks(), 1);
  EXPECT_EQ(queue_->bytes(), 1100u);
  EXPECT_EQ(queue_->segments(), 3);
  EXPECT_TRUE(queue_->CheckInvariants());
  EXPECT_EQ(Insert(0, 700, 0, 2), ReassemblyResult::kQueued);
  EXPECT_EQ(PopAndCheck(0, [](uint32_t seq) -> uint8_t {
              if (seq < 700) return 2;
              if (seq < 1000) return 1;
              if (seq < 1500) return 0;
              return 1;
            }),
            1800u);
}

TEST_F(ReassemblyQueueTest, SegmentSpanningABlockKeepsItsLowerPart) {
  EXPECT_EQ(Insert(2000, 100, 0), ReassemblyResult::kQueued);
  // 1500..3000 spans the block: only 1500..2000 is kept (joined to it);
  // 2100..3000 is dropped and will be retransmitted.
  EXPECT_EQ(Insert(1500, 1500, 0, 1), ReassemblyResult::kQueued);
  EXPECT_EQ(Sack(0), (std::vector<SackBlock>{B(1500, 2100)}));
  EXPECT_EQ(Insert(0, 1500, 0, 2), ReassemblyResult::kQueued);
  EXPECT_EQ(PopAndCheck(0, [](uint32_t seq) -> uint8_t { return seq < 1500 ? 2 : seq < 2000 ? 1 : 0; }),
            2100u);
}

TEST_F(ReassemblyQueueTest, SegmentStartingInABlockSkipsIt) {
  EXPECT_EQ(Insert(1000, 100, 0), ReassemblyResult::kQueued);
  EXPECT_EQ(Insert(1200, 100, 0), ReassemblyResult::kQueued);
  // 1050..1250: starts in [1000,1100), fills the gap 1100..1200, stops at
  // [1200,1300): the three join.
  EXPECT_EQ(Insert(1050, 200, 0, 1), ReassemblyResult::kQueued);
  EXPECT_EQ(queue_->blocks(), 1);
  EXPECT_EQ(Sack(0), (std::vector<SackBlock>{B(1000, 1300)}));
  EXPECT_EQ(Insert(0, 1000, 0), ReassemblyResult::kQueued);
  EXPECT_EQ(PopAndCheck(0, [](uint32_t seq) -> uint8_t { return seq >= 1100 && seq < 1200 ? 1 : 0; }),
            1300u);
}

TEST_F(ReassemblyQueueTest, WrapsAroundSequenceSpace) {
  const uint32_t base = 0xfffffe00u;
  EXPECT_EQ(Insert(0xffffff00u, 0x200, base), ReassemblyResult::kQueued);  // crosses 2^32
  EXPECT_EQ(Insert(0x180, 0x80, base), ReassemblyResult::kQueued);
  EXPECT_EQ(Sack(base), (std::vector<SackBlock>{B(0x180, 0x200), B(0xffffff00u, 0x100)}));
  EXPECT_EQ(Insert(base, 0x100, base), ReassemblyResult::kQueued);
  EXPECT_EQ(PopAndCheck(base), 0x300u);
  EXPECT_EQ(Insert(0xc0, 0xc0, 0x100), ReassemblyResult::kQueued);  // 0x100..0x180 is new
  EXPECT_EQ(PopAndCheck(0x100), 0x100u);
  EXPECT_TRUE(queue_->empty());
}

TEST_F(ReassemblyQueueTest, ByteLimitAtLimitAndBeyond) {
  MakeQueue({.max_bytes = 10'000, .max_segments = 100});
  // RCV.NXT 10000: the queue holds [10000, 20000).
  // Ends exactly at RCV.NXT + max_bytes: kept whole.
  EXPECT_EQ(Insert(19'500, 500, 10'000), ReassemblyResult::kQueued);
  // Starts at RCV.NXT + max_bytes: refused.
  EXPECT_EQ(Insert(20'000, 1, 10'000), ReassemblyResult::kOutOfWindow);
  EXPECT_EQ(queue_->bytes(), 500u);
  // The window moves with RCV.NXT; a segment straddling its end is trimmed.
  EXPECT_EQ(Insert(20'000, 1000, 10'500), ReassemblyResult::kQueued);
  EXPECT_EQ(queue_->bytes(), 1000u);
  EXPECT_EQ(Sack(10'500), (std::vector<SackBlock>{B(19'500, 20'500)}));
  for (uint32_t seq = 10'500; seq < 19'500; seq += 1000) {
    EXPECT_EQ(Insert(seq, 1000, 10'500), ReassemblyResult::kQueued);
  }
  EXPECT_EQ(queue_->bytes(), 10'000u);
  EXPECT_EQ(PopAndCheck(10'500), 10'000u);
}

TEST_F(ReassemblyQueueTest, MaxBytesIsClampedToTheLargestWindow) {
  MakeQueue({.max_bytes = 0xffffffffu, .max_segments = 10});
  EXPECT_EQ(queue_->limits().max_bytes, ReassemblyQueue::kMaxBytesCeiling);
  EXPECT_EQ(Insert((1u << 30) - 1, 1, 0), ReassemblyResult::kQueued);
  EXPECT_EQ(Insert(1u << 30, 1, 0), ReassemblyResult::kOutOfWindow);
}

TEST_F(ReassemblyQueueTest, SegmentLimitAtLimitAndBeyond) {
  MakeQueue({.max_bytes = 1 << 20, .max_segments = 5});
  for (uint32_t i = 0; i < 5; ++i) {
    EXPECT_EQ(Insert(1000 + i * 10, 10, 0), ReassemblyResult::kQueued) << i;
  }
  EXPECT_EQ(Insert(1050, 10, 0), ReassemblyResult::kSegmentLimit);  // would extend: still a 6th packet
  EXPECT_EQ(Insert(1000, 10, 0), ReassemblyResult::kDuplicate);     // duplicates are not counted
  EXPECT_EQ(queue_->segments(), 5);
  // Data at RCV.NXT gets in regardless (it is what unblocks the queue)...
  EXPECT_EQ(Insert(0, 500, 0), ReassemblyResult::kQueued);
  EXPECT_EQ(queue_->segments(), 6);
  // ...but only at RCV.NXT: the rest of the hole is refused until a Pop.
  EXPECT_EQ(Insert(500, 500, 0), ReassemblyResult::kSegmentLimit);
  EXPECT_EQ(Insert(100, 900, 0), ReassemblyResult::kSegmentLimit);  // trimmed to start at 500
  EXPECT_EQ(PopAndCheck(0), 500u);
  EXPECT_EQ(Insert(500, 500, 500), ReassemblyResult::kQueued);
  EXPECT_EQ(PopAndCheck(500), 550u);
  EXPECT_EQ(Insert(1050, 10, 1050), ReassemblyResult::kQueued);
  EXPECT_EQ(PopAndCheck(1050), 10u);
}

TEST_F(ReassemblyQueueTest, BlockLimitAtLimitAndBeyond) {
  for (uint32_t i = 0; i < ReassemblyQueue::kMaxBlocks; ++i) {
    EXPECT_EQ(Insert(1000 + i * 100, 10, 0), ReassemblyResult::kQueued) << i;
  }
  EXPECT_EQ(queue_->blocks(), ReassemblyQueue::kMaxBlocks);
  // A ninth island is refused...
  EXPECT_EQ(Insert(500, 10, 0), ReassemblyResult::kBlockLimit);
  EXPECT_EQ(Insert(1050, 10, 0), ReassemblyResult::kBlockLimit);
  // ...but extending or joining islands is fine.
  EXPECT_EQ(Insert(1010, 10, 0), ReassemblyResult::kQueued);
  EXPECT_EQ(Insert(1020, 80, 0), ReassemblyResult::kQueued);  // joins 1000.. and 1100..
  EXPECT_EQ(queue_->blocks(), ReassemblyQueue::kMaxBlocks - 1);
  EXPECT_EQ(Insert(500, 10, 0), ReassemblyResult::kQueued);
  EXPECT_EQ(queue_->blocks(), ReassemblyQueue::kMaxBlocks);
  // A new island at RCV.NXT is accepted at the limit (the spare block)...
  EXPECT_EQ(Insert(0, 10, 0), ReassemblyResult::kQueued);
  EXPECT_EQ(queue_->blocks(), ReassemblyQueue::kMaxBlocks + 1);
  // ...and no other new island is.
  EXPECT_EQ(Insert(30, 10, 0), ReassemblyResult::kBlockLimit);
  EXPECT_EQ(Insert(0, 10, 0), ReassemblyResult::kDuplicate);
  EXPECT_EQ(Insert(20, 10, 5), ReassemblyResult::kBlockLimit);  // RCV.NXT moved into 0..10
  EXPECT_EQ(Insert(10, 5, 5), ReassemblyResult::kQueued);       // extends 5..10
  // A caller whose RCV.NXT went backwards cannot overflow the array: 2..4
  // would be a second island "at RCV.NXT".
  EXPECT_EQ(Insert(2, 2, 2), ReassemblyResult::kBlockLimit);
  EXPECT_EQ(queue_->blocks(), ReassemblyQueue::kMaxBlocks + 1);
  EXPECT_TRUE(queue_->CheckInvariants());
}

TEST_F(ReassemblyQueueTest, MalformedPayloadRangeIsRefusedAndFreed) {
  Packet* p = Segment(0, 100);  // 140 bytes of data
  EXPECT_EQ(queue_->Insert(p, SeqNum(0), kHeader, 101, SeqNum(0)), ReassemblyResult::kMalformed);
  p = Segment(0, 100);
  EXPECT_EQ(queue_->Insert(p, SeqNum(0), 141, 0, SeqNum(0)), ReassemblyResult::kMalformed);
  p = Segment(0, 100);
  EXPECT_EQ(queue_->Insert(p, SeqNum(0), 0xffff, 0xffff, SeqNum(0)), ReassemblyResult::kMalformed);
  EXPECT_EQ(queue_->Insert(nullptr, SeqNum(0), 0, 0, SeqNum(0)), ReassemblyResult::kMalformed);
  // The whole packet as payload is fine.
  p = Segment(0, 100);
  EXPECT_EQ(queue_->Insert(p, SeqNum(0), 0, 140, SeqNum(0)), ReassemblyResult::kQueued);
  EXPECT_EQ(queue_->bytes(), 140u);
}

TEST_F(ReassemblyQueueTest, SackFollowsRfc2018Section5Case3) {
  // RFC 2018 §5, case 3: left edge 5000, eight 500-byte segments; the 2nd,
  // 4th, 6th and 8th are lost. The SACK options must match the RFC's table.
  uint32_t rcv_nxt = 5000;
  EXPECT_EQ(Insert(5000, 500, rcv_nxt), ReassemblyResult::kQueued);
  rcv_nxt += PopAndCheck(rcv_nxt);
  EXPECT_EQ(rcv_nxt, 5500u);
  EXPECT_TRUE(Sack(rcv_nxt).empty());
  Insert(6000, 500, rcv_nxt);
  EXPECT_EQ(Sack(rcv_nxt, 3), (std::vector<SackBlock>{B(6000, 6500)}));
  Insert(7000, 500, rcv_nxt);
  EXPECT_EQ(Sack(rcv_nxt, 3), (std::vector<SackBlock>{B(7000, 7500), B(6000, 6500)}));
  Insert(8000, 500, rcv_nxt);
  EXPECT_EQ(Sack(rcv_nxt, 3), (std::vector<SackBlock>{B(8000, 8500), B(7000, 7500), B(6000, 6500)}));
  // "Suppose at this point, the 4th packet is received out of order."
  Insert(6500, 500, rcv_nxt);
  EXPECT_EQ(Sack(rcv_nxt, 3), (std::vector<SackBlock>{B(6000, 7500), B(8000, 8500)}));
  // "Suppose at this point, the 2nd segment is received."
  Insert(5500, 500, rcv_nxt);
  rcv_nxt += PopAndCheck(rcv_nxt);
  EXPECT_EQ(rcv_nxt, 7500u);
  EXPECT_EQ(Sack(rcv_nxt, 3), (std::vector<SackBlock>{B(8000, 8500)}));
  rcv_nxt += 500;  // the 6th arrives and is delivered directly
  EXPECT_EQ(PopAndCheck(rcv_nxt), 500u);
}

TEST_F(ReassemblyQueueTest, SackReportsAtMostNBlocksMostRecentFirst) {
  for (uint32_t i = 0; i < 6; ++i) Insert(1000 + i * 1000, 100, 0);
  EXPECT_EQ(Sack(0, 4), (std::vector<SackBlock>{B(6000, 6100), B(5000, 5100), B(4000, 4100), B(3000, 3100)}));
  EXPECT_EQ(Sack(0, 3), (std::vector<SackBlock>{B(6000, 6100), B(5000, 5100), B(4000, 4100)}));
  // A segment into an old block makes it first again...
  Insert(2100, 50, 0);
  EXPECT_EQ(Sack(0, 3), (std::vector<SackBlock>{B(2000, 2150), B(6000, 6100), B(5000, 5100)}));
  // ...and so does a duplicate of data in it: the block "containing the
  // segment which triggered this ACK" (RFC 2018 §4).
  EXPECT_EQ(Insert(1000, 100, 0), ReassemblyResult::kDuplicate);
  EXPECT_EQ(Sack(0, 3), (std::vector<SackBlock>{B(1000, 1100), B(2000, 2150), B(6000, 6100)}));
  EXPECT_EQ(Sack(0, 0), std::vector<SackBlock>{});
}

TEST_F(ReassemblyQueueTest, SackAndPopClipAtRcvNxt) {
  // The caller delivered in-order data that reached into queued blocks.
  Insert(1000, 500, 0);
  Insert(2000, 500, 0);
  EXPECT_EQ(Sack(1200), (std::vector<SackBlock>{B(2000, 2500), B(1200, 1500)}));
  EXPECT_EQ(Sack(1500), (std::vector<SackBlock>{B(2000, 2500)}));
  EXPECT_EQ(PopAndCheck(1200), 300u);
  EXPECT_EQ(PopAndCheck(2100), 400u);
  EXPECT_TRUE(queue_->empty());
  EXPECT_EQ(queue_->segments(), 0);
}

TEST_F(ReassemblyQueueTest, ClearAndDestructorFreeEverything) {
  for (uint32_t i = 0; i < 5; ++i) Insert(1000 + i * 1000, 100, 0);
  EXPECT_EQ(pool_.available(), kPoolSize - 5);
  queue_->Clear();
  EXPECT_EQ(pool_.available(), kPoolSize);
  EXPECT_TRUE(queue_->empty());
  EXPECT_TRUE(queue_->CheckInvariants());
  for (uint32_t i = 0; i < 5; ++i) Insert(1000 + i * 1000, 100, 0);
  // TearDown destroys the queue and checks the pool.
}

// ---------------------------------------------------------------------------
// Randomized comparison with a byte-level model of the documented policy.

class Model {
 public:
  Model(uint64_t rcv_nxt, uint32_t max_bytes, uint16_t max_segments)
      : rcv_nxt_(rcv_nxt), max_bytes_(max_bytes), max_segments_(max_segments) {}

  ReassemblyResult Insert(uint64_t s0, uint32_t len, uint8_t version) {
    Prune();
    const uint64_t e0 = s0 + len;
    if (len == 0 || e0 <= rcv_nxt_) return ReassemblyResult::kDuplicate;
    const uint64_t limit = rcv_nxt_ + max_bytes_;
    if (s0 >= limit) return ReassemblyResult::kOutOfWindow;
    uint64_t s = std::max(s0, rcv_nxt_), e = std::min(e0, limit);
    for (Island& i : islands_) {
      if (i.start <= s && s < i.end) {
        if (e <= i.end) {
          i.stamp = ++clock_;
          return ReassemblyResult::kDuplicate;
        }
        s = i.end;
        break;
      }
    }
    for (const Island& i : islands_) {
      if (s < i.start && i.start < e) e = i.start;
    }
    int left = -1, right = -1;
    for (size_t k = 0; k < islands_.size(); ++k) {
      if (islands_[k].end == s) left = static_cast<int>(k);
      if (islands_[k].start == e) right = static_cast<int>(k);
    }
    const bool at_rcv_nxt = s == rcv_nxt_;
    if (left < 0 && right < 0 && islands_.size() >= ReassemblyQueue::kMaxBlocks && !at_rcv_nxt) {
      return ReassemblyResult::kBlockLimit;
    }
    if (packets_.size() >= max_segments_ && !at_rcv_nxt) return ReassemblyResult::kSegmentLimit;
    for (uint64_t p = s; p < e; ++p) bytes_[p] = Byte(static_cast<uint32_t>(p), version);
    packets_.push_back({s, e});
    Island merged{s, e, ++clock_};
    if (left >= 0) merged.start = islands_[left].start;
    if (right >= 0) merged.end = islands_[right].end;
    std::erase_if(islands_, [&](const Island& i) { return i.end == s || i.start == e; });
    islands_.push_back(merged);
    return ReassemblyResult::kQueued;
  }

  // The bytes popped at rcv_nxt, advancing it.
  std::vector<uint8_t> Pop() {
    Prune();
    std::vector<uint8_t> out;
    for (auto it = islands_.begin(); it != islands_.end(); ++it) {
      if (it->start != rcv_nxt_) continue;
      for (uint64_t p = it->start; p < it->end; ++p) out.push_back(bytes_.at(p));
      rcv_nxt_ = it->end;
      islands_.erase(it);
      Prune();
      break;
    }
    return out;
  }

  // In-order data delivered by the caller without the queue.
  void Skip(uint32_t n) {
    rcv_nxt_ += n;
  }

  std::vector<std::pair<uint64_t, uint64_t>> Sack(size_t n) const {
    std::vector<Island> sorted = islands_;
    std::sort(sorted.begin(), sorted.end(), [](const Island& a, const Island& b) { return a.stamp > b.stamp; });
    std::vector<std::pair<uint64_t, uint64_t>> out;
    for (const Island& i : sorted) {
      if (out.size() == n) break;
      if (i.end <= rcv_nxt_) continue;
      out.push_back({std::max(i.start, rcv_nxt_), i.end});
    }
    return out;
  }

  uint64_t rcv_nxt() const { return rcv_nxt_; }
  size_t segments() const { return packets_.size(); }
  size_t held_bytes() const { return bytes_.size(); }

 private:
  struct Island {
    uint64_t start, end, stamp;
  };

  void Prune() {
    std::erase_if(islands_, [&](const Island& i) { return i.end <= rcv_nxt_; });
    for (Island& i : islands_) i.start = std::max(i.start, rcv_nxt_);
    bytes_.erase(bytes_.begin(), bytes_.lower_bound(rcv_nxt_));
    std::erase_if(packets_, [&](const std::pair<uint64_t, uint64_t>& p) { return p.second <= rcv_nxt_; });
  }

  uint64_t rcv_nxt_;
  uint32_t max_bytes_;
  uint16_t max_segments_;
  std::map<uint64_t, uint8_t> bytes_;
  std::vector<Island> islands_;
  std::vector<std::pair<uint64_t, uint64_t>> packets_;
  uint64_t clock_ = 0;
};

class ReassemblyModelTest : public ReassemblyQueueTest, public ::testing::WithParamInterface<uint64_t> {};

TEST_P(ReassemblyModelTest, MatchesModel) {
  constexpr uint32_t kMaxBytes = 20'000;
  constexpr uint16_t kMaxSegments = 24;
  MakeQueue({.max_bytes = kMaxBytes, .max_segments = kMaxSegments});
  std::mt19937_64 rng(GetParam());
  // Start close to 2^32 so the run wraps (the model counts unwrapped).
  const uint64_t start = 0xffffffffull - 30'000 + rng() % 10'000;
  Model model(start, kMaxBytes, kMaxSegments);
  auto wire_seq = [](uint64_t s) { return static_cast<uint32_t>(s); };
  size_t results[6] = {};
  uint64_t delivered = 0;
  for (int step = 0; step < 30'000; ++step) {
    const uint64_t nxt = model.rcv_nxt();
    const int op = static_cast<int>(rng() % 100);
    if (op < 75) {
      // A segment somewhere around the window, sometimes exactly at RCV.NXT.
      uint64_t s = op < 10 ? nxt : nxt - 2000 + rng() % (kMaxBytes + 4000);
      const uint16_t len = static_cast<uint16_t>(op < 5 ? 0 : rng() % 1461);
      const uint8_t version = static_cast<uint8_t>(rng());
      const ReassemblyResult want = model.Insert(s, len, version);
      const ReassemblyResult got = Insert(wire_seq(s), len, wire_seq(nxt), version);
      ASSERT_EQ(got, want) << "step " << step << " seq " << s - start << " len " << len;
      ++results[static_cast<int>(got)];
    } else if (op < 90) {
      const std::vector<uint8_t> want = model.Pop();
      Delivered d = queue_->Pop(SeqNum(wire_seq(nxt)));
      std::vector<uint8_t> got;
      for (Packet* p = d.head; p != nullptr;) {
        got.insert(got.end(), p->bytes().begin(), p->bytes().end());
        Packet* next = p->next;
        link::FreePacket(p);
        p = next;
      }
      ASSERT_EQ(got, want) << "step " << step;
      ASSERT_EQ(d.bytes, got.size());
      delivered += got.size();
    } else {
      // In-order data that bypassed the queue.
      const uint32_t n = static_cast<uint32_t>(rng() % 3000);
      model.Skip(n);
    }
    const uint64_t now_nxt = model.rcv_nxt();
    for (size_t n : {3, 4}) {
      std::vector<SackBlock> got = Sack(wire_seq(now_nxt), n);
      std::vector<std::pair<uint64_t, uint64_t>> want = model.Sack(n);
      ASSERT_EQ(got.size(), want.size()) << "step " << step;
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_EQ(got[i].left.raw(), wire_seq(want[i].first)) << "step " << step << " block " << i;
        ASSERT_EQ(got[i].right.raw(), wire_seq(want[i].second)) << "step " << step << " block " << i;
      }
    }
    ASSERT_TRUE(queue_->CheckInvariants()) << "step " << step;
    // The queue prunes lazily (on Insert/Pop), the model too, so counters
    // are compared after the same operations.
    if (op < 90) {
      ASSERT_EQ(queue_->segments(), model.segments()) << "step " << step;
      ASSERT_EQ(queue_->bytes(), model.held_bytes()) << "step " << step;
    }
    ASSERT_EQ(pool_.available(), kPoolSize - queue_->segments());
  }
  // The run exercised every outcome but kMalformed, and wrapped.
  for (int r = 0; r < 5; ++r) EXPECT_GT(results[r], 50u) << "result " << r;
  EXPECT_GT(delivered, 100'000u);
  EXPECT_GT(model.rcv_nxt(), uint64_t{1} << 32);
}

INSTANTIATE_TEST_SUITE_P(Seeds, ReassemblyModelTest, ::testing::Values(1, 2, 3, 4));

}  // namespace
}  // namespace locus::tcp
