// Host patterns of routes and the request host they are matched against.
//
// Patterns: "" or "*" (any host), "a.example.com" (exact), "*.example.com"
// (suffix). Following Envoy, "*.example.com" matches a subdomain at any
// depth — "a.example.com" and "a.b.example.com" — but not "example.com".
// A '*' anywhere else ("a.*.com", "*a.com", "a*") is invalid. Matching is
// ASCII case-insensitive (RFC 9110 §4.2.3 via DNS, RFC 4343) and ignores a
// port in the request's Host (RFC 9110 §7.2).
#ifndef LOCUS_PROXY_ROUTE_HOST_H_
#define LOCUS_PROXY_ROUTE_HOST_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace locus::proxy::route {

inline constexpr size_t kMaxHostLength = 253;   // RFC 1035 §2.3.4
inline constexpr size_t kMaxHostLabelLength = 63;

struct HostPattern {
  enum class Kind : uint8_t { kAny, kExact, kSuffix };
  Kind kind = Kind::kAny;
  // Lower case. kExact: the host; kSuffix: ".example.com" (with the dot).
  std::string value;

  // `host` as returned by NormalizeHostView (port stripped, any case).
  bool Matches(absl::string_view host) const;
};

// Parses and validates; the error says what is wrong, without a field path.
absl::Status ParseHostPattern(absl::string_view text, HostPattern* out);

// The Host header without its port: "A.example.com:8080" -> "A.example.com",
// "[::1]:80" -> "[::1]". No copy, no case change.
absl::string_view StripPort(absl::string_view host);

inline char AsciiLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}
bool EqualsIgnoreCase(absl::string_view a, absl::string_view b);

}  // namespace locus::proxy::route

#endif  // LOCUS_PROXY_ROUTE_HOST_H_
