#include "proxy/accesslog/json.h"

#include <cstdint>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace locus::proxy::accesslog {
namespace {

std::string Escape(std::string_view in, size_t max = kMaxJsonValueBytes) {
  std::string out;
  AppendJsonString(in, &out, max);
  return out;
}

// An independent check of what a log reader needs: the bytes are well-formed
// UTF-8 (decoded by arithmetic here, not by a table), contain no raw control
// character, and form exactly one JSON string with valid escapes.
::testing::AssertionResult IsStrictJsonString(const std::string& s) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') {
    return ::testing::AssertionFailure() << "not quoted: " << s;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 1; i + 1 < s.size();) {
    const unsigned char b = p[i];
    if (b < 0x20 || b == 0x7f) return ::testing::AssertionFailure() << "raw control at " << i;
    if (b == '"') return ::testing::AssertionFailure() << "unescaped quote at " << i;
    if (b == '\\') {
      if (i + 2 >= s.size()) return ::testing::AssertionFailure() << "dangling escape";
      const char e = static_cast<char>(p[i + 1]);
      if (e == '"' || e == '\\') {
        i += 2;
        continue;
      }
      if (e != 'u' || i + 6 >= s.size()) return ::testing::AssertionFailure() << "bad escape at " << i;
      for (size_t k = 2; k < 6; ++k) {
        if (!isxdigit(p[i + k])) return ::testing::AssertionFailure() << "bad \\u at " << i;
      }
      i += 6;
      continue;
    }
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 0;
    if (len == 0 || b >= 0xf8 || i + len >= s.size()) {
      return ::testing::AssertionFailure() << "bad lead byte at " << i;
    }
    uint32_t cp = b & (0x7f >> len);
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) return ::testing::AssertionFailure() << "bad tail at " << i;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    const uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return ::testing::AssertionFailure() << "overlong/surrogate/too big at " << i;
    }
    if (cp <= 0x9f || cp == 0x2028 || cp == 0x2029) {
      return ::testing::AssertionFailure() << "raw C1 control or line separator at " << i;
    }
    i += len;
  }
  return ::testing::AssertionSuccess();
}

TEST(JsonStringTest, PlainAsciiIsCopied) {
  EXPECT_EQ(Escape(""), "\"\"");
  EXPECT_EQ(Escape("GET /index.html?a=1&b=2 curl/8.0 ~!@#$%^*()"),
            "\"GET /index.html?a=1&b=2 curl/8.0 ~!@#$%^*()\"");
}

TEST(JsonStringTest, QuotesAndBackslashes) {
  EXPECT_EQ(Escape(R"(a"b\c)"), R"("a\"b\\c")");
  EXPECT_EQ(Escape(R"(\")"), R"("\\\"")");
}

TEST(JsonStringTest, EveryControlCharacterIsUnicodeEscaped) {
  for (int c = 0; c < 0x20; ++c) {
    char hex[8];
    snprintf(hex, sizeof(hex), "\\u%04x", c);
    EXPECT_EQ(Escape(std::string(1, static_cast<char>(c))), "\"" + std::string(hex) + "\"") << c;
  }
  EXPECT_EQ(Escape("a\nb\r\tc"), "\"a\\u000ab\\u000d\\u0009c\"");
  EXPECT_EQ(Escape(std::string("x\0y", 3)), "\"x\\u0000y\"");
  EXPECT_EQ(Escape("\x7f"), "\"\\u007f\"");
  // Line injection: nothing of the value can end the line or the string.
  const std::string injected = Escape("ua\n{\"status\":200}");
  EXPECT_EQ(injected.find('\n'), std::string::npos);
  EXPECT_EQ(injected, "\"ua\\u000a{\\\"status\\\":200}\"");
}

TEST(JsonStringTest, WellFormedUtf8IsCopied) {
  EXPECT_EQ(Escape("caf\xc3\xa9"), "\"caf\xc3\xa9\"");                     // U+00E9
  EXPECT_EQ(Escape("\xc2\xa0"), "\"\xc2\xa0\"");                           // U+00A0, first after C1
  EXPECT_EQ(Escape("\xe2\x82\xac"), "\"\xe2\x82\xac\"");                   // U+20AC
  EXPECT_EQ(Escape("\xed\x9f\xbf"), "\"\xed\x9f\xbf\"");                   // U+D7FF
  EXPECT_EQ(Escape("\xee\x80\x80"), "\"\xee\x80\x80\"");                   // U+E000
  EXPECT_EQ(Escape("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"");           // U+1F600
  EXPECT_EQ(Escape("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\"");           // U+10FFFF
  EXPECT_EQ(Escape("\xe0\xa0\x80"), "\"\xe0\xa0\x80\"");                   // U+0800
  EXPECT_EQ(Escape("\xf0\x90\x80\x80"), "\"\xf0\x90\x80\x80\"");           // U+10000
}

TEST(JsonStringTest, C1ControlsAndLineSeparatorsAreEscaped) {
  EXPECT_EQ(Escape("\xc2\x80"), "\"\\u0080\"");
  EXPECT_EQ(Escape("\xc2\x85"), "\"\\u0085\"");  // NEL
  EXPECT_EQ(Escape("\xc2\x9b"), "\"\\u009b\"");  // CSI
  EXPECT_EQ(Escape("\xc2\x9f"), "\"\\u009f\"");
  EXPECT_EQ(Escape("a\xe2\x80\xa8" "b\xe2\x80\xa9"), "\"a\\u2028b\\u2029\"");
  EXPECT_EQ(Escape("\xe2\x80\xa7"), "\"\xe2\x80\xa7\"");  // U+2027 is ordinary
}

TEST(JsonStringTest, InvalidUtf8BytesAreEscapedOneByOne) {
  EXPECT_EQ(Escape("\x80"), "\"\\u0080\"");                       // lone continuation
  EXPECT_EQ(Escape("\xff\xfe"), "\"\\u00ff\\u00fe\"");
  EXPECT_EQ(Escape("caf\xe9"), "\"caf\\u00e9\"");                  // ISO-8859-1 é
  EXPECT_EQ(Escape("\xc0\xaf"), "\"\\u00c0\\u00af\"");             // overlong '/'
  EXPECT_EQ(Escape("\xc1\xbf"), "\"\\u00c1\\u00bf\"");             // overlong
  EXPECT_EQ(Escape("\xe0\x80\xaf"), "\"\\u00e0\\u0080\\u00af\"");  // overlong 3-byte
  EXPECT_EQ(Escape("\xf0\x80\x80\xaf"), "\"\\u00f0\\u0080\\u0080\\u00af\"");
  EXPECT_EQ(Escape("\xed\xa0\x80"), "\"\\u00ed\\u00a0\\u0080\"");  // surrogate U+D800
  EXPECT_EQ(Escape("\xf4\x90\x80\x80"), "\"\\u00f4\\u0090\\u0080\\u0080\"");  // > U+10FFFF
  EXPECT_EQ(Escape("\xf5\x80\x80\x80"), "\"\\u00f5\\u0080\\u0080\\u0080\"");
  // Truncated sequences, at the end and followed by ASCII.
  EXPECT_EQ(Escape("\xe2\x82"), "\"\\u00e2\\u0082\"");
  EXPECT_EQ(Escape("\xe2\x82z"), "\"\\u00e2\\u0082z\"");
  EXPECT_EQ(Escape("\xf0\x9f\x98"), "\"\\u00f0\\u009f\\u0098\"");
  // A broken sequence does not swallow a valid one after it.
  EXPECT_EQ(Escape("\xc3\xc3\xa9"), "\"\\u00c3\xc3\xa9\"");
}

TEST(JsonStringTest, RandomBytesAlwaysGiveStrictJson) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 20000; ++round) {
    std::string in(rng() % 24, '\0');
    for (char& c : in) {
      // Bias toward the interesting bytes: controls, quotes, UTF-8 leads.
      const uint32_t r = rng();
      c = static_cast<char>((r & 0x100) ? (r & 0xff) : "\"\\\x01\x7f\xc2\xe2\xed\xf0\xf4\x80\xa8\xbf"[r % 12]);
    }
    const std::string out = Escape(in, 1 + rng() % 64);
    ASSERT_TRUE(IsStrictJsonString(out)) << round;
  }
}

TEST(JsonStringTest, ValueAtTheLimitIsWholeAndOneMoreIsCut) {
  const std::string at_limit(kMaxJsonValueBytes, 'a');
  std::string out;
  EXPECT_TRUE(AppendJsonString(at_limit, &out));
  EXPECT_EQ(out, "\"" + at_limit + "\"");

  out.clear();
  EXPECT_FALSE(AppendJsonString(at_limit + "b", &out));
  EXPECT_EQ(out, "\"" + at_limit + "...\"");

  // Escapes count with their escaped length: six bytes each.
  const std::string controls(kMaxJsonValueBytes / 6, '\x01');
  out.clear();
  EXPECT_TRUE(AppendJsonString(controls, &out));
  EXPECT_EQ(out.size(), 2 + controls.size() * 6);
  out.clear();
  EXPECT_FALSE(AppendJsonString(controls + "\x01", &out));
  EXPECT_EQ(out.size(), 2 + controls.size() * 6 + kTruncationMarker.size());
}

TEST(JsonStringTest, CutNeverSplitsAnEscapeOrACharacter) {
  // Three bytes left: a six-byte escape does not fit and is not started.
  EXPECT_EQ(Escape("abc\x01", 6), "\"abc...\"");
  EXPECT_EQ(Escape("abc\x01", 9), "\"abc\\u0001\"");
  // One byte left: a two-byte character is not started.
  EXPECT_EQ(Escape("abcde\xc3\xa9", 6), "\"abcde...\"");
  EXPECT_EQ(Escape("abcde\xc3\xa9", 7), "\"abcde\xc3\xa9\"");
  EXPECT_EQ(Escape("\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 7), "\"\xf0\x9f\x98\x80...\"");
  EXPECT_EQ(Escape("ab\"", 3), "\"ab...\"");
  EXPECT_EQ(Escape("x", 0), "\"...\"");
  EXPECT_EQ(Escape("", 0), "\"\"");
  // Long hostile values stay strict.
  std::string hostile;
  for (int i = 0; i < 10000; ++i) hostile += "\"\\\n\xc3\xe2\x80\xa8\xf0\x9f\x98\x80";
  const std::string out = Escape(hostile);
  EXPECT_TRUE(IsStrictJsonString(out));
  EXPECT_LE(out.size(), kMaxJsonValueBytes + kTruncationMarker.size() + 2);
}

TEST(Rfc3339Test, Formats) {
  auto fmt = [](int64_t us) {
    std::string s;
    AppendRfc3339Millis(us, &s);
    return s;
  };
  EXPECT_EQ(fmt(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(fmt(1700000000123456), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(fmt(1700000000999999), "2023-11-14T22:13:20.999Z");  // truncated, not rounded
  EXPECT_EQ(fmt(1709208000000000), "2024-02-29T12:00:00.000Z");  // leap day
  EXPECT_EQ(fmt(951868800000000 - 1), "2000-02-29T23:59:59.999Z");
  EXPECT_EQ(fmt(951868800000000), "2000-03-01T00:00:00.000Z");
  EXPECT_EQ(fmt(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(fmt(-1000), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(fmt(-1001), "1969-12-31T23:59:59.998Z");
  EXPECT_EQ(fmt(INT64_MIN), "0000-01-01T00:00:00.000Z");
  EXPECT_EQ(fmt(INT64_MAX), "9999-12-31T23:59:59.999Z");
}

TEST(MillisTest, MicrosecondPrecision) {
  auto fmt = [](Duration d) {
    std::string s;
    AppendMillis(d, &s);
    return s;
  };
  EXPECT_EQ(fmt(Duration::Zero()), "0.000");
  EXPECT_EQ(fmt(Duration::Micros(1)), "0.001");
  EXPECT_EQ(fmt(Duration::Nanos(999)), "0.000");
  EXPECT_EQ(fmt(Duration::Micros(12345)), "12.345");
  EXPECT_EQ(fmt(Duration::Seconds(90) + Duration::Micros(7)), "90000.007");
  EXPECT_EQ(fmt(Duration::Micros(-5)), "0.000");
}

AccessLogRecord FullRecord() {
  AccessLogRecord r;
  r.start_unix_micros = 1700000000123456;
  r.shard = 3;
  r.client = {wire::Ipv4Address::FromOctets(192, 0, 2, 10), 51234};
  r.listener = "public_http";
  r.method = "GET";
  r.authority = "example.com";
  r.path = "/search?q=\"x\"";
  r.protocol = "HTTP/1.1";
  r.status = 502;
  r.response_flags = kFlagUpstreamConnectFailure;
  r.bytes_received = 311;
  r.bytes_sent = 142;
  r.duration = Duration::Micros(12345);
  r.upstream_pool = "web";
  r.upstream_endpoint = Endpoint{wire::Ipv4Address::FromOctets(10, 0, 0, 5), 8080};
  r.upstream_connect = Duration::Micros(250);
  r.route = "default";
  r.retries = 2;
  r.user_agent = "curl/8.0\x01";
  r.x_forwarded_for = "203.0.113.7";
  r.request_id = "f81d4fae-7dec-11d0-a765-00a0c91e6bf6";
  return r;
}

TEST(FormatJsonTest, GoldenFullRecord) {
  std::string line;
  FormatJson(FullRecord(), &line);
  EXPECT_EQ(line,
            R"({"start_time":"2023-11-14T22:13:20.123Z","shard":3,"client":"192.0.2.10:51234",)"
            R"("listener":"public_http","method":"GET","authority":"example.com",)"
            R"("path":"/search?q=\"x\"","protocol":"HTTP/1.1","status":502,)"
            R"("response_flags":"upstream_connect_failure","bytes_received":311,"bytes_sent":142,)"
            R"("duration_ms":12.345,"upstream_pool":"web","upstream_endpoint":"10.0.0.5:8080",)"
            R"("upstream_connect_ms":0.250,"route":"default","retries":2,)"
            R"("user_agent":"curl/8.0\u0001","x_forwarded_for":"203.0.113.7",)"
            R"("request_id":"f81d4fae-7dec-11d0-a765-00a0c91e6bf6"})"
            "\n");
}

TEST(FormatJsonTest, GoldenEmptyRecord) {
  std::string line;
  FormatJson(AccessLogRecord(), &line);
  EXPECT_EQ(line,
            R"({"start_time":"1970-01-01T00:00:00.000Z","shard":0,"client":"0.0.0.0:0",)"
            R"("listener":null,"method":null,"authority":null,"path":null,"protocol":null,)"
            R"("status":0,"response_flags":"-","bytes_received":0,"bytes_sent":0,)"
            R"("duration_ms":0.000,"upstream_pool":null,"upstream_endpoint":null,)"
            R"("upstream_connect_ms":null,"route":null,"retries":0,"user_agent":null,)"
            R"("x_forwarded_for":null,"request_id":null})"
            "\n");
}

TEST(FormatJsonTest, AppendsWithoutTouchingWhatIsThere) {
  std::string line = "prefix|";
  FormatJson(FullRecord(), &line);
  EXPECT_EQ(line.rfind("prefix|{\"start_time\"", 0), 0u);
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
}

TEST(FormatJsonTest, LongestLineIsWithinTheBound) {
  // Every number at its widest, no strings: the fixed part.
  AccessLogRecord r;
  r.start_unix_micros = INT64_MAX;
  r.shard = UINT32_MAX;
  r.client = {wire::Ipv4Address::Broadcast(), 65535};
  r.status = UINT16_MAX;
  r.response_flags = "";
  r.bytes_received = UINT64_MAX;
  r.bytes_sent = UINT64_MAX;
  r.duration = Duration::Infinite();
  r.upstream_endpoint = Endpoint{wire::Ipv4Address::Broadcast(), 65535};
  r.upstream_connect = Duration::Infinite();
  r.retries = UINT32_MAX;
  std::string fixed;
  FormatJson(r, &fixed);
  EXPECT_LE(fixed.size(), kJsonFixedBytesBound);

  // Every string field long and made of the costliest character.
  const std::string worst(3 * kMaxJsonValueBytes, '\x01');
  std::string_view* fields[] = {&r.listener, &r.method, &r.authority, &r.path,
                                &r.protocol, &r.response_flags, &r.upstream_pool, &r.route,
                                &r.user_agent, &r.x_forwarded_for, &r.request_id};
  static_assert(std::size(fields) == kJsonStringFields);
  for (std::string_view* f : fields) *f = worst;
  std::string line;
  FormatJson(r, &line);
  EXPECT_LE(line.size(), kMaxJsonLineBytes);
  EXPECT_GT(line.size(), kMaxJsonLineBytes - kJsonFixedBytesBound);
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
}

}  // namespace
}  // namespace locus::proxy::accesslog
