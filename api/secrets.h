// Secrets in API messages (certificate private keys, session ticket keys)
// are write-only: every read returns "redacted:sha256:<hex>" instead, where
// <hex> is the lowercase SHA-256 of the secret's text. The server and
// proxyctl share this file so that both compute the same digest: the server
// to redact its reads and to recognise a redacted value sent back, proxyctl
// to redact a local file before showing a diff against the server's.
#ifndef LOCUS_API_SECRETS_H_
#define LOCUS_API_SECRETS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "locus/api/v1/config.pb.h"

namespace locus::api {

inline constexpr char kRedactedPrefix[] = "redacted:sha256:";

// "redacted:sha256:" + lowercase hex SHA-256 of `secret`.
std::string RedactedForm(absl::string_view secret);

// True for text of the form RedactedForm returns (prefix and 64 lowercase
// hex digits).
bool IsRedacted(absl::string_view value);

// Replaces each non-empty secret with its redacted form. Values already
// redacted stay as they are, so redacting twice changes nothing.
void RedactSecrets(v1::Certificate* certificate);
void RedactSecrets(v1::Listener* listener);
void RedactSecrets(v1::SessionTickets* tickets);
void RedactSecrets(v1::Config* config);

}  // namespace locus::api

#endif  // LOCUS_API_SECRETS_H_
