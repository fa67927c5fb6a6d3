// The control plane's effective config (api/locus/api/v1/config.proto, with
// defaults already filled in by proxy/control) turned into the data
// plane's plain structs.
#ifndef LOCUS_PROXY_DATAPLANE_FROM_PROTO_H_
#define LOCUS_PROXY_DATAPLANE_FROM_PROTO_H_

#include "absl/status/statusor.h"
#include "locus/api/v1/config.pb.h"
#include "proxy/dataplane/config.h"

namespace locus::proxy::dataplane {

absl::StatusOr<DataPlaneConfig> FromProto(const api::v1::Config& config);

}  // namespace locus::proxy::dataplane

#endif  // LOCUS_PROXY_DATAPLANE_FROM_PROTO_H_
