// The TCP layer's LocalPortAllocator backed by steer::PortAllocator: local
// ports for active opens are chosen so that the replies come back to this
// shard (Fastsocket's active connection locality), per destination, with
// TIME-WAIT kept in mind.
#ifndef LOCUS_STACK_ENGINE_STEERED_PORTS_H_
#define LOCUS_STACK_ENGINE_STEERED_PORTS_H_

#include "stack/steer/listener_ports.h"
#include "stack/steer/port_allocator.h"
#include "stack/tcp/tcp_layer.h"

namespace locus::engine {

class SteeredPorts final : public tcp::LocalPortAllocator {
 public:
  SteeredPorts(steer::PortAllocator allocator, const steer::ListenerPortSet* listeners)
      : allocator_(std::move(allocator)), listeners_(listeners) {}

  void set_listeners(const steer::ListenerPortSet* listeners) { listeners_ = listeners; }

  std::optional<uint16_t> Allocate(wire::Ipv4Address local_ip, wire::Ipv4Address remote_ip,
                                   uint16_t remote_port, Instant now,
                                   absl::FunctionRef<bool(uint16_t)> may_reuse) override;
  void Release(wire::Ipv4Address local_ip, uint16_t local_port, wire::Ipv4Address remote_ip,
               uint16_t remote_port) override;
  void EnterTimeWait(wire::Ipv4Address local_ip, uint16_t local_port,
                     wire::Ipv4Address remote_ip, uint16_t remote_port, Instant until) override;

  const steer::PortAllocatorStats& stats() const { return allocator_.stats(); }
  steer::PortAllocator& allocator() { return allocator_; }

 private:
  steer::PortAllocator allocator_;
  const steer::ListenerPortSet* listeners_;
  Instant next_sweep_;
};

}  // namespace locus::engine

#endif  // LOCUS_STACK_ENGINE_STEERED_PORTS_H_
