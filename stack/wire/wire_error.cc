#include "stack/wire/wire_error.h"

namespace locus::wire {

std::string_view WireErrorName(WireError e) {
  switch (e) {
    case WireError::kOk: return "ok";
    case WireError::kTruncated: return "truncated";
    case WireError::kBadVersion: return "bad_version";
    case WireError::kBadHeaderLength: return "bad_header_length";
    case WireError::kBadTotalLength: return "bad_total_length";
    case WireError::kBadChecksum: return "bad_checksum";
    case WireError::kFragment: return "fragment";
    case WireError::kBadOption: return "bad_option";
    case WireError::kUnsupported: return "unsupported";
    case WireError::kBadAddress: return "bad_address";
    case WireError::kCount: break;
  }
  return "unknown";
}

}  // namespace locus::wire
