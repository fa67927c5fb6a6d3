#include "stack/link/fault_injecting_link.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "stack/link/queue_counters.h"

namespace locus::link {
namespace {

// Received frames waiting for the caller (new arrivals, their copies and
// released holds), per RX queue.
constexpr size_t kReadyCapacity = 4 * kMaxBurst;
// A TX chunk: released holds, then up to kMaxBurst frames and their copies.
constexpr size_t kBatchCapacity = 3 * kMaxBurst;

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

absl::Status CheckProfile(const char* name, const FaultProfile& p) {
  for (auto [what, value] : {std::pair{"loss", p.loss}, std::pair{"duplicate", p.duplicate},
                             std::pair{"reorder", p.reorder}, std::pair{"delay", p.delay}}) {
    if (!(value >= 0.0 && value <= 1.0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("fault injection: ", name, ".", what, " must be in [0, 1], got ", value));
    }
  }
  if (p.reorder_delay < Duration::Zero() || p.delay_min < Duration::Zero() ||
      p.delay_max < p.delay_min) {
    return absl::InvalidArgumentError(absl::StrCat(
        "fault injection: ", name, " needs reorder_delay >= 0 and 0 <= delay_min <= delay_max"));
  }
  return absl::OkStatus();
}

}  // namespace

Clock VirtualClock(const Instant* now) {
  return [now] { return *now; };
}

struct FaultInjectingLink::Fate {
  bool drop = false;
  bool duplicate = false;
  bool reorder = false;
  bool delay = false;
  bool held_full = false;
  Duration hold;
  bool holds() const { return reorder || delay; }
};

struct FaultInjectingLink::Lane {
  struct Held {
    Instant release;
    uint64_t sequence;  // ties broken by arrival, so equal holds keep order
    Packet* packet;
  };
  // Min-heap on (release, sequence).
  static bool Later(const Held& a, const Held& b) {
    return a.release != b.release ? a.release > b.release : a.sequence > b.sequence;
  }

  Lane(uint64_t seed, size_t max_held) : rng(seed) { heap.reserve(max_held); }
  ~Lane() {
    for (const Held& h : heap) FreePacket(h.packet);
    while (ready_count > 0) FreePacket(PopReady());
  }

  double Uniform() { return static_cast<double>(SplitMix64(rng) >> 11) * 0x1.0p-53; }

  bool Due(Instant now) const { return !heap.empty() && heap.front().release <= now; }
  Held PopHeld() {
    std::pop_heap(heap.begin(), heap.end(), Later);
    Held h = heap.back();
    heap.pop_back();
    return h;
  }
  void PushHeld(Held h) {
    heap.push_back(h);
    std::push_heap(heap.begin(), heap.end(), Later);
  }

  size_t ReadyFree() const { return kReadyCapacity - ready_count; }
  void PushReady(Packet* p) {
    ready[(ready_head + ready_count) % kReadyCapacity] = p;
    ++ready_count;
  }
  Packet* PopReady() {
    Packet* p = ready[ready_head];
    ready_head = (ready_head + 1) % kReadyCapacity;
    --ready_count;
    return p;
  }

  uint64_t rng;
  uint64_t sequence = 0;
  std::vector<Held> heap;
  std::array<Packet*, kReadyCapacity> ready{};
  size_t ready_head = 0;
  size_t ready_count = 0;
  struct {
    OwnerCounter packets, dropped, duplicated, duplicate_failed, reordered, delayed, held_full;
  } counters;
};

absl::StatusOr<std::unique_ptr<FaultInjectingLink>> FaultInjectingLink::Create(
    Link& inner, FaultConfig config, Clock clock) {
  if (absl::Status s = CheckProfile("tx", config.tx); !s.ok()) return s;
  if (absl::Status s = CheckProfile("rx", config.rx); !s.ok()) return s;
  if ((config.tx.holds() || config.rx.holds()) && !clock) {
    return absl::InvalidArgumentError("fault injection: reorder and delay need a clock");
  }
  return std::unique_ptr<FaultInjectingLink>(
      new FaultInjectingLink(inner, std::move(config), std::move(clock)));
}

FaultInjectingLink::FaultInjectingLink(Link& inner, FaultConfig config, Clock clock)
    : inner_(inner), config_(std::move(config)), clock_(std::move(clock)) {
  const uint16_t queues = std::max(inner.info().rx_queues, inner.info().tx_queues);
  uint64_t seeder = config_.seed;
  for (uint16_t q = 0; q < queues; ++q) {
    tx_.push_back(std::make_unique<Lane>(SplitMix64(seeder), config_.max_held));
    rx_.push_back(std::make_unique<Lane>(SplitMix64(seeder), config_.max_held));
  }
}

FaultInjectingLink::~FaultInjectingLink() = default;

FaultInjectingLink::Fate FaultInjectingLink::Roll(Lane& lane, const FaultProfile& p) {
  // Always five draws, whatever the outcome, so that changing one
  // probability does not shift the random stream of the others.
  const double loss = lane.Uniform();
  const double duplicate = lane.Uniform();
  const double reorder = lane.Uniform();
  const double delay = lane.Uniform();
  const uint64_t amount = SplitMix64(lane.rng);
  Fate f;
  f.drop = loss < p.loss;
  if (f.drop) return f;
  f.duplicate = duplicate < p.duplicate;
  f.reorder = reorder < p.reorder;
  f.delay = delay < p.delay;
  if (f.reorder) f.hold += p.reorder_delay;
  if (f.delay) {
    const uint64_t span = static_cast<uint64_t>((p.delay_max - p.delay_min).nanos());
    f.hold += p.delay_min +
              Duration::Nanos(static_cast<int64_t>(span == 0 ? 0 : amount % (span + 1)));
  }
  return f;
}

Packet* FaultInjectingLink::Copy(uint16_t queue, const Packet& original) {
  Packet* copy = inner_.pool(queue).Allocate();
  if (copy == nullptr) return nullptr;
  copy->data_offset = original.data_offset;
  copy->length = 0;
  uint8_t* data = copy->Append(original.length);
  if (data == nullptr || copy->data_offset != original.data_offset) {
    FreePacket(copy);
    return nullptr;
  }
  std::memcpy(data, original.data(), original.length);
  copy->l2_length = original.l2_length;
  copy->l3_length = original.l3_length;
  copy->l4_length = original.l4_length;
  copy->flags = original.flags;
  copy->rss_hash = original.rss_hash;
  return copy;
}

void FaultInjectingLink::Hold(Lane& lane, Instant release, Packet* packet) {
  lane.PushHeld({release, lane.sequence++, packet});
}

uint16_t FaultInjectingLink::Transmit(uint16_t queue, Packet** packets, uint16_t count) {
  Lane& lane = *tx_[queue];
  if (!config_.tx.active() && lane.heap.empty()) {
    return inner_.Transmit(queue, packets, count);
  }
  uint16_t taken = 0;
  while (taken < count) {
    const uint16_t chunk = static_cast<uint16_t>(std::min<int>(kMaxBurst, count - taken));
    const uint16_t n = TransmitChunk(queue, packets + taken, chunk);
    taken = static_cast<uint16_t>(taken + n);
    if (n < chunk) break;
  }
  return taken;
}

uint16_t FaultInjectingLink::TransmitChunk(uint16_t queue, Packet** in, uint16_t n) {
  Lane& lane = *tx_[queue];
  const FaultProfile& profile = config_.tx;
  const Instant now = (profile.holds() || !lane.heap.empty()) ? clock_() : Instant();

  struct Entry {
    int origin;  // index into `in`, or -1 for a released hold
    bool copy;
    Lane::Held held;  // for a released hold, to put it back unchanged
  };
  std::array<Packet*, kBatchCapacity> batch;
  std::array<Entry, kBatchCapacity> entries;
  size_t size = 0;
  while (size < kMaxBurst && lane.Due(now)) {
    const Lane::Held h = lane.PopHeld();
    batch[size] = h.packet;
    entries[size++] = {-1, false, h};
  }
  const size_t released = size;

  std::array<Fate, kMaxBurst> fates;
  size_t pending_holds = 0;
  for (uint16_t i = 0; i < n; ++i) {
    Fate& f = fates[i];
    f = Roll(lane, profile);
    if (f.drop) continue;
    if (f.holds()) {
      const size_t need = f.duplicate ? 2 : 1;
      if (lane.heap.size() + released + pending_holds + need > config_.max_held) {
        f.held_full = true;
        f.reorder = f.delay = false;
      } else {
        pending_holds += need;
        continue;
      }
    }
    batch[size] = in[i];
    entries[size++] = {i, false, {}};
    if (f.duplicate) {
      if (Packet* copy = Copy(queue, *in[i])) {
        batch[size] = copy;
        entries[size++] = {i, true, {}};
      }
    }
  }

  const uint16_t accepted =
      size == 0 ? 0 : inner_.Transmit(queue, batch.data(), static_cast<uint16_t>(size));

  // What the inner link refused: released holds go back as they were,
  // copies are discarded, and the first refused original ends the prefix
  // of `in` this call takes.
  uint16_t taken = n;
  std::array<bool, kMaxBurst> copy_sent{};
  for (size_t e = 0; e < size; ++e) {
    const Entry& entry = entries[e];
    if (e < accepted) {
      if (entry.copy) copy_sent[entry.origin] = true;
      continue;
    }
    if (entry.origin < 0) {
      lane.PushHeld(entry.held);
    } else if (entry.copy) {
      FreePacket(batch[e]);
    } else if (taken == n) {
      taken = static_cast<uint16_t>(entry.origin);
    }
  }

  auto& c = lane.counters;
  for (uint16_t i = 0; i < taken; ++i) {
    const Fate& f = fates[i];
    c.packets.Add(1);
    if (f.drop) {
      c.dropped.Add(1);
      FreePacket(in[i]);
      continue;
    }
    if (f.held_full) c.held_full.Add(1);
    if (f.reorder) c.reordered.Add(1);
    if (f.delay) c.delayed.Add(1);
    if (f.holds()) {
      Packet* copy = f.duplicate ? Copy(queue, *in[i]) : nullptr;
      Hold(lane, now + f.hold, in[i]);
      if (copy != nullptr) Hold(lane, now + f.hold, copy);
      if (f.duplicate) (copy != nullptr ? c.duplicated : c.duplicate_failed).Add(1);
    } else if (f.duplicate) {
      (copy_sent[i] ? c.duplicated : c.duplicate_failed).Add(1);
    }
  }
  return taken;
}

uint16_t FaultInjectingLink::Flush(uint16_t queue) {
  Lane& lane = *tx_[queue];
  uint16_t sent = 0;
  // Each round releases up to a burst; stop when nothing is due or the
  // port takes nothing. Bounded by the number held.
  const size_t rounds = lane.heap.size() / kMaxBurst + 1;
  for (size_t r = 0; r < rounds && !lane.heap.empty(); ++r) {
    const size_t before = lane.heap.size();
    if (!lane.Due(clock_())) break;
    TransmitChunk(queue, nullptr, 0);
    if (lane.heap.size() >= before) break;
    sent = static_cast<uint16_t>(sent + (before - lane.heap.size()));
  }
  return sent;
}

uint16_t FaultInjectingLink::Receive(uint16_t queue, Packet** packets, uint16_t max) {
  if (!tx_[queue]->heap.empty()) Flush(queue);
  Lane& lane = *rx_[queue];
  const FaultProfile& profile = config_.rx;
  if (!profile.active() && lane.heap.empty() && lane.ready_count == 0) {
    return inner_.Receive(queue, packets, max);
  }
  const Instant now = (profile.holds() || !lane.heap.empty()) ? clock_() : Instant();
  while (lane.ReadyFree() > 0 && lane.Due(now)) lane.PushReady(lane.PopHeld().packet);

  if (lane.ReadyFree() >= 2 * kMaxBurst) {
    Packet* in[kMaxBurst];
    const uint16_t n = inner_.Receive(queue, in, kMaxBurst);
    auto& c = lane.counters;
    for (uint16_t i = 0; i < n; ++i) {
      Fate f = Roll(lane, profile);
      c.packets.Add(1);
      if (f.drop) {
        c.dropped.Add(1);
        FreePacket(in[i]);
        continue;
      }
      if (f.holds() && lane.heap.size() + (f.duplicate ? 2 : 1) > config_.max_held) {
        f.held_full = true;
        f.reorder = f.delay = false;
        c.held_full.Add(1);
      }
      if (f.reorder) c.reordered.Add(1);
      if (f.delay) c.delayed.Add(1);
      Packet* copy = f.duplicate ? Copy(queue, *in[i]) : nullptr;
      if (f.duplicate) (copy != nullptr ? c.duplicated : c.duplicate_failed).Add(1);
      if (f.holds()) {
        Hold(lane, now + f.hold, in[i]);
        if (copy != nullptr) Hold(lane, now + f.hold, copy);
      } else {
        lane.PushReady(in[i]);
        if (copy != nullptr) lane.PushReady(copy);
      }
    }
  }

  uint16_t got = 0;
  while (got < max && lane.ready_count > 0) packets[got++] = lane.PopReady();
  return got;
}

std::optional<Instant> FaultInjectingLink::NextRelease(uint16_t queue) const {
  std::optional<Instant> next;
  for (const Lane* lane : {tx_[queue].get(), rx_[queue].get()}) {
    if (lane->heap.empty()) continue;
    const Instant t = lane->heap.front().release;
    if (!next || t < *next) next = t;
  }
  return next;
}

size_t FaultInjectingLink::held(uint16_t queue, Direction direction) const {
  return (direction == Direction::kTx ? tx_ : rx_)[queue]->heap.size();
}

FaultStats FaultInjectingLink::fault_stats(Direction direction, uint16_t queue) const {
  const auto& c = (direction == Direction::kTx ? tx_ : rx_)[queue]->counters;
  FaultStats s;
  s.packets = c.packets.Get();
  s.dropped = c.dropped.Get();
  s.duplicated = c.duplicated.Get();
  s.duplicate_failed = c.duplicate_failed.Get();
  s.reordered = c.reordered.Get();
  s.delayed = c.delayed.Get();
  s.held_full = c.held_full.Get();
  return s;
}

FaultStats FaultInjectingLink::fault_stats(Direction direction) const {
  FaultStats total;
  for (uint16_t q = 0; q < tx_.size(); ++q) {
    const FaultStats s = fault_stats(direction, q);
    total.packets += s.packets;
    total.dropped += s.dropped;
    total.duplicated += s.duplicated;
    total.duplicate_failed += s.duplicate_failed;
    total.reordered += s.reordered;
    total.delayed += s.delayed;
    total.held_full += s.held_full;
  }
  return total;
}

}  // namespace locus::link
