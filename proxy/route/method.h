// Routing's view of HTTP methods: the parser's enum, with a route's method
// set held as a bit mask over it.
#ifndef LOCUS_PROXY_ROUTE_METHOD_H_
#define LOCUS_PROXY_ROUTE_METHOD_H_

#include <cstdint>

#include "proxy/http/method.h"

namespace locus::proxy::route {

using http::IsIdempotent;
using http::Method;

inline uint16_t MethodBit(Method m) {
  return static_cast<uint16_t>(1u << static_cast<unsigned>(m));
}

}  // namespace locus::proxy::route

#endif  // LOCUS_PROXY_ROUTE_METHOD_H_
