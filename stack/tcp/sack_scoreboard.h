// Sender-side SACK state (RFC 2018) and the conservative SACK loss recovery
// of RFC 6675: the scoreboard, IsLost(), SetPipe(), NextSeg() and the
// recovery variables (DupAcks, RecoveryPoint, HighRxt, RescueRxt, pipe).
//
// The connection owns the data and the congestion window. Per ACK it calls
// OnAck() (RFC 6675 Update()), then asks ShouldEnterRecovery() (§5 steps
// 1-2); on entry it reduces cwnd (CongestionControl::EnterRecovery with
// RecoveryKind::kSack, §5 step 4.2) and calls EnterRecovery() here. In
// recovery it sends while cwnd - pipe() >= SMSS, asking NextSeg() what to
// send and reporting each transmission with OnSegmentSent() (§5 step C).
//
// Sequence-number conventions: RFC 6675 names octets (HighACK is the last
// acknowledged octet, HighData the last sent one). Here every bound is
// half-open, as SND.UNA and SND.NXT are: snd_una = HighACK + 1,
// snd_nxt = HighData + 1, high_rxt() = HighRxt + 1, rescue_rxt() =
// RescueRxt + 1, recovery_point() = RecoveryPoint + 1.
//
// `snd_nxt` arguments must be the highest sequence number sent plus one
// (BSD's SND.MAX). A connection that rewinds SND.NXT on a timeout must pass
// the un-rewound value.
//
// Memory: the SACKed ranges live in a fixed inline array of kMaxRanges; the
// object is 92 bytes whether or not SACK is in use and never allocates.
#ifndef LOCUS_STACK_TCP_SACK_SCOREBOARD_H_
#define LOCUS_STACK_TCP_SACK_SCOREBOARD_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/wire/seq_num.h"

namespace locus::tcp {

// One SACK block as carried by the option (RFC 2018 §3): [start, end), i.e.
// Left Edge and Right Edge.
struct SackRange {
  wire::SeqNum start;
  wire::SeqNum end;
};

class SackScoreboard {
 public:
  // Disjoint SACKed ranges remembered above SND.UNA. Each range has a hole
  // below it, so this is also the number of holes tracked. The receiver
  // reports at most 4 blocks per ACK (3 with timestamps, RFC 2018 §3) and
  // repeats the most recent ones (§4), so a handful of ranges covers the
  // usual loss episode (one burst, or a few scattered drops per window);
  // 8 keeps the idle footprint at 64 bytes. On overflow the highest range
  // is forgotten: data there may be retransmitted needlessly and IsLost()
  // becomes more conservative, but nothing unSACKed is ever treated as
  // SACKed, so correctness never depends on this bound.
  static constexpr size_t kMaxRanges = 8;
  // RFC 2018 §3: a 40-byte option space holds at most 4 blocks; more in
  // one call is malformed input and the excess is ignored.
  static constexpr size_t kMaxBlocksPerAck = 4;
  // RFC 6675 §2 (and RFC 5681 §3.2).
  static constexpr uint32_t kDupThresh = 3;

  enum class State : uint8_t {
    kOpen,
    kFastRecovery,  // RFC 6675 §5 loss recovery, until RecoveryPoint is acked
    kRtoRecovery,   // after a timeout, until RecoveryPoint is acked (§5.1)
  };

  // A range to transmit, and why.
  struct Segment {
    enum class Rule : uint8_t {
      kNone,
      kFastRetransmit,  // §5 step 4.3: the segment at SND.UNA
      kLost,            // NextSeg rule 1
      kNewData,         // NextSeg rule 2 (caller trims to data and window)
      kNotLost,         // NextSeg rule 3
      kRescue,          // NextSeg rule 4
      kRtoRetransmit,   // §5.1 "filling in" after a timeout
    };
    Rule rule = Rule::kNone;
    wire::SeqNum start;
    uint32_t length = 0;

    wire::SeqNum end() const { return start + length; }
    bool empty() const { return rule == Rule::kNone; }
  };

  struct AckResult {
    uint32_t acked_bytes = 0;         // cumulative advance of SND.UNA
    uint32_t newly_sacked_bytes = 0;  // octets SACKed for the first time
    uint8_t invalid_blocks = 0;       // malformed or outside [SND.UNA, SND.NXT]
    uint8_t dropped_ranges = 0;       // forgotten because of kMaxRanges
    // RFC 6675 §2: the ACK SACKed new data between HighACK and HighData.
    // Counted whether or not it also advanced SND.UNA.
    bool dup_ack = false;
    // RFC 2883 §4: the first block was a D-SACK (below the cumulative ACK
    // or inside the second block). Reported, not used for recovery.
    bool dsack = false;
    // RFC 2018 §8: SND.UNA now sits at the left edge of remembered SACKed
    // data, so the receiver discarded (reneged on) it. Sticky while any
    // SACKed range is remembered; the next timeout then forgets them all.
    bool reneging = false;
    // §5 step A: SND.UNA reached RecoveryPoint; fast recovery is over and
    // the connection must call CongestionControl::ExitRecovery.
    bool fast_recovery_ended = false;
    // The same for the post-timeout phase of §5.1 (no cwnd action).
    bool rto_recovery_ended = false;
    // The cumulative ACK acknowledged unsent data; nothing was changed.
    bool ack_ignored = false;
  };

  SackScoreboard() = default;
  SackScoreboard(wire::SeqNum snd_una, uint32_t smss) { Reset(snd_una, smss); }

  // Forget everything; SND.UNA = snd_una.
  void Reset(wire::SeqNum snd_una, uint32_t smss);
  // SMSS changed (PMTU); smss of 0 is treated as 1.
  void set_smss(uint32_t smss) { smss_ = smss == 0 ? 1 : smss; }

  // RFC 6675 Update() for one incoming ACK: `ack` is its cumulative
  // acknowledgment field and `blocks` its SACK blocks, as received.
  // - ack in (SND.UNA, snd_nxt]: SND.UNA advances; covered state is
  //   dropped, DupAcks resets (§5).
  // - ack below SND.UNA (a reordered old ACK): only its blocks are used.
  // - ack above snd_nxt: ignored entirely (ack_ignored).
  // A block is used only if start < end and it lies within [SND.UNA,
  // snd_nxt]. Recomputes pipe (§5 step B.2).
  AckResult OnAck(wire::SeqNum ack, wire::SeqNum snd_nxt, std::span<const SackRange> blocks);

  // RFC 6675 §5 steps (1)-(2): open state (and, after a timeout, SND.UNA
  // has reached the RecoveryPoint it set, §5.1), and either DupAcks >=
  // DupThresh or IsLost(SND.UNA). When false after a dup_ack, the
  // connection MAY use Limited Transmit (RFC 3042, §5 step 3).
  bool ShouldEnterRecovery() const;

  // RFC 6675 §5 step 4: RecoveryPoint = HighData (4.1); returns the
  // segment at SND.UNA to retransmit now (4.3), already recorded as sent:
  // HighRxt and RescueRxt are set to its end, and pipe is recomputed (4.4).
  // Do not report it with OnSegmentSent. kNone if nothing is outstanding.
  Segment EnterRecovery(wire::SeqNum snd_nxt);

  // RFC 6675 §4 NextSeg(), rules 1-4 in fast recovery; after a timeout,
  // the lowest unSACKed data not yet retransmitted below RecoveryPoint
  // (§5.1), then new data. In the open state only rule 2 applies.
  // can_send_new_data: unsent data exists and the peer's window allows it.
  Segment NextSeg(wire::SeqNum snd_nxt, bool can_send_new_data) const;

  // §5 steps C.2-C.4 for a segment from NextSeg() that was sent (its length
  // may have been trimmed): HighRxt or RescueRxt, and pipe += length.
  void OnSegmentSent(const Segment& segment);

  // The retransmission timer expired. RFC 6675 §5.1: fast recovery ends and
  // RecoveryPoint = HighData. SACK state is kept (RFC 6675 §5.1 allows it
  // given a reneging test, RFC 2018 Errata 1610) unless reneging was seen,
  // in which case it is all forgotten (RFC 2018 §8). Every unSACKed octet
  // below RecoveryPoint counts as lost and none as retransmitted: HighRxt =
  // SND.UNA, so pipe becomes 0 (plus the segment returned). Returns the
  // segment at SND.UNA (RFC 2018 §8 / RFC 6298 §5.4: always retransmitted),
  // already recorded as sent, or kNone if nothing is outstanding.
  Segment OnRetransmitTimeout(wire::SeqNum snd_nxt);

  // RFC 6675 §4 IsLost(): unSACKed, at or above SND.UNA, and either
  // DupThresh discontiguous SACKed ranges or more than (DupThresh-1)*SMSS
  // SACKed octets lie above it. Also true below RecoveryPoint after a
  // timeout.
  bool IsLost(wire::SeqNum seq) const;
  bool IsSacked(wire::SeqNum seq) const;

  // RFC 6675 §4 SetPipe(): recomputes and returns pipe.
  uint32_t SetPipe(wire::SeqNum snd_nxt);
  uint32_t pipe() const { return pipe_; }

  State state() const { return state_; }
  bool in_recovery() const { return state_ != State::kOpen; }
  wire::SeqNum snd_una() const { return snd_una_; }
  wire::SeqNum high_rxt() const { return high_rxt_; }
  wire::SeqNum rescue_rxt() const { return rescue_rxt_; }
  wire::SeqNum recovery_point() const { return recovery_point_; }
  uint32_t dup_acks() const { return dup_acks_; }
  bool reneging_suspected() const { return reneging_; }
  uint32_t sacked_bytes() const;
  std::span<const SackRange> ranges() const { return {ranges_, count_}; }

 private:
  // Adds [start, end) (already validated); returns the octets newly
  // covered and counts a forgotten range in *dropped.
  uint32_t Insert(wire::SeqNum start, wire::SeqNum end, uint8_t* dropped);
  void DropBelow(wire::SeqNum ack);
  // Calls f(start, end, lost) for each unSACKed interval of [SND.UNA,
  // limit) in ascending order until f returns false. `lost` is IsLost() of
  // every octet in the interval, which is uniform within one hole.
  template <typename F>
  void ForEachHole(wire::SeqNum limit, F&& f) const;

  SackRange ranges_[kMaxRanges];  // sorted, disjoint, non-adjacent
  wire::SeqNum snd_una_;
  wire::SeqNum high_rxt_;
  wire::SeqNum rescue_rxt_;
  wire::SeqNum recovery_point_;
  uint32_t pipe_ = 0;
  uint32_t smss_ = 1;
  uint8_t count_ = 0;
  State state_ = State::kOpen;
  uint8_t dup_acks_ = 0;  // saturates; only compared with kDupThresh
  bool reneging_ = false;
};

}  // namespace locus::tcp

#endif  // LOCUS_STACK_TCP_SACK_SCOREBOARD_H_
