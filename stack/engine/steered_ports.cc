#include "stack/engine/steered_ports.h"

namespace locus::engine {

namespace {
// Expired TIME-WAIT entries are swept at most this often (Allocate also
// expires the ones of the destination it looks at).
constexpr Duration kSweepInterval = Duration::Seconds(1);
}  // namespace

std::optional<uint16_t> SteeredPorts::Allocate(wire::Ipv4Address local_ip,
                                               wire::Ipv4Address remote_ip, uint16_t remote_port,
                                               Instant now,
                                               absl::FunctionRef<bool(uint16_t)> may_reuse) {
  if (now >= next_sweep_) {
    allocator_.Sweep(now);
    next_sweep_ = now + kSweepInterval;
  }
  steer::PortAllocation a =
      allocator_.Allocate(steer::ActiveDestination{local_ip, remote_ip, remote_port}, now,
                          *listeners_, may_reuse);
  if (!a.ok()) return std::nullopt;
  return a.port;
}

void SteeredPorts::Release(wire::Ipv4Address local_ip, uint16_t local_port,
                           wire::Ipv4Address remote_ip, uint16_t remote_port) {
  allocator_.Release(steer::ActiveDestination{local_ip, remote_ip, remote_port}, local_port);
}

void SteeredPorts::EnterTimeWait(wire::Ipv4Address local_ip, uint16_t local_port,
                                 wire::Ipv4Address remote_ip, uint16_t remote_port,
                                 Instant until) {
  allocator_.EnterTimeWait(steer::ActiveDestination{local_ip, remote_ip, remote_port},
                           local_port, until);
}

}  // namespace locus::engine
