// Connection lifecycle and the application's calls (RFC 9293 §3.10.1-5).
#include "stack/tcp/tcb.h"

#include <algorithm>

#include "stack/tcp/tcp_layer.h"

namespace locus::tcp {

std::string_view CloseReasonName(CloseReason r) {
  switch (r) {
    case CloseReason::kNone: return "none";
    case CloseReason::kNormal: return "normal";
    case CloseReason::kReset: return "reset";
    case CloseReason::kRefused: return "refused";
    case CloseReason::kTimeout: return "timeout";
    case CloseReason::kAborted: return "aborted";
    case CloseReason::kListenerClosed: return "listener_closed";
  }
  return "unknown";
}

namespace {

RttEstimator::Config RttConfigFrom(const TcpConfig& config) {
  RttEstimator::Config c;
  c.initial_rto = config.initial_rto;
  c.min_rto = config.min_rto;
  c.max_rto = config.max_rto;
  return c;
}

ReassemblyQueue::Limits ReassemblyLimitsFrom(const TcpConfig& config) {
  ReassemblyQueue::Limits limits;
  limits.max_bytes = config.receive_buffer;
  return limits;
}

}  // namespace

Tcb::Tcb(TcpLayer& layer, const FourTuple& tuple, Instant now)
    : layer_(layer),
      tuple_(tuple),
      nagle_(layer.config().nagle),
      last_activity_(now),
      rtt_(RttConfigFrom(layer.config())),
      cc_(layer.config().congestion, layer.config().mss, layer.config().initial_window_segments),
      ooo_(ReassemblyLimitsFrom(layer.config())) {
  rexmt_timer_.set_handler(this);
  delack_timer_.set_handler(this);
  keepalive_timer_.set_handler(this);
}

Tcb::~Tcb() {
  layer_.wheel().Cancel(rexmt_timer_);
  layer_.wheel().Cancel(delack_timer_);
  layer_.wheel().Cancel(keepalive_timer_);
}

void Tcb::StartConnect(wire::SeqNum iss, Instant now) {
  const TcpConfig& config = layer_.config();
  iss_ = iss;
  snd_una_ = iss;
  snd_nxt_ = iss + 1;
  snd_max_ = iss + 1;
  recover_ = iss;
  rcv_wscale_ = config.window_scaling ? layer_.OurWindowScale() : 0;
  ts_offset_ = layer_.TsOffsetFor(tuple_);
  SetState(TcpState::kSynSent);
  SendSegment(iss_, wire::TcpFlags::kSyn, 0, now, /*retransmission=*/false);
  rtt_timing_ = true;
  rtt_seq_ = iss_;
  rtt_start_ = now;
  ArmRetransmitTimer(now);
}

void Tcb::StartPassive(const Handshake& hs, Instant now) {
  const TcpConfig& config = layer_.config();
  iss_ = hs.iss;
  irs_ = hs.irs;
  snd_una_ = hs.iss + 1;
  snd_nxt_ = snd_una_;
  snd_max_ = snd_una_;
  recover_ = snd_una_;
  rcv_nxt_ = hs.irs + 1;
  rcv_adv_ = rcv_nxt_ + hs.our_window;
  last_ack_sent_ = rcv_nxt_;
  uint16_t peer_mss = hs.peer_mss != 0 ? hs.peer_mss : 536;
  snd_mss_ = std::max<uint16_t>(std::min(peer_mss, config.mss), 88);
  if (hs.peer_wscale >= 0) {
    snd_wscale_ = static_cast<uint8_t>(std::min<int>(hs.peer_wscale, 14));
    rcv_wscale_ = hs.our_wscale;
  }
  sack_enabled_ = hs.sack_permitted;
  ts_enabled_ = hs.timestamps;
  ts_recent_ = hs.ts_recent;
  ts_recent_time_ = now;
  ts_offset_ = hs.ts_offset;
  snd_wnd_ = hs.syn_window;
  max_snd_wnd_ = snd_wnd_;
  snd_wl1_ = hs.irs;
  snd_wl2_ = snd_una_;
  OnEstablished();
  if (hs.rtt > Duration::Zero()) rtt_.AddSample(hs.rtt, RttSampleKind::kTimedSegment);
  if (hs.synack_retransmitted) OnHandshakeRetransmitted();
  SetState(TcpState::kEstablished);
}

void Tcb::OnEstablished() {
  const TcpConfig& config = layer_.config();
  cc_.Reset(config.congestion, EffectiveMss(), config.initial_window_segments);
  if (sack_enabled_) sack_.Reset(snd_una_, EffectiveMss());
}

void Tcb::OnHandshakeRetransmitted() {
  // RFC 5681 §3.1 (and RFC 6928 §2): after a lost SYN or SYN-ACK the
  // initial window MUST be one segment. RFC 6298 §5.7: without an RTT
  // sample from the handshake, data transfer starts with a 3 s RTO.
  cc_->OnHandshakeRetransmitted();
  rtt_.ApplySynTimeoutFallback();
}

void Tcb::SetState(TcpState s) { state_ = s; }

size_t Tcb::Read(std::span<uint8_t> out) {
  size_t n = rcv_buf_.Read(out);
  if (n > 0) Consume(0);
  return n;
}

void Tcb::Consume(size_t n) {
  if (n > 0) rcv_buf_.Consume(std::min(n, rcv_buf_.size()));
  // RFC 9293 §3.8.6.2.2 (receiver SWS avoidance): announce the reopened
  // window only once it grew by min(half the buffer, one MSS). And, as
  // Linux's tcp_cleanup_rbuf, only when the window the peer knows has
  // fallen to half the maximum and would at least double: otherwise every
  // read would cost a pure ACK and defeat delayed ACKs, while the next
  // ACK carries the update anyway.
  if (state_ == TcpState::kClosed || peer_fin_received_) return;
  uint32_t advertised = static_cast<uint32_t>(std::max<int32_t>(rcv_adv_ - rcv_nxt_, 0));
  uint32_t free_space = ReceiveWindow();
  uint32_t max_window = std::min<uint32_t>(layer_.config().receive_buffer, 65535u << rcv_wscale_);
  if (advertised <= max_window / 2 && free_space >= 2 * uint64_t{advertised} &&
      free_space >= advertised + ReceiveSwsThreshold()) {
    ack_now_ = true;
    ScheduleOutput();
  }
}

size_t Tcb::SendBufferLimit() const { return layer_.config().send_buffer; }

size_t Tcb::writable() const {
  switch (state_) {
    case TcpState::kSynSent:
    case TcpState::kSynReceived:
    case TcpState::kEstablished:
    case TcpState::kCloseWait:
      break;
    default:
      return 0;
  }
  if (fin_queued_) return 0;
  size_t limit = SendBufferLimit();
  return limit > snd_buf_.size() ? limit - snd_buf_.size() : 0;
}

size_t Tcb::Write(std::span<const uint8_t> data) {
  if (writable() == 0) {
    if (!data.empty()) want_writable_ = true;
    return 0;
  }
  size_t n = snd_buf_.Append(data, SendBufferLimit(), layer_.pool_);
  if (n < data.size()) want_writable_ = true;
  if (n > 0) ScheduleOutput();
  return n;
}

size_t Tcb::Splice(Tcb& from) {
  size_t moved = 0;
  while (writable() > 0) {
    std::span<const uint8_t> front = from.rcv_buf_.Front();
    if (front.empty()) break;
    if (front.size() > writable()) {
      // Not enough room for the whole buffer: copy what fits.
      size_t n = snd_buf_.Append(front.subspan(0, writable()), SendBufferLimit(), layer_.pool_);
      from.rcv_buf_.Consume(n);
      moved += n;
      want_writable_ = true;
      break;
    }
    link::Packet* p = from.rcv_buf_.TakeFront();
    size_t n = p->length;
    snd_buf_.AppendPacket(p, SendBufferLimit());
    moved += n;
  }
  // Input left behind waits for send space: ask to hear when it frees up.
  if (from.readable() > 0) want_writable_ = true;
  if (moved > 0) {
    from.Consume(0);
    ScheduleOutput();
  }
  return moved;
}

void Tcb::Shutdown() {
  if (fin_queued_) return;
  switch (state_) {
    case TcpState::kSynSent:
    case TcpState::kSynReceived:
      // §3.10.4: queued until the connection is established.
      fin_queued_ = true;
      return;
    case TcpState::kEstablished:
      fin_queued_ = true;
      SetState(TcpState::kFinWait1);
      break;
    case TcpState::kCloseWait:
      fin_queued_ = true;
      SetState(TcpState::kLastAck);
      break;
    default:
      return;
  }
  ScheduleOutput();
}

void Tcb::Close() {
  app_owned_ = false;
  pending_events_ = 0;
  if (state_ == TcpState::kClosed) {
    layer_.ReleaseTcb(this);
    return;
  }
  if (rcv_buf_.size() > 0 || state_ == TcpState::kSynSent) {
    // Unread data would be silently lost: tell the peer (RFC 2525 §2.17).
    if (state_ != TcpState::kSynSent) {
      layer_.SendBareSegment(tuple_, snd_max_, rcv_nxt_, wire::TcpFlags::kRst | wire::TcpFlags::kAck,
                             0, nullptr);
    }
    Terminate(CloseReason::kAborted);
    return;
  }
  Shutdown();
  if (state_ == TcpState::kFinWait2) {
    layer_.wheel().Arm(keepalive_timer_,
                       last_activity_ + layer_.config().fin_wait2_timeout);
  }
}

void Tcb::Abort() {
  app_owned_ = false;
  pending_events_ = 0;
  if (state_ == TcpState::kClosed) {
    layer_.ReleaseTcb(this);
    return;
  }
  if (state_ != TcpState::kSynSent) {
    // §3.10.5 ABORT: <SEQ=SND.NXT><CTL=RST>; with ACK as Linux does.
    layer_.SendBareSegment(tuple_, snd_max_, rcv_nxt_, wire::TcpFlags::kRst | wire::TcpFlags::kAck, 0,
                           nullptr);
  }
  Terminate(CloseReason::kAborted);
}

void Tcb::set_keepalive(bool on, Instant now) {
  keepalive_ = on;
  keepalive_sent_ = 0;
  if (on) {
    layer_.wheel().Arm(keepalive_timer_, now + layer_.config().keepalive_idle);
  } else if (state_ != TcpState::kFinWait2) {
    layer_.wheel().Cancel(keepalive_timer_);
  }
}

void Tcb::Notify(uint16_t events) {
  pending_events_ |= events;
  if (app_owned_ && listener_ == nullptr) layer_.ScheduleEvent(this);
}

void Tcb::ScheduleOutput() { layer_.ScheduleOutput(this); }

void Tcb::Terminate(CloseReason reason) {
  if (state_ == TcpState::kClosed) return;
  SetState(TcpState::kClosed);
  close_reason_ = reason;
  layer_.wheel().Cancel(rexmt_timer_);
  layer_.wheel().Cancel(delack_timer_);
  layer_.wheel().Cancel(keepalive_timer_);
  snd_buf_.Clear();
  ooo_.Clear();
  if (reason != CloseReason::kNormal) rcv_buf_.Clear();
  bool never_accepted = listener_ != nullptr;
  layer_.Unlink(this);
  if (never_accepted) app_owned_ = false;
  if (app_owned_) {
    Notify(kEventClosed);
  } else {
    layer_.ReleaseTcb(this);
  }
}

void Tcb::EnterTimeWait(Instant now) {
  layer_.MoveToTimeWait(this, now);
  Terminate(CloseReason::kNormal);
}

}  // namespace locus::tcp
