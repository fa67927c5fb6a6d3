#include "proxy/dataplane/http_session.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "proxy/dataplane/upstream.h"
#include "proxy/http/canned.h"
#include "proxy/http/http_error.h"
#include "proxy/lb/hash.h"
#include "proxy/route/retry.h"
#include "proxy/route/route_table.h"
#include "proxy/tls/transport.h"

namespace locus::proxy::dataplane {

namespace {

std::string_view View(const std::string& s) { return std::string_view(s.data(), s.size()); }

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Serializes into a scratch buffer that grows to fit (once per shard).
template <typename Writer>
std::string_view Serialize(std::string& scratch, Writer write) {
  if (scratch.size() < 16384) scratch.resize(16384);
  size_t n = write(std::span<char>(scratch.data(), scratch.size()));
  if (n > scratch.size()) {
    scratch.resize(n);
    n = write(std::span<char>(scratch.data(), scratch.size()));
  }
  return std::string_view(scratch.data(), n);
}

thread_local std::string tls_scratch;

std::string_view StatusText(uint16_t status) {
  switch (status) {
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
  }
}

}  // namespace

HttpSession::HttpSession(ProxyShard& shard, ListenerRuntime& listener, tcp::Tcb* downstream,
                         Instant now, std::unique_ptr<tls::TlsServerConnection> tls)
    : shard_(shard),
      listener_(listener),
      down_(downstream),
      tls_(std::move(tls)),
      request_parser_(listener.http_limits) {
  down_->set_user_data(static_cast<ConnHandler*>(this));
  down_->set_nodelay(true);
  client_ip_ = down_->tuple().remote_ip.value();
  client_address_ = down_->tuple().remote_ip.ToString();
  client_port_ = down_->tuple().remote_port;
  ++listener_.sessions;
  listener_.live.insert(this);
  if (listener_.gauge != nullptr) Bump(listener_.gauge->active);
  Bump(shard_.counters().active_connections);
  (void)now;
}

HttpSession::~HttpSession() {
  shard_.timers().Cancel(down_timer_);
  shard_.timers().Cancel(up_timer_);
  shard_.timers().Cancel(resume_timer_);
  listener_.live.erase(this);
  if (listener_.gauge != nullptr) Drop(listener_.gauge->active);
  Drop(shard_.counters().active_connections);
  LeavePool();
  shard_.OnSessionClosed(&listener_);
}

void HttpSession::Start(Instant now) {
  ArmDownTimer(now);
  if (!PumpTls(now)) return;
  PumpRequest(now);
}

void HttpSession::BeginDrain(Instant now) {
  draining_ = true;
  if (state_ == State::kIdle && in_.empty()) CloseGracefully(now);
}

// ---- Events -------------------------------------------------------------------

void HttpSession::OnConnectionEvent(tcp::Tcb* tcb, uint16_t events, Instant now) {
  if (state_ == State::kClosed) return;
  if (tcb == down_) {
    OnDownstream(events, now);
  } else if (up_ != nullptr && tcb == up_->tcb()) {
    OnUpstream(tcb, events, now);
  }
}

void HttpSession::OnDownstream(uint16_t events, Instant now) {
  if (events & tcp::kEventClosed) {
    // Reset or timed out: nothing can reach the client any more.
    if (state_ != State::kClosing) flag_ = Flag::kDownstreamReset;
    if (state_ == State::kRequest) LogRequest(now);
    Destroy(/*abort=*/false);
    return;
  }
  if (events & tcp::kEventWritable) FlushDown();
  if (state_ != State::kClosing && !PumpTls(now)) return;
  switch (state_) {
    case State::kTunnel:
      PumpTunnel(now);
      return;
    case State::kClosing: {
      // Discard what the client still sends until it closes (§9.6).
      if (down_->readable() > 0) down_->Consume(down_->readable());
      if ((events & tcp::kEventWritable) && fin_pending_) {
        // The rest of the response is leaving: the linger starts over, and
        // the FIN follows its last byte.
        ArmDownTimer(now);
        if (DownFlushed()) {
          fin_pending_ = false;
          DownShutdown();
        }
      }
      if (down_->peer_closed() && DownFlushed()) Destroy(/*abort=*/false);
      return;
    }
    case State::kIdle:
    case State::kRequest:
      PumpRequest(now);
      if (state_ == State::kRequest && up_ != nullptr) PumpResponse(now);
      break;
    case State::kClosed:
      return;
  }
  if (state_ == State::kIdle && DownEof() && in_.empty()) {
    // The client finished sending and has no request pending: done.
    CloseGracefully(now);
  }
}

void HttpSession::OnUpstream(tcp::Tcb* tcb, uint16_t events, Instant now) {
  if ((events & tcp::kEventConnected) && up_->ready()) {
    // Connected: from now on the route's response timeout applies. (With
    // TLS the connect timeout also covers the handshake.)
    ArmResponseTimeout(now);
  }
  if (up_->tls() != nullptr && !PumpUpTls(now)) return;  // the attempt failed
  if (events & tcp::kEventWritable) {
    FlushUp();
    if (state_ == State::kRequest && !request_complete_) PumpRequest(now);
  }
  // Each step below may end this attempt and start another on a new
  // connection: the rest of these events belong to the old one.
  if (up_ == nullptr || up_->tcb() != tcb) return;
  if (state_ == State::kTunnel) {
    PumpTunnel(now);
    return;
  }
  // With TLS the plaintext may wait in OpenSSL with the Tcb empty.
  if (up_->tls() != nullptr || up_->tcb()->readable() > 0 || (events & tcp::kEventPeerClosed)) {
    PumpResponse(now);
  }
  if (up_ == nullptr || up_->tcb() != tcb || state_ != State::kRequest) return;
  if (events & tcp::kEventClosed) {
    bool connected = up_->ready();
    FailAttempt(connected ? Flag::kUpstreamReset : Flag::kUpstreamConnectFailure, now);
  }
}

void HttpSession::OnTimer(timer::Timer& timer, Instant now) {
  if (state_ == State::kClosed) return;
  if (&timer == &resume_timer_) {
    if (state_ == State::kIdle || state_ == State::kRequest) {
      PumpRequest(now);
      if (state_ == State::kRequest && up_ != nullptr) PumpResponse(now);
    }
    return;
  }
  if (&timer == &up_timer_) {
    if (state_ != State::kRequest || up_ == nullptr) return;
    if (!up_->ready()) {
      FailAttempt(Flag::kUpstreamConnectFailure, now);
    } else {
      Bump(shard_.counters().upstream_timeouts);
      FailAttempt(Flag::kUpstreamTimeout, now);
    }
    return;
  }
  // The downstream timer: which limit depends on the state.
  switch (state_) {
    case State::kIdle:
      Bump(shard_.counters().downstream_timeouts);
      if (in_.empty() && request_parser_.pending() == 0) {
        // Idle keep-alive connection: close quietly.
        CloseGracefully(now);
      } else {
        // A request head that did not arrive in time (RFC 9110 §15.5.9).
        Respond(408, "request header timeout", Flag::kRequestTimeout, now);
      }
      return;
    case State::kRequest:
      Bump(shard_.counters().downstream_timeouts);
      if (!response_started_) {
        // RFC 9110 §15.5.9: a request the client did not finish sending in
        // time is a 408; a complete one the backend did not answer, a 504.
        Respond(request_complete_ ? 504 : 408, "request timeout", Flag::kRequestTimeout, now);
      } else {
        Destroy(/*abort=*/true);
      }
      return;
    case State::kTunnel:
      Destroy(/*abort=*/false);  // idle tunnel
      return;
    case State::kClosing:
      Destroy(/*abort=*/false);
      return;
    case State::kClosed:
      return;
  }
}

void HttpSession::ArmDownTimer(Instant now) {
  const ListenerLimits& limits = listener_.config.limits;
  switch (state_) {
    case State::kIdle: {
      // Waiting for a head: the header timeout once bytes have started to
      // arrive, the idle timeout before that.
      bool started = !in_.empty() || request_parser_.pending() > 0;
      idle_timer_is_header_ = started;
      Duration d = started ? limits.header_timeout : limits.idle_timeout;
      if (d > Duration::Zero()) {
        shard_.timers().Arm(down_timer_, now + d);
      } else {
        shard_.timers().Cancel(down_timer_);
      }
      break;
    }
    case State::kRequest:
      if (limits.request_timeout > Duration::Zero()) {
        shard_.timers().Arm(down_timer_, request_start_ + limits.request_timeout);
      } else {
        shard_.timers().Cancel(down_timer_);
      }
      break;
    case State::kTunnel:
      if (limits.idle_timeout > Duration::Zero()) {
        shard_.timers().Arm(down_timer_, now + limits.idle_timeout);
      }
      break;
    case State::kClosing:
      shard_.timers().Arm(down_timer_, now + kLingerTimeout);
      break;
    case State::kClosed:
      break;
  }
}

// ---- Requests ------------------------------------------------------------------

void HttpSession::PumpRequest(Instant now) {
  // Respond() resumes parsing when it keeps the connection; called from
  // inside this loop (OnRequestHead -> Respond) that must not start a second
  // parse over bytes the outer one has not dropped yet.
  if (pumping_request_) return;
  pumping_request_ = true;
  PumpRequestLoop(now);
  pumping_request_ = false;
}

void HttpSession::PumpRequestLoop(Instant now) {
  for (int events = 0; state_ != State::kClosed; ++events) {
    if (events == kMaxEventsPerPump) {
      shard_.timers().Arm(resume_timer_, now);
      return;
    }
    // Read ahead of the parser, bounded.
    ReadDown();
    if (tls_ != nullptr && tls_->state() == tls::TlsState::kFailed) {
      FailTls(now);
      return;
    }
    bool parsing = state_ == State::kIdle || (state_ == State::kRequest && !request_complete_);
    if (!parsing) return;
    if (state_ == State::kRequest && !up_out_.empty()) return;  // backend not keeping up
    // In kIdle the parser may still be inside the body of a request that
    // was already answered (Respond() kept the connection): that body is
    // read and dropped, and the next request follows it.
    const bool answered = state_ == State::kIdle;
    http::Step step = request_parser_.Parse(Bytes(in_));
    if (step.event == http::Event::kNeedMore && DownEof() && in_.size() == step.consumed) {
      // The client half-closed: anything partial is an error (or nothing).
      in_.erase(0, step.consumed);
      step = request_parser_.Finish();
      if (step.event == http::Event::kNeedMore) step.event = http::Event::kDone;
    }
    switch (step.event) {
      case http::Event::kNeedMore:
        in_.erase(0, step.consumed);
        // Waiting for a head: the header timeout runs from its first byte.
        if (state_ == State::kIdle && in_.empty() == idle_timer_is_header_) ArmDownTimer(now);
        return;
      case http::Event::kHead:
        OnRequestHead(now);
        in_.erase(0, std::min(step.consumed, in_.size()));
        // Answered at once (no route, no upstream, ...) and kept: go on
        // with its body, then the next request.
        if (state_ != State::kRequest && state_ != State::kIdle) return;
        continue;
      case http::Event::kBody: {
        if (answered) {
          in_.erase(0, step.consumed);
          continue;
        }
        request_bytes_in_ += step.data.size();
        std::string_view data(reinterpret_cast<const char*>(step.data.data()), step.data.size());
        if (request_framing_.framing == http::BodyFraming::kChunked) {
          char header[http::kMaxChunkHeaderLength];
          size_t n = http::WriteChunkHeader(data.size(), std::span<char, http::kMaxChunkHeaderLength>(header));
          WriteUp(std::string_view(header, n));
          WriteUp(data);
          WriteUp(http::kChunkEnd);
        } else {
          WriteUp(data);
        }
        in_.erase(0, step.consumed);
        continue;
      }
      case http::Event::kTrailers:
        in_.erase(0, step.consumed);
        continue;
      case http::Event::kMessageComplete: {
        if (answered) {
          in_.erase(0, step.consumed);
          continue;
        }
        if (request_framing_.framing == http::BodyFraming::kChunked) {
          const http::FieldBlock& trailers = request_parser_.trailers();
          std::string_view last = Serialize(tls_scratch, [&](std::span<char> out) {
            return http::WriteLastChunk(trailers.empty() ? nullptr : &trailers, out);
          });
          WriteUp(last);
        }
        in_.erase(0, step.consumed);
        request_complete_ = true;
        return;  // pipelined requests wait for this response
      }
      case http::Event::kPaused:
        in_.erase(0, step.consumed);
        if (answered) {
          // An upgrade request we answered ourselves: no switch.
          request_parser_.RejectUpgrade();
          continue;
        }
        // An Upgrade (or CONNECT) request: the response decides.
        request_complete_ = true;
        return;
      case http::Event::kTunnel:
        return;
      case http::Event::kDone:
        in_.erase(0, std::min(step.consumed, in_.size()));
        keep_alive_ = false;
        if (state_ == State::kIdle) CloseGracefully(now);
        return;
      case http::Event::kError: {
        Bump(shard_.counters().bad_requests);
        uint16_t status = request_parser_.error_status();
        std::string_view reason = http::HttpErrorName(request_parser_.error());
        keep_alive_ = false;
        if (state_ == State::kIdle) {
          request_start_ = now;
          state_ = State::kRequest;
        }
        Respond(status, reason, Flag::kBadRequest, now);
        return;
      }
    }
  }
}

void HttpSession::OnRequestHead(Instant now) {
  const http::RequestHead& h = request_parser_.head();
  ProxyCounters& counters = shard_.counters();
  Bump(counters.requests);
  state_ = State::kRequest;
  request_start_ = now;
  ArmDownTimer(now);
  method_ = h.method();
  method_text_.assign(h.method_text());
  host_.assign(h.host());
  path_.assign(h.target());
  auto copy_field = [&](std::string_view name, std::string* out) {
    std::optional<std::string_view> v = h.fields().Get(name);
    if (v.has_value()) {
      out->assign(v->substr(0, 256));
    } else {
      out->clear();
    }
  };
  copy_field("user-agent", &user_agent_);
  copy_field("x-forwarded-for", &forwarded_for_);
  copy_field("x-request-id", &request_id_);
  client_minor_ = h.version_minor();
  keep_alive_ = h.keep_alive() && !draining_;
  expectation_ = http::ResponseExpectation::For(h);
  upgrade_requested_ = h.upgrade();
  expect_continue_ = h.expect_continue();
  request_complete_ = false;

  if (h.method() == http::Method::kConnect) {
    keep_alive_ = false;
    Respond(501, "CONNECT is not supported by this proxy", Flag::kBadRequest, now);
    return;
  }

  const CompiledConfig* config = shard_.config();
  int32_t table_index = config == nullptr ? -1 : config->TableIndex(listener_.config.route_table);
  if (table_index < 0) {
    Bump(counters.no_route);
    Respond(404, "no route table", Flag::kNoRoute, now);
    return;
  }
  const route::CompiledRouteTable& table = *config->route_tables[table_index][shard_.index()];
  route::HeaderField headers[http::kHeaderCountCapacity];
  size_t n = std::min<size_t>(h.fields().size(), http::kHeaderCountCapacity);
  for (size_t i = 0; i < n; ++i) {
    std::string_view name = h.fields().name(i);
    std::string_view value = h.fields().value(i);
    headers[i] = {absl::string_view(name.data(), name.size()),
                  absl::string_view(value.data(), value.size())};
  }
  // Routes match the path: for an absolute-form target that is its path
  // and query, not the whole URI (RFC 9112 §3.2.2).
  route::RouteRequest request{absl::string_view(h.host().data(), h.host().size()), h.method(),
                              absl::string_view(h.path().data(), h.path().size()),
                              absl::Span<const route::HeaderField>(headers, n)};
  route::RouteLookup found = shard_.route_cache().Lookup(listener_.id, table, request);
  if (found.route == nullptr) {
    Bump(counters.no_route);
    Respond(404, "no route matches this request", Flag::kNoRoute, now);
    return;
  }
  route_ = found.route;
  const std::string& pool_name = route_->PickPool(shard_.rng().Next());
  pool_ = shard_.pool_by_name(pool_name);
  if (pool_ == nullptr) {
    Bump(counters.no_healthy_upstream);
    Respond(503, "the route's pool does not exist", Flag::kNoHealthyUpstream, now);
    return;
  }
  ++pool_->users;
  ++pool_->active_requests;
  // The hash key, for consistent hashing pools (client IP or a header).
  hash_key_.reset();
  const lb::HashKeyConfig& key = pool_->config.hash_key;
  if (pool_->config.lb_policy == lb::LbPolicy::kMaglev ||
      pool_->config.lb_policy == lb::LbPolicy::kRingHash) {
    if (key.source == lb::HashKeyConfig::Source::kClientIp) {
      hash_key_ = lb::HashClientIp(wire::Ipv4Address(client_ip_));
    } else if (std::optional<std::string_view> v = h.fields().Get(key.header_name)) {
      hash_key_ = lb::HashHeaderValue(absl::string_view(v->data(), v->size()));
    }
  }

  request_framing_ = http::ChooseRequestFraming(h);
  http::RequestForwarding forwarding;
  forwarding.client_address = client_address_;
  forwarding.client_tls = tls_ != nullptr;
  // Tunnels splice the backend's bytes; over TLS they would need their
  // own record layer (not implemented), so the Upgrade is not forwarded.
  forwarding.allow_upgrade = !pool_->upstream.tls.enabled;
  std::string_view head = Serialize(tls_scratch, [&](std::span<char> out) {
    return http::WriteRequestHead(h, forwarding, request_framing_, out);
  });
  replay_.assign(head);
  replayable_ = true;
  Dispatch(now);
}

bool HttpSession::Dispatch(Instant now) {
  ProxyCounters& counters = shard_.counters();
  lb::Pick pick = pool_->balancer.Choose(hash_key_, shard_.rng());
  if (!pick.ok()) {
    Bump(counters.no_healthy_upstream);
    Respond(503, pick.status == lb::PickStatus::kAllAtMaxConnections
                     ? "every endpoint is at its connection limit"
                     : "no healthy upstream",
            Flag::kNoHealthyUpstream, now);
    return false;
  }
  bool reused = false;
  up_ = shard_.AcquireUpstream(*pool_, pick, this, now, &reused);
  if (up_ == nullptr) {
    FailAttempt(Flag::kUpstreamConnectFailure, now);
    return false;
  }
  up_->count_request();
  last_endpoint_ = up_->endpoint();
  if (EndpointCounters* c = up_->endpoint_counters()) Bump(c->requests);
  upstream_start_ = now;
  response_parser_.Reset();
  response_parser_.ExpectResponse(expectation_);
  up_in_.clear();
  up_out_.clear();
  response_started_ = false;
  up_tls_failed_ = false;
  WriteUp(replay_);  // with TLS, sent once the handshake is done
  if (up_->ready()) {
    ArmResponseTimeout(now);
  } else {
    shard_.timers().Arm(up_timer_, now + pool_->upstream.connect_timeout);
  }
  return true;
}

void HttpSession::FailAttempt(Flag flag, Instant now) {
  ProxyCounters& counters = shard_.counters();
  bool connect_failure = flag == Flag::kUpstreamConnectFailure;
  if (up_ != nullptr) {
    shard_.ReportOutcome(*pool_, up_->endpoint(), connect_failure ? 2 : 1);
    if (connect_failure) {
      Bump(counters.upstream_connect_failures);
      if (EndpointCounters* c = up_->endpoint_counters()) Bump(c->connect_failures);
    }
  }
  DropUpstream(/*reusable=*/false, now);
  shard_.timers().Cancel(up_timer_);
  // RFC 9110 §9.2.2: only idempotent requests may be repeated after the
  // backend may have seen them; a failed connect never reached it.
  route::AttemptOutcome outcome = connect_failure ? route::AttemptOutcome::kConnectFailure
                                                  : route::AttemptOutcome::kOther;
  if (flag == Flag::kUpstreamReset && route::IsIdempotent(method_)) {
    outcome = route::AttemptOutcome::kConnectFailure;
  }
  if (route_ != nullptr && replayable_ && !response_started_ &&
      route::ShouldRetry(route_->action().retry, method_, outcome, retries_) && StartRetry()) {
    ++retries_;
    Bump(counters.retries);
    Dispatch(now);
    return;
  }
  switch (flag) {
    case Flag::kUpstreamConnectFailure:
      Respond(502, up_tls_failed_ ? "upstream TLS handshake failure" : "upstream connect failure",
              flag, now);
      break;
    case Flag::kUpstreamReset:
      Respond(502, "upstream closed the connection before responding", flag, now);
      break;
    case Flag::kUpstreamTimeout:
      Respond(504, "upstream timeout", flag, now);
      break;
    case Flag::kBadResponse:
      Respond(502, "bad response from upstream", flag, now);
      break;
    default:
      Respond(502, "upstream failure", flag, now);
      break;
  }
}

// ---- Responses -----------------------------------------------------------------

void HttpSession::PumpResponse(Instant now) {
  for (int events = 0; up_ != nullptr && state_ == State::kRequest; ++events) {
    if (events == kMaxEventsPerPump) {
      shard_.timers().Arm(resume_timer_, now);
      return;
    }
    if (!down_out_.empty()) return;  // the client is not keeping up
    ReadUp();
    if (up_->tls() != nullptr && up_->tls()->state() == tls::TlsState::kFailed) {
      // A fatal TLS error after the handshake (bad record): like a reset.
      if (!response_started_) {
        FailAttempt(Flag::kUpstreamReset, now);
      } else {
        AbortExchange(Flag::kUpstreamReset, now);
      }
      return;
    }
    http::Step step = response_parser_.Parse(Bytes(up_in_));
    if (step.event == http::Event::kNeedMore && UpEof() && up_in_.size() == step.consumed) {
      up_in_.erase(0, step.consumed);
      step = response_parser_.Finish();
      if (step.event == http::Event::kNeedMore ||
          (step.event == http::Event::kError && !response_started_ &&
           response_parser_.error() == http::HttpError::kTruncated)) {
        // The backend closed before a whole response head: like a reset, it
        // may be retried for idempotent methods (RFC 9110 §9.2.2; this is
        // also how a kept-alive connection the backend just timed out
        // shows, RFC 9112 §9.3.1).
        FailAttempt(Flag::kUpstreamReset, now);
        return;
      }
    }
    switch (step.event) {
      case http::Event::kNeedMore:
        up_in_.erase(0, step.consumed);
        return;
      case http::Event::kHead:
        if (response_parser_.head().interim()) {
          // 1xx: forward to HTTP/1.1 clients only (RFC 9110 §15.2).
          if (client_minor_ >= 1) {
            http::ResponseForwarding forwarding;
            std::string_view head = Serialize(tls_scratch, [&](std::span<char> out) {
              return http::WriteResponseHead(response_parser_.head(), forwarding,
                                             http::OutboundFraming{}, out);
            });
            WriteDown(head);
          }
          up_in_.erase(0, step.consumed);
          continue;
        }
        OnResponseHead(now);
        if (up_ == nullptr || state_ != State::kRequest) return;  // retried or failed
        up_in_.erase(0, step.consumed);
        if (response_parser_.head().tunnel()) {
          // 101: the tunnel starts now, not when the backend first sends
          // something (the client usually speaks first).
          StartTunnel(now);
          return;
        }
        continue;
      case http::Event::kBody: {
        std::string_view data(reinterpret_cast<const char*>(step.data.data()), step.data.size());
        if (response_framing_.framing == http::BodyFraming::kChunked) {
          char header[http::kMaxChunkHeaderLength];
          size_t n = http::WriteChunkHeader(data.size(), std::span<char, http::kMaxChunkHeaderLength>(header));
          WriteDown(std::string_view(header, n));
          WriteDown(data);
          WriteDown(http::kChunkEnd);
        } else {
          WriteDown(data);
        }
        up_in_.erase(0, step.consumed);
        continue;
      }
      case http::Event::kTrailers:
        up_in_.erase(0, step.consumed);
        continue;
      case http::Event::kMessageComplete:
        if (response_framing_.framing == http::BodyFraming::kChunked) {
          const http::FieldBlock& trailers = response_parser_.trailers();
          std::string_view last = Serialize(tls_scratch, [&](std::span<char> out) {
            return http::WriteLastChunk(trailers.empty() ? nullptr : &trailers, out);
          });
          WriteDown(last);
        }
        up_in_.erase(0, step.consumed);
        response_complete_ = true;
        FinishExchange(now);
        return;
      case http::Event::kTunnel:
        StartTunnel(now);
        return;
      case http::Event::kDone:
        up_in_.erase(0, std::min(step.consumed, up_in_.size()));
        response_complete_ = true;
        FinishExchange(now);
        return;
      case http::Event::kPaused:
        return;
      case http::Event::kError:
        if (!response_started_) {
          FailAttempt(Flag::kBadResponse, now);
        } else {
          AbortExchange(Flag::kBadResponse, now);
        }
        return;
    }
  }
}

void HttpSession::OnResponseHead(Instant now) {
  const http::ResponseHead& h = response_parser_.head();
  ProxyCounters& counters = shard_.counters();
  status_ = h.status();
  bool is_5xx = status_ >= 500;
  if (is_5xx) {
    if (EndpointCounters* c = up_->endpoint_counters()) Bump(c->responses_5xx);
  }
  shard_.ReportOutcome(*pool_, up_->endpoint(), is_5xx ? 1 : 0);
  if (is_5xx && replayable_ && request_complete_ &&
      route::ShouldRetry(route_->action().retry, method_, route::AttemptOutcome::k5xx, retries_) &&
      StartRetry()) {
    // Nothing reached the client yet: try another endpoint.
    DropUpstream(/*reusable=*/false, now);
    shard_.timers().Cancel(up_timer_);
    ++retries_;
    Bump(counters.retries);
    Dispatch(now);
    return;
  }
  if (status_ == 101) {
    if (upgrade_requested_) request_parser_.AcceptUpgrade();
  } else if (upgrade_requested_) {
    request_parser_.RejectUpgrade();
    upgrade_requested_ = false;
  }
  response_framing_ = http::ChooseResponseFraming(h, client_minor_);
  if (response_framing_.framing == http::BodyFraming::kCloseDelimited || !request_complete_) {
    keep_alive_ = false;
  }
  if (draining_) keep_alive_ = false;
  http::ResponseForwarding forwarding;
  forwarding.close = !keep_alive_ && status_ != 101;
  forwarding.http10_keep_alive = client_minor_ == 0 && keep_alive_;
  std::string_view head = Serialize(tls_scratch, [&](std::span<char> out) {
    return http::WriteResponseHead(h, forwarding, response_framing_, out);
  });
  WriteDown(head);
  response_started_ = true;
  Bump(counters.responses_by_class[std::min<uint16_t>(status_ / 100, 5)]);
}

void HttpSession::FinishExchange(Instant now) {
  shard_.timers().Cancel(up_timer_);
  bool reusable = response_parser_.head().keep_alive() && request_complete_ && up_out_.empty() &&
                  up_in_.empty() && !upgrade_requested_;
  DropUpstream(reusable, now);
  LogRequest(now);
  ResetRequest();
  if (!keep_alive_) {
    CloseGracefully(now);
    return;
  }
  state_ = State::kIdle;
  ArmDownTimer(now);
  PumpRequest(now);  // a pipelined request may already be here
}

void HttpSession::LeavePool() {
  if (pool_ == nullptr) return;
  if (holding_retry_) pool_->retry_budget.RetryDone();
  holding_retry_ = false;
  --pool_->active_requests;
  shard_.ReleasePoolUser(pool_);
  pool_ = nullptr;
}

bool HttpSession::StartRetry() {
  // The attempt that just failed was this request's retry, if any: it no
  // longer counts against the budget.
  if (holding_retry_) pool_->retry_budget.RetryDone();
  holding_retry_ = pool_->retry_budget.TryStartRetry(route_->action().retry,
                                                     pool_->active_requests);
  if (!holding_retry_) Bump(shard_.counters().retries_budget_exhausted);
  return holding_retry_;
}

void HttpSession::ResetRequest() {
  LeavePool();
  route_ = nullptr;
  replay_.clear();
  up_in_.clear();
  up_out_.clear();
  replayable_ = true;
  request_complete_ = false;
  response_started_ = false;
  response_complete_ = false;
  upgrade_requested_ = false;
  expect_continue_ = false;
  // The next answer may come before any head (408, 400): it has a body.
  expectation_ = http::ResponseExpectation{};
  retries_ = 0;
  status_ = 0;
  flag_ = Flag::kNone;
  request_bytes_in_ = 0;
  response_bytes_out_ = 0;
  last_endpoint_ = lb::EndpointKey{};
}

void HttpSession::AbortExchange(Flag flag, Instant now) {
  flag_ = flag;
  LogRequest(now);
  Destroy(/*abort=*/true);
}

void HttpSession::Respond(uint16_t status, std::string_view reason, Flag flag, Instant now) {
  if (response_started_) {
    AbortExchange(flag, now);
    return;
  }
  DropUpstream(/*reusable=*/false, now);
  shard_.timers().Cancel(up_timer_);
  status_ = status;
  flag_ = flag;
  // Errors we generate keep the connection only when they are about
  // routing or the backend, not about the client's bytes (parser errors,
  // 408 and 501 close, RFC 9112 §9.6), and the next request can be found:
  // the rest of this one's body is read and dropped (RFC 9112 §6.3 framing
  // still holds). A client waiting for 100-continue may never send that
  // body (RFC 9110 §10.1.1), so then we close.
  bool routing = status == 404 || status == 502 || status == 503 || status == 504;
  bool keep = keep_alive_ && routing && !draining_ && (request_complete_ || !expect_continue_);
  keep_alive_ = keep;
  std::string body = std::to_string(status);
  body.append(" ").append(StatusText(status)).append("\n").append(reason).append("\n");
  std::string response = "HTTP/1.1 " + std::to_string(status) + " ";
  response.append(StatusText(status));
  response.append("\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ");
  response.append(std::to_string(body.size()));
  if (!keep) {
    response.append("\r\nConnection: close\r\n");
  } else if (client_minor_ == 0) {
    response.append("\r\nConnection: keep-alive\r\n");  // RFC 9112 §9.3
  } else {
    response.append("\r\n");
  }
  response.append("Via: 1.1 locus\r\n\r\n");
  if (expectation_.method != http::Method::kHead) response += body;
  WriteDown(response);
  response_started_ = true;
  Bump(shard_.counters().responses_by_class[std::min<uint16_t>(status / 100, 5)]);
  LogRequest(now);
  ResetRequest();
  if (!keep) {
    CloseGracefully(now);
    return;
  }
  state_ = State::kIdle;
  ArmDownTimer(now);
  PumpRequest(now);
}

// ---- Tunnels (101 Switching Protocols) -------------------------------------------

void HttpSession::StartTunnel(Instant now) {
  if (up_->tls() != nullptr) {
    // We did not forward an Upgrade (see OnRequestHead): a backend that
    // switches protocols anyway broke the exchange.
    AbortExchange(Flag::kBadResponse, now);
    return;
  }
  Bump(shard_.counters().tunnels);
  state_ = State::kTunnel;
  shard_.timers().Cancel(up_timer_);
  LogRequest(now);
  // Nothing of a tunnel is ever replayed.
  replay_.clear();
  replayable_ = false;
  // Whatever either side sent after the handshake goes first.
  if (!up_in_.empty()) {
    WriteDown(View(up_in_));
    up_in_.clear();
  }
  if (!in_.empty()) {
    WriteUp(View(in_));
    in_.clear();
  }
  ArmDownTimer(now);
  PumpTunnel(now);
}

void HttpSession::PumpTunnel(Instant now) {
  if (up_ == nullptr) {
    Destroy(/*abort=*/false);
    return;
  }
  tcp::Tcb* up = up_->tcb();
  FlushDown();
  FlushUp();
  if (tls_ == nullptr) {
    if (down_out_.empty()) {
      size_t n = down_->Splice(*up);
      Bump(shard_.counters().bytes_sent, n);
    }
    if (up_out_.empty()) {
      size_t n = up->Splice(*down_);
      Bump(shard_.counters().bytes_received, n);
    }
  } else {
    PumpTlsTunnel(*up);
  }
  // Half-closes travel through (RFC 9293 §3.6 semantics end to end; with
  // TLS the client's close_notify stands for its FIN, and ours precedes
  // our FIN).
  bool up_drained = up->peer_closed() && up->readable() == 0 && DownFlushed();
  bool down_drained = DownEof() && in_.empty() && up_out_.empty();
  if (up_drained && !down_shut_) {
    down_shut_ = true;
    DownShutdown();
  }
  if (down_drained) up->Shutdown();
  if (up->state() == tcp::TcpState::kClosed && up->close_reason() != tcp::CloseReason::kNormal) {
    // The backend reset (or timed out): so does the client's side.
    Destroy(/*abort=*/true);
    return;
  }
  if (up_drained && down_drained) {
    // Both directions ended and every byte was handed on: close both
    // gracefully. (An abort here would discard what is still queued.)
    UpstreamConn* conn = up_;
    up_ = nullptr;
    conn->set_owner(nullptr);
    conn->Close(/*abort=*/false);
    Destroy(/*abort=*/false);
    return;
  }
  ArmDownTimer(now);
}

void HttpSession::PumpTlsTunnel(tcp::Tcb& up) {
  // Client to backend: plaintext out of TLS, no further ahead than the
  // backend's send buffer takes (in_ is the read-ahead bound).
  if (up_out_.empty()) {
    ReadDown();
    if (!in_.empty()) {
      size_t n = up.Write({reinterpret_cast<const uint8_t*>(in_.data()), in_.size()});
      in_.erase(0, n);
    }
  }
  // Backend to client: what TLS takes now; the rest stays in the backend
  // connection's receive buffer (its window closes, as with splicing).
  while (down_out_.empty() && up.readable() > 0 && DownFlushed()) {
    std::span<const uint8_t> front = up.Peek();
    size_t n = DownWrite(std::string_view(reinterpret_cast<const char*>(front.data()), front.size()));
    Bump(shard_.counters().bytes_sent, n);
    up.Consume(n);
    if (n < front.size()) break;
  }
}

// ---- Output and teardown ----------------------------------------------------------

void HttpSession::WriteDown(std::string_view bytes) {
  response_bytes_out_ += bytes.size();
  Bump(shard_.counters().bytes_sent, bytes.size());
  if (!down_out_.empty()) {
    down_out_.append(bytes);
    return;
  }
  size_t n = DownWrite(bytes);
  if (n < bytes.size()) down_out_.append(bytes.substr(n));
}

void HttpSession::WriteUp(std::string_view bytes) {
  if (up_ == nullptr) return;
  if (!replay_.empty() && bytes.data() != replay_.data()) {
    // Keep a copy for retries while it is small enough.
    if (replayable_ && replay_.size() + bytes.size() <= kMaxReplayBytes) {
      replay_.append(bytes);
    } else {
      replayable_ = false;
    }
  }
  if (!up_out_.empty()) {
    up_out_.append(bytes);
    return;
  }
  size_t n = UpWrite(bytes);
  if (n < bytes.size()) up_out_.append(bytes.substr(n));
}

bool HttpSession::FlushDown() {
  if (tls_ != nullptr) {
    tls::PushCiphertext(*tls_, *down_);
    if (tls_fin_pending_ && tls_->pending_ciphertext() == 0) {
      tls_fin_pending_ = false;
      down_->Shutdown();
    }
  }
  if (!down_out_.empty()) {
    size_t n = DownWrite(View(down_out_));
    down_out_.erase(0, n);
  }
  return DownFlushed();
}

// ---- The downstream byte stream -----------------------------------------------------

bool HttpSession::PumpTls(Instant now) {
  if (tls_ == nullptr) return true;
  tls::PullCiphertext(*down_, *tls_);
  tls_->Advance();
  tls::PushCiphertext(*tls_, *down_);
  if (tls_->state() == tls::TlsState::kFailed) {
    FailTls(now);
    return false;
  }
  return true;
}

void HttpSession::FailTls(Instant now) {
  // A failed handshake (counted by reason in the shard's TLS counters) or
  // a fatal error after it (bad record): the alert is queued. What the
  // client sent after it is dropped so the close is graceful and the alert
  // is not lost to a reset.
  tls::PushCiphertext(*tls_, *down_);
  if (state_ == State::kRequest) {
    flag_ = Flag::kDownstreamReset;
    LogRequest(now);
  }
  if (down_->readable() > 0) down_->Consume(down_->readable());
  Destroy(/*abort=*/false);
}

void HttpSession::ReadDown() {
  if (tls_ == nullptr) {
    while (in_.size() < kMaxReadAhead && down_->readable() > 0) {
      std::span<const uint8_t> front = down_->Peek();
      size_t take = std::min(front.size(), kMaxReadAhead - in_.size());
      in_.append(reinterpret_cast<const char*>(front.data()), take);
      down_->Consume(take);
      Bump(shard_.counters().bytes_received, take);
    }
    return;
  }
  // Decrypted straight into in_.
  size_t n = tls::ReadPlaintextInto(*down_, *tls_, in_, kMaxReadAhead);
  Bump(shard_.counters().bytes_received, n);
}

bool HttpSession::DownEof() const {
  if (tls_ != nullptr) return tls_->peer_closed();
  return down_->peer_closed() && down_->readable() == 0;
}

size_t HttpSession::DownWrite(std::string_view bytes) {
  std::span<const uint8_t> b(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (tls_ == nullptr) return down_->Write(b);
  return tls::WritePlaintextTo(*tls_, *down_, b);
}

void HttpSession::DownShutdown() {
  if (tls_ == nullptr) {
    down_->Shutdown();
    return;
  }
  tls_->Shutdown();  // close_notify (nothing during a handshake)
  tls::PushCiphertext(*tls_, *down_);
  if (tls_->pending_ciphertext() == 0) {
    down_->Shutdown();
  } else {
    tls_fin_pending_ = true;
  }
}

bool HttpSession::DownFlushed() const {
  return down_out_.empty() && (tls_ == nullptr || tls_->pending_ciphertext() == 0);
}

bool HttpSession::FlushUp() {
  if (up_ == nullptr) return true;
  if (up_->tls() != nullptr) tls::PushCiphertext(*up_->tls(), *up_->tcb());
  if (up_out_.empty()) return true;
  size_t n = UpWrite(View(up_out_));
  up_out_.erase(0, n);
  return up_out_.empty();
}

// ---- The upstream byte stream -------------------------------------------------------
// The Tcb itself, or TLS over it (pools with tls): the same helpers as the
// downstream side (tls/transport.h).

void HttpSession::ArmResponseTimeout(Instant now) {
  Duration timeout = route_->action().retry.per_try_timeout > Duration::Zero()
                         ? route_->action().retry.per_try_timeout
                         : route_->action().timeout;
  shard_.timers().Arm(up_timer_, now + timeout);
}

bool HttpSession::PumpUpTls(Instant now) {
  tls::TlsClientConnection& t = *up_->tls();
  if (t.handshake_done()) return true;
  tcp::Tcb& tcb = *up_->tcb();
  tls::PullCiphertext(tcb, t);
  t.Advance();
  tls::PushCiphertext(t, tcb);
  if (t.state() == tls::TlsState::kFailed || t.state() == tls::TlsState::kClosed) {
    // Counted by reason in the shard's upstream TLS counters; for retries
    // and outlier detection it is a connect failure (the request never
    // reached the backend).
    up_tls_failed_ = true;
    FailAttempt(Flag::kUpstreamConnectFailure, now);
    return false;
  }
  if (!t.handshake_done()) return true;
  ArmResponseTimeout(now);
  // The request waited for the handshake, and the parser for the request
  // (it stops while up_out_ holds bytes): both go on now, so the request
  // is complete before its response comes.
  FlushUp();
  if (state_ == State::kRequest && !request_complete_) PumpRequest(now);
  return up_ != nullptr && up_->tcb() == &tcb;
}

void HttpSession::ReadUp() {
  tcp::Tcb* up = up_->tcb();
  if (up_->tls() != nullptr) {
    tls::ReadPlaintextInto(*up, *up_->tls(), up_in_, kMaxReadAhead);
    return;
  }
  while (up_in_.size() < kMaxReadAhead && up->readable() > 0) {
    std::span<const uint8_t> front = up->Peek();
    size_t take = std::min(front.size(), kMaxReadAhead - up_in_.size());
    up_in_.append(reinterpret_cast<const char*>(front.data()), take);
    up->Consume(take);
  }
}

bool HttpSession::UpEof() const {
  if (up_->tls() != nullptr) return up_->tls()->peer_closed();
  return up_->tcb()->peer_closed() && up_->tcb()->readable() == 0;
}

size_t HttpSession::UpWrite(std::string_view bytes) {
  std::span<const uint8_t> b(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (up_->tls() == nullptr) return up_->tcb()->Write(b);
  return tls::WritePlaintextTo(*up_->tls(), *up_->tcb(), b);
}

void HttpSession::DropUpstream(bool reusable, Instant now) {
  if (up_ == nullptr) return;
  UpstreamConn* up = up_;
  up_ = nullptr;
  up->set_owner(nullptr);
  shard_.ReleaseUpstream(up, reusable, now);
}

void HttpSession::CloseGracefully(Instant now) {
  if (state_ == State::kClosing || state_ == State::kClosed) return;
  DropUpstream(/*reusable=*/false, now);
  state_ = State::kClosing;
  shard_.timers().Cancel(resume_timer_);
  // The FIN follows the whole response (RFC 9112 §9.6): once FIN is queued
  // the send buffer takes no more, so what it did not take yet goes first.
  if (FlushDown()) {
    DownShutdown();
  } else {
    fin_pending_ = true;
  }
  ArmDownTimer(now);
  if (down_->peer_closed() && DownFlushed() && down_->readable() == 0) Destroy(false);
}

void HttpSession::Destroy(bool abort) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  shard_.timers().Cancel(down_timer_);
  shard_.timers().Cancel(up_timer_);
  shard_.timers().Cancel(resume_timer_);
  if (up_ != nullptr) {
    UpstreamConn* up = up_;
    up_ = nullptr;
    up->set_owner(nullptr);
    up->Close(/*abort=*/true);
  }
  down_->set_user_data(nullptr);
  if (abort || down_->readable() > 0) {
    down_->Abort();
  } else {
    down_->Close();
  }
  down_ = nullptr;
  shard_.Defer(this);
}

void HttpSession::LogRequest(Instant now) {
  accesslog::AccessLogBuffer* log = shard_.access_log();
  if (log == nullptr) return;
  static constexpr std::string_view kFlags[] = {
      accesslog::kFlagNone,          accesslog::kFlagUpstreamConnectFailure,
      accesslog::kFlagUpstreamReset, accesslog::kFlagUpstreamTimeout,
      accesslog::kFlagNoHealthyUpstream, accesslog::kFlagNoRoute,
      accesslog::kFlagBadRequest,    "bad_response",
      accesslog::kFlagDownstreamReset, "request_timeout"};
  Duration elapsed = now - request_start_;
  accesslog::AccessLogRecord r;
  r.start_unix_micros = absl::ToUnixMicros(absl::Now()) - elapsed.micros();
  r.shard = shard_.index();
  r.client = {wire::Ipv4Address(client_ip_), client_port_};
  r.listener = listener_.name;
  r.method = method_text_;
  r.authority = host_;
  r.path = path_;
  r.protocol = client_minor_ == 0 ? "HTTP/1.0" : "HTTP/1.1";
  r.status = status_;
  r.response_flags = kFlags[static_cast<size_t>(flag_)];
  r.bytes_received = request_bytes_in_;
  r.bytes_sent = response_bytes_out_;
  r.duration = elapsed;
  if (pool_ != nullptr) r.upstream_pool = pool_->name;
  if (last_endpoint_.port != 0) {
    r.upstream_endpoint = accesslog::Endpoint{last_endpoint_.ip, last_endpoint_.port};
  }
  if (route_ != nullptr) r.route = route_->name();
  r.retries = retries_;
  r.user_agent = user_agent_;
  r.x_forwarded_for = forwarded_for_;
  r.request_id = request_id_;
  log->Log(r, now);
}

}  // namespace locus::proxy::dataplane
