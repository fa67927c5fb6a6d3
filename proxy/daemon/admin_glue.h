// The admin endpoint's content: Prometheus metrics, stats and config as
// JSON, and readiness, read from what the shards publish. Runs on the admin
// server's thread; touches shard state only through counters.
#ifndef LOCUS_PROXY_DAEMON_ADMIN_GLUE_H_
#define LOCUS_PROXY_DAEMON_ADMIN_GLUE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proxy/admin/admin_server.h"
#include "proxy/admin/prometheus.h"
#include "proxy/control/control_plane.h"
#include "proxy/dataplane/data_plane.h"
#include "proxy/dataplane/mailbox.h"
#include "stack/engine/engine.h"

namespace locus::proxyd {

class AdminGlue {
 public:
  static absl::StatusOr<std::unique_ptr<AdminGlue>> Start(
      const std::string& address, bool allow_non_loopback, engine::Engine& engine,
      proxy::dataplane::ProxyDataPlane& data_plane,
      std::vector<proxy::dataplane::ShardTables*> tables, proxy::control::ControlPlane* cp);
  void Stop();
  uint16_t port() const { return server_->port(); }

  // Exposed for tests of the exposition.
  void WriteMetrics(proxy::admin::PrometheusWriter& w);
  std::string StatsJson();
  absl::Status Ready();

 private:
  AdminGlue(engine::Engine& engine, proxy::dataplane::ProxyDataPlane& data_plane,
            std::vector<proxy::dataplane::ShardTables*> tables, proxy::control::ControlPlane* cp)
      : engine_(engine), data_plane_(data_plane), tables_(std::move(tables)), cp_(cp) {}

  engine::Engine& engine_;
  proxy::dataplane::ProxyDataPlane& data_plane_;
  std::vector<proxy::dataplane::ShardTables*> tables_;
  proxy::control::ControlPlane* cp_;
  std::unique_ptr<proxy::admin::AdminServer> server_;
};

}  // namespace locus::proxyd

#endif  // LOCUS_PROXY_DAEMON_ADMIN_GLUE_H_
