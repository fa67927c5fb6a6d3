// What the certificates of a config say (GetCertificate, ListCertificates):
// each leaf read with OpenSSL at the time of the call. Never keys.
#ifndef LOCUS_PROXY_CONTROL_CERTIFICATES_H_
#define LOCUS_PROXY_CONTROL_CERTIFICATES_H_

#include <string>

#include "absl/time/time.h"
#include "locus/api/v1/control_plane.pb.h"

namespace locus::proxy::control {

// One CertificateInfo per certificate: shared ones by name, then inline ones
// by listener and name (the order of a sorted config). days_left counts from
// `now`. A chain that does not parse (a stored config always parses) gives
// an entry with only its name, listener and users.
api::v1::ListCertificatesResponse ListCertificates(
    const api::v1::Config& config, absl::Time now);

// Whole days from `now` until `not_after`, rounded down (negative once
// expired: one second past expiry is -1).
int64_t DaysLeft(absl::Time not_after, absl::Time now);

}  // namespace locus::proxy::control

#endif  // LOCUS_PROXY_CONTROL_CERTIFICATES_H_
