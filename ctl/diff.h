// Line diffs for `proxyctl diff`, in unified format.
#ifndef LOCUS_CTL_DIFF_H_
#define LOCUS_CTL_DIFF_H_

#include <cstddef>
#include <string>
#include <vector>

namespace locus::ctl {

// Above this many line pairs (old lines x new lines) the diff does not look
// for common lines and shows all old lines removed, all new lines added.
inline constexpr size_t kMaxDiffCells = 4 << 20;

// A whole-file unified diff of `before` and `after` (texts split at '\n'):
// "--- before_label", "+++ after_label", then one hunk with every line as
// context (' '), removed ('-') or added ('+'). Empty when equal.
std::string UnifiedDiff(const std::string& before, const std::string& after,
                        const std::string& before_label,
                        const std::string& after_label);

}  // namespace locus::ctl

#endif  // LOCUS_CTL_DIFF_H_
