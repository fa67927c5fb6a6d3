#include "proxy/dataplane/testing/peers.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace locus::proxy::dataplane::testing {

namespace {

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::optional<std::string> FindField(const std::vector<std::pair<std::string, std::string>>& f,
                                     std::string_view name) {
  for (const auto& [n, v] : f) {
    if (absl::EqualsIgnoreCase(n, absl::string_view(name.data(), name.size()))) return v;
  }
  return std::nullopt;
}

size_t CountField(const std::vector<std::pair<std::string, std::string>>& f,
                  std::string_view name) {
  size_t n = 0;
  for (const auto& [k, v] : f) {
    if (absl::EqualsIgnoreCase(k, absl::string_view(name.data(), name.size()))) ++n;
  }
  return n;
}

void CopyFields(const http::FieldBlock& block,
                std::vector<std::pair<std::string, std::string>>* out) {
  for (size_t i = 0; i < block.size(); ++i) {
    out->emplace_back(std::string(block.name(i)), std::string(block.value(i)));
  }
}

// Large enough for every test body; the proxy enforces its own limits.
http::Limits BackendLimits() {
  http::Limits l;
  l.max_request_body = uint64_t{1} << 32;
  return l;
}

}  // namespace

// ---- TestClient ----------------------------------------------------------------------

TestClient::TestClient(PeerHost& host, wire::Ipv4Address ip, uint16_t port, Instant now,
                       uint16_t local_port)
    : host_(host) {
  local_port_ = local_port != 0 ? local_port : host.NextClientPort();
  absl::StatusOr<tcp::Tcb*> tcb =
      host.stack().tcp().Connect(host.address(), ip, port, now, local_port_);
  if (!tcb.ok()) {
    ADD_FAILURE() << "client connect: " << tcb.status();
    closed_ = true;
    return;
  }
  tcb_ = *tcb;
  tcb_->set_user_data(static_cast<PeerConn*>(this));
  host_.Register(this);
}

TestClient::~TestClient() {
  host_.Unregister(this);
  if (tcb_ != nullptr) Release(/*abort=*/true);
}

void TestClient::Send(std::string_view bytes) {
  out_.append(bytes);
  Flush();
}

void TestClient::Shutdown() {
  shutdown_pending_ = true;
  Flush();
}

void TestClient::Close() {
  if (tcb_ != nullptr) Release(/*abort=*/false);
}

void TestClient::Abort() {
  if (tcb_ != nullptr) Release(/*abort=*/true);
}

void TestClient::Release(bool abort) {
  tcp::Tcb* tcb = tcb_;
  tcb_ = nullptr;
  tcb->set_user_data(nullptr);
  if (abort) {
    tcb->Abort();
  } else {
    tcb->Close();
  }
}

void TestClient::Flush() {
  if (tcb_ == nullptr) return;
  if (!out_.empty()) {
    size_t n = tcb_->Write(Bytes(out_));
    out_.erase(0, n);
  }
  if (out_.empty() && shutdown_pending_) {
    tcb_->Shutdown();
    shutdown_pending_ = false;
  }
}

void TestClient::ReadAll() {
  if (tcb_ == nullptr) return;
  while (tcb_->readable() > 0) {
    std::span<const uint8_t> front = tcb_->Peek();
    received_.append(reinterpret_cast<const char*>(front.data()), front.size());
    tcb_->Consume(front.size());
  }
}

void TestClient::OnEvent(tcp::Tcb* tcb, uint16_t events, Instant) {
  if (tcb != tcb_) return;
  if (events & tcp::kEventConnected) connected_ = true;
  if (events & tcp::kEventWritable) Flush();
  if (reading_ || (events & tcp::kEventClosed)) ReadAll();
  if (tcb_->peer_closed()) peer_closed_ = true;
  if (events & tcp::kEventClosed) {
    closed_ = true;
    close_reason_ = tcb_->close_reason();
    Release(/*abort=*/false);
  }
}

size_t TestClient::Poll(Instant) {
  if (tcb_ == nullptr) return 0;
  size_t work = 0;
  if (reading_ && tcb_->readable() > 0) {
    ReadAll();
    ++work;
  }
  if (tcb_->peer_closed() && !peer_closed_) {
    peer_closed_ = true;
    ++work;
  }
  return work;
}

// ---- Parsing responses ---------------------------------------------------------------

std::optional<std::string> ParsedResponse::Get(std::string_view name) const {
  return FindField(fields, name);
}
size_t ParsedResponse::Count(std::string_view name) const { return CountField(fields, name); }
std::optional<std::string> ReceivedRequest::Get(std::string_view name) const {
  return FindField(fields, name);
}
size_t ReceivedRequest::Count(std::string_view name) const { return CountField(fields, name); }

ParsedResponses ParseResponses(std::string_view bytes, const std::vector<std::string>& methods,
                               bool peer_closed) {
  ParsedResponses out;
  http::ResponseParser parser;
  std::string buf(bytes);
  size_t next = 0;  // request answered next
  bool in_message = false;
  ParsedResponse current;
  auto expect = [&]() -> bool {
    if (next >= methods.size()) return false;
    std::string m = methods[next++];
    bool upgrade = absl::EndsWith(m, "+upgrade");
    if (upgrade) m.resize(m.size() - 8);
    parser.ExpectResponse({http::MethodFromText(m), upgrade});
    return true;
  };
  if (!expect()) return out;
  for (int guard = 0; guard < 1000000; ++guard) {
    http::Step s = parser.Parse(Bytes(buf));
    if (s.event == http::Event::kNeedMore && peer_closed && s.consumed == buf.size()) {
      buf.erase(0, s.consumed);
      s = parser.Finish();
      if (s.event == http::Event::kDone && !in_message) {
        out.complete = true;
        break;
      }
    }
    switch (s.event) {
      case http::Event::kNeedMore:
        buf.erase(0, s.consumed);
        out.leftover = buf.size();
        return out;
      case http::Event::kHead: {
        const http::ResponseHead& h = parser.head();
        current = ParsedResponse{};
        current.status = h.status();
        current.head = buf.substr(0, s.consumed);
        CopyFields(h.fields(), &current.fields);
        current.chunked = h.framing() == http::BodyFraming::kChunked;
        current.keep_alive = h.keep_alive();
        buf.erase(0, s.consumed);
        if (h.interim()) {
          out.responses.push_back(current);
          continue;
        }
        in_message = true;
        out.complete = false;
        if (h.tunnel()) {
          out.responses.push_back(current);
          out.complete = true;
          out.leftover = buf.size();
          return out;
        }
        continue;
      }
      case http::Event::kBody:
        current.body.append(reinterpret_cast<const char*>(s.data.data()), s.data.size());
        buf.erase(0, s.consumed);
        continue;
      case http::Event::kTrailers:
        buf.erase(0, s.consumed);
        continue;
      case http::Event::kMessageComplete:
        buf.erase(0, s.consumed);
        out.responses.push_back(current);
        in_message = false;
        out.complete = true;
        if (!expect()) {
          out.leftover = buf.size();
          return out;
        }
        continue;
      case http::Event::kDone:
        buf.erase(0, std::min(s.consumed, buf.size()));
        out.leftover = buf.size();
        return out;
      case http::Event::kTunnel:
      case http::Event::kPaused:
        out.leftover = buf.size();
        return out;
      case http::Event::kError:
        out.error = true;
        return out;
    }
  }
  return out;
}

// ---- Backend ------------------------------------------------------------------------

std::string SerializeReply(const Reply& r) {
  std::string s;
  for (const std::string& i : r.interim) s += i;
  absl::StrAppend(&s, "HTTP/1.1 ", r.status, r.reason.empty() ? "" : " ", r.reason, "\r\n");
  for (const auto& [n, v] : r.fields) absl::StrAppend(&s, n, ": ", v, "\r\n");
  switch (r.framing) {
    case Reply::Framing::kContentLength:
      absl::StrAppend(&s, "Content-Length: ", r.body.size(), "\r\n");
      break;
    case Reply::Framing::kChunked:
      s += "Transfer-Encoding: chunked\r\n";
      break;
    case Reply::Framing::kClose:
    case Reply::Framing::kNoBody:
      break;
  }
  if (r.connection_close) s += "Connection: close\r\n";
  s += "\r\n";
  switch (r.framing) {
    case Reply::Framing::kContentLength:
    case Reply::Framing::kClose:
      s += r.body;
      break;
    case Reply::Framing::kChunked: {
      size_t piece = r.chunk_size == 0 ? std::max<size_t>(r.body.size(), 1) : r.chunk_size;
      for (size_t i = 0; i < r.body.size(); i += piece) {
        absl::string_view chunk = absl::string_view(r.body).substr(i, piece);
        absl::StrAppend(&s, absl::Hex(chunk.size()), "\r\n", chunk, "\r\n");
      }
      s += "0\r\n\r\n";
      break;
    }
    case Reply::Framing::kNoBody:
      break;
  }
  return s;
}

class TestBackend::Conn final : public PeerConn {
 public:
  Conn(TestBackend& backend, tcp::Tcb* tcb, uint32_t index)
      : b_(backend), tcb_(tcb), index_(index), parser_(BackendLimits()) {
    tcb_->set_user_data(static_cast<PeerConn*>(this));
    if (b_.echo_) {
      tunnel_ = true;
      out_ = b_.banner_;
      Flush();
    }
  }

  void Shutdown() {
    if (tcb_ != nullptr) tcb_->Shutdown();
  }
  ~Conn() {
    if (tcb_ != nullptr) Release(/*abort=*/true);
  }

  bool open() const { return tcb_ != nullptr; }
  bool idle() const {
    return tcb_ != nullptr && !pending_.has_value() && !in_request_ && in_.empty() &&
           out_.empty() && !tunnel_;
  }
  const std::string& raw() const { return raw_; }
  const std::string& tunnel_bytes() const { return tunnel_bytes_; }
  bool fin() const { return fin_; }
  bool reset() const { return reset_; }

  void OnEvent(tcp::Tcb* tcb, uint16_t events, Instant now) override {
    if (tcb != tcb_) return;
    if (events & tcp::kEventWritable) Flush();
    if (b_.reading_ || (events & tcp::kEventClosed)) Read(now);
    if (tcb_ == nullptr) return;
    if (tcb_->peer_closed()) OnFin();
    if (tcb_ != nullptr && (events & tcp::kEventClosed)) {
      if (tcb_->close_reason() == tcp::CloseReason::kReset) reset_ = true;
      Release(/*abort=*/false);
    }
  }

  size_t Poll(Instant now) {
    if (tcb_ == nullptr) return 0;
    size_t work = 0;
    if (pending_.has_value() && now >= due_) {
      Reply r = std::move(*pending_);
      pending_.reset();
      Execute(r, now);
      ++work;
      if (tcb_ != nullptr) Process(now);
    }
    if (tcb_ != nullptr && b_.reading_ && tcb_->readable() > 0) {
      Read(now);
      ++work;
    }
    if (tcb_ != nullptr && tcb_->peer_closed() && !fin_) {
      OnFin();
      ++work;
    }
    if (tcb_ != nullptr && reset_when_sent_ && tcb_->unsent_or_unacked() == 0) {
      reset_when_sent_ = false;
      Release(/*abort=*/true);
      ++work;
    }
    return work;
  }

  void Release(bool abort) {
    tcp::Tcb* tcb = tcb_;
    tcb_ = nullptr;
    tcb->set_user_data(nullptr);
    if (abort) {
      tcb->Abort();
    } else {
      tcb->Close();
    }
  }

 private:
  void Read(Instant now) {
    if (tcb_ == nullptr) return;
    while (tcb_->readable() > 0) {
      std::span<const uint8_t> front = tcb_->Peek();
      std::string_view data(reinterpret_cast<const char*>(front.data()), front.size());
      raw_.append(data);
      in_.append(data);
      tcb_->Consume(front.size());
    }
    Process(now);
  }

  void OnFin() {
    if (fin_) return;
    fin_ = true;
    if (tunnel_) {
      // Echo the half-close once everything before it went back.
      shutdown_after_flush_ = true;
      Flush();
    } else {
      // The proxy never half-closes an HTTP connection: it is done with it.
      Release(/*abort=*/false);
    }
  }

  void Process(Instant now) {
    for (int guard = 0; guard < 100000 && tcb_ != nullptr; ++guard) {
      if (tunnel_) {
        tunnel_bytes_ += in_;
        out_ += in_;
        in_.clear();
        Flush();
        return;
      }
      if (pending_.has_value() || silent_ || done_) return;
      http::Step s = parser_.Parse(Bytes(in_));
      switch (s.event) {
        case http::Event::kNeedMore:
          in_.erase(0, s.consumed);
          return;
        case http::Event::kHead: {
          const http::RequestHead& h = parser_.head();
          current_ = ReceivedRequest{};
          current_.head = in_.substr(0, s.consumed);
          current_.method = std::string(h.method_text());
          current_.target = std::string(h.target());
          CopyFields(h.fields(), &current_.fields);
          current_.chunked = h.framing() == http::BodyFraming::kChunked;
          upgrade_ = h.upgrade();
          in_request_ = true;
          if (h.expect_continue() && b_.send_continue_) {
            out_ += "HTTP/1.1 100 Continue\r\n\r\n";
            Flush();
          }
          in_.erase(0, s.consumed);
          continue;
        }
        case http::Event::kBody:
          current_.body.append(reinterpret_cast<const char*>(s.data.data()), s.data.size());
          in_.erase(0, s.consumed);
          continue;
        case http::Event::kTrailers:
          in_.erase(0, s.consumed);
          continue;
        case http::Event::kMessageComplete:
        case http::Event::kPaused:
          in_.erase(0, s.consumed);
          Complete(now);
          continue;
        case http::Event::kTunnel:
          return;  // handled at the top once tunnel_ is set
        case http::Event::kDone:
          in_.erase(0, std::min(s.consumed, in_.size()));
          done_ = true;
          return;
        case http::Event::kError:
          ADD_FAILURE() << "backend " << b_.name_ << ": bad request bytes from the proxy: "
                        << http::HttpErrorName(parser_.error()) << " in [" << raw_ << "]";
          done_ = true;
          return;
      }
    }
  }

  void Complete(Instant now) {
    in_request_ = false;
    current_.connection = index_;
    current_.on_connection = served_++;
    b_.requests_.push_back(current_);
    Reply r = b_.handler_ ? b_.handler_(current_) : Reply{};
    if (!b_.handler_) r.body = b_.name_;
    if (r.delay > Duration::Zero()) {
      pending_ = std::move(r);
      due_ = now + pending_->delay;
      return;
    }
    Execute(r, now);
  }

  void Execute(const Reply& r, Instant now) {
    (void)now;
    bool was_upgrade = upgrade_;
    upgrade_ = false;
    switch (r.kind) {
      case Reply::Kind::kRespond:
        if (was_upgrade) parser_.RejectUpgrade();
        out_ += SerializeReply(r);
        after_ = (r.connection_close || r.framing == Reply::Framing::kClose) ? Reply::After::kClose
                                                                             : r.after;
        break;
      case Reply::Kind::kRaw:
        if (was_upgrade) parser_.RejectUpgrade();
        out_ += r.raw;
        after_ = r.after;
        break;
      case Reply::Kind::kReset:
        Release(/*abort=*/true);
        return;
      case Reply::Kind::kClose:
        Release(/*abort=*/false);
        return;
      case Reply::Kind::kSilent:
        silent_ = true;
        return;
      case Reply::Kind::kUpgrade: {
        std::optional<std::string> protocol = current_.Get("upgrade");
        out_ += absl::StrCat("HTTP/1.1 101 Switching Protocols\r\nUpgrade: ",
                             protocol.value_or("websocket"), "\r\nConnection: Upgrade\r\n\r\n");
        if (was_upgrade) parser_.AcceptUpgrade();
        tunnel_ = true;
        break;
      }
    }
    Flush();
  }

  void Flush() {
    if (tcb_ == nullptr) return;
    if (!out_.empty()) {
      size_t n = tcb_->Write(Bytes(out_));
      out_.erase(0, n);
    }
    if (!out_.empty()) return;
    if (shutdown_after_flush_) {
      shutdown_after_flush_ = false;
      tcb_->Shutdown();
    }
    if (after_ == Reply::After::kClose) {
      after_ = Reply::After::kKeepOpen;
      done_ = true;
      Release(/*abort=*/false);
    } else if (after_ == Reply::After::kReset) {
      // The bytes must leave before the reset (an RST discards them).
      after_ = Reply::After::kKeepOpen;
      done_ = true;
      reset_when_sent_ = true;
    }
  }

  TestBackend& b_;
  tcp::Tcb* tcb_;
  uint32_t index_;
  http::RequestParser parser_;
  std::string in_;
  std::string raw_;
  std::string tunnel_bytes_;
  std::string out_;
  ReceivedRequest current_;
  uint32_t served_ = 0;
  std::optional<Reply> pending_;
  Instant due_;
  Reply::After after_ = Reply::After::kKeepOpen;
  bool in_request_ = false;
  bool upgrade_ = false;
  bool tunnel_ = false;
  bool silent_ = false;
  bool done_ = false;
  bool fin_ = false;
  bool reset_ = false;
  bool shutdown_after_flush_ = false;
  bool reset_when_sent_ = false;
};

TestBackend::TestBackend(PeerHost& host, uint16_t port, std::string name)
    : host_(host), port_(port), name_(std::move(name)) {
  absl::StatusOr<tcp::Listener*> l = host.stack().tcp().Listen(host.address(), port);
  if (!l.ok()) {
    ADD_FAILURE() << "backend listen: " << l.status();
    return;
  }
  listener_ = *l;
  listener_->set_user_data(static_cast<PeerAcceptor*>(this));
  host_.Register(this);
}

TestBackend::~TestBackend() {
  host_.Unregister(this);
  conns_.clear();
  if (listener_ != nullptr) host_.stack().tcp().CloseListener(listener_, Instant());
}

void TestBackend::StopListening() {
  if (listener_ == nullptr) return;
  host_.stack().tcp().CloseListener(listener_, Instant());
  listener_ = nullptr;
}

void TestBackend::CloseAll(bool abort) {
  for (auto& c : conns_) {
    if (c->open()) c->Release(abort);
  }
}

void TestBackend::ShutdownAll() {
  for (auto& c : conns_) c->Shutdown();
}

void TestBackend::CloseIdle() {
  for (auto& c : conns_) {
    if (c->idle()) c->Release(/*abort=*/false);
  }
}

size_t TestBackend::open_connections() const {
  size_t n = 0;
  for (const auto& c : conns_) n += c->open() ? 1 : 0;
  return n;
}

std::string TestBackend::received_raw(size_t connection) const {
  return connection < conns_.size() ? conns_[connection]->raw() : std::string();
}
std::string TestBackend::tunnel_bytes(size_t connection) const {
  return connection < conns_.size() ? conns_[connection]->tunnel_bytes() : std::string();
}
bool TestBackend::saw_fin(size_t connection) const {
  return connection < conns_.size() && conns_[connection]->fin();
}
bool TestBackend::saw_reset(size_t connection) const {
  return connection < conns_.size() && conns_[connection]->reset();
}

void TestBackend::OnAcceptable(tcp::Listener* listener, Instant now) {
  while (tcp::Tcb* tcb = listener->Accept()) {
    conns_.push_back(std::make_unique<Conn>(*this, tcb, static_cast<uint32_t>(conns_.size())));
    // Data may have come with the handshake's last ACK.
    conns_.back()->OnEvent(tcb, tcp::kEventReadable, now);
  }
}

size_t TestBackend::Poll(Instant now) {
  size_t work = 0;
  for (size_t i = 0; i < conns_.size(); ++i) work += conns_[i]->Poll(now);
  return work;
}

}  // namespace locus::proxy::dataplane::testing
