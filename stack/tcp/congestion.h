// Holds the connection's congestion control algorithm inline (no heap
// allocation per connection) and hands out the common interface.
#ifndef LOCUS_STACK_TCP_CONGESTION_H_
#define LOCUS_STACK_TCP_CONGESTION_H_

#include <cstdint>
#include <variant>

#include "stack/tcp/congestion_control.h"
#include "stack/tcp/cubic.h"
#include "stack/tcp/new_reno.h"
#include "stack/tcp/tcp_types.h"

namespace locus::tcp {

class CongestionController {
 public:
  CongestionController(CongestionAlgorithm algorithm, uint32_t smss, uint32_t iw_segments) {
    Reset(algorithm, smss, iw_segments);
  }
  CongestionController(const CongestionController&) = delete;
  CongestionController& operator=(const CongestionController&) = delete;

  // Starts over with a new SMSS: called once the handshake fixed the MSS.
  void Reset(CongestionAlgorithm algorithm, uint32_t smss, uint32_t iw_segments) {
    if (algorithm == CongestionAlgorithm::kNewReno) {
      base_ = &impl_.emplace<NewReno>(smss, iw_segments);
    } else {
      base_ = &impl_.emplace<Cubic>(smss, iw_segments);
    }
  }

  CongestionControl& operator*() { return *base_; }
  CongestionControl* operator->() { return base_; }
  const CongestionControl* operator->() const { return base_; }

 private:
  std::variant<std::monostate, NewReno, Cubic> impl_;
  CongestionControl* base_ = nullptr;
};

}  // namespace locus::tcp

#endif  // LOCUS_STACK_TCP_CONGESTION_H_
