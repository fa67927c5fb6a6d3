#include "proxy/lb/maglev.h"

#include <algorithm>
#include <string_view>

#include "proxy/lb/hash.h"

namespace locus::proxy::lb {
namespace {

constexpr uint64_t kOffsetSeed = 0x4d61676c'65764f66ULL;
constexpr uint64_t kSkipSeed = 0x4d61676c'65765369ULL;

struct BuildState {
  uint64_t offset;
  uint64_t skip;
  uint64_t next = 0;    // index j into the permutation
  uint64_t target = 0;  // weighted fill: next round threshold
  uint32_t weight;
  uint32_t id;
};

}  // namespace

MaglevTable::MaglevTable(absl::Span<const Backend> backends,
                         uint32_t table_size)
    : slots_(table_size, kEmpty) {
  std::vector<BuildState> states;
  uint64_t max_weight = 0;
  for (const Backend& b : backends) {
    if (b.weight == 0) continue;
    const uint64_t m = table_size;
    states.push_back(BuildState{
        .offset = StableHash64(b.name, kOffsetSeed) % m,
        .skip = m > 1 ? StableHash64(b.name, kSkipSeed) % (m - 1) + 1 : 1,
        .weight = b.weight,
        .id = b.id,
    });
    max_weight = std::max<uint64_t>(max_weight, b.weight);
  }
  if (states.empty() || table_size == 0) return;
  // Turn order decides contested slots; fix it by name so that the table
  // does not depend on the order the endpoints were listed in.
  std::vector<size_t> order(states.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::vector<std::string_view> names;
  for (const Backend& b : backends) {
    if (b.weight != 0) names.push_back(b.name);
  }
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return names[a] < names[b]; });
  std::vector<BuildState> sorted;
  sorted.reserve(states.size());
  for (size_t i : order) sorted.push_back(states[i]);
  states = std::move(sorted);
  uint64_t filled = 0;
  for (uint64_t round = 1; filled < table_size; ++round) {
    for (BuildState& s : states) {
      if (filled == table_size) break;
      if (round * s.weight < s.target) continue;
      s.target += max_weight;
      uint64_t c = (s.offset + s.next * s.skip) % table_size;
      while (slots_[c] != kEmpty) {
        ++s.next;
        c = (s.offset + s.next * s.skip) % table_size;
      }
      slots_[c] = s.id;
      ++s.next;
      ++filled;
    }
  }
}

}  // namespace locus::proxy::lb
