#include "proxy/control/state_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "api/codec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace locus::proxy::control {
namespace {

namespace v1 = api::v1;
using ::testing::HasSubstr;

// Accepts configs whose pools all have names; the real one validates fully.
absl::Status AcceptNamedPools(v1::Config* config) {
  for (const v1::BackendPool& p : config->pools()) {
    if (p.name().empty())
      return absl::InvalidArgumentError("pools[0].name: required");
  }
  return absl::OkStatus();
}

class StateFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = absl::StrCat(
        tmp ? tmp : "/tmp", "/state_file_test_",
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ::mkdir(dir_.c_str(), 0700);
    path_ = dir_ + "/config.json";
    for (const char* suffix : {"", ".last-good", ".corrupt", ".tmp"}) {
      ::unlink((path_ + suffix).c_str());
    }
  }

  static bool Exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
  }

  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  static void Write(const std::string& path, const std::string& data) {
    std::ofstream(path) << data;
  }

  static v1::Config Version(uint64_t version, const char* pool) {
    v1::Config c;
    c.set_version(version);
    c.add_pools()->set_name(pool);
    return c;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(StateFileTest, NoFilesMeansFreshEmptyConfig) {
  StateFile file(path_);
  absl::StatusOr<StateFile::Loaded> loaded = file.Load(AcceptNamedPools);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(loaded->fresh);
  EXPECT_EQ(loaded->config.version(), 0u);
  EXPECT_TRUE(loaded->warnings.empty());
}

TEST_F(StateFileTest, SaveThenLoadRoundTripsAsJson) {
  StateFile file(path_);
  ASSERT_TRUE(file.Save(Version(1, "one")).ok());
  EXPECT_FALSE(Exists(file.last_good_path()));
  EXPECT_FALSE(Exists(path_ + ".tmp"));
  std::string text = Read(path_);
  EXPECT_THAT(text, HasSubstr("\"version\": \"1\""));
  EXPECT_THAT(text, HasSubstr("\"name\": \"one\""));

  ASSERT_TRUE(file.Save(Version(2, "two")).ok());
  EXPECT_THAT(Read(file.last_good_path()), HasSubstr("\"one\""));
  EXPECT_THAT(Read(path_), HasSubstr("\"two\""));
  EXPECT_FALSE(Exists(path_ + ".tmp"));
  EXPECT_FALSE(Exists(file.last_good_path() + ".tmp"));

  absl::StatusOr<StateFile::Loaded> loaded = file.Load(AcceptNamedPools);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_FALSE(loaded->fresh);
  EXPECT_EQ(loaded->config.version(), 2u);
  EXPECT_EQ(loaded->config.pools(0).name(), "two");
  EXPECT_TRUE(loaded->warnings.empty());
  EXPECT_NE(loaded->modified, absl::InfinitePast());
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

// Sets the umask for one scope.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }

 private:
  mode_t old_;
};

// The state holds private keys: owner-only, whatever the umask.
TEST_F(StateFileTest, FilesAreOwnerOnlyWhateverTheUmask) {
  ScopedUmask open_umask(0);
  StateFile file(path_);
  ASSERT_TRUE(file.Save(Version(1, "one")).ok());
  EXPECT_EQ(ModeOf(path_), 0600);
  ASSERT_TRUE(file.Save(Version(2, "two")).ok());
  EXPECT_EQ(ModeOf(path_), 0600);
  EXPECT_EQ(ModeOf(file.last_good_path()), 0600);
  EXPECT_EQ(kStateFileMode, 0600);
}

// A PATH.tmp left behind with a wide mode: open() would keep its mode, so
// the temporary file is narrowed before the config (and its keys) is
// written into it, and PATH gets 0600 by the rename.
TEST_F(StateFileTest, LeftoverTempFileIsNarrowedBeforeWriting) {
  ScopedUmask open_umask(0);
  Write(path_ + ".tmp", "stale");
  ASSERT_EQ(::chmod((path_ + ".tmp").c_str(), 0666), 0);
  StateFile file(path_);
  ASSERT_TRUE(file.Save(Version(1, "one")).ok());
  EXPECT_EQ(ModeOf(path_), 0600);
  EXPECT_THAT(Read(path_), HasSubstr("\"one\""));
}

// Files from before keys were stored may be world-readable: Load narrows
// them.
TEST_F(StateFileTest, LoadNarrowsWideFiles) {
  StateFile file(path_);
  ASSERT_TRUE(file.Save(Version(1, "one")).ok());
  ASSERT_TRUE(file.Save(Version(2, "two")).ok());
  ASSERT_EQ(::chmod(path_.c_str(), 0644), 0);
  ASSERT_EQ(::chmod(file.last_good_path().c_str(), 0664), 0);
  absl::StatusOr<StateFile::Loaded> loaded = file.Load(AcceptNamedPools);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(ModeOf(path_), 0600);
  EXPECT_EQ(ModeOf(file.last_good_path()), 0600);
}

TEST_F(StateFileTest, AcceptsYamlWrittenByHand) {
  Write(path_, "# edited by hand\nversion: 5\npools:\n  - name: yaml\n");
  absl::StatusOr<StateFile::Loaded> loaded =
      StateFile(path_).Load(AcceptNamedPools);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->config.version(), 5u);
  EXPECT_EQ(loaded->config.pools(0).name(), "yaml");
}

TEST_F(StateFileTest, CorruptFileFallsBackToLastGoodAndKeepsTheBadOne) {
  StateFile file(path_);
  ASSERT_TRUE(file.Save(Version(1, "one")).ok());
  ASSERT_TRUE(file.Save(Version(2, "two")).ok());
  Write(path_, "{\"pools\": [ {\"name\": \"tw");  // truncated

  absl::StatusOr<StateFile::Loaded> loaded = file.Load(AcceptNamedPools);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->config.version(), 1u);
  EXPECT_EQ(loaded->config.pools(0).name(), "one");
  ASSERT_EQ(loaded->warnings.size(), 3u);
  EXPECT_THAT(loaded->warnings[0], HasSubstr(path_));
  EXPECT_THAT(loaded->warnings[1],
              HasSubstr("moved the bad file to " + path_ + ".corrupt"));
  EXPECT_THAT(loaded->warnings[2],
              HasSubstr("started from " + path_ + ".last-good (version 1)"));
  EXPECT_EQ(Read(path_ + ".corrupt"), "{\"pools\": [ {\"name\": \"tw");
  EXPECT_THAT(Read(path_), HasSubstr("\"one\""));
  EXPECT_THAT(Read(file.last_good_path()), HasSubstr("\"one\""));

  // The next save rotates as usual.
  ASSERT_TRUE(file.Save(Version(2, "three")).ok());
  EXPECT_THAT(Read(file.last_good_path()), HasSubstr("\"one\""));
  EXPECT_THAT(Read(path_), HasSubstr("\"three\""));
}

TEST_F(StateFileTest, InvalidConfigCountsAsCorrupt) {
  StateFile file(path_);
  ASSERT_TRUE(file.Save(Version(1, "one")).ok());
  ASSERT_TRUE(file.Save(Version(2, "two")).ok());
  Write(path_, R"({"version": "2", "pools": [{"endpoints": []}]})");
  absl::StatusOr<StateFile::Loaded> loaded = file.Load(AcceptNamedPools);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->config.version(), 1u);
  EXPECT_THAT(loaded->warnings[0],
              HasSubstr(path_ + ": invalid config: pools[0].name: required"));
}

TEST_F(StateFileTest, BothBadIsAClearErrorThatTouchesNothing) {
  Write(path_, "not: [valid");
  Write(path_ + ".last-good", "{\"bogusField\": 1}");
  absl::StatusOr<StateFile::Loaded> loaded =
      StateFile(path_).Load(AcceptNamedPools);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition);
  std::string message(loaded.status().message());
  EXPECT_THAT(message, HasSubstr("no usable config"));
  EXPECT_THAT(message, HasSubstr(path_ + ":"));
  EXPECT_THAT(message, HasSubstr(path_ + ".last-good: "));
  EXPECT_THAT(message, HasSubstr("bogusField"));
  EXPECT_EQ(Read(path_), "not: [valid");
  EXPECT_FALSE(Exists(path_ + ".corrupt"));
}

TEST_F(StateFileTest, CorruptWithoutLastGoodIsAnError) {
  Write(path_, "{");
  absl::StatusOr<StateFile::Loaded> loaded =
      StateFile(path_).Load(AcceptNamedPools);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(std::string(loaded.status().message()),
              HasSubstr(path_ + ".last-good: missing"));
  EXPECT_EQ(Read(path_), "{");
}

TEST_F(StateFileTest, MissingMainFileUsesLastGood) {
  // A crash can leave only last-good only if someone removed PATH; start
  // from it rather than from nothing.
  StateFile file(path_);
  ASSERT_TRUE(file.Save(Version(1, "one")).ok());
  ASSERT_TRUE(file.Save(Version(2, "two")).ok());
  ASSERT_EQ(::unlink(path_.c_str()), 0);
  absl::StatusOr<StateFile::Loaded> loaded = file.Load(AcceptNamedPools);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->config.version(), 1u);
  EXPECT_TRUE(Exists(path_));
  EXPECT_FALSE(Exists(path_ + ".corrupt"));
}

TEST_F(StateFileTest, MissingDirectoryIsRefusedAtLoad) {
  StateFile file(dir_ + "/no/such/dir/config.json");
  absl::StatusOr<StateFile::Loaded> loaded = file.Load(AcceptNamedPools);
  ASSERT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(loaded.status().message()),
              HasSubstr("directory " + dir_ +
                        "/no/such/dir: No such file or directory. Create it"));
}

TEST_F(StateFileTest, SaveIntoMissingDirectoryFailsCleanly) {
  StateFile file(dir_ + "/no/such/dir/config.json");
  absl::Status status = file.Save(Version(1, "one"));
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("cannot create"));
}

}  // namespace
}  // namespace locus::proxy::control
