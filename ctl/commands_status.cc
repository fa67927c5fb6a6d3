// status, stats and watch.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ctl/command_util.h"
#include "ctl/table.h"

namespace locus::ctl {

namespace v1 = api::v1;

int CmdStatus(Env& env) {
  v1::StatusResponse status;
  grpc::Status s =
      env.stub.Status(NewContext(env).get(), v1::StatusRequest(), &status);
  if (!s.ok()) return Fail(env, s);
  OutputFormat format = FormatOf(env, OutputFormat::kTable);
  if (format != OutputFormat::kTable) return PrintMessage(env, status, format);

  int at_latest = 0;
  for (const v1::CoreStatus& c : status.cores()) {
    if (c.applied_version() == status.config_version()) ++at_latest;
  }
  std::ostream& out = env.out;
  out << "Config version: " << status.config_version();
  if (status.has_config_changed()) {
    out << " (since " << TimestampText(status.config_changed()) << ")";
  }
  out << "\nConverged:      " << (status.converged() ? "yes" : "no") << " ("
      << at_latest << "/" << status.cores_size() << " cores at version "
      << status.config_version() << ")\n\n";
  if (status.cores().empty()) {
    out << "No cores reported by the data plane.\n";
  } else {
    Table cores({"CORE", "APPLIED", "CACHE-HITS", "CACHE-MISSES", "CACHE-STALE",
                 "REDIRECTS-IN", "REDIRECTS-OUT", "CONNECTIONS"});
    for (const v1::CoreStatus& c : status.cores()) {
      std::string applied = absl::StrCat(c.applied_version());
      if (c.applied_version() != status.config_version()) {
        absl::StrAppend(&applied, " (behind)");
      }
      cores.AddRow(
          {absl::StrCat(c.core()), applied, absl::StrCat(c.route_cache_hits()),
           absl::StrCat(c.route_cache_misses()),
           absl::StrCat(c.route_cache_stale()), absl::StrCat(c.redirects_in()),
           absl::StrCat(c.redirects_out()),
           absl::StrCat(c.active_connections())});
    }
    out << cores.Render();
  }
  out << "\n";
  if (status.listeners().empty()) {
    out << "No listeners.\n";
    return kExitOk;
  }
  Table listeners(
      {"LISTENER", "STATE", "CONNECTIONS", "DRAIN-DEADLINE", "MESSAGE"});
  for (const v1::ListenerStatus& l : status.listeners()) {
    listeners.AddRow({l.name(), v1::ListenerStatus::State_Name(l.state()),
                      absl::StrCat(l.active_connections()),
                      TimestampText(l.drain_deadline(), l.has_drain_deadline()),
                      l.message()});
  }
  out << listeners.Render();
  return kExitOk;
}

int CmdStats(Env& env) {
  v1::StatsResponse stats;
  grpc::Status s =
      env.stub.Stats(NewContext(env).get(), v1::StatsRequest(), &stats);
  if (!s.ok()) return Fail(env, s);
  OutputFormat format = FormatOf(env, OutputFormat::kTable);
  if (format != OutputFormat::kTable) return PrintMessage(env, stats, format);

  std::ostream& out = env.out;
  out << "Config version: " << stats.config_version() << "\n\n";
  if (stats.cores().empty()) {
    out << "No cores reported by the data plane.\n";
  } else {
    Table cores({"CORE", "ACCEPTED", "REJECTED", "CONNECTIONS", "REQUESTS",
                 "2XX", "3XX", "4XX", "5XX", "BYTES-IN", "BYTES-OUT",
                 "CONNECT-FAILURES", "RETRIES"});
    for (const v1::CoreStats& c : stats.cores()) {
      cores.AddRow(
          {absl::StrCat(c.core()), absl::StrCat(c.connections_accepted()),
           absl::StrCat(c.connections_rejected()),
           absl::StrCat(c.active_connections()), absl::StrCat(c.requests()),
           absl::StrCat(c.responses_2xx()), absl::StrCat(c.responses_3xx()),
           absl::StrCat(c.responses_4xx()), absl::StrCat(c.responses_5xx()),
           absl::StrCat(c.bytes_received()), absl::StrCat(c.bytes_sent()),
           absl::StrCat(c.upstream_connect_failures()),
           absl::StrCat(c.retries())});
    }
    out << cores.Render();
  }
  out << "\n";
  if (stats.endpoints().empty()) {
    out << "No endpoints.\n";
    return kExitOk;
  }
  Table endpoints({"POOL", "ADDRESS", "PORT", "WEIGHT", "HEALTH", "CONNECTIONS",
                   "REQUESTS", "CONNECT-FAILURES", "5XX", "EJECTIONS"});
  for (const v1::EndpointStats& e : stats.endpoints()) {
    endpoints.AddRow(
        {e.pool(), e.address(), absl::StrCat(e.port()),
         absl::StrCat(e.weight()), v1::EndpointStats::Health_Name(e.health()),
         absl::StrCat(e.active_connections()), absl::StrCat(e.requests()),
         absl::StrCat(e.connect_failures()), absl::StrCat(e.responses_5xx()),
         absl::StrCat(e.ejections())});
  }
  out << endpoints.Render();
  return kExitOk;
}

int CmdWatch(Env& env) {
  // No deadline: a watch runs until --count changes arrived or it is
  // interrupted.
  grpc::ClientContext context;
  v1::WatchRequest request;
  request.set_include_config(env.inv.include_config);
  std::unique_ptr<grpc::ClientReaderInterface<v1::WatchEvent>> reader =
      env.stub.Watch(&context, request);
  OutputFormat format = FormatOf(env, OutputFormat::kTable);
  int changes = 0;
  v1::WatchEvent event;
  while (reader->Read(&event)) {
    if (format == OutputFormat::kTable) {
      if (event.initial()) {
        env.out << "watching: the config is at version " << event.version()
                << "\n";
      } else {
        std::vector<std::string> parts;
        for (const v1::ResourceChange& c : event.changes()) {
          parts.push_back(ChangeText(c));
        }
        env.out << "version " << event.version() << ": "
                << absl::StrJoin(parts, ", ") << "\n";
      }
    } else {
      if (format == OutputFormat::kYaml) env.out << "---\n";
      if (int code = PrintMessage(env, event, format); code != kExitOk) {
        context.TryCancel();
        return code;
      }
    }
    env.out.flush();
    if (!event.initial() && env.inv.count.has_value() &&
        ++changes >= *env.inv.count) {
      context.TryCancel();
      while (reader->Read(&event)) {
      }
      reader->Finish();
      return kExitOk;
    }
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return Fail(env, status);
  return kExitOk;
}

}  // namespace locus::ctl
