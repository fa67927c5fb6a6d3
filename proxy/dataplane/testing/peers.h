// Test peers on the TCP event API: a client that sends raw bytes and keeps
// everything it receives, and a small scripted HTTP/1.1 server (the
// backend) whose every answer is chosen per request by the test.
#ifndef LOCUS_PROXY_DATAPLANE_TESTING_PEERS_H_
#define LOCUS_PROXY_DATAPLANE_TESTING_PEERS_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "proxy/dataplane/testing/test_net.h"
#include "proxy/http/http_parser.h"

namespace locus::proxy::dataplane::testing {

// ---- Client ------------------------------------------------------------------------

class TestClient final : public PeerConn, public PeerPollable {
 public:
  // Connects from host:`local_port` (0: the host's next port) to `ip`:`port`.
  TestClient(PeerHost& host, wire::Ipv4Address ip, uint16_t port, Instant now,
             uint16_t local_port = 0);
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  void Send(std::string_view bytes);
  void Shutdown();  // FIN after what was sent
  void Close();     // releases the connection (graceful unless unread input)
  void Abort();     // RST
  // Stops (false) or resumes reading: unread bytes fill the receive window.
  void set_reading(bool on) { reading_ = on; }

  const std::string& received() const { return received_; }
  std::string Take() { return std::exchange(received_, {}); }
  bool connected() const { return connected_; }
  bool peer_closed() const { return peer_closed_; }  // FIN seen
  bool closed() const { return closed_; }            // terminated (any reason)
  tcp::CloseReason close_reason() const { return close_reason_; }
  bool reset() const {
    return closed_ && (close_reason_ == tcp::CloseReason::kReset ||
                       close_reason_ == tcp::CloseReason::kRefused);
  }
  bool refused() const { return closed_ && close_reason_ == tcp::CloseReason::kRefused; }
  bool released() const { return tcb_ == nullptr; }
  size_t unsent() const { return out_.size(); }
  tcp::Tcb* tcb() { return tcb_; }
  uint16_t local_port() const { return local_port_; }

  void OnEvent(tcp::Tcb* tcb, uint16_t events, Instant now) override;
  size_t Poll(Instant now) override;

 private:
  void ReadAll();
  void Flush();
  void Release(bool abort);

  PeerHost& host_;
  tcp::Tcb* tcb_ = nullptr;
  uint16_t local_port_ = 0;
  std::string out_;
  std::string received_;
  bool reading_ = true;
  bool connected_ = false;
  bool peer_closed_ = false;
  bool closed_ = false;
  bool shutdown_pending_ = false;
  tcp::CloseReason close_reason_ = tcp::CloseReason::kNone;
};

// ---- Responses seen by a client -----------------------------------------------------

struct ParsedResponse {
  uint16_t status = 0;
  std::string head;  // raw, as received
  std::vector<std::pair<std::string, std::string>> fields;
  std::string body;  // content, chunked framing removed
  bool chunked = false;
  bool keep_alive = false;
  std::optional<std::string> Get(std::string_view name) const;  // first, case-insensitive
  size_t Count(std::string_view name) const;
};

struct ParsedResponses {
  std::vector<ParsedResponse> responses;  // interim (1xx) ones included
  bool complete = false;  // the last one ended (not cut short)
  bool error = false;     // the bytes are not valid HTTP/1.1 responses
  size_t leftover = 0;    // bytes after the last complete response
};

// Parses responses to `requests` (methods in order: "HEAD" expects no body).
// `peer_closed` says whether the connection ended (close-delimited bodies).
ParsedResponses ParseResponses(std::string_view bytes, const std::vector<std::string>& methods,
                               bool peer_closed = false);

// ---- Backend ------------------------------------------------------------------------

// A request as the backend received it.
struct ReceivedRequest {
  std::string head;  // raw bytes of the head
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string body;  // dechunked
  bool chunked = false;
  uint32_t connection = 0;      // index of the backend connection (0-based)
  uint32_t on_connection = 0;   // index of the request on that connection
  std::optional<std::string> Get(std::string_view name) const;
  size_t Count(std::string_view name) const;
};

struct Reply {
  enum class Kind : uint8_t {
    kRespond,    // status line, fields, framing and body from below
    kRaw,        // `raw` verbatim, then `after`
    kReset,      // RST at once (nothing sent)
    kClose,      // FIN at once (nothing sent)
    kSilent,     // never answer
    kUpgrade,    // 101, then echo every byte (FIN answered with FIN)
  };
  enum class Framing : uint8_t { kContentLength, kChunked, kClose, kNoBody };
  enum class After : uint8_t { kKeepOpen, kClose, kReset };

  Kind kind = Kind::kRespond;
  uint16_t status = 200;
  std::string reason = "OK";
  std::vector<std::pair<std::string, std::string>> fields;
  std::string body;
  Framing framing = Framing::kContentLength;
  size_t chunk_size = 0;       // chunked: pieces of this size (0: one chunk)
  bool connection_close = false;  // sends "Connection: close" and closes after
  std::vector<std::string> interim;  // raw 1xx heads sent first
  Duration delay = Duration::Zero();
  std::string raw;
  After after = After::kKeepOpen;
};

class TestBackend final : public PeerAcceptor, public PeerPollable {
 public:
  using Handler = std::function<Reply(const ReceivedRequest&)>;

  // Listens on the host's address at `port`. The default handler answers
  // 200 with body "<name>".
  TestBackend(PeerHost& host, uint16_t port, std::string name);
  ~TestBackend();
  TestBackend(const TestBackend&) = delete;
  TestBackend& operator=(const TestBackend&) = delete;

  void set_handler(Handler h) { handler_ = std::move(h); }
  // Answer "Expect: 100-continue" with 100 before the body (default on).
  void set_send_continue(bool on) { send_continue_ = on; }
  // Stop reading request bytes (their window fills up).
  void set_reading(bool on) { reading_ = on; }
  // Raw TCP instead of HTTP: new connections send `banner`, then echo every
  // byte and answer a FIN with a FIN (for L4 listeners).
  void set_echo(bool on, std::string banner = "") {
    echo_ = on;
    banner_ = std::move(banner);
  }
  // Half-closes every open connection (FIN) and keeps it.
  void ShutdownAll();
  // Stops listening (later connects are refused) and resets every
  // connection, or closes them gracefully.
  void StopListening();
  void CloseAll(bool abort);
  // Closes (FIN) every connection that is between requests.
  void CloseIdle();

  const std::string& name() const { return name_; }
  uint16_t port() const { return port_; }
  const std::vector<ReceivedRequest>& requests() const { return requests_; }
  size_t connections_accepted() const { return conns_.size(); }
  size_t open_connections() const;
  // Raw bytes received by every connection, in order, and tunnel bytes.
  std::string received_raw(size_t connection) const;
  std::string tunnel_bytes(size_t connection) const;
  bool saw_fin(size_t connection) const;
  bool saw_reset(size_t connection) const;

  void OnAcceptable(tcp::Listener* listener, Instant now) override;
  size_t Poll(Instant now) override;

 private:
  class Conn;
  friend class Conn;

  PeerHost& host_;
  uint16_t port_;
  std::string name_;
  tcp::Listener* listener_ = nullptr;
  Handler handler_;
  bool send_continue_ = true;
  bool reading_ = true;
  bool echo_ = false;
  std::string banner_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<ReceivedRequest> requests_;
};

// Serializes a reply as the backend would (for expected bytes in tests).
std::string SerializeReply(const Reply& r);

}  // namespace locus::proxy::dataplane::testing

#endif  // LOCUS_PROXY_DATAPLANE_TESTING_PEERS_H_
