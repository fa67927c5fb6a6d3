// A per-core hierarchical timer wheel with cascading (Varghese & Lauck,
// "Hashed and Hierarchical Timing Wheels", SOSP '87, scheme 7; the layout
// follows the pre-4.8 Linux wheel).
//
// Timers are intrusive: a `Timer` lives inside its owner (a connection, a
// listener) and the wheel only links it. Arm, re-arm and Cancel are O(1) and
// never allocate. The wheel reads no clock: the event loop calls
// `Advance(now)` and expired timers fire from inside that call.
//
// Time is cut into ticks of `tick` (default 1 ms) counted from the `start`
// given to the constructor. A timer armed for deadline D gets the tick
// ceil((D - start) / tick) and fires during the first Advance(now) whose tick
// floor((now - start) / tick) has reached it. So a timer never fires before
// its deadline and fires at most one tick (plus however late Advance is
// called) after it.
//
// Level L (0..kLevels-1) has kSlots slots of kSlots^L ticks each, so the
// wheel resolves deadlines up to kSlots^kLevels = 2^30 ticks ahead (12.4
// days at 1 ms; 29.8 hours at 100 us; 3.1 hours at 10 us). A farther deadline
// is parked in the top level and re-placed each time that slot comes round,
// so it still fires on its exact tick; it just cascades more often.
//
// Not thread-safe: one wheel per core, like everything else on the fast path.
#ifndef LOCUS_STACK_TIMER_TIMER_WHEEL_H_
#define LOCUS_STACK_TIMER_TIMER_WHEEL_H_

#include <cstddef>
#include <cstdint>
#include <optional>

#include "stack/base/time.h"

namespace locus::timer {

class Timer;

// What a timer calls when it fires. A connection typically implements this
// once and tells its timers apart by address (`&timer == &rto_timer_`), which
// costs one vtable pointer per connection instead of a context pointer per
// timer.
class TimerHandler {
 public:
  // `timer` is already disarmed when this runs, so the handler may re-arm it.
  // The handler may arm or cancel any timer of the same wheel, including
  // timers due in the same tick (a cancelled one then does not fire). It must
  // not call Advance and must not destroy the wheel.
  virtual void OnTimer(Timer& timer, Instant now) = 0;

 protected:
  ~TimerHandler() = default;
};

class Timer {
 public:
  explicit Timer(TimerHandler* handler = nullptr) : handler_(handler) {}
  // Unlinks the timer if it is still armed, so a forgotten Cancel cannot
  // leave the wheel pointing at freed memory. Owners should still Cancel.
  ~Timer() { Unlink(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  bool armed() const { return pprev_ != nullptr; }
  TimerHandler* handler() const { return handler_; }
  // Only while disarmed: the wheel calls the handler it finds at fire time.
  void set_handler(TimerHandler* handler) { handler_ = handler; }
  // The tick this timer fires at; meaningful only while armed.
  int64_t deadline_tick() const { return expires_; }

 private:
  friend class TimerWheel;
  void Unlink() {
    if (pprev_ == nullptr) return;
    *pprev_ = next_;
    if (next_ != nullptr) next_->pprev_ = pprev_;
    next_ = nullptr;
    pprev_ = nullptr;
  }

  // Singly linked forwards, with a pointer to whatever points at us (the
  // previous timer's next_ or a list head): O(1) unlink with 8-byte heads.
  Timer* next_ = nullptr;
  Timer** pprev_ = nullptr;  // null exactly when disarmed
  TimerHandler* handler_ = nullptr;
  int64_t expires_ = 0;  // absolute tick
};

class TimerWheel {
 public:
  static constexpr int kSlotBits = 6;
  static constexpr int kSlots = 1 << kSlotBits;
  static constexpr int kLevels = 5;
  // Deadlines at most this many ticks ahead are placed directly; farther ones
  // are parked in the top level (see the file comment).
  static constexpr int64_t kHorizonTicks = int64_t{1} << (kSlotBits * kLevels);
  static constexpr Duration kDefaultTick = Duration::Millis(1);

  // `tick` must be positive (a non-positive tick is replaced by 1 ns).
  explicit TimerWheel(Instant start, Duration tick = kDefaultTick);
  // Disarms every timer still linked (without calling handlers), so timers
  // that outlive the wheel do not point into it.
  ~TimerWheel();
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // Arms `timer` for `deadline`, moving it if already armed (on this wheel:
  // a timer belongs to one wheel at a time). A deadline at or before the
  // tick already processed fires during the next Advance call, never inside
  // this one, so a handler that re-arms itself "now" cannot loop forever.
  void Arm(Timer& timer, Instant deadline);
  // No-op when not armed.
  void Cancel(Timer& timer) { timer.Unlink(); }

  // Fires every timer whose tick is at or before `now`'s tick, in tick order
  // (order within one tick is unspecified), first those that were armed in
  // the past. Each fires exactly once and handlers get `now`. Returns how
  // many fired. Time never goes back: an earlier `now` only fires timers
  // armed in the past. A jump of any size costs O(occupied slots), not
  // O(ticks). Called from inside a handler it does nothing and returns 0.
  size_t Advance(Instant now);

  // The earliest instant at which Advance may have work: exact when the
  // earliest timer sits in level 0 (within 64 ticks), otherwise the instant
  // its slot cascades, which is earlier than its deadline. It is never later
  // than the earliest deadline (rounded up to its tick), so an idle loop may
  // sleep until then and call Advance; it can wake early, never late.
  // Returns the last processed tick's instant when timers are already due
  // (armed in the past) and nullopt when no timer is armed. Non-const because
  // it forgets slots emptied by Cancel as it scans them.
  std::optional<Instant> NextDeadline();

  Duration tick() const { return tick_; }
  // The last processed tick; inside a handler, the tick being fired.
  int64_t now_tick() const { return now_tick_; }
  Instant now() const { return InstantOfTick(now_tick_); }
  // ceil((deadline - start) / tick), clamped at 0 for deadlines before start.
  int64_t TickOf(Instant deadline) const;
  Instant InstantOfTick(int64_t tick) const;

  // Walks every list: O(armed timers + slots). For tests and diagnostics.
  size_t CountArmed() const;

 private:
  // Links `t` (expires_ already set, > now_tick_ or == now_tick_ during a
  // cascade) into the slot that will next examine its tick.
  void Place(Timer* t);
  static void PushFront(Timer** head, Timer* t);
  // Moves the whole list at `*from` to `*to` (which must be empty).
  static void MoveList(Timer** from, Timer** to);
  // The first tick > now_tick_ at which a fire or a cascade of a slot whose
  // bit is set happens, or nullopt. Clears bits of slots found empty.
  std::optional<int64_t> NextEventTick();
  void Cascade(int level, int slot);
  size_t FireList(Timer** list, Instant now);

  Instant start_;
  Duration tick_;
  int64_t tick_ns_;
  int64_t now_tick_ = 0;
  bool advancing_ = false;
  // Bit s of occupied_[L] is set whenever slot [L][s] may be non-empty.
  // Cancel does not clear it (it does not know the slot); scans do.
  uint64_t occupied_[kLevels] = {};
  Timer* slots_[kLevels][kSlots] = {};
  // Timers armed at or before now_tick_: they fire at the next Advance.
  Timer* overdue_ = nullptr;
  // The list being fired; a member so handlers can unlink from it.
  Timer* firing_ = nullptr;
};

}  // namespace locus::timer

#endif  // LOCUS_STACK_TIMER_TIMER_WHEEL_H_
