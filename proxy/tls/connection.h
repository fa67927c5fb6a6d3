// One TLS connection over bytes the caller moves: no sockets, no file
// descriptors. The TCP connection (a tcp::Tcb of our own stack) stays with
// the caller, who feeds the ciphertext it receives in and sends the
// ciphertext this produces out; the application reads and writes
// plaintext. OpenSSL runs over a BIO pair whose two buffers are the only
// buffering here, each of a fixed size allocated with the connection:
//
//   TCP receive ──FeedCiphertext──► [in: kCiphertextInBufferBytes] ──► SSL
//   TCP send ◄──PendingCiphertext/ConsumeCiphertext── [out: ...] ◄── SSL
//
// Nothing here allocates per record; OpenSSL keeps its own read and write
// record buffers for the life of the connection (SSL_MODE_RELEASE_BUFFERS is
// off, so they are not freed and reallocated when idle).
//
// Driving it (transport.h does the byte moving for a tcp::Tcb):
//   1. Feed what the TCP connection received (as much as fits).
//   2. Advance() while handshaking; then ReadPlaintext() until it returns 0.
//   3. WritePlaintext() what the application has; keep what it did not take.
//   4. Send PendingCiphertext() (and ConsumeCiphertext what was sent)
//      after every call above: handshake messages, alerts, close_notify and
//      records all come out there.
//   Repeat on every readable/writable event. A state() of kFailed or
//   kClosed ends the connection (after step 4, so the peer gets the alert
//   or close_notify).
#ifndef LOCUS_PROXY_TLS_CONNECTION_H_
#define LOCUS_PROXY_TLS_CONNECTION_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "absl/strings/string_view.h"
#include "proxy/tls/counters.h"
#include "proxy/tls/openssl_util.h"
#include "proxy/tls/sni.h"

namespace locus::proxy::tls {

// Ciphertext received and not yet taken by OpenSSL. Any size works (OpenSSL
// assembles records in its own buffer); one maximal record (2^14 + 256 +
// header) avoids extra rounds.
inline constexpr size_t kCiphertextInBufferBytes = 17 * 1024;
// Ciphertext produced and not yet sent. Must hold a maximal record plus
// kWriteReserveBytes, so that a full record is always writable once the
// buffer has drained.
inline constexpr size_t kCiphertextOutBufferBytes = 17 * 1024;
// Room kept free beyond a record's plaintext when encrypting: the record's
// own overhead (at most 256 bytes in TLS 1.3, 2048 in TLS 1.2 in theory but
// 29 for the AEAD suites we allow) and a KeyUpdate that OpenSSL may send
// first.
inline constexpr size_t kWriteReserveBytes = 512;
// Plaintext of one TLS record (RFC 8446 §5.1).
inline constexpr size_t kMaxRecordPlaintext = 16384;

static_assert(kCiphertextOutBufferBytes >=
              kMaxRecordPlaintext + kWriteReserveBytes);

enum class TlsState : uint8_t {
  kHandshaking,
  kOpen,     // application data flows both ways
  kClosing,  // our close_notify is queued; the peer's has not arrived
  kClosed,   // both close_notify seen, or closed without TLS closure
  kFailed,   // fatal error; failure() says why (handshake) or
             // protocol_error() (after it)
};

class TlsConnection {
 public:
  virtual ~TlsConnection();
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  // ---- The ciphertext side: the TCP connection ----------------------------

  // Takes up to bytes.size() bytes received from the peer; returns how many
  // it took (0 when the input buffer is full: read plaintext first).
  size_t FeedCiphertext(std::span<const uint8_t> bytes);
  // The transport will deliver nothing more (TCP FIN or reset). Without the
  // peer's close_notify first, the stream is truncated (truncated()).
  void FeedEof();
  // How many bytes FeedCiphertext would take now.
  size_t ciphertext_space() const;

  // The next contiguous run of ciphertext to send (may be only part of what
  // is pending; empty when nothing is). Valid until the next call.
  std::span<const uint8_t> PendingCiphertext();
  // Marks `n` bytes of PendingCiphertext() as sent.
  void ConsumeCiphertext(size_t n);
  size_t pending_ciphertext() const;

  // ---- The plaintext side ---------------------------------------------------

  // Runs the handshake as far as the bytes fed allow (and retries a
  // close_notify that did not fit). Returns the state.
  TlsState Advance();
  // Decrypts into `out`; returns the bytes written. 0: nothing more for now
  // (feed more ciphertext), or the peer closed (peer_closed()), or the
  // connection failed.
  size_t ReadPlaintext(std::span<uint8_t> out);
  // Encrypts up to data.size() bytes as records; returns how many it took.
  // Fewer (or 0) when the output buffer is full or the handshake is not
  // done: send PendingCiphertext() and call again. After a short count the
  // next call must start with the bytes not taken (OpenSSL's retry rule).
  size_t WritePlaintext(std::span<const uint8_t> data);
  // Queues our close_notify (after everything written before). State
  // becomes kClosing, or kClosed if the peer's close_notify came already.
  // During the handshake it just ends the connection (kClosed).
  void Shutdown();

  // ---- What happened -------------------------------------------------------

  TlsState state() const { return state_; }
  bool handshake_done() const { return handshake_done_; }
  // No more plaintext will come: close_notify received, or the transport
  // ended (truncated() then).
  bool peer_closed() const { return peer_closed_; }
  bool truncated() const { return truncated_; }
  // Why the handshake failed (kNone otherwise).
  TlsFailure failure() const { return failure_; }
  // A fatal error after the handshake (bad record MAC, unexpected message).
  bool protocol_error() const { return protocol_error_; }
  // Last alert description (RFC 8446 §6) we sent / received; -1 if none.
  int last_alert_sent() const { return last_alert_sent_; }
  int last_alert_received() const { return last_alert_received_; }

  // After the handshake: SSL_version() (TLS1_2_VERSION / TLS1_3_VERSION),
  // the cipher suite's OpenSSL name, the ALPN protocol ("" if none) and
  // whether a session was resumed.
  int version() const;
  absl::string_view cipher() const;
  absl::string_view alpn() const;
  bool resumed() const { return resumed_; }

  // The SSL object, for tests and for what this class does not wrap.
  SSL* ssl() const { return ssl_.get(); }

 protected:
  TlsConnection(SslPtr ssl, TlsCounters* counters);

  // Counts a completed handshake; subclasses may check more first.
  virtual void OnHandshakeDone();
  // Maps OpenSSL's error queue (then clears it) to a reason.
  virtual TlsFailure ClassifyFailure(int ssl_error);

  void Fail(TlsFailure reason);
  // Set by callbacks during the handshake, preferred by ClassifyFailure.
  void set_pending_failure(TlsFailure f) { pending_failure_ = f; }
  TlsCounters* counters() const { return counters_; }

 private:
  friend struct TlsCallbacks;

  void DoHandshake();
  void DoShutdown();
  void OnAlert(bool received, int description);

  SslPtr ssl_;
  BIO* network_ = nullptr;  // our end of the pair; SSL owns the other
  TlsCounters* counters_;
  TlsState state_ = TlsState::kHandshaking;
  TlsFailure failure_ = TlsFailure::kNone;
  TlsFailure pending_failure_ = TlsFailure::kNone;
  size_t write_retry_ = 0;  // bytes of an SSL_write to repeat
  int16_t last_alert_sent_ = -1;
  int16_t last_alert_received_ = -1;
  bool handshake_done_ = false;
  bool resumed_ = false;
  bool peer_closed_ = false;
  bool truncated_ = false;
  bool transport_eof_ = false;
  bool shutdown_sent_ = false;
  bool shutdown_pending_ = false;
  bool protocol_error_ = false;
};

// The SSL ex_data slot that points back to the TlsConnection.
int ConnectionExIndex();

}  // namespace locus::proxy::tls

#endif  // LOCUS_PROXY_TLS_CONNECTION_H_
