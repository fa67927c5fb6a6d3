#include "proxy/control/secrets.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/resources.h"
#include "api/secrets.h"

namespace locus::proxy::control {
namespace {

namespace v1 = api::v1;

// Restores c's key from `stored` (the certificate of the same name in the
// same place, or nullptr). Adds an error line for a mismatch.
void RestoreKey(v1::Certificate* c, const v1::Certificate* stored,
                const std::string& path, std::vector<std::string>* errors) {
  if (!api::IsRedacted(c->private_key_pem())) return;
  if (stored != nullptr && !stored->private_key_pem().empty() &&
      api::RedactedForm(stored->private_key_pem()) == c->private_key_pem()) {
    c->set_private_key_pem(stored->private_key_pem());
    return;
  }
  errors->push_back(absl::StrCat(
      path, ".private_key_pem: redacted key does not match the stored key of "
            "certificate \"",
      c->name(), "\"; send the PEM"));
}

}  // namespace

absl::Status RestoreSecrets(v1::Config* candidate, const ResourcePaths& paths,
                            const v1::Config& stored) {
  v1::Config restored = *candidate;
  std::vector<std::string> errors;
  for (int i = 0; i < restored.certificates_size(); ++i) {
    v1::Certificate* c = restored.mutable_certificates(i);
    std::string path = i < static_cast<int>(paths.certificates.size())
                           ? paths.certificates[i]
                           : absl::StrCat("certificates[", i, "]");
    RestoreKey(c, api::FindByName(stored.certificates(), c->name()), path,
               &errors);
  }
  for (int i = 0; i < restored.listeners_size(); ++i) {
    v1::Listener* l = restored.mutable_listeners(i);
    if (!l->has_tls()) continue;
    const v1::Listener* stored_listener =
        api::FindByName(stored.listeners(), l->name());
    std::string lp = i < static_cast<int>(paths.listeners.size())
                         ? paths.listeners[i]
                         : absl::StrCat("listeners[", i, "]");
    for (int j = 0; j < l->tls().certificates_size(); ++j) {
      v1::Certificate* c = l->mutable_tls()->mutable_certificates(j);
      const v1::Certificate* stored_cert =
          stored_listener == nullptr
              ? nullptr
              : api::FindByName(stored_listener->tls().certificates(),
                                c->name());
      RestoreKey(c, stored_cert,
                 absl::StrCat(lp, ".tls.certificates[", j, "]"), &errors);
    }
  }
  if (restored.has_session_tickets()) {
    v1::SessionTickets* t = restored.mutable_session_tickets();
    for (int i = 0; i < t->keys_size(); ++i) {
      if (!api::IsRedacted(t->keys(i))) continue;
      bool found = false;
      for (const std::string& key : stored.session_tickets().keys()) {
        if (api::RedactedForm(key) == t->keys(i)) {
          t->set_keys(i, key);
          found = true;
          break;
        }
      }
      if (!found) {
        errors.push_back(absl::StrCat(
            "session_tickets.keys[", i,
            "]: redacted key does not match any stored ticket key; send the "
            "key"));
      }
    }
  }
  if (!errors.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  }
  *candidate = std::move(restored);
  return absl::OkStatus();
}

}  // namespace locus::proxy::control
