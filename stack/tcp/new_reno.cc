#include "stack/tcp/new_reno.h"

#include <algorithm>

namespace locus::tcp {

NewReno::NewReno(uint32_t smss, uint32_t iw_segments) : CongestionControl(smss, iw_segments) {}

uint32_t NewReno::SsthreshAfterLoss(Instant /*now*/, uint32_t flight_size,
                                    LossKind /*kind*/) {
  bytes_acked_ = 0;
  return flight_size / 2;  // RFC 5681 eq. 4 (the base applies the 2*SMSS floor)
}

void NewReno::GrowInCongestionAvoidance(const AckEvent& /*ack*/, uint32_t acked) {
  // RFC 5681 §3.1 (the RECOMMENDED byte-counting form, RFC 3465 §2.1):
  // once a full cwnd of bytes has been acknowledged, cwnd grows by one
  // SMSS. At most one SMSS per ACK; the count is kept below the new cwnd
  // so a huge stretch ACK cannot bank growth for later.
  uint64_t counted = uint64_t{bytes_acked_} + acked;
  if (counted >= cwnd_) {
    counted -= cwnd_;
    set_cwnd(uint64_t{cwnd_} + smss_);
  }
  bytes_acked_ = static_cast<uint32_t>(std::min<uint64_t>(counted, cwnd_ - 1));
}

void NewReno::OnIdle(Instant /*now*/) { bytes_acked_ = 0; }

}  // namespace locus::tcp
