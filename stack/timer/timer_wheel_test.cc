#include "stack/timer/timer_wheel.h"

#include <atomic>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <random>
#include <vector>

#include "gtest/gtest.h"

// Counts heap allocations so tests can show that Arm, Cancel and Advance
// never allocate.
namespace {
std::atomic<size_t> g_allocations{0};
}  // namespace

void* operator new(size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace locus::timer {
namespace {

static_assert(sizeof(Timer) == 32, "Timer is embedded in every connection, keep it small");

constexpr Instant kStart = Instant::FromNanos(1'000'000'000);
constexpr Duration kMs = Duration::Millis(1);

// A timer whose handler runs an arbitrary test action.
struct ActionTimer final : TimerHandler {
  ActionTimer() : timer(this) {}
  void OnTimer(Timer& t, Instant now) override {
    EXPECT_EQ(&t, &timer);
    EXPECT_FALSE(t.armed());
    ++fired;
    last_now = now;
    if (action) action(now);
  }
  Timer timer;
  int fired = 0;
  Instant last_now;
  std::function<void(Instant)> action;
};

TEST(TimerWheelTest, TimerIsSmall) {
  // Reported in the hand-off: four of these per connection is 128 bytes.
  EXPECT_EQ(sizeof(Timer), 32u);
}

TEST(TimerWheelTest, FiresOnItsTickAndOnlyOnce) {
  TimerWheel wheel(kStart);
  ActionTimer a;
  wheel.Arm(a.timer, kStart + kMs * 5);
  EXPECT_TRUE(a.timer.armed());
  EXPECT_EQ(a.timer.deadline_tick(), 5);
  EXPECT_EQ(wheel.Advance(kStart + kMs * 4), 0u);
  EXPECT_EQ(a.fired, 0);
  EXPECT_EQ(wheel.Advance(kStart + kMs * 5), 1u);
  EXPECT_EQ(a.fired, 1);
  EXPECT_EQ(a.last_now, kStart + kMs * 5);
  EXPECT_FALSE(a.timer.armed());
  EXPECT_EQ(wheel.Advance(kStart + kMs * 500), 0u);
  EXPECT_EQ(a.fired, 1);
}

TEST(TimerWheelTest, NeverEarlyAtMostOneTickLate) {
  // Deadlines that fall inside a tick round up to the end of that tick.
  TimerWheel wheel(kStart);
  ActionTimer a;
  const Instant deadline = kStart + Duration::Micros(7'300);  // 7.3 ms
  wheel.Arm(a.timer, deadline);
  EXPECT_EQ(a.timer.deadline_tick(), 8);
  wheel.Advance(kStart + Duration::Micros(7'999));
  EXPECT_EQ(a.fired, 0);
  wheel.Advance(kStart + Duration::Micros(8'000));
  EXPECT_EQ(a.fired, 1);
  EXPECT_GE(a.last_now, deadline);
  EXPECT_LE(a.last_now - deadline, kMs);
}

TEST(TimerWheelTest, PastDeadlineFiresOnNextAdvanceEvenWithoutTimeMoving) {
  TimerWheel wheel(kStart);
  wheel.Advance(kStart + kMs * 100);
  ActionTimer a, b, c;
  wheel.Arm(a.timer, kStart + kMs * 10);   // in the past
  wheel.Arm(b.timer, kStart + kMs * 100);  // the processed tick
  wheel.Arm(c.timer, kStart - kMs * 50);   // before the wheel's start
  EXPECT_EQ(a.fired + b.fired + c.fired, 0);
  EXPECT_EQ(wheel.NextDeadline(), wheel.now());
  EXPECT_EQ(wheel.Advance(kStart + kMs * 100), 3u);
  EXPECT_EQ(a.fired + b.fired + c.fired, 3);
}

TEST(TimerWheelTest, RearmMovesTheTimer) {
  TimerWheel wheel(kStart);
  ActionTimer a;
  wheel.Arm(a.timer, kStart + kMs * 10);
  wheel.Arm(a.timer, kStart + kMs * 5000);  // later, another level
  wheel.Advance(kStart + kMs * 4999);
  EXPECT_EQ(a.fired, 0);
  wheel.Arm(a.timer, kStart + kMs * 5003);
  wheel.Advance(kStart + kMs * 5002);
  EXPECT_EQ(a.fired, 0);
  wheel.Arm(a.timer, kStart + kMs * 5001);  // earlier than now: overdue
  wheel.Advance(kStart + kMs * 5002);
  EXPECT_EQ(a.fired, 1);
  wheel.Advance(kStart + kMs * 10000);
  EXPECT_EQ(a.fired, 1);
  EXPECT_EQ(wheel.CountArmed(), 0u);
}

TEST(TimerWheelTest, CancelStopsFiringAndIsIdempotent) {
  TimerWheel wheel(kStart);
  ActionTimer a, b;
  wheel.Cancel(a.timer);  // not armed: no-op
  wheel.Arm(a.timer, kStart + kMs * 3);
  wheel.Arm(b.timer, kStart + kMs * 3);
  wheel.Cancel(a.timer);
  wheel.Cancel(a.timer);
  EXPECT_FALSE(a.timer.armed());
  EXPECT_EQ(wheel.CountArmed(), 1u);
  EXPECT_EQ(wheel.Advance(kStart + kMs * 3), 1u);
  EXPECT_EQ(a.fired, 0);
  EXPECT_EQ(b.fired, 1);
}

TEST(TimerWheelTest, TimeDoesNotGoBack) {
  TimerWheel wheel(kStart);
  ActionTimer a;
  wheel.Advance(kStart + kMs * 50);
  wheel.Arm(a.timer, kStart + kMs * 60);
  EXPECT_EQ(wheel.Advance(kStart + kMs * 10), 0u);
  EXPECT_EQ(wheel.now_tick(), 50);
  EXPECT_EQ(wheel.Advance(kStart - kMs * 10), 0u);
  EXPECT_EQ(wheel.Advance(kStart + kMs * 60), 1u);
}

TEST(TimerWheelTest, HandlerCancelsOthersInTheSameSlot) {
  TimerWheel wheel(kStart);
  ActionTimer t[5];
  for (auto& x : t) {
    x.action = [&](Instant) {
      for (auto& y : t) wheel.Cancel(y.timer);
    };
    wheel.Arm(x.timer, kStart + kMs * 7);
  }
  EXPECT_EQ(wheel.Advance(kStart + kMs * 7), 1u);
  int total = 0;
  for (auto& x : t) total += x.fired;
  EXPECT_EQ(total, 1);
  EXPECT_EQ(wheel.CountArmed(), 0u);
}

TEST(TimerWheelTest, HandlerRearmsOthersInTheSameSlot) {
  // Whichever fires first pushes every other one 10 ms out, so exactly one
  // fires per 10 ms round.
  TimerWheel wheel(kStart);
  ActionTimer t[4];
  for (auto& x : t) {
    x.action = [&](Instant now) {
      for (auto& y : t) {
        if (&y != &x) wheel.Arm(y.timer, now + kMs * 10);
      }
    };
    wheel.Arm(x.timer, kStart + kMs * 7);
  }
  EXPECT_EQ(wheel.Advance(kStart + kMs * 7), 1u);
  EXPECT_EQ(wheel.Advance(kStart + kMs * 16), 0u);
  EXPECT_EQ(wheel.Advance(kStart + kMs * 17), 1u);
  EXPECT_EQ(wheel.Advance(kStart + kMs * 27), 1u);
  EXPECT_EQ(wheel.CountArmed(), 3u);
}

TEST(TimerWheelTest, HandlerRearmsItselfForNowWithoutLooping) {
  TimerWheel wheel(kStart);
  ActionTimer a;
  a.action = [&](Instant now) { wheel.Arm(a.timer, now); };
  wheel.Arm(a.timer, kStart + kMs * 2);
  // Each Advance at the same time fires it exactly once: re-arming for an
  // already processed tick defers to the next Advance.
  for (int i = 1; i <= 5; ++i) {
    EXPECT_EQ(wheel.Advance(kStart + kMs * 2), 1u);
    EXPECT_EQ(a.fired, i);
    EXPECT_TRUE(a.timer.armed());
  }
  // Overdue timers fire before the wheel moves, so here the handler re-arms
  // for tick 3, which is not processed yet: it fires again in this Advance
  // (and the re-arm at tick 3 then waits for the next one).
  EXPECT_EQ(wheel.Advance(kStart + kMs * 3), 2u);
  EXPECT_EQ(wheel.Advance(kStart + kMs * 3), 1u);
  wheel.Cancel(a.timer);
}

TEST(TimerWheelTest, HandlerRearmsItselfPeriodically) {
  TimerWheel wheel(kStart);
  ActionTimer a;
  a.action = [&](Instant now) { wheel.Arm(a.timer, now + kMs * 100); };
  wheel.Arm(a.timer, kStart + kMs * 100);
  // Handlers get the Advance's `now`, not their tick's instant: after one
  // jump to 1000 ms the timer fired once (at tick 100) and re-armed for
  // 1000 + 100 ms, like a TCP timer that acts at the real current time.
  EXPECT_EQ(wheel.Advance(kStart + kMs * 1000), 1u);
  EXPECT_EQ(a.timer.deadline_tick(), 1100);
  // Ticking one millisecond at a time gives the period exactly: 1100..2100.
  for (int ms = 1001; ms <= 2100; ++ms) wheel.Advance(kStart + kMs * ms);
  EXPECT_EQ(a.fired, 12);
  wheel.Cancel(a.timer);
}

TEST(TimerWheelTest, HandlerMayDestroyAnotherDueTimer) {
  TimerWheel wheel(kStart);
  auto victim = std::make_unique<ActionTimer>();
  ActionTimer killer;
  bool victim_fired_first = false;
  victim->action = [&](Instant) { victim_fired_first = true; };
  killer.action = [&](Instant) { victim.reset(); };
  wheel.Arm(victim->timer, kStart + kMs * 3);
  wheel.Arm(killer.timer, kStart + kMs * 3);
  const size_t fired = wheel.Advance(kStart + kMs * 3);
  EXPECT_EQ(fired, victim_fired_first ? 2u : 1u);
  EXPECT_EQ(victim, nullptr);
  EXPECT_EQ(wheel.CountArmed(), 0u);
}

TEST(TimerWheelTest, NestedAdvanceIsIgnored) {
  TimerWheel wheel(kStart);
  ActionTimer a, b;
  size_t nested = 99;
  a.action = [&](Instant now) { nested = wheel.Advance(now + kMs * 100); };
  wheel.Arm(a.timer, kStart + kMs * 1);
  wheel.Arm(b.timer, kStart + kMs * 50);
  wheel.Advance(kStart + kMs * 1);
  EXPECT_EQ(nested, 0u);
  EXPECT_EQ(b.fired, 0);
  EXPECT_EQ(wheel.now_tick(), 1);
}

TEST(TimerWheelTest, DestroyedTimerUnlinksItself) {
  TimerWheel wheel(kStart);
  ActionTimer keep;
  wheel.Arm(keep.timer, kStart + kMs * 9);
  {
    ActionTimer gone;
    wheel.Arm(gone.timer, kStart + kMs * 9);
    EXPECT_EQ(wheel.CountArmed(), 2u);
  }
  EXPECT_EQ(wheel.CountArmed(), 1u);
  EXPECT_EQ(wheel.Advance(kStart + kMs * 9), 1u);
}

TEST(TimerWheelTest, DestroyedWheelDisarmsItsTimers) {
  ActionTimer a, b;
  {
    TimerWheel wheel(kStart);
    wheel.Arm(a.timer, kStart + kMs * 9);
    wheel.Arm(b.timer, kStart - kMs * 9);
  }
  EXPECT_FALSE(a.timer.armed());
  EXPECT_FALSE(b.timer.armed());
}

TEST(TimerWheelTest, NextDeadlineIsNeverLate) {
  TimerWheel wheel(kStart);
  EXPECT_EQ(wheel.NextDeadline(), std::nullopt);
  ActionTimer near, far;
  wheel.Arm(near.timer, kStart + kMs * 10);
  EXPECT_EQ(wheel.NextDeadline(), kStart + kMs * 10);  // level 0: exact
  wheel.Arm(far.timer, kStart + kMs * 5000);
  EXPECT_EQ(wheel.NextDeadline(), kStart + kMs * 10);
  wheel.Cancel(near.timer);
  std::optional<Instant> next = wheel.NextDeadline();
  ASSERT_TRUE(next.has_value());
  EXPECT_LE(*next, kStart + kMs * 5000);  // the level-1 slot's cascade
  EXPECT_GT(*next, kStart);
  // Following NextDeadline from wake-up to wake-up reaches the timer on time
  // and no later.
  int wakeups = 0;
  while (far.fired == 0) {
    next = wheel.NextDeadline();
    ASSERT_TRUE(next.has_value());
    ASSERT_LE(*next, kStart + kMs * 5000);
    wheel.Advance(*next);
    ASSERT_LT(++wakeups, 10);
  }
  EXPECT_EQ(far.last_now, kStart + kMs * 5000);
  EXPECT_EQ(wheel.NextDeadline(), std::nullopt);
}

TEST(TimerWheelTest, CascadesAcrossEveryLevelBoundary) {
  // Deadlines on both sides of each level's span, reached by one jump each
  // and by a single huge jump; every handler checks it fires on its tick.
  for (bool one_jump : {false, true}) {
    TimerWheel wheel(kStart);
    std::vector<int64_t> deltas;
    for (int level = 1; level <= TimerWheel::kLevels; ++level) {
      const int64_t span = int64_t{1} << (TimerWheel::kSlotBits * level);
      for (int64_t d : {span - 1, span, span + 1, 2 * span - 1, 3 * span + 17}) deltas.push_back(d);
    }
    deltas.push_back(TimerWheel::kHorizonTicks * 5 + 12345);  // parked, re-parked
    std::vector<std::unique_ptr<ActionTimer>> timers;
    for (int64_t d : deltas) {
      auto t = std::make_unique<ActionTimer>();
      t->action = [&wheel, d](Instant) { EXPECT_EQ(wheel.now_tick(), d); };
      wheel.Arm(t->timer, kStart + kMs * d);
      timers.push_back(std::move(t));
    }
    std::sort(deltas.begin(), deltas.end());
    if (one_jump) {
      EXPECT_EQ(wheel.Advance(kStart + kMs * deltas.back()), deltas.size());
    } else {
      for (size_t i = 0; i < deltas.size(); ++i) {
        EXPECT_EQ(wheel.Advance(kStart + kMs * (deltas[i] - 1)), 0u) << deltas[i];
        EXPECT_EQ(wheel.Advance(kStart + kMs * deltas[i]), 1u) << deltas[i];
      }
    }
    for (auto& t : timers) EXPECT_EQ(t->fired, 1);
  }
}

TEST(TimerWheelTest, TickByTickMatchesDeadlines) {
  // The non-jumping path: advance one tick at a time across several level-1
  // and one level-2 cascade, with deadlines on every tick.
  TimerWheel wheel(kStart);
  constexpr int kTicks = 9000;
  std::vector<std::unique_ptr<ActionTimer>> timers;
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    const int64_t d = 1 + static_cast<int64_t>(rng() % kTicks);
    auto t = std::make_unique<ActionTimer>();
    t->action = [&wheel, d](Instant) { EXPECT_EQ(wheel.now_tick(), d); };
    wheel.Arm(t->timer, kStart + kMs * d);
    timers.push_back(std::move(t));
  }
  size_t fired = 0;
  for (int ms = 1; ms <= kTicks; ++ms) fired += wheel.Advance(kStart + kMs * ms);
  EXPECT_EQ(fired, timers.size());
}

TEST(TimerWheelTest, HugeJumpWithNoTimersIsCheap) {
  TimerWheel wheel(kStart);
  ActionTimer a;
  wheel.Advance(kStart + Duration::Seconds(86400 * 365));  // a year of ticks
  EXPECT_EQ(wheel.now_tick(), int64_t{86400} * 365 * 1000);
  wheel.Arm(a.timer, wheel.now() + Duration::Seconds(7200));  // keepalive
  wheel.Advance(wheel.now() + Duration::Seconds(7199));
  EXPECT_EQ(a.fired, 0);
  wheel.Advance(wheel.now() + Duration::Seconds(1));
  EXPECT_EQ(a.fired, 1);
}

TEST(TimerWheelTest, InstantMaxDeadlineNeverFiresInPractice) {
  TimerWheel wheel(kStart);
  ActionTimer a;
  wheel.Arm(a.timer, Instant::FromNanos(std::numeric_limits<int64_t>::max()));
  EXPECT_TRUE(a.timer.armed());
  wheel.Advance(kStart + Duration::Seconds(86400 * 365 * 10));
  EXPECT_EQ(a.fired, 0);
  wheel.Cancel(a.timer);
}

TEST(TimerWheelTest, MillionTimersArmCancelFireWithoutAllocating) {
  constexpr size_t kCount = 1'000'000;
  auto timers = std::make_unique<ActionTimer[]>(kCount);  // allocated up front
  TimerWheel wheel(kStart);
  std::mt19937_64 rng(42);
  std::vector<int64_t> deadline(kCount);
  for (size_t i = 0; i < kCount; ++i) {
    deadline[i] = 1 + static_cast<int64_t>(rng() % (int64_t{3} * 3600 * 1000));  // <= 3 h
  }
  const size_t before = g_allocations.load();
  for (size_t i = 0; i < kCount; ++i) wheel.Arm(timers[i].timer, kStart + kMs * deadline[i]);
  for (size_t i = 0; i < kCount; i += 2) wheel.Cancel(timers[i].timer);
  for (size_t i = 0; i < kCount; i += 4) wheel.Arm(timers[i].timer, kStart + kMs * deadline[i]);
  const size_t armed = wheel.CountArmed();
  const size_t fired = wheel.Advance(kStart + Duration::Seconds(3 * 3600));
  const size_t after = g_allocations.load();
  EXPECT_EQ(after, before) << "the wheel allocated";
  EXPECT_EQ(armed, kCount / 2 + kCount / 4);
  EXPECT_EQ(fired, armed);
  EXPECT_EQ(wheel.CountArmed(), 0u);
  EXPECT_EQ(wheel.NextDeadline(), std::nullopt);
  for (size_t i = 0; i < kCount; ++i) {
    const bool should_fire = (i % 2 == 1) || (i % 4 == 0);
    ASSERT_EQ(timers[i].fired, should_fire ? 1 : 0) << i;
  }
  // The wheel's own footprint is fixed, whatever the number of timers.
  EXPECT_LE(sizeof(TimerWheel), 3000u);
}

// ---------------------------------------------------------------------------
// Randomized comparison against a reference model (a std::multimap of
// expected firing ticks). Handlers arm, re-arm and cancel timers at random,
// and the model is updated by the same calls in the same order, so the
// unspecified order within a tick does not matter: every firing is checked
// against the model at the moment it happens.

class ModelHarness {
 public:
  ModelHarness(Duration tick, uint64_t seed, size_t timers)
      : wheel_(kStart, tick), tick_(tick), rng_(seed), overdue_(timers, -1), where_(timers) {
    for (size_t i = 0; i < timers; ++i) entries_.push_back(std::make_unique<Entry>(this, i));
    in_pending_.assign(timers, false);
  }

  void Step() {
    const int op = static_cast<int>(rng_() % 10);
    const size_t id = rng_() % entries_.size();
    if (op < 5) {
      Arm(id, RandomDeadline());
    } else if (op < 6) {
      Cancel(id);
    } else {
      Advance(wheel_.now() + RandomStep());
    }
  }

  void Advance(Instant now) {
    ++advance_no_;
    advance_start_tick_ = wheel_.now_tick();
    fired_ = 0;
    const size_t n = wheel_.Advance(now);
    ASSERT_EQ(n, fired_);
    const int64_t target = std::max(advance_start_tick_, FloorTick(now));
    ASSERT_EQ(wheel_.now_tick(), target);
    if (!pending_.empty()) {
      ASSERT_GT(pending_.begin()->first, target) << "a due timer did not fire";
    }
    for (int64_t adv : overdue_) {
      if (adv >= 0) {
        ASSERT_EQ(adv, advance_no_ + 1) << "an overdue timer did not fire";
      }
    }
    CheckNextDeadline();
  }

  void CheckNextDeadline() {
    const std::optional<Instant> next = wheel_.NextDeadline();
    const bool any_overdue = std::any_of(overdue_.begin(), overdue_.end(), [](int64_t a) { return a >= 0; });
    if (any_overdue) {
      ASSERT_EQ(next, wheel_.now());
    } else if (pending_.empty()) {
      ASSERT_EQ(next, std::nullopt);
    } else {
      ASSERT_TRUE(next.has_value());
      ASSERT_LE(*next, wheel_.InstantOfTick(pending_.begin()->first)) << "NextDeadline is late";
      ASSERT_GT(*next, wheel_.now());
    }
  }

  void DrainAll() {
    Advance(wheel_.now());  // overdue ones
    while (!pending_.empty()) Advance(wheel_.InstantOfTick(pending_.rbegin()->first));
    Advance(wheel_.now());
    for (auto& e : entries_) wheel_.Cancel(e->timer);
  }

  size_t total_fired() const { return total_fired_; }
  TimerWheel& wheel() { return wheel_; }

 private:
  struct Entry final : TimerHandler {
    Entry(ModelHarness* h, size_t id) : h(h), id(id), timer(this) {}
    void OnTimer(Timer&, Instant now) override { h->OnFire(id, now); }
    ModelHarness* h;
    size_t id;
    Timer timer;
  };

  int64_t FloorTick(Instant t) const {
    const int64_t rel = (t - kStart).nanos();
    return rel <= 0 ? 0 : rel / tick_.nanos();
  }
  int64_t CeilTick(Instant t) const {
    const int64_t rel = (t - kStart).nanos();
    return rel <= 0 ? 0 : (rel + tick_.nanos() - 1) / tick_.nanos();
  }

  Duration RandomTicks(int64_t max_ticks) {
    // Whole ticks, sometimes plus a fraction of one.
    Duration d = tick_ * static_cast<int64_t>(rng_() % (max_ticks + 1));
    if (rng_() % 3 == 0) d += Duration::Nanos(static_cast<int64_t>(rng_() % tick_.nanos()));
    return d;
  }

  Instant RandomDeadline() {
    const int r = static_cast<int>(rng_() % 100);
    const Instant now = wheel_.now();
    if (r < 5) return now - RandomTicks(1000);  // in the past
    if (r < 45) return now + RandomTicks(100);
    if (r < 75) return now + RandomTicks(10'000);
    if (r < 92) return now + RandomTicks(int64_t{1} << 24);
    return now + RandomTicks(int64_t{1} << 32);  // beyond the horizon
  }

  Duration RandomStep() {
    const int r = static_cast<int>(rng_() % 100);
    if (r < 70) return RandomTicks(5);
    if (r < 95) return RandomTicks(5000);
    return RandomTicks(int64_t{1} << 31);
  }

  void ModelDisarm(size_t id) {
    overdue_[id] = -1;
    if (in_pending_[id]) {
      pending_.erase(where_[id]);
      in_pending_[id] = false;
    }
  }

  void Arm(size_t id, Instant deadline) {
    ModelDisarm(id);
    const int64_t e = CeilTick(deadline);
    if (e <= wheel_.now_tick()) {
      overdue_[id] = advance_no_ + 1;
    } else {
      where_[id] = pending_.emplace(e, id);
      in_pending_[id] = true;
    }
    wheel_.Arm(entries_[id]->timer, deadline);
    ASSERT_TRUE(entries_[id]->timer.armed());
  }

  void Cancel(size_t id) {
    ModelDisarm(id);
    wheel_.Cancel(entries_[id]->timer);
  }

  void OnFire(size_t id, Instant now) {
    ++fired_;
    ++total_fired_;
    if (overdue_[id] >= 0) {
      EXPECT_EQ(overdue_[id], advance_no_) << "overdue timer " << id;
      EXPECT_EQ(wheel_.now_tick(), advance_start_tick_) << "overdue timers fire first";
      overdue_[id] = -1;
    } else {
      ASSERT_TRUE(in_pending_[id]) << "timer " << id << " fired but is not armed";
      EXPECT_EQ(where_[id]->first, wheel_.now_tick()) << "timer " << id << " fired on the wrong tick";
      pending_.erase(where_[id]);
      in_pending_[id] = false;
    }
    // Handlers do what connections do: re-arm themselves, arm or cancel
    // others (possibly due in this very tick), arm for "now".
    const int r = static_cast<int>(rng_() % 10);
    const size_t other = rng_() % entries_.size();
    if (r < 2) {
      Arm(id, now + RandomTicks(200));
    } else if (r < 3) {
      Arm(id, now);
    } else if (r < 5) {
      Cancel(other);
    } else if (r < 7) {
      Arm(other, RandomDeadline());
    }
  }

  TimerWheel wheel_;
  Duration tick_;
  std::mt19937_64 rng_;
  std::vector<std::unique_ptr<Entry>> entries_;
  std::multimap<int64_t, size_t> pending_;  // expected tick -> timer
  std::vector<int64_t> overdue_;            // the Advance it must fire in, or -1
  std::vector<std::multimap<int64_t, size_t>::iterator> where_;
  std::vector<bool> in_pending_;
  int64_t advance_no_ = 0;
  int64_t advance_start_tick_ = 0;
  size_t fired_ = 0;
  size_t total_fired_ = 0;
};

class TimerWheelModelTest : public ::testing::TestWithParam<std::tuple<int64_t, uint64_t>> {};

TEST_P(TimerWheelModelTest, MatchesReferenceModel) {
  const auto [tick_ns, seed] = GetParam();
  ModelHarness h(Duration::Nanos(tick_ns), seed, 2000);
  for (int i = 0; i < 40'000; ++i) {
    h.Step();
    if (::testing::Test::HasFatalFailure()) return;
  }
  h.DrainAll();
  EXPECT_GT(h.total_fired(), 5000u);  // the run really exercised firing
  EXPECT_EQ(h.wheel().CountArmed(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Ticks, TimerWheelModelTest,
                         ::testing::Combine(::testing::Values(int64_t{1'000'000}, int64_t{10'000},
                                                              int64_t{7}),
                                            ::testing::Values(uint64_t{1}, uint64_t{2})));

}  // namespace
}  // namespace locus::timer
