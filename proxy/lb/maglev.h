// Maglev consistent hashing (Eisenbud et al., NSDI '16, §3.4), with
// weights by fill rounds as Envoy does it.
//
// Each backend b gets a permutation of the M slots from two hashes of its
// stable name: offset = h1 % M, skip = h2 % (M-1) + 1, and its j-th
// preference is (offset + j*skip) % M. Because M is prime every skip is
// coprime with M, so each permutation visits every slot. Backends take
// turns claiming their next unclaimed preferred slot until the table is
// full (Pseudocode 1). With weights, in round r a backend takes a turn only
// when r * weight >= its running target; its target then grows by the
// maximum weight, so a backend of weight max/3 claims every third round.
//
// Lookup is one multiply and one load. Building is O(M log M) expected.
#ifndef LOCUS_PROXY_LB_MAGLEV_H_
#define LOCUS_PROXY_LB_MAGLEV_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/types/span.h"

namespace locus::proxy::lb {

class MaglevTable {
 public:
  struct Backend {
    std::string name;     // stable identity, e.g. "10.0.0.1:80"
    uint32_t weight = 1;  // > 0
    uint32_t id = 0;      // what Lookup returns, e.g. the endpoint index
  };
  static constexpr uint32_t kEmpty = UINT32_MAX;

  // `table_size` must be prime; backends with weight 0 are skipped. With no
  // backend every slot is kEmpty.
  MaglevTable(absl::Span<const Backend> backends, uint32_t table_size);

  uint32_t size() const { return static_cast<uint32_t>(slots_.size()); }
  // Maps a 64-bit key hash to a slot uniformly (multiply-high, no divide).
  uint32_t SlotOf(uint64_t key_hash) const {
    return static_cast<uint32_t>(
        (static_cast<unsigned __int128>(key_hash) * slots_.size()) >> 64);
  }
  uint32_t slot(uint32_t i) const { return slots_[i]; }
  uint32_t Lookup(uint64_t key_hash) const { return slots_[SlotOf(key_hash)]; }

 private:
  std::vector<uint32_t> slots_;
};

}  // namespace locus::proxy::lb

#endif  // LOCUS_PROXY_LB_MAGLEV_H_
