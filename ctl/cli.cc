#include "ctl/cli.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/defaults.h"

namespace locus::ctl {
namespace {

absl::Status UsageError(absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(what, "\nRun 'proxyctl --help' for usage."));
}

// Verb -> flags it accepts beyond the global ones, and its positional
// argument count range.
struct VerbSpec {
  std::set<std::string> flags;
  size_t min_args;
  size_t max_args;
  const char* synopsis;
};

const std::map<std::string, VerbSpec>& Verbs() {
  static const auto* const kVerbs = new std::map<std::string, VerbSpec>{
      {"get", {{}, 1, 2, "get KIND [NAME]"}},
      {"describe", {{}, 2, 2, "describe KIND NAME"}},
      {"apply",
       {{"--filename", "--if-version", "--dry-run", "--merge"},
        0,
        0,
        "apply -f FILE|- [--if-version N] [--dry-run] [--merge]"}},
      {"delete",
       {{"--if-version", "--dry-run"},
        2,
        2,
        "delete KIND NAME [--if-version N] [--dry-run]"}},
      {"diff", {{"--filename"}, 0, 0, "diff -f FILE|-"}},
      {"validate", {{"--filename"}, 0, 0, "validate -f FILE|-"}},
      {"status", {{}, 0, 0, "status"}},
      {"stats", {{}, 0, 0, "stats"}},
      {"drain", {{"--deadline"}, 1, 1, "drain LISTENER [--deadline 30s]"}},
      {"watch",
       {{"--count", "--include-config"},
        0,
        0,
        "watch [--count N] [--include-config]"}},
  };
  return *kVerbs;
}

const std::map<std::string, std::string>& Aliases() {
  static const auto* const kAliases =
      new std::map<std::string, std::string>{{"-o", "--output"},
                                             {"-f", "--filename"},
                                             {"-h", "--help"},
                                             {"-s", "--server"}};
  return *kAliases;
}

bool TakesValue(const std::string& flag) {
  static const std::set<std::string> kValued = {
      "--server",     "--output",          "--ca",      "--cert",
      "--key",        "--tls-server-name", "--timeout", "--filename",
      "--if-version", "--deadline",        "--count"};
  return kValued.count(flag) > 0;
}

bool IsGlobal(const std::string& flag) {
  static const std::set<std::string> kGlobal = {
      "--server", "--output",          "--ca",      "--cert",
      "--key",    "--tls-server-name", "--timeout", "--help"};
  return kGlobal.count(flag) > 0;
}

absl::Status ApplyFlag(const std::string& flag, const std::string& value,
                       Invocation* inv) {
  if (flag == "--server") {
    inv->server = value;
  } else if (flag == "--output") {
    if (value == "table" || value == "wide") {
      inv->output = OutputFormat::kTable;
    } else if (value == "json") {
      inv->output = OutputFormat::kJson;
    } else if (value == "yaml") {
      inv->output = OutputFormat::kYaml;
    } else {
      return UsageError(
          absl::StrCat("--output=", value, ": use table, json or yaml"));
    }
  } else if (flag == "--ca") {
    inv->ca_file = value;
  } else if (flag == "--cert") {
    inv->cert_file = value;
  } else if (flag == "--key") {
    inv->key_file = value;
  } else if (flag == "--tls-server-name") {
    inv->tls_server_name = value;
  } else if (flag == "--timeout" || flag == "--deadline") {
    absl::Duration d;
    if (!absl::ParseDuration(value, &d) || d < absl::ZeroDuration() ||
        d == absl::InfiniteDuration()) {
      return UsageError(absl::StrCat(flag, "=", value,
                                     ": expected a duration such as 30s, "
                                     "1m30s or 1.5s"));
    }
    if (flag == "--timeout") {
      inv->timeout = d;
    } else {
      inv->deadline = d;
    }
  } else if (flag == "--filename") {
    inv->file = value;
  } else if (flag == "--if-version") {
    uint64_t v;
    if (!absl::SimpleAtoi(value, &v)) {
      return UsageError(absl::StrCat("--if-version=", value,
                                     ": expected a config version number"));
    }
    inv->if_version = v;
  } else if (flag == "--count") {
    int n;
    if (!absl::SimpleAtoi(value, &n) || n < 1) {
      return UsageError(
          absl::StrCat("--count=", value, ": expected a positive number"));
    }
    inv->count = n;
  } else if (flag == "--dry-run") {
    inv->dry_run = true;
  } else if (flag == "--merge") {
    inv->merge = true;
  } else if (flag == "--include-config") {
    inv->include_config = true;
  } else if (flag == "--help") {
    inv->help = true;
  } else {
    return UsageError(absl::StrCat("unknown flag ", flag));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Invocation> ParseCommandLine(
    const std::vector<std::string>& args) {
  Invocation inv;
  std::vector<std::string> positional;
  std::vector<std::string> verb_flags;
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (flags_done || arg == "-" || arg.empty() || arg[0] != '-') {
      positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    std::string flag = arg;
    std::optional<std::string> value;
    size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    if (auto alias = Aliases().find(flag); alias != Aliases().end()) {
      flag = alias->second;
    }
    if (TakesValue(flag)) {
      if (!value.has_value()) {
        if (i + 1 >= args.size()) {
          return UsageError(absl::StrCat("flag ", flag, " needs a value"));
        }
        value = args[++i];
      }
    } else if (value.has_value()) {
      return UsageError(absl::StrCat("flag ", flag, " takes no value"));
    }
    if (absl::Status s = ApplyFlag(flag, value.value_or(""), &inv); !s.ok()) {
      return s;
    }
    if (!IsGlobal(flag)) verb_flags.push_back(flag);
  }
  if (inv.help) return inv;
  if (positional.empty()) {
    return UsageError("no command given");
  }
  inv.verb = positional[0];
  inv.args.assign(positional.begin() + 1, positional.end());
  auto verb = Verbs().find(inv.verb);
  if (verb == Verbs().end()) {
    std::vector<std::string> names;
    for (const auto& [name, spec] : Verbs()) names.push_back(name);
    return UsageError(
        absl::StrCat("unknown command \"", inv.verb,
                     "\"; commands: ", absl::StrJoin(names, ", ")));
  }
  const VerbSpec& spec = verb->second;
  for (const std::string& flag : verb_flags) {
    if (!spec.flags.count(flag)) {
      return UsageError(absl::StrCat("flag ", flag, " does not apply to '",
                                     inv.verb, "' (usage: proxyctl ",
                                     spec.synopsis, ")"));
    }
  }
  if (inv.args.size() < spec.min_args || inv.args.size() > spec.max_args) {
    return UsageError(absl::StrCat("usage: proxyctl ", spec.synopsis));
  }
  if (spec.flags.count("--filename") && inv.file.empty()) {
    return UsageError(absl::StrCat("'", inv.verb,
                                   "' needs -f FILE (or -f - for standard "
                                   "input); usage: proxyctl ",
                                   spec.synopsis));
  }
  if (inv.cert_file.empty() != inv.key_file.empty()) {
    return UsageError("--cert and --key go together: give both or neither");
  }
  return inv;
}

std::optional<Kind> ParseKind(const std::string& word) {
  static const auto* const kKinds = new std::map<std::string, Kind>{
      {"listener", Kind::kListener},
      {"listeners", Kind::kListener},
      {"l", Kind::kListener},
      {"route", Kind::kRouteTable},
      {"routes", Kind::kRouteTable},
      {"routetable", Kind::kRouteTable},
      {"routetables", Kind::kRouteTable},
      {"route-table", Kind::kRouteTable},
      {"route-tables", Kind::kRouteTable},
      {"rt", Kind::kRouteTable},
      {"pool", Kind::kPool},
      {"pools", Kind::kPool},
      {"p", Kind::kPool},
      {"endpoint", Kind::kEndpoint},
      {"endpoints", Kind::kEndpoint},
      {"ep", Kind::kEndpoint},
      {"certificate", Kind::kCertificate},
      {"certificates", Kind::kCertificate},
      {"cert", Kind::kCertificate},
      {"certs", Kind::kCertificate},
      {"config", Kind::kConfig},
      {"all", Kind::kConfig},
  };
  auto it = kKinds->find(word);
  if (it == kKinds->end()) return std::nullopt;
  return it->second;
}

const char* KindPlural(Kind kind) {
  switch (kind) {
    case Kind::kListener:
      return "listeners";
    case Kind::kRouteTable:
      return "routes";
    case Kind::kPool:
      return "pools";
    case Kind::kEndpoint:
      return "endpoints";
    case Kind::kConfig:
      return "config";
    case Kind::kCertificate:
      return "certificates";
  }
  return "?";
}

std::string Usage() {
  return absl::StrCat(
      R"(proxyctl controls a Locus proxy through its control-plane API.

Usage: proxyctl [flags] COMMAND [args] [flags]

Commands:
  get KIND [NAME]          List resources, or show one. KIND: listeners (l),
                           routes (rt), pools (p), endpoints (ep),
                           certificates (cert), config. Private keys are
                           shown as redacted:sha256:<digest>.
  describe KIND NAME       One resource in full, with its live state.
  apply -f FILE|-          Make FILE the whole config (JSON or YAML, the
                           schema of 'get config -o yaml'). Resources not
                           in FILE are deleted unless --merge is given.
      --if-version N       Only if the config is still at version N.
      --dry-run            Validate and show what would change; change
                           nothing.
      --merge              Create or replace the resources in FILE; delete
                           nothing.
  delete KIND NAME         Delete a listener, route table, pool or shared
                           certificate.
      --if-version N, --dry-run   As for apply.
  diff -f FILE|-           Show how FILE differs from the running config.
  validate -f FILE|-       Check FILE with the server's validation; change
                           nothing.
  status                   Config version, the version each core runs,
                           route-cache and redirect counters, listeners.
  stats                    Counters per core and per endpoint, with health.
  drain LISTENER           Stop accepting on LISTENER and close its
      --deadline 30s       connections after the deadline (default: its
                           drain_timeout).
  watch                    Print each config change as it happens.
      --count N            Stop after N changes.
      --include-config     With -o json|yaml: the whole config each time.

Flags:
  -s, --server ADDR        Control-plane address (HOST:PORT or unix:PATH).
                           Default: $)",
      api::kServerEnvVar, ", else ", api::kDefaultApiAddress, R"(.
  -o, --output FORMAT      table (default), json or yaml.
      --ca FILE            Verify the server's certificate with this CA
                           (enables TLS).
      --cert FILE --key FILE   Client certificate for mutual TLS.
      --tls-server-name NAME   Name to expect in the server certificate.
      --timeout 10s        Limit for each call to the server.
  -h, --help               This text.

Exit codes:
  0  success
  1  diff found differences; or the server refused: --if-version did not
     match, the resource is still in use, or it was not found
  2  usage error, unreadable or malformed file, or invalid config (nothing
     was changed)
  3  server unreachable or no answer within --timeout
  4  other server error
)");
}

}  // namespace locus::ctl
