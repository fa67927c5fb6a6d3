#include "api/codec.h"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "yaml-cpp/yaml.h"

namespace locus::api {
namespace {

namespace pb = google::protobuf;

std::string PbMessage(const pb::util::Status& status) {
  pb::StringPiece m = status.message();
  return std::string(m.data(), m.size());
}

// ---------------------------------------------------------------- JSON out

void AppendJsonString(absl::string_view s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

// ------------------------------------------------- YAML 1.2 core schema

bool IsYamlNull(const std::string& s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

bool IsAllOf(absl::string_view s, absl::string_view chars) {
  if (s.empty()) return false;
  for (char c : s) {
    if (chars.find(c) == absl::string_view::npos) return false;
  }
  return true;
}

// A plain scalar the core schema reads as an integer, as JSON digits.
bool YamlInt(const std::string& s, std::string* json) {
  absl::string_view v = s;
  bool negative = false;
  if (!v.empty() && (v[0] == '-' || v[0] == '+')) {
    negative = v[0] == '-';
    v.remove_prefix(1);
  }
  int base = 10;
  if (absl::StartsWith(v, "0x")) {
    base = 16;
    v.remove_prefix(2);
    if (!IsAllOf(v, "0123456789abcdefABCDEF")) return false;
  } else if (absl::StartsWith(v, "0o")) {
    base = 8;
    v.remove_prefix(2);
    if (!IsAllOf(v, "01234567")) return false;
  } else if (!IsAllOf(v, "0123456789")) {
    return false;
  }
  errno = 0;
  std::string digits(v);
  unsigned long long magnitude = std::strtoull(digits.c_str(), nullptr, base);
  if (errno == ERANGE) {
    // Too large for 64 bits: let the JSON parser reject it with its message.
    *json = absl::StrCat(negative ? "-" : "", digits);
    return base == 10;
  }
  *json = absl::StrCat(negative && magnitude != 0 ? "-" : "", magnitude);
  return true;
}

// A plain scalar the core schema reads as a float, as a JSON value. JSON has
// no infinities; proto3 JSON spells them as the strings below.
bool YamlFloat(const std::string& s, std::string* json) {
  static const std::set<std::string>* const kInf = new std::set<std::string>{
      ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"};
  static const std::set<std::string>* const kNegInf =
      new std::set<std::string>{"-.inf", "-.Inf", "-.INF"};
  static const std::set<std::string>* const kNan =
      new std::set<std::string>{".nan", ".NaN", ".NAN"};
  if (kInf->count(s)) {
    *json = "\"Infinity\"";
    return true;
  }
  if (kNegInf->count(s)) {
    *json = "\"-Infinity\"";
    return true;
  }
  if (kNan->count(s)) {
    *json = "\"NaN\"";
    return true;
  }
  // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
  size_t i = 0;
  const size_t n = s.size();
  auto digits = [&] {
    size_t start = i;
    while (i < n && absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) ++i;
    return i - start;
  };
  if (i < n && (s[i] == '-' || s[i] == '+')) ++i;
  size_t int_digits = digits();
  size_t frac_digits = 0;
  if (i < n && s[i] == '.') {
    ++i;
    frac_digits = digits();
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '-' || s[i] == '+')) ++i;
    if (digits() == 0) return false;
  }
  if (i != n) return false;
  double d = std::strtod(s.c_str(), nullptr);
  if (!std::isfinite(d)) return false;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", d);
  *json = buf;
  return true;
}

// ----------------------------------------------------------- YAML -> JSON

class YamlToJsonWriter {
 public:
  explicit YamlToJsonWriter(std::string source) : source_(std::move(source)) {}

  absl::Status Write(const YAML::Node& node, int depth, std::string* out) {
    if (depth > kMaxYamlDepth) {
      return Error(
          node, absl::StrCat("nested deeper than ", kMaxYamlDepth, " levels"));
    }
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        out->append("null");
        return absl::OkStatus();
      case YAML::NodeType::Scalar:
        return WriteScalar(node, out);
      case YAML::NodeType::Sequence: {
        out->push_back('[');
        bool first = true;
        for (const YAML::Node& item : node) {
          if (!first) out->push_back(',');
          first = false;
          if (absl::Status s = Write(item, depth + 1, out); !s.ok()) return s;
        }
        out->push_back(']');
        return absl::OkStatus();
      }
      case YAML::NodeType::Map: {
        out->push_back('{');
        bool first = true;
        std::set<std::string> keys;
        for (const auto& kv : node) {
          if (!kv.first.IsScalar()) {
            return Error(kv.first, "mapping keys must be plain strings");
          }
          const std::string& key = kv.first.Scalar();
          if (!keys.insert(key).second) {
            return Error(kv.first, absl::StrCat("duplicate key \"", key, "\""));
          }
          if (!first) out->push_back(',');
          first = false;
          AppendJsonString(key, out);
          out->push_back(':');
          if (absl::Status s = Write(kv.second, depth + 1, out); !s.ok()) {
            return s;
          }
        }
        out->push_back('}');
        return absl::OkStatus();
      }
    }
    return Error(node, "unsupported YAML node");
  }

 private:
  absl::Status WriteScalar(const YAML::Node& node, std::string* out) {
    const std::string& value = node.Scalar();
    const std::string& tag = node.Tag();
    // yaml-cpp tags quoted and block scalars "!", plain ones "?".
    if (tag == "!" || tag == "!!str" || tag == "tag:yaml.org,2002:str") {
      AppendJsonString(value, out);
      return absl::OkStatus();
    }
    if (tag != "?") {
      return Error(node, absl::StrCat("unsupported tag ", tag));
    }
    std::string json;
    if (IsYamlNull(value)) {
      out->append("null");
    } else if (value == "true" || value == "True" || value == "TRUE") {
      out->append("true");
    } else if (value == "false" || value == "False" || value == "FALSE") {
      out->append("false");
    } else if (YamlInt(value, &json) || YamlFloat(value, &json)) {
      out->append(json);
    } else {
      AppendJsonString(value, out);
    }
    return absl::OkStatus();
  }

  absl::Status Error(const YAML::Node& node, absl::string_view what) const {
    YAML::Mark mark = node.Mark();
    if (mark.is_null()) {
      return absl::InvalidArgumentError(absl::StrCat(source_, ": ", what));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        source_, ":", mark.line + 1, ":", mark.column + 1, ": ", what));
  }

  std::string source_;
};

// ----------------------------------------------------------- JSON -> YAML

// Reads as a number, bool or null under YAML 1.2 or 1.1, so must be quoted.
bool LooksTyped(absl::string_view s) {
  static const std::set<std::string>* const kWords = new std::set<std::string>{
      "null", "~", "true", "false", "yes", "no", "on", "off", "y", "n"};
  if (kWords->count(absl::AsciiStrToLower(s))) return true;
  char c = s[0];
  if (absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-' ||
      c == '+' || c == '.') {
    return IsAllOf(s, "0123456789abcdefABCDEFxXoO.+-_:");
  }
  return false;
}

bool PlainSafe(absl::string_view s) {
  if (s.empty() || LooksTyped(s)) return false;
  // Characters that may start a plain scalar without meaning something else
  // (no indicators such as '*', '&', '!', '-', '?', ':', '#', quotes).
  char first = s[0];
  if (!absl::ascii_isalnum(static_cast<unsigned char>(first)) && first != '/' &&
      first != '_' && first != '.') {
    return false;
  }
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
        absl::string_view("/_.-+=*~^@$()").find(c) == absl::string_view::npos) {
      return false;
    }
  }
  return true;
}

void AppendYamlScalar(const YAML::Node& node, std::string* out) {
  const std::string& value = node.Scalar();
  bool was_string = node.Tag() == "!";  // quoted in the JSON
  if (!was_string || PlainSafe(value)) {
    out->append(value);
  } else {
    AppendJsonString(value, out);  // a JSON string is a valid YAML one
  }
}

bool IsEmptyCollection(const YAML::Node& node) {
  return (node.IsMap() || node.IsSequence()) && node.size() == 0;
}

void AppendInline(const YAML::Node& node, std::string* out) {
  if (node.IsMap()) {
    out->append("{}");
  } else if (node.IsSequence()) {
    out->append("[]");
  } else if (node.IsScalar()) {
    AppendYamlScalar(node, out);
  } else {
    out->append("null");
  }
}

void EmitYaml(const YAML::Node& node, int indent, std::string* out);

// Emits the entries of a non-empty map; the first one continues the current
// line (after "- "), the rest start at `indent`.
void EmitMapEntries(const YAML::Node& node, int indent, bool first_inline,
                    std::string* out) {
  bool first = true;
  for (const auto& kv : node) {
    if (!(first && first_inline)) out->append(std::string(indent, ' '));
    first = false;
    const std::string& key = kv.first.Scalar();
    if (PlainSafe(key)) {
      out->append(key);
    } else {
      AppendJsonString(key, out);
    }
    out->push_back(':');
    const YAML::Node& value = kv.second;
    if ((value.IsMap() || value.IsSequence()) && !IsEmptyCollection(value)) {
      out->push_back('\n');
      EmitYaml(value, indent + 2, out);
    } else {
      out->push_back(' ');
      AppendInline(value, out);
      out->push_back('\n');
    }
  }
}

void EmitYaml(const YAML::Node& node, int indent, std::string* out) {
  if (IsEmptyCollection(node) || !(node.IsMap() || node.IsSequence())) {
    out->append(std::string(indent, ' '));
    AppendInline(node, out);
    out->push_back('\n');
    return;
  }
  if (node.IsMap()) {
    EmitMapEntries(node, indent, /*first_inline=*/false, out);
    return;
  }
  for (const YAML::Node& item : node) {
    out->append(std::string(indent, ' '));
    if (item.IsMap() && item.size() > 0) {
      out->append("- ");
      EmitMapEntries(item, indent + 2, /*first_inline=*/true, out);
    } else if (item.IsSequence() && item.size() > 0) {
      out->append("-\n");
      EmitYaml(item, indent + 2, out);
    } else {
      out->append("- ");
      AppendInline(item, out);
      out->push_back('\n');
    }
  }
}

}  // namespace

TextFormat DetectFormat(absl::string_view text) {
  bool in_comment = false;
  for (char c : text) {
    if (in_comment) {
      if (c == '\n') in_comment = false;
      continue;
    }
    if (c == '#') {
      in_comment = true;
    } else if (!absl::ascii_isspace(static_cast<unsigned char>(c))) {
      return c == '{' ? TextFormat::kJson : TextFormat::kYaml;
    }
  }
  return TextFormat::kYaml;
}

// yaml-cpp reports errors by throwing; this is the only place that lets it,
// and nothing thrown gets past it.
absl::StatusOr<std::string> YamlToJson(absl::string_view yaml,
                                       absl::string_view source) {
  if (yaml.size() > kMaxTextBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": larger than ", kMaxTextBytes, " bytes"));
  }
  std::string src(source);
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(std::string(yaml));
    if (docs.size() > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(src, ": ", docs.size(),
                       " YAML documents ('---'); put the whole config in one"));
    }
    std::string json;
    if (docs.empty()) return std::string("{}");
    YamlToJsonWriter writer(src);
    if (absl::Status s = writer.Write(docs[0], 0, &json); !s.ok()) return s;
    if (json == "null") json = "{}";  // an empty or all-comment document
    return json;
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) {
      return absl::InvalidArgumentError(absl::StrCat(src, ": ", e.msg));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        src, ":", e.mark.line + 1, ":", e.mark.column + 1, ": ", e.msg));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(src, ": ", e.what()));
  }
}

absl::StatusOr<std::string> JsonToYaml(absl::string_view json) {
  try {
    YAML::Node node = YAML::Load(std::string(json));
    std::string out;
    EmitYaml(node, 0, &out);
    return out;
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("JSON to YAML: ", e.what()));
  }
}

std::string FormatDuration(const google::protobuf::Duration& d) {
  if (d.nanos() == 0) return absl::StrCat(d.seconds(), "s");
  std::string frac = absl::StrCat(1000000000 + d.nanos()).substr(1);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return absl::StrCat(d.seconds(), ".", frac, "s");
}

absl::Status ParseText(absl::string_view text, absl::string_view source,
                       google::protobuf::Message* message) {
  message->Clear();
  if (text.size() > kMaxTextBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": larger than ", kMaxTextBytes, " bytes"));
  }
  std::string json;
  if (DetectFormat(text) == TextFormat::kJson) {
    json.assign(text.data(), text.size());
  } else {
    absl::StatusOr<std::string> converted = YamlToJson(text, source);
    if (!converted.ok()) return converted.status();
    json = *std::move(converted);
  }
  pb::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  pb::util::Status status =
      pb::util::JsonStringToMessage(json, message, options);
  if (!status.ok()) {
    message->Clear();
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": ", PbMessage(status)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message) {
  pb::util::JsonPrintOptions options;
  options.add_whitespace = true;
  std::string out;
  pb::util::Status status =
      pb::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot print as JSON: ", PbMessage(status)));
  }
  // Protobuf indents by one space per level. Its strings hold no raw
  // newlines, so every line's leading spaces are indentation: double them.
  std::string indented;
  indented.reserve(out.size() * 3 / 2);
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    size_t depth = line.find_first_not_of(' ');
    if (depth == absl::string_view::npos) continue;
    indented.append(2 * depth, ' ');
    indented.append(line.substr(depth).data(), line.size() - depth);
    indented.push_back('\n');
  }
  return indented;
}

absl::StatusOr<std::string> ToYaml(const google::protobuf::Message& message) {
  std::string json;
  pb::util::Status status = pb::util::MessageToJsonString(message, &json);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot print as YAML: ", PbMessage(status)));
  }
  return JsonToYaml(json);
}

}  // namespace locus::api
