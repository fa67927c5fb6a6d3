// A DPDK ethdev port as a Link: N RX/TX queue pairs, one mbuf pool per
// queue (= per core), checksum offload and RSS when the port has them.
//
// A Packet lives in the private area of its rte_mbuf (priv_size), so
// Packet* <-> rte_mbuf* is pointer arithmetic; the fields that differ
// (data offset, lengths, offload flags, header lengths, RSS hash) are
// copied at RX and TX. Frames must fit one mbuf (no chains): RX drops
// chained frames and counts them in rx_dropped.
//
// Tested on net_tap and net_af_packet (the devices of laptops and VMs);
// neither offers RSS, so on them LinkInfo.rss is false and the stack
// steers in software. Two things to know about them:
//   * net_tap sets the kernel's side of the tap to the port's own MAC, so
//     frames from the kernel carry our MAC as their source: do not drop
//     "own source MAC" frames as loops on a tap.
//   * net_af_packet's MAC is the interface's; it has no checksum offload,
//     net_tap has TX IPv4/TCP and RX IP/L4 checksum offload (done in
//     software by the PMD).
#ifndef LOCUS_STACK_LINK_DPDK_LINK_H_
#define LOCUS_STACK_LINK_DPDK_LINK_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "stack/base/time.h"
#include "stack/link/link.h"
#include "stack/link/mbuf_pool_sizing.h"
#include "stack/link/packet.h"

namespace locus::link {

// The symmetric Toeplitz key: 0x6d5a repeated. With it the hash of
// (a -> b) equals the hash of (b -> a), so both directions of a flow land
// on the same queue.
std::array<uint8_t, kRssKeyLength> SymmetricRssKey();

struct DpdkLinkConfig {
  std::string device;             // port by device name ("net_tap0"); empty: first port
  uint16_t queues = 1;            // RX/TX queue pairs, one per core
  uint16_t rx_descriptors = 1024;
  uint16_t tx_descriptors = 1024;
  // 0: MbufsPerQueue() of the ring sizes, burst, cache and inflight below,
  // with caching_lcores = the EAL's lcore count.
  uint32_t mbufs_per_queue = 0;
  uint32_t inflight_per_queue = kDefaultInflightPerQueue;
  uint16_t mempool_cache = kDefaultMempoolCache;
  uint16_t mtu = 1500;            // 0 keeps the port's
  bool checksum_offload = true;   // use the port's when it has them
  bool rss = true;                // configure RSS when queues > 1 and the port can
  std::optional<std::array<uint8_t, kRssKeyLength>> rss_key{};  // default SymmetricRssKey()
  bool promiscuous = false;
  Duration link_up_timeout = Duration::Seconds(5);
};

class DpdkLink final : public Link {
 public:
  // Needs DpdkEal::Init first. Configures and starts the port, waits for
  // link up, and fills LinkInfo from what the port really did.
  static absl::StatusOr<std::unique_ptr<DpdkLink>> Create(const DpdkLinkConfig& config);
  // Stops and closes the port, then frees the pools: every packet must be
  // back in its pool by then.
  ~DpdkLink() override;

  const LinkInfo& info() const override { return info_; }
  uint16_t Receive(uint16_t queue, Packet** packets, uint16_t max) override;
  uint16_t Transmit(uint16_t queue, Packet** packets, uint16_t count) override;
  PacketPool& pool(uint16_t queue) override;
  QueueStats stats(uint16_t queue) const override;

  uint16_t port_id() const { return port_; }

 private:
  struct Queue;
  DpdkLink(uint16_t port, uint16_t queues);
  absl::Status Start(const DpdkLinkConfig& config);

  const uint16_t port_;
  LinkInfo info_;
  bool started_ = false;
  bool configured_ = false;
  std::vector<std::unique_ptr<Queue>> queues_;
};

}  // namespace locus::link

#endif  // LOCUS_STACK_LINK_DPDK_LINK_H_
