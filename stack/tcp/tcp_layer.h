// The TCP of one core: Fastsocket-style local listen and established
// tables, lockless passive opens through request sockets, SYN cookies,
// TIME-WAIT entries, and the mTCP-style event API. Pure state machine: the
// core's event loop feeds it segments and time, and it emits segments
// through a SegmentTransmitter and events in batches.
#ifndef LOCUS_STACK_TCP_TCP_LAYER_H_
#define LOCUS_STACK_TCP_TCP_LAYER_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "stack/base/time.h"
#include "stack/link/packet.h"
#include "stack/tcp/object_pool.h"
#include "stack/tcp/segment.h"
#include "stack/tcp/tcb.h"
#include "stack/tcp/tcp_counters.h"
#include "stack/tcp/tcp_types.h"
#include "stack/tcp_support/isn_generator.h"
#include "stack/tcp_support/syn_cookie.h"
#include "stack/timer/timer_wheel.h"

namespace locus::tcp {

// Hands finished segments to IPv4. The packet's data() starts at the TCP
// header, whose checksum field is zero: the transmitter fills it in
// software or asks the NIC to.
class SegmentTransmitter {
 public:
  virtual ~SegmentTransmitter() = default;
  virtual void TransmitSegment(const FourTuple& tuple, link::Packet* packet) = 0;
};

// Chooses local ports for active opens. Multi-core steering implements it
// so that replies come back to this core.
class LocalPortAllocator {
 public:
  virtual ~LocalPortAllocator() = default;
  // A free local port toward remote_ip:remote_port, or nullopt when none is
  // left. Before handing out a port whose last connection is still in
  // TIME-WAIT it asks `may_reuse_time_wait(port)`; the TCP layer answers
  // (RFC 6191 rules) and, when it says yes, disposes of that TIME-WAIT.
  virtual std::optional<uint16_t> Allocate(
      wire::Ipv4Address local_ip, wire::Ipv4Address remote_ip, uint16_t remote_port,
      Instant now, absl::FunctionRef<bool(uint16_t)> may_reuse_time_wait) = 0;
  // The connection closed without TIME-WAIT: the port is free at once.
  virtual void Release(wire::Ipv4Address local_ip, uint16_t local_port,
                       wire::Ipv4Address remote_ip, uint16_t remote_port) = 0;
  // The connection entered TIME-WAIT: the port is busy until `until`.
  virtual void EnterTimeWait(wire::Ipv4Address local_ip, uint16_t local_port,
                             wire::Ipv4Address remote_ip, uint16_t remote_port,
                             Instant until) = 0;
};

struct ListenOptions {
  uint32_t accept_backlog = 0;  // 0: TcpConfig::accept_backlog
  uint32_t syn_backlog = 0;     // 0: TcpConfig::syn_backlog
};

class Listener {
 public:
  // The next established connection, or null. The caller now owns it.
  Tcb* Accept();
  size_t pending() const { return accept_count_; }
  wire::Ipv4Address address() const { return address_; }
  uint16_t port() const { return port_; }
  void set_user_data(void* p) { user_data_ = p; }
  void* user_data() const { return user_data_; }

 private:
  friend class TcpLayer;
  friend class ObjectPool<Listener>;
  Listener() = default;

  TcpLayer* layer_ = nullptr;
  wire::Ipv4Address address_;
  uint16_t port_ = 0;
  uint32_t accept_backlog_ = 0;
  uint32_t syn_backlog_ = 0;
  uint32_t syn_count_ = 0;  // live RequestSocks
  uint32_t accept_count_ = 0;
  Tcb* accept_head_ = nullptr;
  Tcb* accept_tail_ = nullptr;
  bool event_pending_ = false;
  // When this listener last answered a SYN with a cookie: only then can an
  // ACK without a request socket be a cookie's final ACK (as Linux does).
  Instant last_cookie_sent_ = Instant::FromNanos(INT64_MIN / 2);
  void* user_data_ = nullptr;
};

struct EventRecord {
  Tcb* connection = nullptr;     // set for connection events
  Listener* listener = nullptr;  // set when connections await Accept()
  uint16_t events = 0;           // TcpEvent bits (connection events)
};

class TcpLayer {
 public:
  struct Limits {
    size_t max_connections = 1u << 20;
    size_t max_request_socks = 1u << 16;
    size_t max_time_wait = 1u << 20;
  };

  TcpLayer(const TcpConfig& config, link::PacketPool& pool, SegmentTransmitter& transmitter,
           timer::TimerWheel& wheel, const IsnGenerator& isn,
           const SynCookies& cookies, Limits limits);
  TcpLayer(const TcpLayer&) = delete;
  TcpLayer& operator=(const TcpLayer&) = delete;
  ~TcpLayer();

  // ---- From IPv4 -----------------------------------------------------------
  // `packet` holds the TCP segment at data() (length = IPv4 payload length);
  // ownership passes. `checksum_ok` says the NIC verified the checksum.
  void Input(wire::Ipv4Address source, wire::Ipv4Address destination, link::Packet* packet,
             bool checksum_ok, Instant now);

  // ---- From the event loop -------------------------------------------------
  // Sends the data and ACKs owed after a batch of input and application
  // calls. Call once per poll iteration.
  void FlushOutput(Instant now);
  // Appends the events raised since the last call (one record per
  // connection or listener) and returns how many were appended.
  size_t TakeEvents(std::vector<EventRecord>& out);

  // ---- Application API -----------------------------------------------------
  absl::StatusOr<Listener*> Listen(wire::Ipv4Address address, uint16_t port,
                                   ListenOptions options = {});
  // Stops accepting: pending handshakes are dropped and connections not yet
  // accepted are reset. Accepted connections are unaffected.
  void CloseListener(Listener* listener, Instant now);
  // Active open. local_port 0 asks the LocalPortAllocator for one.
  absl::StatusOr<Tcb*> Connect(wire::Ipv4Address local_ip, wire::Ipv4Address remote_ip,
                               uint16_t remote_port, Instant now, uint16_t local_port = 0);

  void set_port_allocator(LocalPortAllocator* allocator) { ports_ = allocator; }

  const TcpConfig& config() const { return config_; }
  const TcpCounters& counters() const { return counters_; }
  TcpCounters& mutable_counters() { return counters_; }
  size_t connection_count() const { return tcbs_.live(); }
  size_t time_wait_count() const { return time_waits_.live(); }
  size_t request_sock_count() const { return request_socks_.live(); }
  // Looks a connection up by tuple (tests and diagnostics).
  Tcb* FindConnection(const FourTuple& tuple) const;
  bool IsTimeWait(const FourTuple& tuple) const;

 private:
  friend class Tcb;
  friend class Listener;

  struct RequestSock;
  struct TimeWaitSock;
  // A flow-table entry is one of three kinds of per-flow state.
  struct FlowEntry {
    enum class Kind : uint8_t { kTcb, kRequest, kTimeWait } kind;
    void* object;
  };

  // Input paths.
  void InputNoFlow(const FourTuple& tuple, Segment& seg, Instant now);
  void InputListen(Listener& listener, const FourTuple& tuple, Segment& seg, Instant now);
  void InputRequestSock(RequestSock& req, Segment& seg, Instant now);
  void InputTimeWait(TimeWaitSock& tw, Segment& seg, Instant now);
  Listener* FindListener(wire::Ipv4Address address, uint16_t port) const;
  Tcb* CompletePassiveOpen(Listener& listener, const FourTuple& tuple,
                           const Tcb::Handshake& hs, Instant now);
  void SendSynAck(const FourTuple& tuple, wire::SeqNum iss, wire::SeqNum irs,
                  uint16_t mss_option, int8_t wscale, bool sack, bool timestamps,
                  uint32_t tsval, uint32_t tsecr);
  // RFC 9293 §3.10.7.1: the reset for a segment that has no connection.
  void SendResetFor(const FourTuple& tuple, const Segment& seg);
  void SendBareSegment(const FourTuple& tuple, wire::SeqNum seq, wire::SeqNum ack,
                       uint8_t flags, uint16_t window, const wire::TcpOptions* options);
  bool ChallengeAckAllowed(Instant now);

  // Request sockets and TIME-WAIT.
  static void RequestSockTimerFired(timer::Timer* t, Instant now);
  static void TimeWaitTimerFired(timer::Timer* t, Instant now);
  void DestroyRequestSock(RequestSock* req);
  void DestroyTimeWait(TimeWaitSock* tw);
  // RFC 6191-style reuse of a TIME-WAIT tuple by a new active open.
  bool TryReuseTimeWait(const FourTuple& tuple, Instant now);

  // Called by Tcb.
  link::Packet* AllocatePacket();
  void Transmit(const FourTuple& tuple, link::Packet* packet);
  void ScheduleOutput(Tcb* tcb);
  void ScheduleEvent(Tcb* tcb);
  void ScheduleListenerEvent(Listener* listener);
  void MoveToTimeWait(Tcb* tcb, Instant now);
  void ReleaseTcb(Tcb* tcb);  // state CLOSED and the app let go
  void Unlink(Tcb* tcb);      // remove from flow table and accept queue
  uint32_t TsNow(Instant now) const;
  uint32_t TsOffsetFor(const FourTuple& tuple) const { return isn_.TimestampOffset(tuple); }
  timer::TimerWheel& wheel() { return wheel_; }
  uint8_t OurWindowScale() const;

  TcpConfig config_;
  link::PacketPool& pool_;
  SegmentTransmitter& transmitter_;
  timer::TimerWheel& wheel_;
  const IsnGenerator& isn_;
  const SynCookies& cookies_;
  LocalPortAllocator* ports_ = nullptr;
  Limits limits_;
  TcpCounters counters_;

  absl::flat_hash_map<FourTuple, FlowEntry> flows_;
  // Local listen table (Fastsocket): (address, port) of this core's
  // replica of every listener. 0.0.0.0 is the wildcard.
  absl::flat_hash_map<uint64_t, Listener*> listeners_;

  ObjectPool<Tcb> tcbs_;
  ObjectPool<RequestSock> request_socks_;
  ObjectPool<TimeWaitSock> time_waits_;
  ObjectPool<Listener> listener_pool_;

  Tcb* output_head_ = nullptr;
  Tcb* event_head_ = nullptr;
  Tcb* event_tail_ = nullptr;
  std::vector<Listener*> listener_events_;
  std::vector<Tcb*> graveyard_;  // freed after the current batch

  // RFC 5961 §7 per-core challenge ACK budget.
  Instant challenge_window_start_;
  uint32_t challenge_acks_in_window_ = 0;
};

}  // namespace locus::tcp

#endif  // LOCUS_STACK_TCP_TCP_LAYER_H_
