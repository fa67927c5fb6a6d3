// Helpers shared by the command implementations.
#ifndef LOCUS_CTL_COMMAND_UTIL_H_
#define LOCUS_CTL_COMMAND_UTIL_H_

#include <memory>
#include <string>

#include "ctl/commands.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "grpcpp/client_context.h"

namespace locus::ctl {

// A context with the --timeout deadline.
std::unique_ptr<grpc::ClientContext> NewContext(const Env& env);

// Reports a failed call; returns its exit code.
int Fail(const Env& env, const grpc::Status& status);

OutputFormat FormatOf(const Env& env, OutputFormat default_format);

// Prints `message` as JSON or YAML; returns an exit code.
int PrintMessage(const Env& env, const google::protobuf::Message& message,
                 OutputFormat format);

// Reads -f (a file, or standard input for "-") into a Config. On error
// writes it and returns kExitUsage; kExitOk otherwise.
int ReadConfigFile(const Env& env, api::v1::Config* config);

// RFC 3339 in UTC, to the second: "2023-11-14T22:13:20Z"; "-" when unset.
std::string TimestampText(const google::protobuf::Timestamp& t,
                          bool set = true);

// "listener/web", "route_table/main", "pool/api", "certificate/www".
std::string ResourceLabel(api::v1::Kind kind, const std::string& name);
std::string ChangeText(const api::v1::ResourceChange& change);

// The command implementations, by verb.
int CmdGet(Env& env);
int CmdDescribe(Env& env);
int CmdApply(Env& env);
int CmdDelete(Env& env);
int CmdDiff(Env& env);
int CmdValidate(Env& env);
int CmdStatus(Env& env);
int CmdStats(Env& env);
int CmdDrain(Env& env);
int CmdWatch(Env& env);

}  // namespace locus::ctl

#endif  // LOCUS_CTL_COMMAND_UTIL_H_
