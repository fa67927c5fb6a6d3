// redirect_cost: what a software redirect between shards costs per packet,
// against local delivery, on one thread (Google Benchmark).
//
// A server ShardGroup with two shards over the in-memory link (kPortHash,
// the mode net_tap forces). Every frame arrives on queue 0. Each iteration
// injects a burst of 32 TCP segments (RST, valid checksums, no such
// connection: the stack parses and verifies everything, looks the flow up
// and discards it quietly), then polls dispatcher 0 and dispatcher 1.
//   BM_Deliver/0: the flows belong to shard 0 (local delivery).
//   BM_Deliver/1: they belong to shard 1 (classification, SPSC ring, the
//                 other shard's stack, the buffer freed back to queue 0's
//                 pool from the other shard).
//   BM_InjectOnly: the injection and a plain receive+free, the part both
//                 include; subtract it for the dispatcher+stack cost.
// Both shards run on this one thread, so the cross-core cache traffic of a
// real redirect is not in these numbers (shard_scaling measures two cores).
#include <array>
#include <memory>
#include <vector>

#include "benchmark/benchmark.h"
#include "bench/common/locus_pair.h"
#include "stack/engine/dispatcher.h"
#include "stack/link/packet.h"
#include "stack/wire/checksum.h"
#include "stack/wire/endian.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/tcp.h"

namespace locus::bench {
namespace {

constexpr uint16_t kPort = 80;
constexpr size_t kFrameLength = 14 + 20 + 20;

struct Fixture {
  std::unique_ptr<LocusPair> pair;
  std::vector<std::array<uint8_t, kFrameLength>> frames;  // one per flow
};

// Frames from the client toward the server's port 80, with source ports
// whose flows the server's steering gives to `owner`.
Fixture Make(unsigned owner) {
  Fixture f;
  LocusPairOptions po;
  po.shards = 2;
  po.server_ports = {kPort};
  // Frames all land on queue 0, whatever the flow.
  po.steering = [](std::span<const uint8_t>, uint16_t, uint16_t) {
    return link::SteeringDecision{0};
  };
  f.pair = std::move(LocusPair::Create(po)).value();
  const steer::FlowSteering& steering = f.pair->server().steering();
  auto listeners = steer::ListenerPortSet::Create(po.server_ports);
  wire::MacAddress dst = f.pair->server().stack(0).mac();
  wire::MacAddress src = f.pair->client().stack(0).mac();
  for (uint16_t port = 20000; f.frames.size() < link::kMaxBurst; ++port) {
    steer::Ipv4TcpTuple t{kClientIp, kServerIp, port, kPort};
    if (steering.Steer(t, *listeners).core != owner) continue;
    std::array<uint8_t, kFrameLength> b{};
    wire::EthernetHeader{dst, src, wire::kEtherTypeIpv4}.Emit(std::span<uint8_t>(b.data(), 14));
    wire::TcpHeader tcp;
    tcp.source_port = port;
    tcp.destination_port = kPort;
    tcp.seq = wire::SeqNum(12345);
    tcp.flags = wire::TcpFlags(wire::TcpFlags::kRst);
    tcp.Emit(std::span<uint8_t>(b.data() + 34, 20), kClientIp, kServerIp);
    wire::Ipv4Header ip{};
    ip.total_length = 40;
    ip.ttl = 64;
    ip.protocol = wire::kIpProtocolTcp;
    ip.source = kClientIp;
    ip.destination = kServerIp;
    ip.dont_fragment = true;
    ip.Emit(std::span<uint8_t>(b.data() + 14, 20));
    f.frames.push_back(b);
  }
  return f;
}

void Inject(Fixture& f) {
  link::Link& a = f.pair->link().a();
  link::Packet* out[link::kMaxBurst];
  for (size_t i = 0; i < link::kMaxBurst; ++i) {
    out[i] = a.pool(0).Allocate();
    std::memcpy(out[i]->Append(kFrameLength), f.frames[i].data(), kFrameLength);
  }
  uint16_t sent = a.Transmit(0, out, link::kMaxBurst);
  for (uint16_t i = sent; i < link::kMaxBurst; ++i) link::FreePacket(out[i]);
}

void BM_Deliver(benchmark::State& state) {
  const unsigned owner = static_cast<unsigned>(state.range(0));
  Fixture f = Make(owner);
  engine::ShardGroup& g = f.pair->server();
  Instant now = MonotonicNow();
  for (auto _ : state) {
    Inject(f);
    g.dispatcher(0)->Poll(g.stack(0), now);
    g.dispatcher(1)->Poll(g.stack(1), now);
  }
  const auto& c0 = g.dispatcher(0)->counters();
  const auto& c1 = g.dispatcher(1)->counters();
  state.counters["local"] = double(c0.local.load()) / state.iterations();
  state.counters["redirected"] = double(c0.redirects_out.load()) / state.iterations();
  state.counters["ring_drops"] = double(c0.ring_full_drops.load());
  state.counters["redirects_in_1"] = double(c1.redirects_in.load()) / state.iterations();
  state.SetItemsProcessed(state.iterations() * link::kMaxBurst);
  state.SetLabel(owner == 0 ? "local delivery" : "redirect to shard 1");
}
BENCHMARK(BM_Deliver)->Arg(0)->Arg(1);

void BM_InjectOnly(benchmark::State& state) {
  Fixture f = Make(0);
  link::Link& b = f.pair->link().b();
  link::Packet* in[link::kMaxBurst];
  for (auto _ : state) {
    Inject(f);
    uint16_t n = b.Receive(0, in, link::kMaxBurst);
    for (uint16_t i = 0; i < n; ++i) link::FreePacket(in[i]);
  }
  state.SetItemsProcessed(state.iterations() * link::kMaxBurst);
}
BENCHMARK(BM_InjectOnly);

}  // namespace
}  // namespace locus::bench

BENCHMARK_MAIN();
