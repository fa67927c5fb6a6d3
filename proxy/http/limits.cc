#include "proxy/http/limits.h"

#include "absl/strings/str_cat.h"

namespace locus::proxy::http {

absl::Status Limits::Validate() const {
  if (max_start_line == 0 || max_start_line > kMaxConfigurableLine) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_start_line must be in [1, ", kMaxConfigurableLine, "]"));
  }
  if (max_chunk_line == 0 || max_chunk_line > kMaxConfigurableLine) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_chunk_line must be in [1, ", kMaxConfigurableLine, "]"));
  }
  // The smallest header section is the final CRLF.
  if (max_header_section < 2 || max_header_section > kMaxConfigurableSection) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_header_section must be in [2, ", kMaxConfigurableSection, "]"));
  }
  if (max_header_count == 0 || max_header_count > kHeaderCountCapacity) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_header_count must be in [1, ", kHeaderCountCapacity, "]"));
  }
  return absl::OkStatus();
}

}  // namespace locus::proxy::http
