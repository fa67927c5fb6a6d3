// What the admin endpoints serve: callbacks the daemon provides.
//
// Every callback runs on the admin server's own thread, never on a data-path
// thread, one at a time, while a request waits for it. So a callback must
// read shard state only through what is safe from another thread (atomic
// counters, published snapshots), and should be quick: the admin server
// serves nothing else meanwhile.
#ifndef LOCUS_PROXY_ADMIN_HANDLERS_H_
#define LOCUS_PROXY_ADMIN_HANDLERS_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "proxy/admin/prometheus.h"

namespace locus::proxy::admin {

struct AdminHandlers {
  // /metrics: add families to the writer. The server adds its own
  // (locus_admin_*) after these.
  std::function<void(PrometheusWriter&)> metrics;
  // /stats: a JSON document.
  std::function<std::string()> stats_json;
  // /config: the effective configuration as JSON.
  std::function<std::string()> config_json;
  // /ready: OK when the proxy should receive traffic; otherwise the reason
  // (status message) is sent with 503.
  std::function<absl::Status()> ready;
};

}  // namespace locus::proxy::admin

#endif  // LOCUS_PROXY_ADMIN_HANDLERS_H_
