// An L4 (TCP) proxy session: the client's connection spliced to a backend
// connection, bytes both ways with flow control, half-closes passed through.
#ifndef LOCUS_PROXY_DATAPLANE_TCP_SESSION_H_
#define LOCUS_PROXY_DATAPLANE_TCP_SESSION_H_

#include "proxy/dataplane/proxy_shard.h"

namespace locus::proxy::dataplane {

class TcpSession final : public ConnHandler,
                         public DrainableSession,
                         public timer::TimerHandler {
 public:
  TcpSession(ProxyShard& shard, ListenerRuntime& listener, tcp::Tcb* downstream);
  ~TcpSession();

  void Start(Instant now);
  void OnConnectionEvent(tcp::Tcb* tcb, uint16_t events, Instant now) override;
  void OnTimer(timer::Timer& timer, Instant now) override;
  void BeginDrain(Instant now) override { (void)now; }  // streams finish by themselves
  void ForceClose() override { Destroy(/*abort=*/false); }

 private:
  void Pump(Instant now);
  void Destroy(bool abort);

  ProxyShard& shard_;
  ListenerRuntime& listener_;
  tcp::Tcb* down_;
  PoolRuntime* pool_ = nullptr;
  UpstreamConn* up_ = nullptr;
  bool connected_ = false;
  bool down_fin_sent_ = false;
  bool up_fin_sent_ = false;
  bool closed_ = false;
  uint32_t attempts_ = 0;
  timer::Timer timer_{this};  // connect, then idle
};

}  // namespace locus::proxy::dataplane

#endif  // LOCUS_PROXY_DATAPLANE_TCP_SESSION_H_
