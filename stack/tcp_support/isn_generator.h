// Initial sequence numbers per RFC 9293 §3.4.1 and RFC 6528 §3:
//
//   ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
//
// M is a clock that ticks every 4 microseconds (RFC 9293 §3.4.1), here
// derived from the Instant the caller passes in, so the generator reads no
// clock. F is SipHash-2-4 keyed with a random secret (RFC 6528 §3 asks for a
// keyed PRF such as MD5 over the tuple and a secret; SipHash is a PRF built
// for exactly this and is fast, see siphash.h).
//
// For one tuple, ISNs therefore increase with time at 250,000 per second and
// wrap every 2^32 * 4 us = 4.77 hours: an ISN is "later" (wire::SeqNum) than
// every ISN of the same tuple generated less than 2^31 * 4 us = 2.39 hours
// before it, which keeps old duplicates of a previous incarnation of the
// connection out of the new one's window (RFC 9293 §3.4.1). Different tuples
// get unrelated offsets, so an off-path attacker who sees our ISNs for its
// own connections learns nothing about anyone else's (RFC 6528 §2, §3).
//
// The secret must stay the same for the life of the process (changing it
// breaks the monotonic property per tuple); RFC 6528 §3 allows changing it
// only when that is acceptable, e.g. at a restart.
#ifndef LOCUS_STACK_TCP_SUPPORT_ISN_GENERATOR_H_
#define LOCUS_STACK_TCP_SUPPORT_ISN_GENERATOR_H_

#include <cstdint>

#include "stack/base/time.h"
#include "stack/tcp_support/ipv4_tuple.h"
#include "stack/tcp_support/siphash.h"
#include "stack/wire/seq_num.h"

namespace locus::tcp {

class IsnGenerator {
 public:
  // RFC 9293 §3.4.1: "bound to a (possibly fictitious) 32-bit clock whose
  // low-order bit is incremented roughly every 4 microseconds".
  static constexpr Duration kClockPeriod = Duration::Micros(4);

  explicit IsnGenerator(const SecretKey& key) : key_(key.siphash_key()) {}

  wire::SeqNum Generate(const Ipv4Tuple& tuple, Instant now) const;

  // The two terms, exposed for tests and diagnostics.
  static uint32_t Clock(Instant now);                 // M
  uint32_t Offset(const Ipv4Tuple& tuple) const;      // F
  // RFC 7323 §5.4 recommends a per-connection random TSval offset so that
  // timestamps reveal neither uptime nor anything about the ISN: a keyed
  // hash of the tuple under a different domain than F.
  uint32_t TimestampOffset(const Ipv4Tuple& tuple) const;

 private:
  SipHashKey key_;
};

}  // namespace locus::tcp

#endif  // LOCUS_STACK_TCP_SUPPORT_ISN_GENERATOR_H_
