#include "stack/steer/port_allocator.h"

#include <bit>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace locus::steer {
namespace {

uint64_t Mix64(uint64_t x) {
  // splitmix64's finaliser: a cheap bijection with good avalanche.
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

// RFC 6056 §3.3.3 (Algorithm 3): start each destination's search at
// F(local ip, remote ip, remote port, secret), so that port sequences toward
// different destinations are unrelated and not guessable off-path.
uint32_t StartOffset(const ActiveDestination& d, uint64_t seed, uint32_t range_size) {
  const uint64_t ips = (uint64_t{d.local_ip.value()} << 32) | d.remote_ip.value();
  const uint64_t h = Mix64(Mix64(seed ^ ips) ^ d.remote_port);
  return static_cast<uint32_t>(h % range_size);
}

}  // namespace

const char* PortErrorName(PortError error) {
  switch (error) {
    case PortError::kOk: return "ok";
    case PortError::kExhausted: return "exhausted";
    case PortError::kTooManyDestinations: return "too_many_destinations";
    case PortError::kUnknownDestination: return "unknown_destination";
    case PortError::kOutOfRange: return "out_of_range";
    case PortError::kNotInUse: return "not_in_use";
  }
  return "unknown";
}

absl::StatusOr<PortAllocator> PortAllocator::Create(const FlowSteering& steering, uint16_t core,
                                                    const PortAllocatorOptions& options) {
  if (core >= steering.num_cores()) {
    return absl::InvalidArgumentError(
        absl::StrCat("core ", core, " but steering has ", steering.num_cores(), " cores"));
  }
  if (options.range.first < kReservedPortLimit) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ephemeral ports must start at or above ", kReservedPortLimit,
        ": replies to lower ports would be classified as passive (got ", options.range.first, ")"));
  }
  if (options.range.first > options.range.last) {
    return absl::InvalidArgumentError(absl::StrCat("empty ephemeral port range ",
                                                   options.range.first, "-", options.range.last));
  }
  if (options.max_destinations == 0 || options.max_destinations > kMaxDestinationsLimit) {
    return absl::InvalidArgumentError(absl::StrCat("max_destinations ", options.max_destinations,
                                                   " outside [1, ", kMaxDestinationsLimit, "]"));
  }
  return PortAllocator(steering, core, options);
}

PortAllocator::PortAllocator(const FlowSteering& steering, uint16_t core,
                             const PortAllocatorOptions& options)
    : steering_(&steering),
      core_(core),
      options_(options),
      owned_by_class_(steering.active_class_count()) {}

const Bitmap& PortAllocator::OwnedBitmap(uint32_t active_class) {
  std::unique_ptr<Bitmap>& slot = owned_by_class_[active_class];
  if (slot == nullptr) {
    const PortRange& r = options_.range;
    slot = std::make_unique<Bitmap>(r.size());
    for (uint32_t offset = 0; offset < r.size(); ++offset) {
      const uint16_t port = static_cast<uint16_t>(r.first + offset);
      if (steering_->ActiveOwner(active_class, port) == core_) slot->Set(offset);
    }
    ++stats_.port_classes;
  }
  return *slot;
}

PortAllocator::Destination* PortAllocator::Find(const ActiveDestination& dest) {
  auto it = destinations_.find(dest);
  return it == destinations_.end() ? nullptr : it->second.get();
}

void PortAllocator::PrepareAllClasses() {
  for (uint32_t cls = 0; cls < owned_by_class_.size(); ++cls) OwnedBitmap(cls);
}

uint32_t PortAllocator::OwnedPortCount(const ActiveDestination& dest) {
  const uint32_t cls = steering_->ActiveClass(dest.local_ip, dest.remote_ip, dest.remote_port);
  return static_cast<uint32_t>(OwnedBitmap(cls).Count());
}

size_t PortAllocator::ExpireTimeWait(Destination& d, Instant now) {
  size_t freed = 0;
  while (!d.time_wait_order.empty()) {
    const TimeWaitEntry e = d.time_wait_order.front();
    auto it = d.time_wait.find(e.port);
    if (it != d.time_wait.end() && it->second.ticket == e.ticket) {
      if (it->second.until > now) break;
      d.time_wait.erase(it);
      d.busy.Clear(e.port - options_.range.first);
      ++freed;
    }
    d.time_wait_order.pop_front();
  }
  stats_.time_wait_expiries += freed;
  stats_.in_time_wait -= freed;
  return freed;
}

uint32_t PortAllocator::FindFree(const Destination& d, const ListenerPortSet& listeners) const {
  const uint32_t n = options_.range.size();
  const size_t words = d.busy.word_count();
  const uint32_t start_word = d.cursor / 64;
  const uint32_t start_bit = d.cursor % 64;
  // words + 1 steps: the start word is visited twice, first for the bits at
  // or after the cursor, last for the bits before it.
  for (size_t step = 0; step <= words; ++step) {
    const size_t w = (start_word + step) % words;
    uint64_t candidates = d.owned->word(w) & ~d.busy.word(w);
    if (step == 0) candidates &= ~uint64_t{0} << start_bit;
    if (step == words) candidates &= start_bit == 0 ? 0 : ~(~uint64_t{0} << start_bit);
    while (candidates != 0) {
      const uint32_t offset = static_cast<uint32_t>(w * 64 + std::countr_zero(candidates));
      if (!listeners.Contains(static_cast<uint16_t>(options_.range.first + offset))) return offset;
      candidates &= candidates - 1;
    }
  }
  return n;
}

PortAllocation PortAllocator::Allocate(const ActiveDestination& dest, Instant now,
                                       const ListenerPortSet& listeners) {
  return AllocateImpl(dest, now, listeners, nullptr);
}

PortAllocation PortAllocator::Allocate(const ActiveDestination& dest, Instant now,
                                       const ListenerPortSet& listeners,
                                       absl::FunctionRef<bool(uint16_t)> may_reuse_time_wait) {
  return AllocateImpl(dest, now, listeners, &may_reuse_time_wait);
}

PortAllocation PortAllocator::AllocateImpl(
    const ActiveDestination& dest, Instant now, const ListenerPortSet& listeners,
    const absl::FunctionRef<bool(uint16_t)>* may_reuse_time_wait) {
  Destination* d = Find(dest);
  if (d == nullptr) {
    if (destinations_.size() >= options_.max_destinations) {
      ++stats_.too_many_destinations;
      return {PortError::kTooManyDestinations};
    }
    auto fresh = std::make_unique<Destination>();
    const uint32_t cls = steering_->ActiveClass(dest.local_ip, dest.remote_ip, dest.remote_port);
    fresh->owned = &OwnedBitmap(cls);
    fresh->busy = Bitmap(options_.range.size());
    fresh->cursor = StartOffset(dest, options_.seed, options_.range.size());
    d = fresh.get();
    destinations_.emplace(dest, std::move(fresh));
    ++stats_.destinations;
  }
  ExpireTimeWait(*d, now);

  const uint32_t offset = FindFree(*d, listeners);
  if (offset < options_.range.size()) {
    d->busy.Set(offset);
    d->cursor = offset + 1 == options_.range.size() ? 0 : offset + 1;
    ++d->in_use;
    ++stats_.in_use;
    ++stats_.allocations;
    return {PortError::kOk, static_cast<uint16_t>(options_.range.first + offset), false};
  }

  if (may_reuse_time_wait != nullptr) {
    uint32_t probes = 0;
    for (const TimeWaitEntry& e : d->time_wait_order) {
      if (probes == kMaxTimeWaitReuseProbes) break;
      auto it = d->time_wait.find(e.port);
      if (it == d->time_wait.end() || it->second.ticket != e.ticket) continue;  // stale
      if (listeners.Contains(e.port)) continue;
      ++probes;
      if (!(*may_reuse_time_wait)(e.port)) continue;
      // The entry in time_wait_order goes stale and is dropped when reached.
      d->time_wait.erase(it);
      --stats_.in_time_wait;
      ++d->in_use;
      ++stats_.in_use;
      ++stats_.allocations;
      ++stats_.time_wait_reuses;
      return {PortError::kOk, e.port, true};
    }
  }
  ++stats_.exhausted;
  return {PortError::kExhausted};
}

PortError PortAllocator::Release(const ActiveDestination& dest, uint16_t port) {
  Destination* d = Find(dest);
  PortError error = PortError::kOk;
  if (d == nullptr) {
    error = PortError::kUnknownDestination;
  } else if (!options_.range.Contains(port)) {
    error = PortError::kOutOfRange;
  } else if (!d->busy.Test(port - options_.range.first)) {
    error = PortError::kNotInUse;
  }
  if (error != PortError::kOk) {
    ++stats_.bad_calls;
    return error;
  }
  if (auto it = d->time_wait.find(port); it != d->time_wait.end()) {
    d->time_wait.erase(it);
    --stats_.in_time_wait;
  } else {
    --d->in_use;
    --stats_.in_use;
  }
  d->busy.Clear(port - options_.range.first);
  ++stats_.releases;
  return PortError::kOk;
}

PortError PortAllocator::EnterTimeWait(const ActiveDestination& dest, uint16_t port,
                                       Instant until) {
  Destination* d = Find(dest);
  PortError error = PortError::kOk;
  if (d == nullptr) {
    error = PortError::kUnknownDestination;
  } else if (!options_.range.Contains(port)) {
    error = PortError::kOutOfRange;
  } else if (!d->busy.Test(port - options_.range.first)) {
    error = PortError::kNotInUse;
  }
  if (error != PortError::kOk) {
    ++stats_.bad_calls;
    return error;
  }
  const uint32_t ticket = d->next_ticket++;
  auto [it, inserted] = d->time_wait.try_emplace(port, TimeWait{until, ticket});
  if (inserted) {
    --d->in_use;
    --stats_.in_use;
    ++stats_.in_time_wait;
    ++stats_.time_wait_entries;
  } else {
    it->second = {until, ticket};  // moved expiry; the older entry goes stale
  }
  d->time_wait_order.push_back({port, ticket});
  return PortError::kOk;
}

size_t PortAllocator::Sweep(Instant now) {
  size_t freed = 0;
  for (auto it = destinations_.begin(); it != destinations_.end();) {
    Destination& d = *it->second;
    freed += ExpireTimeWait(d, now);
    if (d.in_use == 0 && d.time_wait.empty()) {
      destinations_.erase(it++);
      --stats_.destinations;
    } else {
      ++it;
    }
  }
  return freed;
}

size_t PortAllocator::MemoryBytes() const {
  size_t bytes = 0;
  for (const auto& owned : owned_by_class_) {
    if (owned != nullptr) bytes += owned->MemoryBytes();
  }
  for (const auto& [key, d] : destinations_) {
    bytes += sizeof(Destination) + d->busy.MemoryBytes() +
             d->time_wait.capacity() * (sizeof(uint16_t) + sizeof(TimeWait) + 1) +
             d->time_wait_order.size() * sizeof(TimeWaitEntry);
  }
  return bytes;
}

}  // namespace locus::steer
