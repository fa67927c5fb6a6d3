#include "proxy/dataplane/health_probe.h"

#include "proxy/health/http_check.h"

namespace locus::proxy::dataplane {

HealthProbe::HealthProbe(ProxyShard& shard, uint32_t pool_id, uint64_t config_version,
                         health::ProbeTicket ticket, const health::HealthCheckConfig& check,
                         lb::EndpointKey endpoint)
    : shard_(shard),
      pool_id_(pool_id),
      config_version_(config_version),
      ticket_(ticket),
      check_(check),
      endpoint_(endpoint) {}

HealthProbe::~HealthProbe() { shard_.timers().Cancel(timer_); }

void HealthProbe::Start(Instant now) {
  Bump(shard_.counters().health_probes);
  absl::StatusOr<tcp::Tcb*> tcb = shard_.tcp().Connect(
      shard_.shard().stack().interface().address, endpoint_.ip, endpoint_.port, now);
  if (!tcb.ok()) {
    Finish(false, now);
    return;
  }
  tcb_ = *tcb;
  tcb_->set_user_data(static_cast<ConnHandler*>(this));
  if (check_.kind == health::CheckKind::kHttp) {
    std::string request = health::BuildHttpCheckRequest(check_, endpoint_.ip.ToString());
    tcb_->Write({reinterpret_cast<const uint8_t*>(request.data()), request.size()});
  }
  shard_.timers().Arm(timer_, now + check_.timeout);
}

void HealthProbe::OnConnectionEvent(tcp::Tcb* tcb, uint16_t events, Instant now) {
  if (done_) return;
  if (check_.kind == health::CheckKind::kTcp) {
    // A completed handshake is the whole check.
    if (events & tcp::kEventConnected) {
      Finish(true, now);
    } else if (events & tcp::kEventClosed) {
      Finish(false, now);
    }
    return;
  }
  while (tcb->readable() > 0 && received_.size() < kMaxProbeResponse) {
    std::span<const uint8_t> front = tcb->Peek();
    size_t take = std::min(front.size(), kMaxProbeResponse - received_.size());
    received_.append(reinterpret_cast<const char*>(front.data()), take);
    tcb->Consume(take);
  }
  health::HttpCheckVerdict verdict =
      health::EvaluateHttpCheckResponse(received_, check_.expected_status);
  if (verdict == health::HttpCheckVerdict::kPassed) {
    Finish(true, now);
  } else if (verdict != health::HttpCheckVerdict::kNeedMore ||
             (events & tcp::kEventClosed) || tcb->peer_closed() ||
             received_.size() >= kMaxProbeResponse) {
    Finish(false, now);
  }
}

void HealthProbe::OnTimer(timer::Timer&, Instant now) { Finish(false, now); }

void HealthProbe::Finish(bool passed, Instant now) {
  if (done_) return;
  done_ = true;
  shard_.timers().Cancel(timer_);
  if (!passed) Bump(shard_.counters().health_probe_failures);
  if (tcb_ != nullptr) {
    tcb_->set_user_data(nullptr);
    // A check connection carries nothing worth a graceful close.
    if (tcb_->state() == tcp::TcpState::kEstablished && tcb_->readable() == 0) {
      tcb_->Close();
    } else {
      tcb_->Abort();
    }
    tcb_ = nullptr;
  }
  shard_.OnProbeDone(pool_id_, config_version_, ticket_, passed, now);
  shard_.Defer(this);
}

}  // namespace locus::proxy::dataplane
