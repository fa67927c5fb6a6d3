// locus.api.v1.ControlPlane over gRPC: a thin adapter over ControlPlane.
// Every read that carries a config or a listener redacts its secrets here
// (api/secrets.h): the ControlPlane holds real keys, nothing sent out does.
#ifndef LOCUS_PROXY_CONTROL_SERVICE_H_
#define LOCUS_PROXY_CONTROL_SERVICE_H_

#include <atomic>

#include "absl/time/time.h"
#include "locus/api/v1/control_plane.grpc.pb.h"
#include "proxy/control/control_plane.h"

namespace locus::proxy::control {

// How often a Watch stream checks whether its client went away while no
// change arrives.
inline constexpr absl::Duration kWatchPollInterval = absl::Milliseconds(200);

class ControlPlaneService final : public api::v1::ControlPlane::Service {
 public:
  // `control_plane` must outlive the service.
  explicit ControlPlaneService(ControlPlane* control_plane);

  grpc::Status GetListener(grpc::ServerContext* context,
                           const api::v1::GetRequest* request,
                           api::v1::GetListenerResponse* response) override;
  grpc::Status ListListeners(grpc::ServerContext* context,
                             const api::v1::ListRequest* request,
                             api::v1::ListListenersResponse* response) override;
  grpc::Status GetRouteTable(grpc::ServerContext* context,
                             const api::v1::GetRequest* request,
                             api::v1::GetRouteTableResponse* response) override;
  grpc::Status ListRouteTables(
      grpc::ServerContext* context, const api::v1::ListRequest* request,
      api::v1::ListRouteTablesResponse* response) override;
  grpc::Status GetPool(grpc::ServerContext* context,
                       const api::v1::GetRequest* request,
                       api::v1::GetPoolResponse* response) override;
  grpc::Status ListPools(grpc::ServerContext* context,
                         const api::v1::ListRequest* request,
                         api::v1::ListPoolsResponse* response) override;
  grpc::Status GetCertificate(
      grpc::ServerContext* context, const api::v1::GetRequest* request,
      api::v1::GetCertificateResponse* response) override;
  grpc::Status ListCertificates(
      grpc::ServerContext* context, const api::v1::ListRequest* request,
      api::v1::ListCertificatesResponse* response) override;
  grpc::Status GetConfig(grpc::ServerContext* context,
                         const api::v1::GetConfigRequest* request,
                         api::v1::Config* response) override;
  grpc::Status Apply(grpc::ServerContext* context,
                     const api::v1::ApplyRequest* request,
                     api::v1::ApplyResponse* response) override;
  grpc::Status Delete(grpc::ServerContext* context,
                      const api::v1::DeleteRequest* request,
                      api::v1::DeleteResponse* response) override;
  grpc::Status Watch(grpc::ServerContext* context,
                     const api::v1::WatchRequest* request,
                     grpc::ServerWriter<api::v1::WatchEvent>* writer) override;
  grpc::Status Status(grpc::ServerContext* context,
                      const api::v1::StatusRequest* request,
                      api::v1::StatusResponse* response) override;
  grpc::Status Stats(grpc::ServerContext* context,
                     const api::v1::StatsRequest* request,
                     api::v1::StatsResponse* response) override;
  grpc::Status Drain(grpc::ServerContext* context,
                     const api::v1::DrainRequest* request,
                     api::v1::DrainResponse* response) override;

 private:
  ControlPlane* const control_plane_;
};

}  // namespace locus::proxy::control

#endif  // LOCUS_PROXY_CONTROL_SERVICE_H_
