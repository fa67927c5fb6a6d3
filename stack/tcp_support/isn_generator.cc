#include "stack/tcp_support/isn_generator.h"

namespace locus::tcp {
namespace {

// Domain separation: the same secret may also key SYN cookies, whose inputs
// start with a different byte.
constexpr uint8_t kIsnDomain = 'I';
constexpr uint8_t kTimestampDomain = 'T';

}  // namespace

uint32_t IsnGenerator::Clock(Instant now) {
  // Floor division, so the clock is monotonic across zero too; reduced
  // modulo 2^32 by the conversion.
  const int64_t period = kClockPeriod.nanos();
  int64_t ticks = now.nanos() / period;
  if (now.nanos() % period < 0) --ticks;
  return static_cast<uint32_t>(ticks);
}

uint32_t IsnGenerator::Offset(const Ipv4Tuple& tuple) const {
  uint8_t message[1 + Ipv4Tuple::kEncodedSize];
  message[0] = kIsnDomain;
  tuple.Encode(message + 1);
  return static_cast<uint32_t>(SipHash24(key_, message));
}

uint32_t IsnGenerator::TimestampOffset(const Ipv4Tuple& tuple) const {
  uint8_t message[1 + Ipv4Tuple::kEncodedSize];
  message[0] = kTimestampDomain;
  tuple.Encode(message + 1);
  return static_cast<uint32_t>(SipHash24(key_, message));
}

wire::SeqNum IsnGenerator::Generate(const Ipv4Tuple& tuple, Instant now) const {
  return wire::SeqNum(Clock(now)) + Offset(tuple);
}

}  // namespace locus::tcp
