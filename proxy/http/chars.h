// Character classes of RFC 9110 / RFC 9112 as one 256-entry table, so that
// each validation is a load and a mask per byte.
#ifndef LOCUS_PROXY_HTTP_CHARS_H_
#define LOCUS_PROXY_HTTP_CHARS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace locus::proxy::http::chars {

enum : uint8_t {
  kTchar = 1 << 0,       // token (RFC 9110 §5.6.2)
  kFieldChar = 1 << 1,   // field-vchar / SP / HTAB (RFC 9110 §5.5); also reason-phrase
  kTargetChar = 1 << 2,  // VCHAR except '#' (see README: request-target)
  kHexDigit = 1 << 3,
  kQdtext = 1 << 4,      // qdtext (RFC 9110 §5.6.4)
  kRegName = 1 << 5,     // unreserved / sub-delims / '%' (RFC 3986 reg-name)
  kDigit = 1 << 6,
};

constexpr std::array<uint8_t, 256> MakeTable() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    uint8_t v = 0;
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    const bool vchar = c >= 0x21 && c <= 0x7e;
    const bool obs_text = c >= 0x80;
    if (alpha || digit || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) !=
                              std::string_view::npos) {
      v |= kTchar;
    }
    if (vchar || obs_text || c == ' ' || c == '\t') v |= kFieldChar;
    if (vchar && c != '#') v |= kTargetChar;
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) v |= kHexDigit;
    if (c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
        (c >= 0x5d && c <= 0x7e) || obs_text) {
      v |= kQdtext;
    }
    if (alpha || digit || std::string_view("-._~!$&'()*+,;=%").find(static_cast<char>(c)) !=
                              std::string_view::npos) {
      v |= kRegName;
    }
    if (digit) v |= kDigit;
    t[c] = v;
  }
  return t;
}

inline constexpr std::array<uint8_t, 256> kTable = MakeTable();

inline bool Is(char c, uint8_t cls) { return (kTable[static_cast<uint8_t>(c)] & cls) != 0; }

// True when every byte of `s` is in `cls` (and `s` may be empty).
inline bool All(std::string_view s, uint8_t cls) {
  for (char c : s) {
    if (!Is(c, cls)) return false;
  }
  return true;
}

inline bool IsToken(std::string_view s) { return !s.empty() && All(s, kTchar); }

inline char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

inline bool IsOws(char c) { return c == ' ' || c == '\t'; }

inline std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

// Length of the quoted-string (RFC 9110 §5.6.4) at the front of `s`, or 0
// when `s` does not start with a complete, valid one.
inline size_t QuotedStringLength(std::string_view s) {
  if (s.empty() || s[0] != '"') return 0;
  for (size_t i = 1; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') return i + 1;
    if (c == '\\') {
      // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
      if (i + 1 >= s.size() || !Is(s[i + 1], kFieldChar)) return 0;
      ++i;
    } else if (!Is(c, kQdtext)) {
      return 0;
    }
  }
  return 0;
}

// Splits a list field value (RFC 9110 §5.6.1) into elements, honouring
// quoted strings so that a comma inside quotes does not split. Elements come
// back with OWS trimmed and may be empty ("a, ,b" has an empty element,
// which RFC 9110 §5.6.1 tells recipients to ignore). Unbalanced quotes make
// the element run to the end of the value; element validators reject it.
class ListSplitter {
 public:
  explicit ListSplitter(std::string_view value) : rest_(value) {}
  // False when the list is exhausted.
  bool Next(std::string_view* element) {
    if (done_) return false;
    bool in_quotes = false;
    for (size_t i = 0; i < rest_.size(); ++i) {
      const char c = rest_[i];
      if (in_quotes) {
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          in_quotes = false;
        }
      } else if (c == '"') {
        in_quotes = true;
      } else if (c == ',') {
        *element = TrimOws(rest_.substr(0, i));
        rest_.remove_prefix(i + 1);
        return true;
      }
    }
    *element = TrimOws(rest_);
    done_ = true;
    return true;
  }

 private:
  std::string_view rest_;
  bool done_ = false;
};

}  // namespace locus::proxy::http::chars

#endif  // LOCUS_PROXY_HTTP_CHARS_H_
