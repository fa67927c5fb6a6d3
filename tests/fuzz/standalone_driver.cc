// A main() for libFuzzer targets in builds without libFuzzer (the default
// gcc build and --config=asan), so that every fuzz target is also a plain,
// bounded regression test. See bazel/fuzz.bzl.
//
// It runs LLVMFuzzerTestOneInput on, in order:
//   1. every seed file given on the command line (directories are read one
//      level deep);
//   2. every proper prefix of every seed (each truncation);
//   3. random mutations of the seeds, and some purely random inputs, until
//      --seconds have passed or --runs inputs have run.
// Each input lives in a heap buffer of exactly its size, so ASan builds
// catch any read past it. Phase 3 is deterministic for a given --seed, and
// when an input crashes the process its bytes are printed as hex and, under
// `bazel test`, written to the test's undeclared outputs.
//
// Flags: --seconds=S (default 3), --runs=N (at most N random inputs;
// default unlimited),
// --seed=N (default 1), --max_len=N (default 4096). libFuzzer-style flags
// ("-max_total_time=30") are ignored with a note, so that test arguments
// meant for the libFuzzer build do not break this one.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);
extern "C" __attribute__((weak)) void __sanitizer_set_death_callback(void (*callback)(void));

namespace {

// The input being run, for the crash report. Plain globals: the signal
// handler must not allocate.
const uint8_t* g_current = nullptr;
size_t g_current_size = 0;
char g_crash_path[4096] = {0};

void WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w <= 0) return;
    p += w;
    n -= static_cast<size_t>(w);
  }
}

// Async-signal-safe: write(2) only.
void ReportCurrentInput() {
  if (g_current == nullptr) return;
  static const char kHex[] = "0123456789abcdef";
  const char kHead[] = "\n==standalone fuzz driver== crashing input (hex):\n";
  WriteAll(2, kHead, sizeof(kHead) - 1);
  char line[3 * 32 + 1];
  for (size_t i = 0; i < g_current_size; i += 32) {
    size_t n = 0;
    for (size_t j = i; j < g_current_size && j < i + 32; ++j) {
      line[n++] = kHex[g_current[j] >> 4];
      line[n++] = kHex[g_current[j] & 0xf];
      line[n++] = ' ';
    }
    line[n++] = '\n';
    WriteAll(2, line, n);
  }
  if (g_crash_path[0] != '\0') {
    int fd = open(g_crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      WriteAll(fd, reinterpret_cast<const char*>(g_current), g_current_size);
      close(fd);
      const char kSaved[] = "==standalone fuzz driver== saved as crash-input in the test outputs\n";
      WriteAll(2, kSaved, sizeof(kSaved) - 1);
    }
  }
  g_current = nullptr;
}

void OnFatalSignal(int sig) {
  ReportCurrentInput();
  signal(sig, SIG_DFL);
  raise(sig);
}

void RunOne(const std::vector<uint8_t>& input) {
  // An exactly-sized copy (even for size 0): a read past it is outside the
  // allocation.
  std::unique_ptr<uint8_t[]> copy(new uint8_t[input.size()]);
  if (!input.empty()) std::memcpy(copy.get(), input.data(), input.size());
  g_current = copy.get();
  g_current_size = input.size();
  LLVMFuzzerTestOneInput(copy.get(), input.size());
  g_current = nullptr;
}

bool ReadFile(const std::string& path, std::vector<uint8_t>* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  out->assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return true;
}

void LoadSeeds(const std::string& path, std::vector<std::vector<uint8_t>>* seeds) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    std::fprintf(stderr, "standalone fuzz driver: cannot read %s\n", path.c_str());
    std::exit(2);
  }
  std::vector<std::string> files;
  if (S_ISDIR(st.st_mode)) {
    if (DIR* d = opendir(path.c_str())) {
      while (dirent* e = readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        std::string full = path + "/" + name;
        if (stat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode)) files.push_back(full);
      }
      closedir(d);
    }
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }
  for (const std::string& f : files) {
    std::vector<uint8_t> bytes;
    if (!ReadFile(f, &bytes)) {
      std::fprintf(stderr, "standalone fuzz driver: cannot read %s\n", f.c_str());
      std::exit(2);
    }
    seeds->push_back(std::move(bytes));
  }
}

class Mutator {
 public:
  Mutator(uint64_t seed, size_t max_len) : rng_(seed), max_len_(max_len) {}

  std::vector<uint8_t> Next(const std::vector<std::vector<uint8_t>>& seeds) {
    std::vector<uint8_t> v;
    if (seeds.empty() || Below(16) == 0) {
      v.resize(Below(std::min<size_t>(max_len_, 256) + 1));
      for (uint8_t& b : v) b = Byte();
      return v;
    }
    v = seeds[Below(seeds.size())];
    for (size_t n = 1 + Below(8); n > 0; --n) Mutate(v, seeds);
    if (v.size() > max_len_) v.resize(max_len_);
    return v;
  }

 private:
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng_() % n); }
  uint8_t Byte() { return static_cast<uint8_t>(rng_()); }
  uint8_t Interesting() {
    static const uint8_t kValues[] = {0, 1, 2, 3, 4, 5, 8, 10, 16, 0x20, 0x40, 0x45, 0x7f, 0x80, 0xfe, 0xff};
    return kValues[Below(sizeof(kValues))];
  }

  void Mutate(std::vector<uint8_t>& v, const std::vector<std::vector<uint8_t>>& seeds) {
    switch (Below(9)) {
      case 0:  // flip a bit
        if (!v.empty()) v[Below(v.size())] ^= static_cast<uint8_t>(1u << Below(8));
        break;
      case 1:  // random byte
        if (!v.empty()) v[Below(v.size())] = Byte();
        break;
      case 2:  // interesting byte: lengths, kinds, versions, edges
        if (!v.empty()) v[Below(v.size())] = Interesting();
        break;
      case 3:  // interesting big-endian 16-bit value
        if (v.size() >= 2) {
          static const uint16_t kWords[] = {0, 1, 0x7fff, 0x8000, 0xffff, 19, 20, 21, 40, 60, 1500};
          uint16_t w = kWords[Below(sizeof(kWords) / sizeof(kWords[0]))];
          size_t at = Below(v.size() - 1);
          v[at] = static_cast<uint8_t>(w >> 8);
          v[at + 1] = static_cast<uint8_t>(w);
        }
        break;
      case 4:  // insert bytes
        for (size_t n = 1 + Below(4); n > 0 && v.size() < max_len_; --n) {
          v.insert(v.begin() + static_cast<std::ptrdiff_t>(Below(v.size() + 1)), Byte());
        }
        break;
      case 5:  // erase a range
        if (!v.empty()) {
          size_t at = Below(v.size());
          size_t n = 1 + Below(std::min<size_t>(8, v.size() - at));
          v.erase(v.begin() + static_cast<std::ptrdiff_t>(at),
                  v.begin() + static_cast<std::ptrdiff_t>(at + n));
        }
        break;
      case 6:  // truncate
        v.resize(Below(v.size() + 1));
        break;
      case 7:  // copy a chunk within the input
        if (v.size() >= 2) {
          size_t from = Below(v.size()), to = Below(v.size());
          size_t n = 1 + Below(std::min(v.size() - from, v.size() - to));
          std::memmove(v.data() + to, v.data() + from, n);
        }
        break;
      case 8: {  // splice: keep a prefix, take another seed's tail
        const std::vector<uint8_t>& other = seeds[Below(seeds.size())];
        size_t keep = Below(v.size() + 1), from = Below(other.size() + 1);
        v.resize(keep);
        v.insert(v.end(), other.begin() + static_cast<std::ptrdiff_t>(from), other.end());
        break;
      }
    }
  }

  std::mt19937_64 rng_;
  size_t max_len_;
};

bool ParseFlag(const char* arg, const char* name, uint64_t* value) {
  size_t n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0 || arg[n] != '=') return false;
  char* end = nullptr;
  *value = std::strtoull(arg + n + 1, &end, 10);
  if (end == arg + n + 1 || *end != '\0') {
    std::fprintf(stderr, "standalone fuzz driver: bad value in %s\n", arg);
    std::exit(2);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);

  uint64_t seconds = 3, runs = UINT64_MAX, seed = 1, max_len = 4096;
  std::vector<std::vector<uint8_t>> seeds;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (ParseFlag(a, "--seconds", &seconds) || ParseFlag(a, "--runs", &runs) ||
        ParseFlag(a, "--seed", &seed) || ParseFlag(a, "--max_len", &max_len)) {
      continue;
    }
    if (a[0] == '-') {
      std::fprintf(stderr, "standalone fuzz driver: ignoring %s (a libFuzzer flag?)\n", a);
      continue;
    }
    LoadSeeds(a, &seeds);
  }
  if (max_len == 0) max_len = 1;

  if (const char* out = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR")) {
    std::snprintf(g_crash_path, sizeof(g_crash_path), "%s/crash-input", out);
  }
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP}) signal(sig, OnFatalSignal);
  if (__sanitizer_set_death_callback != nullptr) __sanitizer_set_death_callback(ReportCurrentInput);

  const auto start = std::chrono::steady_clock::now();
  uint64_t executed = 0;
  for (const std::vector<uint8_t>& s : seeds) {
    RunOne(s);
    ++executed;
  }
  for (const std::vector<uint8_t>& s : seeds) {
    for (size_t n = 0; n < s.size(); ++n) {
      RunOne(std::vector<uint8_t>(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n)));
      ++executed;
    }
  }
  const uint64_t systematic = executed;

  Mutator mutator(seed, max_len);
  const auto deadline = start + std::chrono::seconds(seconds);
  uint64_t random_runs = 0;
  while (random_runs < runs) {
    // Reading the clock costs more than most inputs: check every 256 runs.
    if (random_runs % 256 == 0 && std::chrono::steady_clock::now() >= deadline) break;
    RunOne(mutator.Next(seeds));
    ++random_runs;
  }
  executed += random_runs;

  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "standalone fuzz driver: %zu seeds, %llu seed and truncation runs, %llu random runs "
      "(seed %llu), %llu executions in %.1f s\n",
      seeds.size(), static_cast<unsigned long long>(systematic),
      static_cast<unsigned long long>(random_runs), static_cast<unsigned long long>(seed),
      static_cast<unsigned long long>(executed), elapsed);
  return 0;
}
