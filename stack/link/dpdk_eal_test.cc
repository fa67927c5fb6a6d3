// DpdkEal's start-up errors, each provoked for real. The EAL starts once per
// process, so every case runs DpdkEal::Init in a forked child (inside a
// network namespace of its own) and reports the status through a pipe.
// Needs root (tagged "tap").
#include "stack/link/dpdk_eal.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "stack/link/eal_diagnosis.h"
#include "stack/link/tap_test_util.h"

namespace locus::link {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct ChildResult {
  bool finished = false;  // reported before the deadline
  absl::StatusCode code = absl::StatusCode::kUnknown;
  std::string message;
  int pid = 0;
};

// Runs `body` in a child process with its own network namespace; bounded
// by `timeout`, after which the child is killed.
ChildResult RunInChild(const std::function<absl::Status()>& body,
                       Duration timeout = Duration::Seconds(30)) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    absl::Status status = testing::EnterPrivateNetns();
    if (status.ok()) status = body();
    const std::string report =
        absl::StrCat(static_cast<int>(status.code()), "\n", status.message());
    (void)!write(fds[1], report.data(), report.size());
    close(fds[1]);
    std::exit(0);  // runs the EAL's exit handlers, like a real program
  }
  close(fds[1]);
  ChildResult result;
  result.pid = pid;
  std::string report;
  const Instant deadline = MonotonicNow() + timeout;
  for (;;) {
    const Duration left = deadline - MonotonicNow();
    if (left <= Duration::Zero()) break;
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.millis()) + 1) <= 0) continue;
    char buf[1024];
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) {
      result.finished = !report.empty();
      break;
    }
    report.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  if (!result.finished) kill(pid, SIGKILL);
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  const size_t nl = report.find('\n');
  int code = 0;
  if (nl != std::string::npos && absl::SimpleAtoi(report.substr(0, nl), &code)) {
    result.code = static_cast<absl::StatusCode>(code);
    result.message = report.substr(nl + 1);
  } else {
    result.finished = false;
  }
  // The one-line errors as a user would see them, for the test log.
  std::printf("child %d: %s\n", pid,
              result.finished ? absl::Status(result.code, result.message).ToString().c_str()
                              : "no report");
  return result;
}

ChildResult InitInChild(std::vector<std::string> argv,
                        const std::function<absl::Status()>& setup = nullptr) {
  return RunInChild([&]() -> absl::Status {
    if (setup) {
      if (absl::Status s = setup(); !s.ok()) return s;
    }
    return DpdkEal::Init(argv).status();
  });
}

const std::vector<std::string> kNoHugeBase = {"eal_test", "-l", "0", "--no-huge", "--no-pci",
                                              "-m", "128"};

std::vector<std::string> With(std::vector<std::string> argv, std::vector<std::string> more) {
  argv.insert(argv.end(), more.begin(), more.end());
  return argv;
}

TEST(DpdkEalErrorsTest, StartsOnTapAndCleansUp) {
  const ChildResult r = InitInChild(With(kNoHugeBase, {"--vdev=net_tap0,iface=eok0"}));
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.code, absl::StatusCode::kOk) << r.message;
  // The per-process runtime directory is gone after exit.
  struct stat st;
  EXPECT_NE(stat(absl::StrCat("/var/run/dpdk/locus-", r.pid).c_str(), &st), 0);
}

TEST(DpdkEalErrorsTest, NoHugepages) {
  if (ProbeEalEnvironment().hugepages > 0) GTEST_SKIP() << "this machine has hugepages";
  const ChildResult r =
      InitInChild({"eal_test", "-l", "0", "--no-pci", "-m", "128", "--vdev=net_tap0,iface=eh0"});
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.code, absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.message, StartsWith("no hugepages: add --no-huge (and -m MB"));
}

TEST(DpdkEalErrorsTest, BadLcoreList) {
  const std::vector<int> cpus = ProbeEalEnvironment().cpus;
  ASSERT_FALSE(cpus.empty());
  const int beyond = cpus.back() + 1;
  const ChildResult r = InitInChild(
      {"eal_test", "-l", absl::StrCat("0-", beyond), "--no-huge", "--no-pci", "-m", "128"});
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.code, absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.message, absl::StrCat("bad lcore list '0-", beyond, "': CPU ", beyond,
                                    " not available; this process may use ",
                                    FormatCpuList(cpus)));
}

TEST(DpdkEalErrorsTest, NoPort) {
  const ChildResult r = InitInChild(kNoHugeBase);
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.code, absl::StatusCode::kNotFound);
  EXPECT_EQ(r.message,
            "no DPDK port: pass --vdev=net_tap0,iface=NAME or --vdev=net_af_packet0,iface=IF");
}

TEST(DpdkEalErrorsTest, TapDeviceBusy) {
  const ChildResult r = InitInChild(With(kNoHugeBase, {"--vdev=net_tap0,iface=ebusy0"}), [] {
    return testing::Sh("ip link add ebusy0 type veth peer name ebusy0p");
  });
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.code, absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.message, StartsWith("tap device ebusy0 busy"));
}

TEST(DpdkEalErrorsTest, NotRoot) {
  // A runtime directory the unprivileged child may write, so the EAL gets
  // as far as creating the tap.
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string runtime = absl::StrCat(tmp ? tmp : "/tmp", "/eal-nobody");
  mkdir(runtime.c_str(), 0700);
  ASSERT_EQ(chown(runtime.c_str(), 65534, 65534), 0);
  const ChildResult r = InitInChild(With(kNoHugeBase, {"--vdev=net_tap0,iface=eperm0"}), [&] {
    setenv("XDG_RUNTIME_DIR", runtime.c_str(), 1);
    if (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 ||
        setresuid(65534, 65534, 65534) != 0) {
      return absl::InternalError("cannot drop privileges");
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.code, absl::StatusCode::kPermissionDenied) << r.message;
  EXPECT_EQ(r.message,
            "permission denied: net_tap needs root or CAP_NET_ADMIN (running as uid 65534)");
}

TEST(DpdkEalErrorsTest, AfPacketInterfaceMissing) {
  const ChildResult r = InitInChild(With(kNoHugeBase, {"--vdev=net_af_packet0,iface=enosuch0"}));
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.code, absl::StatusCode::kNotFound);
  EXPECT_THAT(r.message, StartsWith("af_packet interface enosuch0 not found"));
}

TEST(DpdkEalErrorsTest, UnknownDriver) {
  const ChildResult r = InitInChild(With(kNoHugeBase, {"--vdev=net_bogus0"}));
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.code, absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.message, StartsWith("bad device argument"));
  EXPECT_THAT(r.message, HasSubstr("net_bogus0"));
}

TEST(DpdkEalErrorsTest, UnknownOption) {
  const ChildResult r = InitInChild(With(kNoHugeBase, {"--bogus-option"}));
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.code, absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.message, StartsWith("invalid EAL arguments"));
}

}  // namespace
}  // namespace locus::link
