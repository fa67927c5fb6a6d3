// How many mbufs a DPDK queue's pool needs. Pure arithmetic, kept apart
// from the DPDK code so it is tested (and documented) on its own.
//
// Per queue (= per core), the mbufs that can be out of the pool at once:
//   rx_descriptors        every RX descriptor holds an empty mbuf, waiting
// + tx_descriptors        sent mbufs stay on the TX ring until the driver
//                         reclaims them
// + 2 * burst             one RX burst being processed and one TX burst
//                         being built by the stack
// + caching_lcores * 1.5 * cache
//                         each lcore that frees into the pool keeps a
//                         per-lcore cache that DPDK lets grow to 1.5 x its
//                         size before flushing (normally only the owner;
//                         count every lcore if packets cross cores)
// + inflight              what the stack itself holds: TCP segments kept
//                         for retransmission or reassembly, frames queued
//                         for ARP resolution or on steering rings
// A pool smaller than this drops frames under load (RX has no buffer) and
// can deadlock a core that waits for its own buffers to come back.
#ifndef LOCUS_STACK_LINK_MBUF_POOL_SIZING_H_
#define LOCUS_STACK_LINK_MBUF_POOL_SIZING_H_

#include <cstdint>

#include "stack/link/link.h"

namespace locus::link {

inline constexpr uint32_t kDefaultInflightPerQueue = 4096;
inline constexpr uint16_t kDefaultMempoolCache = 256;
// DPDK's RTE_MEMPOOL_CACHE_MAX_SIZE.
inline constexpr uint16_t kMaxMempoolCache = 512;

struct MbufPoolSizing {
  uint16_t rx_descriptors = 1024;
  uint16_t tx_descriptors = 1024;
  uint16_t burst = kMaxBurst;
  uint16_t cache = kDefaultMempoolCache;
  uint32_t caching_lcores = 1;
  uint32_t inflight = kDefaultInflightPerQueue;
};

inline uint32_t MbufsPerQueue(const MbufPoolSizing& s) {
  const uint32_t cache_high_water = (uint32_t{s.cache} * 3 + 1) / 2;  // ceil(1.5 * cache)
  return uint32_t{s.rx_descriptors} + s.tx_descriptors + 2u * s.burst +
         s.caching_lcores * cache_high_water + s.inflight;
}

// The per-lcore cache DPDK accepts for a pool of n mbufs: at most
// kMaxMempoolCache, and small enough that 1.5 x cache <= n.
inline uint16_t EffectiveMempoolCache(uint32_t n, uint16_t requested) {
  uint32_t cache = requested > kMaxMempoolCache ? kMaxMempoolCache : requested;
  if (cache * 3 / 2 > n) cache = n * 2 / 3;
  return static_cast<uint16_t>(cache);
}

}  // namespace locus::link

#endif  // LOCUS_STACK_LINK_MBUF_POOL_SIZING_H_
