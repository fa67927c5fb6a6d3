// Text forms of API messages: the proto3 JSON mapping, and the same tree
// written as YAML. Config files, `proxyctl apply -f` input and `-o json|yaml`
// output all go through here, so there is one schema everywhere.
#ifndef LOCUS_API_CODEC_H_
#define LOCUS_API_CODEC_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/message.h"

namespace locus::api {

// Larger texts are rejected before parsing.
inline constexpr size_t kMaxTextBytes = 16 << 20;
// Deeper YAML nesting is rejected (our schema nests fewer than 10 levels).
inline constexpr int kMaxYamlDepth = 64;

enum class TextFormat { kJson, kYaml };

// JSON when the first character that is not blank and not in a '#' comment
// line is '{'; YAML otherwise.
TextFormat DetectFormat(absl::string_view text);

// Parses JSON or YAML (auto-detected) into `message`, which is cleared first.
// Unknown fields are errors (they are usually typos). On error the status is
// INVALID_ARGUMENT and its message starts with `source` (a file name, "-" or
// "request"), then the line and column where known.
absl::Status ParseText(absl::string_view text, absl::string_view source,
                       google::protobuf::Message* message);

// Proto3 JSON, two-space indented, newline-terminated. Fields at their
// default value are omitted, as the proto3 JSON mapping does. Fails only
// for values the mapping cannot express (e.g. a Duration beyond 10000 years).
absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message);

// The same tree as ToJson, in block-style YAML: strings are quoted only when
// YAML would read them as something else.
absl::StatusOr<std::string> ToYaml(const google::protobuf::Message& message);

// A Duration as proto3 JSON spells it: "30s", "1.5s", "0.000001s".
std::string FormatDuration(const google::protobuf::Duration& d);

// YAML (1.2 core schema: plain `80` is a number, `true` a bool, `~` null,
// quoted scalars are strings) to compact JSON. One document only.
absl::StatusOr<std::string> YamlToJson(absl::string_view yaml,
                                       absl::string_view source);

// Any JSON text to block YAML.
absl::StatusOr<std::string> JsonToYaml(absl::string_view json);

}  // namespace locus::api

#endif  // LOCUS_API_CODEC_H_
