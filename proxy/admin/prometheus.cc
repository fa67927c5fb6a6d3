#include "proxy/admin/prometheus.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace locus::proxy::admin {
namespace {

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// RFC 3629 well-formed UTF-8.
bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char b = p[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) {
      len = 2;
    } else if (b >= 0xe0 && b <= 0xef) {
      len = 3;
      if (b == 0xe0) lo = 0xa0;
      if (b == 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      len = 4;
      if (b == 0xf0) lo = 0x90;
      if (b == 0xf4) hi = 0x8f;
    } else {
      return false;
    }
    if (n - i < len || p[i + 1] < lo || p[i + 1] > hi) return false;
    for (size_t k = 2; k < len; ++k) {
      if (p[i + k] < 0x80 || p[i + k] > 0xbf) return false;
    }
    i += len;
  }
  return true;
}

// Debian's absl::string_view is not std::string_view (docs/conventions.md).
absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// For error messages (which end up in a comment line): visible ASCII only,
// and short.
std::string Printable(std::string_view s, size_t kMax = 64) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    const char c = s[i];
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  if (s.size() > kMax) out += "...";
  return out;
}

std::string_view TypeName(MetricType t) { return t == MetricType::kCounter ? "counter" : "gauge"; }

void AppendEscaped(std::string_view s, bool quote_too, std::string* out) {
  for (char c : s) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '"' && quote_too) {
      out->append("\\\"");
    } else {
      out->push_back(c);
    }
  }
}

void AppendValue(MetricValue v, std::string* out) {
  char buf[32];
  std::to_chars_result r;
  switch (v.kind()) {
    case MetricValue::Kind::kUnsigned:
      r = std::to_chars(buf, buf + sizeof(buf), v.as_unsigned());
      break;
    case MetricValue::Kind::kSigned:
      r = std::to_chars(buf, buf + sizeof(buf), v.as_signed());
      break;
    case MetricValue::Kind::kDouble: {
      const double d = v.as_double();
      // The spellings Go's ParseFloat (the Prometheus parser) accepts.
      if (std::isnan(d)) {
        out->append("NaN");
        return;
      }
      if (std::isinf(d)) {
        out->append(d > 0 ? "+Inf" : "-Inf");
        return;
      }
      r = std::to_chars(buf, buf + sizeof(buf), d);  // shortest round-trip form
      break;
    }
  }
  out->append(buf, r.ptr);
}

}  // namespace

bool PrometheusWriter::IsValidMetricName(std::string_view name) {
  if (name.empty() || !(IsAlpha(name[0]) || name[0] == '_' || name[0] == ':')) return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [](char c) { return IsAlpha(c) || IsDigit(c) || c == '_' || c == ':'; });
}

bool PrometheusWriter::IsValidLabelName(std::string_view name) {
  if (name.empty() || !(IsAlpha(name[0]) || name[0] == '_')) return false;
  if (name.size() >= 2 && name[0] == '_' && name[1] == '_') return false;  // reserved
  return std::all_of(name.begin() + 1, name.end(),
                     [](char c) { return IsAlpha(c) || IsDigit(c) || c == '_'; });
}

PrometheusWriter::Family PrometheusWriter::AddFamily(std::string_view name, std::string_view help,
                                                     MetricType type) {
  if (!IsValidMetricName(name)) {
    Error(absl::StrCat("invalid metric name \"", Printable(name), "\""));
    return Family(this, kDead);
  }
  if (!IsValidUtf8(help)) {
    Error(absl::StrCat("HELP of ", AV(name), " is not UTF-8"));
    return Family(this, kDead);
  }
  if (auto it = by_name_.find(name); it != by_name_.end()) {
    const FamilyData& f = families_[it->second];
    if (f.type != type) {
      Error(absl::StrCat(AV(name), " declared as ", AV(TypeName(f.type)), " and as ",
                         AV(TypeName(type))));
      return Family(this, kDead);
    }
    if (f.help != help) {
      Error(absl::StrCat(AV(name), " declared with two HELP texts; the first stays"));
    }
    return Family(this, it->second);
  }
  families_.push_back(FamilyData{std::string(name), std::string(help), type, {}, {}});
  by_name_.emplace(std::string(name), families_.size() - 1);
  return Family(this, families_.size() - 1);
}

void PrometheusWriter::Family::Add(std::span<const Label> labels, MetricValue value) {
  writer_->AddSample(index_, labels, value);
}

void PrometheusWriter::AddSample(size_t index, std::span<const Label> labels, MetricValue value) {
  if (index == kDead) return;  // reported when the family was refused
  FamilyData& f = families_[index];
  if (labels.size() > kMaxLabelsPerSample) {
    Error(absl::StrCat(f.name, ": ", labels.size(), " labels, more than ", kMaxLabelsPerSample));
    return;
  }
  if (f.type == MetricType::kCounter) {
    const bool bad = (value.kind() == MetricValue::Kind::kSigned && value.as_signed() < 0) ||
                     (value.kind() == MetricValue::Kind::kDouble &&
                      !(std::isfinite(value.as_double()) && value.as_double() >= 0));
    if (bad) {
      Error(absl::StrCat(f.name, ": a counter value must be finite and not negative"));
      return;
    }
  }
  std::array<Label, kMaxLabelsPerSample> sorted;
  std::copy(labels.begin(), labels.end(), sorted.begin());
  const auto end = sorted.begin() + static_cast<ptrdiff_t>(labels.size());
  std::sort(sorted.begin(), end, [](const Label& a, const Label& b) { return a.name < b.name; });

  std::string label_text;
  for (auto it = sorted.begin(); it != end; ++it) {
    if (!IsValidLabelName(it->name)) {
      Error(absl::StrCat(f.name, ": invalid label name \"", Printable(it->name), "\""));
      return;
    }
    if (it != sorted.begin() && (it - 1)->name == it->name) {
      Error(absl::StrCat(f.name, ": label ", AV(it->name), " given twice"));
      return;
    }
    if (!IsValidUtf8(it->value)) {
      Error(absl::StrCat(f.name, ": value of label ", AV(it->name), " is not UTF-8"));
      return;
    }
    label_text.push_back(it == sorted.begin() ? '{' : ',');
    label_text.append(it->name);
    label_text.append("=\"");
    AppendEscaped(it->value, /*quote_too=*/true, &label_text);
    label_text.push_back('"');
  }
  if (!label_text.empty()) label_text.push_back('}');
  if (!f.series.insert(label_text).second) {
    Error(absl::StrCat(f.name, ": series ", Printable(label_text), " added twice"));
    return;
  }
  f.samples.append(f.name);
  f.samples.append(label_text);
  f.samples.push_back(' ');
  AppendValue(value, &f.samples);
  f.samples.push_back('\n');
}

void PrometheusWriter::Error(std::string message) {
  if (error_count_++ == 0) first_error_ = Printable(message, 512);
}

absl::Status PrometheusWriter::status() const {
  if (error_count_ == 0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(error_count_, " metric problem(s); first: ", first_error_));
}

std::string PrometheusWriter::Render() const {
  std::string out;
  Render(&out);
  return out;
}

void PrometheusWriter::Render(std::string* out) const {
  for (const FamilyData& f : families_) {
    if (!f.help.empty()) {
      out->append("# HELP ");
      out->append(f.name);
      out->push_back(' ');
      AppendEscaped(f.help, /*quote_too=*/false, out);
      out->push_back('\n');
    }
    out->append("# TYPE ");
    out->append(f.name);
    out->push_back(' ');
    out->append(TypeName(f.type));
    out->push_back('\n');
    out->append(f.samples);
  }
  if (error_count_ > 0) {
    absl::StrAppend(out, "# locus: ", error_count_, " metric problem(s), skipped; first: ",
                    first_error_, "\n");
  }
}

}  // namespace locus::proxy::admin
