#include "proxy/accesslog/json.h"

#include <algorithm>
#include <array>
#include <charconv>

namespace locus::proxy::accesslog {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Bytes copied without escaping: printable ASCII except '"' and '\'.
constexpr std::array<bool, 256> kPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x7f; ++c) t[c] = c != '"' && c != '\\';
  return t;
}();

bool InRange(const unsigned char* p, size_t n, size_t i, unsigned char lo, unsigned char hi) {
  return i < n && p[i] >= lo && p[i] <= hi;
}

// Length of the well-formed UTF-8 sequence at p[0] (>= 0x80), or 0 when
// p[0] does not start one. RFC 3629 §4 (Unicode Table 3-7): the second-byte
// ranges after E0, ED, F0 and F4 exclude overlong forms, surrogates and
// code points above U+10FFFF.
size_t Utf8SequenceLength(const unsigned char* p, size_t n) {
  const unsigned char b = p[0];
  if (b >= 0xc2 && b <= 0xdf) return InRange(p, n, 1, 0x80, 0xbf) ? 2 : 0;
  unsigned char lo = 0x80, hi = 0xbf;
  size_t len = 0;
  if (b == 0xe0) {
    lo = 0xa0, len = 3;
  } else if ((b >= 0xe1 && b <= 0xec) || b == 0xee || b == 0xef) {
    len = 3;
  } else if (b == 0xed) {
    hi = 0x9f, len = 3;
  } else if (b == 0xf0) {
    lo = 0x90, len = 4;
  } else if (b >= 0xf1 && b <= 0xf3) {
    len = 4;
  } else if (b == 0xf4) {
    hi = 0x8f, len = 4;
  } else {
    return 0;  // 80-C1, F5-FF: never a first byte
  }
  if (!InRange(p, n, 1, lo, hi)) return 0;
  for (size_t i = 2; i < len; ++i) {
    if (!InRange(p, n, i, 0x80, 0xbf)) return 0;
  }
  return len;
}

void AppendUint(uint64_t v, std::string* out) {
  char buf[20];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

// `width` digits, zero-padded (v < 10^width).
void AppendPadded(uint64_t v, int width, std::string* out) {
  char buf[20];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out->append(buf, static_cast<size_t>(width));
}

void AppendStringOrNull(std::string_view value, std::string* out) {
  if (value.empty()) {
    out->append("null");
  } else {
    AppendJsonString(value, out);
  }
}

// 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999999Z.
constexpr int64_t kMinUnixMicros = -62167219200LL * 1000000;
constexpr int64_t kMaxUnixMicros = 253402300800LL * 1000000 - 1;

int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

}  // namespace

bool AppendJsonString(std::string_view value, std::string* out, size_t max_escaped_bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(value.data());
  const size_t n = value.size();
  size_t budget = max_escaped_bytes;
  bool whole = true;
  out->push_back('"');
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    while (j < n && kPlain[p[j]]) ++j;
    if (j > i) {
      const size_t take = std::min(j - i, budget);
      out->append(reinterpret_cast<const char*>(p + i), take);
      budget -= take;
      i += take;
      if (i < j) {
        whole = false;
        break;
      }
      continue;
    }
    // One character or one invalid byte: an escape or a raw UTF-8 sequence.
    char unit[6];
    size_t unit_len = 6;
    size_t consumed = 1;
    const char* raw = nullptr;
    const unsigned char b = p[i];
    auto escape_u00 = [&unit](unsigned char c) {
      unit[0] = '\\', unit[1] = 'u', unit[2] = '0', unit[3] = '0';
      unit[4] = kHex[c >> 4], unit[5] = kHex[c & 0xf];
    };
    if (b == '"' || b == '\\') {
      unit[0] = '\\', unit[1] = static_cast<char>(b);
      unit_len = 2;
    } else if (b < 0x80) {  // C0 controls and DEL
      escape_u00(b);
    } else {
      const size_t len = Utf8SequenceLength(p + i, n - i);
      if (len == 0) {
        escape_u00(b);  // not UTF-8: the ISO-8859-1 character of this byte
      } else if (len == 2 && b == 0xc2 && p[i + 1] <= 0x9f) {
        escape_u00(p[i + 1]);  // C1 control U+0080-U+009F
        consumed = 2;
      } else if (len == 3 && b == 0xe2 && p[i + 1] == 0x80 &&
                 (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
        unit[0] = '\\', unit[1] = 'u', unit[2] = '2', unit[3] = '0', unit[4] = '2';
        unit[5] = p[i + 2] == 0xa8 ? '8' : '9';
        consumed = 3;
      } else {
        raw = reinterpret_cast<const char*>(p + i);
        unit_len = len;
        consumed = len;
      }
    }
    if (unit_len > budget) {
      whole = false;
      break;
    }
    out->append(raw != nullptr ? raw : unit, unit_len);
    budget -= unit_len;
    i += consumed;
  }
  if (!whole) out->append(kTruncationMarker);
  out->push_back('"');
  return whole;
}

void AppendRfc3339Millis(int64_t unix_micros, std::string* out) {
  const int64_t micros = std::clamp(unix_micros, kMinUnixMicros, kMaxUnixMicros);
  const int64_t millis = FloorDiv(micros, 1000);
  const int64_t days = FloorDiv(millis, 86400000);
  const int64_t ms_of_day = millis - days * 86400000;
  // Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
  // civil_from_days).
  const int64_t z = days + 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);

  AppendPadded(static_cast<uint64_t>(year), 4, out);
  out->push_back('-');
  AppendPadded(static_cast<uint64_t>(month), 2, out);
  out->push_back('-');
  AppendPadded(static_cast<uint64_t>(day), 2, out);
  out->push_back('T');
  AppendPadded(static_cast<uint64_t>(ms_of_day / 3600000), 2, out);
  out->push_back(':');
  AppendPadded(static_cast<uint64_t>(ms_of_day / 60000 % 60), 2, out);
  out->push_back(':');
  AppendPadded(static_cast<uint64_t>(ms_of_day / 1000 % 60), 2, out);
  out->push_back('.');
  AppendPadded(static_cast<uint64_t>(ms_of_day % 1000), 3, out);
  out->push_back('Z');
}

void AppendMillis(Duration d, std::string* out) {
  const int64_t micros = std::max<int64_t>(d.micros(), 0);
  AppendUint(static_cast<uint64_t>(micros / 1000), out);
  out->push_back('.');
  AppendPadded(static_cast<uint64_t>(micros % 1000), 3, out);
}

void AppendEndpoint(const Endpoint& e, std::string* out) {
  const uint32_t a = e.address.value();
  AppendUint(a >> 24, out);
  out->push_back('.');
  AppendUint((a >> 16) & 0xff, out);
  out->push_back('.');
  AppendUint((a >> 8) & 0xff, out);
  out->push_back('.');
  AppendUint(a & 0xff, out);
  out->push_back(':');
  AppendUint(e.port, out);
}

void FormatJson(const AccessLogRecord& r, std::string* out) {
  out->append("{\"start_time\":\"");
  AppendRfc3339Millis(r.start_unix_micros, out);
  out->append("\",\"shard\":");
  AppendUint(r.shard, out);
  out->append(",\"client\":\"");
  AppendEndpoint(r.client, out);
  out->append("\",\"listener\":");
  AppendStringOrNull(r.listener, out);
  out->append(",\"method\":");
  AppendStringOrNull(r.method, out);
  out->append(",\"authority\":");
  AppendStringOrNull(r.authority, out);
  out->append(",\"path\":");
  AppendStringOrNull(r.path, out);
  out->append(",\"protocol\":");
  AppendStringOrNull(r.protocol, out);
  out->append(",\"status\":");
  AppendUint(r.status, out);
  out->append(",\"response_flags\":");
  AppendJsonString(r.response_flags.empty() ? kFlagNone : r.response_flags, out);
  out->append(",\"bytes_received\":");
  AppendUint(r.bytes_received, out);
  out->append(",\"bytes_sent\":");
  AppendUint(r.bytes_sent, out);
  out->append(",\"duration_ms\":");
  AppendMillis(r.duration, out);
  out->append(",\"upstream_pool\":");
  AppendStringOrNull(r.upstream_pool, out);
  out->append(",\"upstream_endpoint\":");
  if (r.upstream_endpoint.has_value()) {
    out->push_back('"');
    AppendEndpoint(*r.upstream_endpoint, out);
    out->push_back('"');
  } else {
    out->append("null");
  }
  out->append(",\"upstream_connect_ms\":");
  if (r.upstream_connect.has_value()) {
    AppendMillis(*r.upstream_connect, out);
  } else {
    out->append("null");
  }
  out->append(",\"route\":");
  AppendStringOrNull(r.route, out);
  out->append(",\"retries\":");
  AppendUint(r.retries, out);
  out->append(",\"user_agent\":");
  AppendStringOrNull(r.user_agent, out);
  out->append(",\"x_forwarded_for\":");
  AppendStringOrNull(r.x_forwarded_for, out);
  out->append(",\"request_id\":");
  AppendStringOrNull(r.request_id, out);
  out->append("}\n");
}

}  // namespace locus::proxy::accesslog
