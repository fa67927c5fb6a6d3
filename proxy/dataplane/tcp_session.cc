#include "proxy/dataplane/tcp_session.h"

#include "proxy/dataplane/upstream.h"
#include "proxy/http/proxy_protocol.h"
#include "proxy/lb/hash.h"

namespace locus::proxy::dataplane {

namespace {
// Connect attempts per session: the first, and one more toward another
// endpoint when the connect fails.
constexpr uint32_t kMaxConnectAttempts = 2;
}  // namespace

TcpSession::TcpSession(ProxyShard& shard, ListenerRuntime& listener, tcp::Tcb* downstream)
    : shard_(shard), listener_(listener), down_(downstream) {
  down_->set_user_data(static_cast<ConnHandler*>(this));
  down_->set_nodelay(true);
  ++listener_.sessions;
  listener_.live.insert(this);
  if (listener_.gauge != nullptr) Bump(listener_.gauge->active);
  Bump(shard_.counters().active_connections);
  Bump(shard_.counters().tunnels);
}

TcpSession::~TcpSession() {
  shard_.timers().Cancel(timer_);
  listener_.live.erase(this);
  if (listener_.gauge != nullptr) Drop(listener_.gauge->active);
  Drop(shard_.counters().active_connections);
  if (pool_ != nullptr) shard_.ReleasePoolUser(pool_);
  shard_.OnSessionClosed(&listener_);
}

void TcpSession::Start(Instant now) {
  if (pool_ == nullptr) {
    const CompiledConfig* config = shard_.config();
    pool_ = config == nullptr ? nullptr : shard_.pool_by_name(listener_.config.pool);
    if (pool_ == nullptr) {
      Destroy(/*abort=*/true);
      return;
    }
    ++pool_->users;
  }
  std::optional<uint64_t> hash;
  if (pool_->config.lb_policy == lb::LbPolicy::kMaglev ||
      pool_->config.lb_policy == lb::LbPolicy::kRingHash) {
    hash = lb::HashClientIp(down_->tuple().remote_ip);
  }
  lb::Pick pick = pool_->balancer.Choose(hash, shard_.rng());
  if (!pick.ok()) {
    Bump(shard_.counters().no_healthy_upstream);
    Destroy(/*abort=*/true);
    return;
  }
  ++attempts_;
  bool reused = false;
  // L4 sessions never share a backend connection.
  up_ = shard_.AcquireUpstream(*pool_, pick, this, now, &reused);
  if (up_ == nullptr) {
    Bump(shard_.counters().upstream_connect_failures);
    Destroy(/*abort=*/true);
    return;
  }
  if (EndpointCounters* c = up_->endpoint_counters()) Bump(c->requests);
  if (listener_.config.proxy_protocol != ProxyProtocolVersion::kNone) {
    http::ProxiedConnection conn{down_->tuple().remote_ip, down_->tuple().local_ip,
                                 down_->tuple().remote_port, down_->tuple().local_port};
    if (listener_.config.proxy_protocol == ProxyProtocolVersion::kV1) {
      http::ProxyV1Header header{conn};
      char buf[http::kProxyV1MaxLength];
      header.Emit(std::span<char>(buf, header.length()));
      up_->tcb()->Write({reinterpret_cast<const uint8_t*>(buf), header.length()});
    } else {
      http::ProxyV2Header header{false, conn};
      uint8_t buf[64];
      header.Emit(std::span<uint8_t>(buf, header.length()));
      up_->tcb()->Write({buf, header.length()});
    }
  }
  shard_.timers().Arm(timer_, now + pool_->upstream.connect_timeout);
}

void TcpSession::OnConnectionEvent(tcp::Tcb* tcb, uint16_t events, Instant now) {
  if (closed_) return;
  bool is_up = up_ != nullptr && tcb == up_->tcb();
  if (is_up && (events & tcp::kEventConnected)) connected_ = true;
  if (events & tcp::kEventClosed) {
    if (is_up && !connected_) {
      // Connect failed: report it and try once more elsewhere.
      shard_.ReportOutcome(*pool_, up_->endpoint(), 2);
      Bump(shard_.counters().upstream_connect_failures);
      if (EndpointCounters* c = up_->endpoint_counters()) Bump(c->connect_failures);
      UpstreamConn* up = up_;
      up_ = nullptr;
      up->set_owner(nullptr);
      up->Close(/*abort=*/true);
      if (attempts_ < kMaxConnectAttempts) {
        Start(now);
      } else {
        Destroy(/*abort=*/true);
      }
      return;
    }
    // A reset on either side ends both.
    Destroy(/*abort=*/true);
    return;
  }
  Pump(now);
}

void TcpSession::Pump(Instant now) {
  if (closed_ || up_ == nullptr) return;
  tcp::Tcb* up = up_->tcb();
  if (connected_) {
    size_t sent = down_->Splice(*up);
    size_t received = up->Splice(*down_);
    Bump(shard_.counters().bytes_sent, sent);
    Bump(shard_.counters().bytes_received, received);
    // Half-closes pass through once everything before them has.
    if (up->peer_closed() && up->readable() == 0 && !down_fin_sent_) {
      down_->Shutdown();
      down_fin_sent_ = true;
    }
    if (down_->peer_closed() && down_->readable() == 0 && !up_fin_sent_) {
      up->Shutdown();
      up_fin_sent_ = true;
    }
    if (down_fin_sent_ && up_fin_sent_) {
      Destroy(/*abort=*/false);
      return;
    }
    Duration idle = listener_.config.limits.idle_timeout;
    if (idle > Duration::Zero()) shard_.timers().Arm(timer_, now + idle);
  }
}

void TcpSession::OnTimer(timer::Timer&, Instant now) {
  if (closed_) return;
  if (!connected_ && up_ != nullptr) {
    shard_.ReportOutcome(*pool_, up_->endpoint(), 2);
    Bump(shard_.counters().upstream_timeouts);
  }
  Destroy(/*abort=*/!connected_);
  (void)now;
}

void TcpSession::Destroy(bool abort) {
  if (closed_) return;
  closed_ = true;
  shard_.timers().Cancel(timer_);
  if (up_ != nullptr) {
    UpstreamConn* up = up_;
    up_ = nullptr;
    up->set_owner(nullptr);
    up->Close(abort);
  }
  down_->set_user_data(nullptr);
  if (abort) {
    down_->Abort();
  } else {
    down_->Close();
  }
  shard_.Defer(this);
}

}  // namespace locus::proxy::dataplane
