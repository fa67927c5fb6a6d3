// Two Link endpoints wired back to back in memory, for tests and
// benchmarks of the stack without a NIC.
//
// A frame transmitted on endpoint A's TX queue q is delivered to one of
// endpoint B's RX queues (and vice versa), chosen by a steering function
// (default: the same index, as if q were a flow's core). Like a NIC, the
// link copies the frame into a buffer from the receiving queue's own pool
// at Receive time, and the sender's buffer goes back to the sender's pool
// only when the sender next touches its queue (as TX completions do). So
// every pool is only ever touched by the thread that owns its queue, and
// the two endpoints' queues may be polled from one thread or from as many
// threads as there are queues.
//
// In flight, each (TX queue, RX queue) pair has its own single-producer,
// single-consumer ring: no locks and no allocation after construction.
#ifndef LOCUS_STACK_LINK_MEMORY_LINK_H_
#define LOCUS_STACK_LINK_MEMORY_LINK_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "stack/link/link.h"
#include "stack/link/packet.h"
#include "stack/wire/addresses.h"

namespace locus::link {

// Where a frame goes on the receiving side, and the hash a NIC would
// report with it.
struct SteeringDecision {
  uint16_t queue = 0;      // taken modulo the receiver's queue count
  bool hash_valid = false;
  uint32_t hash = 0;       // delivered as Packet::rss_hash with kRxRssHashValid
};

// Called on the sender's thread for every frame; must be thread-safe
// (normally a pure function of the bytes).
using SteeringFunction = std::function<SteeringDecision(
    std::span<const uint8_t> frame, uint16_t tx_queue, uint16_t rx_queues)>;

// The default: RX queue = TX queue.
SteeringDecision SameQueueSteering(std::span<const uint8_t> frame, uint16_t tx_queue,
                                   uint16_t rx_queues);

inline constexpr size_t kMemoryLinkMaxQueues = 64;

struct MemoryLinkConfig {
  uint16_t queues = 1;             // per endpoint, 1..kMemoryLinkMaxQueues
  // Frames in flight per (TX queue, RX queue) pair, a power of two. A
  // sender's buffers stay out of its pool until the receiver has copied
  // them, so pool_size must exceed queues * ring_size plus what the
  // sender itself holds.
  size_t ring_size = 512;
  size_t pool_size = 8192;         // buffers per queue pool
  uint16_t mtu = 1500;             // larger frames are dropped (rx_dropped)
  // Emulate TX/RX checksum offload (LinkInfo says so, TX requests are
  // honoured, RX frames get kRx*Checksum* flags) instead of reporting none.
  bool checksum_offload = false;
  SteeringFunction steering{};     // null: SameQueueSteering
  wire::MacAddress mac_a = wire::MacAddress({0x02, 0, 0, 0, 0, 0x0a});
  wire::MacAddress mac_b = wire::MacAddress({0x02, 0, 0, 0, 0, 0x0b});
  // Reported in both endpoints' LinkInfo, for a steering function that
  // emulates a NIC's RSS.
  bool rss = false;
  std::array<uint8_t, kRssKeyLength> rss_key{};
  std::vector<uint16_t> reta{};
};

class MemoryLinkPair {
 public:
  // Checks the config (queue count, power-of-two ring, pool large enough
  // to hold at least one burst) before building anything.
  static absl::StatusOr<std::unique_ptr<MemoryLinkPair>> Create(MemoryLinkConfig config);
  ~MemoryLinkPair();
  MemoryLinkPair(const MemoryLinkPair&) = delete;
  MemoryLinkPair& operator=(const MemoryLinkPair&) = delete;

  Link& a();
  Link& b();

 private:
  class Endpoint;
  explicit MemoryLinkPair(MemoryLinkConfig config);
  SteeringFunction steering_;  // shared by both endpoints, read-only
  std::unique_ptr<Endpoint> a_;
  std::unique_ptr<Endpoint> b_;
};

}  // namespace locus::link

#endif  // LOCUS_STACK_LINK_MEMORY_LINK_H_
