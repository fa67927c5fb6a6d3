// Packet scripts for the per-core TCP, in virtual time (in the spirit of
// packetdrill and smoltcp's tests): inject a segment from the peer, expect
// the segment we send back, or expect nothing. Test-only.
//
//   TcpScript s;
//   Listener* l = s.Listen(80);
//   s.Inject({.flags = kSyn, .seq = 1000, .options = s.SynOptions()});
//   Sent synack = s.Expect(kSyn | kAck);   // fails the test if absent
//   s.Inject({.flags = kAck, .seq = 1001, .ack = synack.seq + 1});
//   s.ExpectNothing();
#ifndef LOCUS_STACK_TCP_TCP_SCRIPT_H_
#define LOCUS_STACK_TCP_TCP_SCRIPT_H_

#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stack/base/time.h"
#include "stack/link/packet.h"
#include "stack/tcp/tcp_layer.h"
#include "stack/tcp_support/isn_generator.h"
#include "stack/tcp_support/siphash.h"
#include "stack/tcp_support/syn_cookie.h"
#include "stack/timer/timer_wheel.h"
#include "stack/wire/tcp.h"

namespace locus::tcp {

inline constexpr uint8_t kFin = wire::TcpFlags::kFin;
inline constexpr uint8_t kSyn = wire::TcpFlags::kSyn;
inline constexpr uint8_t kRst = wire::TcpFlags::kRst;
inline constexpr uint8_t kPsh = wire::TcpFlags::kPsh;
inline constexpr uint8_t kAck = wire::TcpFlags::kAck;

// A segment from the peer. Ports default to the script's peer and local port.
struct Inbound {
  uint8_t flags = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint16_t window = 65535;
  wire::TcpOptions options;
  std::string payload;
  uint16_t source_port = 0;       // 0: TcpScript::kPeerPort
  uint16_t destination_port = 0;  // 0: TcpScript::kLocalPort
  bool bad_checksum = false;
};

// A segment we sent.
struct Sent {
  FourTuple tuple;
  uint8_t flags = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint16_t window = 0;
  wire::TcpOptions options;
  std::string payload;
  Instant at;

  bool has(uint8_t f) const { return (flags & f) == f; }
  std::string ToString() const;
};

std::string FlagsToString(uint8_t flags);

class TcpScript final : public SegmentTransmitter {
 public:
  static constexpr wire::Ipv4Address kLocalIp = wire::Ipv4Address::FromOctets(10, 0, 0, 1);
  static constexpr wire::Ipv4Address kPeerIp = wire::Ipv4Address::FromOctets(10, 0, 0, 2);
  static constexpr uint16_t kLocalPort = 80;
  static constexpr uint16_t kPeerPort = 40000;

  explicit TcpScript(TcpConfig config = DefaultConfig(), TcpLayer::Limits limits = {});
  ~TcpScript() override;

  // Deterministic defaults for scripts: Linux-like, CUBIC, SACK, timestamps.
  static TcpConfig DefaultConfig();

  TcpLayer& layer() { return *layer_; }
  const TcpCounters& counters() const { return layer_->counters(); }
  Instant now() const { return now_; }
  link::HeapPacketPool& pool() { return pool_; }

  // Moves virtual time forward, firing timers and flushing their output.
  void Advance(Duration d);
  // Delivers a segment from the peer, then flushes output like one poll.
  void Inject(const Inbound& segment);
  // Flushes scheduled output (after application calls).
  void Flush();

  // The oldest segment we sent and have not yet looked at.
  std::optional<Sent> Next();
  // Like Next(), but fails the test (and returns an empty Sent) when there
  // is none or its flags differ from `flags`.
  Sent Expect(uint8_t flags);
  // Fails the test if we sent anything.
  void ExpectNothing();
  size_t pending_output() const { return sent_.size(); }

  std::vector<EventRecord> TakeEvents();
  // Events of one connection since the last call, ORed together.
  uint16_t EventsFor(const Tcb* tcb);

  // Options a Linux client puts on its SYN.
  wire::TcpOptions SynOptions(bool timestamps = true, bool sack = true, int wscale = 7,
                              uint16_t mss = 1460, uint32_t tsval = 1000) const;
  // A timestamp option echoing what we last sent.
  wire::TcpOptions Ts(uint32_t tsval) const;

  // Passive open to completion: SYN, our SYN-ACK, final ACK, Accept().
  // Fills our_iss (the ISS we chose). peer_isn is the peer's ISN.
  Listener* Listen(uint16_t port = kLocalPort);
  Tcb* AcceptConnection(Listener* listener, uint32_t peer_isn, const wire::TcpOptions& syn_options,
                        uint32_t* our_iss);
  // Listen on kLocalPort and accept one connection from peer ISN
  // kPeerIsn (so the peer's data starts at kPeerIsn + 1) with the given SYN
  // options; the final ACK announces window 502 (<< wscale).
  static constexpr uint32_t kPeerIsn = 1000;
  Tcb* OpenPassive(uint32_t* our_iss, bool timestamps = false, bool sack = false, int wscale = 7,
                   uint16_t mss = 1460);
  // Active open to completion: our SYN, the peer's SYN-ACK, our ACK.
  Tcb* ConnectConnection(uint32_t peer_isn, const wire::TcpOptions& synack_options,
                         uint32_t* our_iss, uint16_t local_port = 50000);

  // Moves virtual time forward in one step (for days of idle time): timers
  // due in between fire with the end time as "now".
  void Jump(Duration d);
  // Moves time forward 1 ms at a time until we send something or `limit`
  // has passed; returns the segment (its `at` says when) or nullopt.
  std::optional<Sent> AdvanceUntilSent(Duration limit);

  // Application helpers: Write() a string and flush; Read() everything.
  size_t Write(Tcb* tcb, std::string_view data);
  std::string ReadAll(Tcb* tcb);

  // Timestamps for the peer's next segment: TSval one above the last one
  // the peer used, TSecr echoing what we last sent.
  wire::TcpOptions TsNext() { return Ts(peer_tsval_ + 1); }

  // The most recent TSval we sent (for echoing) and the one the peer uses.
  uint32_t last_tsval() const { return last_tsval_; }
  uint32_t peer_tsval() const { return peer_tsval_; }
  void set_peer_tsval(uint32_t v) { peer_tsval_ = v; }

  // SegmentTransmitter.
  void TransmitSegment(const FourTuple& tuple, link::Packet* packet) override;

 private:
  link::HeapPacketPool pool_;
  SecretKey key_;
  IsnGenerator isn_;
  SynCookies cookies_;
  Instant now_;
  timer::TimerWheel wheel_;
  std::unique_ptr<TcpLayer> layer_;
  std::deque<Sent> sent_;
  std::vector<EventRecord> events_;
  uint32_t last_tsval_ = 0;
  uint32_t peer_tsval_ = 1000;
};

}  // namespace locus::tcp

#endif  // LOCUS_STACK_TCP_TCP_SCRIPT_H_
