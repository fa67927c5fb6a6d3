// Frames per second through a MemoryLink pair on one thread: A sends a
// burst, B receives it (the copy into B's pool included) and frees it.
#include <vector>

#include "benchmark/benchmark.h"
#include "stack/link/memory_link.h"
#include "stack/link/test_frames.h"

namespace locus::link {
namespace {

void BM_MemoryLinkBurst(benchmark::State& state) {
  const uint16_t payload = static_cast<uint16_t>(state.range(0));
  auto pair = std::move(MemoryLinkPair::Create({.ring_size = 256, .pool_size = 1024})).value();
  const std::vector<uint8_t> frame = testing::UdpFrame({.payload_length = payload});
  Packet* out[kMaxBurst];
  Packet* in[kMaxBurst];
  uint64_t frames = 0;
  for (auto _ : state) {
    for (uint16_t i = 0; i < kMaxBurst; ++i) out[i] = testing::MakePacket(pair->a().pool(0), frame);
    const uint16_t sent = pair->a().Transmit(0, out, kMaxBurst);
    const uint16_t got = pair->b().Receive(0, in, kMaxBurst);
    for (uint16_t i = 0; i < got; ++i) FreePacket(in[i]);
    for (uint16_t i = sent; i < kMaxBurst; ++i) FreePacket(out[i]);
    frames += got;
  }
  state.SetItemsProcessed(static_cast<int64_t>(frames));
  state.SetBytesProcessed(static_cast<int64_t>(frames * frame.size()));
}
BENCHMARK(BM_MemoryLinkBurst)->Arg(18)->Arg(512)->Arg(1458);

}  // namespace
}  // namespace locus::link

BENCHMARK_MAIN();
