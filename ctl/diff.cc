#include "ctl/diff.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace locus::ctl {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

std::string Range(size_t count) {
  // Unified format: an empty side is "0,0", one line is "1".
  if (count == 0) return "0,0";
  if (count == 1) return "1";
  return absl::StrCat("1,", count);
}

}  // namespace

std::string UnifiedDiff(const std::string& before, const std::string& after,
                        const std::string& before_label,
                        const std::string& after_label) {
  if (before == after) return "";
  std::vector<std::string> a = Lines(before);
  std::vector<std::string> b = Lines(after);
  const size_t n = a.size();
  const size_t m = b.size();
  std::vector<std::string> body;
  if (n * m <= kMaxDiffCells) {
    // Longest common subsequence, then walk it front to back.
    std::vector<uint32_t> lcs((n + 1) * (m + 1), 0);
    auto at = [&](size_t i, size_t j) -> uint32_t& {
      return lcs[i * (m + 1) + j];
    };
    for (size_t i = n; i-- > 0;) {
      for (size_t j = m; j-- > 0;) {
        at(i, j) = a[i] == b[j] ? at(i + 1, j + 1) + 1
                                : std::max(at(i + 1, j), at(i, j + 1));
      }
    }
    size_t i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[i] == b[j]) {
        body.push_back(" " + a[i++]);
        ++j;
      } else if (i < n && (j == m || at(i + 1, j) >= at(i, j + 1))) {
        body.push_back("-" + a[i++]);  // removals first, as diff -u does
      } else {
        body.push_back("+" + b[j++]);
      }
    }
  } else {
    for (const std::string& line : a) body.push_back("-" + line);
    for (const std::string& line : b) body.push_back("+" + line);
  }
  std::string out = absl::StrCat("--- ", before_label, "\n+++ ", after_label,
                                 "\n@@ -", Range(n), " +", Range(m), " @@\n");
  for (const std::string& line : body) absl::StrAppend(&out, line, "\n");
  return out;
}

}  // namespace locus::ctl
