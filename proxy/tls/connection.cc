#include "proxy/tls/connection.h"

#include <openssl/err.h>

#include <algorithm>
#include <utility>

namespace locus::proxy::tls {
namespace {

TlsFailure ReasonToFailure(int reason) {
  switch (reason) {
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_SHARED_GROUPS:
    case SSL_R_NO_SUITABLE_KEY_SHARE:
    case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
    case SSL_R_NO_SHARED_SIGNATURE_ALGORITHMS:
    case SSL_R_NO_CIPHERS_AVAILABLE:
      return TlsFailure::kNoSharedCipher;
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_VERSION_TOO_HIGH:
    case SSL_R_UNSUPPORTED_SSL_VERSION:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
    case SSL_R_WRONG_SSL_VERSION:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
      return TlsFailure::kUnsupportedVersion;
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
      return TlsFailure::kPlainHttp;
    case SSL_R_UNEXPECTED_EOF_WHILE_READING:
      return TlsFailure::kEof;
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
      return TlsFailure::kCertificateVerify;
    case SSL_R_NO_APPLICATION_PROTOCOL:
    case SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL:
      return TlsFailure::kNoApplicationProtocol;
    case SSL_R_TLSV1_UNRECOGNIZED_NAME:
      return TlsFailure::kUnknownSni;
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_LENGTH_MISMATCH:
    case SSL_R_BAD_PACKET_LENGTH:
    case SSL_R_RECORD_LENGTH_MISMATCH:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_ENCRYPTED_LENGTH_TOO_LONG:
    case SSL_R_UNEXPECTED_MESSAGE:
    case SSL_R_UNEXPECTED_RECORD:
    case SSL_R_BAD_EXTENSION:
    case SSL_R_LENGTH_TOO_SHORT:
    case SSL_R_BAD_LENGTH:
    case SSL_R_BAD_RECORD_TYPE:
    case SSL_R_PARSE_TLSEXT:
    case SSL_R_CLIENTHELLO_TLSEXT:
    case SSL_R_BAD_KEY_SHARE:
    case SSL_R_BAD_DATA:
    case SSL_R_BAD_PSK:
    case SSL_R_BAD_PSK_IDENTITY:
    case SSL_R_NO_COMPRESSION_SPECIFIED:
    case SSL_R_INVALID_COMPRESSION_ALGORITHM:
    case SSL_R_BAD_HANDSHAKE_LENGTH:
    case SSL_R_EXCESSIVE_MESSAGE_SIZE:
    case SSL_R_TOO_MANY_WARN_ALERTS:
    case SSL_R_UNKNOWN_ALERT_TYPE:
    case SSL_R_BAD_LEGACY_VERSION:
    case SSL_R_MISSING_SIGALGS_EXTENSION:
    case SSL_R_MISSING_SUPPORTED_GROUPS_EXTENSION:
    case SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC:
    case SSL_R_RECORD_TOO_SMALL:
    case SSL_R_BAD_CIPHER:
    case SSL_R_BAD_VALUE:
    case SSL_R_NOT_ON_RECORD_BOUNDARY:
    case SSL_R_BAD_KEY_UPDATE:
    case SSL_R_INVALID_CCS_MESSAGE:
    case SSL_R_CCS_RECEIVED_EARLY:
      return TlsFailure::kBadClientHello;
    default:
      break;
  }
  // Alerts the peer sent us are reported as SSL_AD_REASON_OFFSET + alert.
  if (reason >= SSL_AD_REASON_OFFSET) return TlsFailure::kPeerAlert;
  return TlsFailure::kNone;
}

void InfoCallback(const SSL* ssl, int where, int ret);

}  // namespace

// Reaches the private parts of a connection from OpenSSL callbacks.
struct TlsCallbacks {
  static void Alert(const SSL* ssl, int where, int ret) {
    auto* conn = static_cast<TlsConnection*>(
        SSL_get_ex_data(ssl, ConnectionExIndex()));
    if (conn == nullptr) return;
    conn->OnAlert((where & SSL_CB_READ) != 0, ret & 0xff);
  }
};

namespace {

void InfoCallback(const SSL* ssl, int where, int ret) {
  if (where & SSL_CB_ALERT) TlsCallbacks::Alert(ssl, where, ret);
}

}  // namespace

int ConnectionExIndex() {
  static const int index =
      SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

TlsConnection::TlsConnection(SslPtr ssl, TlsCounters* counters)
    : ssl_(std::move(ssl)), counters_(counters) {
  BIO* internal = nullptr;
  if (BIO_new_bio_pair(&internal, kCiphertextOutBufferBytes, &network_,
                       kCiphertextInBufferBytes) != 1) {
    ERR_clear_error();
    network_ = nullptr;
    state_ = TlsState::kFailed;
    failure_ = TlsFailure::kOther;
    return;
  }
  SSL_set_bio(ssl_.get(), internal, internal);
  SSL_set_ex_data(ssl_.get(), ConnectionExIndex(), this);
  SSL_set_info_callback(ssl_.get(), InfoCallback);
  // Records are written whole when they fit (WritePlaintext checks); the
  // caller may move its buffer between a short write and its retry.
  SSL_set_mode(ssl_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE |
                               SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

TlsConnection::~TlsConnection() {
  if (ssl_ != nullptr) SSL_set_ex_data(ssl_.get(), ConnectionExIndex(), nullptr);
  ssl_.reset();
  if (network_ != nullptr) BIO_free(network_);
}

size_t TlsConnection::FeedCiphertext(std::span<const uint8_t> bytes) {
  if (network_ == nullptr || transport_eof_ || bytes.empty()) return 0;
  size_t n = std::min(bytes.size(), ciphertext_space());
  if (n == 0) return 0;
  int written = BIO_write(network_, bytes.data(), static_cast<int>(n));
  return written > 0 ? static_cast<size_t>(written) : 0;
}

void TlsConnection::FeedEof() {
  if (network_ == nullptr || transport_eof_) return;
  transport_eof_ = true;
  BIO_shutdown_wr(network_);
}

size_t TlsConnection::ciphertext_space() const {
  if (network_ == nullptr || transport_eof_) return 0;
  return BIO_ctrl_get_write_guarantee(network_);
}

std::span<const uint8_t> TlsConnection::PendingCiphertext() {
  if (network_ == nullptr) return {};
  char* data = nullptr;
  int n = BIO_nread0(network_, &data);
  if (n <= 0) return {};
  return {reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(n)};
}

void TlsConnection::ConsumeCiphertext(size_t n) {
  if (network_ == nullptr) return;
  while (n > 0) {
    char* data = nullptr;
    int done = BIO_nread(network_, &data, static_cast<int>(n));
    if (done <= 0) break;
    n -= static_cast<size_t>(done);
  }
}

size_t TlsConnection::pending_ciphertext() const {
  return network_ == nullptr ? 0 : BIO_ctrl_pending(network_);
}

TlsState TlsConnection::Advance() {
  if (state_ == TlsState::kHandshaking) {
    DoHandshake();
  } else if (shutdown_pending_) {
    DoShutdown();
  }
  return state_;
}

void TlsConnection::DoHandshake() {
  ERR_clear_error();
  int r = SSL_do_handshake(ssl_.get());
  if (r == 1) {
    OnHandshakeDone();
    return;
  }
  int e = SSL_get_error(ssl_.get(), r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
  Fail(ClassifyFailure(e));
}

void TlsConnection::OnHandshakeDone() {
  state_ = TlsState::kOpen;
  handshake_done_ = true;
  resumed_ = SSL_session_reused(ssl_.get()) == 1;
  if (counters_ == nullptr) return;
  Bump(resumed_ ? counters_->handshakes_resumed : counters_->handshakes_full);
  Bump(counters_->versions[VersionLabelIndex(version())]);
  Bump(counters_->ciphers[CipherLabelIndex(cipher())]);
}

TlsFailure TlsConnection::ClassifyFailure(int ssl_error) {
  TlsFailure from_queue = TlsFailure::kNone;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    if (from_queue == TlsFailure::kNone && ERR_GET_LIB(e) == ERR_LIB_SSL) {
      from_queue = ReasonToFailure(ERR_GET_REASON(e));
    }
  }
  if (pending_failure_ != TlsFailure::kNone) return pending_failure_;
  if (from_queue != TlsFailure::kNone) return from_queue;
  if (ssl_error == SSL_ERROR_SYSCALL || ssl_error == SSL_ERROR_ZERO_RETURN) {
    return transport_eof_ ? TlsFailure::kEof : TlsFailure::kOther;
  }
  return TlsFailure::kOther;
}

void TlsConnection::Fail(TlsFailure reason) {
  ERR_clear_error();
  if (state_ == TlsState::kFailed) return;
  state_ = TlsState::kFailed;
  if (!handshake_done_) {
    failure_ = reason == TlsFailure::kNone ? TlsFailure::kOther : reason;
    if (counters_ != nullptr) {
      Bump(counters_->handshake_failures[static_cast<size_t>(failure_)]);
    }
  } else {
    protocol_error_ = true;
    if (counters_ != nullptr) Bump(counters_->protocol_errors);
  }
}

size_t TlsConnection::ReadPlaintext(std::span<uint8_t> out) {
  if (state_ == TlsState::kHandshaking) DoHandshake();
  if (state_ != TlsState::kOpen && state_ != TlsState::kClosing) return 0;
  if (peer_closed_ || out.empty()) return 0;
  ERR_clear_error();
  size_t n = 0;
  int r = SSL_read_ex(ssl_.get(), out.data(), out.size(), &n);
  if (r == 1) return n;
  int e = SSL_get_error(ssl_.get(), r);
  switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return 0;
    case SSL_ERROR_ZERO_RETURN:
      peer_closed_ = true;
      if (counters_ != nullptr) Bump(counters_->close_notify_received);
      if (shutdown_sent_) state_ = TlsState::kClosed;
      return 0;
    default:
      break;
  }
  TlsFailure reason = ClassifyFailure(e);
  if (transport_eof_ && (reason == TlsFailure::kEof ||
                         e == SSL_ERROR_SYSCALL)) {
    // The TCP connection ended without close_notify: the application
    // decides whether its framing makes that an error (RFC 8446 §6.1).
    peer_closed_ = true;
    truncated_ = true;
    if (counters_ != nullptr) Bump(counters_->truncated);
    if (shutdown_sent_) state_ = TlsState::kClosed;
    return 0;
  }
  Fail(reason);
  return 0;
}

size_t TlsConnection::WritePlaintext(std::span<const uint8_t> data) {
  if (state_ == TlsState::kHandshaking) DoHandshake();
  if (state_ != TlsState::kOpen || shutdown_sent_ || shutdown_pending_) {
    return 0;
  }
  BIO* internal = SSL_get_wbio(ssl_.get());
  size_t total = 0;
  while (total < data.size()) {
    size_t chunk;
    if (write_retry_ > 0) {
      // OpenSSL holds a sealed record of these bytes; repeat the call.
      if (data.size() - total < write_retry_) break;
      chunk = write_retry_;
    } else {
      size_t space = BIO_ctrl_get_write_guarantee(internal);
      if (space <= kWriteReserveBytes) break;
      chunk = std::min({data.size() - total, kMaxRecordPlaintext,
                        space - kWriteReserveBytes});
    }
    ERR_clear_error();
    size_t written = 0;
    int r = SSL_write_ex(ssl_.get(), data.data() + total, chunk, &written);
    if (r == 1) {
      write_retry_ = 0;
      total += written;
      continue;
    }
    int e = SSL_get_error(ssl_.get(), r);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
      write_retry_ = chunk;
      break;
    }
    Fail(ClassifyFailure(e));
    break;
  }
  return total;
}

void TlsConnection::Shutdown() {
  switch (state_) {
    case TlsState::kHandshaking:
      state_ = TlsState::kClosed;
      return;
    case TlsState::kOpen:
      if (!shutdown_sent_ && !shutdown_pending_) DoShutdown();
      return;
    default:
      return;
  }
}

void TlsConnection::DoShutdown() {
  ERR_clear_error();
  int r = SSL_shutdown(ssl_.get());
  if (r >= 0) {
    shutdown_pending_ = false;
    shutdown_sent_ = true;
    state_ = peer_closed_ ? TlsState::kClosed : TlsState::kClosing;
    return;
  }
  int e = SSL_get_error(ssl_.get(), r);
  ERR_clear_error();
  if (e == SSL_ERROR_WANT_WRITE) {
    // The output buffer is full: Advance() retries once it drained.
    shutdown_pending_ = true;
    return;
  }
  shutdown_pending_ = false;
  state_ = TlsState::kClosed;
}

void TlsConnection::OnAlert(bool received, int description) {
  if (received) {
    last_alert_received_ = static_cast<int16_t>(description);
    if (counters_ != nullptr) Bump(counters_->alerts_received);
  } else {
    last_alert_sent_ = static_cast<int16_t>(description);
    if (counters_ != nullptr) Bump(counters_->alerts_sent);
  }
}

int TlsConnection::version() const {
  return handshake_done_ ? SSL_version(ssl_.get()) : 0;
}

absl::string_view TlsConnection::cipher() const {
  if (!handshake_done_) return "";
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl_.get());
  const char* name = c == nullptr ? nullptr : SSL_CIPHER_get_name(c);
  return name == nullptr ? "" : name;
}

absl::string_view TlsConnection::alpn() const {
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_.get(), &data, &len);
  return data == nullptr ? absl::string_view()
                         : absl::string_view(
                               reinterpret_cast<const char*>(data), len);
}

}  // namespace locus::proxy::tls
