// One active health check (TCP connect, or HTTP GET with an expected
// status) run by the health owner (shard 0) over its own user-level TCP,
// so the check takes the same path as the traffic it vouches for.
#ifndef LOCUS_PROXY_DATAPLANE_HEALTH_PROBE_H_
#define LOCUS_PROXY_DATAPLANE_HEALTH_PROBE_H_

#include <string>

#include "proxy/dataplane/proxy_shard.h"
#include "proxy/health/active_checker.h"
#include "proxy/health/config.h"

namespace locus::proxy::dataplane {

// Bytes of an HTTP check response read before giving a verdict.
inline constexpr size_t kMaxProbeResponse = 4096;

class HealthProbe final : public ConnHandler, public timer::TimerHandler {
 public:
  HealthProbe(ProxyShard& shard, uint32_t pool_id, uint64_t config_version,
              health::ProbeTicket ticket, const health::HealthCheckConfig& check,
              lb::EndpointKey endpoint);
  ~HealthProbe();

  void Start(Instant now);
  void OnConnectionEvent(tcp::Tcb* tcb, uint16_t events, Instant now) override;
  void OnTimer(timer::Timer& timer, Instant now) override;

 private:
  void Finish(bool passed, Instant now);

  ProxyShard& shard_;
  uint32_t pool_id_;
  uint64_t config_version_;
  health::ProbeTicket ticket_;
  health::HealthCheckConfig check_;
  lb::EndpointKey endpoint_;
  tcp::Tcb* tcb_ = nullptr;
  std::string received_;
  bool done_ = false;
  timer::Timer timer_{this};
};

}  // namespace locus::proxy::dataplane

#endif  // LOCUS_PROXY_DATAPLANE_HEALTH_PROBE_H_
