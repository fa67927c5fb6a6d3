// SEGMENT ARRIVES for a connection that has a Tcb: RFC 9293 §3.10.7.3
// (SYN-SENT) and §3.10.7.4 (every other state), with RFC 5961's defences,
// RFC 7323's PAWS, and loss recovery per RFC 5681, 6582 and 6675.
#include <algorithm>

#include "stack/tcp/tcb.h"
#include "stack/tcp/tcp_layer.h"

namespace locus::tcp {

using wire::SeqNum;

namespace {

// RFC 7323 §5.5: TS.Recent older than 24 days is invalid for PAWS.
constexpr Duration kPawsIdleLimit = Duration::Seconds(24 * 24 * 3600);
// Linux's tcp_invalid_ratelimit: at most one duplicate ACK per 500 ms for
// segments that fail the acceptability test, against ACK wars.
constexpr Duration kInvalidAckInterval = Duration::Millis(500);
// RFC 5681 §3.2 / RFC 6675 §2: DupThresh.
constexpr uint8_t kDupThresh = 3;

void DropPacket(Segment& seg) {
  link::FreePacket(seg.packet);
  seg.packet = nullptr;
}

bool TsBefore(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }

}  // namespace

void Tcb::OnSegment(Segment& seg, Instant now) {
  last_activity_ = now;
  if (keepalive_) RestartKeepalive(now);
  if (state_ == TcpState::kSynSent) {
    OnSegmentSynSent(seg, now);
    return;
  }
  TcpCounters& counters = layer_.mutable_counters();

  // Simultaneous open (RFC 9293 §3.5 Figure 8, line 6): the peer's SYN,ACK
  // in SYN-RECEIVED acknowledges our SYN, and its SYN is the one we already
  // hold. Taken as the ACK it carries, as Linux does (its exception to RFC
  // 5961 §4.2); the sequence check would otherwise find the SYN old.
  if (state_ == TcpState::kSynReceived && seg.syn() && seg.has_ack() && !seg.rst() &&
      seg.seq == irs_ && snd_una_ < seg.ack && seg.ack <= snd_max_) {
    seg.flags &= static_cast<uint8_t>(~wire::TcpFlags::kSyn);
    seg.seq = seg.seq + 1;
  }

  // RFC 7323 §5.3 R1: PAWS, before the sequence number check.
  if (ts_enabled_ && seg.options.timestamps.has_value() && !seg.rst() &&
      TsBefore(seg.options.timestamps->value, ts_recent_) &&
      now - ts_recent_time_ < kPawsIdleLimit) {
    counters.Drop(TcpDrop::kPaws);
    if (now - last_challenge_ack_ >= kInvalidAckInterval) {
      last_challenge_ack_ = now;
      SendAck(now);
    }
    DropPacket(seg);
    return;
  }

  // First: the acceptability test, RFC 9293 §3.10.7.4.
  if (!CheckSequence(seg, now)) {
    DropPacket(seg);
    return;
  }

  // Second: RST. RFC 5961 §3.2: only an exact RCV.NXT match resets; any
  // other in-window RST gets a challenge ACK.
  if (seg.rst()) {
    ++counters.resets_in;
    if (seg.seq != rcv_nxt_) {
      SendChallengeAck(now);
      DropPacket(seg);
      return;
    }
    DropPacket(seg);
    if (state_ == TcpState::kSynReceived) ++counters.failed_opens;
    if (state_ == TcpState::kEstablished || state_ == TcpState::kCloseWait) {
      ++counters.established_resets;
    }
    // CLOSING, LAST-ACK: the connection is simply gone; others report it.
    Terminate(CloseReason::kReset);
    return;
  }

  // Fourth: SYN in a synchronized state, RFC 5961 §4.2 (RFC 9293 §3.10.7.4
  // "fourth"): challenge ACK whatever the sequence number.
  if (seg.syn()) {
    counters.Drop(TcpDrop::kSynInWindow);
    SendChallengeAck(now);
    DropPacket(seg);
    return;
  }

  // Trim to the window now that RST and SYN are decided (§3.10.7.4: "
  // segments with higher beginning sequence numbers may be held").
  if (seg.seq < rcv_nxt_) {
    // The acceptability test guarantees the segment reaches RCV.NXT, so at
    // most the whole payload is old (then only the FIN is new).
    uint32_t before = std::min<uint32_t>(static_cast<uint32_t>(rcv_nxt_ - seg.seq),
                                         seg.payload_length);
    seg.packet->TrimFront(static_cast<uint16_t>(before));
    seg.payload_length -= before;
    seg.seq = rcv_nxt_;
  }
  {
    uint32_t window = static_cast<uint32_t>(std::max<int32_t>(rcv_adv_ - rcv_nxt_, 0));
    uint32_t space = static_cast<uint32_t>(seg.seq - rcv_nxt_);
    uint32_t fits = window > space ? window - space : 0;
    if (seg.payload_length > fits) {
      seg.packet->TrimBack(static_cast<uint16_t>(seg.payload_length - fits));
      seg.payload_length = fits;
      seg.flags &= static_cast<uint8_t>(~wire::TcpFlags::kFin);  // FIN lies beyond the window
      // Answer at once: this is how a zero-window probe gets its reply
      // (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17).
      ack_now_ = true;
      ScheduleOutput();
    }
  }

  // Fifth: the ACK field.
  if (!seg.has_ack()) {
    counters.Drop(TcpDrop::kNotAcceptable);
    DropPacket(seg);
    return;
  }
  if (!ProcessAck(seg, now)) {
    DropPacket(seg);
    return;
  }

  // RFC 7323 §4.3 (2): remember the peer's timestamp for echoing.
  // An expired TS.Recent (§5.5, PAWS bypassed above) is replaced whatever
  // the new value.
  if (ts_enabled_ && seg.options.timestamps.has_value() && seg.seq <= last_ack_sent_ &&
      (!TsBefore(seg.options.timestamps->value, ts_recent_) ||
       now - ts_recent_time_ >= kPawsIdleLimit)) {
    ts_recent_ = seg.options.timestamps->value;
    ts_recent_time_ = now;
  }

  // Seventh: segment text. (Sixth, URG, is not supported: urgent data is
  // delivered inline, RFC 6093 §6.)
  bool fin = seg.fin();
  SeqNum fin_seq = seg.seq + seg.payload_length;
  if (seg.payload_length > 0) {
    ProcessData(seg, now);
  } else {
    DropPacket(seg);
  }

  // Eighth: FIN. Processed only once everything before it has arrived.
  if (fin) {
    switch (state_) {
      case TcpState::kEstablished:
      case TcpState::kFinWait1:
      case TcpState::kFinWait2:
      case TcpState::kSynReceived:
        if (fin_seq == rcv_nxt_) {
          ProcessFin(now);
        } else if (fin_seq > rcv_nxt_) {
          peer_fin_pending_ = true;
          peer_fin_seq_ = fin_seq;
          // Out of order, even without data: duplicate ACK now (RFC 5681 §4.2).
          ack_now_ = true;
          ScheduleOutput();
        }
        break;
      default:
        // CLOSE-WAIT, CLOSING, LAST-ACK: a retransmitted FIN; re-ACK it.
        ack_now_ = true;
        ScheduleOutput();
        break;
    }
  }
}

bool Tcb::CheckSequence(const Segment& seg, Instant now) {
  uint32_t window = static_cast<uint32_t>(std::max<int32_t>(rcv_adv_ - rcv_nxt_, 0));
  uint32_t len = seg.length();
  SeqNum end = rcv_nxt_ + window;
  bool acceptable;
  if (len == 0 && !seg.rst()) {
    // A segment without data or SYN/FIN occupies no sequence space, so one
    // at the right edge is inside the window: a peer that has sent up to
    // the edge we advertised puts SEG.SEQ = RCV.NXT + RCV.WND on every pure
    // ACK while a hole holds RCV.NXT back, and RFC 9293 §3.10.7.4 wants
    // valid ACKs processed even when no data fits. Linux's tcp_sequence
    // accepts SEG.SEQ <= RCV.NXT + RCV.WND too. (RSTs keep the strict
    // window of RFC 5961 §3.2.)
    acceptable = rcv_nxt_ <= seg.seq && seg.seq <= end;
  } else if (len == 0) {
    acceptable = window == 0 ? seg.seq == rcv_nxt_ : SeqInRange(seg.seq, rcv_nxt_, end);
  } else if (window == 0) {
    // §3.10.7.4: with a zero window no data is acceptable, but valid ACKs
    // must still be processed: a probe at RCV.NXT passes and is trimmed.
    acceptable = seg.seq == rcv_nxt_;
  } else {
    acceptable = SeqInRange(seg.seq, rcv_nxt_, end) ||
                 SeqInRange(seg.seq + (len - 1), rcv_nxt_, end);
  }
  if (acceptable) return true;

  TcpCounters& counters = layer_.mutable_counters();
  counters.Drop(TcpDrop::kOutOfWindow);
  if (seg.rst()) return false;  // RST outside the window: silently dropped
  // An old duplicate (entirely below RCV.NXT) is answered at once, since
  // the peer's loss recovery depends on it; anything else is rate limited.
  bool old_duplicate = seg.seq + len <= rcv_nxt_;
  if (old_duplicate || now - last_challenge_ack_ >= kInvalidAckInterval) {
    if (!old_duplicate) last_challenge_ack_ = now;
    SendAck(now);
  }
  return false;
}

void Tcb::OnSegmentSynSent(Segment& seg, Instant now) {
  TcpCounters& counters = layer_.mutable_counters();
  // RFC 9293 §3.10.7.3 first: the ACK must acknowledge our SYN.
  bool ack_ok = false;
  if (seg.has_ack()) {
    if (seg.ack <= iss_ || seg.ack > snd_max_) {
      if (!seg.rst()) SendRst(seg.ack);
      counters.Drop(TcpDrop::kAckInvalid);
      DropPacket(seg);
      return;
    }
    ack_ok = true;  // SND.UNA < SEG.ACK =< SND.NXT
  }
  // Second: RST. RFC 5961 §3.2: in SYN-SENT the RST is valid when its ACK
  // acknowledges the SYN.
  if (seg.rst()) {
    ++counters.resets_in;
    DropPacket(seg);
    if (ack_ok) {
      ++counters.failed_opens;
      Terminate(CloseReason::kRefused);
    }
    return;
  }
  // Fourth: SYN.
  if (!seg.syn()) {
    counters.Drop(TcpDrop::kNotAcceptable);
    DropPacket(seg);
    return;
  }
  irs_ = seg.seq;
  rcv_nxt_ = seg.seq + 1;
  rcv_adv_ = rcv_nxt_;
  NegotiateOptions(seg.options, /*from_syn_ack=*/ack_ok);
  if (ts_enabled_) {
    ts_recent_ = seg.options.timestamps->value;
    ts_recent_time_ = now;
  }
  if (ack_ok) {
    // Our SYN is acknowledged: ESTABLISHED.
    TakeRtt(seg, seg.ack, now);
    snd_una_ = seg.ack;
    if (snd_nxt_ < snd_una_) snd_nxt_ = snd_una_;
    bool syn_retransmitted = retransmits_ > 0;
    retransmits_ = 0;
    // RFC 7323 §2.2: the window of a SYN is never scaled.
    snd_wnd_ = seg.window;
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = seg.seq;
    snd_wl2_ = seg.ack;
    layer_.wheel().Cancel(rexmt_timer_);
    SetState(TcpState::kEstablished);
    ++layer_.mutable_counters().active_opens;
    OnEstablished();
    if (syn_retransmitted) OnHandshakeRetransmitted();
    Notify(kEventConnected);
    if (fin_queued_) SetState(TcpState::kFinWait1);  // Shutdown() while connecting
    ack_now_ = true;
    ScheduleOutput();
    // Data or FIN on a SYN-ACK (§3.10.7.3: continue at the sixth step).
    seg.seq = seg.seq + 1;
    seg.flags &= static_cast<uint8_t>(~wire::TcpFlags::kSyn);
    if (seg.payload_length > 0) {
      ProcessData(seg, now);
    } else {
      DropPacket(seg);
    }
    if (seg.fin() && seg.seq + seg.payload_length == rcv_nxt_) ProcessFin(now);
    return;
  }
  // Simultaneous open (§3.10.7.3, Figure 8): SYN-RECEIVED and SYN,ACK.
  snd_wnd_ = seg.window;
  max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
  snd_wl1_ = seg.seq;
  DropPacket(seg);
  SetState(TcpState::kSynReceived);
  // SND.NXT stays ISS+1: our SYN is resent, not unsent, and an ACK from
  // SYN-RECEIVED must carry <SEQ=SND.NXT> or two such ends ACK each other
  // forever (each finds the other's SEQ=ISS unacceptable).
  SendSegment(iss_, wire::TcpFlags::kSyn | wire::TcpFlags::kAck, 0, now, /*retransmission=*/true);
  ArmRetransmitTimer(now);
}

void Tcb::NegotiateOptions(const wire::TcpOptions& o, bool from_syn_ack) {
  const TcpConfig& config = layer_.config();
  // RFC 9293 §3.7.1 / RFC 6691: 536 when the peer sends no MSS option.
  uint16_t peer_mss = o.mss.has_value() ? *o.mss : 536;
  snd_mss_ = std::max<uint16_t>(std::min(peer_mss, config.mss), 88);
  // RFC 7323 §2.2: scaling only when both SYNs carry the option.
  if (config.window_scaling && o.window_scale.has_value()) {
    snd_wscale_ = std::min<uint8_t>(*o.window_scale, 14);  // §2.3: clamp to 14
  } else {
    snd_wscale_ = 0;
    rcv_wscale_ = 0;
  }
  sack_enabled_ = config.sack && o.sack_permitted;
  ts_enabled_ = config.timestamps && o.timestamps.has_value();
  (void)from_syn_ack;
}

bool Tcb::ProcessAck(Segment& seg, Instant now) {
  TcpCounters& counters = layer_.mutable_counters();
  if (state_ == TcpState::kSynReceived) {
    // §3.10.7.4 fifth, SYN-RECEIVED.
    if (!(snd_una_ < seg.ack && seg.ack <= snd_max_)) {
      SendRst(seg.ack);
      counters.Drop(TcpDrop::kAckInvalid);
      return false;
    }
    layer_.wheel().Cancel(rexmt_timer_);
    retransmits_ = 0;
    snd_una_ = seg.ack;
    if (snd_nxt_ < snd_una_) snd_nxt_ = snd_una_;
    snd_wnd_ = static_cast<uint32_t>(seg.window) << snd_wscale_;
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = seg.seq;
    snd_wl2_ = seg.ack;
    SetState(TcpState::kEstablished);
    ++counters.active_opens;  // simultaneous open started actively
    OnEstablished();
    Notify(kEventConnected);
    if (fin_queued_) SetState(TcpState::kFinWait1);
  }

  // RFC 5961 §5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.NXT].
  if (seg.ack > snd_max_) {
    counters.Drop(TcpDrop::kAckInvalid);
    SendChallengeAck(now);
    return false;
  }
  if (seg.ack < snd_una_ - std::max<uint32_t>(max_snd_wnd_, 1)) {
    counters.Drop(TcpDrop::kAckInvalid);
    SendChallengeAck(now);
    return false;
  }

  uint32_t old_window = snd_wnd_;
  // RFC 9293 §3.10.7.4: window update from the newest segment only.
  if (snd_una_ <= seg.ack &&
      (snd_wl1_ < seg.seq || (snd_wl1_ == seg.seq && snd_wl2_ <= seg.ack))) {
    UpdateWindow(seg);
  }

  if (sack_enabled_) {
    OnSackAck(seg, now);
    if (state_ == TcpState::kClosed) return false;
  } else if (seg.ack > snd_una_) {
    uint32_t acked = static_cast<uint32_t>(seg.ack - snd_una_);
    uint32_t flight_before = static_cast<uint32_t>(snd_max_ - snd_una_);
    AdvanceUna(seg, now);
    if (in_recovery_) {
      if (snd_una_ >= recover_) {
        // RFC 6582 §3.2 step 6: full acknowledgment ends recovery.
        in_recovery_ = false;
        dup_acks_ = 0;
        cc_->ExitRecovery(now, static_cast<uint32_t>(snd_max_ - snd_una_));
      } else {
        // RFC 6582 §3.2 step 5: a partial ACK. Retransmit the first
        // unacknowledged segment and deflate the window.
        cc_->OnPartialAck(acked);
        RetransmitFirst(now);
        ArmRetransmitTimer(now);  // step 5: reset the timer on the first partial ACK
      }
    } else {
      dup_acks_ = 0;
      cc_->OnAck(AckEvent{now, rtt_.srtt(), acked, CwndLimited(flight_before)});
    }
  } else if (seg.ack == snd_una_ && seg.payload_length == 0 && !seg.fin() &&
             snd_wnd_ == old_window && snd_max_ != snd_una_ && snd_wnd_ != 0 &&
             !persist_mode_) {
    // RFC 5681 §2: a duplicate acknowledgment. Not with a zero window: the
    // closed window, not a loss, is why nothing is acknowledged, and the
    // answers to zero-window probes would otherwise start a fast
    // retransmit (BSD also ignores dup ACKs while persisting).
    OnDuplicateAck(now);
  }
  if (state_ == TcpState::kClosed || state_ == TcpState::kTimeWait) return false;
  if (fin_sent_ && snd_una_ == snd_max_) {
    // Our FIN is acknowledged.
    switch (state_) {
      case TcpState::kFinWait1:
        SetState(TcpState::kFinWait2);
        // An orphaned FIN-WAIT-2 must not live forever (Linux tcp_fin_timeout).
        if (!app_owned_) {
          layer_.wheel().Arm(keepalive_timer_, now + layer_.config().fin_wait2_timeout);
        }
        break;
      case TcpState::kClosing:
        EnterTimeWait(now);
        return false;
      case TcpState::kLastAck:
        Terminate(CloseReason::kNormal);
        return false;
      default:
        break;
    }
  }
  // RFC 1122 §4.2.2.17: the connection stays open as long as the peer
  // answers; only unanswered probes count towards giving up.
  if (persist_mode_) retransmits_ = 0;
  if (snd_wnd_ > old_window) {
    if (persist_mode_) {
      // The window reopened: leave persist mode (RFC 9293 §3.8.6.1).
      persist_mode_ = false;
      persist_backoff_ = 0;
      // A probe octet the peer did not take is sent again with what
      // follows it now, not after a retransmission timeout.
      if (snd_nxt_ > snd_una_) snd_nxt_ = snd_una_;
      if (snd_una_ == snd_max_) {
        layer_.wheel().Cancel(rexmt_timer_);
      } else {
        ArmRetransmitTimer(now);
      }
    }
    ScheduleOutput();
  }
  return true;
}

bool Tcb::CwndLimited(uint32_t flight_before_ack) const {
  // Linux's tcp_is_cwnd_limited: in slow start, grow while the window is
  // less than twice what was in flight; later, only when it was full.
  uint32_t cwnd = cc_->cwnd();
  if (cc_->in_slow_start()) return cwnd < 2 * flight_before_ack;
  return cwnd_limited_ || flight_before_ack + EffectiveMss() >= cwnd;
}

void Tcb::AdvanceUna(const Segment& seg, Instant now) {
  uint32_t acked = static_cast<uint32_t>(seg.ack - snd_una_);
  TakeRtt(seg, seg.ack, now);
  // Our FIN occupies the last sequence number: it is not in the buffer.
  bool fin_acked = fin_sent_ && seg.ack == snd_max_;
  uint32_t data_acked =
      std::min<uint32_t>(acked - (fin_acked ? 1 : 0), static_cast<uint32_t>(snd_buf_.size()));
  snd_buf_.Consume(data_acked);
  snd_una_ = seg.ack;
  if (snd_nxt_ < snd_una_) snd_nxt_ = snd_una_;
  retransmits_ = 0;
  // RFC 6298 §5.2/5.3: stop the timer when all is acknowledged, else
  // restart it (a zero-window probe keeps its persist timer).
  if (snd_una_ == snd_max_) {
    if (!persist_mode_) layer_.wheel().Cancel(rexmt_timer_);
  } else if (!(persist_mode_ && snd_wnd_ == 0)) {
    ArmRetransmitTimer(now);
  }
  if (want_writable_ && writable() > 0) {
    want_writable_ = false;
    Notify(kEventWritable);
  }
  ScheduleOutput();
}

void Tcb::OnSackAck(const Segment& seg, Instant now) {
  // RFC 6675: the scoreboard sees every ACK, with or without blocks.
  SackRange ranges[wire::kTcpMaxSackBlocks];
  size_t n = 0;
  for (const wire::SackBlock& b : seg.options.sacks()) ranges[n++] = SackRange{b.left, b.right};
  uint32_t flight_before = static_cast<uint32_t>(snd_max_ - snd_una_);
  SackScoreboard::AckResult r =
      sack_.OnAck(seg.ack, snd_max_, std::span<const SackRange>(ranges, n));
  bool advanced = seg.ack > snd_una_;
  uint32_t acked = advanced ? static_cast<uint32_t>(seg.ack - snd_una_) : 0;
  if (advanced) AdvanceUna(seg, now);
  if (r.fast_recovery_ended) {
    // RFC 6675 §5 step A: RecoveryPoint acknowledged.
    in_recovery_ = false;
    cc_->ExitRecovery(now, static_cast<uint32_t>(snd_max_ - snd_una_));
  } else if (advanced && !in_recovery_) {
    cc_->OnAck(AckEvent{now, rtt_.srtt(), acked, CwndLimited(flight_before)});
  }
  if (!in_recovery_ && sack_.ShouldEnterRecovery()) {
    EnterRecovery(now);
    return;
  }
  if (r.dup_ack && !in_recovery_) {
    // RFC 3042 limited transmit (RFC 6675 §5 step 3).
    dup_acks_ = static_cast<uint8_t>(std::min<uint32_t>(sack_.dup_acks(), 255));
    ScheduleOutput();
  } else if (advanced) {
    dup_acks_ = 0;
  }
  if (sack_.in_recovery()) ScheduleOutput();
}

void Tcb::UpdateWindow(const Segment& seg) {
  snd_wnd_ = static_cast<uint32_t>(seg.window) << snd_wscale_;
  max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
  snd_wl1_ = seg.seq;
  snd_wl2_ = seg.ack;
}

void Tcb::TakeRtt(const Segment& seg, SeqNum acked_through, Instant now) {
  // RFC 7323 §4: with timestamps every ACK that advances SND.UNA yields a
  // sample from TSecr, even after a retransmission (Karn's problem does not
  // arise). Without timestamps, time one segment at a time and discard the
  // sample if it was retransmitted (RFC 6298 §3, Karn).
  if (ts_enabled_ && seg.options.timestamps.has_value() &&
      seg.options.timestamps->echo_reply != 0) {
    uint32_t elapsed_ms = layer_.TsNow(now) + ts_offset_ - seg.options.timestamps->echo_reply;
    if (static_cast<int32_t>(elapsed_ms) >= 0) {
      rtt_.AddSample(Duration::Millis(std::max<uint32_t>(elapsed_ms, 1)),
                     RttSampleKind::kTimestampEcho);
    }
    rtt_timing_ = false;
    return;
  }
  if (rtt_timing_ && acked_through > rtt_seq_) {
    rtt_.AddSample(now - rtt_start_, RttSampleKind::kTimedSegment);
    rtt_timing_ = false;
  }
}

void Tcb::OnDuplicateAck(Instant now) {
  // NewReno without SACK: RFC 5681 §3.2 and RFC 6582.
  if (dup_acks_ < 255) ++dup_acks_;
  if (in_recovery_) {
    // RFC 6582 §3.2 step 3: inflate by one SMSS per duplicate ACK.
    cc_->OnDupAckInRecovery();
    ScheduleOutput();
    return;
  }
  // RFC 6582 §3.2 step 2: only when the cumulative ACK has passed the last
  // recovery point, so that one window of losses causes one reduction.
  if (dup_acks_ >= kDupThresh && snd_una_ >= recover_) {
    EnterRecovery(now);
    return;
  }
  // RFC 3042 limited transmit: the first two duplicate ACKs may each
  // release one new segment.
  if (dup_acks_ < kDupThresh) ScheduleOutput();
}

void Tcb::EnterRecovery(Instant now) {
  TcpCounters& counters = layer_.mutable_counters();
  in_recovery_ = true;
  recover_ = snd_max_;
  uint32_t flight = static_cast<uint32_t>(snd_max_ - snd_una_);
  ++counters.fast_retransmits;
  rtt_timing_ = false;  // Karn: the timed segment may be retransmitted
  if (sack_enabled_) {
    ++counters.sack_recoveries;
    cc_->EnterRecovery(now, flight, RecoveryKind::kSack);
    SackScoreboard::Segment first = sack_.EnterRecovery(snd_max_);
    if (!first.empty()) Retransmit(first.start, first.length, now);
  } else {
    ++counters.reno_recoveries;
    cc_->EnterRecovery(now, flight, RecoveryKind::kNewReno);
    RetransmitFirst(now);
  }
  ArmRetransmitTimer(now);
  ScheduleOutput();
}

void Tcb::ProcessData(Segment& seg, Instant now) {
  TcpCounters& counters = layer_.mutable_counters();
  if (peer_fin_received_ || !(state_ == TcpState::kEstablished ||
                              state_ == TcpState::kFinWait1 || state_ == TcpState::kFinWait2)) {
    // §3.10.7.4 seventh: text after the peer's FIN is ignored.
    DropPacket(seg);
    return;
  }
  if (seg.seq == rcv_nxt_) {
    bool filled_hole = !ooo_.empty();
    uint32_t len = seg.payload_length;
    rcv_nxt_ = rcv_nxt_ + len;
    counters.bytes_in += len;
    rcv_buf_.Append(seg.packet);
    seg.packet = nullptr;
    // Pull whatever the new data made contiguous.
    if (filled_hole) {
      Delivered more = ooo_.Pop(rcv_nxt_);
      rcv_nxt_ = rcv_nxt_ + more.bytes;
      counters.bytes_in += more.bytes;
      for (link::Packet* p = more.head; p != nullptr;) {
        link::Packet* next = p->next;
        p->next = nullptr;
        rcv_buf_.Append(p);
        p = next;
      }
    }
    Notify(kEventReadable);
    // RFC 5681 §4.2: ACK at once when a segment fills a hole, and at least
    // every second full-sized segment; otherwise delay (RFC 1122 §4.2.3.2).
    if (filled_hole) {
      ack_now_ = true;
    } else if (len >= EffectiveMss()) {
      // "Full-sized" is what a segment of the peer's can carry: with
      // timestamps a 1460-byte MSS carries 1448 bytes (RFC 6691), which a
      // comparison with the MSS itself would never count.
      if (++full_segments_unacked_ >= 2) ack_now_ = true;
    }
    if (!ack_now_ && !delack_timer_.armed()) {
      layer_.wheel().Arm(delack_timer_, now + layer_.config().delayed_ack);
    }
    if (peer_fin_pending_ && peer_fin_seq_ == rcv_nxt_) ProcessFin(now);
  } else {
    // Out of order: hold it and ACK at once with SACK blocks (RFC 5681
    // §4.2, RFC 2018 §4) so the sender sees the hole.
    ++counters.ooo_segments;
    ReassemblyResult r = ooo_.Insert(seg.packet, seg.seq, 0,
                                     static_cast<uint16_t>(seg.payload_length), rcv_nxt_);
    if (r != ReassemblyResult::kQueued && r != ReassemblyResult::kDuplicate) {
      counters.Drop(TcpDrop::kNoMemory);
    }
    seg.packet = nullptr;
    ack_now_ = true;
  }
  ScheduleOutput();
}

void Tcb::ProcessFin(Instant now) {
  peer_fin_pending_ = false;
  peer_fin_received_ = true;
  rcv_nxt_ = rcv_nxt_ + 1;
  ack_now_ = true;
  Notify(kEventPeerClosed);
  switch (state_) {
    case TcpState::kSynReceived:
    case TcpState::kEstablished:
      SetState(TcpState::kCloseWait);
      break;
    case TcpState::kFinWait1:
      // Our FIN is not yet acknowledged (else we would be in FIN-WAIT-2).
      SetState(TcpState::kClosing);
      break;
    case TcpState::kFinWait2:
      SendAck(now);
      EnterTimeWait(now);
      return;
    default:
      break;
  }
  ScheduleOutput();
}

void Tcb::SendChallengeAck(Instant now) {
  TcpCounters& counters = layer_.mutable_counters();
  if (!layer_.ChallengeAckAllowed(now)) {
    ++counters.challenge_acks_suppressed;
    return;
  }
  ++counters.challenge_acks;
  SendAck(now);
}

}  // namespace locus::tcp
