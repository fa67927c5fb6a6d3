#include "proxy/tls/settings.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace locus::proxy::tls {
namespace {

template <size_t N>
absl::Status CheckList(absl::string_view list,
                       const std::array<absl::string_view, N>& allowed,
                       absl::string_view what) {
  if (list.empty()) return absl::OkStatus();
  std::set<absl::string_view> seen;
  for (absl::string_view name : absl::StrSplit(list, ':')) {
    bool known = false;
    for (absl::string_view a : allowed) known = known || a == name;
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", name.substr(0, 64), "\" is not one of the allowed ", what,
          " (", absl::StrJoin(allowed, ":"),
          "); a listener can only narrow the defaults"));
    }
    if (!seen.insert(name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", name, "\" is listed twice"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckCipherList(absl::string_view list) {
  return CheckList(list, kTls12Ciphers, "TLS 1.2 cipher suites");
}

absl::Status CheckCiphersuites(absl::string_view list) {
  return CheckList(list, kTls13Ciphersuites, "TLS 1.3 cipher suites");
}

std::string DefaultCipherList() { return absl::StrJoin(kTls12Ciphers, ":"); }

std::string DefaultCiphersuites() {
  return absl::StrJoin(kTls13Ciphersuites, ":");
}

absl::string_view TlsVersionName(TlsVersion v) {
  return v == TlsVersion::kTls13 ? "TLSv1.3" : "TLSv1.2";
}

}  // namespace locus::proxy::tls
