#include "stack/tcp_support/syn_cookie.h"

#include <array>
#include <random>
#include <set>

#include "gtest/gtest.h"

namespace locus::tcp {
namespace {

using wire::Ipv4Address;
using wire::SeqNum;

SecretKey TestKey(uint8_t seed) {
  std::array<uint8_t, SecretKey::kSize> bytes;
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(seed * 17 + i * 3);
  return SecretKey::FromBytes(bytes);
}

const Ipv4Tuple kTuple{Ipv4Address::FromOctets(10, 0, 0, 1), 443,
                       Ipv4Address::FromOctets(198, 51, 100, 9), 40000};
constexpr SeqNum kClientIsn(0xfffffff0u);  // SEG.SEQ of the final ACK wraps to 0xfffffff1
constexpr Duration kSlot = SynCookies::kSlot;
// Start of slot 1000 (1000 = 0b1111101000: counter bits 000).
constexpr Instant kSlot1000 = Instant::Zero() + kSlot * 1000;

class SynCookieTest : public ::testing::Test {
 protected:
  CookieCheck CheckAck(const Ipv4Tuple& tuple, SeqNum client_isn, SeqNum cookie, Instant now) const {
    return cookies_.Check(tuple, client_isn + 1, cookie + 1, now);
  }
  SynCookies cookies_{TestKey(1)};
};

TEST_F(SynCookieTest, RoundTripsEveryMssEntry) {
  for (uint16_t mss : SynCookies::kMssTable) {
    const SynCookies::Issued issued = cookies_.Issue(kTuple, kClientIsn, mss, kSlot1000);
    EXPECT_EQ(issued.mss, mss);
    const CookieCheck check = CheckAck(kTuple, kClientIsn, issued.isn, kSlot1000 + Duration::Seconds(1));
    EXPECT_EQ(check.verdict, CookieVerdict::kValid) << mss;
    EXPECT_EQ(check.mss, mss);
  }
}

TEST_F(SynCookieTest, RoundsTheClientMssDownToTheTable) {
  const std::pair<uint16_t, uint16_t> cases[] = {
      {0, 536},      {100, 536},    {535, 536},    {536, 536},   {1299, 536},
      {1300, 1300},  {1380, 1300},  {1439, 1300},  {1440, 1440}, {1452, 1440},
      {1459, 1440},  {1460, 1460},  {1461, 1460},  {8960, 1460}, {65535, 1460},
      {SynCookies::kDefaultMss, 536},
  };
  for (const auto& [client, expected] : cases) {
    const SynCookies::Issued issued = cookies_.Issue(kTuple, kClientIsn, client, kSlot1000);
    EXPECT_EQ(issued.mss, expected) << client;
    EXPECT_EQ(CheckAck(kTuple, kClientIsn, issued.isn, kSlot1000).mss, expected) << client;
  }
}

TEST_F(SynCookieTest, AcceptsTheCurrentAndPreviousSlotOnly) {
  const Instant issued_at = kSlot1000 + Duration::Seconds(10);
  const SeqNum isn = cookies_.Issue(kTuple, kClientIsn, 1460, issued_at).isn;
  EXPECT_EQ(CheckAck(kTuple, kClientIsn, isn, issued_at).verdict, CookieVerdict::kValid);
  // Last nanosecond of the next slot: still valid (age 1).
  EXPECT_EQ(CheckAck(kTuple, kClientIsn, isn, kSlot1000 + kSlot * 2 - Duration::Nanos(1)).verdict,
            CookieVerdict::kValid);
  // First nanosecond of the slot after that: too old (age 2).
  EXPECT_EQ(CheckAck(kTuple, kClientIsn, isn, kSlot1000 + kSlot * 2).verdict, CookieVerdict::kExpired);
  for (int age = 2; age < 8; ++age) {
    EXPECT_EQ(CheckAck(kTuple, kClientIsn, isn, issued_at + kSlot * age).verdict, CookieVerdict::kExpired)
        << age;
  }
  // From the future (the clock went back, or a forgery): age 7, too old.
  EXPECT_EQ(CheckAck(kTuple, kClientIsn, isn, issued_at - kSlot).verdict, CookieVerdict::kExpired);
}

TEST_F(SynCookieTest, DoesNotComeBackWhenTheCounterBitsWrap) {
  // After 8 and 9 slots the 3 counter bits decode to age 0 and 1 again, but
  // the MAC covers the full counter.
  const SeqNum isn = cookies_.Issue(kTuple, kClientIsn, 1460, kSlot1000).isn;
  for (int slots : {8, 9, 16, 17, 800, 801}) {
    EXPECT_EQ(CheckAck(kTuple, kClientIsn, isn, kSlot1000 + kSlot * slots).verdict, CookieVerdict::kBadMac)
        << slots;
  }
}

TEST_F(SynCookieTest, AcceptsAcrossTheCounterBitsWraparound) {
  // Issued in a slot whose counter bits are 111, checked in the next (000).
  for (int64_t slot : {int64_t{7}, int64_t{1007}, int64_t{0x7ffffff}}) {
    const Instant last_of_slot = Instant::Zero() + kSlot * (slot + 1) - Duration::Nanos(1);
    ASSERT_EQ(SynCookies::Counter(last_of_slot) & 7, 7u);
    const SeqNum isn = cookies_.Issue(kTuple, kClientIsn, 1300, last_of_slot).isn;
    const CookieCheck check = CheckAck(kTuple, kClientIsn, isn, last_of_slot + Duration::Nanos(1));
    EXPECT_EQ(check.verdict, CookieVerdict::kValid) << slot;
    EXPECT_EQ(check.mss, 1300);
    EXPECT_EQ(CheckAck(kTuple, kClientIsn, isn, last_of_slot + kSlot + Duration::Nanos(1)).verdict,
              CookieVerdict::kExpired);
  }
}

TEST_F(SynCookieTest, CounterIsFloorOfSixtyFourSecondSlots) {
  EXPECT_EQ(SynCookies::Counter(Instant::Zero()), 0u);
  EXPECT_EQ(SynCookies::Counter(Instant::Zero() + kSlot - Duration::Nanos(1)), 0u);
  EXPECT_EQ(SynCookies::Counter(Instant::Zero() + kSlot), 1u);
  EXPECT_EQ(SynCookies::Counter(Instant::FromNanos(-1)), 0xffffffffu);
  // Still valid across zero: issued at -1 ns (counter ...111), checked at 0.
  const SeqNum isn = cookies_.Issue(kTuple, kClientIsn, 536, Instant::FromNanos(-1)).isn;
  EXPECT_EQ(CheckAck(kTuple, kClientIsn, isn, Instant::Zero()).verdict, CookieVerdict::kValid);
}

TEST_F(SynCookieTest, RejectsWrongTupleClientIsnOrKey) {
  const SeqNum isn = cookies_.Issue(kTuple, kClientIsn, 1460, kSlot1000).isn;
  ASSERT_EQ(CheckAck(kTuple, kClientIsn, isn, kSlot1000).verdict, CookieVerdict::kValid);
  std::vector<Ipv4Tuple> wrong;
  Ipv4Tuple t = kTuple;
  t.local_ip = Ipv4Address(t.local_ip.value() ^ 1);
  wrong.push_back(t);
  t = kTuple;
  t.local_port ^= 1;
  wrong.push_back(t);
  t = kTuple;
  t.remote_ip = Ipv4Address(t.remote_ip.value() ^ 0x80000000u);
  wrong.push_back(t);
  t = kTuple;
  t.remote_port ^= 0x8000;
  wrong.push_back(t);
  wrong.push_back(Ipv4Tuple{kTuple.remote_ip, kTuple.remote_port, kTuple.local_ip, kTuple.local_port});
  for (const Ipv4Tuple& w : wrong) {
    EXPECT_NE(CheckAck(w, kClientIsn, isn, kSlot1000).verdict, CookieVerdict::kValid);
  }
  EXPECT_NE(CheckAck(kTuple, kClientIsn + 1, isn, kSlot1000).verdict, CookieVerdict::kValid);
  EXPECT_NE(CheckAck(kTuple, kClientIsn - 1, isn, kSlot1000).verdict, CookieVerdict::kValid);
  SynCookies other(TestKey(2));
  EXPECT_NE(other.Check(kTuple, kClientIsn + 1, isn + 1, kSlot1000).verdict, CookieVerdict::kValid);
}

TEST_F(SynCookieTest, EverySingleBitFlipIsRejected) {
  const SeqNum isn = cookies_.Issue(kTuple, kClientIsn, 1440, kSlot1000).isn;
  for (int bit = 0; bit < 32; ++bit) {
    const SeqNum flipped(isn.raw() ^ (1u << bit));
    EXPECT_NE(CheckAck(kTuple, kClientIsn, flipped, kSlot1000).verdict, CookieVerdict::kValid) << bit;
  }
  for (int delta = -1000; delta <= 1000; ++delta) {
    if (delta == 0) continue;
    EXPECT_NE(CheckAck(kTuple, kClientIsn, isn + static_cast<uint32_t>(delta), kSlot1000).verdict,
              CookieVerdict::kValid)
        << delta;
  }
}

TEST_F(SynCookieTest, ExactlyEightAckValuesAreValidPerSynAndTime) {
  // For one tuple, client ISN and time, the valid cookies are one per
  // (age in {0, 1}) x (MSS index): 8 of 2^32, i.e. 2^-29 for a uniformly
  // random guess. Construct all 8 and check they are distinct and accepted;
  // every other value fails either the age or the 27-bit MAC comparison.
  const Instant now = kSlot1000 + kSlot + Duration::Seconds(5);
  std::set<uint32_t> valid;
  for (Instant issued : {now, now - kSlot}) {
    for (uint16_t mss : SynCookies::kMssTable) {
      const SeqNum isn = cookies_.Issue(kTuple, kClientIsn, mss, issued).isn;
      EXPECT_EQ(CheckAck(kTuple, kClientIsn, isn, now).verdict, CookieVerdict::kValid);
      valid.insert(isn.raw());
    }
  }
  EXPECT_EQ(valid.size(), 8u);
}

TEST_F(SynCookieTest, ForgedRandomAcksAreRejected) {
  // 1 M random final ACKs (random tuple, SEG.SEQ and SEG.ACK): each is
  // accepted with probability 2^-29, so the expected number of accepts is
  // 0.002. The seed is fixed, so the result is deterministic: none.
  std::mt19937_64 rng(0x5eed);
  constexpr int kTrials = 1'000'000;
  int accepted = 0, expired = 0;
  for (int i = 0; i < kTrials; ++i) {
    const uint64_t r1 = rng(), r2 = rng();
    const Ipv4Tuple t{Ipv4Address(static_cast<uint32_t>(r1)), static_cast<uint16_t>(r1 >> 32),
                      Ipv4Address(static_cast<uint32_t>(r2)), static_cast<uint16_t>(r2 >> 32)};
    const uint64_t r3 = rng();
    const CookieCheck c =
        cookies_.Check(t, SeqNum(static_cast<uint32_t>(r3)), SeqNum(static_cast<uint32_t>(r3 >> 32)), kSlot1000);
    accepted += c.verdict == CookieVerdict::kValid;
    expired += c.verdict == CookieVerdict::kExpired;
  }
  EXPECT_EQ(accepted, 0);
  // The age test alone rejects 6/8 of random values (sd ~433): the pad makes
  // the decoded counter bits uniform.
  EXPECT_NEAR(expired, kTrials * 0.75, 3000);
  RecordProperty("false_accepts_per_1M", accepted);
}

TEST_F(SynCookieTest, ForgedAcksForAKnownSynAreRejected) {
  // The attacker knows the tuple and the client ISN (it spoofed the SYN) and
  // guesses the cookie.
  std::mt19937 rng(77);
  int accepted = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    accepted += CheckAck(kTuple, kClientIsn, SeqNum(static_cast<uint32_t>(rng())), kSlot1000).verdict ==
                CookieVerdict::kValid;
  }
  EXPECT_EQ(accepted, 0);
}

TEST(CookieTimestampTest, RoundTripsEveryOptionCombination) {
  for (int ws = -1; ws <= 14; ++ws) {
    for (bool sack : {false, true}) {
      CookieOptions in;
      if (ws >= 0) in.window_scale = static_cast<uint8_t>(ws);
      in.sack_permitted = sack;
      for (uint32_t ts_now : {0u, 5u, 31u, 32u, 1000u, 0x7fffffffu, 0xffffffe0u, 0xffffffffu}) {
        const uint32_t tsval = EncodeCookieTsval(ts_now, in);
        // Never ahead of our clock and at most 31 behind (modulo 2^32).
        EXPECT_LT(ts_now - tsval, 32u) << ts_now << " " << tsval;
        const CookieOptions out = DecodeCookieTsecr(tsval);
        EXPECT_EQ(out.window_scale, in.window_scale);
        EXPECT_EQ(out.sack_permitted, in.sack_permitted);
      }
    }
  }
}

TEST(CookieTimestampTest, ClampsWindowScaleToFourteen) {
  CookieOptions in;
  in.window_scale = 200;
  EXPECT_EQ(DecodeCookieTsecr(EncodeCookieTsval(12345, in)).window_scale, std::optional<uint8_t>(14));
}

TEST(CookieTimestampTest, KeepsTsvalWhenTheLowBitsAlreadyMatch) {
  CookieOptions in;  // no window scale, no SACK: bits 01111
  EXPECT_EQ(EncodeCookieTsval(0x1234560f, in), 0x1234560fu);
  EXPECT_EQ(EncodeCookieTsval(0x1234561f, in), 0x1234560fu);
  EXPECT_EQ(EncodeCookieTsval(0x1234560e, in), 0x123455efu);
}

}  // namespace
}  // namespace locus::tcp
