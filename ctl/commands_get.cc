// get and describe.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "api/codec.h"
#include "api/resources.h"
#include "ctl/command_util.h"
#include "ctl/table.h"

namespace locus::ctl {
namespace {

namespace v1 = api::v1;

int UnknownKind(const Env& env, const std::string& word) {
  env.err << "proxyctl: unknown kind \"" << word
          << "\"; use listeners, routes, pools, endpoints, certificates or "
             "config\n";
  return kExitUsage;
}

std::string PathText(const v1::RouteMatch& m) {
  switch (m.path_case()) {
    case v1::RouteMatch::kExact:
      return absl::StrCat("exact ", m.exact());
    case v1::RouteMatch::kPrefix:
      return absl::StrCat("prefix ", m.prefix());
    case v1::RouteMatch::kRegex:
      return absl::StrCat("regex ", m.regex());
    default:
      return "*";
  }
}

std::string PoolsText(const v1::RouteAction& a) {
  std::vector<std::string> parts;
  for (const v1::WeightedPool& wp : a.weighted_pools()) {
    parts.push_back(a.weighted_pools_size() == 1
                        ? wp.pool()
                        : absl::StrCat(wp.pool(), ":", wp.weight()));
  }
  return absl::StrJoin(parts, ",");
}

std::string TargetText(const v1::Listener& l) {
  return l.protocol() == v1::Listener::TCP
             ? absl::StrCat("pool/", l.pool())
             : absl::StrCat("route_table/", l.route_table());
}

std::string CheckText(const v1::BackendPool& p) {
  if (!p.has_health_check()) return "none";
  const v1::HealthCheck& hc = p.health_check();
  std::string kind =
      hc.has_http() ? absl::StrCat("http ", hc.http().path()) : "tcp";
  return absl::StrCat(kind, " every ", api::FormatDuration(hc.interval()));
}

// Indents every line of `text` by two spaces.
std::string Indent(const std::string& text) {
  std::string out = "  " + absl::StrReplaceAll(text, {{"\n", "\n  "}});
  if (out.size() >= 2 && out.substr(out.size() - 2) == "  ") {
    out.resize(out.size() - 2);
  }
  return out;
}

std::string YamlOf(const google::protobuf::Message& m) {
  absl::StatusOr<std::string> yaml = api::ToYaml(m);
  return yaml.ok() ? *yaml : std::string(yaml.status().message()) + "\n";
}

// Live state of listeners, by name.
bool ListenerStates(Env& env, std::map<std::string, v1::ListenerStatus>* out,
                    int* code) {
  v1::StatusResponse status;
  grpc::Status s =
      env.stub.Status(NewContext(env).get(), v1::StatusRequest(), &status);
  if (!s.ok()) {
    *code = Fail(env, s);
    return false;
  }
  for (const v1::ListenerStatus& ls : status.listeners())
    (*out)[ls.name()] = ls;
  return true;
}

bool GetStats(Env& env, v1::StatsResponse* stats, int* code) {
  grpc::Status s =
      env.stub.Stats(NewContext(env).get(), v1::StatsRequest(), stats);
  if (!s.ok()) {
    *code = Fail(env, s);
    return false;
  }
  return true;
}

std::string StateName(const std::map<std::string, v1::ListenerStatus>& states,
                      const std::string& name) {
  auto it = states.find(name);
  if (it == states.end()) return "UNKNOWN";
  return v1::ListenerStatus::State_Name(it->second.state());
}

uint64_t ListenerConnections(
    const std::map<std::string, v1::ListenerStatus>& states,
    const std::string& name) {
  auto it = states.find(name);
  return it == states.end() ? 0 : it->second.active_connections();
}

void EndpointRows(const v1::StatsResponse& stats, const std::string& pool,
                  Table* table) {
  for (const v1::EndpointStats& e : stats.endpoints()) {
    if (!pool.empty() && e.pool() != pool) continue;
    table->AddRow(
        {e.pool(), e.address(), absl::StrCat(e.port()),
         absl::StrCat(e.weight()), v1::EndpointStats::Health_Name(e.health()),
         absl::StrCat(e.active_connections()), absl::StrCat(e.requests()),
         absl::StrCat(e.connect_failures()), absl::StrCat(e.responses_5xx())});
  }
}

Table EndpointTable() {
  return Table({"POOL", "ADDRESS", "PORT", "WEIGHT", "HEALTH", "CONNECTIONS",
                "REQUESTS", "CONNECT-FAILURES", "5XX"});
}

// How `get KIND [NAME]` reads one kind: the Get and List RPCs, and how
// their answers are printed. GetOneOrList is the one flow they all follow.
template <typename GetResponse, typename ListResponse>
struct GetSpec {
  using Stub = v1::ControlPlane::StubInterface;
  // "listeners", for "No listeners at config version N."
  const char* plural;
  grpc::Status (Stub::*get)(grpc::ClientContext*, const v1::GetRequest&,
                            GetResponse*);
  grpc::Status (Stub::*list)(grpc::ClientContext*, const v1::ListRequest&,
                             ListResponse*);
  // The resource of a Get, as -o json|yaml prints it.
  std::function<const google::protobuf::Message&(const GetResponse&)> one;
  // Prints a List's answer as -o json|yaml; returns the exit code.
  std::function<int(Env&, const ListResponse&, OutputFormat)> print_list;
  // The answer to Get as the one-item answer List would give, for the table.
  // May call the server (certificates: the table wants what ListCertificates
  // reads from the PEM); returns false after reporting a failure in *code.
  std::function<bool(Env&, const GetResponse&, ListResponse*, int* code)>
      one_as_list;
  std::function<int(const ListResponse&)> count;
  // Prints the table of a non-empty answer; returns the exit code.
  std::function<int(Env&, const ListResponse&)> print_table;
};

template <typename GetResponse, typename ListResponse>
int GetOneOrList(Env& env, const GetSpec<GetResponse, ListResponse>& spec) {
  OutputFormat format = FormatOf(env, OutputFormat::kTable);
  ListResponse items;
  if (env.inv.args.size() == 2) {
    v1::GetRequest request;
    request.set_name(env.inv.args[1]);
    GetResponse response;
    grpc::Status s =
        (env.stub.*spec.get)(NewContext(env).get(), request, &response);
    if (!s.ok()) return Fail(env, s);
    if (format != OutputFormat::kTable) {
      return PrintMessage(env, spec.one(response), format);
    }
    int code = kExitOk;
    if (!spec.one_as_list(env, response, &items, &code)) return code;
  } else {
    grpc::Status s =
        (env.stub.*spec.list)(NewContext(env).get(), v1::ListRequest(), &items);
    if (!s.ok()) return Fail(env, s);
    if (format != OutputFormat::kTable) {
      return spec.print_list(env, items, format);
    }
  }
  if (spec.count(items) == 0) {
    env.err << "No " << spec.plural << " at config version " << items.version()
            << ".\n";
    return kExitOk;
  }
  return spec.print_table(env, items);
}

// A List's resources printed as the config file they would be part of, so
// that the output applies back.
template <typename ListResponse, typename Items>
int PrintAsConfig(Env& env, const ListResponse& list, OutputFormat format,
                  const Items& items, Items* (v1::Config::*mutable_items)()) {
  v1::Config config;
  *(config.*mutable_items)() = items;
  config.set_version(list.version());
  return PrintMessage(env, config, format);
}

int PrintListenerTable(Env& env, const v1::ListListenersResponse& list) {
  std::map<std::string, v1::ListenerStatus> states;
  int code = kExitOk;
  if (!ListenerStates(env, &states, &code)) return code;
  Table table({"NAME", "ADDRESS", "PORT", "PROTOCOL", "TARGET", "STATE",
               "CONNECTIONS"});
  for (const v1::Listener& l : list.listeners()) {
    table.AddRow({l.name(), l.address(), absl::StrCat(l.port()),
                  v1::Listener::Protocol_Name(l.protocol()), TargetText(l),
                  StateName(states, l.name()),
                  absl::StrCat(ListenerConnections(states, l.name()))});
  }
  env.out << table.Render();
  return kExitOk;
}

int GetListeners(Env& env) {
  using List = v1::ListListenersResponse;
  GetSpec<v1::GetListenerResponse, List> spec{
      "listeners",
      &v1::ControlPlane::StubInterface::GetListener,
      &v1::ControlPlane::StubInterface::ListListeners,
      [](const v1::GetListenerResponse& r) -> const google::protobuf::Message& {
        return r.listener();
      },
      [](Env& env, const List& list, OutputFormat format) {
        return PrintAsConfig(env, list, format, list.listeners(),
                             &v1::Config::mutable_listeners);
      },
      [](Env&, const v1::GetListenerResponse& r, List* list, int*) {
        *list->add_listeners() = r.listener();
        list->set_version(r.version());
        return true;
      },
      [](const List& list) { return list.listeners_size(); },
      PrintListenerTable,
  };
  return GetOneOrList(env, spec);
}

int PrintRouteTable(Env& env, const v1::ListRouteTablesResponse& list) {
  Table table({"TABLE", "ROUTE", "HOST", "PATH", "METHODS", "HEADERS", "POOLS",
               "TIMEOUT"});
  for (const v1::RouteTable& t : list.route_tables()) {
    if (t.routes().empty()) table.AddRow({t.name(), "(no routes)"});
    for (const v1::Route& r : t.routes()) {
      const v1::RouteMatch& m = r.match();
      table.AddRow({t.name(), r.name(), m.host().empty() ? "*" : m.host(),
                    PathText(m),
                    m.methods().empty() ? "*" : absl::StrJoin(m.methods(), ","),
                    absl::StrCat(m.headers_size()), PoolsText(r.action()),
                    api::FormatDuration(r.action().timeout())});
    }
  }
  env.out << table.Render();
  return kExitOk;
}

int GetRoutes(Env& env) {
  using List = v1::ListRouteTablesResponse;
  GetSpec<v1::GetRouteTableResponse, List> spec{
      "route tables",
      &v1::ControlPlane::StubInterface::GetRouteTable,
      &v1::ControlPlane::StubInterface::ListRouteTables,
      [](const v1::GetRouteTableResponse& r)
          -> const google::protobuf::Message& { return r.route_table(); },
      [](Env& env, const List& list, OutputFormat format) {
        return PrintAsConfig(env, list, format, list.route_tables(),
                             &v1::Config::mutable_route_tables);
      },
      [](Env&, const v1::GetRouteTableResponse& r, List* list, int*) {
        *list->add_route_tables() = r.route_table();
        list->set_version(r.version());
        return true;
      },
      [](const List& list) { return list.route_tables_size(); },
      PrintRouteTable,
  };
  return GetOneOrList(env, spec);
}

int PrintPoolTable(Env& env, const v1::ListPoolsResponse& list) {
  v1::StatsResponse stats;
  int code = kExitOk;
  if (!GetStats(env, &stats, &code)) return code;
  std::map<std::string, int> healthy;
  for (const v1::EndpointStats& e : stats.endpoints()) {
    if (e.health() == v1::EndpointStats::HEALTHY) ++healthy[e.pool()];
  }
  Table table({"NAME", "POLICY", "ENDPOINTS", "HEALTHY", "CHECK"});
  for (const v1::BackendPool& p : list.pools()) {
    table.AddRow({p.name(), v1::BackendPool::LbPolicy_Name(p.lb_policy()),
                  absl::StrCat(p.endpoints_size()),
                  absl::StrCat(healthy[p.name()], "/", p.endpoints_size()),
                  CheckText(p)});
  }
  env.out << table.Render();
  return kExitOk;
}

int GetPools(Env& env) {
  using List = v1::ListPoolsResponse;
  GetSpec<v1::GetPoolResponse, List> spec{
      "pools",
      &v1::ControlPlane::StubInterface::GetPool,
      &v1::ControlPlane::StubInterface::ListPools,
      [](const v1::GetPoolResponse& r) -> const google::protobuf::Message& {
        return r.pool();
      },
      [](Env& env, const List& list, OutputFormat format) {
        return PrintAsConfig(env, list, format, list.pools(),
                             &v1::Config::mutable_pools);
      },
      [](Env&, const v1::GetPoolResponse& r, List* list, int*) {
        *list->add_pools() = r.pool();
        list->set_version(r.version());
        return true;
      },
      [](const List& list) { return list.pools_size(); },
      PrintPoolTable,
  };
  return GetOneOrList(env, spec);
}

int PrintCertificateTable(Env& env, const v1::ListCertificatesResponse& list) {
  Table table({"NAME", "LISTENER", "NAMES", "NOT AFTER", "DAYS LEFT", "KEY",
               "USED BY"});
  for (const v1::CertificateInfo& c : list.certificates()) {
    table.AddRow(
        {c.name(), c.listener().empty() ? "(shared)" : c.listener(),
         c.dns_names().empty() ? "-" : absl::StrJoin(c.dns_names(), ","),
         TimestampText(c.not_after(), c.has_not_after()),
         c.has_not_after() ? absl::StrCat(c.days_left()) : "-",
         c.key_type().empty() ? "-" : c.key_type(),
         c.listeners().empty() ? "(nothing)"
                               : absl::StrJoin(c.listeners(), ",")});
  }
  env.out << table.Render();
  return kExitOk;
}

int GetCertificates(Env& env) {
  using List = v1::ListCertificatesResponse;
  GetSpec<v1::GetCertificateResponse, List> spec{
      "certificates",
      &v1::ControlPlane::StubInterface::GetCertificate,
      &v1::ControlPlane::StubInterface::ListCertificates,
      [](const v1::GetCertificateResponse& r)
          -> const google::protobuf::Message& { return r.certificate(); },
      [](Env& env, const List& list, OutputFormat format) {
        return PrintMessage(env, list, format);
      },
      // Get returns the resource (PEM); its row comes from what
      // ListCertificates read from that PEM.
      [](Env& env, const v1::GetCertificateResponse& r, List* list,
         int* code) {
        List all;
        grpc::Status s = env.stub.ListCertificates(NewContext(env).get(),
                                                   v1::ListRequest(), &all);
        if (!s.ok()) {
          *code = Fail(env, s);
          return false;
        }
        list->set_version(all.version());
        for (const v1::CertificateInfo& c : all.certificates()) {
          if (c.listener().empty() && c.name() == r.certificate().name()) {
            *list->add_certificates() = c;
          }
        }
        return true;
      },
      [](const List& list) { return list.certificates_size(); },
      PrintCertificateTable,
  };
  return GetOneOrList(env, spec);
}

int GetEndpoints(Env& env) {
  OutputFormat format = FormatOf(env, OutputFormat::kTable);
  v1::StatsResponse stats;
  int code = kExitOk;
  if (!GetStats(env, &stats, &code)) return code;
  std::string pool = env.inv.args.size() == 2 ? env.inv.args[1] : "";
  if (format != OutputFormat::kTable) {
    v1::StatsResponse endpoints;
    endpoints.set_config_version(stats.config_version());
    for (const v1::EndpointStats& e : stats.endpoints()) {
      if (pool.empty() || e.pool() == pool) *endpoints.add_endpoints() = e;
    }
    return PrintMessage(env, endpoints, format);
  }
  Table table = EndpointTable();
  EndpointRows(stats, pool, &table);
  if (table.empty()) {
    env.err << "No endpoints" << (pool.empty() ? "" : " in pool " + pool)
            << " at config version " << stats.config_version() << ".\n";
    return kExitOk;
  }
  env.out << table.Render();
  return kExitOk;
}

int GetConfig(Env& env) {
  v1::Config config;
  grpc::Status s = env.stub.GetConfig(NewContext(env).get(),
                                      v1::GetConfigRequest(), &config);
  if (!s.ok()) return Fail(env, s);
  OutputFormat format = FormatOf(env, OutputFormat::kYaml);
  // A whole config has no useful table form; YAML is the table.
  return PrintMessage(
      env, config,
      format == OutputFormat::kTable ? OutputFormat::kYaml : format);
}

int NotFound(const Env& env, const char* kind, const std::string& name,
             uint64_t version, const char* plural) {
  env.err << "proxyctl: " << kind << " \"" << name << "\" not found at version "
          << version << "; `proxyctl get " << plural << "` lists them\n";
  return kExitNo;
}

}  // namespace

int CmdGet(Env& env) {
  std::optional<Kind> kind = ParseKind(env.inv.args[0]);
  if (!kind.has_value()) return UnknownKind(env, env.inv.args[0]);
  switch (*kind) {
    case Kind::kListener:
      return GetListeners(env);
    case Kind::kRouteTable:
      return GetRoutes(env);
    case Kind::kPool:
      return GetPools(env);
    case Kind::kEndpoint:
      return GetEndpoints(env);
    case Kind::kConfig:
      return GetConfig(env);
    case Kind::kCertificate:
      return GetCertificates(env);
  }
  return kExitUsage;
}

int CmdDescribe(Env& env) {
  std::optional<Kind> kind = ParseKind(env.inv.args[0]);
  if (!kind.has_value()) return UnknownKind(env, env.inv.args[0]);
  const std::string& name = env.inv.args[1];
  v1::Config config;
  grpc::Status s = env.stub.GetConfig(NewContext(env).get(),
                                      v1::GetConfigRequest(), &config);
  if (!s.ok()) return Fail(env, s);
  std::ostream& out = env.out;
  int code = kExitOk;
  switch (*kind) {
    case Kind::kListener: {
      const v1::Listener* l = api::FindByName(config.listeners(), name);
      if (l == nullptr) {
        return NotFound(env, "listener", name, config.version(), "listeners");
      }
      std::map<std::string, v1::ListenerStatus> states;
      if (!ListenerStates(env, &states, &code)) return code;
      out << "Listener:       " << name << "\n"
          << "Config version: " << config.version() << "\n"
          << "State:          " << StateName(states, name) << "\n"
          << "Connections:    " << ListenerConnections(states, name) << "\n";
      auto it = states.find(name);
      if (it != states.end() && it->second.has_drain_deadline()) {
        out << "Drain deadline: " << TimestampText(it->second.drain_deadline())
            << "\n";
      }
      if (it != states.end() && !it->second.message().empty()) {
        out << "Message:        " << it->second.message() << "\n";
      }
      out << "Spec:\n" << Indent(YamlOf(*l));
      return kExitOk;
    }
    case Kind::kRouteTable: {
      const v1::RouteTable* t = api::FindByName(config.route_tables(), name);
      if (t == nullptr) {
        return NotFound(env, "route table", name, config.version(), "routes");
      }
      std::vector<std::string> users;
      for (const v1::Listener& l : config.listeners()) {
        if (l.protocol() == v1::Listener::HTTP && l.route_table() == name) {
          users.push_back("listener/" + l.name());
        }
      }
      out << "Route table:    " << name << "\n"
          << "Config version: " << config.version() << "\n"
          << "Routes:         " << t->routes_size() << "\n"
          << "Used by:        "
          << (users.empty() ? "(nothing)" : absl::StrJoin(users, ", ")) << "\n"
          << "Spec:\n"
          << Indent(YamlOf(*t));
      return kExitOk;
    }
    case Kind::kPool: {
      const v1::BackendPool* p = api::FindByName(config.pools(), name);
      if (p == nullptr) {
        return NotFound(env, "pool", name, config.version(), "pools");
      }
      std::vector<std::string> users;
      for (const v1::Listener& l : config.listeners()) {
        if (l.protocol() == v1::Listener::TCP && l.pool() == name) {
          users.push_back("listener/" + l.name());
        }
      }
      for (const v1::RouteTable& t : config.route_tables()) {
        for (const v1::Route& r : t.routes()) {
          for (const v1::WeightedPool& wp : r.action().weighted_pools()) {
            if (wp.pool() == name) {
              users.push_back(
                  absl::StrCat("route_table/", t.name(), " route ", r.name()));
              break;
            }
          }
        }
      }
      v1::StatsResponse stats;
      if (!GetStats(env, &stats, &code)) return code;
      Table endpoints = EndpointTable();
      EndpointRows(stats, name, &endpoints);
      out << "Pool:           " << name << "\n"
          << "Config version: " << config.version() << "\n"
          << "Used by:        "
          << (users.empty() ? "(nothing)" : absl::StrJoin(users, ", ")) << "\n"
          << "Endpoints:\n"
          << (endpoints.empty() ? "  (none)\n" : Indent(endpoints.Render()))
          << "Spec:\n"
          << Indent(YamlOf(*p));
      return kExitOk;
    }
    case Kind::kEndpoint:
    case Kind::kConfig:
    case Kind::kCertificate:
      env.err << "proxyctl: describe works on listeners, routes and pools; "
                 "try 'proxyctl get "
              << KindPlural(*kind) << "'\n";
      return kExitUsage;
  }
  return kExitUsage;
}

}  // namespace locus::ctl
