// proxyctl: the command-line client of the Locus control plane.
#include <iostream>
#include <string>
#include <vector>

#include "ctl/cli.h"
#include "ctl/commands.h"
#include "ctl/connection.h"

int main(int argc, char** argv) {
  namespace ctl = locus::ctl;
  std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<ctl::Invocation> inv = ctl::ParseCommandLine(args);
  if (!inv.ok()) {
    std::cerr << "proxyctl: " << inv.status().message() << "\n";
    return ctl::kExitUsage;
  }
  if (inv->help) {
    std::cout << ctl::Usage();
    return ctl::kExitOk;
  }
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = ctl::Connect(*inv);
  if (!channel.ok()) {
    std::cerr << "proxyctl: " << channel.status().message() << "\n";
    return ctl::kExitUsage;
  }
  std::unique_ptr<locus::api::v1::ControlPlane::Stub> stub =
      locus::api::v1::ControlPlane::NewStub(*channel);
  ctl::Env env{*inv, *stub, std::cout, std::cerr, std::cin};
  int code = ctl::RunCommand(env);
  std::cout.flush();
  return code;
}
