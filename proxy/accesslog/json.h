// One JSON object per line for the access log (RFC 8259), built by
// appending to a caller's std::string: nothing else is allocated, so a shard
// that keeps its string (capacity kMaxJsonLineBytes) formats without
// touching the heap.
//
// String escaping. Header values and paths are attacker-controlled, and a
// log line must stay one valid line of valid UTF-8 JSON whatever they hold:
//   * `"` and `\` are escaped as \" and \\.
//   * Every control character (U+0000-U+001F, U+007F, and the C1 controls
//     U+0080-U+009F) is written as \u00XX (lowercase hex), including \n and
//     \t: one rule, and no terminal control sequence survives into the file.
//   * U+2028 and U+2029 are written as \u2028 / \u2029 (line separators to
//     JavaScript and to some log viewers).
//   * Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
//     above U+10FFFF) is copied as is.
//   * Every byte that is not part of a well-formed UTF-8 sequence is read as
//     an ISO-8859-1 character, the historical charset of HTTP field values
//     (RFC 9110 §5.5), and written as \u00XX. Nothing is dropped or
//     replaced: the bytes received can be recovered from the line. The
//     price: after JSON decoding, a lone byte 0xE9 and a well-formed "é"
//     both read U+00E9 (the raw line still tells them apart).
//   * A value whose escaped form exceeds kMaxJsonValueBytes is cut at the
//     last whole character or escape that fits and ends with "..." (the
//     three dots are not counted in the limit). This bounds a line by
//     kMaxJsonLineBytes whatever the request held.
#ifndef LOCUS_PROXY_ACCESSLOG_JSON_H_
#define LOCUS_PROXY_ACCESSLOG_JSON_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/accesslog/record.h"

namespace locus::proxy::accesslog {

// Escaped bytes of one string value, without its quotes and without the
// "..." marker of a cut value.
inline constexpr size_t kMaxJsonValueBytes = 4096;
inline constexpr std::string_view kTruncationMarker = "...";

// String-valued keys of the record (listener, method, authority, path,
// protocol, response_flags, upstream_pool, route, user_agent,
// x_forwarded_for, request_id).
inline constexpr size_t kJsonStringFields = 11;
// Everything else on a line (keys, numbers, addresses, the time, the
// newline) fits in this, with room to spare (see json_test.cc).
inline constexpr size_t kJsonFixedBytesBound = 1024;
// The longest line FormatJson can produce.
inline constexpr size_t kMaxJsonLineBytes =
    kJsonStringFields * (kMaxJsonValueBytes + kTruncationMarker.size() + 2) +
    kJsonFixedBytesBound;

// Appends `value` as a JSON string (with quotes), escaped as above and cut
// at `max_escaped_bytes`. Returns false when the value was cut.
bool AppendJsonString(std::string_view value, std::string* out,
                      size_t max_escaped_bytes = kMaxJsonValueBytes);

// Appends "YYYY-MM-DDTHH:MM:SS.mmmZ" (RFC 3339, UTC, milliseconds truncated
// toward the past). Times outside years 0000-9999 are clamped to them.
void AppendRfc3339Millis(int64_t unix_micros, std::string* out);

// Appends a duration as milliseconds with three decimals (microsecond
// precision), e.g. 12.345. Negative durations are written as 0.000.
void AppendMillis(Duration d, std::string* out);

// Appends "a.b.c.d:port".
void AppendEndpoint(const Endpoint& e, std::string* out);

// Appends one line: a JSON object and '\n'. Keys always appear, in this
// order:
//   start_time, shard, client, listener, method, authority, path, protocol,
//   status, response_flags, bytes_received, bytes_sent, duration_ms,
//   upstream_pool, upstream_endpoint, upstream_connect_ms, route, retries,
//   user_agent, x_forwarded_for, request_id
// An empty string field is null (response_flags: "-"); an absent upstream
// endpoint or connect time is null. At most kMaxJsonLineBytes bytes.
void FormatJson(const AccessLogRecord& record, std::string* out);

}  // namespace locus::proxy::accesslog

#endif  // LOCUS_PROXY_ACCESSLOG_JSON_H_
