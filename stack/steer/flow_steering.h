// Which core owns a TCP flow, decided from a received IPv4 TCP segment.
//
// Every core runs its own stack, so every packet must be processed on the
// core that holds its connection. A packet that arrives on another core is
// handed to its owner through an SPSC ring; this file only computes the
// owner. It never depends on the NIC agreeing with it: the NIC decides where
// a packet lands, this decides where it is processed, and a disagreement
// costs a redirect (which the caller counts), never correctness.
//
// Passive flows (someone connected to our listener): the owner is the core
// the RSS hash of the tuple picks, using the NIC's real key and RETA when
// the port has RSS, else our own Toeplitz with the symmetric key over a
// round-robin table.
//
// Active flows (we connected to a backend): the owner is the core that
// opened the connection, and it is recoverable from the reply because that
// core chose the local port accordingly (Fastsocket's Receive Flow Deliver):
//   - kRss: the port was chosen so that the NIC's Toeplitz hash of the reply
//     tuple lands on the opening core's queue. Passive and active owners are
//     then the same function of the tuple, and with a truthful NIC no
//     packet needs a redirect.
//   - kPortHash: owner = local port mod number of cores (a mask when that is
//     a power of two). Works wherever RSS cannot be predicted: net_tap,
//     af_packet, cloud NICs with their own key, fewer queues than cores.
//
// Active and passive replies are told apart with Fastsocket's rules; see
// ClassifyFlow.
#ifndef LOCUS_STACK_STEER_FLOW_STEERING_H_
#define LOCUS_STACK_STEER_FLOW_STEERING_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "stack/steer/listener_ports.h"
#include "stack/steer/reta.h"
#include "stack/steer/toeplitz.h"
#include "stack/wire/addresses.h"

namespace locus::steer {

// RETA entries are 16 bits in DPDK; 256 cores is far beyond the machines we
// target and keeps per-core-pair ring counts (N^2) sane.
inline constexpr uint16_t kMaxCores = 256;
// Without NIC RSS the software hash spreads passive flows over a RETA of
// this size (or the next power of two at or above the core count).
inline constexpr size_t kSoftwareRetaSize = 128;
// Ports below this are "well known": Fastsocket's first two rules.
inline constexpr uint16_t kReservedPortLimit = 1024;

enum class SteeringMode : uint8_t {
  kRss,
  kPortHash,
};

// RSS as configured on the port: the same data as link::LinkInfo's rss_key
// and reta. RETA entries are queue numbers, and queue q is polled by core q.
struct RssParams {
  RssKey key{};
  std::vector<uint16_t> reta;
};

struct SteeringConfig {
  uint16_t num_cores = 1;
  SteeringMode mode = SteeringMode::kPortHash;
  // Required in kRss mode. In kPortHash mode, when present, passive flows
  // follow the NIC's choice (fewer redirects); when absent, our hash.
  std::optional<RssParams> nic_rss;
};

// kRss when the port's RSS can send every core its own flows (valid RETA
// naming only existing cores, each at least once); else kPortHash. The
// caller may still force kPortHash when it does not trust what the port
// reports.
SteeringMode ChooseMode(uint16_t num_cores, const std::optional<RssParams>& nic_rss);

// A received segment's addresses and ports, host byte order.
struct Ipv4TcpTuple {
  wire::Ipv4Address src_ip;
  wire::Ipv4Address dst_ip;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
};

enum class FlowDirection : uint8_t {
  kPassive,  // belongs to a connection a peer opened to our listener
  kActive,   // belongs to a connection we opened
};

// Which of Fastsocket's rules decided; for tests and counters.
enum class ClassifyRule : uint8_t {
  kSrcPortReserved,      // src < 1024: a well-known service replying to us
  kDstPortReserved,      // dst < 1024: someone calling our well-known port
  kDstPortListening,     // dst has a listener
  kDstPortNotListening,  // otherwise: a reply to one of our ephemeral ports
};

struct Classification {
  FlowDirection direction;
  ClassifyRule rule;
};

// Fastsocket (ASPLOS '16, "Receive Flow Deliver"), in this order:
//   1. source port < 1024       -> active (reply from a well-known port);
//   2. destination port < 1024  -> passive;
//   3. destination port listens -> passive;
//   4. otherwise                -> active.
// All packets of one direction of a flow classify alike, so whatever the
// answer, they reach the same core. In kPortHash, active connections stay
// correct only if their local port is >= 1024 and not a listener port; the
// port allocator guarantees both when it picks the port, but a listener
// added later on a port that an active connection already uses makes that
// connection's replies look passive. The control plane should refuse
// listeners inside the ephemeral range (kRss does not care: there both
// directions have the same owner).
inline Classification ClassifyFlow(uint16_t src_port, uint16_t dst_port,
                                   const ListenerPortSet& listeners) {
  if (src_port < kReservedPortLimit) return {FlowDirection::kActive, ClassifyRule::kSrcPortReserved};
  if (dst_port < kReservedPortLimit) {
    return {FlowDirection::kPassive, ClassifyRule::kDstPortReserved};
  }
  if (listeners.Contains(dst_port)) {
    return {FlowDirection::kPassive, ClassifyRule::kDstPortListening};
  }
  return {FlowDirection::kActive, ClassifyRule::kDstPortNotListening};
}

struct SteeringDecision {
  uint16_t core;
  FlowDirection direction;
};

// Immutable after Create; cheap to copy per core (about 12.5 KiB, mostly
// Toeplitz tables). Nothing here is virtual or allocates after Create.
class FlowSteering {
 public:
  static absl::StatusOr<FlowSteering> Create(const SteeringConfig& config);

  SteeringMode mode() const { return mode_; }
  uint16_t num_cores() const { return num_cores_; }
  // True when FlowHash is the NIC's own hash (its key and RETA were given).
  bool uses_nic_rss() const { return uses_nic_rss_; }
  const std::vector<uint16_t>& reta() const { return reta_; }

  // --- Per packet ------------------------------------------------------------

  // The owner of a received segment. `listeners` is the core's current
  // snapshot.
  SteeringDecision Steer(const Ipv4TcpTuple& rx, const ListenerPortSet& listeners) const {
    const Classification c = ClassifyFlow(rx.src_port, rx.dst_port, listeners);
    if (mode_ == SteeringMode::kPortHash && c.direction == FlowDirection::kActive) {
      return {PortOwner(rx.dst_port), c.direction};
    }
    return {HashOwner(rx), c.direction};
  }

  // The Toeplitz hash of the tuple as the NIC computes it (with our own key
  // when !uses_nic_rss()). Compare with the hash the NIC reports to detect a
  // port whose real RSS differs from what it told us.
  uint32_t FlowHash(const Ipv4TcpTuple& t) const {
    return toeplitz_.HashIpv4L4(t.src_ip.value(), t.dst_ip.value(), t.src_port, t.dst_port);
  }
  // The core the RETA gives a hash; callers holding a trusted NIC hash can
  // skip FlowHash.
  uint16_t OwnerOfHash(uint32_t hash) const { return reta_[hash & reta_mask_]; }
  uint16_t HashOwner(const Ipv4TcpTuple& t) const { return OwnerOfHash(FlowHash(t)); }

  // kPortHash's owner of an active connection with this local port.
  uint16_t PortOwner(uint16_t local_port) const {
    return cores_pow2_ ? static_cast<uint16_t>(local_port & (num_cores_ - 1))
                       : static_cast<uint16_t>(local_port % num_cores_);
  }

  // --- Active connections: which local ports a core may choose -------------
  //
  // The owner of local port p toward a remote depends on the remote (in
  // kRss) only through a small "active class": by linearity the reply's
  // hash is Hash(remote, local, remote_port, 0) ^ DstPortTerm(p), and the
  // RETA reads only its low bits, so the class is those low bits of the
  // first term. There are reta().size() classes in kRss and one in
  // kPortHash, whatever the number of remotes; port pools are per class.

  uint32_t active_class_count() const { return mode_ == SteeringMode::kRss ? reta_mask_ + 1 : 1; }

  uint32_t ActiveClass(wire::Ipv4Address local_ip, wire::Ipv4Address remote_ip,
                       uint16_t remote_port) const {
    if (mode_ != SteeringMode::kRss) return 0;
    return toeplitz_.HashIpv4L4(remote_ip.value(), local_ip.value(), remote_port, 0) & reta_mask_;
  }

  // The core that receives replies to local port `local_port` of a
  // connection in `active_class`.
  uint16_t ActiveOwner(uint32_t active_class, uint16_t local_port) const {
    if (mode_ != SteeringMode::kRss) return PortOwner(local_port);
    return reta_[(active_class ^ toeplitz_.DstPortTerm(local_port)) & reta_mask_];
  }

 private:
  FlowSteering(SteeringMode mode, uint16_t num_cores, bool uses_nic_rss, const RssKey& key,
               std::vector<uint16_t> reta);

  ToeplitzHash toeplitz_;
  std::vector<uint16_t> reta_;
  uint32_t reta_mask_;
  SteeringMode mode_;
  uint16_t num_cores_;
  bool cores_pow2_;
  bool uses_nic_rss_;
};

}  // namespace locus::steer

#endif  // LOCUS_STACK_STEER_FLOW_STEERING_H_
