// Server Name Indication (RFC 6066 §3): the server_name extension of a
// ClientHello, and choosing a certificate by name.
#ifndef LOCUS_PROXY_TLS_SNI_H_
#define LOCUS_PROXY_TLS_SNI_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace locus::proxy::tls {

// RFC 6066 §3: HostName<1..2^16-1>, but a DNS name is at most 253
// characters (255 with a trailing dot).
inline constexpr size_t kMaxServerNameBytes = 255;

struct ServerNameView {
  enum class Status : uint8_t {
    kOk,         // host_name is the one host_name entry, or empty if none
    kMalformed,  // lengths do not add up, or two host_name entries
  };
  Status status = Status::kMalformed;
  absl::string_view host_name;  // points into the extension bytes
};

// Parses extension_data of server_name:
//   struct { NameType name_type; opaque HostName<1..2^16-1>; } ServerName;
//   struct { ServerName server_name_list<1..2^16-1>; } ServerNameList;
// Entries of unknown name types are skipped (RFC 6066 allows new types).
// Reads nothing outside `ext`.
ServerNameView ParseServerNameExtension(std::span<const uint8_t> ext);

// Lower-cases `raw` and drops one trailing dot into `out`. False (and `out`
// unusable) for anything that is not a DNS host name of letters, digits,
// '-' and '.', e.g. an IP literal's ':' or a NUL. `out` has room for
// kMaxServerNameBytes.
bool NormalizeServerName(absl::string_view raw, char* out, size_t* out_len);

// Certificates by name for one listener: exact names first, then a
// wildcard "*.example.com" for exactly one more label ("a.example.com", not
// "a.b.example.com" nor "example.com"). When two certificates claim a
// name, the one added first wins.
class CertificateSelector {
 public:
  // `names` as CertificateDnsNames returns them (lower case).
  void Add(const std::vector<std::string>& names, int index);
  // The index for a normalized host name, or -1.
  int Select(absl::string_view host) const;

 private:
  absl::flat_hash_map<std::string, int> exact_;
  // "*.example.com" is stored as "example.com".
  absl::flat_hash_map<std::string, int> wildcard_;
};

}  // namespace locus::proxy::tls

#endif  // LOCUS_PROXY_TLS_SNI_H_
