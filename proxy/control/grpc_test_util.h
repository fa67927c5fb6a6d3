// Test helpers: a control plane served over real gRPC on loopback, and raw
// calls to the health and reflection services (whose generated client code
// Debian does not ship), with every wait bounded.
#ifndef LOCUS_PROXY_CONTROL_GRPC_TEST_UTIL_H_
#define LOCUS_PROXY_CONTROL_GRPC_TEST_UTIL_H_

#include <chrono>
#include <memory>
#include <string>

#include "grpcpp/channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"

namespace locus::proxy::control::testing {

inline std::chrono::system_clock::time_point Deadline(int seconds) {
  return std::chrono::system_clock::now() + std::chrono::seconds(seconds);
}

// Calls a unary method with raw request bytes; on OK fills *response.
inline grpc::Status RawUnaryCall(const std::shared_ptr<grpc::Channel>& channel,
                                 const std::string& method,
                                 const std::string& request,
                                 std::string* response) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(Deadline(5));
  grpc::CompletionQueue cq;
  grpc::Slice slice(request);
  grpc::ByteBuffer request_buffer(&slice, 1);
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> call =
      stub.PrepareUnaryCall(&context, method, request_buffer, &cq);
  call->StartCall();
  grpc::ByteBuffer response_buffer;
  grpc::Status status;
  call->Finish(&response_buffer, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  if (cq.AsyncNext(&tag, &ok, Deadline(10)) !=
      grpc::CompletionQueue::NextStatus::GOT_EVENT) {
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "no completion");
  }
  if (status.ok()) {
    std::vector<grpc::Slice> slices;
    response_buffer.Dump(&slices);
    response->clear();
    for (const grpc::Slice& s : slices) {
      response->append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return status;
}

// Sends one request on a bidi stream and reads one response.
inline grpc::Status RawBidiExchange(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
    const std::string& request, std::string* response) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(Deadline(5));
  grpc::CompletionQueue cq;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      stub.PrepareCall(&context, method, &cq);
  void* tag = nullptr;
  bool ok = false;
  auto step = [&](intptr_t want) {
    return cq.AsyncNext(&tag, &ok, Deadline(10)) ==
               grpc::CompletionQueue::NextStatus::GOT_EVENT &&
           tag == reinterpret_cast<void*>(want) && ok;
  };
  grpc::Status status(grpc::StatusCode::UNKNOWN, "stream failed");
  call->StartCall(reinterpret_cast<void*>(1));
  if (step(1)) {
    grpc::Slice slice(request);
    grpc::ByteBuffer buffer(&slice, 1);
    call->Write(buffer, reinterpret_cast<void*>(2));
    grpc::ByteBuffer reply;
    if (step(2)) {
      call->Read(&reply, reinterpret_cast<void*>(3));
      if (step(3)) {
        std::vector<grpc::Slice> slices;
        reply.Dump(&slices);
        response->clear();
        for (const grpc::Slice& s : slices) {
          response->append(reinterpret_cast<const char*>(s.begin()), s.size());
        }
        status = grpc::Status::OK;
      }
    }
  }
  context.TryCancel();
  grpc::Status finish;
  call->Finish(&finish, reinterpret_cast<void*>(4));
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return status;
}

// grpc.health.v1.Health/Check for `service`: the serving status number
// (1 = SERVING), or -1 when the call failed.
inline int HealthStatus(const std::shared_ptr<grpc::Channel>& channel,
                        const std::string& service) {
  std::string request;
  if (!service.empty()) {
    // HealthCheckRequest { string service = 1; }
    request.push_back(0x0a);
    request.push_back(static_cast<char>(service.size()));
    request += service;
  }
  std::string response;
  grpc::Status status =
      RawUnaryCall(channel, "/grpc.health.v1.Health/Check", request, &response);
  if (!status.ok()) return -1;
  // HealthCheckResponse { ServingStatus status = 1; }
  if (response.size() == 2 && response[0] == 0x08) return response[1];
  return response.empty() ? 0 : -1;
}

}  // namespace locus::proxy::control::testing

#endif  // LOCUS_PROXY_CONTROL_GRPC_TEST_UTIL_H_
