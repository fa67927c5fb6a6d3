// Demultiplexing, passive opens (RFC 9293 §3.10.7.2), request sockets,
// SYN cookies, TIME-WAIT (§3.10.7.4, RFC 6191) and resets for segments
// without a connection (§3.10.7.1).
#include "stack/tcp/tcp_layer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "stack/wire/tcp.h"

namespace locus::tcp {

using wire::SeqNum;

namespace {

uint64_t ListenKey(wire::Ipv4Address address, uint16_t port) {
  return (uint64_t{address.value()} << 16) | port;
}

bool TsBefore(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }

// RFC 6191 / Linux tcp_tw_reuse: a TIME-WAIT tuple may be reused by a new
// outgoing connection once a second has passed, when timestamps protect the
// new incarnation from old duplicates.
constexpr Duration kTimeWaitReuseAfter = Duration::Seconds(1);
// Initial RTO for SYN-ACKs (RFC 6298 §2.1).
constexpr Duration kSynAckRto = Duration::Seconds(1);

}  // namespace

std::string_view TcpStateName(TcpState s) {
  switch (s) {
    case TcpState::kClosed: return "CLOSED";
    case TcpState::kListen: return "LISTEN";
    case TcpState::kSynSent: return "SYN-SENT";
    case TcpState::kSynReceived: return "SYN-RECEIVED";
    case TcpState::kEstablished: return "ESTABLISHED";
    case TcpState::kFinWait1: return "FIN-WAIT-1";
    case TcpState::kFinWait2: return "FIN-WAIT-2";
    case TcpState::kCloseWait: return "CLOSE-WAIT";
    case TcpState::kClosing: return "CLOSING";
    case TcpState::kLastAck: return "LAST-ACK";
    case TcpState::kTimeWait: return "TIME-WAIT";
  }
  return "?";
}

std::string_view TcpDropName(TcpDrop d) {
  switch (d) {
    case TcpDrop::kBadChecksum: return "bad_checksum";
    case TcpDrop::kMalformed: return "malformed";
    case TcpDrop::kNoListener: return "no_listener";
    case TcpDrop::kSynBacklogFull: return "syn_backlog_full";
    case TcpDrop::kAcceptQueueFull: return "accept_queue_full";
    case TcpDrop::kBadCookie: return "bad_cookie";
    case TcpDrop::kOutOfWindow: return "out_of_window";
    case TcpDrop::kPaws: return "paws";
    case TcpDrop::kRstInvalid: return "rst_invalid";
    case TcpDrop::kSynInWindow: return "syn_in_window";
    case TcpDrop::kAckInvalid: return "ack_invalid";
    case TcpDrop::kNoMemory: return "no_memory";
    case TcpDrop::kTimeWait: return "time_wait";
    case TcpDrop::kNotAcceptable: return "not_acceptable";
    case TcpDrop::kCount: break;
  }
  return "?";
}

// The lightweight SYN-RECEIVED state of a passive open (the Linux 4.4
// "request socket"): it lives in the flow table and holds its listener by
// pointer only, so the listener is never locked or busy during handshakes.
struct TcpLayer::RequestSock final : public timer::TimerHandler {
  void OnTimer(timer::Timer&, Instant now) override;

  TcpLayer* layer = nullptr;
  Listener* listener = nullptr;
  FourTuple tuple;
  SeqNum iss;
  SeqNum irs;
  uint32_t ts_recent = 0;
  uint32_t ts_offset = 0;
  uint16_t peer_mss = 0;
  uint16_t syn_window = 0;
  uint16_t our_window = 0;
  int8_t peer_wscale = -1;
  uint8_t our_wscale = 0;
  bool sack = false;
  bool timestamps = false;
  uint8_t retransmits = 0;
  Instant synack_sent;
  Duration rto = kSynAckRto;
  timer::Timer timer{this};
};

// TIME-WAIT without a full Tcb: what is needed to re-ACK a retransmitted
// FIN and to judge a new SYN (RFC 6191), about 100 bytes.
struct TcpLayer::TimeWaitSock final : public timer::TimerHandler {
  void OnTimer(timer::Timer&, Instant now) override;

  TcpLayer* layer = nullptr;
  FourTuple tuple;
  SeqNum snd_nxt;
  SeqNum rcv_nxt;
  uint32_t ts_recent = 0;
  uint32_t ts_offset = 0;
  Instant ts_recent_time;
  uint16_t window = 0;  // as last advertised, already scaled down
  bool timestamps = false;
  timer::Timer timer{this};
};

TcpLayer::TcpLayer(const TcpConfig& config, link::PacketPool& pool,
                   SegmentTransmitter& transmitter, timer::TimerWheel& wheel,
                   const IsnGenerator& isn, const SynCookies& cookies, Limits limits)
    : config_(config),
      pool_(pool),
      transmitter_(transmitter),
      wheel_(wheel),
      isn_(isn),
      cookies_(cookies),
      limits_(limits),
      tcbs_(limits.max_connections),
      request_socks_(limits.max_request_socks),
      time_waits_(limits.max_time_wait),
      listener_pool_(1024) {
  flows_.reserve(1024);
}

TcpLayer::~TcpLayer() {
  // Free everything still alive; the application is gone with us.
  std::vector<FlowEntry> entries;
  for (auto& [tuple, entry] : flows_) entries.push_back(entry);
  flows_.clear();
  for (const FlowEntry& e : entries) {
    switch (e.kind) {
      case FlowEntry::Kind::kTcb:
        tcbs_.Delete(static_cast<Tcb*>(e.object));
        break;
      case FlowEntry::Kind::kRequest:
        request_socks_.Delete(static_cast<RequestSock*>(e.object));
        break;
      case FlowEntry::Kind::kTimeWait:
        time_waits_.Delete(static_cast<TimeWaitSock*>(e.object));
        break;
    }
  }
  for (Tcb* t : graveyard_) tcbs_.Delete(t);
  for (auto& [key, listener] : listeners_) listener_pool_.Delete(listener);
}

// ---- Helpers used by Tcb ------------------------------------------------------

link::Packet* TcpLayer::AllocatePacket() { return pool_.Allocate(); }

void TcpLayer::Transmit(const FourTuple& tuple, link::Packet* packet) {
  ++counters_.segments_out;
  const uint8_t* tcp = packet->data();
  if (packet->length >= wire::kTcpMinHeaderLength && (tcp[13] & wire::TcpFlags::kRst) != 0) {
    ++counters_.resets_out;
  }
  transmitter_.TransmitSegment(tuple, packet);
}

uint32_t TcpLayer::TsNow(Instant now) const {
  // RFC 7323 §5.4: a 1 ms clock; connections add their own random offset.
  return static_cast<uint32_t>(now.nanos() / 1000000);
}

uint8_t TcpLayer::OurWindowScale() const {
  // RFC 7323 §2.3: the smallest shift that lets the buffer be advertised.
  uint8_t shift = 0;
  while (shift < 14 && (config_.receive_buffer >> shift) > 65535) ++shift;
  return shift;
}

void TcpLayer::ScheduleOutput(Tcb* tcb) {
  if (tcb->in_output_list_) return;
  tcb->in_output_list_ = true;
  tcb->output_next_ = output_head_;
  output_head_ = tcb;
}

void TcpLayer::ScheduleEvent(Tcb* tcb) {
  if (tcb->in_event_list_) return;
  tcb->in_event_list_ = true;
  tcb->event_next_ = nullptr;
  if (event_tail_ == nullptr) {
    event_head_ = tcb;
  } else {
    event_tail_->event_next_ = tcb;
  }
  event_tail_ = tcb;
}

void TcpLayer::ScheduleListenerEvent(Listener* listener) {
  if (listener->event_pending_) return;
  listener->event_pending_ = true;
  listener_events_.push_back(listener);
}

bool TcpLayer::ChallengeAckAllowed(Instant now) {
  // RFC 5961 §7: a per-core budget of challenge ACKs per second.
  if (now - challenge_window_start_ >= Duration::Seconds(1)) {
    challenge_window_start_ = now;
    challenge_acks_in_window_ = 0;
  }
  if (challenge_acks_in_window_ >= config_.challenge_ack_limit) return false;
  ++challenge_acks_in_window_;
  return true;
}

void TcpLayer::Unlink(Tcb* tcb) {
  auto it = flows_.find(tcb->tuple_);
  if (it != flows_.end() && it->second.kind == FlowEntry::Kind::kTcb &&
      it->second.object == tcb) {
    flows_.erase(it);
    if (tcb->active_open_ && ports_ != nullptr) {
      ports_->Release(tcb->tuple_.local_ip, tcb->tuple_.local_port, tcb->tuple_.remote_ip,
                      tcb->tuple_.remote_port);
    }
  }
  tcb->active_open_ = false;
  if (Listener* l = tcb->listener_) {
    // Never accepted: take it off its listener's accept queue.
    Tcb** link = &l->accept_head_;
    Tcb* prev = nullptr;
    while (*link != nullptr && *link != tcb) {
      prev = *link;
      link = &(*link)->accept_next_;
    }
    if (*link == tcb) {
      *link = tcb->accept_next_;
      if (l->accept_tail_ == tcb) l->accept_tail_ = prev;
      --l->accept_count_;
    }
    tcb->listener_ = nullptr;
    tcb->accept_next_ = nullptr;
  }
}

void TcpLayer::ReleaseTcb(Tcb* tcb) {
  // Freed at the end of the batch: the Tcb may still be on the event or
  // output lists, and callers up the stack may still look at it.
  graveyard_.push_back(tcb);
}

void TcpLayer::MoveToTimeWait(Tcb* tcb, Instant now) {
  ++counters_.time_wait_entered;
  TimeWaitSock* tw = time_waits_.New();
  auto it = flows_.find(tcb->tuple_);
  if (tw == nullptr) {
    // Out of TIME-WAIT slots: closing without it only risks an old
    // duplicate being taken for a new incarnation, like Linux's
    // tcp_max_tw_buckets overflow.
    return;
  }
  tw->layer = this;
  tw->tuple = tcb->tuple_;
  tw->snd_nxt = tcb->snd_max_;
  tw->rcv_nxt = tcb->rcv_nxt_;
  tw->ts_recent = tcb->ts_recent_;
  tw->ts_recent_time = tcb->ts_recent_time_;
  tw->ts_offset = tcb->ts_offset_;
  tw->timestamps = tcb->ts_enabled_;
  tw->window = static_cast<uint16_t>(
      std::min<uint32_t>(tcb->ReceiveWindow() >> tcb->rcv_wscale_, 65535));
  if (tcb->active_open_ && ports_ != nullptr) {
    // The allocator keeps the port out of use for 2*MSL, or until a new
    // connection may reuse it (TryReuseTimeWait).
    ports_->EnterTimeWait(tw->tuple.local_ip, tw->tuple.local_port, tw->tuple.remote_ip,
                          tw->tuple.remote_port, now + config_.time_wait);
  }
  tcb->active_open_ = false;
  if (it != flows_.end()) {
    it->second = FlowEntry{FlowEntry::Kind::kTimeWait, tw};
  } else {
    flows_[tw->tuple] = FlowEntry{FlowEntry::Kind::kTimeWait, tw};
  }
  wheel_.Arm(tw->timer, now + config_.time_wait);
}

void TcpLayer::DestroyTimeWait(TimeWaitSock* tw) {
  wheel_.Cancel(tw->timer);
  auto it = flows_.find(tw->tuple);
  if (it != flows_.end() && it->second.object == tw) flows_.erase(it);
  time_waits_.Delete(tw);
}

void TcpLayer::TimeWaitSock::OnTimer(timer::Timer&, Instant) {
  // 2*MSL elapsed (RFC 9293 §3.10.8): the tuple may be used again.
  layer->DestroyTimeWait(this);
}

void TcpLayer::DestroyRequestSock(RequestSock* req) {
  wheel_.Cancel(req->timer);
  auto it = flows_.find(req->tuple);
  if (it != flows_.end() && it->second.object == req) flows_.erase(it);
  Listener* l = req->listener;
  --l->syn_count_;
  if (l->layer_ == nullptr && l->syn_count_ == 0) listener_pool_.Delete(l);  // closed listener
  request_socks_.Delete(req);
}

void TcpLayer::RequestSock::OnTimer(timer::Timer&, Instant now) {
  // SYN-ACK retransmission with backoff (RFC 6298 §5.5 applied to the
  // handshake, as Linux does), up to synack_retries.
  if (retransmits >= layer->config_.synack_retries) {
    ++layer->counters_.failed_opens;
    layer->DestroyRequestSock(this);
    return;
  }
  ++retransmits;
  rto = std::min(rto * 2, layer->config_.max_rto);
  layer->SendSynAck(tuple, iss, irs, layer->config_.mss, peer_wscale >= 0 ? our_wscale : -1,
                    sack, timestamps, layer->TsNow(now) + ts_offset, ts_recent);
  ++layer->counters_.retransmits;
  layer->wheel_.Arm(timer, now + rto);
}

// ---- Input ---------------------------------------------------------------------

void TcpLayer::Input(wire::Ipv4Address source, wire::Ipv4Address destination,
                     link::Packet* packet, bool checksum_ok, Instant now) {
  ++counters_.segments_in;
  std::span<const uint8_t> bytes = packet->bytes();
  wire::ParseResult<wire::TcpHeader> parsed = wire::TcpHeader::Parse(
      bytes, source, destination, checksum_ok ? wire::RxChecksum::kSkip : wire::RxChecksum::kVerify);
  if (!parsed.ok() && parsed.error() == wire::WireError::kBadChecksum) {
    counters_.Drop(TcpDrop::kBadChecksum);
    link::FreePacket(packet);
    return;
  }
  if (!parsed.ok() || parsed->source_port == 0 || parsed->destination_port == 0 ||
      source.is_broadcast() || source.is_multicast() || destination.is_broadcast() ||
      destination.is_multicast()) {
    // RFC 1122 §4.2.3.10: never answer segments to or from broadcast or
    // multicast addresses.
    counters_.Drop(TcpDrop::kMalformed);
    link::FreePacket(packet);
    return;
  }
  const wire::TcpHeader& h = *parsed;
  Segment seg;
  seg.seq = h.seq;
  seg.ack = h.ack;
  seg.flags = h.flags.bits();
  seg.window = h.window;
  seg.options = h.options;
  seg.payload_length = static_cast<uint32_t>(bytes.size() - h.length());
  packet->TrimFront(static_cast<uint16_t>(h.length()));
  seg.packet = packet;

  FourTuple tuple{destination, h.destination_port, source, h.source_port};
  auto it = flows_.find(tuple);
  if (it == flows_.end()) {
    InputNoFlow(tuple, seg, now);
  } else {
    switch (it->second.kind) {
      case FlowEntry::Kind::kTcb:
        static_cast<Tcb*>(it->second.object)->OnSegment(seg, now);
        break;
      case FlowEntry::Kind::kRequest:
        InputRequestSock(*static_cast<RequestSock*>(it->second.object), seg, now);
        break;
      case FlowEntry::Kind::kTimeWait:
        InputTimeWait(*static_cast<TimeWaitSock*>(it->second.object), seg, now);
        break;
    }
  }
  if (seg.packet != nullptr) link::FreePacket(seg.packet);
}

Listener* TcpLayer::FindListener(wire::Ipv4Address address, uint16_t port) const {
  auto it = listeners_.find(ListenKey(address, port));
  if (it != listeners_.end()) return it->second;
  it = listeners_.find(ListenKey(wire::Ipv4Address::Any(), port));
  return it != listeners_.end() ? it->second : nullptr;
}

void TcpLayer::InputNoFlow(const FourTuple& tuple, Segment& seg, Instant now) {
  if (Listener* l = FindListener(tuple.local_ip, tuple.local_port)) {
    InputListen(*l, tuple, seg, now);
    return;
  }
  // RFC 9293 §3.10.7.1 CLOSED: answer with a reset, unless it is one.
  counters_.Drop(TcpDrop::kNoListener);
  SendResetFor(tuple, seg);
}

void TcpLayer::SendResetFor(const FourTuple& tuple, const Segment& seg) {
  if (seg.rst()) return;
  if (seg.has_ack()) {
    SendBareSegment(tuple, seg.ack, SeqNum(0), wire::TcpFlags::kRst, 0, nullptr);
  } else {
    SendBareSegment(tuple, SeqNum(0), seg.seq + seg.length(),
                    wire::TcpFlags::kRst | wire::TcpFlags::kAck, 0, nullptr);
  }
}

void TcpLayer::InputListen(Listener& listener, const FourTuple& tuple, Segment& seg,
                           Instant now) {
  // RFC 9293 §3.10.7.2 LISTEN.
  if (seg.rst()) return;  // first: ignore RSTs
  if (seg.has_ack()) {
    // Second: any ACK is bad here, unless it completes a SYN cookie.
    // Cookies are checked only while one issued recently may still be
    // answered (two cookie slots); otherwise a stray ACK is just that.
    bool cookies_recent =
        now - listener.last_cookie_sent_ <= SynCookies::kSlot * int64_t{2};
    if (config_.syn_cookies && !seg.syn() && cookies_recent) {
      CookieCheck check = cookies_.Check(tuple, seg.seq, seg.ack, now);
      if (check.verdict == CookieVerdict::kValid) {
        ++counters_.syn_cookies_valid;
        // Window scaling and SACK survive only in the TSval we sent, which
        // the peer echoes (RFC 4987 §3.6; as Linux does).
        bool timestamps = config_.timestamps && seg.options.timestamps.has_value();
        CookieOptions options;
        if (timestamps) options = DecodeCookieTsecr(seg.options.timestamps->echo_reply);
        Tcb::Handshake hs;
        hs.iss = seg.ack - 1;
        hs.irs = seg.seq - 1;
        hs.peer_mss = check.mss;
        hs.peer_wscale = (config_.window_scaling && options.window_scale.has_value())
                             ? static_cast<int8_t>(*options.window_scale)
                             : int8_t{-1};
        hs.our_wscale = hs.peer_wscale >= 0 ? OurWindowScale() : 0;
        hs.sack_permitted = options.sack_permitted && config_.sack;
        hs.timestamps = timestamps;
        hs.ts_recent = timestamps ? seg.options.timestamps->value : 0;
        hs.ts_offset = TsOffsetFor(tuple);
        hs.syn_window = seg.window;  // scaled on the next window update
        hs.our_window = static_cast<uint16_t>(std::min<uint32_t>(config_.receive_buffer, 65535));
        Tcb* tcb = CompletePassiveOpen(listener, tuple, hs, now);
        if (tcb != nullptr) {
          tcb->OnSegment(seg, now);
        }
        return;
      }
      ++counters_.syn_cookies_invalid;
      counters_.Drop(TcpDrop::kBadCookie);
    }
    SendBareSegment(tuple, seg.ack, SeqNum(0), wire::TcpFlags::kRst, 0, nullptr);
    return;
  }
  if (!seg.syn()) return;  // fourth: other text or control, drop

  // Third: SYN. (Data on a SYN is dropped; the peer resends it.)
  if (listener.accept_count_ >= listener.accept_backlog_) {
    counters_.Drop(TcpDrop::kAcceptQueueFull);
    return;
  }
  const wire::TcpOptions& o = seg.options;
  bool sack = config_.sack && o.sack_permitted;
  bool timestamps = config_.timestamps && o.timestamps.has_value();
  int8_t peer_wscale = (config_.window_scaling && o.window_scale.has_value())
                           ? static_cast<int8_t>(std::min<uint8_t>(*o.window_scale, 14))
                           : int8_t{-1};
  uint8_t our_wscale = peer_wscale >= 0 ? OurWindowScale() : 0;
  uint32_t ts_offset = TsOffsetFor(tuple);
  uint32_t peer_tsval = timestamps ? o.timestamps->value : 0;

  RequestSock* req = nullptr;
  if (listener.syn_count_ < listener.syn_backlog_) req = request_socks_.New();
  if (req == nullptr) {
    if (!config_.syn_cookies) {
      counters_.Drop(TcpDrop::kSynBacklogFull);
      return;
    }
    // SYN cookies: no state at all until a valid ACK comes back.
    uint16_t peer_mss = o.mss.has_value() ? *o.mss : SynCookies::kDefaultMss;
    SynCookies::Issued cookie = cookies_.Issue(tuple, seg.seq, peer_mss, now);
    ++counters_.syn_cookies_sent;
    listener.last_cookie_sent_ = now;
    uint32_t tsval = 0;
    if (timestamps) {
      CookieOptions options;
      if (peer_wscale >= 0) options.window_scale = static_cast<uint8_t>(peer_wscale);
      options.sack_permitted = sack;
      tsval = EncodeCookieTsval(TsNow(now) + ts_offset, options);
    }
    // Without timestamps nothing but the MSS survives: offer no scaling or
    // SACK that the final ACK could not confirm.
    SendSynAck(tuple, cookie.isn, seg.seq, config_.mss,
               timestamps && peer_wscale >= 0 ? our_wscale : -1, timestamps && sack, timestamps,
               tsval, peer_tsval);
    return;
  }
  req->layer = this;
  req->listener = &listener;
  req->tuple = tuple;
  req->irs = seg.seq;
  req->iss = isn_.Generate(tuple, now);
  req->peer_mss = o.mss.has_value() ? *o.mss : 0;
  req->syn_window = seg.window;
  req->our_window = static_cast<uint16_t>(std::min<uint32_t>(config_.receive_buffer, 65535));
  req->peer_wscale = peer_wscale;
  req->our_wscale = our_wscale;
  req->sack = sack;
  req->timestamps = timestamps;
  req->ts_recent = peer_tsval;
  req->ts_offset = ts_offset;
  req->synack_sent = now;
  ++listener.syn_count_;
  flows_[tuple] = FlowEntry{FlowEntry::Kind::kRequest, req};
  SendSynAck(tuple, req->iss, req->irs, config_.mss, peer_wscale >= 0 ? our_wscale : -1, sack,
             timestamps, TsNow(now) + ts_offset, peer_tsval);
  wheel_.Arm(req->timer, now + req->rto);
}

void TcpLayer::InputRequestSock(RequestSock& req, Segment& seg, Instant now) {
  // RFC 9293 §3.10.7.4 for a passive SYN-RECEIVED.
  SeqNum rcv_nxt = req.irs + 1;
  if (seg.syn() && !seg.has_ack() && seg.seq == req.irs) {
    // The peer did not get our SYN-ACK: resend it now.
    SendSynAck(req.tuple, req.iss, req.irs, config_.mss,
               req.peer_wscale >= 0 ? req.our_wscale : -1, req.sack, req.timestamps,
               TsNow(now) + req.ts_offset, req.ts_recent);
    return;
  }
  uint32_t window = req.our_window;
  bool in_window = SeqInRange(seg.seq, rcv_nxt, rcv_nxt + std::max<uint32_t>(window, 1));
  if (seg.rst()) {
    // RFC 5961 §3.2: only an exact match resets; passive opens return to
    // LISTEN, which for us means the request socket goes away.
    if (seg.seq == rcv_nxt) {
      ++counters_.resets_in;
      DestroyRequestSock(&req);
    } else {
      counters_.Drop(TcpDrop::kRstInvalid);
    }
    return;
  }
  if (!in_window) {
    counters_.Drop(TcpDrop::kOutOfWindow);
    SendBareSegment(req.tuple, req.iss + 1, rcv_nxt, wire::TcpFlags::kAck, req.our_window, nullptr);
    return;
  }
  if (seg.syn()) {
    // A new SYN in the window of a passive SYN-RECEIVED: RFC 9293 returns
    // the connection to LISTEN.
    DestroyRequestSock(&req);
    return;
  }
  if (!seg.has_ack()) return;
  if (seg.ack != req.iss + 1) {
    // Fifth step, SYN-RECEIVED: unacceptable ACK → <SEQ=SEG.ACK><CTL=RST>.
    counters_.Drop(TcpDrop::kAckInvalid);
    SendBareSegment(req.tuple, seg.ack, SeqNum(0), wire::TcpFlags::kRst, 0, nullptr);
    return;
  }
  Tcb::Handshake hs;
  hs.iss = req.iss;
  hs.irs = req.irs;
  hs.peer_mss = req.peer_mss;
  hs.peer_wscale = req.peer_wscale;
  hs.our_wscale = req.our_wscale;
  hs.sack_permitted = req.sack;
  hs.timestamps = req.timestamps;
  hs.ts_recent = req.ts_recent;
  hs.ts_offset = req.ts_offset;
  hs.syn_window = req.syn_window;
  hs.our_window = req.our_window;
  if (req.retransmits == 0) hs.rtt = now - req.synack_sent;  // Karn
  hs.synack_retransmitted = req.retransmits > 0;
  Listener& listener = *req.listener;
  FourTuple tuple = req.tuple;
  if (listener.layer_ == nullptr) {
    // The listener closed during the handshake.
    DestroyRequestSock(&req);
    SendBareSegment(tuple, seg.ack, SeqNum(0), wire::TcpFlags::kRst, 0, nullptr);
    return;
  }
  if (listener.accept_count_ >= listener.accept_backlog_) {
    // Like Linux: ignore the ACK and let the SYN-ACK timer try again.
    counters_.Drop(TcpDrop::kAcceptQueueFull);
    return;
  }
  DestroyRequestSock(&req);
  Tcb* tcb = CompletePassiveOpen(listener, tuple, hs, now);
  if (tcb != nullptr) tcb->OnSegment(seg, now);
}

Tcb* TcpLayer::CompletePassiveOpen(Listener& listener, const FourTuple& tuple,
                                   const Tcb::Handshake& hs, Instant now) {
  if (listener.accept_count_ >= listener.accept_backlog_) {
    counters_.Drop(TcpDrop::kAcceptQueueFull);
    return nullptr;
  }
  Tcb* tcb = tcbs_.New(*this, tuple, now);
  if (tcb == nullptr) {
    counters_.Drop(TcpDrop::kNoMemory);
    return nullptr;
  }
  tcb->StartPassive(hs, now);
  flows_[tuple] = FlowEntry{FlowEntry::Kind::kTcb, tcb};
  ++counters_.passive_opens;
  tcb->listener_ = &listener;
  tcb->accept_next_ = nullptr;
  if (listener.accept_tail_ == nullptr) {
    listener.accept_head_ = tcb;
  } else {
    listener.accept_tail_->accept_next_ = tcb;
  }
  listener.accept_tail_ = tcb;
  ++listener.accept_count_;
  ScheduleListenerEvent(&listener);
  return tcb;
}

void TcpLayer::InputTimeWait(TimeWaitSock& tw, Segment& seg, Instant now) {
  counters_.Drop(TcpDrop::kTimeWait);
  if (seg.rst()) {
    // RFC 9293 §3.10.7.4 second: TIME-WAIT + valid RST → CLOSED (RFC 5961
    // exact match).
    if (seg.seq == tw.rcv_nxt) DestroyTimeWait(&tw);
    return;
  }
  if (seg.syn() && !seg.has_ack()) {
    // RFC 6191 (and RFC 9293 §3.10.7.4 note): a new SYN may reopen the
    // tuple when it is provably newer: by timestamp when both use them,
    // otherwise by sequence number.
    bool newer = (tw.timestamps && seg.options.timestamps.has_value())
                     ? TsBefore(tw.ts_recent, seg.options.timestamps->value)
                     : seg.seq > tw.rcv_nxt;
    if (newer) {
      FourTuple tuple = tw.tuple;
      ++counters_.time_wait_reused;
      DestroyTimeWait(&tw);
      InputNoFlow(tuple, seg, now);
      return;
    }
  }
  if (seg.fin() || seg.payload_length > 0 || seg.syn()) {
    // Only the peer's FIN can legitimately arrive: ACK it and restart 2MSL.
    if (seg.fin()) wheel_.Arm(tw.timer, now + config_.time_wait);
    wire::TcpOptions options;
    if (tw.timestamps) {
      options.timestamps = wire::TcpTimestamps{TsNow(now) + tw.ts_offset, tw.ts_recent};
    }
    SendBareSegment(tw.tuple, tw.snd_nxt, tw.rcv_nxt, wire::TcpFlags::kAck, tw.window,
                    tw.timestamps ? &options : nullptr);
  }
}

// ---- Output of segments that have no Tcb ----------------------------------------

void TcpLayer::SendSynAck(const FourTuple& tuple, SeqNum iss, SeqNum irs, uint16_t mss_option,
                          int8_t wscale, bool sack, bool timestamps, uint32_t tsval,
                          uint32_t tsecr) {
  wire::TcpOptions options;
  options.mss = mss_option;
  if (wscale >= 0) options.window_scale = static_cast<uint8_t>(wscale);
  options.sack_permitted = sack;
  if (timestamps) options.timestamps = wire::TcpTimestamps{tsval, tsecr};
  uint16_t window = static_cast<uint16_t>(std::min<uint32_t>(config_.receive_buffer, 65535));
  SendBareSegment(tuple, iss, irs + 1, wire::TcpFlags::kSyn | wire::TcpFlags::kAck, window, &options);
}

void TcpLayer::SendBareSegment(const FourTuple& tuple, SeqNum seq, SeqNum ack, uint8_t flags,
                               uint16_t window, const wire::TcpOptions* options) {
  link::Packet* packet = pool_.Allocate();
  if (packet == nullptr) {
    counters_.Drop(TcpDrop::kNoMemory);
    return;
  }
  wire::TcpHeader h;
  h.source_port = tuple.local_port;
  h.destination_port = tuple.remote_port;
  h.seq = seq;
  h.ack = ack;
  h.flags = wire::TcpFlags(flags);
  h.window = window;
  if (options != nullptr) h.options = *options;
  size_t length = h.length();
  uint8_t* out = packet->Append(static_cast<uint16_t>(length));
  h.Emit(std::span<uint8_t>(out, length), tuple.local_ip, tuple.remote_ip,
         wire::TxChecksum::kOffload);
  Transmit(tuple, packet);
}

// ---- Batching -------------------------------------------------------------------

void TcpLayer::FlushOutput(Instant now) {
  while (output_head_ != nullptr) {
    Tcb* tcb = output_head_;
    output_head_ = tcb->output_next_;
    tcb->output_next_ = nullptr;
    tcb->in_output_list_ = false;
    tcb->Output(now);
  }
  // Free released connections that no list refers to any more.
  size_t kept = 0;
  for (Tcb* tcb : graveyard_) {
    if (tcb->in_event_list_ || tcb->in_output_list_) {
      graveyard_[kept++] = tcb;
    } else {
      tcbs_.Delete(tcb);
    }
  }
  graveyard_.resize(kept);
  // Gauges for the stats exporter, exact at every batch boundary.
  counters_.connections_current = tcbs_.live();
  counters_.request_socks_current = request_socks_.live();
  counters_.time_wait_current = time_waits_.live();
}

size_t TcpLayer::TakeEvents(std::vector<EventRecord>& out) {
  size_t before = out.size();
  for (Listener* l : listener_events_) {
    l->event_pending_ = false;
    if (l->layer_ != nullptr && l->accept_count_ > 0) {
      out.push_back(EventRecord{nullptr, l, 0});
    }
  }
  listener_events_.clear();
  Tcb* tcb = event_head_;
  event_head_ = event_tail_ = nullptr;
  while (tcb != nullptr) {
    Tcb* next = tcb->event_next_;
    tcb->event_next_ = nullptr;
    tcb->in_event_list_ = false;
    if (tcb->app_owned_ && tcb->listener_ == nullptr && tcb->pending_events_ != 0) {
      out.push_back(EventRecord{tcb, nullptr, tcb->pending_events_});
      tcb->pending_events_ = 0;
    }
    tcb = next;
  }
  return out.size() - before;
}

// ---- Application API --------------------------------------------------------------

absl::StatusOr<Listener*> TcpLayer::Listen(wire::Ipv4Address address, uint16_t port,
                                           ListenOptions options) {
  if (port == 0) return absl::InvalidArgumentError("listen: port must be 1..65535");
  uint64_t key = ListenKey(address, port);
  if (listeners_.contains(key)) {
    return absl::AlreadyExistsError(
        absl::StrCat("listen: ", address.ToString(), ":", port, " is already listening"));
  }
  Listener* l = listener_pool_.New();
  if (l == nullptr) return absl::ResourceExhaustedError("listen: too many listeners");
  l->layer_ = this;
  l->address_ = address;
  l->port_ = port;
  l->accept_backlog_ = options.accept_backlog != 0 ? options.accept_backlog : config_.accept_backlog;
  l->syn_backlog_ = options.syn_backlog != 0 ? options.syn_backlog : config_.syn_backlog;
  listeners_[key] = l;
  return l;
}

void TcpLayer::CloseListener(Listener* listener, Instant now) {
  listeners_.erase(ListenKey(listener->address_, listener->port_));
  // Connections never accepted are reset: nobody will ever read them.
  while (Tcb* tcb = listener->accept_head_) {
    tcb->Abort();
  }
  listener->layer_ = nullptr;
  listener->event_pending_ = false;
  listener_events_.erase(std::remove(listener_events_.begin(), listener_events_.end(), listener),
                         listener_events_.end());
  // Request sockets keep a pointer to the listener; it is freed when the
  // last of them goes (DestroyRequestSock).
  if (listener->syn_count_ == 0) listener_pool_.Delete(listener);
  (void)now;
}

Tcb* Listener::Accept() {
  Tcb* tcb = accept_head_;
  if (tcb == nullptr) return nullptr;
  accept_head_ = tcb->accept_next_;
  if (accept_head_ == nullptr) accept_tail_ = nullptr;
  --accept_count_;
  tcb->accept_next_ = nullptr;
  tcb->listener_ = nullptr;
  tcb->app_owned_ = true;
  if (tcb->pending_events_ != 0) layer_->ScheduleEvent(tcb);
  return tcb;
}

absl::StatusOr<Tcb*> TcpLayer::Connect(wire::Ipv4Address local_ip, wire::Ipv4Address remote_ip,
                                       uint16_t remote_port, Instant now, uint16_t local_port) {
  if (remote_port == 0) return absl::InvalidArgumentError("connect: remote port must be 1..65535");
  bool allocated = false;
  if (local_port == 0) {
    if (ports_ == nullptr) {
      return absl::FailedPreconditionError("connect: no local port given and no port allocator");
    }
    std::optional<uint16_t> port = ports_->Allocate(
        local_ip, remote_ip, remote_port, now, [&](uint16_t candidate) {
          return TryReuseTimeWait(FourTuple{local_ip, candidate, remote_ip, remote_port}, now);
        });
    if (!port.has_value()) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "connect: no free local port toward ", remote_ip.ToString(), ":", remote_port));
    }
    local_port = *port;
    allocated = true;
  }
  FourTuple tuple{local_ip, local_port, remote_ip, remote_port};
  auto release = [&] {
    if (allocated) ports_->Release(local_ip, local_port, remote_ip, remote_port);
  };
  auto it = flows_.find(tuple);
  if (it != flows_.end()) {
    if (!TryReuseTimeWait(tuple, now)) {
      release();
      return absl::AlreadyExistsError(absl::StrCat(
          "connect: ", local_ip.ToString(), ":", local_port, " -> ", remote_ip.ToString(), ":",
          remote_port, " is in use"));
    }
  }
  Tcb* tcb = tcbs_.New(*this, tuple, now);
  if (tcb == nullptr) {
    release();
    return absl::ResourceExhaustedError("connect: connection limit reached");
  }
  tcb->active_open_ = allocated;
  flows_[tuple] = FlowEntry{FlowEntry::Kind::kTcb, tcb};
  tcb->StartConnect(isn_.Generate(tuple, now), now);
  return tcb;
}

bool TcpLayer::TryReuseTimeWait(const FourTuple& tuple, Instant now) {
  auto it = flows_.find(tuple);
  if (it == flows_.end()) return true;  // the TIME-WAIT entry already went
  if (it->second.kind != FlowEntry::Kind::kTimeWait) return false;
  TimeWaitSock* tw = static_cast<TimeWaitSock*>(it->second.object);
  // RFC 6191 / RFC 7323 §5.8 (Linux tcp_tw_reuse): with timestamps, PAWS
  // tells the new incarnation's segments from old duplicates once the
  // clock has moved on, so the tuple may be reused after a second.
  if (!tw->timestamps || now - tw->ts_recent_time < kTimeWaitReuseAfter) return false;
  ++counters_.time_wait_reused;
  DestroyTimeWait(tw);
  return true;
}

Tcb* TcpLayer::FindConnection(const FourTuple& tuple) const {
  auto it = flows_.find(tuple);
  if (it == flows_.end() || it->second.kind != FlowEntry::Kind::kTcb) return nullptr;
  return static_cast<Tcb*>(it->second.object);
}

bool TcpLayer::IsTimeWait(const FourTuple& tuple) const {
  auto it = flows_.find(tuple);
  return it != flows_.end() && it->second.kind == FlowEntry::Kind::kTimeWait;
}

}  // namespace locus::tcp
