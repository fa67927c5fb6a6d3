#include "proxy/route/publisher.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace locus::proxy::route {

RouteTablePublisher::RouteTablePublisher(VersionCounter* versions,
                                         size_t core_count)
    : versions_(versions), core_count_(std::max<size_t>(core_count, 1)) {}

absl::StatusOr<ApplyResult> RouteTablePublisher::Apply(
    const RouteTableConfig& config, const PoolNames& pools,
    std::optional<uint64_t> expected_version) {
  if (expected_version && *expected_version != current_.version) {
    return absl::FailedPreconditionError(
        absl::StrCat("route table \"", config.name, "\" is at version ",
                     current_.version, ", not ", *expected_version));
  }
  // Validate even an identical push: the pool set may have changed under it.
  if (absl::Status s = ValidateRouteTable(config, pools); !s.ok()) return s;
  if (!current_.per_core.empty() &&
      current_.per_core[0]->canonical() == CanonicalForm(config)) {
    ApplyResult same = current_;
    same.changed = false;
    return same;
  }
  const uint64_t version = versions_->Next();
  ApplyResult next;
  next.version = version;
  next.changed = true;
  for (size_t core = 0; core < core_count_; ++core) {
    auto table = CompiledRouteTable::Compile(config, pools, version);
    if (!table.ok()) return table.status();
    next.per_core.push_back(*std::move(table));
  }
  current_ = next;
  return next;
}

}  // namespace locus::proxy::route
