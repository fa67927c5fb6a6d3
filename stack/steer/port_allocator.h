// Per-core local port allocation for active (outgoing) connections.
//
// Each core has its own PortAllocator and shares nothing with the others:
// a core only hands out ports it owns, i.e. ports whose replies steer back
// to it (FlowSteering::ActiveOwner), so two cores can never pick the same
// 4-tuple. Ports are tracked per destination (local ip, remote ip, remote
// port): the same local port serves many backends at once, since only the
// 4-tuple has to be unique.
//
// A port toward a destination is free, in use, or in TIME_WAIT until some
// Instant. Allocate prefers free ports. TIME_WAIT ports are reused only when
// the caller's predicate says so: whether reuse is safe depends on the old
// connection's timestamps (RFC 7323 §5 PAWS, RFC 6191), which only the TCP
// layer knows, so the TCP layer decides and the allocator just offers
// candidates, oldest first.
//
// Memory: per core, one bitmap over the ephemeral range per active class
// in use (at most the RETA size in kRss, one in kPortHash) plus, per
// destination with a port in use or in TIME_WAIT, one busy bitmap over the
// range and the TIME_WAIT bookkeeping. With the default range that is
// 3.5 KiB per class and about 4 KiB per destination. Idle destinations are
// forgotten by Sweep.
#ifndef LOCUS_STACK_STEER_PORT_ALLOCATOR_H_
#define LOCUS_STACK_STEER_PORT_ALLOCATOR_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "stack/base/bitmap.h"
#include "stack/base/time.h"
#include "stack/steer/flow_steering.h"
#include "stack/steer/listener_ports.h"
#include "stack/wire/addresses.h"

namespace locus::steer {

// An inclusive range of local ports.
struct PortRange {
  uint16_t first = 0;
  uint16_t last = 0;

  uint32_t size() const { return uint32_t{last} - first + 1; }
  bool Contains(uint16_t port) const { return port >= first && port <= last; }
};

// Linux's default net.ipv4.ip_local_port_range. 28,232 ports: nearly twice
// IANA's dynamic range (49152-65535, RFC 6335), which would halve what each
// core owns toward a backend; operators' firewall and conntrack rules
// already expect it; and it stays below 61000, where old masquerading
// setups keep their ports. It must start at or above kReservedPortLimit or
// replies would be classified as passive.
inline constexpr PortRange kDefaultEphemeralPorts{32768, 60999};
// Destinations tracked per core at once (4096 x ~4 KiB = ~16 MiB at most).
inline constexpr uint32_t kDefaultMaxDestinations = 4096;
inline constexpr uint32_t kMaxDestinationsLimit = uint32_t{1} << 20;
// TIME_WAIT ports offered to the caller's predicate per Allocate; bounds
// the work of one call when the caller keeps refusing.
inline constexpr uint32_t kMaxTimeWaitReuseProbes = 16;

struct ActiveDestination {
  wire::Ipv4Address local_ip;
  wire::Ipv4Address remote_ip;
  uint16_t remote_port = 0;

  bool operator==(const ActiveDestination&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const ActiveDestination& d) {
    return H::combine(std::move(h), d.local_ip, d.remote_ip, d.remote_port);
  }
};

// The tuple of a segment the destination sends back to `local_port`.
inline Ipv4TcpTuple ReplyTuple(const ActiveDestination& d, uint16_t local_port) {
  return {d.remote_ip, d.local_ip, d.remote_port, local_port};
}

enum class PortError : uint8_t {
  kOk = 0,
  kExhausted,             // every owned port toward the destination is taken
  kTooManyDestinations,   // the per-core destination table is full
  kUnknownDestination,    // Release/EnterTimeWait for a destination with nothing held
  kOutOfRange,            // port outside the ephemeral range
  kNotInUse,              // port not held toward that destination
};

const char* PortErrorName(PortError error);

struct PortAllocation {
  PortError error = PortError::kOk;
  uint16_t port = 0;
  // The port was in TIME_WAIT and the caller's predicate accepted it; the
  // caller now owns getting rid of the old connection.
  bool reused_time_wait = false;

  bool ok() const { return error == PortError::kOk; }
};

struct PortAllocatorOptions {
  PortRange range = kDefaultEphemeralPorts;
  uint32_t max_destinations = kDefaultMaxDestinations;
  // Secret for the per-destination starting point (RFC 6056 §3.3.3). The
  // daemon passes a random value; tests a fixed one.
  uint64_t seed = 0;
};

// Counters of one core's allocator. Gauges are current values.
struct PortAllocatorStats {
  uint64_t allocations = 0;        // successful Allocate calls, reuses included
  uint64_t time_wait_reuses = 0;   // ... of which took a TIME_WAIT port
  uint64_t releases = 0;
  uint64_t time_wait_entries = 0;
  uint64_t time_wait_expiries = 0;
  uint64_t exhausted = 0;              // Allocate failed: kExhausted
  uint64_t too_many_destinations = 0;  // Allocate failed: kTooManyDestinations
  uint64_t bad_calls = 0;              // Release/EnterTimeWait errors (caller bugs)
  uint64_t in_use = 0;                 // gauge
  uint64_t in_time_wait = 0;           // gauge
  uint64_t destinations = 0;           // gauge
  uint64_t port_classes = 0;           // gauge: ownership bitmaps built
};

class PortAllocator {
 public:
  // `steering` must outlive the allocator; `core` < steering.num_cores().
  static absl::StatusOr<PortAllocator> Create(const FlowSteering& steering, uint16_t core,
                                              const PortAllocatorOptions& options = {});

  PortAllocator(PortAllocator&&) = default;
  PortAllocator& operator=(PortAllocator&&) = default;

  // A free local port toward `dest` whose replies steer to this core, never
  // a port of `listeners` (the core's current snapshot). Expired TIME_WAIT
  // ports (until <= now) count as free. A new destination is remembered
  // even when the call fails, until Sweep finds it idle. The first call for
  // a new active class builds its ownership bitmap (one pass over the
  // range); PrepareAllClasses moves that work to start-up.
  PortAllocation Allocate(const ActiveDestination& dest, Instant now,
                          const ListenerPortSet& listeners);

  // As above; when no port is free, offers TIME_WAIT ports, oldest first
  // and at most kMaxTimeWaitReuseProbes of them, to `may_reuse_time_wait`,
  // and takes the first it accepts.
  PortAllocation Allocate(const ActiveDestination& dest, Instant now,
                          const ListenerPortSet& listeners,
                          absl::FunctionRef<bool(uint16_t port)> may_reuse_time_wait);

  // The connection on `port` is gone without TIME_WAIT (reset, or the peer
  // closed first), or its TIME_WAIT was cut short: the port is free again.
  PortError Release(const ActiveDestination& dest, uint16_t port);

  // The connection on `port` entered TIME_WAIT; the port stays taken until
  // `until`. Calling it again for a port already in TIME_WAIT moves its
  // expiry (RFC 9293 §3.10.7.4 restarts the 2MSL timer on a retransmitted
  // FIN). Expiry is checked in the order TIME_WAIT was entered, so a later
  // call with an earlier `until` can wait for the ones before it.
  PortError EnterTimeWait(const ActiveDestination& dest, uint16_t port, Instant until);

  // Frees expired TIME_WAIT ports of every destination and forgets
  // destinations with nothing held. Call it from a timer. Returns the
  // number of ports freed.
  size_t Sweep(Instant now);

  // Builds every active class's ownership bitmap now (kRss: RETA size x
  // 3.5 KiB with the default range) so that no Allocate pays for it.
  void PrepareAllClasses();

  // How many ports of the range this core owns toward `dest` (listener
  // ports not subtracted): the most it can hold there at once.
  uint32_t OwnedPortCount(const ActiveDestination& dest);

  uint16_t core() const { return core_; }
  const PortRange& range() const { return options_.range; }
  const PortAllocatorStats& stats() const { return stats_; }
  // Heap bytes held in bitmaps and TIME_WAIT bookkeeping (approximate).
  size_t MemoryBytes() const;

 private:
  struct TimeWait {
    Instant until;
    uint32_t ticket;  // of its live entry in time_wait_order
  };
  struct TimeWaitEntry {
    uint16_t port;
    uint32_t ticket;
  };
  struct Destination {
    const Bitmap* owned = nullptr;  // this core's ports for the class
    Bitmap busy;                    // in use or in TIME_WAIT, by range offset
    uint32_t cursor = 0;            // range offset where the next search starts
    uint32_t in_use = 0;
    uint32_t next_ticket = 0;
    // Ports in TIME_WAIT. An entry of `time_wait_order` whose ticket is not
    // its port's current one (the port left TIME_WAIT, or re-entered it) is
    // stale and skipped. Tickets wrap at 2^32, far beyond the entries that
    // can be queued at once.
    absl::flat_hash_map<uint16_t, TimeWait> time_wait;
    std::deque<TimeWaitEntry> time_wait_order;  // entry order, oldest first
  };

  PortAllocator(const FlowSteering& steering, uint16_t core, const PortAllocatorOptions& options);

  const Bitmap& OwnedBitmap(uint32_t active_class);
  Destination* Find(const ActiveDestination& dest);
  // Frees TIME_WAIT ports at the head of the order that expired by `now`.
  size_t ExpireTimeWait(Destination& d, Instant now);
  // Range offset of a free owned non-listener port at or after d.cursor,
  // wrapping; range size when there is none.
  uint32_t FindFree(const Destination& d, const ListenerPortSet& listeners) const;
  PortAllocation AllocateImpl(const ActiveDestination& dest, Instant now,
                              const ListenerPortSet& listeners,
                              const absl::FunctionRef<bool(uint16_t)>* may_reuse_time_wait);

  const FlowSteering* steering_;
  uint16_t core_;
  PortAllocatorOptions options_;
  std::vector<std::unique_ptr<Bitmap>> owned_by_class_;  // built on first use
  absl::flat_hash_map<ActiveDestination, std::unique_ptr<Destination>> destinations_;
  PortAllocatorStats stats_;
};

}  // namespace locus::steer

#endif  // LOCUS_STACK_STEER_PORT_ALLOCATOR_H_
