// The control plane's persisted config: PATH holds the current effective
// config as proto3 JSON (the Config message, version included), and
// PATH.last-good the one before it. Writes are atomic and durable: write
// PATH.tmp, fsync, hard-link the old PATH to PATH.last-good, rename PATH.tmp
// over PATH, fsync the directory. A crash leaves PATH holding either the old
// or the new config, never a mix.
//
// Loading: PATH (JSON or YAML) must parse and pass `accept`. If it does not,
// PATH.last-good is tried; when that one is good the control plane starts
// from it, the bad file is renamed PATH.corrupt (never deleted), PATH is
// rewritten from last-good, and Loaded::warnings says all of that. If neither
// is good, Load fails naming both problems and changes no file. It also
// fails, before reading anything, when PATH's directory is missing or not
// writable, so that problem shows at start-up and not at the first apply.
//
// The files hold secrets in the clear (certificate private keys, session
// ticket keys: the daemon needs them after a restart, and the API only ever
// returns them redacted), so every file written here is created with mode
// kStateFileMode (0600, owner only) whatever the umask, and Load narrows
// PATH and PATH.last-good to it if they are wider.
#ifndef LOCUS_PROXY_CONTROL_STATE_FILE_H_
#define LOCUS_PROXY_CONTROL_STATE_FILE_H_

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "locus/api/v1/config.pb.h"

namespace locus::proxy::control {

// Owner read and write only: the state holds private keys.
inline constexpr mode_t kStateFileMode = 0600;

class StateFile {
 public:
  // Normalizes and validates a config read from disk, in place.
  using Accept = std::function<absl::Status(api::v1::Config*)>;

  struct Loaded {
    api::v1::Config config;
    // When the loaded file was last written (absl::InfinitePast() if fresh).
    absl::Time modified = absl::InfinitePast();
    // No file existed: an empty config at version 0.
    bool fresh = false;
    // Problems that were recovered from, for the daemon's log.
    std::vector<std::string> warnings;
  };

  explicit StateFile(std::string path);

  const std::string& path() const { return path_; }
  std::string last_good_path() const { return path_ + ".last-good"; }
  std::string corrupt_path() const { return path_ + ".corrupt"; }

  absl::StatusOr<Loaded> Load(const Accept& accept) const;

  // Persists `config` as described above. On error no file is half-written
  // and PATH still holds the previous config.
  absl::Status Save(const api::v1::Config& config) const;

 private:
  std::string path_;
};

}  // namespace locus::proxy::control

#endif  // LOCUS_PROXY_CONTROL_STATE_FILE_H_
