// A bounded single-producer single-consumer ring: the only way one core
// hands work (packets, mostly) to another. Exactly one thread enqueues and
// exactly one thread dequeues; neither takes a lock or allocates.
//
// The producer owns `tail_`, the consumer owns `head_`, and each keeps a
// private copy of the other's index so that it touches the other's cache
// line only when its cached view says the ring is full (or empty). Indices
// run freely and wrap at 2^32; because the capacity is a power of two that
// divides 2^32, `tail - head` is the fill level across the wrap.
//
// Ordering: the producer writes slots, then publishes them with a release
// store of `tail_`; the consumer's acquire load of `tail_` makes those slot
// writes visible before it reads them. Symmetrically, the consumer's release
// store of `head_` tells the producer the slots it read may be overwritten.
#ifndef LOCUS_STACK_BASE_SPSC_RING_H_
#define LOCUS_STACK_BASE_SPSC_RING_H_

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace locus {

inline constexpr size_t kCacheLineSize = 64;
inline constexpr uint32_t kMinSpscRingCapacity = 1;
// 2^20 slots of 8 bytes is 8 MiB per ring pair direction; far above any
// sensible packet ring (DPDK's default rings are 1024) and well below 2^31,
// which the wrapping index arithmetic needs.
inline constexpr uint32_t kMaxSpscRingCapacity = uint32_t{1} << 20;

template <typename T>
class SpscRing {
  static_assert(std::is_trivially_copyable_v<T>,
                "SpscRing copies elements with plain stores; use pointers or handles");

 public:
  // `capacity` must be a power of two in [kMinSpscRingCapacity,
  // kMaxSpscRingCapacity]. All `capacity` slots are usable.
  static absl::StatusOr<std::unique_ptr<SpscRing>> Create(uint32_t capacity) {
    return CreateWithStartIndex(capacity, 0);
  }

  // As Create, with both indices starting at `start`; tests use it to cross
  // the 2^32 wrap quickly.
  static absl::StatusOr<std::unique_ptr<SpscRing>> CreateWithStartIndex(uint32_t capacity,
                                                                        uint32_t start) {
    if (capacity < kMinSpscRingCapacity || capacity > kMaxSpscRingCapacity) {
      return absl::InvalidArgumentError(absl::StrCat("SPSC ring capacity ", capacity,
                                                     " outside [", kMinSpscRingCapacity, ", ",
                                                     kMaxSpscRingCapacity, "]"));
    }
    if ((capacity & (capacity - 1)) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("SPSC ring capacity ", capacity, " is not a power of two"));
    }
    return std::unique_ptr<SpscRing>(new SpscRing(capacity, start));
  }

  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  // --- Producer side -------------------------------------------------------

  // Enqueues as many of items[0..n) as fit, in order; returns how many.
  uint32_t EnqueueBurst(const T* items, uint32_t n) {
    const uint32_t tail = tail_.load(std::memory_order_relaxed);
    const uint32_t k = std::min(n, FreeSlots(tail, n));
    Publish(tail, items, k);
    return k;
  }

  // Enqueues all of items[0..n) or none of them.
  bool EnqueueBulk(const T* items, uint32_t n) {
    const uint32_t tail = tail_.load(std::memory_order_relaxed);
    if (FreeSlots(tail, n) < n) return false;
    Publish(tail, items, n);
    return true;
  }

  bool Enqueue(const T& item) { return EnqueueBulk(&item, 1); }

  // --- Consumer side -------------------------------------------------------

  // Moves up to `max` elements into out[0..), oldest first; returns how many.
  uint32_t DequeueBurst(T* out, uint32_t max) {
    const uint32_t head = head_.load(std::memory_order_relaxed);
    const uint32_t k = std::min(max, UsedSlots(head, max));
    if (k == 0) return 0;
    for (uint32_t i = 0; i < k; ++i) out[i] = slots_[(head + i) & mask_];
    head_.store(head + k, std::memory_order_release);
    return k;
  }

  bool Dequeue(T* out) { return DequeueBurst(out, 1) == 1; }

  // --- Either side ---------------------------------------------------------

  uint32_t capacity() const { return mask_ + 1; }

  // Exact when the other side is idle; otherwise a snapshot that may already
  // be stale, clamped to [0, capacity].
  uint32_t SizeApprox() const {
    const uint32_t tail = tail_.load(std::memory_order_acquire);
    const uint32_t head = head_.load(std::memory_order_acquire);
    const int32_t used = static_cast<int32_t>(tail - head);
    if (used < 0) return 0;
    return std::min(static_cast<uint32_t>(used), capacity());
  }

 private:
  SpscRing(uint32_t capacity, uint32_t start)
      : mask_(capacity - 1),
        slots_(std::make_unique<T[]>(capacity)),
        tail_(start),
        head_cache_(start),
        head_(start),
        tail_cache_(start) {}

  // Producer: free slots, refreshing the cached head only when the cached
  // view cannot satisfy `wanted`.
  uint32_t FreeSlots(uint32_t tail, uint32_t wanted) {
    uint32_t free = capacity() - (tail - head_cache_);
    if (free < wanted) {
      head_cache_ = head_.load(std::memory_order_acquire);
      free = capacity() - (tail - head_cache_);
    }
    return free;
  }

  void Publish(uint32_t tail, const T* items, uint32_t k) {
    if (k == 0) return;
    for (uint32_t i = 0; i < k; ++i) slots_[(tail + i) & mask_] = items[i];
    tail_.store(tail + k, std::memory_order_release);
  }

  // Consumer: filled slots, refreshing the cached tail likewise.
  uint32_t UsedSlots(uint32_t head, uint32_t wanted) {
    uint32_t used = tail_cache_ - head;
    if (used < wanted) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      used = tail_cache_ - head;
    }
    return used;
  }

  // Read-only after construction; shared by both sides without contention.
  alignas(kCacheLineSize) const uint32_t mask_;
  const std::unique_ptr<T[]> slots_;

  // Written by the producer only.
  alignas(kCacheLineSize) std::atomic<uint32_t> tail_;
  uint32_t head_cache_;

  // Written by the consumer only. alignas also pads the object's end, so
  // nothing allocated after the ring shares this line.
  alignas(kCacheLineSize) std::atomic<uint32_t> head_;
  uint32_t tail_cache_;
};

}  // namespace locus

#endif  // LOCUS_STACK_BASE_SPSC_RING_H_
