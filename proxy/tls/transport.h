// Moving ciphertext between a TlsConnection and a byte transport with the
// interface of tcp::Tcb (stack/tcp/tcb.h): readable(), Peek(), Consume(),
// peer_closed() for input and Write() for output. Templates, so that this
// package does not depend on the TCP stack and tests can use a fake.
#ifndef LOCUS_PROXY_TLS_TRANSPORT_H_
#define LOCUS_PROXY_TLS_TRANSPORT_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "proxy/tls/connection.h"

namespace locus::proxy::tls {

// Feeds what `from` received into `tls`, zero-copy from the transport's
// buffers into the TLS input buffer, as much as fits; at the end of the
// stream (peer_closed() and nothing left to read) reports EOF. Returns the
// bytes moved.
template <typename Transport>
size_t PullCiphertext(Transport& from, TlsConnection& tls) {
  size_t moved = 0;
  while (from.readable() > 0) {
    std::span<const uint8_t> front = from.Peek();
    if (front.empty()) break;
    size_t n = tls.FeedCiphertext(front);
    if (n == 0) break;
    from.Consume(n);
    moved += n;
  }
  if (from.readable() == 0 && from.peer_closed()) tls.FeedEof();
  return moved;
}

// Writes pending ciphertext into `to` until it is all sent or the transport
// takes no more (it then signals writable later). Returns the bytes moved.
template <typename Transport>
size_t PushCiphertext(TlsConnection& tls, Transport& to) {
  size_t moved = 0;
  while (true) {
    std::span<const uint8_t> pending = tls.PendingCiphertext();
    if (pending.empty()) break;
    size_t n = to.Write(pending);
    tls.ConsumeCiphertext(n);
    moved += n;
    if (n < pending.size()) break;
  }
  return moved;
}

// The plaintext stream over a transport, shared by both ends of a proxied
// exchange (the client's TLS and the backend's): one implementation of the
// record-sized reads and of OpenSSL's write retry rule.
//
// Decrypts what `from` received, appending it to `out` until `out` holds
// `limit` bytes or nothing more is readable now; answers what reading
// produced (a KeyUpdate, the end of the handshake). Returns the plaintext
// bytes appended.
template <typename Transport>
size_t ReadPlaintextInto(Transport& from, TlsConnection& tls, std::string& out,
                         size_t limit) {
  size_t total = 0;
  // One record at most per round, then more ciphertext from the transport.
  while (out.size() < limit) {
    PullCiphertext(from, tls);
    size_t old = out.size();
    size_t room = limit - old < kMaxRecordPlaintext ? limit - old : kMaxRecordPlaintext;
    out.resize(old + room);
    size_t n = tls.ReadPlaintext({reinterpret_cast<uint8_t*>(out.data()) + old, room});
    out.resize(old + n);
    if (n == 0) break;
    total += n;
  }
  PushCiphertext(tls, from);
  return total;
}

// Encrypts `data` as records for as long as the transport takes all of
// their ciphertext; what the TLS output buffer still holds goes on the next
// writable event. Returns the plaintext bytes taken: a short count leaves
// the rest to the caller, which must offer it first next time (OpenSSL's
// write retry rule). 0 while the handshake is not done.
template <typename Transport>
size_t WritePlaintextTo(TlsConnection& tls, Transport& to, std::span<const uint8_t> data) {
  size_t total = 0;
  while (total < data.size()) {
    size_t n = tls.WritePlaintext(data.subspan(total));
    total += n;
    PushCiphertext(tls, to);
    if (n == 0 || tls.pending_ciphertext() > 0) break;
  }
  return total;
}

}  // namespace locus::proxy::tls

#endif  // LOCUS_PROXY_TLS_TRANSPORT_H_
