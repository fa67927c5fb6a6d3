// Runs the proxyctl binary, as a user would, against a control plane served
// in this process over 127.0.0.1 with a fake data plane and a fixed clock,
// and compares what it prints and its exit code with ctl/testdata/*.golden.
//
// To regenerate the golden files after an intended change:
//   LOCUS_UPDATE_GOLDEN=1 bazel run //ctl:proxyctl_golden_test
// (bazel run sets BUILD_WORKSPACE_DIRECTORY, where the files are written).
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/control/fake_data_plane.h"
#include "proxy/control/server.h"
#include "proxy/control/service.h"

extern char** environ;

namespace locus::ctl {
namespace {

namespace control = proxy::control;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kProxyctl[] = "ctl/proxyctl";
constexpr char kTestData[] = "ctl/testdata/";
constexpr char kTlsData[] = "proxy/control/testdata/";
// A run that takes longer is killed and fails the test.
constexpr absl::Duration kRunLimit = absl::Seconds(30);

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string TempDir() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return tmp != nullptr ? tmp : "/tmp";
}

// Runs proxyctl with `args` and LOCUS_SERVER=`server`, feeding `stdin_file`
// (or /dev/null) as standard input.
Result RunProxyctl(const std::vector<std::string>& args,
                   const std::string& server,
                   const std::string& stdin_file = "/dev/null") {
  static int counter = 0;
  std::string base = absl::StrCat(TempDir(), "/proxyctl_run_", ++counter);
  std::string out_path = base + ".out";
  std::string err_path = base + ".err";

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, stdin_file.c_str(), O_RDONLY,
                                   0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<std::string> argv_storage = {kProxyctl};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage = {absl::StrCat("LOCUS_SERVER=", server),
                                          "PATH=/usr/bin:/bin"};
  std::vector<char*> envp;
  for (std::string& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  Result result;
  pid_t pid;
  int rc =
      posix_spawn(&pid, kProxyctl, &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ADD_FAILURE() << "cannot start " << kProxyctl << ": " << rc;
    return result;
  }
  absl::Time give_up = absl::Now() + kRunLimit;
  int status = 0;
  while (true) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (absl::Now() > give_up) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      ADD_FAILURE() << "proxyctl did not finish within " << kRunLimit;
      return result;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  return result;
}

class ProxyctlTest : public ::testing::Test {
 protected:
  static constexpr absl::Time kNow = absl::FromUnixSeconds(1700000000);

  void SetUp() override {
    control::CoreStatus core0;
    core0.core = 0;
    core0.route_cache_hits = 1200;
    core0.route_cache_misses = 34;
    core0.route_cache_stale = 5;
    core0.redirects_in = 7;
    core0.redirects_out = 9;
    core0.active_connections = 42;
    dp_.SetCoreStatus(core0);
    control::CoreStatus core1 = core0;
    core1.core = 1;
    core1.route_cache_hits = 980;
    core1.active_connections = 40;
    dp_.SetCoreStatus(core1);

    control::StatsSnapshot stats;
    stats.cores.push_back(control::CoreStats{0, 500, 2, 42, 1400, 1300, 20, 60,
                                             20, 123456, 654321, 3, 4});
    stats.cores.push_back(control::CoreStats{1, 480, 0, 40, 1350, 1290, 10, 40,
                                             10, 120000, 640000, 1, 2});
    control::EndpointStats e;
    e.pool = "api";
    e.address = "10.0.1.1";
    e.port = 8080;
    e.health = control::EndpointHealth::kHealthy;
    e.active_connections = 12;
    e.requests = 2000;
    stats.endpoints.push_back(e);
    e.address = "10.0.1.2";
    e.health = control::EndpointHealth::kEjected;
    e.active_connections = 0;
    e.requests = 700;
    e.connect_failures = 5;
    e.responses_5xx = 30;
    e.ejections = 2;
    stats.endpoints.push_back(e);
    dp_.SetStats(stats);

    control::ControlPlane::Options options;
    options.clock = [this] { return now_; };
    absl::StatusOr<std::unique_ptr<control::ControlPlane>> cp =
        control::ControlPlane::Create(options, &dp_);
    ASSERT_TRUE(cp.ok()) << cp.status();
    cp_ = *std::move(cp);
    service_ = std::make_unique<control::ControlPlaneService>(cp_.get());
    StartServer(control::ServerOptions());
  }

  void StartServer(control::ServerOptions options) {
    options.address = "127.0.0.1:0";
    if (server_.server) server_.server->Shutdown();
    absl::StatusOr<control::RunningServer> server =
        control::StartServer(options, {service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    address_ = absl::StrCat("127.0.0.1:", server_.port);
  }

  void TearDown() override {
    cp_->Shutdown();
    server_.server->Shutdown(std::chrono::system_clock::now() +
                             std::chrono::seconds(2));
  }

  Result Run(const std::vector<std::string>& args,
             const std::string& stdin_file = "/dev/null") {
    return RunProxyctl(args, address_, stdin_file);
  }

  // Compares a run with ctl/testdata/NAME.golden.
  void ExpectGolden(const std::string& name, const Result& r) {
    std::string actual = absl::StrCat("exit: ", r.exit_code, "\n--- stdout\n",
                                      r.out, "--- stderr\n", r.err);
    actual = absl::StrReplaceAll(actual, {{address_, "SERVER"}});
    std::string file = absl::StrCat(kTestData, name, ".golden");
    const char* update = std::getenv("LOCUS_UPDATE_GOLDEN");
    const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
    if (update != nullptr && workspace != nullptr) {
      std::ofstream(absl::StrCat(workspace, "/", file)) << actual;
      return;
    }
    EXPECT_EQ(ReadFile(file), actual)
        << "golden file " << file << " differs; see the top of this test";
  }

  // The control plane's clock: certificates are checked against it.
  absl::Time now_ = kNow;
  control::FakeDataPlane dp_{2, /*auto_apply=*/true};
  std::unique_ptr<control::ControlPlane> cp_;
  std::unique_ptr<control::ControlPlaneService> service_;
  control::RunningServer server_;
  std::string address_;
};

std::string Data(const char* name) { return absl::StrCat(kTestData, name); }

TEST_F(ProxyctlTest, Scenario) {
  const std::string base = Data("base.yaml");
  const std::string changed = Data("changed.json");
  ExpectGolden("01_get_listeners_empty", Run({"get", "listeners"}));
  ExpectGolden("02_validate", Run({"validate", "-f", base}));
  ExpectGolden("03_apply_dry_run", Run({"apply", "-f", base, "--dry-run"}));
  EXPECT_EQ(cp_->Current()->version, 0u);
  ExpectGolden("04_apply", Run({"apply", "-f", base}));
  EXPECT_EQ(cp_->Current()->version, 1u);
  ExpectGolden("05_apply_unchanged", Run({"apply", "-f", base}));
  EXPECT_EQ(cp_->Current()->version, 1u);
  ExpectGolden("06_get_listeners", Run({"get", "listeners"}));
  ExpectGolden("07_get_routes", Run({"get", "routes"}));
  ExpectGolden("08_get_pools", Run({"get", "pools"}));
  ExpectGolden("09_get_endpoints", Run({"get", "endpoints"}));
  ExpectGolden("10_get_listeners_json",
               Run({"get", "listeners", "-o", "json"}));
  ExpectGolden("11_get_pool_yaml", Run({"get", "pool", "api", "-o", "yaml"}));
  Result dump = Run({"get", "config"});
  ExpectGolden("12_get_config", dump);
  {
    // What 'get config' prints applies back as a no-op.
    std::string file = absl::StrCat(TempDir(), "/dump.yaml");
    std::ofstream(file) << dump.out;
    Result again = Run({"apply", "-f", file});
    EXPECT_EQ(again.exit_code, 0) << again.err;
    EXPECT_THAT(again.out,
                HasSubstr("unchanged: the running config (version 1)"));
    Result json = Run({"get", "config", "-o", "json"});
    std::ofstream(file) << json.out;
    again = Run({"diff", "-f", file});
    EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  }
  ExpectGolden("13_describe_listener", Run({"describe", "listener", "web"}));
  ExpectGolden("14_describe_pool", Run({"describe", "pool", "api"}));
  ExpectGolden("15_diff_same", Run({"diff", "-f", base}));
  ExpectGolden("16_diff_changed", Run({"diff", "-f", changed}));
  ExpectGolden("17_apply_invalid", Run({"apply", "-f", Data("bad.yaml")}));
  ExpectGolden("18_apply_syntax_error",
               Run({"apply", "-f", Data("syntax.yaml")}));
  ExpectGolden("19_if_version_mismatch",
               Run({"apply", "-f", changed, "--if-version", "0"}));
  EXPECT_EQ(cp_->Current()->version, 1u);
  ExpectGolden("20_delete_in_use", Run({"delete", "pool", "api"}));
  ExpectGolden("21_delete_missing", Run({"delete", "pool", "nope"}));
  ExpectGolden("22_delete_dry_run",
               Run({"delete", "listener", "tcp-in", "--dry-run"}));
  ExpectGolden("23_status", Run({"status"}));
  ExpectGolden("24_stats", Run({"stats"}));
  ExpectGolden("25_drain", Run({"drain", "web", "--deadline", "30s"}));
  ExpectGolden("26_status_draining", Run({"status"}));
  ExpectGolden("27_status_json", Run({"status", "-o", "json"}));
  ExpectGolden("28_apply_stdin_if_version",
               Run({"apply", "-f", "-", "--if-version", "1"}, changed));
  EXPECT_EQ(cp_->Current()->version, 2u);
  ExpectGolden("29_delete_pool", Run({"delete", "pool", "db"}));
  ExpectGolden("30_get_listeners_yaml",
               Run({"get", "listeners", "-o", "yaml"}));
  ExpectGolden("31_describe_missing", Run({"describe", "pool", "db"}));
  ExpectGolden("32_apply_merge",
               Run({"apply", "--merge", "-f", Data("merge.yaml")}));
  ExpectGolden("33_get_pools_after_merge", Run({"get", "pools"}));
}

// Shared and inline certificates: listing, one, redacted keys that apply
// back and diff clean, delete while in use, rotation.
TEST_F(ProxyctlTest, Certificates) {
  // The test PKI is valid from 2026-11-25.
  now_ = absl::FromUnixSeconds(1798761600);  // 2027-01-01T00:00:00Z
  const std::string certs = Data("certs.yaml");
  ExpectGolden("40_get_certificates_empty", Run({"get", "certificates"}));
  ExpectGolden("41_apply_certs", Run({"apply", "-f", certs}));
  ExpectGolden("42_get_certificates", Run({"get", "certificates"}));
  ExpectGolden("43_get_certificate", Run({"get", "certificate", "www"}));
  ExpectGolden("44_get_certificate_yaml",
               Run({"get", "cert", "www", "-o", "yaml"}));
  ExpectGolden("45_get_certificates_json",
               Run({"get", "certificates", "-o", "json"}));
  ExpectGolden("46_get_certificate_missing",
               Run({"get", "certificate", "nope"}));
  for (const char* format : {"yaml", "json"}) {
    // No read shows a key; what it shows applies back as a no-op.
    Result dump = Run({"get", "config", "-o", format});
    ASSERT_EQ(dump.exit_code, 0) << dump.err;
    EXPECT_THAT(dump.out, Not(HasSubstr("PRIVATE KEY")));
    EXPECT_THAT(dump.out, HasSubstr("redacted:sha256:"));
    std::string file = absl::StrCat(TempDir(), "/certs_dump.", format);
    std::ofstream(file) << dump.out;
    Result again = Run({"apply", "-f", file});
    EXPECT_EQ(again.exit_code, 0) << again.err;
    EXPECT_THAT(again.out, HasSubstr("unchanged: the running config (version 1)"));
    Result diff = Run({"diff", "-f", file});
    EXPECT_EQ(diff.exit_code, 0) << diff.out << diff.err;
  }
  for (const char* kind : {"listeners", "listener"}) {
    std::vector<std::string> args = {"get", kind};
    if (std::string(kind) == "listener") args.push_back("secure");
    args.insert(args.end(), {"-o", "yaml"});
    Result r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, Not(HasSubstr("PRIVATE KEY")));
  }
  // The file with real keys: no difference either.
  ExpectGolden("47_diff_real_keys", Run({"diff", "-f", certs}));
  ExpectGolden("48_delete_certificate_in_use",
               Run({"delete", "certificate", "www"}));
  const std::string rotated = Data("certs_rotated.yaml");
  ExpectGolden("49_diff_rotated", Run({"diff", "-f", rotated}));
  ExpectGolden("50_apply_rotated", Run({"apply", "-f", rotated}));
  ExpectGolden("51_get_certificates_rotated", Run({"get", "certificates"}));
  EXPECT_EQ(cp_->Current()->version, 2u);
  // Ten days before the certificates expire: an apply goes through, and
  // proxyctl prints the server's warning for each of them.
  now_ = absl::FromUnixSeconds(4948300800);  // 2126-10-22T00:00:00Z
  ExpectGolden("52_apply_expiring_warns", Run({"apply", "-f", certs}));
  EXPECT_EQ(cp_->Current()->version, 3u);
}

TEST_F(ProxyctlTest, UsageErrors) {
  ExpectGolden("usage_no_command", Run({}));
  ExpectGolden("usage_unknown_command", Run({"frobnicate"}));
  ExpectGolden("usage_get_without_kind", Run({"get"}));
  ExpectGolden("usage_unknown_kind", Run({"get", "services"}));
  ExpectGolden("usage_bad_output", Run({"get", "listeners", "-o", "xml"}));
  ExpectGolden("usage_apply_without_file", Run({"apply"}));
  ExpectGolden("usage_missing_file",
               Run({"apply", "-f", "/no/such/file.yaml"}));
  ExpectGolden("help", Run({"--help"}));
}

TEST_F(ProxyctlTest, UnreachableServerExitsThree) {
  // Port 1 on loopback: nothing listens there.
  Result r = RunProxyctl({"status", "--timeout", "5s"}, "127.0.0.1:1");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err,
              HasSubstr("cannot reach the control plane at 127.0.0.1:1"));
  EXPECT_THAT(r.err, HasSubstr("Is the daemon running?"));
  EXPECT_EQ(r.out, "");
}

TEST_F(ProxyctlTest, WatchPrintsChanges) {
  // Start the watch, wait until it has printed the initial version, then
  // make a change; --count 1 ends it.
  std::string out_path = absl::StrCat(TempDir(), "/watch.out");
  pid_t pid;
  std::vector<std::string> argv_storage = {kProxyctl, "watch", "--count", "1"};
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string env_server = absl::StrCat("LOCUS_SERVER=", address_);
  char* envp[] = {env_server.data(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_EQ(posix_spawn(&pid, kProxyctl, &actions, nullptr, argv.data(), envp),
            0);
  posix_spawn_file_actions_destroy(&actions);
  absl::Time give_up = absl::Now() + kRunLimit;
  while (ReadFile(out_path).empty() && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  Result applied = Run({"apply", "-f", Data("base.yaml")});
  EXPECT_EQ(applied.exit_code, 0);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) != pid) {
    if (absl::Now() > give_up) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      FAIL() << "watch did not end";
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(ReadFile(out_path),
            "watching: the config is at version 0\n"
            "version 1: listener/tcp-in created, listener/web created, "
            "route_table/main created, pool/api created, pool/api-canary "
            "created, pool/db created\n");
}

TEST_F(ProxyctlTest, MutualTls) {
  control::ServerOptions tls;
  tls.tls_cert_file = absl::StrCat(kTlsData, "server.pem");
  tls.tls_key_file = absl::StrCat(kTlsData, "server.key");
  tls.client_ca_file = absl::StrCat(kTlsData, "ca.pem");
  StartServer(tls);
  const std::string ca = absl::StrCat(kTlsData, "ca.pem");
  Result ok =
      Run({"status", "--ca", ca, "--cert", absl::StrCat(kTlsData, "client.pem"),
           "--key", absl::StrCat(kTlsData, "client.key"), "--tls-server-name",
           "localhost"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("Config version: 0"));

  Result no_cert = Run({"status", "--ca", ca, "--tls-server-name", "localhost",
                        "--timeout", "5s"});
  EXPECT_EQ(no_cert.exit_code, 3) << no_cert.err;

  Result plaintext = Run({"status", "--timeout", "5s"});
  EXPECT_EQ(plaintext.exit_code, 3) << plaintext.err;

  Result missing_ca = Run({"status", "--ca", "/no/such/ca.pem"});
  EXPECT_EQ(missing_ca.exit_code, 2);
  EXPECT_THAT(missing_ca.err, HasSubstr("--ca /no/such/ca.pem: cannot read"));
}

}  // namespace
}  // namespace locus::ctl
