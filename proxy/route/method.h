// HTTP request methods as a small enum, so that a route's method set is a
// bit mask and the route cache key holds one byte.
#ifndef LOCUS_PROXY_ROUTE_METHOD_H_
#define LOCUS_PROXY_ROUTE_METHOD_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace locus::proxy::route {

// The methods of RFC 9110 §9.3 and PATCH (RFC 5789). Anything else is
// kOther: it matches only routes without a method condition, so every
// extension method routes alike and caches alike.
enum class Method : uint8_t {
  kGet,
  kHead,
  kPost,
  kPut,
  kDelete,
  kConnect,
  kOptions,
  kTrace,
  kPatch,
  kOther,
};

// Case-sensitive, as methods are (RFC 9110 §9.1).
Method ParseMethod(absl::string_view token);
absl::string_view MethodName(Method m);

// RFC 9110 §9.2.2: GET, HEAD, OPTIONS, TRACE (safe), PUT, DELETE.
bool IsIdempotent(Method m);

inline uint16_t MethodBit(Method m) {
  return static_cast<uint16_t>(1u << static_cast<unsigned>(m));
}

}  // namespace locus::proxy::route

#endif  // LOCUS_PROXY_ROUTE_METHOD_H_
