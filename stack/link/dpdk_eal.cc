#include "stack/link/dpdk_eal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "stack/link/dpdk_headers.h"
#include "stack/link/eal_diagnosis.h"

namespace locus::link {
namespace {

// EAL log lines at error level or worse, kept for diagnosis; everything
// still goes to stderr.
class LogTee {
 public:
  static LogTee& Get() {
    static LogTee* tee = new LogTee();  // lives until exit: the EAL logs until then
    return *tee;
  }

  void Install() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (installed_) return;
    cookie_io_functions_t io{};
    io.write = &LogTee::Write;
    if (FILE* f = fopencookie(this, "w", io)) {
      setvbuf(f, nullptr, _IONBF, 0);
      rte_openlog_stream(f);
      installed_ = true;
    }
  }

  // A position in the error history; FirstSince returns the first error
  // line logged after it.
  uint64_t Mark() {
    std::lock_guard<std::mutex> lock(mutex_);
    return count_;
  }
  std::string FirstSince(uint64_t mark) {
    std::lock_guard<std::mutex> lock(mutex_);
    const uint64_t oldest = count_ - errors_.size();
    if (mark >= count_) return "";
    return errors_[mark < oldest ? 0 : mark - oldest];
  }
  std::string Recent() {
    std::lock_guard<std::mutex> lock(mutex_);
    return absl::StrJoin(errors_, "; ");
  }

 private:
  static constexpr size_t kKept = 16;

  static ssize_t Write(void* cookie, const char* data, size_t size) {
    // Straight to fd 2 so nothing is reordered with other stderr output.
    for (size_t done = 0; done < size;) {
      const ssize_t n = ::write(STDERR_FILENO, data + done, size - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    static_cast<LogTee*>(cookie)->Record(data, size);
    return static_cast<ssize_t>(size);
  }

  void Record(const char* data, size_t size) {
    const bool error = rte_log_cur_msg_loglevel() <= static_cast<int>(RTE_LOG_ERR);
    std::lock_guard<std::mutex> lock(mutex_);
    partial_.append(data, size);
    for (size_t nl; (nl = partial_.find('\n')) != std::string::npos;) {
      std::string line = partial_.substr(0, nl);
      partial_.erase(0, nl + 1);
      if (!error || line.empty()) continue;
      errors_.push_back(std::move(line));
      ++count_;
      if (errors_.size() > kKept) errors_.pop_front();
    }
  }

  std::mutex mutex_;
  bool installed_ = false;
  std::string partial_;
  std::deque<std::string> errors_;
  uint64_t count_ = 0;
};

DpdkEal* instance = nullptr;
// The argument vector given to rte_eal_init, kept for the process's life.
std::vector<std::string>* eal_argv = nullptr;
std::vector<char*>* eal_argv_pointers = nullptr;
// lcore id -> index for CurrentLcoreIndex; -1 for ids that are not ours.
int lcore_index[RTE_MAX_LCORE];

void RemoveRuntimeDir() {
  // With --no-shconf the directory is empty by now; rmdir leaves it alone
  // otherwise (and fails harmlessly if init never got to create it).
  const char* dir = rte_eal_get_runtime_dir();
  if (dir != nullptr && dir[0] != '\0') rmdir(dir);
}

// Runs rte_eal_init with stdout pointed at /dev/null, so a bad argument
// does not dump the usage text into the program's output.
int InitQuietly(int argc, char** argv, bool hide_usage) {
  if (!hide_usage) return rte_eal_init(argc, argv);
  std::fflush(stdout);
  const int saved = dup(STDOUT_FILENO);
  const int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (saved >= 0 && null >= 0) dup2(null, STDOUT_FILENO);
  const int ret = rte_eal_init(argc, argv);
  const int error = rte_errno;
  std::fflush(stdout);
  if (saved >= 0) {
    dup2(saved, STDOUT_FILENO);
    close(saved);
  }
  if (null >= 0) close(null);
  rte_errno = error;
  return ret;
}

struct Launch {
  const std::function<void(unsigned)>* fn;
  unsigned index;
};

int LaunchTrampoline(void* arg) {
  const Launch* launch = static_cast<const Launch*>(arg);
  (*launch->fn)(launch->index);
  return 0;
}

}  // namespace

absl::StatusOr<DpdkEal*> DpdkEal::Init(const std::vector<std::string>& argv_in,
                                       const EalOptions& options) {
  if (instance != nullptr) {
    return absl::FailedPreconditionError("DPDK EAL is already initialised in this process");
  }
  std::vector<std::string> argv = argv_in;
  if (argv.empty()) argv.push_back("locus");
  EalArgs args = ParseEalArgs(argv);
  if (options.unique_file_prefix && !args.has_file_prefix) {
    argv.insert(argv.begin() + 1, absl::StrCat("--file-prefix=locus-", getpid()));
  }
  if (options.no_shconf && !args.no_shconf && !args.in_memory) {
    argv.insert(argv.begin() + 1, "--no-shconf");
  }
  args = ParseEalArgs(argv);
  const EalEnvironment before = ProbeEalEnvironment();

  LogTee& tee = LogTee::Get();
  tee.Install();
  const uint64_t mark = tee.Mark();
  // The EAL keeps pointers into argv, so the strings live until exit.
  eal_argv = new std::vector<std::string>(argv);
  eal_argv_pointers = new std::vector<char*>();
  for (std::string& s : *eal_argv) eal_argv_pointers->push_back(s.data());
  eal_argv_pointers->push_back(nullptr);
  std::vector<std::string>* storage = eal_argv;
  std::vector<char*>* pointers = eal_argv_pointers;
  // Registered before the EAL's own exit handlers (telemetry removes its
  // socket from the directory in one), so it runs after them.
  std::atexit(RemoveRuntimeDir);
  const int ret =
      InitQuietly(static_cast<int>(storage->size()), pointers->data(), options.hide_usage);
  if (ret < 0) {
    return DiagnoseInitFailure(rte_errno, args, before, tee.FirstSince(mark));
  }

  for (const EalArgs::Vdev& vdev : args.vdevs) {
    uint16_t port;
    if (rte_eth_dev_get_port_by_name(vdev.name.c_str(), &port) != 0) {
      return DiagnoseMissingPort(vdev, before, tee.FirstSince(mark));
    }
  }
  if (options.require_port && rte_eth_dev_count_avail() == 0) return NoPortError();

  for (int& i : lcore_index) i = -1;
  lcore_index[rte_get_main_lcore()] = 0;
  int next = 1;
  unsigned lcore;
  RTE_LCORE_FOREACH_WORKER(lcore) { lcore_index[lcore] = next++; }
  instance = new DpdkEal();
  return instance;
}

DpdkEal* DpdkEal::Get() { return instance; }

unsigned DpdkEal::lcore_count() const { return rte_lcore_count(); }

int DpdkEal::CurrentLcoreIndex() {
  if (instance == nullptr) return -1;
  const unsigned id = rte_lcore_id();
  return id < RTE_MAX_LCORE ? lcore_index[id] : -1;
}

absl::Status DpdkEal::RunOnLcores(const std::function<void(unsigned index)>& fn) {
  if (rte_lcore_id() != rte_get_main_lcore()) {
    return absl::FailedPreconditionError("RunOnLcores must be called on the main lcore");
  }
  std::vector<Launch> launches(rte_lcore_count());
  std::vector<unsigned> launched;
  absl::Status status;
  unsigned lcore;
  RTE_LCORE_FOREACH_WORKER(lcore) {
    const unsigned index = static_cast<unsigned>(lcore_index[lcore]);
    launches[index] = {&fn, index};
    const int ret = rte_eal_remote_launch(LaunchTrampoline, &launches[index], lcore);
    if (ret != 0) {
      status = absl::UnavailableError(absl::StrCat("lcore ", lcore, " is busy: ", strerror(-ret)));
      break;
    }
    launched.push_back(lcore);
  }
  if (status.ok()) fn(0);
  for (unsigned l : launched) rte_eal_wait_lcore(l);
  return status;
}

std::vector<uint16_t> DpdkEal::ports() const {
  std::vector<uint16_t> ports;
  uint16_t port;
  RTE_ETH_FOREACH_DEV(port) { ports.push_back(port); }
  return ports;
}

absl::StatusOr<uint16_t> DpdkEal::FindPort(absl::string_view name) const {
  if (name.empty()) {
    const std::vector<uint16_t> all = ports();
    if (all.empty()) return NoPortError();
    return all.front();
  }
  uint16_t port;
  if (rte_eth_dev_get_port_by_name(std::string(name).c_str(), &port) == 0) return port;
  std::vector<std::string> names;
  for (uint16_t p : ports()) {
    char n[RTE_ETH_NAME_MAX_LEN];
    if (rte_eth_dev_get_name_by_port(p, n) == 0) names.push_back(n);
  }
  return absl::NotFoundError(absl::StrCat("no DPDK port named ", name, " (ports: ",
                                          names.empty() ? "none" : absl::StrJoin(names, ", "),
                                          ")"));
}

absl::StatusOr<uint16_t> DpdkEal::AttachDevice(const std::string& devargs) {
  const EalArgs::Vdev vdev = ParseEalArgs({"", "--vdev=" + devargs}).vdevs.at(0);
  const EalEnvironment before = ProbeEalEnvironment();
  LogTee& tee = LogTee::Get();
  const uint64_t mark = tee.Mark();
  const int ret = rte_dev_probe(devargs.c_str());
  if (ret == -EEXIST) {
    return absl::AlreadyExistsError(absl::StrCat("device ", vdev.name, " is already attached"));
  }
  uint16_t port;
  if (ret < 0 || rte_eth_dev_get_port_by_name(vdev.name.c_str(), &port) != 0) {
    if (ret == -EINVAL && tee.FirstSince(mark).empty()) {
      return absl::InvalidArgumentError(absl::StrCat("bad device argument '", devargs, "'"));
    }
    return DiagnoseMissingPort(vdev, before, tee.FirstSince(mark));
  }
  return port;
}

absl::Status DpdkEal::DetachDevice(absl::string_view name) {
  const int ret = rte_eal_hotplug_remove("vdev", std::string(name).c_str());
  if (ret < 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot detach ", name, ": ", strerror(-ret), " (", LastEalError(), ")"));
  }
  return absl::OkStatus();
}

std::string DpdkEal::LastEalError() { return LogTee::Get().Recent(); }

}  // namespace locus::link
