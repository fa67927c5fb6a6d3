// Retransmission (RFC 6298), persist (RFC 9293 §3.8.6.1, RFC 1122
// §4.2.2.17), delayed ACK (RFC 1122 §4.2.3.2) and keepalive (RFC 1122
// §4.2.3.6) timers of one connection.
#include <algorithm>

#include "stack/tcp/tcb.h"
#include "stack/tcp/tcp_layer.h"

namespace locus::tcp {

using wire::SeqNum;

namespace {
// Linux's TCP_RTO_MAX: how long a peer that shows a zero window may stay
// silent before retransmissions into that window count as failures again.
constexpr Duration kZeroWindowSilenceLimit = Duration::Seconds(120);
}  // namespace

void Tcb::OnTimer(timer::Timer& timer, Instant now) {
  if (&timer == &rexmt_timer_) {
    OnRetransmitTimer(now);
  } else if (&timer == &delack_timer_) {
    OnDelayedAckTimer(now);
  } else {
    OnKeepaliveTimer(now);
  }
}

void Tcb::OnRetransmitTimer(Instant now) {
  if (persist_mode_) {
    OnPersistTimeout(now);
  } else {
    OnRetransmitTimeout(now);
  }
}

void Tcb::OnDelayedAckTimer(Instant now) {
  if (state_ == TcpState::kClosed) return;
  ++layer_.mutable_counters().delayed_acks;
  ack_now_ = true;
  Output(now);
}

void Tcb::OnKeepaliveTimer(Instant now) {
  Tcb* tcb = this;
  const TcpConfig& config = tcb->layer_.config();
  if (tcb->state_ == TcpState::kFinWait2 && !tcb->app_owned_) {
    // An orphan whose peer never sends its FIN.
    tcb->Terminate(CloseReason::kTimeout);
    return;
  }
  if (!tcb->keepalive_ || tcb->state_ == TcpState::kClosed) return;
  Duration idle = now - tcb->last_activity_;
  if (idle < config.keepalive_idle && tcb->keepalive_sent_ == 0) {
    tcb->layer_.wheel().Arm(tcb->keepalive_timer_,
                            tcb->last_activity_ + config.keepalive_idle);
    return;
  }
  if (tcb->keepalive_sent_ >= config.keepalive_probes) {
    tcb->Terminate(CloseReason::kTimeout);
    return;
  }
  // RFC 1122 §4.2.3.6: a segment with SEG.SEQ = SND.NXT-1 and no data
  // elicits an ACK from a live peer.
  ++tcb->keepalive_sent_;
  ++tcb->layer_.mutable_counters().keepalive_probes;
  tcb->SendSegment(tcb->snd_una_ - 1, wire::TcpFlags::kAck, 0, now, /*retransmission=*/false);
  tcb->layer_.wheel().Arm(tcb->keepalive_timer_, now + config.keepalive_interval);
}

void Tcb::RestartKeepalive(Instant now) {
  keepalive_sent_ = 0;
  if (!keepalive_timer_.armed()) {
    layer_.wheel().Arm(keepalive_timer_, now + layer_.config().keepalive_idle);
  }
}

void Tcb::ArmRetransmitTimer(Instant now) {
  persist_mode_ = false;
  layer_.wheel().Arm(rexmt_timer_, now + rtt_.rto());
}

void Tcb::ArmPersistTimer(Instant now) {
  persist_mode_ = true;
  // RFC 1122 §4.2.2.17: exponential backoff, bounded by the maximum RTO.
  Duration interval = rtt_.rto();
  for (uint8_t i = 0; i < persist_backoff_ && interval < layer_.config().max_rto; ++i) {
    interval = interval * 2;
  }
  interval = std::min(interval, layer_.config().max_rto);
  layer_.wheel().Arm(rexmt_timer_, now + interval);
}

void Tcb::OnRetransmitTimeout(Instant now) {
  const TcpConfig& config = layer_.config();
  TcpCounters& counters = layer_.mutable_counters();
  switch (state_) {
    case TcpState::kSynSent:
    case TcpState::kSynReceived: {
      if (retransmits_ >= config.syn_retries) {
        ++counters.failed_opens;
        Terminate(CloseReason::kTimeout);
        return;
      }
      ++retransmits_;
      rtt_timing_ = false;  // Karn: no sample from a retransmitted SYN
      rtt_.OnRetransmitTimeout();
      uint8_t flags = wire::TcpFlags::kSyn |
                      (state_ == TcpState::kSynReceived ? wire::TcpFlags::kAck : 0);
      SendSegment(iss_, flags, 0, now, /*retransmission=*/true);
      ArmRetransmitTimer(now);
      return;
    }
    case TcpState::kClosed:
    case TcpState::kTimeWait:
      return;
    default:
      break;
  }
  if (snd_una_ == snd_max_) return;  // nothing outstanding
  // The peer closed its window with data in flight: these retransmissions
  // are window probes, and RFC 1122 §4.2.2.17 keeps the connection while
  // the peer answers them. As Linux's tcp_retransmit_timer, they do not
  // count towards max_retries unless the peer has been silent for
  // kZeroWindowSilenceLimit.
  bool zero_window_probe = snd_wnd_ == 0 && now - last_activity_ < kZeroWindowSilenceLimit;
  if (retransmits_ >= config.max_retries && !zero_window_probe) {
    // RFC 9293 §3.8.3 R2: give up. Linux sends no RST here and neither do we.
    Terminate(CloseReason::kTimeout);
    return;
  }
  ++counters.rto_timeouts;
  uint32_t flight = static_cast<uint32_t>(snd_max_ - snd_una_);
  // RFC 5681 §3.1 eq. 4 (the controller holds ssthresh on repeated RTOs).
  cc_->OnRetransmitTimeout(now, flight);
  if (!zero_window_probe) ++retransmits_;
  rtt_.OnRetransmitTimeout();  // RFC 6298 §5.5
  // RFC 6582 §3.2 step 4: end any fast recovery; recover = highest sent.
  in_recovery_ = false;
  recover_ = snd_max_;
  dup_acks_ = 0;
  rtt_timing_ = false;
  ArmRetransmitTimer(now);  // RFC 6298 §5.6: restart with the backed-off RTO
  if (sack_enabled_) {
    // RFC 6675 §5.1: resend SND.UNA now, then fill the holes under the new
    // RecoveryPoint, skipping what the peer holds.
    SackScoreboard::Segment first = sack_.OnRetransmitTimeout(snd_max_);
    if (!first.empty()) Retransmit(first.start, first.length, now);
    ScheduleOutput();
    return;
  }
  // Without SACK: go back N (RFC 5681 §3.1 after the loss window).
  snd_nxt_ = snd_una_;
  Output(now);
  if (snd_nxt_ == snd_una_) {
    // The window let nothing out (zero window): resend the first segment
    // anyway, since only that can make progress.
    RetransmitFirst(now);
  }
}

void Tcb::OnPersistTimeout(Instant now) {
  TcpCounters& counters = layer_.mutable_counters();
  if (state_ == TcpState::kClosed) return;
  SeqNum data_end = snd_una_ + static_cast<uint32_t>(snd_buf_.size());
  if (snd_wnd_ > 0) {
    // Data waits behind a window that sender SWS avoidance finds too small
    // (or the window opened without our noticing). RFC 9293 §3.8.6.2.1
    // (d): once the override timeout passes, send what the window takes,
    // or a peer whose window stays below half its largest one would stall
    // us for good.
    persist_mode_ = false;
    persist_backoff_ = 0;
    retransmits_ = 0;
    uint32_t unsent = static_cast<uint32_t>(data_end - snd_nxt_);
    uint32_t len = std::min<uint32_t>({SendWindowAvailable(), unsent, EffectiveMss()});
    if (len > 0 && snd_nxt_ == snd_max_ && !(sack_enabled_ && sack_.in_recovery())) {
      uint8_t flags = wire::TcpFlags::kAck | (len == unsent ? wire::TcpFlags::kPsh : 0);
      if (SendSegment(snd_nxt_, flags, len, now, /*retransmission=*/false)) {
        snd_nxt_ = snd_nxt_ + len;
        snd_max_ = snd_nxt_;
        ArmRetransmitTimer(now);
      }
    }
    Output(now);
    return;
  }
  // Unanswered probes: an answer resets the count (ProcessAck), so only a
  // peer that went silent is given up on (RFC 1122 §4.2.2.17 keeps the
  // connection only "as long as the receiving TCP continues to send
  // acknowledgments in response to the probe segments").
  if (retransmits_ >= layer_.config().max_retries) {
    Terminate(CloseReason::kTimeout);
    return;
  }
  ++retransmits_;
  ++counters.window_probes;
  if (snd_max_ > snd_una_) {
    // A probe byte is already outstanding: resend it.
    RetransmitFirst(now);
  } else if (snd_nxt_ < data_end) {
    // RFC 9293 §3.8.6.1: probe with one octet of new data.
    if (SendSegment(snd_nxt_, wire::TcpFlags::kAck, 1, now, /*retransmission=*/false)) {
      snd_nxt_ = snd_nxt_ + 1;
      if (snd_nxt_ > snd_max_) snd_max_ = snd_nxt_;
    }
  } else if (fin_queued_ && !fin_sent_) {
    if (SendSegment(snd_nxt_, wire::TcpFlags::kAck | wire::TcpFlags::kFin, 0, now, false)) {
      fin_sent_ = true;
      snd_nxt_ = snd_nxt_ + 1;
      snd_max_ = snd_nxt_;
    }
  } else {
    persist_mode_ = false;
    retransmits_ = 0;
    return;
  }
  if (persist_backoff_ < 16) ++persist_backoff_;
  ArmPersistTimer(now);
}

}  // namespace locus::tcp
