#include "api/secrets.h"

#include <openssl/sha.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace locus::api {
namespace {

constexpr size_t kHexDigits = 2 * SHA256_DIGEST_LENGTH;

void RedactInPlace(std::string* secret) {
  if (secret->empty() || IsRedacted(*secret)) return;
  *secret = RedactedForm(*secret);
}

}  // namespace

std::string RedactedForm(absl::string_view secret) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
         md);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = kRedactedPrefix;
  for (unsigned char b : md) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

bool IsRedacted(absl::string_view value) {
  if (!absl::ConsumePrefix(&value, kRedactedPrefix)) return false;
  if (value.size() != kHexDigits) return false;
  for (char c : value) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c)) &&
        !(c >= 'a' && c <= 'f')) {
      return false;
    }
  }
  return true;
}

void RedactSecrets(v1::Certificate* certificate) {
  RedactInPlace(certificate->mutable_private_key_pem());
}

void RedactSecrets(v1::Listener* listener) {
  if (!listener->has_tls()) return;
  for (v1::Certificate& c : *listener->mutable_tls()->mutable_certificates()) {
    RedactSecrets(&c);
  }
}

void RedactSecrets(v1::SessionTickets* tickets) {
  for (std::string& key : *tickets->mutable_keys()) RedactInPlace(&key);
}

void RedactSecrets(v1::Config* config) {
  for (v1::Listener& l : *config->mutable_listeners()) RedactSecrets(&l);
  for (v1::Certificate& c : *config->mutable_certificates()) RedactSecrets(&c);
  if (config->has_session_tickets()) {
    RedactSecrets(config->mutable_session_tickets());
  }
}

}  // namespace locus::api
