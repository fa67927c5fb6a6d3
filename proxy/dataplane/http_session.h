// One downstream HTTP/1.1 connection (RFC 9110, 9112): requests are parsed
// strictly, routed, load balanced and forwarded one at a time (pipelined
// requests wait their turn, so answers come back in order), responses are
// streamed back with flow control in both directions, and Upgrade tunnels
// turn into byte splicing.
#ifndef LOCUS_PROXY_DATAPLANE_HTTP_SESSION_H_
#define LOCUS_PROXY_DATAPLANE_HTTP_SESSION_H_

#include <memory>
#include <optional>
#include <string>

#include "proxy/dataplane/proxy_shard.h"
#include "proxy/http/forward.h"
#include "proxy/http/http_parser.h"
#include "proxy/route/method.h"
#include "proxy/tls/server_connection.h"
#include "stack/tcp/tcb.h"

namespace locus::proxy::dataplane {

// Bytes of a request kept for a retry; a larger request is not retried once
// its body has started to flow.
inline constexpr size_t kMaxReplayBytes = 64 * 1024;
// Downstream bytes read ahead of the parser (pipelined requests, body).
inline constexpr size_t kMaxReadAhead = 128 * 1024;
// How long a closing connection waits for the client's FIN before it is
// closed regardless (RFC 9112 §9.6: avoid resetting an unread response).
inline constexpr Duration kLingerTimeout = Duration::Seconds(2);
// Parser events handled per call before the rest waits for the next timer
// tick (so one connection's burst cannot hold the shard, and a burst of
// more events than this is not left behind with no event to resume it).
inline constexpr int kMaxEventsPerPump = 4096;

class HttpSession final : public ConnHandler,
                         public DrainableSession,
                         public timer::TimerHandler {
 public:
  // `tls` (TLS listeners): the client's bytes are TLS over `downstream`;
  // the session reads and writes plaintext through it.
  HttpSession(ProxyShard& shard, ListenerRuntime& listener, tcp::Tcb* downstream, Instant now,
              std::unique_ptr<tls::TlsServerConnection> tls = nullptr);
  ~HttpSession();

  void Start(Instant now);
  void OnConnectionEvent(tcp::Tcb* tcb, uint16_t events, Instant now) override;
  void OnTimer(timer::Timer& timer, Instant now) override;
  // The listener is draining: finish the current request, then close.
  void BeginDrain(Instant now) override;
  void ForceClose() override { Destroy(/*abort=*/false); }

 private:
  enum class State : uint8_t {
    kIdle,        // between requests, waiting for a request head
    kRequest,     // a request is in flight (upstream chosen or being chosen)
    kTunnel,      // after 101 Switching Protocols: bytes both ways
    kClosing,     // our FIN is queued: draining the client until it closes
    kClosed,
  };
  enum class Flag : uint8_t { kNone, kUpstreamConnectFailure, kUpstreamReset, kUpstreamTimeout,
                              kNoHealthyUpstream, kNoRoute, kBadRequest, kBadResponse,
                              kDownstreamReset, kRequestTimeout };

  void OnDownstream(uint16_t events, Instant now);
  void OnUpstream(tcp::Tcb* tcb, uint16_t events, Instant now);
  // Reads what the client sent and runs the request parser. Re-entered
  // (from Respond() inside it) it does nothing: the outer call goes on.
  void PumpRequest(Instant now);
  void PumpRequestLoop(Instant now);
  void OnRequestHead(Instant now);
  bool Dispatch(Instant now);  // picks an endpoint and sends the request
  void PumpResponse(Instant now);
  void OnResponseHead(Instant now);
  void FinishExchange(Instant now);
  void StartTunnel(Instant now);
  void PumpTunnel(Instant now);
  // The tunnel's bytes when the client side is TLS: decrypted and
  // encrypted on the way (no splicing).
  void PumpTlsTunnel(tcp::Tcb& up);
  // An attempt failed before anything reached the client: retry or answer.
  void FailAttempt(Flag flag, Instant now);
  void Respond(uint16_t status, std::string_view reason, Flag flag, Instant now);
  // Ends the exchange with no answer of our own (part of the response
  // already went to the client, or the backend broke the exchange past
  // repair): logs it with `flag` and resets both sides.
  void AbortExchange(Flag flag, Instant now);
  // The downstream byte stream: the Tcb itself, or TLS over it. Only these
  // (and the plain tunnel's splicing) touch down_'s bytes.
  //
  // Moves ciphertext both ways and runs the handshake. False when the TLS
  // connection failed: the session is destroyed then.
  bool PumpTls(Instant now);
  void FailTls(Instant now);
  // Fills in_ with what the client sent, up to kMaxReadAhead.
  void ReadDown();
  // The client will send nothing more (FIN, or close_notify with TLS) and
  // everything it sent was read.
  bool DownEof() const;
  // Sends what the stream takes now; returns how much it took.
  size_t DownWrite(std::string_view bytes);
  // Ends our direction: FIN (with TLS after close_notify has been sent).
  void DownShutdown();
  // Nothing of ours is waiting to be sent.
  bool DownFlushed() const;
  // The upstream byte stream: up_'s Tcb, or TLS over it. Only these (and
  // the plain tunnel's splicing) touch up_'s bytes.
  //
  // Runs up_'s TLS handshake; when it completes the response timeout
  // starts and the request goes. False when this attempt ended (a failed
  // handshake is a connect failure): the caller's events are stale.
  bool PumpUpTls(Instant now);
  // Fills up_in_ with what the backend sent, up to kMaxReadAhead.
  void ReadUp();
  // The backend will send nothing more and everything was read.
  bool UpEof() const;
  // Sends what the stream takes now (0 during a handshake).
  size_t UpWrite(std::string_view bytes);
  void ArmResponseTimeout(Instant now);
  void WriteDown(std::string_view bytes);
  void WriteUp(std::string_view bytes);
  bool FlushDown();
  bool FlushUp();
  void DropUpstream(bool reusable, Instant now);
  void CloseGracefully(Instant now);
  void Destroy(bool abort);
  void ArmDownTimer(Instant now);
  void LogRequest(Instant now);
  void ResetRequest();
  // Ends this request's use of pool_: its active-request count, its retry
  // budget share, and its hold on the pool's lifetime.
  void LeavePool();
  // Takes a share of pool_'s retry budget for one more attempt (returning
  // the previous attempt's share first); false when the budget is spent.
  bool StartRetry();

  ProxyShard& shard_;
  ListenerRuntime& listener_;
  tcp::Tcb* down_;
  std::unique_ptr<tls::TlsServerConnection> tls_;  // null: plain HTTP
  bool tls_fin_pending_ = false;  // FIN goes once close_notify is sent
  bool down_shut_ = false;        // kTunnel: our direction to the client ended
  State state_ = State::kIdle;
  std::string client_address_;
  uint32_t client_ip_ = 0;
  uint16_t client_port_ = 0;
  lb::EndpointKey last_endpoint_;

  http::RequestParser request_parser_;
  std::string in_;        // client bytes the request parser has not consumed
  std::string down_out_;  // bytes for the client its send buffer did not take

  // The request in flight.
  PoolRuntime* pool_ = nullptr;
  const route::CompiledRoute* route_ = nullptr;
  UpstreamConn* up_ = nullptr;
  http::ResponseParser response_parser_;
  http::ResponseExpectation expectation_;
  http::OutboundFraming request_framing_;
  http::OutboundFraming response_framing_;
  std::string up_in_;     // backend bytes the response parser has not consumed
  std::string up_out_;    // bytes for the backend its send buffer did not take
  std::string replay_;    // everything sent upstream for this request, for retries
  bool replayable_ = true;
  bool up_tls_failed_ = false;      // this attempt's TLS handshake failed
  bool request_complete_ = false;   // the parser saw the whole request
  bool response_started_ = false;   // bytes of the response went to the client
  bool response_complete_ = false;
  bool keep_alive_ = true;          // the client connection survives this request
  bool upgrade_requested_ = false;
  bool expect_continue_ = false;    // the client waits for 100 before its body
  bool draining_ = false;
  bool pumping_request_ = false;    // PumpRequest is on the stack
  bool idle_timer_is_header_ = false;  // kIdle: down_timer_ is the header timeout
  bool fin_pending_ = false;        // kClosing: FIN goes once down_out_ is sent
  uint8_t client_minor_ = 1;
  route::Method method_ = route::Method::kGet;
  std::optional<uint64_t> hash_key_;
  uint32_t retries_ = 0;
  bool holding_retry_ = false;  // a retry of pool_'s budget is ours
  bool retry_counted_ = false;
  uint16_t status_ = 0;
  Flag flag_ = Flag::kNone;
  Instant request_start_;
  Instant upstream_start_;
  uint64_t request_bytes_in_ = 0;
  uint64_t response_bytes_out_ = 0;
  // For the access log: copies, because the head's views die with the buffer.
  std::string method_text_;
  std::string host_;
  std::string path_;
  std::string user_agent_;
  std::string forwarded_for_;
  std::string request_id_;

  timer::Timer down_timer_{this};  // header, idle, request, linger
  timer::Timer up_timer_{this};    // connect and response timeouts
  timer::Timer resume_timer_{this};  // a pump stopped at kMaxEventsPerPump
};

}  // namespace locus::proxy::dataplane

#endif  // LOCUS_PROXY_DATAPLANE_HTTP_SESSION_H_
