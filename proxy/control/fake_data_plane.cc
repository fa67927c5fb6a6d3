#include "proxy/control/fake_data_plane.h"

#include <utility>

namespace locus::proxy::control {

FakeDataPlane::FakeDataPlane(uint32_t cores, bool auto_apply)
    : auto_apply_(auto_apply) {
  for (uint32_t i = 0; i < cores; ++i) {
    CoreStatus core;
    core.core = i;
    cores_.push_back(core);
  }
}

void FakeDataPlane::Publish(std::shared_ptr<const ConfigSnapshot> snapshot) {
  absl::MutexLock lock(&mu_);
  if (auto_apply_) {
    for (CoreStatus& core : cores_) core.applied_version = snapshot->version;
  }
  // A listener that is in the new snapshot is live again; drained ones that
  // are gone stay reported as drained.
  for (const api::v1::Listener& l : snapshot->config.listeners()) {
    drains_.erase(l.name());
  }
  published_.push_back(std::move(snapshot));
}

DataPlaneStatus FakeDataPlane::Status() {
  absl::MutexLock lock(&mu_);
  DataPlaneStatus status;
  status.cores = cores_;
  if (published_.empty()) return status;
  const ConfigSnapshot& latest = *published_.back();
  uint64_t min_applied = UINT64_MAX;
  for (const CoreStatus& core : cores_) {
    min_applied = std::min(min_applied, core.applied_version);
  }
  for (const api::v1::Listener& l : latest.config.listeners()) {
    ListenerStatus ls;
    ls.name = l.name();
    ls.state = min_applied >= latest.version ? ListenerState::kActive
                                             : ListenerState::kPending;
    status.listeners.push_back(ls);
  }
  for (const auto& [name, grace] : drains_) {
    bool found = false;
    for (ListenerStatus& ls : status.listeners) {
      if (ls.name != name) continue;
      found = true;
      ls.state = ListenerState::kDraining;
      ls.drain_remaining = grace;
    }
    if (!found) {
      ListenerStatus ls;
      ls.name = name;
      ls.state = ListenerState::kDrained;
      status.listeners.push_back(ls);
    }
  }
  return status;
}

StatsSnapshot FakeDataPlane::Stats() {
  absl::MutexLock lock(&mu_);
  return stats_;
}

absl::Status FakeDataPlane::Drain(absl::string_view listener,
                                  absl::Duration grace) {
  absl::MutexLock lock(&mu_);
  if (!next_drain_.ok()) return std::exchange(next_drain_, absl::OkStatus());
  drains_[std::string(listener)] = grace;
  return absl::OkStatus();
}

void FakeDataPlane::ApplyOnCore(uint32_t core, uint64_t version) {
  absl::MutexLock lock(&mu_);
  if (core < cores_.size()) cores_[core].applied_version = version;
}

void FakeDataPlane::SetCoreStatus(const CoreStatus& status) {
  absl::MutexLock lock(&mu_);
  if (status.core >= cores_.size()) return;
  uint64_t applied = cores_[status.core].applied_version;
  cores_[status.core] = status;
  cores_[status.core].applied_version = applied;
}

void FakeDataPlane::SetStats(StatsSnapshot stats) {
  absl::MutexLock lock(&mu_);
  stats_ = std::move(stats);
}

void FakeDataPlane::FailNextDrain(absl::Status status) {
  absl::MutexLock lock(&mu_);
  next_drain_ = std::move(status);
}

std::vector<std::shared_ptr<const ConfigSnapshot>> FakeDataPlane::published()
    const {
  absl::MutexLock lock(&mu_);
  return published_;
}

std::map<std::string, absl::Duration> FakeDataPlane::drains() const {
  absl::MutexLock lock(&mu_);
  return drains_;
}

}  // namespace locus::proxy::control
