// apply, delete, diff, validate and drain.
#include <string>

#include "absl/strings/str_cat.h"
#include "api/codec.h"
#include "api/secrets.h"
#include "ctl/command_util.h"
#include "ctl/diff.h"

namespace locus::ctl {
namespace {

namespace v1 = api::v1;

std::string FileLabel(const Env& env) {
  return env.inv.file == "-" ? "<stdin>" : env.inv.file;
}

void PrintChanges(const Env& env, const v1::ApplyResponse& r) {
  for (const v1::ResourceChange& c : r.changes()) {
    env.out << "  " << ChangeText(c) << "\n";
  }
}

// The YAML of resource `name` of `kind` in `config`, or "" if absent.
std::string ResourceYaml(const v1::Config& config, v1::Kind kind,
                         const std::string& name) {
  const google::protobuf::Message* found = nullptr;
  auto find = [&](const auto& items) {
    for (const auto& item : items) {
      if (item.name() == name) found = &item;
    }
  };
  switch (kind) {
    case v1::LISTENER:
      find(config.listeners());
      break;
    case v1::ROUTE_TABLE:
      find(config.route_tables());
      break;
    case v1::POOL:
      find(config.pools());
      break;
    case v1::CERTIFICATE:
      find(config.certificates());
      break;
    default:
      break;
  }
  if (found == nullptr) return "";
  absl::StatusOr<std::string> yaml = api::ToYaml(*found);
  return yaml.ok() ? *yaml : std::string(yaml.status().message()) + "\n";
}

std::optional<v1::Kind> ApiKind(const std::string& word) {
  std::optional<Kind> kind = ParseKind(word);
  if (!kind.has_value()) return std::nullopt;
  switch (*kind) {
    case Kind::kListener:
      return v1::LISTENER;
    case Kind::kRouteTable:
      return v1::ROUTE_TABLE;
    case Kind::kPool:
      return v1::POOL;
    case Kind::kCertificate:
      return v1::CERTIFICATE;
    default:
      return std::nullopt;
  }
}

}  // namespace

int CmdApply(Env& env) {
  v1::ApplyRequest request;
  if (int code = ReadConfigFile(env, request.mutable_config()); code != 0) {
    return code;
  }
  request.set_merge(env.inv.merge);
  request.set_validate_only(env.inv.dry_run);
  if (env.inv.if_version.has_value())
    request.set_if_version(*env.inv.if_version);
  v1::ApplyResponse response;
  grpc::Status s = env.stub.Apply(NewContext(env).get(), request, &response);
  if (!s.ok()) return Fail(env, s);
  OutputFormat format = FormatOf(env, OutputFormat::kTable);
  if (format != OutputFormat::kTable)
    return PrintMessage(env, response, format);
  const char* prefix = env.inv.dry_run ? "dry run: " : "";
  if (!response.changed()) {
    env.out << prefix << "unchanged: the running config (version "
            << response.version() << ") already matches " << FileLabel(env)
            << "\n";
    return kExitOk;
  }
  env.out << prefix << (env.inv.dry_run ? "would apply" : "applied")
          << ": version " << response.version() - 1 << " -> "
          << response.version() << "\n";
  PrintChanges(env, response);
  for (const std::string& warning : response.warnings()) {
    env.err << "proxyctl: warning: " << warning << "\n";
  }
  if (!env.inv.dry_run && !response.applied()) {
    env.err << "proxyctl: warning: not every core served version "
            << response.version()
            << " when the daemon answered; `proxyctl status` shows each "
               "core's applied version\n";
  }
  return kExitOk;
}

int CmdDelete(Env& env) {
  std::optional<v1::Kind> kind = ApiKind(env.inv.args[0]);
  if (!kind.has_value()) {
    env.err << "proxyctl: cannot delete \"" << env.inv.args[0]
            << "\"; delete works on listener, route (table), pool and "
               "certificate. To remove an endpoint, apply its pool without "
               "it.\n";
    return kExitUsage;
  }
  v1::DeleteRequest request;
  request.set_kind(*kind);
  request.set_name(env.inv.args[1]);
  request.set_validate_only(env.inv.dry_run);
  if (env.inv.if_version.has_value())
    request.set_if_version(*env.inv.if_version);
  v1::DeleteResponse response;
  grpc::Status s = env.stub.Delete(NewContext(env).get(), request, &response);
  if (!s.ok()) return Fail(env, s);
  OutputFormat format = FormatOf(env, OutputFormat::kTable);
  if (format != OutputFormat::kTable)
    return PrintMessage(env, response, format);
  env.out << (env.inv.dry_run ? "dry run: would delete " : "deleted ")
          << ResourceLabel(*kind, env.inv.args[1]) << ": version "
          << response.version() - 1 << " -> " << response.version() << "\n";
  return kExitOk;
}

int CmdDiff(Env& env) {
  v1::ApplyRequest request;
  if (int code = ReadConfigFile(env, request.mutable_config()); code != 0) {
    return code;
  }
  v1::Config running;
  grpc::Status s = env.stub.GetConfig(NewContext(env).get(),
                                      v1::GetConfigRequest(), &running);
  if (!s.ok()) return Fail(env, s);
  // Pinned to the version just read, so the diff is against exactly it.
  request.set_validate_only(true);
  request.set_if_version(running.version());
  v1::ApplyResponse response;
  s = env.stub.Apply(NewContext(env).get(), request, &response);
  if (!s.ok()) return Fail(env, s);
  if (!response.changed()) return kExitOk;
  // The server sends both sides redacted; redacting here again (a no-op
  // then) keeps key text off the terminal even if it did not.
  api::RedactSecrets(&running);
  api::RedactSecrets(response.mutable_config());
  for (const v1::ResourceChange& c : response.changes()) {
    std::string label = ResourceLabel(c.kind(), c.name());
    env.out << UnifiedDiff(
        ResourceYaml(running, c.kind(), c.name()),
        ResourceYaml(response.config(), c.kind(), c.name()),
        absl::StrCat(label, " (running, version ", running.version(), ")"),
        absl::StrCat(label, " (", FileLabel(env), ")"));
  }
  return kExitNo;
}

int CmdValidate(Env& env) {
  v1::ApplyRequest request;
  if (int code = ReadConfigFile(env, request.mutable_config()); code != 0) {
    return code;
  }
  request.set_validate_only(true);
  v1::ApplyResponse response;
  grpc::Status s = env.stub.Apply(NewContext(env).get(), request, &response);
  if (!s.ok()) return Fail(env, s);
  OutputFormat format = FormatOf(env, OutputFormat::kTable);
  if (format != OutputFormat::kTable)
    return PrintMessage(env, response, format);
  if (response.changed()) {
    env.out << FileLabel(env) << " is valid; applying it would change version "
            << response.version() - 1 << " -> " << response.version() << " ("
            << response.changes_size() << " resource"
            << (response.changes_size() == 1 ? "" : "s") << ")\n";
  } else {
    env.out << FileLabel(env)
            << " is valid and matches the running config (version "
            << response.version() << ")\n";
  }
  return kExitOk;
}

int CmdDrain(Env& env) {
  v1::DrainRequest request;
  request.set_listener(env.inv.args[0]);
  if (env.inv.deadline.has_value()) {
    absl::Duration d = *env.inv.deadline;
    int64_t seconds = absl::IDivDuration(d, absl::Seconds(1), &d);
    request.mutable_deadline()->set_seconds(seconds);
    request.mutable_deadline()->set_nanos(
        static_cast<int32_t>(absl::ToInt64Nanoseconds(d)));
  }
  v1::DrainResponse response;
  grpc::Status s = env.stub.Drain(NewContext(env).get(), request, &response);
  if (!s.ok()) return Fail(env, s);
  OutputFormat format = FormatOf(env, OutputFormat::kTable);
  if (format != OutputFormat::kTable)
    return PrintMessage(env, response, format);
  env.out << "listener/" << env.inv.args[0]
          << " is draining: it accepts no new connections, and those still "
             "open at "
          << TimestampText(response.deadline()) << " will be closed\n";
  return kExitOk;
}

}  // namespace locus::ctl
