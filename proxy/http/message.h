// Parsed HTTP/1.1 message heads. Nothing here owns bytes: every string is an
// (offset, length) pair into the caller's buffer, resolved against a base
// pointer that the parser sets when the section is complete.
//
// Lifetime contract (see README.md): the views returned by a head or a field
// block point into the bytes that the parser reported as consumed with the
// kHead / kTrailers event. They are valid while the caller keeps those bytes
// where they were. A caller that moves them (compacting a buffer) calls
// Rebase() with their new address; a caller that drops them must be done
// with the head first. The next message's head overwrites this one.
#ifndef LOCUS_PROXY_HTTP_MESSAGE_H_
#define LOCUS_PROXY_HTTP_MESSAGE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "proxy/http/limits.h"
#include "proxy/http/method.h"

namespace locus::proxy::http {

template <class Head>
class BasicParser;

// RFC 9112 §3.2.
enum class TargetForm : uint8_t { kOrigin, kAbsolute, kAuthority, kAsterisk };

// Fields the parser or the forwarder acts on, recognised once per field line
// (case-insensitively) so that nobody compares names twice.
enum class HeaderId : uint8_t {
  kOther = 0,
  kHost,
  kContentLength,
  kTransferEncoding,
  kConnection,
  kKeepAlive,
  kProxyConnection,
  kTe,
  kTrailer,
  kUpgrade,
  kExpect,
  kVia,
  kXForwardedFor,
  kXForwardedProto,
};

HeaderId HeaderIdFromName(std::string_view name);

// How the content of a message is delimited (RFC 9112 §6.3).
enum class BodyFraming : uint8_t {
  kNone,            // no content (also HEAD/1xx/204/304 responses)
  kContentLength,   // content_length() bytes
  kChunked,
  kCloseDelimited,  // responses only: until the server closes
};

struct FieldRef {
  uint32_t name_offset;
  uint32_t value_offset;
  uint32_t value_length;
  uint16_t name_length;
  HeaderId id;
  uint8_t flags;
};
static_assert(sizeof(FieldRef) == 16);

inline constexpr uint8_t kFieldListedInConnection = 1;

// The field lines of a header or trailer section, in received order.
class FieldBlock {
 public:
  static constexpr size_t npos = static_cast<size_t>(-1);

  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  std::string_view name(size_t i) const {
    return {base_ + refs_[i].name_offset, refs_[i].name_length};
  }
  // Without leading and trailing whitespace (RFC 9112 §5.1).
  std::string_view value(size_t i) const {
    return {base_ + refs_[i].value_offset, refs_[i].value_length};
  }
  HeaderId id(size_t i) const { return refs_[i].id; }
  // True when a Connection option names this field: it is hop-by-hop
  // (RFC 9110 §7.6.1) and the forwarder drops it.
  bool listed_in_connection(size_t i) const {
    return (refs_[i].flags & kFieldListedInConnection) != 0;
  }

  // Index of the first field at or after `from` whose name equals `name`
  // case-insensitively, or npos.
  size_t Find(std::string_view name, size_t from = 0) const;
  size_t Find(HeaderId id, size_t from = 0) const;
  // Value of the first such field.
  std::optional<std::string_view> Get(std::string_view name) const;
  size_t Count(std::string_view name) const;

  const char* base() const { return base_; }
  void Rebase(const char* base) { base_ = base; }

 private:
  template <class Head>
  friend class BasicParser;

  const char* base_ = nullptr;
  uint32_t count_ = 0;
  std::array<FieldRef, kHeaderCountCapacity> refs_;
};

// What request and response heads share.
class MessageHead {
 public:
  // 0 or 1. HTTP/1.x with x > 1 is read as 1.1 (RFC 9110 §2.5).
  uint8_t version_minor() const { return version_minor_; }
  const FieldBlock& fields() const { return fields_; }
  BodyFraming framing() const { return framing_; }
  // Meaningful for kContentLength; also holds a HEAD or 304 response's
  // Content-Length (has_content_length()) though it frames nothing.
  uint64_t content_length() const { return content_length_; }
  bool has_content_length() const { return has_content_length_; }
  // Whether the connection may carry another message after this one
  // (RFC 9112 §9.3). Computed for requests and final responses (false in
  // interim 1xx and tunnel heads).
  bool keep_alive() const { return keep_alive_; }
  // Connection options seen (RFC 9110 §7.6.1).
  bool connection_close() const { return connection_close_; }
  bool connection_keep_alive() const { return connection_keep_alive_; }
  bool connection_upgrade() const { return connection_upgrade_; }

  // Moves every view to a new copy of the head bytes (see the file comment).
  void Rebase(const char* base) { fields_.Rebase(base); }

 protected:
  template <class Head>
  friend class BasicParser;

  std::string_view Slice(uint32_t offset, uint32_t length) const {
    return {fields_.base() + offset, length};
  }

  FieldBlock fields_;
  uint64_t content_length_ = 0;
  uint8_t version_minor_ = 1;
  BodyFraming framing_ = BodyFraming::kNone;
  bool has_content_length_ = false;
  bool keep_alive_ = false;
  bool connection_close_ = false;
  bool connection_keep_alive_ = false;
  bool connection_upgrade_ = false;
};

class RequestHead : public MessageHead {
 public:
  static constexpr bool kIsRequest = true;

  Method method() const { return method_; }
  std::string_view method_text() const { return Slice(method_offset_, method_length_); }
  std::string_view target() const { return Slice(target_offset_, target_length_); }
  TargetForm target_form() const { return target_form_; }
  // The authority of an absolute-form or authority-form target, else empty.
  std::string_view target_authority() const { return Slice(authority_offset_, authority_length_); }
  // What to send in origin-form: the target itself for origin-form, the path
  // and query of an absolute-form target (possibly empty: send "/", RFC 9112
  // §3.2.1), "*" for asterisk-form, the authority for CONNECT.
  std::string_view path() const { return Slice(path_offset_, path_length_); }
  // The request's host: the target's authority for absolute-form (RFC 9112
  // §3.2.2: the Host field is replaced by it), else the Host field value
  // (empty when an HTTP/1.0 request has none).
  std::string_view host() const { return Slice(host_offset_, host_length_); }
  // "Expect: 100-continue" in an HTTP/1.1 request (RFC 9110 §10.1.1).
  bool expect_continue() const { return expect_continue_; }
  // An HTTP/1.1 request with Upgrade and the "upgrade" Connection option
  // (RFC 9110 §7.8). The parser pauses after such a request, and after
  // CONNECT, until the proxy says whether the protocol switches.
  bool upgrade() const { return upgrade_; }

 private:
  template <class Head>
  friend class BasicParser;

  uint32_t method_offset_ = 0, method_length_ = 0;
  uint32_t target_offset_ = 0, target_length_ = 0;
  uint32_t authority_offset_ = 0, authority_length_ = 0;
  uint32_t path_offset_ = 0, path_length_ = 0;
  uint32_t host_offset_ = 0, host_length_ = 0;
  Method method_ = Method::kOther;
  TargetForm target_form_ = TargetForm::kOrigin;
  bool expect_continue_ = false;
  bool upgrade_ = false;
};

// What the response parser must know about the request it answers
// (RFC 9112 §6.3: HEAD and CONNECT change the framing; 101 needs an Upgrade).
struct ResponseExpectation {
  Method method = Method::kGet;
  bool upgrade = false;

  static ResponseExpectation For(const RequestHead& request) {
    return {request.method(), request.upgrade()};
  }
};

class ResponseHead : public MessageHead {
 public:
  static constexpr bool kIsRequest = false;

  uint16_t status() const { return status_; }
  std::string_view reason() const { return Slice(reason_offset_, reason_length_); }
  // 1xx other than 101: the final response follows on the same parser.
  bool interim() const { return status_ >= 100 && status_ < 200 && status_ != 101; }
  // 101 to an upgrade, or 2xx to CONNECT: after this head the stream is a
  // tunnel (RFC 9110 §15.2.2, §9.3.6).
  bool tunnel() const { return tunnel_; }

 private:
  template <class Head>
  friend class BasicParser;

  uint32_t reason_offset_ = 0, reason_length_ = 0;
  uint16_t status_ = 0;
  bool tunnel_ = false;
};

}  // namespace locus::proxy::http

#endif  // LOCUS_PROXY_HTTP_MESSAGE_H_
