// HTTP request methods as a one-byte enum, shared by the parser (which
// recognises the method once per request) and routing (whose method sets are
// bit masks over it and whose cache keys hold it).
#ifndef LOCUS_PROXY_HTTP_METHOD_H_
#define LOCUS_PROXY_HTTP_METHOD_H_

#include <cstdint>
#include <string_view>

namespace locus::proxy::http {

// The methods of RFC 9110 §9.3 and PATCH (RFC 5789). Any other token is
// kOther (the parsed head keeps its text): it matches only routes without a
// method condition, so every extension method routes and caches alike.
enum class Method : uint8_t {
  kOther = 0,
  kGet,
  kHead,
  kPost,
  kPut,
  kDelete,
  kConnect,
  kOptions,
  kTrace,
  kPatch,
};

// Methods are case-sensitive (RFC 9110 §9.1): "get" is kOther.
Method MethodFromText(std::string_view text);
// "" for kOther: the text of an extension method is the request's own.
std::string_view MethodName(Method m);

// RFC 9110 §9.2.2: the safe methods (GET, HEAD, OPTIONS, TRACE), PUT and
// DELETE. Decides which requests may be retried after a backend answered.
bool IsIdempotent(Method m);

}  // namespace locus::proxy::http

#endif  // LOCUS_PROXY_HTTP_METHOD_H_
