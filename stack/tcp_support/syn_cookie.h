// Stateless SYN cookies (RFC 4987 §3.6): under a SYN flood the listener
// answers a SYN without keeping any state and encodes what it must remember
// in its ISN; the client's final ACK (SEG.ACK = ISN + 1) brings it back.
//
// The 32-bit cookie is P XOR pad, where
//
//   P   = counter mod 8 (bits 31-29) | MSS index (bits 28-27) | MAC (bits 26-0)
//   pad = SipHash(key, 'P' | tuple | client ISN), low 32 bits
//   MAC = SipHash(key, 'C' | tuple | client ISN | counter | MSS index), low 27 bits
//   counter = floor(now / 64 s), 32 bits
//
// * The MAC binds the cookie to the 4-tuple, to the client's ISN (so it is
//   valid only for the SYN it answers, and the final ACK's SEG.SEQ - 1 must
//   match), to the full time counter (so a cookie does not come back to life
//   when the 3 counter bits wrap after 8 slots) and to the MSS index.
// * The pad hides the counter and the MSS index from observers (Linux hides
//   them the same way, by adding a keyed hash) and makes every bit of a
//   forged ACK count: a random value passes only if its decoded age is
//   acceptable (2 of 8 values) and its 27 MAC bits match, so the
//   false-accept probability per guess is 2/8 * 2^-27 = 2^-29 (exactly: 8
//   of the 2^32 possible ACK numbers are valid for a tuple, client ISN and
//   time, one per age and MSS index). syn_cookie_test checks 1 M random
//   ACKs (none accepted); syn_cookie_false_accept measured 10 accepts in
//   3 x 2^31 random ACKs under 3 random keys: 1.6e-9 = 2^-29.3, exact
//   Poisson 95% upper bound 2.6e-9 = 2^-28.5.
// * Age: a cookie is accepted in the slot it was issued in and in the next
//   one (kMaxAgeSlots = 1), i.e. for at least 64 s and at most 128 s. The
//   final ACK arrives one RTT after the SYN-ACK; the slack covers a lost
//   final ACK whose role is taken by the client's first data segment. Linux
//   uses the same window (MAX_SYNCOOKIE_AGE with 60-s slots).
//
// What is lost: the cookie carries only the MSS (rounded down to a table
// entry). Window scale and SACK-permitted survive only when the client uses
// timestamps (RFC 7323), through EncodeCookieTsval / DecodeCookieTsecr below,
// as in Linux; without timestamps the connection runs with no window scaling
// (a 64 KiB window) and no SACK. The SYN-ACK is not retransmitted (no state),
// and ISNs from cookies are not monotonic per tuple as RFC 9293 §3.4.1 would
// have them; RFC 4987 §3.6 accepts both.
#ifndef LOCUS_STACK_TCP_SUPPORT_SYN_COOKIE_H_
#define LOCUS_STACK_TCP_SUPPORT_SYN_COOKIE_H_

#include <array>
#include <cstdint>
#include <optional>

#include "stack/base/time.h"
#include "stack/tcp_support/ipv4_tuple.h"
#include "stack/tcp_support/siphash.h"
#include "stack/wire/seq_num.h"

namespace locus::tcp {

// Why a final ACK was refused; the caller counts these.
enum class CookieVerdict : uint8_t {
  kValid,
  kExpired,  // decodes to an age outside the window (or is forged)
  kBadMac,   // forged, wrong tuple, wrong client ISN, or issued under another key
};

struct CookieCheck {
  CookieVerdict verdict = CookieVerdict::kBadMac;
  uint16_t mss = 0;  // the MSS the cookie carried; valid only with kValid
};

class SynCookies {
 public:
  // MSS values a cookie can carry (2 bits). Linux's IPv4 msstab, chosen from
  // the 2011 survey by Alcock and Nelson ("An Analysis of TCP Maximum
  // Segment Sizes"): 1460 (Ethernet) is the most common value by far;
  // 1440 covers PPPoE (1452) and VPN/tunnel MSS just under it; 1300 covers
  // the 15-20% announced in 1300-1349 by tunnels and MSS clamping; 536 is
  // the IPv4 default (RFC 9293 §3.7.1) for everything smaller. A client's MSS
  // is rounded down to the nearest entry, costing at most a few percent of
  // throughput. (1220, the IPv6 minimum, belongs in an IPv6 table.)
  static constexpr std::array<uint16_t, 4> kMssTable = {536, 1300, 1440, 1460};
  // RFC 9293 §3.7.1: the send MSS when the SYN has no MSS option.
  static constexpr uint16_t kDefaultMss = 536;

  static constexpr Duration kSlot = Duration::Seconds(64);
  static constexpr uint32_t kMaxAgeSlots = 1;

  static constexpr int kCounterBits = 3;
  static constexpr int kMssBits = 2;
  static constexpr int kMacBits = 32 - kCounterBits - kMssBits;  // 27
  static_assert(kMssTable.size() == (1u << kMssBits));
  static_assert(kMaxAgeSlots < (1u << kCounterBits) / 2, "age must be unambiguous");

  explicit SynCookies(const SecretKey& key) : key_(key.siphash_key()) {}

  struct Issued {
    wire::SeqNum isn;  // our ISN for the SYN-ACK
    uint16_t mss;      // the table entry encoded; the send MSS to use
  };
  // For a SYN on `tuple` with SEG.SEQ `client_isn` and MSS option
  // `client_mss` (kDefaultMss when absent). A client MSS below 536 is
  // rounded up to 536, as in Linux: IPv4 hosts must accept 576-byte
  // datagrams (RFC 791), so this costs fragmentation at worst.
  Issued Issue(const Ipv4Tuple& tuple, wire::SeqNum client_isn, uint16_t client_mss,
               Instant now) const;

  // For the final ACK of the handshake: SEG.ACK - 1 must be a cookie issued
  // for this tuple and for client ISN SEG.SEQ - 1, no older than the window.
  CookieCheck Check(const Ipv4Tuple& tuple, wire::SeqNum seg_seq, wire::SeqNum seg_ack,
                    Instant now) const;

  // floor(now / kSlot), reduced to 32 bits (never wraps for Instants that fit
  // in int64 nanoseconds).
  static uint32_t Counter(Instant now);

 private:
  uint32_t Pad(const Ipv4Tuple& tuple, uint32_t client_isn) const;
  uint32_t Mac(const Ipv4Tuple& tuple, uint32_t client_isn, uint32_t counter,
               uint32_t mss_index) const;

  SipHashKey key_;
};

// TCP options a cookie cannot carry, kept in the low bits of our TSval
// (RFC 7323 §3) when the client's SYN had the timestamps option. The client
// echoes TSval as TSecr, so the final ACK brings them back.
struct CookieOptions {
  // The shift count of the client's window scale option (RFC 7323 §2.3,
  // 0..14), or nullopt when the SYN had none.
  std::optional<uint8_t> window_scale;
  bool sack_permitted = false;  // RFC 2018 §2
};

// Low 5 bits: window scale (0-14, 15 = none) and SACK-permitted (bit 4).
inline constexpr int kCookieTsBits = 5;

// Our TSval for a cookie SYN-ACK: `ts_now` with its low kCookieTsBits bits
// replaced by the options, moved back by 2^kCookieTsBits if that would be
// later than ts_now, so TSval never runs ahead of our timestamp clock (at
// most 31 units behind). A window scale above 14 is clamped to 14 (RFC 7323
// §2.3).
uint32_t EncodeCookieTsval(uint32_t ts_now, const CookieOptions& options);

// The options from the final ACK's TSecr (call only when that ACK has a
// timestamps option). These bits are not authenticated, as in Linux: only
// the client could change them, and it could have sent other options in its
// SYN anyway. Never fails: every 5-bit value is a valid encoding.
CookieOptions DecodeCookieTsecr(uint32_t tsecr);

}  // namespace locus::tcp

#endif  // LOCUS_STACK_TCP_SUPPORT_SYN_COOKIE_H_
