#include "proxy/tls/sni.h"

#include "absl/strings/match.h"

namespace locus::proxy::tls {
namespace {

constexpr uint8_t kNameTypeHostName = 0;

uint16_t Load16(const uint8_t* p) {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

}  // namespace

ServerNameView ParseServerNameExtension(std::span<const uint8_t> ext) {
  ServerNameView out;
  if (ext.size() < 2) return out;
  const size_t list_len = Load16(ext.data());
  // The list is the whole extension and has at least one entry.
  if (list_len != ext.size() - 2 || list_len == 0) return out;
  std::span<const uint8_t> list = ext.subspan(2);
  bool have_host = false;
  while (!list.empty()) {
    if (list.size() < 3) return out;
    const uint8_t type = list[0];
    const size_t len = Load16(list.data() + 1);
    if (len == 0 || len > list.size() - 3) return out;
    if (type == kNameTypeHostName) {
      // RFC 6066 §3: at most one name of each type.
      if (have_host) return out;
      have_host = true;
      out.host_name = absl::string_view(
          reinterpret_cast<const char*>(list.data() + 3), len);
    }
    list = list.subspan(3 + len);
  }
  out.status = ServerNameView::Status::kOk;
  return out;
}

bool NormalizeServerName(absl::string_view raw, char* out, size_t* out_len) {
  if (!raw.empty() && raw.back() == '.') raw.remove_suffix(1);
  if (raw.empty() || raw.size() > kMaxServerNameBytes) return false;
  size_t label = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '.') {
      if (label == 0) return false;  // empty label
      label = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
      if (++label > 63) return false;
    } else {
      return false;
    }
    out[i] = c;
  }
  *out_len = raw.size();
  return label > 0;
}

void CertificateSelector::Add(const std::vector<std::string>& names,
                              int index) {
  for (const std::string& name : names) {
    if (absl::StartsWith(name, "*.")) {
      wildcard_.emplace(name.substr(2), index);
    } else {
      exact_.emplace(name, index);
    }
  }
}

int CertificateSelector::Select(absl::string_view host) const {
  if (auto it = exact_.find(host); it != exact_.end()) return it->second;
  size_t dot = host.find('.');
  if (dot == absl::string_view::npos || dot == 0) return -1;
  if (auto it = wildcard_.find(host.substr(dot + 1)); it != wildcard_.end()) {
    return it->second;
  }
  return -1;
}

}  // namespace locus::proxy::tls
