// Moving ciphertext between a TlsConnection and a byte transport with the
// interface of tcp::Tcb (stack/tcp/tcb.h): readable(), Peek(), Consume(),
// peer_closed() for input and Write() for output. Templates, so that this
// package does not depend on the TCP stack and tests can use a fake.
#ifndef LOCUS_PROXY_TLS_TRANSPORT_H_
#define LOCUS_PROXY_TLS_TRANSPORT_H_

#include <cstddef>
#include <cstdint>
#include <span>

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

}  // namespace locus::proxy::tls

#endif  // LOCUS_PROXY_TLS_TRANSPORT_H_
