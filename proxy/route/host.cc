#include "proxy/route/host.h"

#include "absl/strings/str_cat.h"

namespace locus::proxy::route {
namespace {

bool IsLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Validates dot-separated labels of an exact host or a wildcard's suffix.
absl::Status CheckLabels(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("empty host name");
  size_t label = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      if (label == 0) return absl::InvalidArgumentError("empty label");
      if (label > kMaxHostLabelLength) {
        return absl::InvalidArgumentError(
            absl::StrCat("label longer than ", kMaxHostLabelLength, " bytes"));
      }
      label = 0;
      continue;
    }
    if (name[i] == '*') {
      return absl::InvalidArgumentError(
          "'*' is only allowed as the whole first label (\"*.example.com\")");
    }
    if (!IsLabelChar(name[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid character '", name.substr(i, 1), "'"));
    }
    ++label;
  }
  return absl::OkStatus();
}

}  // namespace

bool EqualsIgnoreCase(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

absl::Status ParseHostPattern(absl::string_view text, HostPattern* out) {
  if (text.empty() || text == "*") {
    *out = HostPattern{HostPattern::Kind::kAny, ""};
    return absl::OkStatus();
  }
  if (text.size() > kMaxHostLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("longer than ", kMaxHostLength, " bytes"));
  }
  std::string lower(text);
  for (char& c : lower) c = AsciiLower(c);
  if (lower.size() >= 2 && lower[0] == '*' && lower[1] == '.') {
    absl::Status s = CheckLabels(absl::string_view(lower).substr(2));
    if (!s.ok()) return s;
    *out = HostPattern{HostPattern::Kind::kSuffix, lower.substr(1)};
    return absl::OkStatus();
  }
  absl::Status s = CheckLabels(lower);
  if (!s.ok()) return s;
  *out = HostPattern{HostPattern::Kind::kExact, std::move(lower)};
  return absl::OkStatus();
}

bool HostPattern::Matches(absl::string_view host) const {
  switch (kind) {
    case Kind::kAny:
      return true;
    case Kind::kExact:
      return EqualsIgnoreCase(host, value);
    case Kind::kSuffix:
      // At least one byte before ".example.com".
      return host.size() > value.size() &&
             EqualsIgnoreCase(host.substr(host.size() - value.size()), value);
  }
  return false;
}

absl::string_view StripPort(absl::string_view host) {
  if (!host.empty() && host[0] == '[') {
    const size_t close = host.find(']');
    return close == absl::string_view::npos ? host : host.substr(0, close + 1);
  }
  const size_t colon = host.rfind(':');
  return colon == absl::string_view::npos ? host : host.substr(0, colon);
}

}  // namespace locus::proxy::route
