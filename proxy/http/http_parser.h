// Incremental, zero-copy HTTP/1.1 parser for requests and responses
// (RFC 9110 semantics, RFC 9112 syntax), strict about anything that could
// let two parties frame a message differently.
//
// Feeding contract. The caller keeps a buffer of the bytes it has received
// and not yet dropped, and calls Parse(buffer) whenever bytes arrive (one at
// a time or many). Each call returns one Step:
//   * consumed: how many bytes at the front of the buffer the parser is done
//     with. The caller drops them before the next call (after it has used
//     the event's views, see below). Bytes not consumed must be passed again,
//     at the front of the next call, followed by whatever arrived since.
//   * event: what happened. kNeedMore means "feed me more". Any other event
//     may be followed by more events from the same bytes: call Parse again
//     (with the buffer minus `consumed`) until kNeedMore.
// The parser never rescans: it remembers how far it looked (pending()).
// It does no I/O, no allocation and no virtual call.
//
// Zero copy. Body and tunnel bytes come back as spans into the buffer. The
// start line and header fields are (offset, length) pairs resolved against
// the head bytes: a head is retained in the caller's buffer (not consumed)
// until it is complete, then reported with kHead and consumed. Its views stay
// valid while the caller keeps those bytes in place (message.h); the caller
// must finish with head() before it drops them or calls Parse after
// kMessageComplete. Trailers work the same way (kTrailers).
//
// Errors: a kError step, after which the parser stays in error. error() says
// why and error_status() which status to answer with (the proxy sends it and
// closes). The response parser's status is always 502.
#ifndef LOCUS_PROXY_HTTP_HTTP_PARSER_H_
#define LOCUS_PROXY_HTTP_HTTP_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "proxy/http/http_error.h"
#include "proxy/http/limits.h"
#include "proxy/http/message.h"

namespace locus::proxy::http {

enum class Event : uint8_t {
  kNeedMore,         // everything usable was used; feed more bytes
  kHead,             // head() is complete
  kBody,             // data: a piece of content (chunked framing removed)
  kTrailers,         // trailers() is complete (chunked, only when non-empty)
  kMessageComplete,  // the message ended; the next one may follow
  kTunnel,           // data: opaque bytes after a protocol switch
  kPaused,           // request parser: call AcceptUpgrade() or RejectUpgrade()
  kDone,             // no more messages on this connection: close it
  kError,            // error(), error_status()
};

std::string_view EventName(Event e);

struct Step {
  Event event = Event::kNeedMore;
  size_t consumed = 0;
  std::span<const uint8_t> data;  // kBody and kTunnel only
};

template <class Head>
class BasicParser {
 public:
  static constexpr bool kIsRequest = Head::kIsRequest;

  // `limits` should pass Limits::Validate(); it is copied, and values
  // outside the valid ranges are clamped to them.
  explicit BasicParser(const Limits& limits = Limits());

  Step Parse(std::span<const uint8_t> in);
  Step Parse(std::string_view in) {
    return Parse(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(in.data()), in.size()));
  }

  // The peer closed its side. Ends a close-delimited response, ends a tunnel,
  // and turns anything half-received into kTruncated.
  Step Finish();

  // Back to the state of a new connection.
  void Reset();

  const Head& head() const { return head_; }
  // For a caller that moved the head bytes (see message.h).
  void RebaseHead(const char* base) { head_.Rebase(base); }
  const FieldBlock& trailers() const { return trailers_; }

  HttpError error() const { return error_; }
  uint16_t error_status() const {
    if constexpr (kIsRequest) {
      return RequestErrorStatus(error_);
    } else {
      return kResponseErrorStatus;
    }
  }

  // Bytes the next Parse() must receive again at the front of its input.
  size_t pending() const { return pending_; }

  // Request parser: after an upgrade request or CONNECT the parser pauses.
  // AcceptUpgrade() when the protocol switched (101 or 2xx to CONNECT): every
  // later byte is tunnel data. RejectUpgrade() when it did not: parsing goes
  // on with the next request (or kDone if the connection is closing).
  // (Defined here: clang 14 rejects out-of-line constrained members.)
  void AcceptUpgrade()
    requires kIsRequest
  {
    if (state_ == State::kError) return;  // keep the first reason
    if (state_ != State::kPaused) {
      Fail(HttpError::kInvalidCall);
      return;
    }
    state_ = State::kTunnel;
  }
  void RejectUpgrade()
    requires kIsRequest
  {
    if (state_ == State::kError) return;  // keep the first reason
    if (state_ != State::kPaused) {
      Fail(HttpError::kInvalidCall);
      return;
    }
    if (head_.keep_alive()) {
      state_ = State::kHead;
      head_fresh_ = true;
    } else {
      state_ = State::kDone;
    }
  }

  // Response parser: what the next response answers. Must be called before
  // each final response's bytes are parsed (interim 1xx responses keep it);
  // bytes with no expectation set are kUnsolicitedResponse. Ignored once the
  // parser is done (the last response closed the connection); any other
  // call while a response is being parsed is kInvalidCall.
  void ExpectResponse(ResponseExpectation expectation)
    requires(!kIsRequest)
  {
    // After a response that closes the connection there is nothing to
    // expect; after an error the first reason stays.
    if (state_ == State::kDone || state_ == State::kError) return;
    if (state_ != State::kAwaitingExpectation) {
      Fail(HttpError::kInvalidCall);
      return;
    }
    expectation_ = expectation;
    state_ = State::kHead;
    head_fresh_ = true;
  }

 private:
  enum class State : uint8_t {
    kAwaitingExpectation,  // response parser between responses
    kHead,                 // start line and field lines
    kBodyLength,
    kChunkLine,
    kChunkData,
    kChunkCr,
    kChunkLf,
    kTrailers,
    kCloseDelimited,
    kMessageDone,  // kMessageComplete not yet reported
    kPaused,
    kTunnel,
    kDone,
    kError,
  };

  Step Fail(HttpError e);
  Step NeedMore(size_t consumed, size_t size);
  void BeginHead();
  void AfterMessage();

  Step ParseHead(const char* in, size_t size, size_t p);
  // True when a whole chunk line was read (*p moves past it); otherwise
  // *out is the step to return.
  bool ParseChunkLine(const char* in, size_t size, size_t* p, Step* out);
  Step ParseTrailers(const char* in, size_t size, size_t p);

  HttpError ParseStartLine(const char* sec, uint32_t length);
  HttpError ParseRequestTarget(const char* sec);
  // Validates one field line at sec[start, start+length) and appends it.
  HttpError ParseFieldLine(const char* sec, uint32_t start, uint32_t length, FieldBlock* block,
                           bool trailer);
  HttpError OnHeaderField(const char* sec, const FieldRef& ref);
  HttpError FinishHead(const char* sec);
  HttpError FinishRequestHead(const char* sec);
  HttpError FinishResponseHead(const char* sec);
  void MarkConnectionListed(const char* sec);

  Limits limits_;
  State state_;
  HttpError error_ = HttpError::kNone;
  size_t pending_ = 0;

  // Line scanning in a retained section; offsets relative to its start.
  uint32_t line_start_ = 0;
  uint32_t scan_ = 0;
  uint32_t fields_start_ = 0;  // end of the start line (0 in trailers)
  bool start_line_done_ = false;
  bool head_fresh_ = false;  // the next head starts: reset per-head state first
  uint32_t empty_lines_ = 0;

  // Per-head facts gathered from field lines.
  uint32_t host_count_ = 0;
  uint32_t host_index_ = 0;
  uint32_t content_length_index_ = 0;
  uint32_t connection_options_ = 0;
  uint8_t chunked_count_ = 0;
  bool transfer_encoding_ = false;
  bool chunked_last_ = false;
  bool other_coding_ = false;
  bool expect_continue_ = false;
  bool expect_other_ = false;
  bool upgrade_field_ = false;

  // Body.
  uint64_t remaining_ = 0;
  uint64_t body_total_ = 0;
  uint64_t chunk_excess_ = 0;

  // Response parser.
  ResponseExpectation expectation_;

  Head head_;
  FieldBlock trailers_;
};

using RequestParser = BasicParser<RequestHead>;
using ResponseParser = BasicParser<ResponseHead>;

extern template class BasicParser<RequestHead>;
extern template class BasicParser<ResponseHead>;

}  // namespace locus::proxy::http

#endif  // LOCUS_PROXY_HTTP_HTTP_PARSER_H_
