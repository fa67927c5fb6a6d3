// Shared by the bench/ programs: CPU-time clocks, pinning, the load
// average, and the one-line JSON result that `bench/run` expects last.
#ifndef LOCUS_BENCH_COMMON_BENCH_UTIL_H_
#define LOCUS_BENCH_COMMON_BENCH_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

namespace locus::bench {

int64_t WallNanos();
// CPU time of the calling thread (user + system).
int64_t ThreadCpuNanos();
// getrusage(RUSAGE_SELF): user + system of the whole process.
int64_t ProcessCpuNanos();
// utime + stime of every ksoftirqd thread (softirq work the kernel did
// outside the process that caused it), in nanoseconds.
int64_t KsoftirqdCpuNanos();
// Pins the calling thread to `cpu`; false if that failed (not fatal).
bool PinThread(int cpu);
// "0.52 0.61 0.70" from /proc/loadavg.
std::string LoadAverage();
// Resident set size of this process in bytes (/proc/self/statm).
int64_t RssBytes();

// Command-line flags of the form --name=value.
class Flags {
 public:
  Flags(int argc, char** argv);
  double Double(const std::string& name, double fallback) const;
  int64_t Int(const std::string& name, int64_t fallback) const;
  std::string String(const std::string& name, const std::string& fallback) const;
  bool Has(const std::string& name) const;

 private:
  std::vector<std::pair<std::string, std::string>> values_;
};

// A plain text table, columns padded to their widest cell.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void Row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  void Print() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

std::string Fmt(double v, int decimals = 0);

// The last line of every bench: exactly the keys bench, metric, ours,
// peer, peer_value, ratio (ours / peer_value).
void PrintResultJson(const std::string& bench, const std::string& metric, double ours,
                     const std::string& peer, double peer_value);

}  // namespace locus::bench

#endif  // LOCUS_BENCH_COMMON_BENCH_UTIL_H_
