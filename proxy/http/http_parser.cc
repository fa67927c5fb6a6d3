#include "proxy/http/http_parser.h"

#include <cstring>
#include <limits>

#include "proxy/http/chars.h"

namespace locus::proxy::http {
namespace {

using chars::All;
using chars::EqualsIgnoreCase;
using chars::Is;
using chars::IsOws;

std::string_view TrimLeftOws(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  return s;
}

size_t TokenLength(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && Is(s[i], chars::kTchar)) ++i;
  return i;
}

// HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 §2.3).
bool ParseVersion(std::string_view v, int* major, int* minor) {
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || !Is(v[5], chars::kDigit) || v[6] != '.' ||
      !Is(v[7], chars::kDigit)) {
    return false;
  }
  *major = v[5] - '0';
  *minor = v[7] - '0';
  return true;
}

// reg-name with every '%' starting a pct-encoded octet (RFC 3986 §3.2.2).
bool ValidRegName(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (!Is(s[i], chars::kRegName)) return false;
    if (s[i] == '%') {
      if (i + 2 >= s.size() || !Is(s[i + 1], chars::kHexDigit) ||
          !Is(s[i + 2], chars::kHexDigit)) {
        return false;
      }
      i += 2;
    }
  }
  return true;
}

// uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2), with a non-empty
// host. The port, when present, is at most 65535.
bool ValidAuthority(std::string_view a, bool require_port) {
  size_t host_end;
  if (!a.empty() && a[0] == '[') {
    const size_t close = a.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : a.substr(1, close - 1)) {
      if (!Is(c, chars::kRegName) && c != ':') return false;
    }
    host_end = close + 1;
  } else {
    host_end = a.find(':');
    if (host_end == std::string_view::npos) host_end = a.size();
    if (host_end == 0 || !ValidRegName(a.substr(0, host_end))) return false;
  }
  if (host_end == a.size()) return !require_port;
  if (a[host_end] != ':') return false;
  const std::string_view port = a.substr(host_end + 1);
  if (port.empty()) return !require_port;  // port = *DIGIT
  if (port.size() > 5 || !All(port, chars::kDigit)) return false;
  uint32_t value = 0;
  for (char c : port) value = value * 10 + static_cast<uint32_t>(c - '0');
  return value <= 65535;
}

// *( OWS ";" OWS token BWS "=" BWS ( token / quoted-string ) ), the
// transfer-parameters of RFC 9112 §7 (a parameter is required after ";").
bool ValidTransferParameters(std::string_view s) {
  for (;;) {
    s = TrimLeftOws(s);
    if (s.empty()) return true;
    if (s[0] != ';') return false;
    s = TrimLeftOws(s.substr(1));
    const size_t name = TokenLength(s);
    if (name == 0) return false;
    s = TrimLeftOws(s.substr(name));
    if (s.empty() || s[0] != '=') return false;
    s = TrimLeftOws(s.substr(1));
    size_t value = s.empty() || s[0] != '"' ? TokenLength(s) : chars::QuotedStringLength(s);
    if (value == 0) return false;
    s.remove_prefix(value);
  }
}

// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
// (RFC 9112 §7.1.1). Whitespace not followed by ";" is invalid.
bool ValidChunkExtensions(std::string_view s) {
  while (!s.empty()) {
    s = TrimLeftOws(s);
    if (s.empty() || s[0] != ';') return false;
    s = TrimLeftOws(s.substr(1));
    const size_t name = TokenLength(s);
    if (name == 0) return false;
    s.remove_prefix(name);
    const std::string_view after = TrimLeftOws(s);
    if (!after.empty() && after[0] == '=') {
      s = TrimLeftOws(after.substr(1));
      size_t value = s.empty() || s[0] != '"' ? TokenLength(s) : chars::QuotedStringLength(s);
      if (value == 0) return false;
      s.remove_prefix(value);
    }
  }
  return true;
}

// "Content_Length" and "Transfer_Encoding": distinct fields to us, but
// servers behind CGI-style interfaces map '_' and '-' to the same variable
// and may frame the body by them.
bool IsUnderscoredFramingName(std::string_view name) {
  if (name.size() != 14 && name.size() != 17) return false;
  if (name.find('_') == std::string_view::npos) return false;
  const std::string_view target = name.size() == 14 ? "content-length" : "transfer-encoding";
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i] == '_' ? '-' : chars::Lower(name[i]);
    if (c != target[i]) return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

}  // namespace

std::string_view EventName(Event e) {
  switch (e) {
    case Event::kNeedMore: return "need-more";
    case Event::kHead: return "head";
    case Event::kBody: return "body";
    case Event::kTrailers: return "trailers";
    case Event::kMessageComplete: return "message-complete";
    case Event::kTunnel: return "tunnel";
    case Event::kPaused: return "paused";
    case Event::kDone: return "done";
    case Event::kError: return "error";
  }
  return "unknown";
}

namespace {

// A parser must stay memory-safe even when handed limits that fail
// Validate(): the field table is fixed and offsets are 32-bit.
Limits Clamp(Limits l) {
  auto clamp = [](uint32_t v, uint32_t lo, uint32_t hi) { return v < lo ? lo : v > hi ? hi : v; };
  l.max_start_line = clamp(l.max_start_line, 1, kMaxConfigurableLine);
  l.max_chunk_line = clamp(l.max_chunk_line, 1, kMaxConfigurableLine);
  l.max_header_section = clamp(l.max_header_section, 2, kMaxConfigurableSection);
  l.max_header_count = clamp(l.max_header_count, 1, kHeaderCountCapacity);
  return l;
}

}  // namespace

template <class Head>
BasicParser<Head>::BasicParser(const Limits& limits) : limits_(Clamp(limits)) {
  Reset();
}

template <class Head>
void BasicParser<Head>::Reset() {
  state_ = kIsRequest ? State::kHead : State::kAwaitingExpectation;
  error_ = HttpError::kNone;
  pending_ = 0;
  expectation_ = ResponseExpectation();
  trailers_.count_ = 0;
  trailers_.base_ = nullptr;
  BeginHead();
}

template <class Head>
void BasicParser<Head>::BeginHead() {
  head_fresh_ = false;
  line_start_ = 0;
  scan_ = 0;
  fields_start_ = 0;
  start_line_done_ = false;
  empty_lines_ = 0;
  host_count_ = 0;
  host_index_ = 0;
  content_length_index_ = 0;
  connection_options_ = 0;
  chunked_count_ = 0;
  transfer_encoding_ = false;
  chunked_last_ = false;
  other_coding_ = false;
  expect_continue_ = false;
  expect_other_ = false;
  upgrade_field_ = false;
  remaining_ = 0;
  body_total_ = 0;
  chunk_excess_ = 0;

  // Scalars only: the field array is overwritten as lines arrive.
  head_.fields_.base_ = nullptr;
  head_.fields_.count_ = 0;
  head_.content_length_ = 0;
  head_.version_minor_ = 1;
  head_.framing_ = BodyFraming::kNone;
  head_.has_content_length_ = false;
  head_.keep_alive_ = false;
  head_.connection_close_ = false;
  head_.connection_keep_alive_ = false;
  head_.connection_upgrade_ = false;
  if constexpr (kIsRequest) {
    head_.method_offset_ = head_.method_length_ = 0;
    head_.target_offset_ = head_.target_length_ = 0;
    head_.authority_offset_ = head_.authority_length_ = 0;
    head_.path_offset_ = head_.path_length_ = 0;
    head_.host_offset_ = head_.host_length_ = 0;
    head_.method_ = Method::kOther;
    head_.target_form_ = TargetForm::kOrigin;
    head_.expect_continue_ = false;
    head_.upgrade_ = false;
  } else {
    head_.reason_offset_ = head_.reason_length_ = 0;
    head_.status_ = 0;
    head_.tunnel_ = false;
  }
}

template <class Head>
Step BasicParser<Head>::Fail(HttpError e) {
  state_ = State::kError;
  error_ = e;
  pending_ = 0;
  return {Event::kError, 0, {}};
}

template <class Head>
Step BasicParser<Head>::NeedMore(size_t consumed, size_t size) {
  pending_ = size - consumed;
  return {Event::kNeedMore, consumed, {}};
}

template <class Head>
void BasicParser<Head>::AfterMessage() {
  if constexpr (kIsRequest) {
    if (head_.method_ == Method::kConnect || head_.upgrade_) {
      state_ = State::kPaused;
      return;
    }
    if (head_.keep_alive_) {
      state_ = State::kHead;
      head_fresh_ = true;
    } else {
      state_ = State::kDone;
    }
  } else {
    state_ = head_.keep_alive_ ? State::kAwaitingExpectation : State::kDone;
  }
}

template <class Head>
Step BasicParser<Head>::Parse(std::span<const uint8_t> bytes) {
  const char* in = reinterpret_cast<const char*>(bytes.data());
  const size_t size = bytes.size();
  if (state_ == State::kError) return {Event::kError, 0, {}};
  if (size < pending_) return Fail(HttpError::kInvalidCall);
  size_t p = 0;
  for (;;) {
    switch (state_) {
      case State::kAwaitingExpectation:
        if (size == 0) return NeedMore(0, 0);
        return Fail(HttpError::kUnsolicitedResponse);
      case State::kHead:
        return ParseHead(in, size, p);
      case State::kBodyLength:
      case State::kChunkData: {
        const size_t avail = size - p;
        if (avail == 0) return NeedMore(p, size);
        const size_t n = remaining_ < avail ? static_cast<size_t>(remaining_) : avail;
        remaining_ -= n;
        if (remaining_ == 0) {
          state_ = state_ == State::kBodyLength ? State::kMessageDone : State::kChunkCr;
        }
        pending_ = 0;
        return {Event::kBody, p + n, bytes.subspan(p, n)};
      }
      case State::kChunkLine: {
        Step step;
        if (!ParseChunkLine(in, size, &p, &step)) return step;
        break;
      }
      case State::kChunkCr:
        if (p == size) return NeedMore(p, size);
        if (in[p] != '\r') return Fail(HttpError::kBadChunkTerminator);
        ++p;
        state_ = State::kChunkLf;
        break;
      case State::kChunkLf:
        if (p == size) return NeedMore(p, size);
        if (in[p] != '\n') return Fail(HttpError::kBadChunkTerminator);
        ++p;
        state_ = State::kChunkLine;
        scan_ = 0;
        break;
      case State::kTrailers:
        return ParseTrailers(in, size, p);
      case State::kCloseDelimited:
        if (p == size) return NeedMore(p, size);
        pending_ = 0;
        return {Event::kBody, size, bytes.subspan(p)};
      case State::kMessageDone:
        AfterMessage();
        pending_ = 0;
        return {Event::kMessageComplete, p, {}};
      case State::kPaused:
        pending_ = 0;
        return {Event::kPaused, p, {}};
      case State::kTunnel:
        if (p == size) return NeedMore(p, size);
        pending_ = 0;
        return {Event::kTunnel, size, bytes.subspan(p)};
      case State::kDone:
        pending_ = 0;
        return {Event::kDone, p, {}};
      case State::kError:
        return {Event::kError, 0, {}};
    }
  }
}

template <class Head>
Step BasicParser<Head>::Finish() {
  switch (state_) {
    case State::kError:
      return {Event::kError, 0, {}};
    case State::kCloseDelimited:
    case State::kMessageDone:
      state_ = State::kDone;
      pending_ = 0;
      return {Event::kMessageComplete, 0, {}};
    case State::kHead:
      // A request parser between messages sees a clean close; a response
      // parser always has a request outstanding here.
      if (kIsRequest && pending_ == 0 && (head_fresh_ || !start_line_done_)) break;
      return Fail(HttpError::kTruncated);
    case State::kAwaitingExpectation:
    case State::kPaused:
    case State::kTunnel:
    case State::kDone:
      break;
    default:
      return Fail(HttpError::kTruncated);
  }
  state_ = State::kDone;
  pending_ = 0;
  return {Event::kDone, 0, {}};
}

// The start line and the field lines stay in the caller's buffer until the
// empty line: offsets are relative to `sec`, the first byte of the start
// line. The search for LF never goes past the bytes a valid line could
// have, so limits hold however the input is split.
template <class Head>
Step BasicParser<Head>::ParseHead(const char* in, size_t size, size_t p) {
  if (head_fresh_) BeginHead();
  const char* sec = in + p;
  size_t avail = size - p;
  for (;;) {
    // A start line may have max_start_line bytes plus CR before its LF; a
    // header section max_header_section bytes including its last LF.
    const size_t limit_end = start_line_done_
                                 ? size_t{fields_start_} + limits_.max_header_section
                                 : size_t{line_start_} + limits_.max_start_line + 2;
    const size_t search_end = avail < limit_end ? avail : limit_end;
    const char* lf = scan_ < search_end
                         ? static_cast<const char*>(std::memchr(sec + scan_, '\n', search_end - scan_))
                         : nullptr;
    if (lf == nullptr) {
      if (avail >= limit_end) {
        return Fail(start_line_done_ ? HttpError::kHeaderSectionTooLarge
                                     : HttpError::kStartLineTooLong);
      }
      scan_ = static_cast<uint32_t>(avail);
      return NeedMore(p, size);
    }
    const uint32_t lf_off = static_cast<uint32_t>(lf - sec);
    const uint32_t raw = lf_off - line_start_;
    scan_ = lf_off + 1;
    if (raw == 0 || sec[lf_off - 1] != '\r') return Fail(HttpError::kBareLf);
    const uint32_t len = raw - 1;
    if (std::memchr(sec + line_start_, '\r', len) != nullptr) return Fail(HttpError::kBareCr);

    if (!start_line_done_) {
      if (len == 0) {
        // RFC 9112 §2.2: empty lines before the start line are ignored.
        if (++empty_lines_ > kMaxLeadingEmptyLines) return Fail(HttpError::kTooManyEmptyLines);
        p += lf_off + 1;
        sec = in + p;
        avail = size - p;
        scan_ = 0;
        line_start_ = 0;
        continue;
      }
      if (HttpError e = ParseStartLine(sec, len); e != HttpError::kNone) return Fail(e);
      start_line_done_ = true;
      fields_start_ = line_start_ = lf_off + 1;
      continue;
    }

    if (len == 0) {
      if (HttpError e = FinishHead(sec); e != HttpError::kNone) return Fail(e);
      head_.fields_.base_ = sec;
      pending_ = 0;
      const size_t consumed = p + lf_off + 1;
      scan_ = 0;
      line_start_ = 0;
      switch (head_.framing_) {
        case BodyFraming::kNone:
          state_ = State::kMessageDone;
          if constexpr (!kIsRequest) {
            if (head_.tunnel_) {
              state_ = State::kTunnel;
            } else if (head_.interim()) {
              state_ = State::kHead;  // the final response follows
              head_fresh_ = true;
            }
          }
          break;
        case BodyFraming::kContentLength:
          remaining_ = head_.content_length_;
          state_ = remaining_ == 0 ? State::kMessageDone : State::kBodyLength;
          break;
        case BodyFraming::kChunked:
          state_ = State::kChunkLine;
          break;
        case BodyFraming::kCloseDelimited:
          state_ = State::kCloseDelimited;
          break;
      }
      return {Event::kHead, consumed, {}};
    }

    if (HttpError e = ParseFieldLine(sec, line_start_, len, &head_.fields_, false);
        e != HttpError::kNone) {
      return Fail(e);
    }
    line_start_ = lf_off + 1;
  }
}

template <class Head>
HttpError BasicParser<Head>::ParseStartLine(const char* sec, uint32_t length) {
  const std::string_view line(sec, length);
  if constexpr (kIsRequest) {
    // request-line = method SP request-target SP HTTP-version (RFC 9112 §3),
    // single spaces only.
    const size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos || sp1 == 0) return HttpError::kBadRequestLine;
    const std::string_view method = line.substr(0, sp1);
    if (!All(method, chars::kTchar)) return HttpError::kBadMethod;
    const size_t sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return HttpError::kBadRequestLine;
    const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    int major = 0, minor = 0;
    if (!ParseVersion(line.substr(sp2 + 1), &major, &minor)) return HttpError::kBadVersion;
    if (major != 1) return HttpError::kUnsupportedVersion;
    head_.version_minor_ = minor >= 1 ? 1 : 0;
    if (!All(target, chars::kTargetChar)) return HttpError::kBadTarget;
    head_.method_ = MethodFromText(method);
    head_.method_offset_ = 0;
    head_.method_length_ = static_cast<uint32_t>(sp1);
    head_.target_offset_ = static_cast<uint32_t>(sp1 + 1);
    head_.target_length_ = static_cast<uint32_t>(target.size());
    return ParseRequestTarget(sec);
  } else {
    // status-line = HTTP-version SP status-code SP [ reason-phrase ]
    // (RFC 9112 §4). "HTTP/1.1 200" without the second SP is accepted: the
    // reason is advisory and many servers omit it.
    int major = 0, minor = 0;
    if (line.size() < 12 || !ParseVersion(line.substr(0, 8), &major, &minor) || line[8] != ' ') {
      return HttpError::kBadStatusLine;
    }
    if (major != 1) return HttpError::kUnsupportedVersion;
    head_.version_minor_ = minor >= 1 ? 1 : 0;
    if (!All(line.substr(9, 3), chars::kDigit)) return HttpError::kBadStatusCode;
    const uint16_t status =
        static_cast<uint16_t>((line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0'));
    if (status < 100 || status > 599) return HttpError::kBadStatusCode;
    if (line.size() > 12) {
      if (line[12] != ' ') return HttpError::kBadStatusLine;
      if (!All(line.substr(13), chars::kFieldChar)) return HttpError::kBadStatusLine;
      head_.reason_offset_ = 13;
      head_.reason_length_ = static_cast<uint32_t>(line.size() - 13);
    }
    head_.status_ = status;
    return HttpError::kNone;
  }
}

template <class Head>
HttpError BasicParser<Head>::ParseRequestTarget(const char* sec) {
  if constexpr (kIsRequest) {
    const std::string_view target(sec + head_.target_offset_, head_.target_length_);
    const uint32_t t0 = head_.target_offset_;
    head_.path_offset_ = t0;
    head_.path_length_ = head_.target_length_;
    if (head_.method_ == Method::kConnect) {
      // authority-form, only for CONNECT, with a port (RFC 9112 §3.2.3).
      if (!ValidAuthority(target, /*require_port=*/true)) return HttpError::kBadTarget;
      head_.target_form_ = TargetForm::kAuthority;
      head_.authority_offset_ = t0;
      head_.authority_length_ = head_.target_length_;
      return HttpError::kNone;
    }
    if (target == "*") {
      // asterisk-form, only for OPTIONS (RFC 9112 §3.2.4).
      if (head_.method_ != Method::kOptions) return HttpError::kBadTarget;
      head_.target_form_ = TargetForm::kAsterisk;
      return HttpError::kNone;
    }
    if (target[0] == '/') {
      head_.target_form_ = TargetForm::kOrigin;
      return HttpError::kNone;
    }
    // absolute-form (RFC 9112 §3.2.2): an http or https URI.
    const size_t colon = target.find(':');
    if (colon == std::string_view::npos) return HttpError::kBadTarget;
    const std::string_view scheme = target.substr(0, colon);
    if (!EqualsIgnoreCase(scheme, "http") && !EqualsIgnoreCase(scheme, "https")) {
      return HttpError::kBadTarget;
    }
    if (target.substr(colon, 3) != "://") return HttpError::kBadTarget;
    const size_t a = colon + 3;
    size_t end = target.find_first_of("/?", a);
    if (end == std::string_view::npos) end = target.size();
    const std::string_view authority = target.substr(a, end - a);
    // userinfo is an error in http(s) URIs (RFC 9110 §4.2.4); an empty host
    // is invalid (RFC 9110 §4.2.1).
    if (authority.find('@') != std::string_view::npos) return HttpError::kBadTarget;
    if (!ValidAuthority(authority, /*require_port=*/false)) return HttpError::kBadTarget;
    head_.target_form_ = TargetForm::kAbsolute;
    head_.authority_offset_ = t0 + static_cast<uint32_t>(a);
    head_.authority_length_ = static_cast<uint32_t>(authority.size());
    head_.path_offset_ = t0 + static_cast<uint32_t>(end);
    head_.path_length_ = static_cast<uint32_t>(target.size() - end);
    return HttpError::kNone;
  } else {
    (void)sec;
    return HttpError::kNone;
  }
}

template <class Head>
HttpError BasicParser<Head>::ParseFieldLine(const char* sec, uint32_t start, uint32_t length,
                                            FieldBlock* block, bool trailer) {
  const char* line = sec + start;
  if (IsOws(line[0])) {
    // RFC 9112 §2.2 (right after the start line) and §5.2 (obs-fold).
    if (block->count_ == 0) {
      return trailer ? HttpError::kBadFieldName : HttpError::kWhitespaceAfterStartLine;
    }
    return HttpError::kObsFold;
  }
  uint32_t i = 0;
  while (i < length && Is(line[i], chars::kTchar)) ++i;
  const uint32_t name_length = i;
  if (i == length) return HttpError::kMissingColon;
  if (line[i] != ':') {
    if (!IsOws(line[i]) || name_length == 0) return HttpError::kBadFieldName;
    // RFC 9112 §5.1: a server MUST reject "Name :" with 400; a proxy MUST
    // remove the whitespace from a response, which re-serialising does.
    if constexpr (kIsRequest) return HttpError::kWhitespaceBeforeColon;
    while (i < length && IsOws(line[i])) ++i;
    if (i == length || line[i] != ':') return HttpError::kBadFieldName;
  }
  if (name_length == 0) return HttpError::kBadFieldName;
  if (kIsRequest && IsUnderscoredFramingName(std::string_view(line, name_length))) {
    return HttpError::kAmbiguousFieldName;
  }
  uint32_t v = i + 1;
  while (v < length && IsOws(line[v])) ++v;
  uint32_t end = length;
  while (end > v && IsOws(line[end - 1])) --end;
  for (uint32_t k = v; k < end; ++k) {
    if (!Is(line[k], chars::kFieldChar)) return HttpError::kBadFieldValue;
  }
  if (block->count_ >= limits_.max_header_count) return HttpError::kTooManyFields;
  if (name_length > 0xffff) return HttpError::kHeaderSectionTooLarge;
  FieldRef& ref = block->refs_[block->count_++];
  ref.name_offset = start;
  ref.name_length = static_cast<uint16_t>(name_length);
  ref.value_offset = start + v;
  ref.value_length = end - v;
  ref.id = HeaderIdFromName(std::string_view(line, name_length));
  ref.flags = 0;
  if (trailer) return HttpError::kNone;
  return OnHeaderField(sec, ref);
}

template <class Head>
HttpError BasicParser<Head>::OnHeaderField(const char* sec, const FieldRef& ref) {
  const std::string_view value(sec + ref.value_offset, ref.value_length);
  const uint32_t index = head_.fields_.count_ - 1;
  switch (ref.id) {
    case HeaderId::kHost:
      // RFC 9112 §3.2: more than one Host line is a 400.
      if (++host_count_ > 1 && kIsRequest) return HttpError::kDuplicateHost;
      host_index_ = index;
      return HttpError::kNone;
    case HeaderId::kContentLength: {
      // Content-Length = 1*DIGIT (RFC 9110 §8.6). A list, even of equal
      // values, is rejected; several lines must be byte-identical.
      if (value.empty()) return HttpError::kBadContentLength;
      uint64_t n = 0;
      for (char c : value) {
        if (!Is(c, chars::kDigit)) return HttpError::kBadContentLength;
        const uint64_t d = static_cast<uint64_t>(c - '0');
        if (n > (std::numeric_limits<uint64_t>::max() - d) / 10) {
          return HttpError::kBadContentLength;
        }
        n = n * 10 + d;
      }
      if (head_.has_content_length_) {
        const FieldRef& first = head_.fields_.refs_[content_length_index_];
        if (std::string_view(sec + first.value_offset, first.value_length) != value) {
          return HttpError::kDifferentContentLengths;
        }
        return HttpError::kNone;
      }
      head_.has_content_length_ = true;
      head_.content_length_ = n;
      content_length_index_ = index;
      return HttpError::kNone;
    }
    case HeaderId::kTransferEncoding: {
      // transfer-coding list (RFC 9112 §6.1, §7); lines concatenate.
      transfer_encoding_ = true;
      chars::ListSplitter list(value);
      std::string_view element;
      while (list.Next(&element)) {
        if (element.empty()) continue;
        const size_t t = TokenLength(element);
        if (t == 0 || !ValidTransferParameters(element.substr(t))) {
          return HttpError::kBadTransferEncoding;
        }
        if (EqualsIgnoreCase(element.substr(0, t), "chunked")) {
          // chunked has no parameters and is applied once (RFC 9112 §7).
          if (t != element.size() || ++chunked_count_ > 1) return HttpError::kBadTransferEncoding;
          chunked_last_ = true;
        } else {
          chunked_last_ = false;
          other_coding_ = true;
        }
      }
      return HttpError::kNone;
    }
    case HeaderId::kConnection: {
      chars::ListSplitter list(value);
      std::string_view option;
      while (list.Next(&option)) {
        if (option.empty()) continue;
        if (!chars::IsToken(option)) return HttpError::kBadConnection;
        if (++connection_options_ > kMaxConnectionOptions) {
          return HttpError::kTooManyConnectionOptions;
        }
        if (EqualsIgnoreCase(option, "close")) {
          head_.connection_close_ = true;
        } else if (EqualsIgnoreCase(option, "keep-alive")) {
          head_.connection_keep_alive_ = true;
        } else if (EqualsIgnoreCase(option, "upgrade")) {
          head_.connection_upgrade_ = true;
        }
      }
      return HttpError::kNone;
    }
    case HeaderId::kExpect:
      if constexpr (kIsRequest) {
        chars::ListSplitter list(value);
        std::string_view expectation;
        while (list.Next(&expectation)) {
          if (expectation.empty()) continue;
          if (EqualsIgnoreCase(expectation, "100-continue")) {
            expect_continue_ = true;
          } else {
            expect_other_ = true;
          }
        }
      }
      return HttpError::kNone;
    case HeaderId::kUpgrade:
      upgrade_field_ = true;
      return HttpError::kNone;
    default:
      return HttpError::kNone;
  }
}

template <class Head>
HttpError BasicParser<Head>::FinishHead(const char* sec) {
  HttpError e;
  if constexpr (kIsRequest) {
    e = FinishRequestHead(sec);
  } else {
    e = FinishResponseHead(sec);
  }
  if (e == HttpError::kNone) MarkConnectionListed(sec);
  return e;
}

template <class Head>
HttpError BasicParser<Head>::FinishRequestHead(const char* sec) {
  if constexpr (kIsRequest) {
    const bool http11 = head_.version_minor_ == 1;
    // RFC 9112 §3.2: an HTTP/1.1 request without Host, or with an invalid
    // one, is a 400 (also in absolute-form: the client MUST send Host).
    if (host_count_ == 0 && http11) return HttpError::kMissingHost;
    if (host_count_ == 1) {
      const FieldRef& host = head_.fields_.refs_[host_index_];
      const std::string_view value(sec + host.value_offset, host.value_length);
      // An empty Host is valid when the target has no authority (RFC 9110 §7.2).
      if (!value.empty() && !ValidAuthority(value, false)) return HttpError::kBadHost;
      head_.host_offset_ = host.value_offset;
      head_.host_length_ = host.value_length;
    }
    if (head_.target_form_ == TargetForm::kAbsolute || head_.target_form_ == TargetForm::kAuthority) {
      // RFC 9112 §3.2.2: the target's authority replaces Host.
      head_.host_offset_ = head_.authority_offset_;
      head_.host_length_ = head_.authority_length_;
    }
    if (transfer_encoding_) {
      if (!http11) return HttpError::kTransferEncodingInHttp10;   // RFC 9112 §6.1
      if (head_.has_content_length_) return HttpError::kContentLengthAndChunked;  // §6.3 (3)
      // §6.3 (4): chunked not final in a request -> 400. Empty values too.
      if (!chunked_last_) return HttpError::kBadTransferEncoding;
      // §6.1: a coding we do not implement -> 501.
      if (other_coding_) return HttpError::kUnsupportedTransferCoding;
      head_.framing_ = BodyFraming::kChunked;
    } else if (head_.has_content_length_) {
      head_.framing_ = BodyFraming::kContentLength;
    }
    if (head_.method_ == Method::kConnect) {
      // RFC 9110 §9.3.6: a CONNECT request has no content.
      if (transfer_encoding_ || head_.content_length_ > 0) return HttpError::kConnectWithContent;
      head_.framing_ = BodyFraming::kNone;
    }
    // RFC 9110 §10.1.1: 417 for expectations we do not know; 100-continue in
    // HTTP/1.0 is ignored.
    if (expect_other_) return HttpError::kUnsupportedExpectation;
    head_.expect_continue_ = expect_continue_ && http11;
    if (head_.framing_ == BodyFraming::kContentLength &&
        head_.content_length_ > limits_.max_request_body) {
      return HttpError::kBodyTooLarge;
    }
    // RFC 9110 §7.8: Upgrade needs the "upgrade" option and is ignored in 1.0.
    head_.upgrade_ = upgrade_field_ && head_.connection_upgrade_ && http11;
    // RFC 9112 §9.3.
    head_.keep_alive_ =
        !head_.connection_close_ && (http11 || head_.connection_keep_alive_);
  } else {
    (void)sec;
  }
  return HttpError::kNone;
}

template <class Head>
HttpError BasicParser<Head>::FinishResponseHead(const char* sec) {
  (void)sec;
  if constexpr (!kIsRequest) {
    const bool http11 = head_.version_minor_ == 1;
    const uint16_t status = head_.status_;
    if (status < 200) {
      // 1xx has no content (RFC 9110 §15.2); 101 only answers an upgrade.
      if (status == 101) {
        if (!expectation_.upgrade) return HttpError::kUnexpected101;
        head_.tunnel_ = true;
      }
      return HttpError::kNone;
    }
    if (transfer_encoding_ && head_.has_content_length_) {
      return HttpError::kContentLengthAndChunked;  // RFC 9112 §6.3 (3)
    }
    if (expectation_.method == Method::kConnect && status < 300) {
      // RFC 9110 §9.3.6: a 2xx to CONNECT is a tunnel; framing fields ignored.
      head_.tunnel_ = true;
      head_.has_content_length_ = false;
      head_.content_length_ = 0;
      return HttpError::kNone;
    }
    if (expectation_.method == Method::kHead || status == 204 || status == 304) {
      // RFC 9112 §6.3 (1): no content whatever the fields say.
      head_.framing_ = BodyFraming::kNone;
    } else if (transfer_encoding_) {
      if (!http11) return HttpError::kTransferEncodingInHttp10;  // RFC 9112 §6.1
      // Only "chunked" alone: RFC 9112 §6.3 (4) would read other codings
      // until close, which a proxy re-framing the body cannot forward.
      if (chunked_count_ != 1 || !chunked_last_ || other_coding_) {
        return HttpError::kBadTransferEncoding;
      }
      head_.framing_ = BodyFraming::kChunked;
    } else if (head_.has_content_length_) {
      head_.framing_ = BodyFraming::kContentLength;
    } else {
      head_.framing_ = BodyFraming::kCloseDelimited;  // RFC 9112 §6.3 (8)
    }
    head_.keep_alive_ = !head_.connection_close_ && (http11 || head_.connection_keep_alive_) &&
                        head_.framing_ != BodyFraming::kCloseDelimited;
  }
  return HttpError::kNone;
}

// RFC 9110 §7.6.1: fields named by Connection options are hop-by-hop.
template <class Head>
void BasicParser<Head>::MarkConnectionListed(const char* sec) {
  if (connection_options_ == 0) return;
  FieldBlock& f = head_.fields_;
  for (uint32_t c = 0; c < f.count_; ++c) {
    if (f.refs_[c].id != HeaderId::kConnection) continue;
    chars::ListSplitter list(
        std::string_view(sec + f.refs_[c].value_offset, f.refs_[c].value_length));
    std::string_view option;
    while (list.Next(&option)) {
      if (option.empty()) continue;
      for (uint32_t j = 0; j < f.count_; ++j) {
        const FieldRef& r = f.refs_[j];
        if (r.name_length == option.size() &&
            EqualsIgnoreCase(std::string_view(sec + r.name_offset, r.name_length), option)) {
          f.refs_[j].flags |= kFieldListedInConnection;
        }
      }
    }
  }
}

template <class Head>
bool BasicParser<Head>::ParseChunkLine(const char* in, size_t size, size_t* p, Step* out) {
  const char* line = in + *p;
  const size_t avail = size - *p;
  const size_t limit_end = size_t{limits_.max_chunk_line} + 2;
  const size_t search_end = avail < limit_end ? avail : limit_end;
  const char* lf = scan_ < search_end
                       ? static_cast<const char*>(std::memchr(line + scan_, '\n', search_end - scan_))
                       : nullptr;
  if (lf == nullptr) {
    if (avail >= limit_end) {
      *out = Fail(HttpError::kChunkLineTooLong);
    } else {
      scan_ = static_cast<uint32_t>(avail);
      *out = NeedMore(*p, size);
    }
    return false;
  }
  const size_t raw = static_cast<size_t>(lf - line);
  if (raw == 0 || line[raw - 1] != '\r') {
    *out = Fail(HttpError::kBareLf);
    return false;
  }
  const size_t len = raw - 1;
  if (std::memchr(line, '\r', len) != nullptr) {
    *out = Fail(HttpError::kBareCr);
    return false;
  }
  // chunk-size = 1*HEXDIG (RFC 9112 §7.1)
  uint64_t chunk = 0;
  size_t i = 0;
  for (; i < len && Is(line[i], chars::kHexDigit); ++i) {
    if (chunk > (std::numeric_limits<uint64_t>::max() >> 4)) {
      *out = Fail(HttpError::kBadChunkSize);
      return false;
    }
    chunk = (chunk << 4) | static_cast<uint64_t>(HexValue(line[i]));
  }
  if (i == 0 || (i < len && line[i] != ';' && !IsOws(line[i]))) {
    *out = Fail(HttpError::kBadChunkSize);
    return false;
  }
  if (!ValidChunkExtensions(std::string_view(line + i, len - i))) {
    *out = Fail(HttpError::kBadChunkExtension);
    return false;
  }
  if (len > kChunkLineFreeBytes) {
    chunk_excess_ += len - kChunkLineFreeBytes;
    if (chunk_excess_ > kMaxChunkLineExcess) {
      *out = Fail(HttpError::kTooMuchChunkExtension);
      return false;
    }
  }
  *p += raw + 1;
  scan_ = 0;
  if (chunk == 0) {
    state_ = State::kTrailers;
    line_start_ = 0;
    trailers_.count_ = 0;
    trailers_.base_ = nullptr;
    return true;
  }
  if (chunk > std::numeric_limits<uint64_t>::max() - body_total_ ||
      (kIsRequest && body_total_ + chunk > limits_.max_request_body)) {
    *out = Fail(HttpError::kBodyTooLarge);
    return false;
  }
  body_total_ += chunk;
  remaining_ = chunk;
  state_ = State::kChunkData;
  return true;
}

template <class Head>
Step BasicParser<Head>::ParseTrailers(const char* in, size_t size, size_t p) {
  const char* sec = in + p;
  const size_t avail = size - p;
  const size_t limit_end = limits_.max_header_section;
  for (;;) {
    const size_t search_end = avail < limit_end ? avail : limit_end;
    const char* lf = scan_ < search_end
                         ? static_cast<const char*>(std::memchr(sec + scan_, '\n', search_end - scan_))
                         : nullptr;
    if (lf == nullptr) {
      if (avail >= limit_end) return Fail(HttpError::kHeaderSectionTooLarge);
      scan_ = static_cast<uint32_t>(avail);
      return NeedMore(p, size);
    }
    const uint32_t lf_off = static_cast<uint32_t>(lf - sec);
    const uint32_t raw = lf_off - line_start_;
    scan_ = lf_off + 1;
    if (raw == 0 || sec[lf_off - 1] != '\r') return Fail(HttpError::kBareLf);
    const uint32_t len = raw - 1;
    if (std::memchr(sec + line_start_, '\r', len) != nullptr) return Fail(HttpError::kBareCr);
    if (len == 0) {
      trailers_.base_ = sec;
      const size_t consumed = p + lf_off + 1;
      scan_ = 0;
      line_start_ = 0;
      pending_ = 0;
      state_ = State::kMessageDone;
      if (trailers_.count_ > 0) return {Event::kTrailers, consumed, {}};
      AfterMessage();
      return {Event::kMessageComplete, consumed, {}};
    }
    if (HttpError e = ParseFieldLine(sec, line_start_, len, &trailers_, true);
        e != HttpError::kNone) {
      return Fail(e);
    }
    line_start_ = lf_off + 1;
  }
}

template class BasicParser<RequestHead>;
template class BasicParser<ResponseHead>;

}  // namespace locus::proxy::http
