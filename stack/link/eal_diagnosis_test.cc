#include "stack/link/eal_diagnosis.h"

#include <cerrno>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace locus::link {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(ParseEalArgsTest, ReadsTheOptionsThatMatter) {
  const EalArgs a = ParseEalArgs({"prog", "-l", "0-1", "--no-huge", "-m", "512",
                                  "--vdev=net_tap0,iface=dtap0,mac=02:00:00:00:00:01",
                                  "--vdev", "eth_af_packet1,iface=veth0,qpairs=2",
                                  "--file-prefix", "x", "--no-shconf", "--", "-l", "5"});
  EXPECT_TRUE(a.no_huge);
  EXPECT_TRUE(a.no_shconf);
  EXPECT_TRUE(a.has_file_prefix);
  EXPECT_FALSE(a.in_memory);
  EXPECT_EQ(a.lcore_list, "0-1");
  ASSERT_EQ(a.vdevs.size(), 2u);
  EXPECT_EQ(a.vdevs[0].name, "net_tap0");
  EXPECT_EQ(a.vdevs[0].driver, "net_tap");
  EXPECT_EQ(a.vdevs[0].iface, "dtap0");
  EXPECT_EQ(a.vdevs[1].name, "eth_af_packet1");
  EXPECT_EQ(a.vdevs[1].driver, "net_af_packet");
  EXPECT_EQ(a.vdevs[1].iface, "veth0");
}

TEST(ParseEalArgsTest, AttachedShortValuesAndOtherForms) {
  const EalArgs a = ParseEalArgs({"prog", "-l0,2", "-c", "0x3", "--lcores=(0-1)@0",
                                  "--file-prefix=p", "--in-memory", "--log-level", "8"});
  EXPECT_EQ(a.lcore_list, "0,2");
  EXPECT_EQ(a.coremask, "0x3");
  EXPECT_EQ(a.lcore_map, "(0-1)@0");
  EXPECT_TRUE(a.has_file_prefix);
  EXPECT_TRUE(a.in_memory);
  EXPECT_FALSE(a.no_huge);
  EXPECT_TRUE(a.vdevs.empty());
}

TEST(CpuListTest, ParsesAndFormats) {
  EXPECT_EQ(ParseLcoreList("0-3,5"), (std::vector<int>{0, 1, 2, 3, 5}));
  EXPECT_EQ(ParseLcoreList("1,1,0"), (std::vector<int>{0, 1}));
  EXPECT_FALSE(ParseLcoreList("").has_value());
  EXPECT_FALSE(ParseLcoreList("a").has_value());
  EXPECT_FALSE(ParseLcoreList("3-1").has_value());
  EXPECT_FALSE(ParseLcoreList("1-2-3").has_value());
  EXPECT_FALSE(ParseLcoreList("0-99999").has_value());
  EXPECT_EQ(ParseCoremask("0x5"), (std::vector<int>{0, 2}));
  EXPECT_EQ(ParseCoremask("f0"), (std::vector<int>{4, 5, 6, 7}));
  EXPECT_FALSE(ParseCoremask("0xg").has_value());
  EXPECT_EQ(FormatCpuList({0, 1, 2, 4, 6, 7}), "0-2,4,6-7");
  EXPECT_EQ(FormatCpuList({3}), "3");
}

EalEnvironment RootOnTwoCpus() {
  EalEnvironment env;
  env.euid = 0;
  env.cap_net_admin = env.cap_net_raw = true;
  env.dev_net_tun = true;
  env.cpus = {0, 1};
  env.interfaces = {"lo", "eth0"};
  return env;
}

TEST(DiagnoseInitFailureTest, NoHugepages) {
  const absl::Status s = DiagnoseInitFailure(EACCES, ParseEalArgs({"p", "-l", "0"}),
                                             RootOnTwoCpus(), "Cannot get hugepage information.");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), StartsWith("no hugepages: add --no-huge (and -m MB"));
}

TEST(DiagnoseInitFailureTest, HugepagesButNotRoot) {
  EalEnvironment env = RootOnTwoCpus();
  env.hugepages = 512;
  env.euid = 1000;
  const absl::Status s = DiagnoseInitFailure(EACCES, ParseEalArgs({"p"}), env, "");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(s.message()), StartsWith("permission denied: hugepages need root"));
}

TEST(DiagnoseInitFailureTest, LcoresOutsideTheAffinity) {
  const absl::Status s =
      DiagnoseInitFailure(EINVAL, ParseEalArgs({"p", "-l", "0-7", "--no-huge"}), RootOnTwoCpus(),
                          "invalid core list, please check specified cores are part of 0-1");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "bad lcore list '0-7': CPU 2-7 not available; this process may use 0-1");
}

TEST(DiagnoseInitFailureTest, MalformedLcoresAndMasks) {
  EXPECT_THAT(std::string(DiagnoseInitFailure(EINVAL, ParseEalArgs({"p", "-l", "x"}),
                                              RootOnTwoCpus(), "")
                              .message()),
              StartsWith("bad lcore list 'x': expected CPU numbers"));
  EXPECT_THAT(std::string(DiagnoseInitFailure(EINVAL, ParseEalArgs({"p", "-c", "0x4"}),
                                              RootOnTwoCpus(), "")
                              .message()),
              StartsWith("bad coremask '0x4': CPU 2 not available"));
  EXPECT_THAT(std::string(DiagnoseInitFailure(EINVAL, ParseEalArgs({"p", "--lcores=0@5"}),
                                              RootOnTwoCpus(), "")
                              .message()),
              StartsWith("bad lcore map '0@5': CPU 5 not available"));
}

TEST(DiagnoseInitFailureTest, OtherInvalidArgumentsKeepTheEalReason) {
  const absl::Status s = DiagnoseInitFailure(EINVAL, ParseEalArgs({"p", "-l", "0"}),
                                             RootOnTwoCpus(), "unrecognized option '--bogus'\n");
  EXPECT_EQ(s.message(), "invalid EAL arguments (DPDK: unrecognized option '--bogus')");
  EXPECT_THAT(std::string(DiagnoseInitFailure(EINVAL,
                                              ParseEalArgs({"p", "--in-memory", "--no-huge"}),
                                              RootOnTwoCpus(), "")
                              .message()),
              StartsWith("--in-memory does not work with --no-huge"));
}

TEST(DiagnoseInitFailureTest, UnknownDevice) {
  const absl::Status s =
      DiagnoseInitFailure(ENODEV, ParseEalArgs({"p", "--vdev=net_bogus0"}), RootOnTwoCpus(),
                          "Unable to parse device 'net_bogus0'");
  EXPECT_THAT(std::string(s.message()), HasSubstr("net_bogus0"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("--vdev=net_tap0,iface=NAME"));
}

TEST(DiagnoseInitFailureTest, OtherErrnosStillSaySomething) {
  EXPECT_THAT(std::string(DiagnoseInitFailure(EALREADY, {}, RootOnTwoCpus(), "").message()),
              HasSubstr("already initialised"));
  EXPECT_THAT(std::string(DiagnoseInitFailure(ENOMEM, {}, RootOnTwoCpus(), "").message()),
              HasSubstr("raise -m"));
  EXPECT_THAT(std::string(DiagnoseInitFailure(ENOTSUP, {}, RootOnTwoCpus(), "x").message()),
              StartsWith("DPDK EAL init failed: "));
}

EalArgs::Vdev Vdev(const std::string& devargs) {
  return ParseEalArgs({"p", "--vdev=" + devargs}).vdevs.at(0);
}

TEST(DiagnoseMissingPortTest, TapBusy) {
  EalEnvironment env = RootOnTwoCpus();
  env.interfaces.insert("dtap0");
  const absl::Status s = DiagnoseMissingPort(Vdev("net_tap0,iface=dtap0"), env,
                                             "Unable to set TUNSETIFF for dtap0: Invalid argument");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), StartsWith("tap device dtap0 busy"));
}

TEST(DiagnoseMissingPortTest, TapPermissionAndTun) {
  EalEnvironment env = RootOnTwoCpus();
  env.euid = 65534;
  env.cap_net_admin = false;
  const absl::Status s = DiagnoseMissingPort(Vdev("net_tap0,iface=t"), env, "");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(),
            "permission denied: net_tap needs root or CAP_NET_ADMIN (running as uid 65534)");
  env = RootOnTwoCpus();
  env.dev_net_tun = false;
  EXPECT_THAT(std::string(DiagnoseMissingPort(Vdev("net_tap0"), env, "").message()),
              StartsWith("no /dev/net/tun"));
}

TEST(DiagnoseMissingPortTest, AfPacket) {
  EalEnvironment env = RootOnTwoCpus();
  EXPECT_THAT(std::string(DiagnoseMissingPort(Vdev("net_af_packet0,iface=veth9"), env, "")
                              .message()),
              StartsWith("af_packet interface veth9 not found"));
  EXPECT_THAT(std::string(DiagnoseMissingPort(Vdev("net_af_packet0"), env, "").message()),
              HasSubstr("needs iface=IF"));
  env.cap_net_raw = false;
  env.euid = 1000;
  EXPECT_EQ(DiagnoseMissingPort(Vdev("net_af_packet0,iface=eth0"), env, "").code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(NoPortErrorTest, SaysWhatToPass) {
  EXPECT_EQ(NoPortError().message(),
            "no DPDK port: pass --vdev=net_tap0,iface=NAME or --vdev=net_af_packet0,iface=IF");
}

TEST(ProbeEalEnvironmentTest, SeesThisProcess) {
  const EalEnvironment env = ProbeEalEnvironment();
  EXPECT_FALSE(env.cpus.empty());
  EXPECT_EQ(env.interfaces.count("lo"), 1u);
}

}  // namespace
}  // namespace locus::link
