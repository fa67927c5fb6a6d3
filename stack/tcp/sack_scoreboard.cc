#include "stack/tcp/sack_scoreboard.h"

#include <algorithm>

namespace locus::tcp {

using wire::SeqMax;
using wire::SeqMin;
using wire::SeqNum;

namespace {

uint32_t Distance(SeqNum from, SeqNum to) {  // requires from <= to
  return static_cast<uint32_t>(to - from);
}

}  // namespace

void SackScoreboard::Reset(SeqNum snd_una, uint32_t smss) {
  *this = SackScoreboard();
  snd_una_ = snd_una;
  high_rxt_ = snd_una;
  rescue_rxt_ = snd_una;
  recovery_point_ = snd_una;
  set_smss(smss);
}

uint32_t SackScoreboard::sacked_bytes() const {
  uint32_t total = 0;
  for (uint8_t i = 0; i < count_; ++i) total += Distance(ranges_[i].start, ranges_[i].end);
  return total;
}

bool SackScoreboard::IsSacked(SeqNum seq) const {
  for (uint8_t i = 0; i < count_; ++i) {
    if (wire::SeqInRange(seq, ranges_[i].start, ranges_[i].end)) return true;
  }
  return false;
}

template <typename F>
void SackScoreboard::ForEachHole(SeqNum limit, F&& f) const {
  // SACKed octets and ranges above the current hole, for IsLost().
  uint32_t bytes_above = sacked_bytes();
  uint32_t ranges_above = count_;
  const uint64_t byte_threshold = uint64_t{kDupThresh - 1} * smss_;
  const bool after_timeout = state_ == State::kRtoRecovery;
  SeqNum from = snd_una_;
  for (uint8_t i = 0; i <= count_; ++i) {
    const bool tail = i == count_;
    SeqNum to = tail ? limit : SeqMin(ranges_[i].start, limit);
    const bool lost = ranges_above >= kDupThresh || bytes_above > byte_threshold;
    if (from < to) {
      if (after_timeout && from < recovery_point_ && recovery_point_ < to) {
        // §5.1: everything below RecoveryPoint is lost; split there.
        if (!f(from, recovery_point_, true)) return;
        from = recovery_point_;
      }
      if (!f(from, to, lost || (after_timeout && from < recovery_point_))) return;
    }
    if (tail || !(ranges_[i].end < limit)) return;
    from = ranges_[i].end;
    bytes_above -= Distance(ranges_[i].start, ranges_[i].end);
    --ranges_above;
  }
}

bool SackScoreboard::IsLost(SeqNum seq) const {
  if (seq < snd_una_ || IsSacked(seq)) return false;
  if (state_ == State::kRtoRecovery && seq < recovery_point_) return true;
  uint32_t ranges_above = 0;
  uint64_t bytes_above = 0;
  for (uint8_t i = 0; i < count_; ++i) {
    if (seq < ranges_[i].start) {
      ++ranges_above;
      bytes_above += Distance(ranges_[i].start, ranges_[i].end);
    }
  }
  return ranges_above >= kDupThresh || bytes_above > uint64_t{kDupThresh - 1} * smss_;
}

uint32_t SackScoreboard::Insert(SeqNum start, SeqNum end, uint8_t* dropped) {
  // Ranges [i, j) overlap or touch [start, end) and merge with it.
  uint8_t i = 0;
  while (i < count_ && ranges_[i].end < start) ++i;
  uint8_t j = i;
  uint32_t covered = 0;
  SeqNum merged_start = start, merged_end = end;
  while (j < count_ && ranges_[j].start <= end) {
    const SeqNum lo = SeqMax(ranges_[j].start, start);
    const SeqNum hi = SeqMin(ranges_[j].end, end);
    if (lo < hi) covered += Distance(lo, hi);
    merged_start = SeqMin(merged_start, ranges_[j].start);
    merged_end = SeqMax(merged_end, ranges_[j].end);
    ++j;
  }
  const uint32_t newly = Distance(start, end) - covered;
  if (j > i) {
    ranges_[i] = {merged_start, merged_end};
    std::copy(ranges_ + j, ranges_ + count_, ranges_ + i + 1);
    count_ = static_cast<uint8_t>(count_ - (j - i - 1));
    return newly;
  }
  if (count_ == kMaxRanges) {
    ++*dropped;
    if (i == count_) return 0;  // the new block would be the highest range
    --count_;                   // forget the highest range instead
  }
  std::copy_backward(ranges_ + i, ranges_ + count_, ranges_ + count_ + 1);
  ranges_[i] = {start, end};
  ++count_;
  return newly;
}

void SackScoreboard::DropBelow(SeqNum ack) {
  uint8_t gone = 0;
  while (gone < count_ && ranges_[gone].end <= ack) ++gone;
  std::copy(ranges_ + gone, ranges_ + count_, ranges_);
  count_ = static_cast<uint8_t>(count_ - gone);
  if (count_ > 0 && ranges_[0].start < ack) ranges_[0].start = ack;
}

SackScoreboard::AckResult SackScoreboard::OnAck(SeqNum ack, SeqNum snd_nxt,
                                                std::span<const SackRange> blocks) {
  AckResult result;
  if (snd_nxt < ack) {
    result.ack_ignored = true;
    return result;
  }
  if (snd_una_ < ack) {
    result.acked_bytes = Distance(snd_una_, ack);
    snd_una_ = ack;
    DropBelow(ack);
    high_rxt_ = SeqMax(high_rxt_, ack);
    dup_acks_ = 0;  // §5: a cumulative ACK resets DupAcks
  }

  size_t n = blocks.size();
  if (n > kMaxBlocksPerAck) {
    result.invalid_blocks = static_cast<uint8_t>(std::min<size_t>(n - kMaxBlocksPerAck, 255));
    n = kMaxBlocksPerAck;
  }
  size_t first = 0;
  if (n > 0 && blocks[0].start < blocks[0].end) {
    // RFC 2883 §4: a first block below the cumulative ACK, or contained in
    // the second block, reports a duplicate segment.
    const bool below_ack = blocks[0].start < ack;
    const bool inside_second = n > 1 && blocks[1].start <= blocks[0].start &&
                               blocks[0].end <= blocks[1].end;
    if (below_ack || inside_second) {
      result.dsack = true;
      first = 1;
    }
  }
  for (size_t k = first; k < n; ++k) {
    const SackRange& b = blocks[k];
    // RFC 2018 §3 edges; anything outside the outstanding window is stale
    // or forged and must not mark data SACKed.
    if (!(b.start < b.end) || b.start < snd_una_ || snd_nxt < b.end) {
      ++result.invalid_blocks;
      continue;
    }
    result.newly_sacked_bytes += Insert(b.start, b.end, &result.dropped_ranges);
  }
  if (result.newly_sacked_bytes > 0) {
    result.dup_ack = true;  // RFC 6675 §2 definition
    if (dup_acks_ < UINT8_MAX) ++dup_acks_;
  }
  // Reneging evidence lasts as long as the ranges that may be stale.
  if (count_ == 0) reneging_ = false;
  if (count_ > 0 && ranges_[0].start == snd_una_) reneging_ = true;
  result.reneging = reneging_;

  if (state_ != State::kOpen && recovery_point_ <= snd_una_) {
    // §5 step A (and the §5.1 hold-off after a timeout) is over.
    result.fast_recovery_ended = state_ == State::kFastRecovery;
    result.rto_recovery_ended = state_ == State::kRtoRecovery;
    state_ = State::kOpen;
    // Retransmissions above RecoveryPoint (holes in data sent during
    // recovery) must not count as in flight in the open state.
    high_rxt_ = snd_una_;
  }
  SetPipe(snd_nxt);
  return result;
}

bool SackScoreboard::ShouldEnterRecovery() const {
  if (state_ != State::kOpen) return false;
  return dup_acks_ >= kDupThresh || IsLost(snd_una_);
}

SackScoreboard::Segment SackScoreboard::EnterRecovery(SeqNum snd_nxt) {
  if (!(snd_una_ < snd_nxt)) return {};
  state_ = State::kFastRecovery;
  recovery_point_ = snd_nxt;  // 4.1
  // 4.3: the segment starting at HighACK + 1, up to the first SACKed octet
  // (or a full SMSS of it if the receiver reneged on that octet).
  SeqNum hole_end = count_ > 0 && snd_una_ < ranges_[0].start ? ranges_[0].start : snd_nxt;
  Segment seg;
  seg.rule = Segment::Rule::kFastRetransmit;
  seg.start = snd_una_;
  seg.length = std::min(smss_, Distance(snd_una_, hole_end));
  high_rxt_ = seg.end();
  rescue_rxt_ = seg.end();
  SetPipe(snd_nxt);  // 4.4
  return seg;
}

SackScoreboard::Segment SackScoreboard::NextSeg(SeqNum snd_nxt, bool can_send_new_data) const {
  Segment seg;
  auto take = [&](Segment::Rule rule, SeqNum start, SeqNum end) {
    seg.rule = rule;
    seg.start = start;
    seg.length = std::min(smss_, Distance(start, end));
  };
  auto new_data = [&] {
    if (can_send_new_data) {
      seg.rule = Segment::Rule::kNewData;
      seg.start = snd_nxt;
      seg.length = smss_;
    }
    return seg;
  };

  if (state_ == State::kOpen) return new_data();

  if (state_ == State::kRtoRecovery) {
    // §5.1: fill the holes below RecoveryPoint from the lowest, each once.
    ForEachHole(SeqMin(recovery_point_, snd_nxt), [&](SeqNum from, SeqNum to, bool) {
      const SeqNum s = SeqMax(from, high_rxt_);
      if (s < to) take(Segment::Rule::kRtoRetransmit, s, to);
      return seg.empty();
    });
    return seg.empty() ? new_data() : seg;
  }

  // Fast recovery. Rules 1 and 3 only look below the highest SACKed octet
  // (1.b); the holes there are visited in ascending order.
  const SeqNum highest_sacked = count_ > 0 ? ranges_[count_ - 1].end : snd_una_;
  // Rule 1: the first octet above HighRxt (1.a) that IsLost (1.c).
  ForEachHole(highest_sacked, [&](SeqNum from, SeqNum to, bool lost) {
    const SeqNum s = SeqMax(from, high_rxt_);
    if (lost && s < to) take(Segment::Rule::kLost, s, to);
    return seg.empty();
  });
  if (!seg.empty()) return seg;
  // Rule 2: new data.
  if (can_send_new_data) return new_data();
  // Rule 3: as rule 1 without (1.c).
  ForEachHole(highest_sacked, [&](SeqNum from, SeqNum to, bool) {
    const SeqNum s = SeqMax(from, high_rxt_);
    if (s < to) take(Segment::Rule::kNotLost, s, to);
    return seg.empty();
  });
  if (!seg.empty()) return seg;
  // Rule 4: one rescue retransmission per recovery, once HighACK >
  // RescueRxt, of the segment ending at the highest unSACKed octet.
  if (rescue_rxt_ < snd_una_) {
    SeqNum last_from, last_to;
    bool found = false;
    ForEachHole(snd_nxt, [&](SeqNum from, SeqNum to, bool) {
      last_from = from;
      last_to = to;
      found = true;
      return true;
    });
    if (found) {
      seg.rule = Segment::Rule::kRescue;
      seg.length = std::min(smss_, Distance(last_from, last_to));
      seg.start = last_to - seg.length;
    }
  }
  return seg;
}

void SackScoreboard::OnSegmentSent(const Segment& segment) {
  switch (segment.rule) {
    case Segment::Rule::kNone:
      return;
    case Segment::Rule::kFastRetransmit:
    case Segment::Rule::kLost:
    case Segment::Rule::kNotLost:
    case Segment::Rule::kRtoRetransmit:
      high_rxt_ = SeqMax(high_rxt_, segment.end());  // C.2
      break;
    case Segment::Rule::kRescue:
      rescue_rxt_ = recovery_point_;  // rule 4; HighRxt MUST NOT change
      break;
    case Segment::Rule::kNewData:
      break;  // C.3: the connection advances SND.NXT
  }
  pipe_ += segment.length;  // C.4
}

SackScoreboard::Segment SackScoreboard::OnRetransmitTimeout(SeqNum snd_nxt) {
  if (reneging_) {
    count_ = 0;  // RFC 2018 §8: the receiver may have discarded any of it
    reneging_ = false;
  }
  state_ = State::kRtoRecovery;
  recovery_point_ = SeqMax(snd_nxt, snd_una_);
  high_rxt_ = snd_una_;
  dup_acks_ = 0;
  Segment seg;
  if (snd_una_ < snd_nxt) {
    // Without reneging the range at index 0 starts above SND.UNA.
    const SeqNum hole_end = count_ > 0 ? ranges_[0].start : snd_nxt;
    seg.rule = Segment::Rule::kRtoRetransmit;
    seg.start = snd_una_;
    seg.length = std::min(smss_, Distance(snd_una_, hole_end));
    high_rxt_ = seg.end();
  }
  SetPipe(snd_nxt);
  return seg;
}

uint32_t SackScoreboard::SetPipe(SeqNum snd_nxt) {
  uint64_t pipe = 0;
  ForEachHole(snd_nxt, [&](SeqNum from, SeqNum to, bool lost) {
    // (a) octets not lost are presumed in flight; (b) octets retransmitted
    // in this recovery (below HighRxt) are in flight once more.
    if (!lost) pipe += Distance(from, to);
    if (from < high_rxt_) pipe += Distance(from, SeqMin(to, high_rxt_));
    return true;
  });
  pipe_ = static_cast<uint32_t>(std::min<uint64_t>(pipe, UINT32_MAX));
  return pipe_;
}

}  // namespace locus::tcp
