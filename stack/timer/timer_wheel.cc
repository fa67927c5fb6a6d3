#include "stack/timer/timer_wheel.h"

#include <algorithm>
#include <bit>
#include <limits>

namespace locus::timer {
namespace {

// Ticks are clamped here so that no tick arithmetic can overflow (2^61 ns is
// 73 years; at 1 ms ticks the clamp is never reached).
constexpr int64_t kMaxTick = int64_t{1} << 61;
constexpr uint64_t kSlotMask = TimerWheel::kSlots - 1;

// The level whose slots are as wide as the largest power of kSlots <= delta.
int LevelFor(int64_t delta) {
  if (delta < TimerWheel::kSlots) return 0;
  return (63 - std::countl_zero(static_cast<uint64_t>(delta))) / TimerWheel::kSlotBits;
}

}  // namespace

TimerWheel::TimerWheel(Instant start, Duration tick)
    : start_(start),
      tick_(tick > Duration::Zero() ? tick : Duration::Nanos(1)),
      tick_ns_(tick_.nanos()) {}

TimerWheel::~TimerWheel() {
  auto release = [](Timer** head) {
    while (*head != nullptr) (*head)->Unlink();
  };
  for (auto& level : slots_) {
    for (Timer*& head : level) release(&head);
  }
  release(&overdue_);
  release(&firing_);
}

int64_t TimerWheel::TickOf(Instant deadline) const {
  int64_t rel;
  if (__builtin_sub_overflow(deadline.nanos(), start_.nanos(), &rel)) {
    return deadline.nanos() > start_.nanos() ? kMaxTick : 0;
  }
  if (rel <= 0) return 0;
  return std::min(kMaxTick, rel / tick_ns_ + (rel % tick_ns_ != 0 ? 1 : 0));
}

Instant TimerWheel::InstantOfTick(int64_t tick) const {
  int64_t rel, ns;
  if (__builtin_mul_overflow(tick, tick_ns_, &rel) ||
      __builtin_add_overflow(start_.nanos(), rel, &ns)) {
    return Instant::FromNanos(std::numeric_limits<int64_t>::max());
  }
  return Instant::FromNanos(ns);
}

void TimerWheel::PushFront(Timer** head, Timer* t) {
  t->next_ = *head;
  if (*head != nullptr) (*head)->pprev_ = &t->next_;
  *head = t;
  t->pprev_ = head;
}

void TimerWheel::MoveList(Timer** from, Timer** to) {
  *to = *from;
  *from = nullptr;
  if (*to != nullptr) (*to)->pprev_ = to;
}

void TimerWheel::Arm(Timer& timer, Instant deadline) {
  timer.Unlink();
  timer.expires_ = TickOf(deadline);
  if (timer.expires_ <= now_tick_) {
    PushFront(&overdue_, &timer);
    return;
  }
  Place(&timer);
}

void TimerWheel::Place(Timer* t) {
  int64_t delta = t->expires_ - now_tick_;
  int64_t slot_tick = t->expires_;
  if (delta >= kHorizonTicks) {
    // Parked: the top-level slot that comes round last. When it cascades the
    // timer is placed again by its real deadline.
    delta = kHorizonTicks - 1;
    slot_tick = now_tick_ + delta;
  }
  // A slot at level L is examined when now_tick_ reaches a multiple of
  // kSlots^L whose level-L index is the slot's: with kSlots^L <= delta <
  // kSlots^(L+1) that first happens at slot_tick rounded down to a multiple
  // of kSlots^L, which is after now_tick_ and at or before the deadline.
  const int level = LevelFor(delta);
  const int slot = static_cast<int>((slot_tick >> (kSlotBits * level)) & kSlotMask);
  PushFront(&slots_[level][slot], t);
  occupied_[level] |= uint64_t{1} << slot;
}

std::optional<int64_t> TimerWheel::NextEventTick() {
  std::optional<int64_t> best;
  for (int level = 0; level < kLevels; ++level) {
    const int shift = kSlotBits * level;
    // Level-L slots are examined at multiples of kSlots^L; the next one is
    // number m, and it examines slot m mod kSlots.
    const int64_t m = (now_tick_ >> shift) + 1;
    const int first = static_cast<int>(m & kSlotMask);
    while (occupied_[level] != 0) {
      const int offset = std::countr_zero(std::rotr(occupied_[level], first));
      const int slot = (first + offset) & static_cast<int>(kSlotMask);
      if (slots_[level][slot] == nullptr) {  // emptied by Cancel
        occupied_[level] &= ~(uint64_t{1} << slot);
        continue;
      }
      const int64_t when = (m + offset) << shift;
      if (!best || when < *best) best = when;
      break;
    }
  }
  return best;
}

void TimerWheel::Cascade(int level, int slot) {
  occupied_[level] &= ~(uint64_t{1} << slot);
  // No handler runs here, so a local list head is safe.
  Timer* list = nullptr;
  MoveList(&slots_[level][slot], &list);
  while (list != nullptr) {
    Timer* t = list;
    t->Unlink();
    Place(t);
  }
}

size_t TimerWheel::FireList(Timer** list, Instant now) {
  MoveList(list, &firing_);
  size_t fired = 0;
  while (firing_ != nullptr) {
    Timer* t = firing_;
    t->Unlink();
    ++fired;
    // After this call `t` may be re-armed or even destroyed: do not touch it.
    if (t->handler_ != nullptr) t->handler_->OnTimer(*t, now);
  }
  return fired;
}

size_t TimerWheel::Advance(Instant now) {
  if (advancing_) return 0;
  advancing_ = true;
  size_t fired = 0;
  // Timers armed in the past first: their deadlines are the oldest.
  if (overdue_ != nullptr) fired += FireList(&overdue_, now);

  int64_t rel;
  int64_t target = now_tick_;
  if (!__builtin_sub_overflow(now.nanos(), start_.nanos(), &rel)) {
    if (rel > 0) target = std::max(target, std::min(kMaxTick, rel / tick_ns_));
  } else if (now.nanos() > start_.nanos()) {
    target = kMaxTick;
  }

  while (now_tick_ < target) {
    const std::optional<int64_t> next = NextEventTick();
    if (!next || *next > target) {
      now_tick_ = target;  // nothing in between: jump
      break;
    }
    now_tick_ = *next;
    // A multiple of kSlots^L is also a multiple of every lower power, so
    // cascade upwards until a level's boundary is not reached. Order does not
    // matter: a timer moved down by level L+1 never lands in the slot level
    // L is cascading in this tick.
    for (int level = 1; level < kLevels; ++level) {
      const int shift = kSlotBits * level;
      if ((now_tick_ & ((int64_t{1} << shift) - 1)) != 0) break;
      const int slot = static_cast<int>((now_tick_ >> shift) & kSlotMask);
      if (occupied_[level] & (uint64_t{1} << slot)) Cascade(level, slot);
    }
    const int slot = static_cast<int>(now_tick_ & kSlotMask);
    if (occupied_[0] & (uint64_t{1} << slot)) {
      occupied_[0] &= ~(uint64_t{1} << slot);
      fired += FireList(&slots_[0][slot], now);
    }
  }
  advancing_ = false;
  return fired;
}

std::optional<Instant> TimerWheel::NextDeadline() {
  if (overdue_ != nullptr) return now();
  const std::optional<int64_t> next = NextEventTick();
  if (!next) return std::nullopt;
  return InstantOfTick(*next);
}

size_t TimerWheel::CountArmed() const {
  size_t n = 0;
  auto count = [&n](const Timer* t) {
    for (; t != nullptr; t = t->next_) ++n;
  };
  for (const auto& level : slots_) {
    for (const Timer* head : level) count(head);
  }
  count(overdue_);
  count(firing_);
  return n;
}

}  // namespace locus::timer
