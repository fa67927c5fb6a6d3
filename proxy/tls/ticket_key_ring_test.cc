// The generated-key schedule in virtual time, and the per-process set that
// shards pull from.
#include "proxy/tls/ticket_key_ring.h"

#include <string>

#include "gtest/gtest.h"

namespace locus::proxy::tls {
namespace {

// Keys named 1, 2, 3, ... so tests can tell them apart.
class CountingGenerator {
 public:
  std::string operator()() {
    std::string bytes(kTicketKeyBytesAes256, '\0');
    bytes[0] = static_cast<char>(++count_);
    return bytes;
  }
  int count() const { return count_; }

 private:
  int count_ = 0;
};

std::vector<int> Names(const std::vector<TicketKey>& keys) {
  std::vector<int> out;
  for (const TicketKey& k : keys) out.push_back(k.name[0]);
  return out;
}

constexpr Duration kHour = Duration::Seconds(3600);

TEST(TicketKeyRingTest, RotatesEveryIntervalKeepingTwoOldKeys) {
  TicketKeyRing ring(kHour, CountingGenerator());
  Instant t0 = Instant::Zero() + Duration::Seconds(5);
  EXPECT_TRUE(ring.keys().empty());
  EXPECT_TRUE(ring.Advance(t0));
  EXPECT_EQ(Names(ring.keys()), std::vector<int>({1}));
  EXPECT_EQ(ring.lifetime_hint(), kHour * 2);
  // Not yet due: one nanosecond before the interval ends.
  EXPECT_FALSE(ring.Advance(t0 + kHour - Duration::Nanos(1)));
  EXPECT_TRUE(ring.Advance(t0 + kHour));
  EXPECT_EQ(Names(ring.keys()), std::vector<int>({2, 1}));
  EXPECT_TRUE(ring.Advance(t0 + kHour * 2 + Duration::Seconds(1)));
  EXPECT_EQ(Names(ring.keys()), std::vector<int>({3, 2, 1}));
  // The schedule stays on t0 + k * interval despite the late call.
  EXPECT_EQ(ring.next_rotation(), t0 + kHour * 3);
  EXPECT_TRUE(ring.Advance(t0 + kHour * 3));
  // Key 1 encrypted in interval 0 and decrypted in 1 and 2; now it is gone.
  EXPECT_EQ(Names(ring.keys()), std::vector<int>({4, 3, 2}));
}

TEST(TicketKeyRingTest, LongPauseReplacesEveryKeyOnce) {
  CountingGenerator gen;
  TicketKeyRing ring(kHour, std::ref(gen));
  ring.Advance(Instant::Zero());
  EXPECT_TRUE(ring.Advance(Instant::Zero() + kHour * 100));
  EXPECT_EQ(Names(ring.keys()), std::vector<int>({4, 3, 2}));
  EXPECT_EQ(gen.count(), 4) << "bounded work, not one key per missed interval";
  EXPECT_EQ(ring.next_rotation(), Instant::Zero() + kHour * 101);
}

TEST(TicketKeyRingTest, IntervalIsClampedAndChangesKeepKeys) {
  TicketKeyRing low(kMinTicketRotation - Duration::Nanos(1), CountingGenerator());
  EXPECT_EQ(low.interval(), kMinTicketRotation);
  TicketKeyRing high(kMaxTicketRotation + Duration::Seconds(1), CountingGenerator());
  EXPECT_EQ(high.interval(), kMaxTicketRotation);

  TicketKeyRing ring(kHour, CountingGenerator());
  ring.Advance(Instant::Zero());
  ring.SetInterval(Duration::Seconds(60));
  EXPECT_EQ(Names(ring.keys()), std::vector<int>({1}));
  EXPECT_EQ(ring.next_rotation(), Instant::Zero() + Duration::Seconds(60));
}

TEST(SharedTicketKeysTest, SameSettingsSameSetNewSettingsNewGeneration) {
  SharedTicketKeys shared{CountingGenerator()};
  EXPECT_EQ(shared.generation(), 0u);
  TicketSettings generated;
  auto a = shared.Apply(generated, 1, Instant::Zero());
  auto b = shared.Apply(generated, 1, Instant::Zero() + Duration::Seconds(1));
  EXPECT_EQ(a, b) << "a second shard applying the same config shares the set";
  EXPECT_EQ(a->generation, 1u);
  EXPECT_EQ(Names(a->keys), std::vector<int>({1}));
  EXPECT_EQ(a->lifetime_seconds, 7200);

  TicketSettings explicit_keys;
  std::string bytes(kTicketKeyBytesAes128, '\x77');
  explicit_keys.keys = {*ParseTicketKey(bytes)};
  auto c = shared.Apply(explicit_keys, 2, Instant::Zero());
  // A shard still applying version 1 does not turn the keys back.
  EXPECT_EQ(shared.Apply(generated, 1, Instant::Zero()), c);
  EXPECT_EQ(c->generation, 2u);
  EXPECT_EQ(c->keys, explicit_keys.keys);
  EXPECT_EQ(shared.generation(), 2u);
  EXPECT_EQ(shared.Current(), c);
  // Explicit keys do not rotate.
  shared.MaybeRotate(Instant::Zero() + kHour * 10);
  EXPECT_EQ(shared.generation(), 2u);

  TicketSettings disabled;
  disabled.disabled = true;
  auto d = shared.Apply(disabled, 3, Instant::Zero());
  EXPECT_EQ(d->generation, 3u);
  EXPECT_TRUE(d->keys.empty());

  // Back to generated keys: the ring kept its key (tickets out keep
  // resuming) and catches up with the schedule.
  generated.rotation_interval = Duration::Seconds(600);
  auto e = shared.Apply(generated, 4, Instant::Zero() + Duration::Seconds(599));
  EXPECT_EQ(Names(e->keys), std::vector<int>({1}));
  EXPECT_EQ(e->lifetime_seconds, 1200);
}

TEST(SharedTicketKeysTest, MaybeRotatePublishesWhenDue) {
  SharedTicketKeys shared{CountingGenerator()};
  TicketSettings s;
  s.rotation_interval = Duration::Seconds(60);
  shared.Apply(s, 1, Instant::Zero());
  shared.MaybeRotate(Instant::Zero() + Duration::Seconds(59));
  EXPECT_EQ(shared.generation(), 1u);
  shared.MaybeRotate(Instant::Zero() + Duration::Seconds(60));
  EXPECT_EQ(shared.generation(), 2u);
  EXPECT_EQ(Names(shared.Current()->keys), std::vector<int>({2, 1}));
  // A second shard arriving at the same due time rotates nothing more.
  shared.MaybeRotate(Instant::Zero() + Duration::Seconds(60));
  EXPECT_EQ(shared.generation(), 2u);
}

}  // namespace
}  // namespace locus::proxy::tls
