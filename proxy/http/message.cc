#include "proxy/http/message.h"

#include "proxy/http/chars.h"

namespace locus::proxy::http {

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
