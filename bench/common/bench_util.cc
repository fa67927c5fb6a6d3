#include "bench/common/bench_util.h"

#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace locus::bench {

namespace {
int64_t ClockNanos(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}
int64_t TimevalNanos(const timeval& tv) { return int64_t{tv.tv_sec} * 1000000000 + tv.tv_usec * 1000; }
}  // namespace

int64_t WallNanos() { return ClockNanos(CLOCK_MONOTONIC); }
int64_t ThreadCpuNanos() { return ClockNanos(CLOCK_THREAD_CPUTIME_ID); }

int64_t ProcessCpuNanos() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return TimevalNanos(ru.ru_utime) + TimevalNanos(ru.ru_stime);
}

int64_t KsoftirqdCpuNanos() {
  int64_t total_ticks = 0;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return 0;
  while (dirent* e = readdir(proc)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::string base = std::string("/proc/") + e->d_name;
    std::ifstream comm(base + "/comm");
    std::string name;
    std::getline(comm, name);
    if (name.rfind("ksoftirqd/", 0) != 0) continue;
    std::ifstream stat(base + "/stat");
    std::string line;
    std::getline(stat, line);
    // Fields after the ")" of comm: state is field 3; utime 14, stime 15.
    size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14 || i == 15) total_ticks += std::strtoll(field.c_str(), nullptr, 10);
    }
  }
  closedir(proc);
  return total_ticks * (1000000000 / sysconf(_SC_CLK_TCK));
}

bool PinThread(int cpu) {
  if (cpu < 0) return false;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

std::string LoadAverage() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

int64_t RssBytes() {
  std::ifstream f("/proc/self/statm");
  int64_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

Flags::Flags(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) continue;
    a = a.substr(2);
    size_t eq = a.find('=');
    if (eq == std::string::npos) {
      values_.emplace_back(a, "1");
    } else {
      values_.emplace_back(a.substr(0, eq), a.substr(eq + 1));
    }
  }
}

bool Flags::Has(const std::string& name) const {
  return std::any_of(values_.begin(), values_.end(), [&](const auto& v) { return v.first == name; });
}

std::string Flags::String(const std::string& name, const std::string& fallback) const {
  for (auto it = values_.rbegin(); it != values_.rend(); ++it) {
    if (it->first == name) return it->second;
  }
  return fallback;
}

double Flags::Double(const std::string& name, double fallback) const {
  std::string v = String(name, "");
  return v.empty() ? fallback : std::strtod(v.c_str(), nullptr);
}

int64_t Flags::Int(const std::string& name, int64_t fallback) const {
  std::string v = String(name, "");
  return v.empty() ? fallback : std::strtoll(v.c_str(), nullptr, 10);
}

void Table::Print() const {
  std::vector<size_t> width;
  for (const auto& row : rows_) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (size_t r = 0; r < rows_.size(); ++r) {
    std::string line;
    for (size_t i = 0; i < rows_[r].size(); ++i) {
      std::string cell = rows_[r][i];
      if (i > 0) line += "  ";
      line += cell + std::string(width[i] - cell.size(), ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::printf("%s\n", line.c_str());
    if (r == 0) {
      size_t total = 0;
      for (size_t w : width) total += w + 2;
      std::printf("%s\n", std::string(total > 2 ? total - 2 : 0, '-').c_str());
    }
  }
  std::fflush(stdout);
}

std::string Fmt(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

namespace {
std::string JsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}
std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}
}  // namespace

void PrintResultJson(const std::string& bench, const std::string& metric, double ours,
                     const std::string& peer, double peer_value) {
  double ratio = peer_value != 0 ? ours / peer_value : NAN;
  std::printf("{\"bench\": %s, \"metric\": %s, \"ours\": %s, \"peer\": %s, \"peer_value\": %s, "
              "\"ratio\": %s}\n",
              JsonString(bench).c_str(), JsonString(metric).c_str(), JsonNumber(ours).c_str(),
              JsonString(peer).c_str(), JsonNumber(peer_value).c_str(),
              JsonNumber(ratio).c_str());
  std::fflush(stdout);
}

}  // namespace locus::bench
