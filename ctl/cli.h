// proxyctl's command line: verbs, flags, exit codes and usage text.
#ifndef LOCUS_CTL_CLI_H_
#define LOCUS_CTL_CLI_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace locus::ctl {

// Exit codes, documented in the usage text.
enum ExitCode : int {
  kExitOk = 0,
  // `diff` found differences; or the server refused a precondition:
  // --if-version mismatch, a resource still in use, a name not found.
  kExitNo = 1,
  // Bad command line, unreadable or malformed file, or a config the server
  // rejected as invalid. Nothing was changed.
  kExitUsage = 2,
  // The server could not be reached (not running, wrong --server, TLS
  // mismatch) or did not answer within --timeout.
  kExitUnreachable = 3,
  // Any other server-side error (internal, permission, ...).
  kExitServerError = 4,
};

enum class OutputFormat { kTable, kJson, kYaml };

enum class Kind {
  kListener,
  kRouteTable,
  kPool,
  kEndpoint,
  kConfig,
  kCertificate,
};

struct Invocation {
  std::string verb;
  std::vector<std::string> args;  // positional arguments after the verb

  // Global flags.
  std::string server;  // empty: $LOCUS_SERVER, then the default
  std::optional<OutputFormat> output;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string tls_server_name;
  absl::Duration timeout = absl::Seconds(10);

  // Verb flags.
  std::string file;  // -f; "-" = standard input
  std::optional<uint64_t> if_version;
  bool dry_run = false;
  bool merge = false;
  std::optional<absl::Duration> deadline;
  std::optional<int> count;
  bool include_config = false;
  bool help = false;
};

// Parses argv (without argv[0]). Errors are usage errors, with text that
// says what to do.
absl::StatusOr<Invocation> ParseCommandLine(
    const std::vector<std::string>& args);

// "listeners", "l", "pool", "routes", ... ; nullopt if unknown.
std::optional<Kind> ParseKind(const std::string& word);
const char* KindPlural(Kind kind);

// The full help text (proxyctl --help).
std::string Usage();

}  // namespace locus::ctl

#endif  // LOCUS_CTL_CLI_H_
