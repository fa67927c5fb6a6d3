// DPDK's Environment Abstraction Layer: start-up with clear errors, the
// lcores, and device hot-plug. One per process. No DPDK header leaks out of
// this file, so users of //stack/link:dpdk need no DPDK compiler flags.
#ifndef LOCUS_STACK_LINK_DPDK_EAL_H_
#define LOCUS_STACK_LINK_DPDK_EAL_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace locus::link {

struct EalOptions {
  // Adds --file-prefix=locus-<pid> unless the arguments choose one, so
  // parallel processes (and tests) never share /var/run/dpdk state.
  bool unique_file_prefix = true;
  // Adds --no-shconf unless given or --in-memory is: no shared config
  // files, no multi-process channel (Locus runs no secondary processes).
  bool no_shconf = true;
  // Fails unless at least one ethdev port exists after start-up.
  bool require_port = true;
  // EAL prints its whole usage text on stdout for a bad argument; hide it,
  // the returned error says what was wrong.
  bool hide_usage = true;
};

class DpdkEal {
 public:
  // Starts the EAL with `argv` (argv[0] is the program name), then checks
  // that every --vdev became a port. Errors are one line that says what to
  // fix, e.g. "no hugepages: add --no-huge (and -m MB ...)". A failed
  // start cannot be retried in the same process: exit.
  static absl::StatusOr<DpdkEal*> Init(const std::vector<std::string>& argv,
                                       const EalOptions& options = {});
  // The instance after a successful Init, else null.
  static DpdkEal* Get();

  // lcores given to the EAL (-l), the main one included.
  unsigned lcore_count() const;
  // 0 on the main lcore, 1.. on the workers in lcore order; -1 on a thread
  // that is not an lcore.
  static int CurrentLcoreIndex();

  // Runs fn(index) on every lcore, index 0 on the calling (main) thread and
  // 1..lcore_count()-1 on the workers, and returns when all have finished.
  // Must be called from the main lcore; fails if a worker is busy.
  absl::Status RunOnLcores(const std::function<void(unsigned index)>& fn);

  // Ports that exist now, and a port by device name ("net_tap0"); an empty
  // name means the first port.
  std::vector<uint16_t> ports() const;
  absl::StatusOr<uint16_t> FindPort(absl::string_view name) const;

  // Hot-plugs a virtual device, e.g. "net_tap1,iface=t1" or
  // "net_af_packet1,iface=veth0", and returns its port; errors are
  // diagnosed as at Init ("tap device t1 busy: ..."). DetachDevice removes
  // it again (close any DpdkLink on it first).
  absl::StatusOr<uint16_t> AttachDevice(const std::string& devargs);
  absl::Status DetachDevice(absl::string_view name);

  // The last EAL log lines at error level or worse (for diagnostics).
  static std::string LastEalError();

 private:
  DpdkEal() = default;
};

}  // namespace locus::link

#endif  // LOCUS_STACK_LINK_DPDK_EAL_H_
