// The control plane's DataPlane over the proxy shards: compiles each
// published config once and hands it to every shard through its mailbox,
// and answers Status/Stats from counters the shards publish.
#ifndef LOCUS_PROXY_DATAPLANE_DATA_PLANE_H_
#define LOCUS_PROXY_DATAPLANE_DATA_PLANE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "proxy/control/data_plane.h"
#include "proxy/dataplane/config.h"
#include "proxy/dataplane/mailbox.h"
#include "stack/engine/shard_group.h"

namespace locus::proxy::dataplane {

class ProxyDataPlane final : public control::DataPlane {
 public:
  // `group` may be null (no steering counters), e.g. in tests.
  ProxyDataPlane(ShardMailbox* mailbox, std::vector<ShardTables*> tables,
                 engine::ShardGroup* group);

  void Publish(std::shared_ptr<const control::ConfigSnapshot> snapshot) override;
  control::DataPlaneStatus Status() override;
  control::StatsSnapshot Stats() override;
  absl::Status Drain(absl::string_view listener, absl::Duration grace) override;

  // The latest compiled config (for the admin /config endpoint).
  std::shared_ptr<const CompiledConfig> current() const;
  uint64_t published_version() const;
  // Errors from compiling published configs (should never happen: the
  // control plane validated them first).
  uint64_t compile_errors() const;

 private:
  void Send(unsigned shard, const ShardMessage& message);

  ShardMailbox* mailbox_;
  std::vector<ShardTables*> tables_;
  engine::ShardGroup* group_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const CompiledConfig> current_ ABSL_GUARDED_BY(mu_);
  uint64_t compile_errors_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, absl::Time> drains_ ABSL_GUARDED_BY(mu_);
};

}  // namespace locus::proxy::dataplane

#endif  // LOCUS_PROXY_DATAPLANE_DATA_PLANE_H_
