// The RSS redirection table (RETA): how a NIC turns a 32-bit RSS hash into
// a receive queue.
//
// NICs index the RETA with the hash's least significant bits, not with a
// modulo of the whole hash: Intel's 82599 and I210 use the 7 LSBs for their
// 128-entry table, i40e 9 LSBs for 512 entries, and the virtio-net spec
// reads `indirection_table[hash & indirection_table_mask]`. RETA sizes are
// therefore powers of two, and "queue = reta[hash % size]" equals
// "queue = reta[hash & (size - 1)]". We accept only power-of-two sizes and
// use the mask, so a table whose size a NIC could not have is rejected
// instead of silently predicting the wrong queue.
#ifndef LOCUS_STACK_STEER_RETA_H_
#define LOCUS_STACK_STEER_RETA_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace locus::steer {

// The largest table we know of is the 2048-entry global LUT of Intel's
// E810 (ice) PF; DPDK's generic limit (RTE_ETH_RSS_RETA_SIZE_512) is lower.
inline constexpr size_t kMaxRetaSize = 2048;

inline constexpr bool IsValidRetaSize(size_t size) {
  return size >= 1 && size <= kMaxRetaSize && (size & (size - 1)) == 0;
}

// `reta.size()` must satisfy IsValidRetaSize.
inline uint16_t RetaLookup(std::span<const uint16_t> reta, uint32_t hash) {
  return reta[hash & (reta.size() - 1)];
}

// Entry i -> queue i % queues: what DPDK drivers and ethtool install by
// default when RSS is enabled over `queues` queues.
inline std::vector<uint16_t> RoundRobinReta(size_t size, uint16_t queues) {
  std::vector<uint16_t> reta(size);
  for (size_t i = 0; i < size; ++i) reta[i] = static_cast<uint16_t>(i % queues);
  return reta;
}

}  // namespace locus::steer

#endif  // LOCUS_STACK_STEER_RETA_H_
