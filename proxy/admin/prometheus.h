// Builds a Prometheus text exposition (format 0.0.4) for the admin server's
// /metrics. Runs on the admin thread; it allocates freely.
//
//   PrometheusWriter w;
//   auto requests = w.AddFamily("locus_http_requests_total", "Requests received.",
//                               MetricType::kCounter);
//   requests.Add({{"shard", "0"}, {"listener", "public"}}, 123);
//   w.Gauge("locus_up", "1 while the proxy runs.", 1);
//   std::string text = w.Render();
//
// What it guarantees about the output:
//   * One `# HELP` (when the help is not empty) and one `# TYPE` line per
//     family, before its samples; the samples of a family are together even
//     when they were added interleaved with other families'. Families appear
//     in the order they were first declared.
//   * Metric names match [a-zA-Z_:][a-zA-Z0-9_:]*; label names match
//     [a-zA-Z_][a-zA-Z0-9_]* and do not start with "__" (reserved).
//   * Label values are escaped (\ -> \\, " -> \", newline -> \n) and HELP
//     text likewise (\ -> \\, newline -> \n); both must be valid UTF-8.
//   * Labels are written sorted by name, so a series has one spelling, and
//     the same series twice in a family is refused.
//   * Counter values are finite and not negative.
// Anything that breaks a rule is not written: the sample (or the whole
// family, for a bad family name or a type clash) is skipped, and status()
// reports it. Render() then ends with a comment line saying how many were
// skipped and why, so a scrape still gets every valid metric.
#ifndef LOCUS_PROXY_ADMIN_PROMETHEUS_H_
#define LOCUS_PROXY_ADMIN_PROMETHEUS_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"

namespace locus::proxy::admin {

inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType : uint8_t { kCounter, kGauge };

struct Label {
  std::string_view name;
  std::string_view value;
};

// A sample value: any arithmetic type, kept exactly (64-bit integers are
// not squeezed through a double).
class MetricValue {
 public:
  enum class Kind : uint8_t { kUnsigned, kSigned, kDouble };

  template <typename T>
    requires std::is_arithmetic_v<T>
  MetricValue(T v) {  // NOLINT: implicit on purpose
    if constexpr (std::is_floating_point_v<T>) {
      kind_ = Kind::kDouble, d_ = static_cast<double>(v);
    } else if constexpr (std::is_signed_v<T>) {
      kind_ = Kind::kSigned, i_ = static_cast<int64_t>(v);
    } else {
      kind_ = Kind::kUnsigned, u_ = static_cast<uint64_t>(v);
    }
  }

  Kind kind() const { return kind_; }
  uint64_t as_unsigned() const { return u_; }
  int64_t as_signed() const { return i_; }
  double as_double() const { return d_; }

 private:
  Kind kind_ = Kind::kUnsigned;
  union {
    uint64_t u_;
    int64_t i_;
    double d_;
  };
};

// At most this many labels on one sample (nobody needs more; it bounds the
// sorting and checking per sample).
inline constexpr size_t kMaxLabelsPerSample = 16;

class PrometheusWriter {
 public:
  // A handle to a declared family; valid while its writer lives.
  class Family {
   public:
    void Add(std::initializer_list<Label> labels, MetricValue value) {
      Add(std::span<const Label>(labels.begin(), labels.size()), value);
    }
    void Add(std::span<const Label> labels, MetricValue value);
    void Add(MetricValue value) { Add(std::span<const Label>(), value); }

   private:
    friend class PrometheusWriter;
    Family(PrometheusWriter* writer, size_t index) : writer_(writer), index_(index) {}
    PrometheusWriter* writer_;
    size_t index_;  // kDead: a refused family, whose samples are dropped
  };

  PrometheusWriter() = default;
  PrometheusWriter(const PrometheusWriter&) = delete;
  PrometheusWriter& operator=(const PrometheusWriter&) = delete;

  // Declares a family, or returns the one already declared with this name
  // and type (the first HELP stays; a different one is reported). A bad
  // name or a different type gives a handle that drops its samples.
  Family AddFamily(std::string_view name, std::string_view help, MetricType type);

  // One-sample shorthands.
  void Counter(std::string_view name, std::string_view help, MetricValue value,
               std::initializer_list<Label> labels = {}) {
    AddFamily(name, help, MetricType::kCounter).Add(labels, value);
  }
  void Gauge(std::string_view name, std::string_view help, MetricValue value,
             std::initializer_list<Label> labels = {}) {
    AddFamily(name, help, MetricType::kGauge).Add(labels, value);
  }

  // The exposition text.
  std::string Render() const;
  void Render(std::string* out) const;

  // OK, or the first problem and how many there were.
  absl::Status status() const;
  size_t error_count() const { return error_count_; }

  static bool IsValidMetricName(std::string_view name);
  static bool IsValidLabelName(std::string_view name);

 private:
  static constexpr size_t kDead = static_cast<size_t>(-1);

  struct FamilyData {
    std::string name;
    std::string help;
    MetricType type;
    std::string samples;            // rendered sample lines
    std::set<std::string> series;   // rendered label sets, for duplicates
  };

  void AddSample(size_t index, std::span<const Label> labels, MetricValue value);
  void Error(std::string message);

  std::vector<FamilyData> families_;
  std::map<std::string, size_t, std::less<>> by_name_;
  std::string first_error_;
  size_t error_count_ = 0;
};

}  // namespace locus::proxy::admin

#endif  // LOCUS_PROXY_ADMIN_PROMETHEUS_H_
