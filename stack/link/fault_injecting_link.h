// A Link decorator that loses, duplicates, reorders and delays frames on
// TX and/or RX, deterministically: the same seed and the same sequence of
// calls (and clock readings) give the same faults. Delay and reordering
// run on a caller-supplied clock, so tests drive them in virtual time and
// programs with MonotonicNow. Wraps any Link: MemoryLink in tests, a
// DpdkLink on a real tap port in the interop tests.
//
// Every queue has its own random stream and hold queue per direction, so
// the faults on queue q do not depend on how other queues' threads
// interleave, and each queue's state is touched only by its owner.
//
// Held TX frames go out on the next Transmit, Receive or Flush of their
// queue once due; held RX frames come out of Receive once due. An event
// loop in virtual time can ask NextRelease(queue) when to look again.
#ifndef LOCUS_STACK_LINK_FAULT_INJECTING_LINK_H_
#define LOCUS_STACK_LINK_FAULT_INJECTING_LINK_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "stack/base/time.h"
#include "stack/link/link.h"
#include "stack/link/packet.h"

namespace locus::link {

// What happens to frames in one direction. Each frame draws its fate once:
// lost with probability `loss`; otherwise sent twice (back to back) with
// probability `duplicate`; held back by `reorder_delay` with probability
// `reorder`, so frames that follow within that time overtake it; and held
// by a uniform time in [delay_min, delay_max] with probability `delay`
// (both holds add up). A duplicate shares its original's hold.
struct FaultProfile {
  double loss = 0;
  double duplicate = 0;
  double reorder = 0;
  Duration reorder_delay = Duration::Millis(1);
  double delay = 0;
  Duration delay_min = Duration::Zero();
  Duration delay_max = Duration::Zero();

  bool active() const { return loss > 0 || duplicate > 0 || reorder > 0 || delay > 0; }
  bool holds() const { return reorder > 0 || delay > 0; }
};

// Frames held at once per queue and direction; past that, a frame that
// drew a hold goes through at once and counts as held_full.
inline constexpr size_t kDefaultMaxHeld = 4096;

struct FaultConfig {
  uint64_t seed = 1;
  FaultProfile tx{};
  FaultProfile rx{};
  size_t max_held = kDefaultMaxHeld;
};

enum class Direction { kTx, kRx };

struct FaultStats {
  uint64_t packets = 0;           // frames that drew a fate
  uint64_t dropped = 0;
  uint64_t duplicated = 0;        // extra copies sent
  uint64_t duplicate_failed = 0;  // a copy was due but the pool was empty
  uint64_t reordered = 0;         // frames held back by reorder_delay
  uint64_t delayed = 0;           // frames held back by delay
  uint64_t held_full = 0;         // holds skipped because max_held was reached
};

using Clock = std::function<Instant()>;

// A clock that reads `*now` (virtual time a test advances by hand).
Clock VirtualClock(const Instant* now);

class FaultInjectingLink final : public Link {
 public:
  // `inner` must outlive the decorator. `clock` may be null only when no
  // profile holds frames (reorder and delay both zero).
  static absl::StatusOr<std::unique_ptr<FaultInjectingLink>> Create(Link& inner,
                                                                    FaultConfig config,
                                                                    Clock clock);
  // Returns every held frame to its pool; call it when no queue is polled.
  ~FaultInjectingLink() override;

  const LinkInfo& info() const override { return inner_.info(); }
  PacketPool& pool(uint16_t queue) override { return inner_.pool(queue); }
  QueueStats stats(uint16_t queue) const override { return inner_.stats(queue); }
  uint16_t Receive(uint16_t queue, Packet** packets, uint16_t max) override;
  uint16_t Transmit(uint16_t queue, Packet** packets, uint16_t count) override;

  // Sends the TX frames of `queue` whose hold has expired; returns how many
  // the inner link took. Receive does this too.
  uint16_t Flush(uint16_t queue);
  // When the earliest held frame of `queue` (either direction) is due.
  std::optional<Instant> NextRelease(uint16_t queue) const;
  size_t held(uint16_t queue, Direction direction) const;

  // Counters of one queue, or summed over all queues. Readable from any
  // thread.
  FaultStats fault_stats(Direction direction, uint16_t queue) const;
  FaultStats fault_stats(Direction direction) const;

 private:
  struct Lane;
  struct Fate;
  FaultInjectingLink(Link& inner, FaultConfig config, Clock clock);
  Fate Roll(Lane& lane, const FaultProfile& profile);
  Packet* Copy(uint16_t queue, const Packet& original);
  void Hold(Lane& lane, Instant release, Packet* packet);
  uint16_t TransmitChunk(uint16_t queue, Packet** packets, uint16_t count);

  Link& inner_;
  const FaultConfig config_;
  const Clock clock_;
  std::vector<std::unique_ptr<Lane>> tx_;
  std::vector<std::unique_ptr<Lane>> rx_;
};

}  // namespace locus::link

#endif  // LOCUS_STACK_LINK_FAULT_INJECTING_LINK_H_
