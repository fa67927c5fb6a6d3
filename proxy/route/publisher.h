// Control-plane side of route tables: turns configs into compiled
// snapshots with globally unique versions (DESIGN.md's gversion), treats an
// identical push as a no-op, supports "apply only if still at version N",
// and leaves the current table untouched when a push is rejected.
//
// Runs on the control thread, never on the fast path: it allocates and
// compiles. Handing the result to the cores (an SPSC ring per core, or an
// RCU-style pointer swap) is the data plane's job; each core then reads
// its own shared_ptr<const CompiledRouteTable>.
#ifndef LOCUS_PROXY_ROUTE_PUBLISHER_H_
#define LOCUS_PROXY_ROUTE_PUBLISHER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "proxy/route/route_table.h"

namespace locus::proxy::route {

// The global version counter: one per process, shared by every table's
// publisher, so no two different tables ever carry the same version.
class VersionCounter {
 public:
  uint64_t Next() { return ++last_; }
  uint64_t last() const { return last_; }

 private:
  uint64_t last_ = 0;
};

struct ApplyResult {
  // One compiled copy per core, all with the same version (see
  // route_table.h on why regexes are not shared between cores).
  std::vector<std::shared_ptr<const CompiledRouteTable>> per_core;
  uint64_t version = 0;
  bool changed = false;  // false: identical to the current table, nothing new
};

class RouteTablePublisher {
 public:
  RouteTablePublisher(VersionCounter* versions, size_t core_count);

  // INVALID_ARGUMENT from validation; FAILED_PRECONDITION when
  // `expected_version` is given and the current version differs (0 means
  // "nothing applied yet"). On any error the current table stays.
  absl::StatusOr<ApplyResult> Apply(const RouteTableConfig& config,
                                    const PoolNames& pools,
                                    std::optional<uint64_t> expected_version =
                                        std::nullopt);

  // Version of the current table; 0 before the first Apply.
  uint64_t version() const { return current_.version; }
  const ApplyResult& current() const { return current_; }

 private:
  VersionCounter* versions_;
  size_t core_count_;
  ApplyResult current_;
};

}  // namespace locus::proxy::route

#endif  // LOCUS_PROXY_ROUTE_PUBLISHER_H_
