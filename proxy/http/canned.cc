#include "proxy/http/canned.h"

#include <array>
#include <cstring>

namespace locus::proxy::http {
namespace {

constexpr uint16_t kCannedStatuses[] = {400, 408, 413, 414, 417, 431, 500,
                                        501, 502, 503, 504, 505};

constexpr std::string_view Reason(uint16_t status) {
  switch (status) {
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";  // RFC 9110 §15.5.14
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "";
  }
}

constexpr size_t kMaxCanned = 192;

struct Canned {
  std::array<char, kMaxCanned> bytes{};
  size_t size = 0;

  constexpr void Put(std::string_view s) {
    for (char c : s) bytes[size++] = c;
  }
  constexpr void PutDecimal(size_t v) {
    char digits[20] = {};
    size_t n = 0;
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n > 0) bytes[size++] = digits[--n];
  }
};

constexpr Canned Build(uint16_t status) {
  Canned c;
  const std::string_view reason = Reason(status);
  char code[3] = {static_cast<char>('0' + status / 100), static_cast<char>('0' + status / 10 % 10),
                  static_cast<char>('0' + status % 10)};
  const std::string_view code_text(code, 3);
  // Body: "<code> <reason>\n".
  const size_t body = 3 + 1 + reason.size() + 1;
  c.Put("HTTP/1.1 ");
  c.Put(code_text);
  c.Put(" ");
  c.Put(reason);
  c.Put("\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ");
  c.PutDecimal(body);
  c.Put("\r\nConnection: close\r\n\r\n");
  c.Put(code_text);
  c.Put(" ");
  c.Put(reason);
  c.Put("\n");
  return c;
}

constexpr std::array<Canned, std::size(kCannedStatuses)> BuildAll() {
  std::array<Canned, std::size(kCannedStatuses)> all{};
  for (size_t i = 0; i < all.size(); ++i) all[i] = Build(kCannedStatuses[i]);
  return all;
}

constexpr std::array<Canned, std::size(kCannedStatuses)> kCanned = BuildAll();

}  // namespace

std::string_view ReasonPhrase(uint16_t status) { return Reason(status); }

std::string_view CannedResponse(uint16_t status) {
  for (size_t i = 0; i < std::size(kCannedStatuses); ++i) {
    if (kCannedStatuses[i] == status) return {kCanned[i].bytes.data(), kCanned[i].size};
  }
  return CannedResponse(500);
}

size_t WriteErrorResponse(uint16_t status, std::string_view detail, std::span<char> out) {
  std::string_view reason = Reason(status);
  if (reason.empty()) {
    status = 500;
    reason = Reason(500);
  }
  const char code[3] = {static_cast<char>('0' + status / 100),
                        static_cast<char>('0' + status / 10 % 10),
                        static_cast<char>('0' + status % 10)};
  const std::string_view code_text(code, 3);
  const size_t body = 3 + 1 + reason.size() + 1 + (detail.empty() ? 0 : detail.size() + 1);
  char length[20];
  size_t n = 0;
  for (size_t v = body; v != 0 || n == 0; v /= 10) length[n++] = static_cast<char>('0' + v % 10);
  char length_text[20];
  for (size_t i = 0; i < n; ++i) length_text[i] = length[n - 1 - i];

  size_t at = 0;
  auto put = [&](std::string_view s) {
    if (at + s.size() <= out.size()) std::memcpy(out.data() + at, s.data(), s.size());
    at += s.size();
  };
  put("HTTP/1.1 ");
  put(code_text);
  put(" ");
  put(reason);
  put("\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ");
  put(std::string_view(length_text, n));
  put("\r\nConnection: close\r\n\r\n");
  put(code_text);
  put(" ");
  put(reason);
  put("\n");
  if (!detail.empty()) {
    put(detail);
    put("\n");
  }
  return at;
}

}  // namespace locus::proxy::http
