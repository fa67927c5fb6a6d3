// Turns DPDK start-up failures into one-line errors that say what to fix.
//
// rte_eal_init reports little: an errno (EACCES for "cannot get hugepage
// information", EINVAL for any bad argument, ...) and log lines; and a
// --vdev whose driver fails to probe does not fail rte_eal_init at all, the
// port is simply missing. So the diagnosis combines the errno, what the
// arguments asked for and what the machine offers (hugepages, CPUs,
// capabilities, existing interfaces). Pure functions over those facts, so
// each message is tested without root; ProbeEalEnvironment gathers the
// facts and includes no DPDK header.
#ifndef LOCUS_STACK_LINK_EAL_DIAGNOSIS_H_
#define LOCUS_STACK_LINK_EAL_DIAGNOSIS_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace locus::link {

// What an EAL argument vector asks for, as far as diagnosis needs.
struct EalArgs {
  struct Vdev {
    std::string name;    // "net_tap0"
    std::string driver;  // "net_tap", "net_af_packet" (eth_* aliases mapped)
    std::string iface;   // the iface= argument, if any
  };
  bool no_huge = false;
  bool no_shconf = false;
  bool in_memory = false;
  bool has_file_prefix = false;
  std::optional<std::string> lcore_list;  // -l
  std::optional<std::string> lcore_map;   // --lcores
  std::optional<std::string> coremask;    // -c
  std::vector<Vdev> vdevs;
};

// Accepts "-l 0-1", "-l0-1", "--vdev x", "--vdev=x"; argv[0] is the
// program name and is skipped. Everything after "--" is not EAL's.
EalArgs ParseEalArgs(const std::vector<std::string>& argv);

// The facts about this process and machine that explain failures.
struct EalEnvironment {
  uint32_t euid = 0;
  bool cap_net_admin = false;  // needed by net_tap
  bool cap_net_raw = false;    // needed by net_af_packet
  uint64_t hugepages = 0;      // pages reserved, all sizes
  bool dev_net_tun = false;
  std::vector<int> cpus;                // CPUs this process may run on
  std::set<std::string> interfaces;     // network interfaces in our netns
};
EalEnvironment ProbeEalEnvironment();

// CPUs named by an -l list ("0-3,5") or a -c hex mask; nullopt when the
// text is malformed.
std::optional<std::vector<int>> ParseLcoreList(absl::string_view text);
std::optional<std::vector<int>> ParseCoremask(absl::string_view text);
// "0-1,4" for {0, 1, 4}.
std::string FormatCpuList(const std::vector<int>& cpus);

// rte_eal_init failed with rte_errno `error`; `last_log` is the last EAL
// error line seen (may be empty).
absl::Status DiagnoseInitFailure(int error, const EalArgs& args, const EalEnvironment& env,
                                 absl::string_view last_log);

// A requested vdev did not turn into a port. `before` is the environment
// from before the probe (whether the interface already existed).
absl::Status DiagnoseMissingPort(const EalArgs::Vdev& vdev, const EalEnvironment& before,
                                 absl::string_view last_log);

// No ethdev port at all after a successful init.
absl::Status NoPortError();

}  // namespace locus::link

#endif  // LOCUS_STACK_LINK_EAL_DIAGNOSIS_H_
