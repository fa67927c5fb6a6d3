#include "proxy/http/message.h"

#include "proxy/http/chars.h"

namespace locus::proxy::http {

Method MethodFromText(std::string_view t) {
  switch (t.size()) {
    case 3:
      if (t == "GET") return Method::kGet;
      if (t == "PUT") return Method::kPut;
      break;
    case 4:
      if (t == "HEAD") return Method::kHead;
      if (t == "POST") return Method::kPost;
      break;
    case 5:
      if (t == "TRACE") return Method::kTrace;
      if (t == "PATCH") return Method::kPatch;
      break;
    case 6:
      if (t == "DELETE") return Method::kDelete;
      break;
    case 7:
      if (t == "CONNECT") return Method::kConnect;
      if (t == "OPTIONS") return Method::kOptions;
      break;
    default:
      break;
  }
  return Method::kOther;
}

std::string_view MethodName(Method m) {
  switch (m) {
    case Method::kGet: return "GET";
    case Method::kHead: return "HEAD";
    case Method::kPost: return "POST";
    case Method::kPut: return "PUT";
    case Method::kDelete: return "DELETE";
    case Method::kConnect: return "CONNECT";
    case Method::kOptions: return "OPTIONS";
    case Method::kTrace: return "TRACE";
    case Method::kPatch: return "PATCH";
    case Method::kOther: break;
  }
  return "";
}

HeaderId HeaderIdFromName(std::string_view n) {
  using chars::EqualsIgnoreCase;
  // Dispatch on length first: most names fail there.
  switch (n.size()) {
    case 2:
      if (EqualsIgnoreCase(n, "te")) return HeaderId::kTe;
      break;
    case 3:
      if (EqualsIgnoreCase(n, "via")) return HeaderId::kVia;
      break;
    case 4:
      if (EqualsIgnoreCase(n, "host")) return HeaderId::kHost;
      break;
    case 6:
      if (EqualsIgnoreCase(n, "expect")) return HeaderId::kExpect;
      break;
    case 7:
      if (EqualsIgnoreCase(n, "trailer")) return HeaderId::kTrailer;
      if (EqualsIgnoreCase(n, "upgrade")) return HeaderId::kUpgrade;
      break;
    case 10:
      if (EqualsIgnoreCase(n, "connection")) return HeaderId::kConnection;
      if (EqualsIgnoreCase(n, "keep-alive")) return HeaderId::kKeepAlive;
      break;
    case 14:
      if (EqualsIgnoreCase(n, "content-length")) return HeaderId::kContentLength;
      break;
    case 15:
      if (EqualsIgnoreCase(n, "x-forwarded-for")) return HeaderId::kXForwardedFor;
      break;
    case 16:
      if (EqualsIgnoreCase(n, "proxy-connection")) return HeaderId::kProxyConnection;
      break;
    case 17:
      if (EqualsIgnoreCase(n, "transfer-encoding")) return HeaderId::kTransferEncoding;
      if (EqualsIgnoreCase(n, "x-forwarded-proto")) return HeaderId::kXForwardedProto;
      break;
    default:
      break;
  }
  return HeaderId::kOther;
}

size_t FieldBlock::Find(std::string_view n, size_t from) const {
  for (size_t i = from; i < count_; ++i) {
    if (refs_[i].name_length == n.size() && chars::EqualsIgnoreCase(name(i), n)) return i;
  }
  return npos;
}

size_t FieldBlock::Find(HeaderId id, size_t from) const {
  for (size_t i = from; i < count_; ++i) {
    if (refs_[i].id == id) return i;
  }
  return npos;
}

std::optional<std::string_view> FieldBlock::Get(std::string_view n) const {
  const size_t i = Find(n);
  if (i == npos) return std::nullopt;
  return value(i);
}

size_t FieldBlock::Count(std::string_view n) const {
  size_t c = 0;
  for (size_t i = Find(n); i != npos; i = Find(n, i + 1)) ++c;
  return c;
}

}  // namespace locus::proxy::http
