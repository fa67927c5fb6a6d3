// Segment transmission: what to send and when (RFC 9293 §3.8.6, RFC 5681,
// RFC 6675 §5 NextSeg, RFC 3042 limited transmit, Nagle per RFC 896).
#include <algorithm>
#include <cstring>

#include "stack/tcp/tcb.h"
#include "stack/tcp/tcp_layer.h"

namespace locus::tcp {

using wire::SeqNum;

namespace {
// RFC 2018 §3: with timestamps 3 SACK blocks fit in the option space.
constexpr size_t kMaxSackBlocksWithTimestamps = 3;
constexpr size_t kMaxSackBlocks = 4;
// NOP, NOP, kind, length, TSval, TSecr: what timestamps cost every segment.
constexpr uint16_t kTimestampOptionSpace = 12;
}  // namespace

uint16_t Tcb::EffectiveMss() const {
  // RFC 9293 §3.7.1: Eff.snd.MSS excludes the options we always send.
  return static_cast<uint16_t>(snd_mss_ - (ts_enabled_ ? kTimestampOptionSpace : 0));
}

uint32_t Tcb::ReceiveWindow() const {
  uint64_t used = rcv_buf_.size() + ooo_.bytes();
  uint32_t limit = layer_.config().receive_buffer;
  uint32_t free_space = used >= limit ? 0 : static_cast<uint32_t>(limit - used);
  uint32_t max_window = 65535u << rcv_wscale_;
  return std::min(free_space, max_window);
}

uint32_t Tcb::ReceiveSwsThreshold() const {
  return std::min<uint32_t>(layer_.config().receive_buffer / 2, EffectiveMss());
}

uint32_t Tcb::SendWindowAvailable() const {
  uint32_t in_flight = static_cast<uint32_t>(snd_nxt_ - snd_una_);
  uint32_t cwnd = cc_->cwnd();
  // RFC 3042: each of the first two duplicate ACKs lets one new segment out.
  if (!in_recovery_ && dup_acks_ > 0 && dup_acks_ < 3) cwnd += dup_acks_ * EffectiveMss();
  uint32_t cwnd_room = cwnd > in_flight ? cwnd - in_flight : 0;
  SeqNum right_edge = snd_una_ + snd_wnd_;
  uint32_t peer_room = right_edge > snd_nxt_ ? static_cast<uint32_t>(right_edge - snd_nxt_) : 0;
  return std::min(cwnd_room, peer_room);
}

bool Tcb::SendSegment(SeqNum seq, uint8_t flags, uint32_t data_length, Instant now,
                      bool retransmission) {
  TcpCounters& counters = layer_.mutable_counters();
  link::Packet* packet = layer_.AllocatePacket();
  if (packet == nullptr) {
    counters.Drop(TcpDrop::kNoMemory);
    return false;
  }
  const TcpConfig& config = layer_.config();
  bool syn = (flags & wire::TcpFlags::kSyn) != 0;
  if (state_ != TcpState::kSynSent) flags |= wire::TcpFlags::kAck;

  wire::TcpHeader h;
  h.source_port = tuple_.local_port;
  h.destination_port = tuple_.remote_port;
  h.seq = seq;
  h.ack = (flags & wire::TcpFlags::kAck) ? rcv_nxt_ : SeqNum(0);
  h.flags = wire::TcpFlags(flags);
  uint32_t window = ReceiveWindow();
  // Never move the right edge left (RFC 9293 §3.8.6.2.2; RFC 7323 §2.4),
  // and (receiver SWS avoidance, RFC 1122 §4.2.3.3, RFC 9293 §3.8.6.2.2)
  // move it right only by at least min(RCV.BUFF/2, Eff.snd.MSS).
  uint32_t advertised = static_cast<uint32_t>(std::max<int32_t>(rcv_adv_ - rcv_nxt_, 0));
  if (window < advertised + ReceiveSwsThreshold()) window = advertised;
  if (syn) {
    // RFC 7323 §2.2: the window in a SYN is never scaled.
    h.window = static_cast<uint16_t>(std::min<uint32_t>(window, 65535));
    h.options.mss = config.mss;
    bool offer_wscale = state_ == TcpState::kSynSent ? config.window_scaling
                                                     : (snd_wscale_ != 0 || rcv_wscale_ != 0);
    if (offer_wscale) h.options.window_scale = rcv_wscale_;
    h.options.sack_permitted = state_ == TcpState::kSynSent ? config.sack : sack_enabled_;
    bool offer_ts = state_ == TcpState::kSynSent ? config.timestamps : ts_enabled_;
    if (offer_ts) {
      h.options.timestamps = wire::TcpTimestamps{layer_.TsNow(now) + ts_offset_, ts_recent_};
    }
  } else {
    h.window = static_cast<uint16_t>(std::min<uint32_t>(window >> rcv_wscale_, 65535));
    if (ts_enabled_) {
      h.options.timestamps = wire::TcpTimestamps{layer_.TsNow(now) + ts_offset_, ts_recent_};
    }
    if (sack_enabled_ && !ooo_.empty()) {
      // RFC 2018 §4: report the most recent blocks first, as many as fit
      // without pushing a full-sized segment over the MSS.
      size_t max_blocks = ts_enabled_ ? kMaxSackBlocksWithTimestamps : kMaxSackBlocks;
      size_t option_room = snd_mss_ > data_length + (ts_enabled_ ? kTimestampOptionSpace : 0)
                               ? snd_mss_ - data_length - (ts_enabled_ ? kTimestampOptionSpace : 0)
                               : 0;
      size_t fit = option_room >= 2 + 2 ? (option_room - 2 - 2) / 8 : 0;
      max_blocks = std::min(max_blocks, fit);
      h.options.sack_block_count = static_cast<uint8_t>(ooo_.GetSackBlocks(
          rcv_nxt_, std::span<wire::SackBlock>(h.options.sack_blocks.data(), max_blocks)));
    }
  }

  size_t header_length = h.length();
  uint8_t* out = packet->Append(static_cast<uint16_t>(header_length + data_length));
  if (out == nullptr) {
    link::FreePacket(packet);
    counters.Drop(TcpDrop::kNoMemory);
    return false;
  }
  if (data_length > 0) {
    snd_buf_.CopyOut(static_cast<size_t>(seq - snd_una_), data_length, out + header_length);
  }
  // The transmitter finishes the checksum (in software or on the NIC).
  h.Emit(std::span<uint8_t>(out, header_length + data_length), tuple_.local_ip, tuple_.remote_ip,
         wire::TxChecksum::kOffload);

  if (flags & wire::TcpFlags::kAck) {
    ack_now_ = false;
    full_segments_unacked_ = 0;
    layer_.wheel().Cancel(delack_timer_);
    last_ack_sent_ = rcv_nxt_;
    SeqNum edge = rcv_nxt_ + (syn ? h.window : (static_cast<uint32_t>(h.window) << rcv_wscale_));
    if (edge > rcv_adv_) rcv_adv_ = edge;
  }
  counters.bytes_out += data_length;
  if (retransmission && (data_length > 0 || syn || (flags & wire::TcpFlags::kFin))) {
    ++counters.retransmits;
  }
  layer_.Transmit(tuple_, packet);
  return true;
}

void Tcb::SendAck(Instant now) {
  SendSegment(snd_nxt_, wire::TcpFlags::kAck, 0, now, /*retransmission=*/false);
}

void Tcb::SendRst(SeqNum seq) {
  layer_.SendBareSegment(tuple_, seq, SeqNum(0), wire::TcpFlags::kRst, 0, nullptr);
}

uint32_t Tcb::Retransmit(SeqNum seq, uint32_t len, Instant now) {
  // Sequence space [seq, seq+len) holds data up to data_end and then, once
  // sent, our FIN.
  SeqNum data_end = snd_una_ + static_cast<uint32_t>(snd_buf_.size());
  len = std::min<uint32_t>(len, EffectiveMss());
  uint32_t data = seq < data_end ? std::min<uint32_t>(len, static_cast<uint32_t>(data_end - seq)) : 0;
  uint8_t flags = wire::TcpFlags::kAck;
  uint32_t space = data;
  if (fin_sent_ && seq + data == data_end && len > data) {
    flags |= wire::TcpFlags::kFin;
    space += 1;
  }
  if (space == 0) return 0;
  if (data > 0 && seq + data == data_end) flags |= wire::TcpFlags::kPsh;
  return SendSegment(seq, flags, data, now, /*retransmission=*/true) ? space : 0;
}

bool Tcb::RetransmitFirst(Instant now) {
  return Retransmit(snd_una_, static_cast<uint32_t>(snd_max_ - snd_una_), now) > 0;
}

void Tcb::OutputSackRecovery(Instant now, bool* sent_any) {
  // RFC 6675 §5 step C: while cwnd - pipe >= 1 SMSS, send what NextSeg()
  // picks, and report it.
  const uint16_t mss = EffectiveMss();
  for (int guard = 0; guard < 256; ++guard) {
    if (cc_->cwnd() < sack_.pipe() + mss) break;
    SeqNum data_end = snd_una_ + static_cast<uint32_t>(snd_buf_.size());
    SeqNum right_edge = snd_una_ + snd_wnd_;
    bool fin_unsent = fin_queued_ && !fin_sent_;
    bool can_send_new = (snd_max_ < data_end || fin_unsent) && right_edge > snd_max_;
    SackScoreboard::Segment next = sack_.NextSeg(snd_max_, can_send_new);
    if (next.empty()) break;
    if (next.rule == SackScoreboard::Segment::Rule::kNewData) {
      uint32_t room = static_cast<uint32_t>(right_edge - snd_max_);
      uint32_t len = std::min<uint32_t>({static_cast<uint32_t>(data_end - snd_max_), mss, room});
      bool fin_here = fin_unsent && snd_max_ + len == data_end && room > len;
      if (len == 0 && !fin_here) break;
      uint8_t flags = wire::TcpFlags::kAck | (fin_here ? wire::TcpFlags::kFin : 0);
      if (len > 0 && snd_max_ + len == data_end) flags |= wire::TcpFlags::kPsh;
      if (!SendSegment(snd_max_, flags, len, now, /*retransmission=*/false)) break;
      next.start = snd_max_;
      next.length = len + (fin_here ? 1 : 0);
      snd_max_ = snd_max_ + next.length;
      snd_nxt_ = snd_max_;
      if (fin_here) fin_sent_ = true;
      sack_.OnSegmentSent(next);
    } else {
      uint32_t sent = Retransmit(next.start, next.length, now);
      if (sent == 0) break;
      next.length = sent;
      sack_.OnSegmentSent(next);
    }
    *sent_any = true;
  }
}

void Tcb::Output(Instant now) {
  switch (state_) {
    case TcpState::kClosed:
    case TcpState::kListen:
    case TcpState::kSynSent:
    case TcpState::kSynReceived:
    case TcpState::kTimeWait:
      return;
    default:
      break;
  }
  bool sent_any = false;
  cwnd_limited_ = false;
  const uint16_t mss = EffectiveMss();

  if (sack_enabled_ && sack_.in_recovery()) {
    OutputSackRecovery(now, &sent_any);
  } else {
    // New data, or (without SACK) go-back-N resends after an RTO.
    for (int guard = 0; guard < 1024; ++guard) {
      SeqNum data_end = snd_una_ + static_cast<uint32_t>(snd_buf_.size());
      if (snd_nxt_ > data_end) break;  // everything, FIN included, is out
      uint32_t unsent = static_cast<uint32_t>(data_end - snd_nxt_);
      uint32_t window = SendWindowAvailable();
      uint32_t len = std::min<uint32_t>({unsent, mss, window});
      // Once acknowledged, our FIN is part of SND.UNA and data_end is one
      // past it: only a FIN never sent, or one being resent after SND.NXT
      // went back (go-back-N), goes out here.
      bool fin_here = fin_queued_ && (!fin_sent_ || snd_nxt_ < snd_max_) && len == unsent &&
                      window > len;
      if (len == 0 && !fin_here) {
        if (unsent > 0 && snd_wnd_ > static_cast<uint32_t>(snd_nxt_ - snd_una_)) {
          cwnd_limited_ = true;
        }
        break;
      }
      if (len > 0 && len < mss && !fin_here) {
        if (len < unsent) {
          // Sender SWS avoidance (RFC 9293 §3.8.6.2.1): a window-limited
          // runt only when it is at least half the largest window seen.
          if (len < max_snd_wnd_ / 2) break;
        } else if (nagle_ && snd_nxt_ != snd_una_) {
          // Nagle (RFC 9293 §3.7.4): one small segment in flight at a time.
          break;
        }
      }
      uint8_t flags = wire::TcpFlags::kAck;
      if (len > 0 && len == unsent) flags |= wire::TcpFlags::kPsh;
      if (fin_here) flags |= wire::TcpFlags::kFin;
      bool retransmission = snd_nxt_ < snd_max_;
      if (!SendSegment(snd_nxt_, flags, len, now, retransmission)) break;
      if (!retransmission && !rtt_timing_ && len > 0 && !ts_enabled_) {
        rtt_timing_ = true;
        rtt_seq_ = snd_nxt_;
        rtt_start_ = now;
      }
      snd_nxt_ = snd_nxt_ + len + (fin_here ? 1 : 0);
      if (fin_here) fin_sent_ = true;
      if (snd_nxt_ > snd_max_) snd_max_ = snd_nxt_;
      if (!rexmt_timer_.armed() || persist_mode_) ArmRetransmitTimer(now);
      sent_any = true;
      if (fin_here) break;
    }
  }

  // Zero window with data waiting and nothing in flight: probe (§3.8.6.1).
  SeqNum data_end = snd_una_ + static_cast<uint32_t>(snd_buf_.size());
  bool waiting = snd_nxt_ < data_end || (fin_queued_ && !fin_sent_);
  if (waiting && snd_max_ == snd_una_ && !rexmt_timer_.armed()) ArmPersistTimer(now);

  if (ack_now_ && !sent_any) SendAck(now);
}

}  // namespace locus::tcp
