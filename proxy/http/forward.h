// Re-serialising parsed heads for forwarding (RFC 9110 §7.6): the request
// toward the backend, the response toward the client.
//
// What changes on the way through:
//   * the start line: always HTTP/1.1 (RFC 9110 §2.5: an intermediary sends
//     its own version); an absolute-form target becomes origin-form and its
//     authority becomes Host (RFC 9112 §3.2.2);
//   * hop-by-hop fields are dropped (RFC 9110 §7.6.1): Connection and every
//     field its options name, Keep-Alive, Proxy-Connection, TE, Trailer,
//     Upgrade (kept only while switching to a tunnel), and the framing
//     fields Content-Length / Transfer-Encoding, which are written afresh
//     from the chosen OutboundFraming;
//   * Via gets "1.x <pseudonym>" appended (RFC 9110 §7.6.3); requests get
//     the client address appended to X-Forwarded-For and X-Forwarded-Proto
//     set to the listener's scheme (a client's value is replaced).
// Field lines otherwise keep their order, name case and value bytes.
//
// Writers take an output span and return the number of bytes the whole
// output needs. When that is more than the span holds, the span's contents
// are unspecified and the caller retries with a larger one. Nothing here
// allocates.
#ifndef LOCUS_PROXY_HTTP_FORWARD_H_
#define LOCUS_PROXY_HTTP_FORWARD_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "proxy/http/message.h"

namespace locus::proxy::http {

// How the forwarded message's content is delimited.
struct OutboundFraming {
  BodyFraming framing = BodyFraming::kNone;
  uint64_t content_length = 0;  // for kContentLength

  bool operator==(const OutboundFraming&) const = default;
};

// Toward the backend, which we speak HTTP/1.1 to: the request's own
// framing (Content-Length stays, chunked is re-encoded as chunked).
OutboundFraming ChooseRequestFraming(const RequestHead& request);

// Toward a client that sent HTTP/1.`client_minor`. An HTTP/1.1 client gets
// chunked for a chunked or close-delimited response (so its connection can
// persist); an HTTP/1.0 client cannot parse chunked (RFC 9112 §7) and gets
// a close-delimited body instead. Content-Length stays.
OutboundFraming ChooseResponseFraming(const ResponseHead& response, uint8_t client_minor);

struct RequestForwarding {
  // Appended to X-Forwarded-For. Empty: existing values pass unchanged.
  std::string_view client_address;
  // X-Forwarded-Proto: "https" or "http".
  bool client_tls = false;
  // received-by in Via.
  std::string_view via_pseudonym = "locus";
  // Non-empty: the Host value sent to the backend instead of the request's.
  std::string_view host_override;
  // For a request with upgrade(): keep "Upgrade" and "Connection: upgrade"
  // so the backend may switch protocols. False strips them.
  bool allow_upgrade = true;
};

size_t WriteRequestHead(const RequestHead& request, const RequestForwarding& forwarding,
                        const OutboundFraming& framing, std::span<char> out);

struct ResponseForwarding {
  std::string_view via_pseudonym = "locus";
  // The proxy closes the client connection after this response: send
  // "Connection: close" (RFC 9112 §9.6).
  bool close = false;
  // The client spoke HTTP/1.0 and the connection stays open: send
  // "Connection: keep-alive" (RFC 9112 §9.3, Appendix C.2.2).
  bool http10_keep_alive = false;
};

// A 101 keeps Upgrade and gets "Connection: upgrade". Interim responses get
// no framing or Connection fields. A HEAD or 304 response keeps its
// Content-Length as metadata; 1xx and 204 never carry one (RFC 9110 §8.6).
size_t WriteResponseHead(const ResponseHead& response, const ResponseForwarding& forwarding,
                         const OutboundFraming& framing, std::span<char> out);

// Chunked re-encoding (RFC 9112 §7.1): for each piece of content, send
// ChunkHeader, the bytes themselves (zero-copy), then kChunkEnd; finish
// with WriteLastChunk.
inline constexpr size_t kMaxChunkHeaderLength = 18;  // 16 hex digits + CRLF
inline constexpr std::string_view kChunkEnd = "\r\n";

// "<hex size>\r\n" for a chunk of `size` > 0 bytes; returns its length.
size_t WriteChunkHeader(uint64_t size, std::span<char, kMaxChunkHeaderLength> out);

// "0\r\n", the trailer fields that may be forwarded, "\r\n". Trailer fields
// that frame, route or are hop-by-hop (every field with a HeaderId, e.g.
// Content-Length, Host, Transfer-Encoding) are dropped (RFC 9110 §6.5.1).
// `trailers` may be null.
size_t WriteLastChunk(const FieldBlock* trailers, std::span<char> out);

}  // namespace locus::proxy::http

#endif  // LOCUS_PROXY_HTTP_FORWARD_H_
