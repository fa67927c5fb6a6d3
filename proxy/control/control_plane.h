// The control plane's logic without gRPC: the versioned config store,
// validation before apply, persistence, publication to the data plane and
// to watchers. The gRPC service (service.h) is a thin adapter over this.
//
// Every mutation holds one lock from the if_version check to the publish,
// so versions are assigned, persisted, published and watched in order.
#ifndef LOCUS_PROXY_CONTROL_CONTROL_PLANE_H_
#define LOCUS_PROXY_CONTROL_CONTROL_PLANE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "locus/api/v1/control_plane.pb.h"
#include "proxy/control/data_plane.h"
#include "proxy/control/state_file.h"
#include "proxy/control/watch_hub.h"

namespace locus::proxy::control {

inline constexpr absl::Duration kDefaultApplyWaitLimit = absl::Seconds(2);

class ControlPlane {
 public:
  struct Options {
    // Where the config is persisted (see StateFile); empty = memory only.
    std::string state_path;
    size_t watch_queue_limit = kDefaultWatchQueueLimit;
    // Wall clock for Status timestamps and drain deadlines.
    std::function<absl::Time()> clock = [] { return absl::Now(); };
    // How long Apply and Delete wait for every core to serve the new
    // version before answering (ApplyResponse.applied).
    absl::Duration apply_wait_limit = kDefaultApplyWaitLimit;
  };

  // Loads the persisted config (or starts empty at version 0) and publishes
  // it to `data_plane`, which must outlive the ControlPlane. Fails when no
  // usable config file exists (see StateFile::Load).
  static absl::StatusOr<std::unique_ptr<ControlPlane>> Create(
      Options options, DataPlane* data_plane);

  // Problems recovered from while loading, for the daemon to log.
  const std::vector<std::string>& load_warnings() const {
    return load_warnings_;
  }

  std::shared_ptr<const ConfigSnapshot> Current() const;

  // Options::clock: what certificate validity is measured against.
  absl::Time Now() const { return options_.clock(); }

  // Both return once every core serves the resulting version, or after
  // Options::apply_wait_limit (then `applied` is false).
  absl::StatusOr<api::v1::ApplyResponse> Apply(
      const api::v1::ApplyRequest& request);
  absl::StatusOr<api::v1::DeleteResponse> Delete(
      const api::v1::DeleteRequest& request);

  // The subscription's first event is the current version; then one per
  // change. Call EndWatch when the stream ends.
  std::shared_ptr<WatchHub::Subscription> Watch(bool include_config);
  void EndWatch(const std::shared_ptr<WatchHub::Subscription>& subscription);

  api::v1::StatusResponse Status() const;
  api::v1::StatsResponse Stats() const;
  absl::StatusOr<api::v1::DrainResponse> Drain(
      const api::v1::DrainRequest& request);

  // Ends all watches; later Watch calls end at once with UNAVAILABLE.
  void Shutdown();

 private:
  ControlPlane(Options options, DataPlane* data_plane);

  struct Candidate {
    api::v1::Config config;
    std::vector<api::v1::ResourceChange> changes;
  };

  absl::StatusOr<api::v1::ApplyResponse> CommitApply(
      const api::v1::ApplyRequest& request) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<api::v1::DeleteResponse> CommitDelete(
      const api::v1::DeleteRequest& request) ABSL_LOCKS_EXCLUDED(mu_);
  // Polls the data plane until every core applied `version` or later, up to
  // apply_wait_limit. Called without mu_: cores never wait for it.
  bool WaitApplied(uint64_t version) const ABSL_LOCKS_EXCLUDED(mu_);

  absl::Status CheckVersion(std::optional<uint64_t> if_version) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Validates, then (unless validate_only) persists and publishes. Fills
  // version, changed, changes and config of `response`.
  absl::Status Commit(api::v1::Config candidate, bool validate_only,
                      api::v1::ApplyResponse* response)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  DataPlane* const data_plane_;
  std::optional<StateFile> state_file_;
  std::vector<std::string> load_warnings_;
  WatchHub hub_;

  mutable absl::Mutex mu_;
  std::shared_ptr<const ConfigSnapshot> current_ ABSL_GUARDED_BY(mu_);
  std::string current_canonical_ ABSL_GUARDED_BY(mu_);
  absl::Time changed_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace locus::proxy::control

#endif  // LOCUS_PROXY_CONTROL_CONTROL_PLANE_H_
