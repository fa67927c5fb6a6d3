#include "proxy/control/certificates.h"

#include <algorithm>
#include <map>
#include <vector>

#include "proxy/tls/cert_util.h"

namespace locus::proxy::control {
namespace {

namespace v1 = api::v1;

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* ts) {
  ts->set_seconds(absl::ToUnixSeconds(t));
}

void Describe(const v1::Certificate& c, absl::Time now,
              v1::CertificateInfo* out) {
  out->set_name(c.name());
  absl::StatusOr<std::vector<tls::X509Ptr>> chain =
      tls::ParseCertificateChain(c.cert_chain_pem());
  if (!chain.ok() || chain->empty()) return;
  tls::CertificateInfo info = tls::DescribeChain(*chain);
  out->set_subject(info.subject);
  out->set_issuer(info.issuer);
  for (const std::string& n : info.dns_names) out->add_dns_names(n);
  for (const std::string& ip : info.ip_addresses) out->add_dns_names(ip);
  if (info.not_before != absl::InfinitePast()) {
    SetTimestamp(info.not_before, out->mutable_not_before());
  }
  if (info.not_after != absl::InfinitePast()) {
    SetTimestamp(info.not_after, out->mutable_not_after());
    out->set_days_left(DaysLeft(info.not_after, now));
  }
  out->set_key_type(info.key_type);
  out->set_sha256_fingerprint(info.sha256_fingerprint);
  out->set_chain_length(static_cast<uint32_t>(info.chain_length));
}

}  // namespace

int64_t DaysLeft(absl::Time not_after, absl::Time now) {
  // This Abseil's IDivDuration writes the remainder unconditionally.
  absl::Duration remainder;
  return absl::IDivDuration(absl::Floor(not_after - now, absl::Hours(24)),
                            absl::Hours(24), &remainder);
}

v1::ListCertificatesResponse ListCertificates(const v1::Config& config,
                                              absl::Time now) {
  v1::ListCertificatesResponse response;
  response.set_version(config.version());
  std::map<std::string, std::vector<std::string>> users;
  for (const v1::Listener& l : config.listeners()) {
    for (const std::string& ref : l.tls().certificate_refs()) {
      users[ref].push_back(l.name());
    }
  }
  std::vector<const v1::Certificate*> shared;
  for (const v1::Certificate& c : config.certificates()) shared.push_back(&c);
  std::stable_sort(shared.begin(), shared.end(),
                   [](const v1::Certificate* a, const v1::Certificate* b) {
                     return a->name() < b->name();
                   });
  for (const v1::Certificate* c : shared) {
    v1::CertificateInfo* info = response.add_certificates();
    Describe(*c, now, info);
    std::vector<std::string>& by = users[c->name()];
    std::sort(by.begin(), by.end());
    by.erase(std::unique(by.begin(), by.end()), by.end());
    for (const std::string& l : by) info->add_listeners(l);
  }
  std::vector<const v1::Listener*> listeners;
  for (const v1::Listener& l : config.listeners()) listeners.push_back(&l);
  std::stable_sort(listeners.begin(), listeners.end(),
                   [](const v1::Listener* a, const v1::Listener* b) {
                     return a->name() < b->name();
                   });
  for (const v1::Listener* l : listeners) {
    std::vector<const v1::Certificate*> inline_certs;
    for (const v1::Certificate& c : l->tls().certificates()) {
      inline_certs.push_back(&c);
    }
    std::stable_sort(inline_certs.begin(), inline_certs.end(),
                     [](const v1::Certificate* a, const v1::Certificate* b) {
                       return a->name() < b->name();
                     });
    for (const v1::Certificate* c : inline_certs) {
      v1::CertificateInfo* info = response.add_certificates();
      Describe(*c, now, info);
      info->set_listener(l->name());
      info->add_listeners(l->name());
    }
  }
  return response;
}

}  // namespace locus::proxy::control
