// An in-memory DataPlane for tests and the development server: it records
// every snapshot, lets the test decide which version each core has applied,
// and serves scripted counters.
#ifndef LOCUS_PROXY_CONTROL_FAKE_DATA_PLANE_H_
#define LOCUS_PROXY_CONTROL_FAKE_DATA_PLANE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "proxy/control/data_plane.h"

namespace locus::proxy::control {

class FakeDataPlane : public DataPlane {
 public:
  // With auto_apply, every core applies each snapshot as it is published;
  // otherwise cores stay at their version until ApplyOnCore().
  FakeDataPlane(uint32_t cores, bool auto_apply);

  void Publish(std::shared_ptr<const ConfigSnapshot> snapshot) override;
  DataPlaneStatus Status() override;
  StatsSnapshot Stats() override;
  absl::Status Drain(absl::string_view listener, absl::Duration grace) override;

  // Test controls.
  void ApplyOnCore(uint32_t core, uint64_t version);
  void SetCoreStatus(const CoreStatus& status);  // keeps applied_version
  void SetStats(StatsSnapshot stats);
  void FailNextDrain(absl::Status status);
  std::vector<std::shared_ptr<const ConfigSnapshot>> published() const;
  std::map<std::string, absl::Duration> drains() const;

 private:
  const bool auto_apply_;
  mutable absl::Mutex mu_;
  std::vector<CoreStatus> cores_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<const ConfigSnapshot>> published_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Duration> drains_ ABSL_GUARDED_BY(mu_);
  StatsSnapshot stats_ ABSL_GUARDED_BY(mu_);
  absl::Status next_drain_ ABSL_GUARDED_BY(mu_);
};

}  // namespace locus::proxy::control

#endif  // LOCUS_PROXY_CONTROL_FAKE_DATA_PLANE_H_
