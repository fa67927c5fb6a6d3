#include "ctl/command_util.h"

#include <chrono>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "api/codec.h"
#include "ctl/connection.h"

namespace locus::ctl {

namespace v1 = api::v1;

std::unique_ptr<grpc::ClientContext> NewContext(const Env& env) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        absl::ToChronoMilliseconds(env.inv.timeout));
  return context;
}

int Fail(const Env& env, const grpc::Status& status) {
  return ReportRpcError(status, env.inv, env.err);
}

OutputFormat FormatOf(const Env& env, OutputFormat default_format) {
  return env.inv.output.value_or(default_format);
}

int PrintMessage(const Env& env, const google::protobuf::Message& message,
                 OutputFormat format) {
  absl::StatusOr<std::string> text = format == OutputFormat::kYaml
                                         ? api::ToYaml(message)
                                         : api::ToJson(message);
  if (!text.ok()) {
    env.err << "proxyctl: " << text.status().message() << "\n";
    return kExitServerError;
  }
  env.out << *text;
  return kExitOk;
}

int ReadConfigFile(const Env& env, v1::Config* config) {
  const std::string& file = env.inv.file;
  std::string text;
  if (file == "-") {
    std::stringstream ss;
    ss << env.in.rdbuf();
    text = ss.str();
  } else {
    std::ifstream in(file);
    if (!in) {
      env.err << "proxyctl: cannot read " << file
              << ": no such file or no permission\n";
      return kExitUsage;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  absl::Status status =
      api::ParseText(text, file == "-" ? "<stdin>" : file, config);
  if (!status.ok()) {
    env.err << "proxyctl: " << status.message()
            << "\nThe file must be a locus.api.v1.Config in JSON or YAML, as "
               "printed by 'proxyctl get config -o yaml'.\n";
    return kExitUsage;
  }
  return kExitOk;
}

std::string TimestampText(const google::protobuf::Timestamp& t, bool set) {
  if (!set) return "-";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                          absl::FromUnixSeconds(t.seconds()),
                          absl::UTCTimeZone());
}

std::string ResourceLabel(v1::Kind kind, const std::string& name) {
  switch (kind) {
    case v1::LISTENER:
      return absl::StrCat("listener/", name);
    case v1::ROUTE_TABLE:
      return absl::StrCat("route_table/", name);
    case v1::POOL:
      return absl::StrCat("pool/", name);
    case v1::CERTIFICATE:
      return absl::StrCat("certificate/", name);
    case v1::SESSION_TICKETS:
      return name;
    default:
      return name;
  }
}

std::string ChangeText(const v1::ResourceChange& change) {
  const char* op = "changed";
  switch (change.op()) {
    case v1::ResourceChange::CREATED:
      op = "created";
      break;
    case v1::ResourceChange::UPDATED:
      op = "updated";
      break;
    case v1::ResourceChange::DELETED:
      op = "deleted";
      break;
    default:
      break;
  }
  return absl::StrCat(ResourceLabel(change.kind(), change.name()), " ", op);
}

int RunCommand(Env& env) {
  const std::string& verb = env.inv.verb;
  if (verb == "get") return CmdGet(env);
  if (verb == "describe") return CmdDescribe(env);
  if (verb == "apply") return CmdApply(env);
  if (verb == "delete") return CmdDelete(env);
  if (verb == "diff") return CmdDiff(env);
  if (verb == "validate") return CmdValidate(env);
  if (verb == "status") return CmdStatus(env);
  if (verb == "stats") return CmdStats(env);
  if (verb == "drain") return CmdDrain(env);
  if (verb == "watch") return CmdWatch(env);
  env.err << "proxyctl: unknown command " << verb << "\n";
  return kExitUsage;
}

}  // namespace locus::ctl
