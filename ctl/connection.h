// proxyctl's connection to the control plane and how gRPC errors become
// messages and exit codes.
#ifndef LOCUS_CTL_CONNECTION_H_
#define LOCUS_CTL_CONNECTION_H_

#include <memory>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "ctl/cli.h"
#include "grpcpp/channel.h"
#include "grpcpp/support/status.h"

namespace locus::ctl {

// --server, else $LOCUS_SERVER, else the default address.
std::string ServerAddress(const Invocation& inv);

// A channel to ServerAddress(inv): TLS when --ca or --cert is given
// (reading the PEM files now), plaintext otherwise. Errors are usage errors.
absl::StatusOr<std::shared_ptr<grpc::Channel>> Connect(const Invocation& inv);

// Writes what went wrong and what to do to `err`; returns the exit code.
int ReportRpcError(const grpc::Status& status, const Invocation& inv,
                   std::ostream& err);

}  // namespace locus::ctl

#endif  // LOCUS_CTL_CONNECTION_H_
