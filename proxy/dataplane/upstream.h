// A connection from this shard to a backend endpoint. It belongs to the
// session using it, or sits idle in its pool's keep-alive list. The local
// port was chosen so that the backend's replies come back to this shard
// (stack/engine/steered_ports.h).
#ifndef LOCUS_PROXY_DATAPLANE_UPSTREAM_H_
#define LOCUS_PROXY_DATAPLANE_UPSTREAM_H_

#include "proxy/dataplane/proxy_shard.h"
#include <memory>

#include "proxy/lb/balancer.h"
#include "proxy/tls/client_connection.h"
#include "stack/tcp/tcb.h"

namespace locus::proxy::dataplane {

class UpstreamConn final : public ConnHandler {
 public:
  // `tls` (pools with tls): the client side of TLS over `tcb`, not yet
  // handshaken; it lives as long as the connection, kept-alive included.
  UpstreamConn(ProxyShard& shard, PoolRuntime& pool, const lb::Pick& pick, tcp::Tcb* tcb,
               EndpointCounters* counters,
               std::unique_ptr<tls::TlsClientConnection> tls = nullptr);
  ~UpstreamConn();

  void OnConnectionEvent(tcp::Tcb* tcb, uint16_t events, Instant now) override;

  tcp::Tcb* tcb() const { return tcb_; }
  PoolRuntime& pool() { return pool_; }
  const lb::Pick& pick() const { return pick_; }
  const lb::EndpointKey& endpoint() const { return pick_.endpoint; }
  EndpointCounters* endpoint_counters() { return counters_; }
  bool established() const { return established_; }
  // Null: plain TCP.
  tls::TlsClientConnection* tls() const { return tls_.get(); }
  // Requests can flow: TCP established and, with TLS, the handshake done.
  // Until then a failure is a connect failure.
  bool ready() const { return established_ && (tls_ == nullptr || tls_->handshake_done()); }
  void set_owner(ConnHandler* owner) { owner_ = owner; }
  ConnHandler* owner() const { return owner_; }
  Instant idle_since() const { return idle_since_; }
  void set_idle_since(Instant t) { idle_since_ = t; }
  uint32_t requests() const { return requests_; }
  void count_request() { ++requests_; }

  // Parked in the keep-alive list (Park) or taken back for a request
  // (Unpark). The balancer counts a connection as active only while it is
  // in use: LEAST_CONNECTIONS means fewest active requests for HTTP, and an
  // idle kept-alive connection carries none.
  void Park();
  void Unpark();

  // Closes the connection (FIN, or RST when `abort`) and frees this object
  // after the batch.
  void Close(bool abort);

 private:
  ProxyShard& shard_;
  PoolRuntime& pool_;
  lb::Pick pick_;
  tcp::Tcb* tcb_;
  EndpointCounters* counters_;
  std::unique_ptr<tls::TlsClientConnection> tls_;
  ConnHandler* owner_ = nullptr;
  Instant idle_since_;
  uint32_t requests_ = 0;
  bool established_ = false;
  bool closed_ = false;
  bool counted_ = true;  // counted as active by pool_.balancer
};

}  // namespace locus::proxy::dataplane

#endif  // LOCUS_PROXY_DATAPLANE_UPSTREAM_H_
