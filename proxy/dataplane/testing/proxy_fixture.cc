#include "proxy/dataplane/testing/proxy_fixture.h"

namespace locus::proxy::dataplane::testing {

ListenerConfig HttpListener(std::string name, uint16_t port, std::string table) {
  ListenerConfig l;
  l.name = std::move(name);
  l.address = kProxyIp;
  l.port = port;
  l.protocol = ListenerProtocol::kHttp;
  l.route_table = std::move(table);
  return l;
}

ListenerConfig TcpListener(std::string name, uint16_t port, std::string pool) {
  ListenerConfig l;
  l.name = std::move(name);
  l.address = kProxyIp;
  l.port = port;
  l.protocol = ListenerProtocol::kTcp;
  l.pool = std::move(pool);
  return l;
}

lb::BackendPoolConfig Pool(std::string name, const std::vector<uint16_t>& ports,
                           lb::LbPolicy policy) {
  lb::BackendPoolConfig p;
  p.name = std::move(name);
  for (uint16_t port : ports) {
    lb::EndpointConfig e;
    e.ip = kPeerIp;
    e.port = port;
    p.endpoints.push_back(e);
  }
  p.lb_policy = policy;
  if (policy == lb::LbPolicy::kMaglev) p.maglev_table_size = 251;  // small prime: fast
  return p;
}

route::RouteConfig PrefixRoute(std::string name, std::string prefix, std::string pool) {
  route::RouteConfig r;
  r.name = std::move(name);
  r.match.path = {route::PathMatch::Kind::kPrefix, std::move(prefix)};
  r.action.clusters.push_back({std::move(pool), 1});
  return r;
}

DataPlaneConfig SimpleConfig(const std::vector<uint16_t>& ports, lb::LbPolicy policy) {
  DataPlaneConfig c;
  c.pools.push_back(Pool("p", ports, policy));
  c.upstream.push_back(UpstreamSettings{});
  route::RouteTableConfig table;
  table.name = "main";
  table.routes.push_back(PrefixRoute("all", "/", "p"));
  c.route_tables.push_back(table);
  c.listeners.push_back(HttpListener("web", kHttpPort, "main"));
  return c;
}

size_t FinalResponses(const ParsedResponses& r) {
  size_t n = 0;
  for (const ParsedResponse& p : r.responses) n += (p.status >= 200 || p.status == 101) ? 1 : 0;
  return n;
}

void ProxyFixture::StartNet(TestNetOptions options) {
  net_ = std::make_unique<TestNet>(options);
}

TestBackend& ProxyFixture::AddBackend(uint16_t port, std::string name) {
  backends_.push_back(std::make_unique<TestBackend>(net_->peer(), port, std::move(name)));
  return *backends_.back();
}

TestClient& ProxyFixture::Connect(uint16_t port, PeerHost* host) {
  PeerHost& h = host != nullptr ? *host : net_->peer();
  clients_.push_back(std::make_unique<TestClient>(h, kProxyIp, port, net_->now()));
  return *clients_.back();
}

ParsedResponses ProxyFixture::Wait(TestClient& client, const std::vector<std::string>& methods,
                                   Duration limit) {
  // Parses again only when something arrived (bodies may be megabytes).
  size_t seen = static_cast<size_t>(-1);
  net_->RunUntil(
      [&] {
        if (client.closed() || client.peer_closed()) return true;
        if (client.received().size() == seen) return false;
        seen = client.received().size();
        ParsedResponses r = ParseResponses(client.received(), methods, false);
        return r.error || (FinalResponses(r) >= methods.size() && r.complete);
      },
      limit);
  return ParseResponses(client.received(), methods, client.peer_closed());
}

ParsedResponses ProxyFixture::Exchange(TestClient& client, std::string_view request,
                                       const std::vector<std::string>& methods, Duration limit) {
  client.Send(request);
  return Wait(client, methods, limit);
}

bool ProxyFixture::WaitClosed(TestClient& client, Duration limit) {
  return net_->RunUntil([&] { return client.closed() || client.peer_closed(); }, limit);
}

void ProxyFixture::TearDown() {
  if (net_ == nullptr) return;
  // Clients leave gracefully; the proxy must then let go of every session.
  for (auto& c : clients_) c->Close();
  bool quiet = net_->RunUntil(
      [&] { return net_->Sum(&ProxyCounters::active_connections) == 0; }, Duration::Seconds(10));
  EXPECT_TRUE(quiet) << "sessions left: " << net_->Sum(&ProxyCounters::active_connections);
  // Delayed ACKs and the last FINs.
  net_->Advance(Duration::Millis(500));
  EXPECT_EQ(net_->ProxyBuffersInUse(), 0u) << "packet buffers held by the proxy at rest";
  for (unsigned i = 0; i < net_->shards(); ++i) {
    // Only kept-alive upstream connections may remain.
    EXPECT_EQ(net_->proxy_stack(i).tcp().connection_count(),
              net_->counters(i).upstream_idle.load())
        << "shard " << i;
    EXPECT_EQ(net_->counters(i).active_connections.load(), 0u) << "shard " << i;
  }
  clients_.clear();
  backends_.clear();
  net_->Shutdown();
  EXPECT_EQ(net_->LinkBuffersMissing(), 0u) << "packet buffers not back in their pools";
}

}  // namespace locus::proxy::dataplane::testing
