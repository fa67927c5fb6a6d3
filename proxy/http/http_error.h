// Why the parser rejected a message, and the status the proxy answers with.
// The fast path returns these instead of absl::Status: a malformed message
// costs no allocation, and the caller counts each reason.
#ifndef LOCUS_PROXY_HTTP_HTTP_ERROR_H_
#define LOCUS_PROXY_HTTP_HTTP_ERROR_H_

#include <cstdint>
#include <string_view>

namespace locus::proxy::http {

enum class HttpError : uint8_t {
  kNone = 0,
  // 400 Bad Request (in a response: 502).
  kBareLf,                   // LF not preceded by CR (RFC 9112 §2.2; strict choice)
  kBareCr,                   // CR not followed by LF (RFC 9112 §2.2)
  kTooManyEmptyLines,        // more than kMaxLeadingEmptyLines before the start line
  kBadRequestLine,           // not method SP target SP version (RFC 9112 §3)
  kBadMethod,                // method is not a token (RFC 9110 §9.1)
  kBadTarget,                // request-target syntax or form (RFC 9112 §3.2)
  kBadVersion,               // not HTTP/DIGIT.DIGIT (RFC 9112 §2.3)
  kWhitespaceAfterStartLine, // SP/HTAB first on the first field line (RFC 9112 §2.2)
  kObsFold,                  // line folding (RFC 9112 §5.2)
  kBadFieldName,             // empty or non-token field name (RFC 9110 §5.1)
  kWhitespaceBeforeColon,    // "Name :" in a request (RFC 9112 §5.1)
  kMissingColon,             // field line without ':' (RFC 9112 §5)
  kAmbiguousFieldName,       // Content_Length / Transfer_Encoding (see README)
  kBadFieldValue,            // CTL/NUL/CR/LF in a value (RFC 9110 §5.5)
  kMissingHost,              // HTTP/1.1 request without Host (RFC 9112 §3.2)
  kDuplicateHost,            // more than one Host line (RFC 9112 §3.2)
  kBadHost,                  // Host value is not uri-host [":" port] (RFC 9110 §7.2)
  kBadContentLength,         // not 1*DIGIT, or a list, or overflow (RFC 9110 §8.6)
  kDifferentContentLengths,  // several Content-Length lines that differ (RFC 9112 §6.3)
  kContentLengthAndChunked,  // Content-Length with Transfer-Encoding (RFC 9112 §6.1, §6.3)
  kBadTransferEncoding,      // syntax, chunked not final, chunked twice (RFC 9112 §6.1, §6.3, §7)
  kTransferEncodingInHttp10, // RFC 9112 §6.1
  kBadConnection,            // Connection value is not a list of tokens (RFC 9110 §7.6.1)
  kTooManyConnectionOptions, // more than kMaxConnectionOptions
  kConnectWithContent,       // CONNECT with Content-Length > 0 or Transfer-Encoding (RFC 9110 §9.3.6)
  kBadChunkSize,             // not 1*HEXDIG, or overflow (RFC 9112 §7.1)
  kBadChunkExtension,        // chunk-ext syntax (RFC 9112 §7.1.1)
  kChunkLineTooLong,         // over Limits::max_chunk_line
  kTooMuchChunkExtension,    // chunk lines over kMaxChunkLineExcess in one message
  kBadChunkTerminator,       // chunk data not followed by CRLF (RFC 9112 §7.1)
  kTruncated,                // the peer closed in the middle of a message
  // 413 Content Too Large (RFC 9110 §15.5.14).
  kBodyTooLarge,
  // 414 URI Too Long (RFC 9110 §15.5.15).
  kStartLineTooLong,
  // 417 Expectation Failed (RFC 9110 §10.1.1).
  kUnsupportedExpectation,
  // 431 Request Header Fields Too Large (RFC 6585 §5).
  kHeaderSectionTooLarge,
  kTooManyFields,
  // 501 Not Implemented (RFC 9112 §6.1: a transfer coding not understood).
  kUnsupportedTransferCoding,
  // 505 HTTP Version Not Supported (RFC 9110 §15.6.6).
  kUnsupportedVersion,
  // Response parser only (always 502 Bad Gateway).
  kBadStatusLine,            // RFC 9112 §4
  kBadStatusCode,            // not 3DIGIT in 100..599 (RFC 9110 §15)
  kUnexpected101,            // 101 to a request that asked for no upgrade (RFC 9110 §15.2.2)
  kUnsolicitedResponse,      // bytes from the server with no request outstanding
  // Misuse of the API (e.g. fewer bytes than the parser still holds).
  kInvalidCall,
  kCount,
};

std::string_view HttpErrorName(HttpError e);

// The status a server answers a request with when its parser fails with `e`.
uint16_t RequestErrorStatus(HttpError e);

// What the proxy sends the client when the response parser fails: the
// response is discarded and replaced (RFC 9112 §6.3, RFC 9110 §15.6.3).
inline constexpr uint16_t kResponseErrorStatus = 502;

}  // namespace locus::proxy::http

#endif  // LOCUS_PROXY_HTTP_HTTP_ERROR_H_
