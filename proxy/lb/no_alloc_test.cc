// The fast path must not allocate: count every operator new while
// Balancer::Choose runs, for every policy.
#include <cstdlib>
#include <new>

#include "gtest/gtest.h"
#include "proxy/lb/balancer.h"

namespace {
long g_allocations = 0;
}  // namespace

void* operator new(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  std::abort();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace locus::proxy::lb {
namespace {

TEST(NoAllocTest, ChooseAndAccountingDoNotAllocate) {
  for (LbPolicy policy :
       {LbPolicy::kRoundRobin, LbPolicy::kLeastConnections, LbPolicy::kPowerOfTwo,
        LbPolicy::kRandom, LbPolicy::kMaglev, LbPolicy::kRingHash}) {
    BackendPoolConfig cfg;
    cfg.name = "p";
    cfg.lb_policy = policy;
    cfg.maglev_table_size = 1009;
    for (uint8_t i = 1; i <= 20; ++i) {
      EndpointConfig e;
      e.ip = wire::Ipv4Address::FromOctets(10, 3, 0, i);
      e.port = 80;
      e.weight = i % 3 + 1;
      e.max_connections = 5;  // exercise the overflow paths too
      cfg.endpoints.push_back(e);
    }
    std::vector<bool> healthy(20, true);
    healthy[4] = false;
    Balancer b(1);
    b.Update(*PoolSnapshot::Build(cfg, healthy, 1));
    Rng rng(1);
    const long before = g_allocations;
    for (int i = 0; i < 200; ++i) {
      Pick p = b.Choose(rng.Next(), rng);
      if (p.ok()) b.OnConnectionOpened(p);
      if (i % 3 == 0) b.OnConnectionClosed(p);
    }
    EXPECT_EQ(g_allocations, before) << static_cast<int>(policy);
  }
}

}  // namespace
}  // namespace locus::proxy::lb
