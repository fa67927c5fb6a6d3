// Per-listener limits of the HTTP/1.1 parser. Every limit is a named default,
// chosen next to what nginx, Envoy and HAProxy ship, and every one is tested
// at the limit (accepted) and at limit+1 (rejected with its status code).
#ifndef LOCUS_PROXY_HTTP_LIMITS_H_
#define LOCUS_PROXY_HTTP_LIMITS_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"

namespace locus::proxy::http {

// Bytes of the request line (or status line) without its CRLF. nginx's
// large_client_header_buffers and Envoy both allow 8 KiB lines. Over it: 414
// (RFC 9112 §3: "MUST respond with a 414" for a too-long request-target).
inline constexpr uint32_t kDefaultMaxStartLine = 8 * 1024;

// Bytes of the header section after the start line, counting every field line
// with its CRLF and the final empty line's CRLF. Envoy defaults to 60 KiB,
// nginx to 4 x 8 KiB; we take 64 KiB. Over it: 431 (RFC 6585 §5). The trailer
// section of a chunked message has a budget of the same size of its own.
inline constexpr uint32_t kDefaultMaxHeaderSection = 64 * 1024;

// Field lines in the header section (and, separately, in the trailer
// section). Envoy's default max_headers_count. Over it: 431.
inline constexpr uint32_t kDefaultMaxHeaderCount = 100;

// The fixed capacity of a parsed field table: Limits::max_header_count may be
// raised up to this, never past it, so that a parser never allocates.
inline constexpr uint32_t kHeaderCountCapacity = 128;

// One chunk-size line with its chunk extensions, without CRLF. Nobody needs
// kilobytes of chunk extensions; an unbounded line is a known denial of
// service. Over it: 400.
inline constexpr uint32_t kDefaultMaxChunkLine = 4 * 1024;

// Request content, counted after chunked decoding. nginx's
// client_max_body_size default. Over it: 413. Responses are not limited.
inline constexpr uint64_t kDefaultMaxRequestBody = 1024 * 1024;

// Upper bounds for the configurable sizes, so that offsets fit in 32 bits.
inline constexpr uint32_t kMaxConfigurableLine = 1024 * 1024;
inline constexpr uint32_t kMaxConfigurableSection = 16 * 1024 * 1024;

// Protocol constants (not per listener).
//
// Empty lines (CRLF) ignored before a request line (RFC 9112 §2.2: "SHOULD
// ignore at least one empty line"). More: 400.
inline constexpr uint32_t kMaxLeadingEmptyLines = 4;
// Options in the Connection fields of one message. Each option names a field
// to strip; the bound keeps that marking O(options x fields). More: 400.
inline constexpr uint32_t kMaxConnectionOptions = 32;

// Per message, the bytes of chunk-size lines past the 16th of each line
// (extensions, padding zeros). Without it a chunked body within
// max_request_body could carry gigabytes of extensions (1 data byte per
// 4 KiB line). Normal messages have none. More: 400.
inline constexpr uint64_t kMaxChunkLineExcess = 64 * 1024;
inline constexpr uint32_t kChunkLineFreeBytes = 16;

struct Limits {
  uint32_t max_start_line = kDefaultMaxStartLine;
  uint32_t max_header_section = kDefaultMaxHeaderSection;
  uint32_t max_header_count = kDefaultMaxHeaderCount;
  uint32_t max_chunk_line = kDefaultMaxChunkLine;
  uint64_t max_request_body = kDefaultMaxRequestBody;

  // For configuration time: InvalidArgument when a limit is zero or above
  // its upper bound (kHeaderCountCapacity, kMaxConfigurableLine, ...).
  absl::Status Validate() const;
};

}  // namespace locus::proxy::http

#endif  // LOCUS_PROXY_HTTP_LIMITS_H_
