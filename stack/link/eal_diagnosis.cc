#include "stack/link/eal_diagnosis.h"

#include <dirent.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace locus::link {
namespace {

constexpr int kCapNetAdmin = 12;
constexpr int kCapNetRaw = 13;
// Above any CPU number we will meet; guards the range expansion.
constexpr int kMaxCpu = 4096;

// Long EAL options that take their value as the next word.
bool LongOptionTakesValue(absl::string_view name) {
  static const char* const kWithValue[] = {
      "vdev", "lcores", "file-prefix", "socket-mem", "socket-limit", "proc-type",
      "log-level", "huge-dir", "base-virtaddr", "iova-mode", "main-lcore", "master-lcore",
      "service-coremask", "service-corelist", "mbuf-pool-ops-name", "allow", "block",
      "pci-whitelist", "pci-blacklist", "vfio-intr", "vfio-vf-token", "trace", "trace-dir",
      "trace-bufsz", "trace-mode", "force-max-simd-bitwidth"};
  for (const char* o : kWithValue) {
    if (name == o) return true;
  }
  return false;
}

// Short EAL options that take a value (attached or as the next word).
bool ShortOptionTakesValue(char c) { return std::strchr("abcdlmnrsS", c) != nullptr; }

EalArgs::Vdev ParseVdev(absl::string_view devargs) {
  EalArgs::Vdev v;
  std::vector<absl::string_view> parts = absl::StrSplit(devargs, ',');
  v.name = std::string(parts[0]);
  std::string driver(absl::StripTrailingAsciiWhitespace(v.name));
  while (!driver.empty() && absl::ascii_isdigit(driver.back())) driver.pop_back();
  if (absl::StartsWith(driver, "eth_")) driver = "net_" + driver.substr(4);
  v.driver = driver;
  for (size_t i = 1; i < parts.size(); ++i) {
    if (absl::ConsumePrefix(&parts[i], "iface=")) v.iface = std::string(parts[i]);
  }
  return v;
}

std::string LogSuffix(absl::string_view last_log) {
  if (last_log.empty()) return "";
  return absl::StrCat(" (DPDK: ", absl::StripAsciiWhitespace(last_log), ")");
}

// Lcores named in an --lcores map: "0-1", "(0,1)@(0-1)", "0@1,1@0". The
// physical CPUs are after '@' when there is one, else the lcores
// themselves.
std::optional<std::vector<int>> LcoreMapCpus(absl::string_view text) {
  std::vector<int> cpus;
  std::string current;
  int depth = 0;
  std::vector<std::string> groups;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      groups.push_back(current);
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  groups.push_back(current);
  for (std::string g : groups) {
    const size_t at = g.find('@');
    std::string set = at == std::string::npos ? g : g.substr(at + 1);
    set.erase(std::remove_if(set.begin(), set.end(), [](char c) { return c == '(' || c == ')'; }),
              set.end());
    auto parsed = ParseLcoreList(set);
    if (!parsed) return std::nullopt;
    cpus.insert(cpus.end(), parsed->begin(), parsed->end());
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

// Checks the lcore arguments against the CPUs we may use; an error when
// they name something we cannot have.
std::optional<absl::Status> CheckLcores(const EalArgs& args, const EalEnvironment& env) {
  struct Spec {
    const char* flag;
    const std::optional<std::string>& text;
    std::optional<std::vector<int>> (*parse)(absl::string_view);
  };
  const Spec specs[] = {{"lcore list", args.lcore_list, ParseLcoreList},
                        {"lcore map", args.lcore_map, LcoreMapCpus},
                        {"coremask", args.coremask, ParseCoremask}};
  for (const Spec& s : specs) {
    if (!s.text) continue;
    const auto cpus = s.parse(*s.text);
    if (!cpus || cpus->empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "bad ", s.flag, " '", *s.text, "': expected CPU numbers and ranges such as 0-1 or 0,2",
          env.cpus.empty() ? "" : absl::StrCat(" (this process may use ", FormatCpuList(env.cpus), ")")));
    }
    std::vector<int> missing;
    for (int c : *cpus) {
      if (!std::binary_search(env.cpus.begin(), env.cpus.end(), c)) missing.push_back(c);
    }
    if (!missing.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "bad ", s.flag, " '", *s.text, "': CPU ", FormatCpuList(missing),
          " not available; this process may use ", FormatCpuList(env.cpus)));
    }
  }
  return std::nullopt;
}

}  // namespace

EalArgs ParseEalArgs(const std::vector<std::string>& argv) {
  EalArgs args;
  for (size_t i = 1; i < argv.size(); ++i) {
    absl::string_view word = argv[i];
    if (word == "--") break;
    std::string name;
    std::optional<std::string> value;
    if (absl::ConsumePrefix(&word, "--")) {
      const size_t eq = word.find('=');
      if (eq != absl::string_view::npos) {
        name = std::string(word.substr(0, eq));
        value = std::string(word.substr(eq + 1));
      } else {
        name = std::string(word);
        if (LongOptionTakesValue(name) && i + 1 < argv.size()) value = argv[++i];
      }
    } else if (word.size() >= 2 && word[0] == '-') {
      name = std::string(1, word[1]);
      if (ShortOptionTakesValue(word[1])) {
        if (word.size() > 2) {
          value = std::string(word.substr(2));
        } else if (i + 1 < argv.size()) {
          value = argv[++i];
        }
      }
    } else {
      continue;
    }
    if (name == "no-huge") args.no_huge = true;
    if (name == "no-shconf") args.no_shconf = true;
    if (name == "in-memory") args.in_memory = true;
    if (name == "file-prefix") args.has_file_prefix = true;
    if (!value) continue;
    if (name == "l") args.lcore_list = *value;
    if (name == "lcores") args.lcore_map = *value;
    if (name == "c") args.coremask = *value;
    if (name == "vdev") args.vdevs.push_back(ParseVdev(*value));
  }
  return args;
}

std::optional<std::vector<int>> ParseLcoreList(absl::string_view text) {
  std::vector<int> cpus;
  text = absl::StripAsciiWhitespace(text);
  if (text.empty()) return std::nullopt;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    std::vector<absl::string_view> range = absl::StrSplit(part, '-');
    int first = 0, last = 0;
    if (range.size() > 2 || !absl::SimpleAtoi(range[0], &first)) return std::nullopt;
    last = first;
    if (range.size() == 2 && !absl::SimpleAtoi(range[1], &last)) return std::nullopt;
    if (first < 0 || last < first || last > kMaxCpu) return std::nullopt;
    for (int c = first; c <= last; ++c) cpus.push_back(c);
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

std::optional<std::vector<int>> ParseCoremask(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  if (!absl::ConsumePrefix(&text, "0x")) absl::ConsumePrefix(&text, "0X");
  if (text.empty()) return std::nullopt;
  std::vector<int> cpus;
  int bit = 0;
  for (auto it = text.rbegin(); it != text.rend(); ++it, bit += 4) {
    if (!absl::ascii_isxdigit(*it)) return std::nullopt;
    const int nibble = absl::ascii_isdigit(*it) ? *it - '0' : absl::ascii_tolower(*it) - 'a' + 10;
    for (int b = 0; b < 4; ++b) {
      if (nibble & (1 << b)) cpus.push_back(bit + b);
    }
  }
  std::sort(cpus.begin(), cpus.end());
  return cpus;
}

std::string FormatCpuList(const std::vector<int>& cpus) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    parts.push_back(j == i ? absl::StrCat(cpus[i]) : absl::StrCat(cpus[i], "-", cpus[j]));
    i = j + 1;
  }
  return absl::StrJoin(parts, ",");
}

EalEnvironment ProbeEalEnvironment() {
  EalEnvironment env;
  env.euid = geteuid();
  {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
      absl::string_view rest = line;
      if (!absl::ConsumePrefix(&rest, "CapEff:")) continue;
      uint64_t caps = 0;
      if (absl::SimpleHexAtoi(absl::StripAsciiWhitespace(rest), &caps)) {
        env.cap_net_admin = (caps >> kCapNetAdmin) & 1;
        env.cap_net_raw = (caps >> kCapNetRaw) & 1;
      }
    }
  }
  {
    // Pages count only with a hugetlbfs mount to take them from.
    bool mounted = false;
    std::ifstream mounts("/proc/mounts");
    std::string line;
    while (std::getline(mounts, line)) {
      if (line.find(" hugetlbfs ") != std::string::npos) mounted = true;
    }
    if (mounted) {
      if (DIR* dir = opendir("/sys/kernel/mm/hugepages")) {
        while (dirent* e = readdir(dir)) {
          if (e->d_name[0] == '.') continue;
          std::ifstream f(absl::StrCat("/sys/kernel/mm/hugepages/", e->d_name, "/free_hugepages"));
          uint64_t n = 0;
          if (f >> n) env.hugepages += n;
        }
        closedir(dir);
      }
    }
  }
  env.dev_net_tun = access("/dev/net/tun", F_OK) == 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) env.cpus.push_back(c);
    }
  }
  // if_nameindex asks the kernel about our own network namespace;
  // /sys/class/net would show the namespace sysfs was mounted in.
  if (struct if_nameindex* names = if_nameindex()) {
    for (struct if_nameindex* n = names; n->if_index != 0; ++n) env.interfaces.insert(n->if_name);
    if_freenameindex(names);
  }
  return env;
}

absl::Status DiagnoseInitFailure(int error, const EalArgs& args, const EalEnvironment& env,
                                 absl::string_view last_log) {
  const std::string detail = LogSuffix(last_log);
  switch (error) {
    case EACCES:
      if (!args.no_huge) {
        if (env.hugepages == 0) {
          return absl::FailedPreconditionError(
              "no hugepages: add --no-huge (and -m MB, e.g. -m 512), or reserve some "
              "(echo 256 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages)");
        }
        if (env.euid != 0) {
          return absl::PermissionDeniedError(absl::StrCat(
              "permission denied: hugepages need root (running as uid ", env.euid,
              "); run as root or add --no-huge"));
        }
        return absl::FailedPreconditionError(absl::StrCat("cannot use hugepages", detail));
      }
      return absl::PermissionDeniedError(absl::StrCat(
          "permission denied", env.euid != 0 ? absl::StrCat(" (running as uid ", env.euid, ")") : "",
          detail));
    case EINVAL:
      if (auto lcores = CheckLcores(args, env)) return *lcores;
      if (args.in_memory && args.no_huge) {
        return absl::InvalidArgumentError(
            "--in-memory does not work with --no-huge: drop --in-memory (use --no-shconf)");
      }
      return absl::InvalidArgumentError(absl::StrCat("invalid EAL arguments", detail));
    case ENODEV:
      return absl::InvalidArgumentError(absl::StrCat(
          "bad device argument: DPDK knows no such driver or cannot parse it", detail,
          "; for a virtual port pass --vdev=net_tap0,iface=NAME or "
          "--vdev=net_af_packet0,iface=IF"));
    case EALREADY:
      return absl::FailedPreconditionError("DPDK EAL is already initialised in this process");
    case ENOMEM:
      return absl::ResourceExhaustedError(
          absl::StrCat("not enough memory for DPDK: raise -m (MB)", detail));
    default:
      return absl::InternalError(
          absl::StrCat("DPDK EAL init failed: ", std::strerror(error), detail));
  }
}

absl::Status DiagnoseMissingPort(const EalArgs::Vdev& vdev, const EalEnvironment& before,
                                 absl::string_view last_log) {
  const std::string detail = LogSuffix(last_log);
  if (vdev.driver == "net_tap") {
    if (!before.dev_net_tun) {
      return absl::FailedPreconditionError(
          "no /dev/net/tun: load the tun module (modprobe tun) or create the node");
    }
    if (!before.cap_net_admin) {
      return absl::PermissionDeniedError(absl::StrCat(
          "permission denied: net_tap needs root or CAP_NET_ADMIN (running as uid ",
          before.euid, ")"));
    }
    if (!vdev.iface.empty() && before.interfaces.count(vdev.iface) > 0) {
      return absl::UnavailableError(absl::StrCat(
          "tap device ", vdev.iface, " busy: an interface of that name already exists and is "
          "not a free multi-queue tap; choose another iface= or remove it (ip link del ",
          vdev.iface, ")"));
    }
    return absl::UnavailableError(
        absl::StrCat("tap device ", vdev.iface.empty() ? vdev.name : vdev.iface,
                     " could not be created", detail));
  }
  if (vdev.driver == "net_af_packet") {
    if (!before.cap_net_raw) {
      return absl::PermissionDeniedError(absl::StrCat(
          "permission denied: net_af_packet needs root or CAP_NET_RAW (running as uid ",
          before.euid, ")"));
    }
    if (vdev.iface.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--vdev=", vdev.name, " needs iface=IF (an existing interface)"));
    }
    if (before.interfaces.count(vdev.iface) == 0) {
      return absl::NotFoundError(absl::StrCat(
          "af_packet interface ", vdev.iface,
          " not found: create it first (e.g. ip link add ", vdev.iface,
          " type veth peer name PEER) or fix iface="));
    }
    return absl::UnavailableError(
        absl::StrCat("af_packet port on ", vdev.iface, " could not be opened", detail));
  }
  return absl::UnavailableError(absl::StrCat("device ", vdev.name, " failed to probe", detail));
}

absl::Status NoPortError() {
  return absl::NotFoundError(
      "no DPDK port: pass --vdev=net_tap0,iface=NAME or --vdev=net_af_packet0,iface=IF");
}

}  // namespace locus::link
