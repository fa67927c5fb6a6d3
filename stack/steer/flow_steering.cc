#include "stack/steer/flow_steering.h"

#include <algorithm>
#include <bit>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace locus::steer {
namespace {

absl::Status ValidateRss(uint16_t num_cores, const RssParams& rss) {
  if (!IsValidRetaSize(rss.reta.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("RETA size ", rss.reta.size(), " is not a power of two in [1, ",
                     kMaxRetaSize, "]"));
  }
  for (size_t i = 0; i < rss.reta.size(); ++i) {
    if (rss.reta[i] >= num_cores) {
      return absl::InvalidArgumentError(absl::StrCat("RETA entry ", i, " names queue ",
                                                     rss.reta[i], " but there are only ",
                                                     num_cores, " cores"));
    }
  }
  return absl::OkStatus();
}

// The first core no RETA entry names, or num_cores if all are named.
uint16_t FirstUncoveredCore(uint16_t num_cores, const std::vector<uint16_t>& reta) {
  std::vector<bool> seen(num_cores, false);
  for (uint16_t q : reta) {
    if (q < num_cores) seen[q] = true;
  }
  for (uint16_t c = 0; c < num_cores; ++c) {
    if (!seen[c]) return c;
  }
  return num_cores;
}

}  // namespace

SteeringMode ChooseMode(uint16_t num_cores, const std::optional<RssParams>& nic_rss) {
  if (num_cores == 0 || num_cores > kMaxCores || !nic_rss.has_value()) {
    return SteeringMode::kPortHash;
  }
  if (!ValidateRss(num_cores, *nic_rss).ok()) return SteeringMode::kPortHash;
  if (FirstUncoveredCore(num_cores, nic_rss->reta) != num_cores) return SteeringMode::kPortHash;
  return SteeringMode::kRss;
}

absl::StatusOr<FlowSteering> FlowSteering::Create(const SteeringConfig& config) {
  if (config.num_cores == 0 || config.num_cores > kMaxCores) {
    return absl::InvalidArgumentError(
        absl::StrCat("number of cores ", config.num_cores, " outside [1, ", kMaxCores, "]"));
  }
  if (config.nic_rss.has_value()) {
    if (absl::Status s = ValidateRss(config.num_cores, *config.nic_rss); !s.ok()) return s;
  }
  if (config.mode == SteeringMode::kRss) {
    if (!config.nic_rss.has_value()) {
      return absl::InvalidArgumentError(
          "RSS steering needs the port's RSS key and RETA; use port-hash steering on ports "
          "without RSS");
    }
    const uint16_t missing = FirstUncoveredCore(config.num_cores, config.nic_rss->reta);
    if (missing != config.num_cores) {
      // Such a core would own no reply hash, so it could open no active
      // connection and would receive no passive flow.
      return absl::InvalidArgumentError(
          absl::StrCat("RSS steering: no RETA entry sends traffic to core ", missing,
                       " (fewer queues than cores?); use port-hash steering"));
    }
  }
  if (config.nic_rss.has_value()) {
    return FlowSteering(config.mode, config.num_cores, true, config.nic_rss->key,
                        config.nic_rss->reta);
  }
  const size_t size = std::max(kSoftwareRetaSize, std::bit_ceil(size_t{config.num_cores}));
  return FlowSteering(config.mode, config.num_cores, false, kSymmetricRssKey,
                      RoundRobinReta(size, config.num_cores));
}

FlowSteering::FlowSteering(SteeringMode mode, uint16_t num_cores, bool uses_nic_rss,
                           const RssKey& key, std::vector<uint16_t> reta)
    : toeplitz_(key),
      reta_(std::move(reta)),
      reta_mask_(static_cast<uint32_t>(reta_.size() - 1)),
      mode_(mode),
      num_cores_(num_cores),
      cores_pow2_(std::has_single_bit(num_cores)),
      uses_nic_rss_(uses_nic_rss) {}

}  // namespace locus::steer
