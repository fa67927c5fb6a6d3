// Complete error responses the proxy sends before closing a connection:
// status line, Content-Type, Content-Length, "Connection: close" and a short
// text body naming the status. Built at compile time; sending one copies
// nothing.
#ifndef LOCUS_PROXY_HTTP_CANNED_H_
#define LOCUS_PROXY_HTTP_CANNED_H_

#include <cstdint>
#include <span>
#include <string_view>

namespace locus::proxy::http {

// The reason phrase of a status code the proxy itself generates, or "".
std::string_view ReasonPhrase(uint16_t status);

// For 400, 408, 413, 414, 417, 431, 500, 501, 502, 503, 504 and 505; any
// other status gets the 500 response.
std::string_view CannedResponse(uint16_t status);

// The same shape with `detail` (for example HttpErrorName) as a second body
// line, written into `out`. Returns the bytes needed; when more than
// out.size(), the contents of `out` are unspecified. `detail` is the
// caller's text: keep it to visible ASCII.
size_t WriteErrorResponse(uint16_t status, std::string_view detail, std::span<char> out);

}  // namespace locus::proxy::http

#endif  // LOCUS_PROXY_HTTP_CANNED_H_
