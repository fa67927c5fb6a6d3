#include "proxy/control/state_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/codec.h"

namespace locus::proxy::control {
namespace {

namespace v1 = api::v1;

std::string ErrnoText(int err) { return std::strerror(err); }

absl::Status IoError(absl::string_view what, absl::string_view path, int err) {
  return absl::InternalError(
      absl::StrCat(what, " ", path, ": ", ErrnoText(err)));
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

absl::Time ModifiedTime(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return absl::InfinitePast();
  return absl::TimeFromTimespec(st.st_mtim);
}

absl::StatusOr<std::string> ReadAll(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open", path, errno);
  std::string data;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return IoError("cannot read", path, err);
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > api::kMaxTextBytes) {
      ::close(fd);
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": larger than ", api::kMaxTextBytes, " bytes"));
    }
  }
  ::close(fd);
  return data;
}

absl::Status WriteAndSync(const std::string& path, absl::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                  kStateFileMode);
  if (fd < 0) return IoError("cannot create", path, errno);
  // The mode of open() applies only to a new file: a PATH.tmp left behind
  // (or made by an older version) keeps its own, so set it before writing
  // any key into it.
  if (::fchmod(fd, kStateFileMode) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return IoError("cannot chmod", path, err);
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(path.c_str());
      return IoError("cannot write", path, err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return IoError("cannot fsync", path, err);
  }
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(path.c_str());
    return IoError("cannot close", path, err);
  }
  return absl::OkStatus();
}

std::string DirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".")
         : slash == 0               ? std::string("/")
                                    : path.substr(0, slash);
}

absl::Status SyncDirectoryOf(const std::string& path) {
  const std::string dir = DirectoryOf(path);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open directory", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return IoError("cannot fsync directory", dir, err);
  return absl::OkStatus();
}

// Reads, parses and accepts one file; the error names the file.
absl::Status LoadOne(const std::string& path, const StateFile::Accept& accept,
                     v1::Config* config) {
  absl::StatusOr<std::string> text = ReadAll(path);
  if (!text.ok()) return text.status();
  if (absl::Status s = api::ParseText(*text, path, config); !s.ok()) return s;
  if (absl::Status s = accept(config); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": invalid config: ", s.message()));
  }
  return absl::OkStatus();
}

}  // namespace

StateFile::StateFile(std::string path) : path_(std::move(path)) {}

absl::StatusOr<StateFile::Loaded> StateFile::Load(const Accept& accept) const {
  // Fail now rather than at the first apply.
  const std::string dir = DirectoryOf(path_);
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot keep the config in ", path_, ": directory ", dir,
                     ": ", ErrnoText(errno),
                     ". Create it (writable by the daemon) or choose "
                     "another --config_state."));
  }
  Loaded loaded;
  const bool have_main = Exists(path_);
  const bool have_last_good = Exists(last_good_path());
  // Files written before the state held private keys may be readable by
  // others: narrow them now, before anything else reads them.
  for (const std::string& p : {path_, last_good_path()}) {
    if (Exists(p) && ::chmod(p.c_str(), kStateFileMode) != 0) {
      return IoError("cannot make it readable by the daemon only:", p, errno);
    }
  }
  if (!have_main && !have_last_good) {
    loaded.fresh = true;
    return loaded;
  }
  absl::Status main_status =
      have_main ? LoadOne(path_, accept, &loaded.config)
                : absl::NotFoundError(absl::StrCat(path_, ": missing"));
  if (main_status.ok()) {
    loaded.modified = ModifiedTime(path_);
    return loaded;
  }
  absl::Status last_good_status =
      have_last_good
          ? LoadOne(last_good_path(), accept, &loaded.config)
          : absl::NotFoundError(absl::StrCat(last_good_path(), ": missing"));
  if (!last_good_status.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no usable config: ", main_status.message(), "; and ",
        last_good_status.message(),
        ". Fix the file, or move both away to start with an empty config."));
  }
  loaded.modified = ModifiedTime(last_good_path());
  loaded.warnings.push_back(std::string(main_status.message()));
  if (have_main) {
    if (::rename(path_.c_str(), corrupt_path().c_str()) != 0) {
      return IoError("cannot move the bad config aside to", corrupt_path(),
                     errno);
    }
    loaded.warnings.push_back(
        absl::StrCat("moved the bad file to ", corrupt_path()));
  }
  // Recreate PATH from last-good so the next Save rotates as usual.
  absl::StatusOr<std::string> json = api::ToJson(loaded.config);
  if (!json.ok()) return json.status();
  std::string tmp = path_ + ".tmp";
  if (absl::Status s = WriteAndSync(tmp, *json); !s.ok()) return s;
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    return IoError("cannot rename to", path_, errno);
  }
  if (absl::Status s = SyncDirectoryOf(path_); !s.ok()) return s;
  loaded.warnings.push_back(absl::StrCat("started from ", last_good_path(),
                                         " (version ", loaded.config.version(),
                                         ")"));
  return loaded;
}

absl::Status StateFile::Save(const v1::Config& config) const {
  absl::StatusOr<std::string> json = api::ToJson(config);
  if (!json.ok()) return json.status();
  std::string tmp = path_ + ".tmp";
  if (absl::Status s = WriteAndSync(tmp, *json); !s.ok()) return s;
  if (Exists(path_)) {
    // last-good becomes the config being replaced. A hard link keeps PATH in
    // place throughout, so PATH always exists.
    std::string link_tmp = last_good_path() + ".tmp";
    ::unlink(link_tmp.c_str());
    if (::link(path_.c_str(), link_tmp.c_str()) != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      return IoError("cannot link the previous config to", link_tmp, err);
    }
    if (::rename(link_tmp.c_str(), last_good_path().c_str()) != 0) {
      int err = errno;
      ::unlink(link_tmp.c_str());
      ::unlink(tmp.c_str());
      return IoError("cannot rename to", last_good_path(), err);
    }
  }
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return IoError("cannot rename to", path_, err);
  }
  return SyncDirectoryOf(path_);
}

}  // namespace locus::proxy::control
