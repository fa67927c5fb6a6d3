#include "proxy/dataplane/upstream.h"

#include <algorithm>

#include "proxy/tls/transport.h"

namespace locus::proxy::dataplane {

UpstreamConn::UpstreamConn(ProxyShard& shard, PoolRuntime& pool, const lb::Pick& pick,
                           tcp::Tcb* tcb, EndpointCounters* counters,
                           std::unique_ptr<tls::TlsClientConnection> tls)
    : shard_(shard),
      pool_(pool),
      pick_(pick),
      tcb_(tcb),
      counters_(counters),
      tls_(std::move(tls)) {
  tcb_->set_user_data(static_cast<ConnHandler*>(this));
  pool_.balancer.OnConnectionOpened(pick_);
  ++pool_.users;
  if (counters_ != nullptr) Bump(counters_->active_connections);
}

UpstreamConn::~UpstreamConn() { shard_.ReleasePoolUser(&pool_); }

void UpstreamConn::Park() {
  if (!counted_) return;
  counted_ = false;
  pool_.balancer.OnConnectionClosed(pick_);
}

void UpstreamConn::Unpark() {
  if (counted_ || closed_) return;
  counted_ = true;
  pool_.balancer.OnConnectionOpened(pick_);
}

void UpstreamConn::Close(bool abort) {
  if (closed_) return;
  closed_ = true;
  if (counted_) pool_.balancer.OnConnectionClosed(pick_);
  counted_ = false;
  if (counters_ != nullptr) Drop(counters_->active_connections);
  tcb_->set_user_data(nullptr);
  if (!abort && tls_ != nullptr && tls_->handshake_done()) {
    // close_notify before the FIN (RFC 8446 §6.1), as far as the send
    // buffer takes it now: a backend must not mistake our close for a
    // truncation.
    tls_->Shutdown();
    tls::PushCiphertext(*tls_, *tcb_);
  }
  if (abort) {
    tcb_->Abort();
  } else {
    tcb_->Close();
  }
  tcb_ = nullptr;
  owner_ = nullptr;
  shard_.Defer(this);
}

void UpstreamConn::OnConnectionEvent(tcp::Tcb* tcb, uint16_t events, Instant now) {
  if (events & tcp::kEventConnected) established_ = true;
  if (owner_ != nullptr) {
    owner_->OnConnectionEvent(tcb, events, now);
    return;
  }
  // Idle in the keep-alive pool: anything but silence (the backend closed,
  // reset, or sent bytes nobody asked for) ends it.
  auto it = pool_.idle.find(pick_.endpoint);
  if (it != pool_.idle.end()) {
    std::deque<UpstreamConn*>& list = it->second;
    list.erase(std::remove(list.begin(), list.end(), this), list.end());
    Drop(shard_.counters().upstream_idle);
  }
  Close(/*abort=*/(events & tcp::kEventClosed) == 0 && tcb->readable() > 0);
}

}  // namespace locus::proxy::dataplane
