// Why a parser rejected its input. Parsers on the fast path return these
// instead of absl::Status so that a malformed packet costs no allocation;
// the layer above maps each reason to a drop counter.
#ifndef LOCUS_STACK_WIRE_WIRE_ERROR_H_
#define LOCUS_STACK_WIRE_WIRE_ERROR_H_

#include <cstdint>
#include <string_view>
#include <utility>

namespace locus::wire {

enum class WireError : uint8_t {
  kOk = 0,
  kTruncated,          // fewer bytes than the header or a length field says
  kBadVersion,         // IPv4 version != 4, ARP hardware/protocol type
  kBadHeaderLength,    // IHL < 5, TCP data offset < 5 or past the segment
  kBadTotalLength,     // IPv4 total length below the header length, TCP segment > 65535
  kBadChecksum,
  kFragment,           // IPv4 fragment: recognised, not reassembled
  kBadOption,          // option length < 2 or running past the option space, or > 40 bytes
  kUnsupported,        // well-formed but not something we handle (802.3 frame, RARP)
  kBadAddress,         // broadcast/multicast source and similar
  kCount,
};

std::string_view WireErrorName(WireError e);

// Either a parsed value or the reason there is none. A tiny stand-in for
// std::expected (C++23), so that parse failures never allocate.
template <typename T>
class ParseResult {
 public:
  ParseResult(T value) : value_(std::move(value)), error_(WireError::kOk) {}  // NOLINT
  ParseResult(WireError error) : value_(), error_(error) {}                  // NOLINT

  bool ok() const { return error_ == WireError::kOk; }
  WireError error() const { return error_; }
  const T& value() const& { return value_; }
  T& value() & { return value_; }
  const T& operator*() const& { return value_; }
  const T* operator->() const { return &value_; }

 private:
  T value_;
  WireError error_;
};

}  // namespace locus::wire

#endif  // LOCUS_STACK_WIRE_WIRE_ERROR_H_
