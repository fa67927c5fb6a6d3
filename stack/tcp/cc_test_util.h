// Drives a CongestionControl through whole rounds of ACKs, as a sender that
// always fills cwnd would see them.
#ifndef LOCUS_STACK_TCP_CC_TEST_UTIL_H_
#define LOCUS_STACK_TCP_CC_TEST_UTIL_H_

#include <cstdint>

#include "stack/base/time.h"
#include "stack/tcp/congestion_control.h"

namespace locus::tcp::testing {

// One round trip: the window in flight at the start of the round (cwnd) is
// acknowledged by ACKs of `bytes_per_ack` spread evenly over `rtt`, ending at
// *now + rtt. Advances *now by rtt.
inline void AckOneRound(CongestionControl& cc, Instant* now, Duration rtt,
                        uint32_t bytes_per_ack, bool cwnd_limited = true) {
  const uint32_t flight = cc.cwnd();
  const uint32_t acks = (flight + bytes_per_ack - 1) / bytes_per_ack;
  uint32_t left = flight;
  for (uint32_t i = 1; i <= acks; ++i) {
    AckEvent ack;
    ack.now = *now + rtt * i / acks;
    ack.srtt = rtt;
    ack.acked_bytes = left < bytes_per_ack ? left : bytes_per_ack;
    ack.cwnd_limited = cwnd_limited;
    left -= ack.acked_bytes;
    cc.OnAck(ack);
  }
  *now += rtt;
}

inline AckEvent Ack(Instant now, uint32_t bytes, Duration srtt = Duration::Millis(100),
                    bool cwnd_limited = true) {
  AckEvent ack;
  ack.now = now;
  ack.srtt = srtt;
  ack.acked_bytes = bytes;
  ack.cwnd_limited = cwnd_limited;
  return ack;
}

}  // namespace locus::tcp::testing

#endif  // LOCUS_STACK_TCP_CC_TEST_UTIL_H_
