// The gtest fixture every data-plane integration test uses, and builders
// for configurations. TearDown checks that the test left nothing behind:
// no session (active_connections 0 on every shard), no packet buffer held
// by the proxy once the network is quiet, no connection besides kept-alive
// upstream ones, and, after shutdown, every buffer back in its pool.
#ifndef LOCUS_PROXY_DATAPLANE_TESTING_PROXY_FIXTURE_H_
#define LOCUS_PROXY_DATAPLANE_TESTING_PROXY_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proxy/dataplane/testing/peers.h"
#include "proxy/dataplane/testing/test_net.h"

namespace locus::proxy::dataplane::testing {

inline constexpr uint16_t kHttpPort = 80;

ListenerConfig HttpListener(std::string name, uint16_t port, std::string table);
ListenerConfig TcpListener(std::string name, uint16_t port, std::string pool);
// Endpoints on the peer host (10.0.0.1) at `ports`.
lb::BackendPoolConfig Pool(std::string name, const std::vector<uint16_t>& ports,
                           lb::LbPolicy policy = lb::LbPolicy::kRoundRobin);
route::RouteConfig PrefixRoute(std::string name, std::string prefix, std::string pool);
// Listener "web" on port 80, route table "main" with one route "all" (prefix
// "/") to pool "p" over `ports`.
DataPlaneConfig SimpleConfig(const std::vector<uint16_t>& ports,
                             lb::LbPolicy policy = lb::LbPolicy::kRoundRobin);

// Final (non-1xx) responses parsed so far.
size_t FinalResponses(const ParsedResponses& r);

class ProxyFixture : public ::testing::Test {
 protected:
  void StartNet(TestNetOptions options = {});
  void TearDown() override;

  TestNet& net() { return *net_; }
  TestBackend& AddBackend(uint16_t port, std::string name);
  TestClient& Connect(uint16_t port = kHttpPort, PeerHost* host = nullptr);
  // Waits (bounded) until `client` holds one final response per entry of
  // `methods`, or its connection ended; returns what it holds.
  ParsedResponses Wait(TestClient& client, const std::vector<std::string>& methods,
                       Duration limit = Duration::Seconds(5));
  ParsedResponses Exchange(TestClient& client, std::string_view request,
                           const std::vector<std::string>& methods,
                           Duration limit = Duration::Seconds(5));
  // Waits (bounded) for the client's connection to end or see a FIN.
  bool WaitClosed(TestClient& client, Duration limit = Duration::Seconds(5));

  std::unique_ptr<TestNet> net_;
  std::vector<std::unique_ptr<TestBackend>> backends_;
  std::vector<std::unique_ptr<TestClient>> clients_;
};

}  // namespace locus::proxy::dataplane::testing

#endif  // LOCUS_PROXY_DATAPLANE_TESTING_PROXY_FIXTURE_H_
