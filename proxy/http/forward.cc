#include "proxy/http/forward.h"

#include <cstring>

namespace locus::proxy::http {
namespace {

// Appends while there is room and counts what would have been written.
class Writer {
 public:
  explicit Writer(std::span<char> out) : out_(out) {}

  void Put(std::string_view s) {
    if (n_ + s.size() <= out_.size()) std::memcpy(out_.data() + n_, s.data(), s.size());
    n_ += s.size();
  }
  void PutDecimal(uint64_t v) {
    char digits[20];
    size_t i = sizeof(digits);
    do {
      digits[--i] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    Put(std::string_view(digits + i, sizeof(digits) - i));
  }
  void Field(std::string_view name, std::string_view value) {
    Put(name);
    Put(": ");
    Put(value);
    Put("\r\n");
  }
  size_t size() const { return n_; }

 private:
  std::span<char> out_;
  size_t n_ = 0;
};

bool IsHopByHopOrFraming(const FieldBlock& f, size_t i) {
  if (f.listed_in_connection(i)) return true;
  switch (f.id(i)) {
    case HeaderId::kContentLength:
    case HeaderId::kTransferEncoding:
    case HeaderId::kConnection:
    case HeaderId::kKeepAlive:
    case HeaderId::kProxyConnection:
    case HeaderId::kTe:
    case HeaderId::kTrailer:
    case HeaderId::kUpgrade:
      return true;
    default:
      return false;
  }
}

// "<all values of id, comma-joined>", for Via, X-Forwarded-For, Upgrade.
// Returns whether any was written.
bool PutJoined(const FieldBlock& f, HeaderId id, bool skip_hop, Writer* w) {
  bool any = false;
  for (size_t i = f.Find(id); i != FieldBlock::npos; i = f.Find(id, i + 1)) {
    if (skip_hop && f.listed_in_connection(i)) continue;
    if (f.value(i).empty()) continue;
    if (any) w->Put(", ");
    w->Put(f.value(i));
    any = true;
  }
  return any;
}

void PutVia(const MessageHead& head, std::string_view pseudonym, Writer* w) {
  w->Put("Via: ");
  if (PutJoined(head.fields(), HeaderId::kVia, true, w)) w->Put(", ");
  w->Put(head.version_minor() == 0 ? "1.0 " : "1.1 ");
  w->Put(pseudonym);
  w->Put("\r\n");
}

void PutFraming(const OutboundFraming& framing, Writer* w) {
  switch (framing.framing) {
    case BodyFraming::kContentLength:
      w->Put("Content-Length: ");
      w->PutDecimal(framing.content_length);
      w->Put("\r\n");
      break;
    case BodyFraming::kChunked:
      w->Put("Transfer-Encoding: chunked\r\n");
      break;
    case BodyFraming::kNone:
    case BodyFraming::kCloseDelimited:
      break;
  }
}

std::string_view DefaultReason(uint16_t status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 404: return "Not Found";
    default: return "";
  }
}

}  // namespace

OutboundFraming ChooseRequestFraming(const RequestHead& request) {
  switch (request.framing()) {
    case BodyFraming::kContentLength:
      return {BodyFraming::kContentLength, request.content_length()};
    case BodyFraming::kChunked:
      return {BodyFraming::kChunked, 0};
    default:
      return {BodyFraming::kNone, 0};
  }
}

OutboundFraming ChooseResponseFraming(const ResponseHead& response, uint8_t client_minor) {
  switch (response.framing()) {
    case BodyFraming::kContentLength:
      return {BodyFraming::kContentLength, response.content_length()};
    case BodyFraming::kChunked:
    case BodyFraming::kCloseDelimited:
      return {client_minor >= 1 ? BodyFraming::kChunked : BodyFraming::kCloseDelimited, 0};
    case BodyFraming::kNone:
      break;
  }
  return {BodyFraming::kNone, 0};
}

size_t WriteRequestHead(const RequestHead& request, const RequestForwarding& forwarding,
                        const OutboundFraming& framing, std::span<char> out) {
  Writer w(out);
  w.Put(request.method_text());
  w.Put(" ");
  if (request.target_form() == TargetForm::kAbsolute) {
    // RFC 9112 §3.2.1: origin-form toward an origin server; "/" for an
    // empty path.
    const std::string_view path = request.path();
    if (path.empty() || path[0] != '/') w.Put("/");
    w.Put(path);
  } else {
    w.Put(request.target());
  }
  w.Put(" HTTP/1.1\r\n");
  // RFC 9110 §7.2: Host first; empty when the request had none.
  w.Field("Host", forwarding.host_override.empty() ? request.host() : forwarding.host_override);

  const FieldBlock& f = request.fields();
  for (size_t i = 0; i < f.size(); ++i) {
    if (IsHopByHopOrFraming(f, i)) continue;
    switch (f.id(i)) {
      case HeaderId::kHost:
      case HeaderId::kVia:
      case HeaderId::kXForwardedFor:
      case HeaderId::kXForwardedProto:
        continue;  // rewritten below
      default:
        w.Field(f.name(i), f.value(i));
    }
  }
  PutVia(request, forwarding.via_pseudonym, &w);
  if (!forwarding.client_address.empty()) {
    w.Put("X-Forwarded-For: ");
    if (PutJoined(f, HeaderId::kXForwardedFor, true, &w)) w.Put(", ");
    w.Put(forwarding.client_address);
    w.Put("\r\n");
  } else {
    // Only existing values: measure first so that no empty field is sent.
    Writer probe(std::span<char>{});
    if (PutJoined(f, HeaderId::kXForwardedFor, true, &probe)) {
      w.Put("X-Forwarded-For: ");
      PutJoined(f, HeaderId::kXForwardedFor, true, &w);
      w.Put("\r\n");
    }
  }
  w.Field("X-Forwarded-Proto", forwarding.client_tls ? "https" : "http");
  PutFraming(framing, &w);
  if (request.upgrade() && forwarding.allow_upgrade) {
    w.Put("Upgrade: ");
    PutJoined(f, HeaderId::kUpgrade, false, &w);
    w.Put("\r\nConnection: upgrade\r\n");
  }
  w.Put("\r\n");
  return w.size();
}

size_t WriteResponseHead(const ResponseHead& response, const ResponseForwarding& forwarding,
                         const OutboundFraming& framing, std::span<char> out) {
  Writer w(out);
  const uint16_t status = response.status();
  w.Put("HTTP/1.1 ");
  w.PutDecimal(status);
  w.Put(" ");
  w.Put(response.reason().empty() ? DefaultReason(status) : response.reason());
  w.Put("\r\n");
  const FieldBlock& f = response.fields();
  for (size_t i = 0; i < f.size(); ++i) {
    if (IsHopByHopOrFraming(f, i) || f.id(i) == HeaderId::kVia) continue;
    w.Field(f.name(i), f.value(i));
  }
  PutVia(response, forwarding.via_pseudonym, &w);
  if (status == 101) {
    w.Put("Upgrade: ");
    PutJoined(f, HeaderId::kUpgrade, false, &w);
    w.Put("\r\nConnection: upgrade\r\n");
  } else if (status >= 200) {
    if (framing.framing == BodyFraming::kNone) {
      // HEAD and 304 responses describe the representation they omit.
      if (response.has_content_length() && status != 204) {
        w.Put("Content-Length: ");
        w.PutDecimal(response.content_length());
        w.Put("\r\n");
      }
    } else {
      PutFraming(framing, &w);
    }
    if (forwarding.close || framing.framing == BodyFraming::kCloseDelimited) {
      w.Put("Connection: close\r\n");
    } else if (forwarding.http10_keep_alive) {
      w.Put("Connection: keep-alive\r\n");
    }
  }
  w.Put("\r\n");
  return w.size();
}

size_t WriteChunkHeader(uint64_t size, std::span<char, kMaxChunkHeaderLength> out) {
  static constexpr char kHex[] = "0123456789abcdef";
  char digits[16];
  size_t i = sizeof(digits);
  do {
    digits[--i] = kHex[size & 0xf];
    size >>= 4;
  } while (size != 0);
  const size_t n = sizeof(digits) - i;
  std::memcpy(out.data(), digits + i, n);
  out[n] = '\r';
  out[n + 1] = '\n';
  return n + 2;
}

size_t WriteLastChunk(const FieldBlock* trailers, std::span<char> out) {
  Writer w(out);
  w.Put("0\r\n");
  if (trailers != nullptr) {
    for (size_t i = 0; i < trailers->size(); ++i) {
      if (trailers->id(i) != HeaderId::kOther) continue;
      w.Field(trailers->name(i), trailers->value(i));
    }
  }
  w.Put("\r\n");
  return w.size();
}

}  // namespace locus::proxy::http
