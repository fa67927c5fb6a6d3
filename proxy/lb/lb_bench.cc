// Cost of one Balancer::Choose per policy, 100 endpoints.
//   bazel run -c opt //proxy/lb:lb_bench
#include <benchmark/benchmark.h>

#include "proxy/lb/balancer.h"
#include "proxy/lb/hash.h"

namespace locus::proxy::lb {
namespace {

BackendPoolConfig Pool(LbPolicy policy, int n) {
  BackendPoolConfig p;
  p.name = "bench";
  p.lb_policy = policy;
  for (int i = 0; i < n; ++i) {
    EndpointConfig e;
    e.ip = wire::Ipv4Address::FromOctets(10, 2, static_cast<uint8_t>(i / 250),
                                         static_cast<uint8_t>(i % 250 + 1));
    e.port = 80;
    e.weight = 1 + i % 4;
    p.endpoints.push_back(e);
  }
  return p;
}

void BM_Choose(benchmark::State& state) {
  const auto policy = static_cast<LbPolicy>(state.range(0));
  const int n = static_cast<int>(state.range(1));
  Balancer b;
  b.Update(*PoolSnapshot::Build(Pool(policy, n), {}, 1));
  Rng rng(1);
  uint64_t key = 0;
  for (auto _ : state) {
    Pick p = b.Choose(HashClientIp(wire::Ipv4Address(static_cast<uint32_t>(++key))),
                      rng);
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_Choose)
    ->ArgNames({"policy", "endpoints"})
    ->ArgsProduct({{static_cast<int>(LbPolicy::kRoundRobin),
                    static_cast<int>(LbPolicy::kLeastConnections),
                    static_cast<int>(LbPolicy::kPowerOfTwo),
                    static_cast<int>(LbPolicy::kRandom),
                    static_cast<int>(LbPolicy::kMaglev),
                    static_cast<int>(LbPolicy::kRingHash)},
                   {10, 100}});

void BM_BuildMaglev65537(benchmark::State& state) {
  const BackendPoolConfig cfg = Pool(LbPolicy::kMaglev, static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto s = PoolSnapshot::Build(cfg, {}, 1);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_BuildMaglev65537)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace locus::proxy::lb

BENCHMARK_MAIN();
