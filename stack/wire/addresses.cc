#include "stack/wire/addresses.h"

#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace locus::wire {

std::optional<MacAddress> MacAddress::Parse(absl::string_view text) {
  std::array<uint8_t, 6> bytes{};
  std::vector<absl::string_view> parts = absl::StrSplit(text, ':');
  if (parts.size() != 6) return std::nullopt;
  for (size_t i = 0; i < 6; ++i) {
    if (parts[i].size() != 2) return std::nullopt;
    uint32_t v = 0;
    if (!absl::SimpleHexAtoi(parts[i], &v) || v > 0xff) return std::nullopt;
    bytes[i] = static_cast<uint8_t>(v);
  }
  return MacAddress(bytes);
}

std::string MacAddress::ToString() const {
  return absl::StrFormat("%02x:%02x:%02x:%02x:%02x:%02x", bytes_[0], bytes_[1], bytes_[2],
                         bytes_[3], bytes_[4], bytes_[5]);
}

std::optional<Ipv4Address> Ipv4Address::Parse(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '.');
  if (parts.size() != 4) return std::nullopt;
  uint32_t value = 0;
  for (absl::string_view part : parts) {
    // Reject empty parts, signs, and leading zeros (which some parsers read
    // as octal) so that one string means one address.
    if (part.empty() || part.size() > 3) return std::nullopt;
    if (part.size() > 1 && part[0] == '0') return std::nullopt;
    for (char c : part) {
      if (c < '0' || c > '9') return std::nullopt;
    }
    uint32_t octet = 0;
    if (!absl::SimpleAtoi(part, &octet) || octet > 255) return std::nullopt;
    value = (value << 8) | octet;
  }
  return Ipv4Address(value);
}

std::string Ipv4Address::ToString() const {
  return absl::StrFormat("%u.%u.%u.%u", value_ >> 24, (value_ >> 16) & 0xff, (value_ >> 8) & 0xff,
                         value_ & 0xff);
}

std::optional<Ipv4Prefix> Ipv4Prefix::Parse(absl::string_view text) {
  size_t slash = text.find('/');
  if (slash == absl::string_view::npos) return std::nullopt;
  std::optional<Ipv4Address> address = Ipv4Address::Parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  absl::string_view len_text = text.substr(slash + 1);
  uint32_t len = 0;
  if (len_text.empty() || len_text.size() > 2 || !absl::SimpleAtoi(len_text, &len) || len > 32) {
    return std::nullopt;
  }
  return Ipv4Prefix{*address, static_cast<uint8_t>(len)};
}

std::string Ipv4Prefix::ToString() const {
  return absl::StrFormat("%s/%u", address.ToString(), length);
}

}  // namespace locus::wire
