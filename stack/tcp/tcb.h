// One TCP connection: the transmission control block of RFC 9293 §3.3.1 and
// the state machine of §3.10. A Tcb does no I/O and reads no clock: segments
// and the current time come in from its TcpLayer, and segments and events go
// out through it. The application holds a Tcb* as its connection handle.
#ifndef LOCUS_STACK_TCP_TCB_H_
#define LOCUS_STACK_TCP_TCB_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/base/time.h"
#include "stack/tcp/congestion.h"
#include "stack/tcp/congestion_control.h"
#include "stack/tcp/object_pool.h"
#include "stack/tcp/receive_buffer.h"
#include "stack/tcp/rtt_estimator.h"
#include "stack/tcp/sack_scoreboard.h"
#include "stack/tcp/segment.h"
#include "stack/tcp/send_buffer.h"
#include "stack/tcp/tcp_types.h"
#include "stack/tcp_support/reassembly_queue.h"
#include "stack/timer/timer_wheel.h"
#include "stack/wire/seq_num.h"

namespace locus::tcp {

class TcpLayer;
class Listener;

// Events a connection reports to its application, coalesced per poll.
enum TcpEvent : uint16_t {
  kEventConnected = 1u << 0,   // active open completed; writable
  kEventReadable = 1u << 1,    // new in-order data to read
  kEventWritable = 1u << 2,    // send space freed after a short write
  kEventPeerClosed = 1u << 3,  // peer's FIN: EOF once the queued data is read
  kEventClosed = 1u << 4,      // terminated; see close_reason(); call Close()
};

enum class CloseReason : uint8_t {
  kNone,
  kNormal,          // both FINs exchanged and acknowledged
  kReset,           // peer sent RST
  kRefused,         // RST answering our SYN
  kTimeout,         // retransmissions or keepalives exhausted
  kAborted,         // local Abort()
  kListenerClosed,  // never accepted and its listener went away
};

std::string_view CloseReasonName(CloseReason r);

class Tcb final : public timer::TimerHandler {
 public:
  // ---- Application API -------------------------------------------------
  // Copies up to out.size() in-order bytes out. 0 with peer_closed() means EOF.
  size_t Read(std::span<uint8_t> out);
  size_t readable() const { return rcv_buf_.size(); }
  // Zero-copy read: the first contiguous run of readable bytes.
  std::span<const uint8_t> Peek() const { return rcv_buf_.Front(); }
  void Consume(size_t n);

  // Queues bytes for sending and returns how many fit in the send buffer. A
  // short count arms a kEventWritable once space frees up.
  size_t Write(std::span<const uint8_t> data);
  // Moves the other connection's readable data into this send buffer
  // without copying, up to the free send space. Returns bytes moved.
  size_t Splice(Tcb& from);
  size_t writable() const;

  // Half close (SHUT_WR): FIN after the queued data.
  void Shutdown();
  // Releases the handle. Queued data is still delivered and the connection
  // closes gracefully, unless unread input remains, in which case it is
  // reset (RFC 9293 §3.10.4, RFC 2525 §2.17).
  void Close();
  // Sends RST now and releases the handle.
  void Abort();

  void set_nodelay(bool on) { nagle_ = !on; }
  void set_keepalive(bool on, Instant now);
  void set_user_data(void* p) { user_data_ = p; }
  void* user_data() const { return user_data_; }

  TcpState state() const { return state_; }
  const FourTuple& tuple() const { return tuple_; }
  bool peer_closed() const { return peer_fin_received_; }
  CloseReason close_reason() const { return close_reason_; }

  // Introspection for tests, stats and benchmarks.
  wire::SeqNum snd_una() const { return snd_una_; }
  wire::SeqNum snd_nxt() const { return snd_nxt_; }
  wire::SeqNum rcv_nxt() const { return rcv_nxt_; }
  uint32_t snd_wnd() const { return snd_wnd_; }
  uint32_t cwnd() const { return cc_->cwnd(); }
  uint32_t ssthresh() const { return cc_->ssthresh(); }
  uint16_t snd_mss() const { return snd_mss_; }
  Duration rto() const { return rtt_.rto(); }
  uint8_t snd_wscale() const { return snd_wscale_; }
  uint8_t rcv_wscale() const { return rcv_wscale_; }
  bool timestamps_enabled() const { return ts_enabled_; }
  bool sack_enabled() const { return sack_enabled_; }
  size_t unsent_or_unacked() const { return snd_buf_.size(); }

  Tcb(const Tcb&) = delete;
  Tcb& operator=(const Tcb&) = delete;

 private:
  friend class TcpLayer;
  friend class Listener;
  friend class ObjectPool<Tcb>;

  Tcb(TcpLayer& layer, const FourTuple& tuple, Instant now);
  ~Tcb();

  // ---- Opening (called by TcpLayer) --------------------------------------
  // Active open: sends SYN. RFC 9293 §3.10.1.
  void StartConnect(wire::SeqNum iss, Instant now);
  // Passive open completed by a valid final ACK (from a RequestSock or a
  // SYN cookie): the handshake state is copied in and the Tcb is ESTABLISHED.
  struct Handshake {
    wire::SeqNum iss;
    wire::SeqNum irs;
    uint16_t peer_mss = 0;        // 0: option absent
    int8_t peer_wscale = -1;      // -1: option absent
    uint8_t our_wscale = 0;
    bool sack_permitted = false;
    bool timestamps = false;
    uint32_t ts_recent = 0;
    uint16_t syn_window = 0;      // unscaled window of the SYN (RFC 7323 §2.2)
    uint16_t our_window = 0;      // unscaled window our SYN-ACK advertised
    uint32_t ts_offset = 0;       // our TSval offset used in the SYN-ACK
    Duration rtt = Duration::Zero();  // SYN-ACK round trip, zero if unknown
    bool synack_retransmitted = false;  // RFC 5681 §3.1: IW of one segment
  };
  void StartPassive(const Handshake& hs, Instant now);

  // ---- Input (tcb_input.cc) ----------------------------------------------
  // Processes one segment for this connection; takes ownership of
  // seg.packet.
  void OnSegment(Segment& seg, Instant now);
  void OnSegmentSynSent(Segment& seg, Instant now);
  bool CheckSequence(const Segment& seg, Instant now);
  bool ProcessAck(Segment& seg, Instant now);
  void ProcessData(Segment& seg, Instant now);
  void ProcessFin(Instant now);
  void UpdateWindow(const Segment& seg);
  void AdvanceUna(const Segment& seg, Instant now);
  // Sizes congestion control and SACK state once the MSS is known.
  void OnEstablished();
  void OnHandshakeRetransmitted();
  void TakeRtt(const Segment& seg, wire::SeqNum acked_through, Instant now);
  void OnDuplicateAck(Instant now);
  void EnterRecovery(Instant now);
  void OnSackAck(const Segment& seg, Instant now);
  void NegotiateOptions(const wire::TcpOptions& syn_options, bool from_syn_ack);
  void SendChallengeAck(Instant now);

  // ---- Output (tcb_output.cc) --------------------------------------------
  // Sends whatever the windows allow, then a pure ACK if one is owed.
  void Output(Instant now);
  // Sends one segment. `data_offset` is relative to SND.UNA.
  bool SendSegment(wire::SeqNum seq, uint8_t flags, uint32_t data_length, Instant now,
                   bool retransmission);
  void SendAck(Instant now);
  void SendRst(wire::SeqNum seq);
  uint32_t SendWindowAvailable() const;
  uint32_t ReceiveWindow() const;
  uint32_t ReceiveSwsThreshold() const;
  uint16_t EffectiveMss() const;
  bool RetransmitFirst(Instant now);
  // Sends [seq, seq+len) of sequence space again (the FIN included when the
  // range covers it). Returns the sequence space actually sent.
  uint32_t Retransmit(wire::SeqNum seq, uint32_t len, Instant now);
  void OutputSackRecovery(Instant now, bool* sent_any);
  bool CwndLimited(uint32_t flight_before_ack) const;
  size_t SendBufferLimit() const;

  // ---- Timers (tcb_timers.cc) --------------------------------------------
  void OnTimer(timer::Timer& timer, Instant now) override;
  void OnRetransmitTimer(Instant now);
  void OnDelayedAckTimer(Instant now);
  void OnKeepaliveTimer(Instant now);
  void OnRetransmitTimeout(Instant now);
  void OnPersistTimeout(Instant now);
  void ArmRetransmitTimer(Instant now);
  void ArmPersistTimer(Instant now);
  void RestartKeepalive(Instant now);

  // ---- Lifecycle -----------------------------------------------------------
  void SetState(TcpState s);
  void Terminate(CloseReason reason);
  void EnterTimeWait(Instant now);
  void Notify(uint16_t events);
  void ScheduleOutput();

  TcpLayer& layer_;
  FourTuple tuple_;
  TcpState state_ = TcpState::kClosed;

  // Flags.
  bool app_owned_ = true;           // the application holds this handle
  bool fin_queued_ = false;         // Shutdown/Close asked for a FIN
  bool fin_sent_ = false;           // our FIN has a sequence number
  bool peer_fin_received_ = false;  // FIN processed, RCV.NXT advanced past it
  bool peer_fin_pending_ = false;   // FIN seen beyond RCV.NXT, not yet reached
  bool ts_enabled_ = false;
  bool sack_enabled_ = false;
  bool nagle_ = false;
  bool keepalive_ = false;
  bool in_recovery_ = false;        // RFC 6582 / RFC 6675 fast recovery
  bool ack_now_ = false;            // an ACK must go out at the next flush
  bool want_writable_ = false;      // a Write() came up short
  bool rtt_timing_ = false;         // Karn timing of one segment in flight
  bool cwnd_limited_ = false;       // the last Output stopped at cwnd
  bool in_output_list_ = false;
  bool in_event_list_ = false;
  bool persist_mode_ = false;       // retransmit timer is the persist timer
  CloseReason close_reason_ = CloseReason::kNone;

  // Send sequence space, RFC 9293 §3.3.1.
  wire::SeqNum iss_;
  wire::SeqNum snd_una_;
  wire::SeqNum snd_nxt_;
  wire::SeqNum snd_max_;  // highest sequence sent; SND.NXT moves back on RTO
  wire::SeqNum snd_wl1_;
  wire::SeqNum snd_wl2_;
  wire::SeqNum recover_;  // RFC 6582 "recover"
  wire::SeqNum rtt_seq_;  // segment being timed (without timestamps)
  wire::SeqNum peer_fin_seq_;
  uint32_t snd_wnd_ = 0;      // peer's window, scaled
  uint32_t max_snd_wnd_ = 0;  // for RFC 5961 §5.2 ACK validation
  uint16_t snd_mss_ = 536;    // RFC 9293 §3.7.1 default without the option
  uint8_t snd_wscale_ = 0;
  uint8_t rcv_wscale_ = 0;

  // Receive sequence space.
  wire::SeqNum irs_;
  wire::SeqNum rcv_nxt_;
  wire::SeqNum rcv_adv_;  // right edge we advertised; never moves left
  wire::SeqNum last_ack_sent_;

  // RFC 7323 timestamps.
  uint32_t ts_recent_ = 0;
  Instant ts_recent_time_;

  uint32_t ts_offset_ = 0;      // RFC 7323 §5.4: per-connection TSval offset
  bool active_open_ = false;    // local port came from the LocalPortAllocator
  uint8_t persist_backoff_ = 0;
  uint8_t retransmits_ = 0;     // consecutive RTOs / SYN retransmissions
  uint8_t keepalive_sent_ = 0;
  uint8_t dup_acks_ = 0;
  uint8_t full_segments_unacked_ = 0;
  uint16_t pending_events_ = 0;
  Instant rtt_start_;
  Instant last_challenge_ack_;  // per-connection rate limit on dup ACKs
  Instant last_activity_;       // for keepalive

  RttEstimator rtt_;
  CongestionController cc_;
  SackScoreboard sack_;
  ReassemblyQueue ooo_;
  SendBuffer snd_buf_;
  ReceiveBuffer rcv_buf_;

  timer::Timer rexmt_timer_;     // RTO, SYN retransmit, or persist
  timer::Timer delack_timer_;
  timer::Timer keepalive_timer_;  // keepalive and FIN-WAIT-2 timeout

  Listener* listener_ = nullptr;  // until accepted
  Tcb* accept_next_ = nullptr;
  Tcb* output_next_ = nullptr;
  Tcb* event_next_ = nullptr;
  void* user_data_ = nullptr;
};

}  // namespace locus::tcp

#endif  // LOCUS_STACK_TCP_TCB_H_
