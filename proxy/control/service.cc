#include "proxy/control/service.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "api/resources.h"
#include "api/secrets.h"
#include "proxy/control/certificates.h"

namespace locus::proxy::control {
namespace {

namespace v1 = api::v1;
namespace control = ::locus::proxy::control;

// absl and gRPC share the canonical status code numbering.
grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

grpc::Status NotFound(absl::string_view kind, const std::string& name,
                      uint64_t version, absl::string_view list_command) {
  if (name.empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "name: required");
  }
  return grpc::Status(
      grpc::StatusCode::NOT_FOUND,
      absl::StrCat(kind, " \"", name, "\" not found at version ", version,
                   "; `proxyctl get ", list_command, "` lists them"));
}

}  // namespace

ControlPlaneService::ControlPlaneService(ControlPlane* control_plane)
    : control_plane_(control_plane) {}

grpc::Status ControlPlaneService::GetListener(
    grpc::ServerContext*, const v1::GetRequest* request,
    v1::GetListenerResponse* response) {
  auto current = control_plane_->Current();
  const v1::Listener* l =
      api::FindByName(current->config.listeners(), request->name());
  if (l == nullptr) {
    return NotFound("listener", request->name(), current->version, "listeners");
  }
  *response->mutable_listener() = *l;
  api::RedactSecrets(response->mutable_listener());
  response->set_version(current->version);
  return grpc::Status::OK;
}

grpc::Status ControlPlaneService::ListListeners(
    grpc::ServerContext*, const v1::ListRequest*,
    v1::ListListenersResponse* response) {
  auto current = control_plane_->Current();
  *response->mutable_listeners() = current->config.listeners();
  for (v1::Listener& l : *response->mutable_listeners()) {
    api::RedactSecrets(&l);
  }
  response->set_version(current->version);
  return grpc::Status::OK;
}

grpc::Status ControlPlaneService::GetRouteTable(
    grpc::ServerContext*, const v1::GetRequest* request,
    v1::GetRouteTableResponse* response) {
  auto current = control_plane_->Current();
  const v1::RouteTable* t =
      api::FindByName(current->config.route_tables(), request->name());
  if (t == nullptr) {
    return NotFound("route table", request->name(), current->version, "routes");
  }
  *response->mutable_route_table() = *t;
  response->set_version(current->version);
  return grpc::Status::OK;
}

grpc::Status ControlPlaneService::ListRouteTables(
    grpc::ServerContext*, const v1::ListRequest*,
    v1::ListRouteTablesResponse* response) {
  auto current = control_plane_->Current();
  *response->mutable_route_tables() = current->config.route_tables();
  response->set_version(current->version);
  return grpc::Status::OK;
}

grpc::Status ControlPlaneService::GetPool(grpc::ServerContext*,
                                          const v1::GetRequest* request,
                                          v1::GetPoolResponse* response) {
  auto current = control_plane_->Current();
  const v1::BackendPool* p =
      api::FindByName(current->config.pools(), request->name());
  if (p == nullptr) {
    return NotFound("pool", request->name(), current->version, "pools");
  }
  *response->mutable_pool() = *p;
  response->set_version(current->version);
  return grpc::Status::OK;
}

grpc::Status ControlPlaneService::ListPools(grpc::ServerContext*,
                                            const v1::ListRequest*,
                                            v1::ListPoolsResponse* response) {
  auto current = control_plane_->Current();
  *response->mutable_pools() = current->config.pools();
  response->set_version(current->version);
  return grpc::Status::OK;
}

grpc::Status ControlPlaneService::GetCertificate(
    grpc::ServerContext*, const v1::GetRequest* request,
    v1::GetCertificateResponse* response) {
  auto current = control_plane_->Current();
  const v1::Certificate* c =
      api::FindByName(current->config.certificates(), request->name());
  if (c == nullptr) {
    return NotFound("certificate", request->name(), current->version,
                    "certificates");
  }
  *response->mutable_certificate() = *c;
  api::RedactSecrets(response->mutable_certificate());
  response->set_version(current->version);
  return grpc::Status::OK;
}

grpc::Status ControlPlaneService::ListCertificates(
    grpc::ServerContext*, const v1::ListRequest*,
    v1::ListCertificatesResponse* response) {
  // Qualified: the member of the same name hides it.
  *response = control::ListCertificates(control_plane_->Current()->config,
                                        control_plane_->Now());
  return grpc::Status::OK;
}

grpc::Status ControlPlaneService::GetConfig(grpc::ServerContext*,
                                            const v1::GetConfigRequest*,
                                            v1::Config* response) {
  *response = control_plane_->Current()->config;
  api::RedactSecrets(response);
  return grpc::Status::OK;
}

grpc::Status ControlPlaneService::Apply(grpc::ServerContext*,
                                        const v1::ApplyRequest* request,
                                        v1::ApplyResponse* response) {
  absl::StatusOr<v1::ApplyResponse> result = control_plane_->Apply(*request);
  if (!result.ok()) return ToGrpc(result.status());
  *response = *std::move(result);
  api::RedactSecrets(response->mutable_config());
  return grpc::Status::OK;
}

grpc::Status ControlPlaneService::Delete(grpc::ServerContext*,
                                         const v1::DeleteRequest* request,
                                         v1::DeleteResponse* response) {
  absl::StatusOr<v1::DeleteResponse> result = control_plane_->Delete(*request);
  if (!result.ok()) return ToGrpc(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status ControlPlaneService::Watch(
    grpc::ServerContext* context, const v1::WatchRequest* request,
    grpc::ServerWriter<v1::WatchEvent>* writer) {
  std::shared_ptr<WatchHub::Subscription> sub =
      control_plane_->Watch(request->include_config());
  grpc::Status result = grpc::Status::OK;
  v1::WatchEvent event;
  absl::Status closed;
  // Runs for as long as the client keeps the stream open; each turn waits
  // at most kWatchPollInterval, so cancellation is noticed promptly.
  while (!context->IsCancelled()) {
    WatchHub::Subscription::Next next =
        sub->Wait(kWatchPollInterval, &event, &closed);
    if (next == WatchHub::Subscription::Next::kClosed) {
      result = ToGrpc(closed);
      break;
    }
    if (next == WatchHub::Subscription::Next::kEvent && event.has_config()) {
      api::RedactSecrets(event.mutable_config());
    }
    if (next == WatchHub::Subscription::Next::kEvent && !writer->Write(event)) {
      break;  // the client went away
    }
  }
  control_plane_->EndWatch(sub);
  return result;
}

grpc::Status ControlPlaneService::Status(grpc::ServerContext*,
                                         const v1::StatusRequest*,
                                         v1::StatusResponse* response) {
  *response = control_plane_->Status();
  return grpc::Status::OK;
}

grpc::Status ControlPlaneService::Stats(grpc::ServerContext*,
                                        const v1::StatsRequest*,
                                        v1::StatsResponse* response) {
  *response = control_plane_->Stats();
  return grpc::Status::OK;
}

grpc::Status ControlPlaneService::Drain(grpc::ServerContext*,
                                        const v1::DrainRequest* request,
                                        v1::DrainResponse* response) {
  absl::StatusOr<v1::DrainResponse> result = control_plane_->Drain(*request);
  if (!result.ok()) return ToGrpc(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace locus::proxy::control
