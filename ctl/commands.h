// proxyctl's commands. Each talks to the control plane only through the
// locus.api.v1 stub, writes results to `out` and problems to `err`, and
// returns an exit code (cli.h).
#ifndef LOCUS_CTL_COMMANDS_H_
#define LOCUS_CTL_COMMANDS_H_

#include <istream>
#include <ostream>

#include "ctl/cli.h"
#include "locus/api/v1/control_plane.grpc.pb.h"

namespace locus::ctl {

struct Env {
  const Invocation& inv;
  api::v1::ControlPlane::StubInterface& stub;
  std::ostream& out;
  std::ostream& err;
  std::istream& in;  // for -f -
};

int RunCommand(Env& env);

}  // namespace locus::ctl

#endif  // LOCUS_CTL_COMMANDS_H_
