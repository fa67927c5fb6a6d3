// Secrets sent back redacted. Reads return keys as "redacted:sha256:<hex>"
// (api/secrets.h) so that a config read back can be edited and applied
// without its keys; this puts the stored keys back before validation, so
// what is validated, stored, persisted and published always holds real keys.
#ifndef LOCUS_PROXY_CONTROL_SECRETS_H_
#define LOCUS_PROXY_CONTROL_SECRETS_H_

#include "absl/status/status.h"
#include "locus/api/v1/config.pb.h"
#include "proxy/control/validate.h"

namespace locus::proxy::control {

// In `candidate`, replaces each redacted secret with the real one from
// `stored` that it stands for:
// - a shared certificate's private_key_pem: the key of the shared
//   certificate of the same name in `stored`;
// - an inline certificate's: the key of the inline certificate of the same
//   name on the listener of the same name;
// - a session ticket key: the stored ticket key with that digest.
// A redacted value whose digest does not match is INVALID_ARGUMENT, one
// line per value, "<path>: redacted key does not match ...; send the PEM",
// with paths from `paths`; `candidate` is then left unchanged.
absl::Status RestoreSecrets(api::v1::Config* candidate,
                            const ResourcePaths& paths,
                            const api::v1::Config& stored);

}  // namespace locus::proxy::control

#endif  // LOCUS_PROXY_CONTROL_SECRETS_H_
