#include "stack/link/dpdk_link.h"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <new>
#include <utility>

#include "absl/strings/str_cat.h"
#include "stack/link/checksum.h"
#include "stack/link/dpdk_eal.h"
#include "stack/link/dpdk_headers.h"
#include "stack/link/queue_counters.h"

namespace locus::link {
namespace {

static_assert(RTE_PKTMBUF_HEADROOM == kPacketHeadroom,
              "Packet and mbuf must agree on the default headroom");
constexpr uint16_t kPrivSize = RTE_ALIGN(sizeof(Packet), RTE_MBUF_PRIV_ALIGN);
constexpr uint16_t kMbufDataRoom = kPacketBufferSize;  // headroom included, as DPDK counts it
// Ethernet header plus one 802.1Q tag on top of the MTU.
constexpr uint16_t kFrameOverhead = 18;
constexpr uint64_t kRssFields =
    RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV4_UDP;
constexpr size_t kMaxRssKey = 64;
constexpr uint16_t kMaxReta = 512;

// The Packet sits right after its mbuf header (the private area).
inline Packet* PacketOf(rte_mbuf* m) { return static_cast<Packet*>(rte_mbuf_to_priv(m)); }
inline rte_mbuf* MbufOf(Packet* p) {
  return reinterpret_cast<rte_mbuf*>(reinterpret_cast<char*>(p) - sizeof(rte_mbuf));
}

std::string PortError(uint16_t port, const char* what, int ret) {
  return absl::StrCat("DPDK port ", port, ": ", what, " failed: ", rte_strerror(-ret));
}

void SleepMillis(int ms) {
  timespec ts{0, ms * 1000000L};
  nanosleep(&ts, nullptr);
}

}  // namespace

std::array<uint8_t, kRssKeyLength> SymmetricRssKey() {
  std::array<uint8_t, kRssKeyLength> key;
  for (size_t i = 0; i < key.size(); i += 2) {
    key[i] = 0x6d;
    key[i + 1] = 0x5a;
  }
  return key;
}

// Allocate and Free are rte_pktmbuf_alloc/free on this queue's mempool.
// The mempool is thread-safe, so a packet that crossed to another core can
// still be freed there, but only the owner should allocate.
class DpdkPacketPool final : public PacketPool {
 public:
  static absl::StatusOr<std::unique_ptr<DpdkPacketPool>> Create(uint16_t port, uint16_t queue,
                                                                uint32_t count, uint16_t cache,
                                                                int socket) {
    static std::atomic<uint32_t> serial{0};
    const std::string name = absl::StrCat("locus", port, "q", queue, "_", serial++);
    std::unique_ptr<DpdkPacketPool> pool(new DpdkPacketPool());
    pool->mempool_ =
        rte_pktmbuf_pool_create(name.c_str(), count, cache, kPrivSize, kMbufDataRoom, socket);
    if (pool->mempool_ == nullptr) {
      const int error = rte_errno;
      const uint64_t megabytes =
          (uint64_t{count} * (sizeof(rte_mbuf) + kPrivSize + kMbufDataRoom)) >> 20;
      return absl::ResourceExhaustedError(absl::StrCat(
          "DPDK port ", port, " queue ", queue, ": no room for a pool of ", count,
          " mbufs (about ", megabytes, " MB): ", rte_strerror(error),
          "; raise -m or lower mbufs_per_queue"));
    }
    rte_mempool_obj_iter(pool->mempool_, &DpdkPacketPool::InitPacket, pool.get());
    return pool;
  }
  ~DpdkPacketPool() override { rte_mempool_free(mempool_); }

  Packet* Allocate() override {
    rte_mbuf* m = rte_pktmbuf_alloc(mempool_);
    if (m == nullptr) return nullptr;
    Packet* p = PacketOf(m);
    p->Reset();
    return p;
  }
  void Free(Packet* packet) override { rte_pktmbuf_free(MbufOf(packet)); }
  size_t available() const override { return rte_mempool_avail_count(mempool_); }
  size_t capacity() const override { return mempool_->size; }
  rte_mempool* mempool() const { return mempool_; }

 private:
  DpdkPacketPool() = default;

  // The fields of a Packet that never change: where its buffer is and
  // which pool it returns to.
  static void InitPacket(rte_mempool*, void* arg, void* object, unsigned) {
    rte_mbuf* m = static_cast<rte_mbuf*>(object);
    Packet* p = new (PacketOf(m)) Packet();
    p->buffer = static_cast<uint8_t*>(m->buf_addr);
    p->capacity = m->buf_len;
    p->pool = static_cast<PacketPool*>(arg);
    p->native = m;
    p->Reset();
  }

  rte_mempool* mempool_ = nullptr;
};

namespace {

// A copy of a non-mbuf packet in an mbuf of `pool`, metadata included; null
// when the pool is empty or the data does not fit.
Packet* CopyIntoMbuf(const Packet& original, DpdkPacketPool& pool) {
  Packet* copy = pool.Allocate();
  if (copy == nullptr) return nullptr;
  const uint16_t headroom = std::min(original.headroom(), kPacketHeadroom);
  copy->data_offset = headroom;
  uint8_t* data = copy->Append(original.length);
  if (data == nullptr) {
    FreePacket(copy);
    return nullptr;
  }
  std::memcpy(data, original.data(), original.length);
  copy->l2_length = original.l2_length;
  copy->l3_length = original.l3_length;
  copy->l4_length = original.l4_length;
  copy->flags = original.flags;
  return copy;
}

}  // namespace

struct DpdkLink::Queue {
  std::unique_ptr<DpdkPacketPool> pool;
  QueueCounters counters;
  uint32_t hw_tx_flags = 0;  // the kTx* flags the port does in hardware
  bool rx_checksum = false;
};

absl::StatusOr<std::unique_ptr<DpdkLink>> DpdkLink::Create(const DpdkLinkConfig& config) {
  DpdkEal* eal = DpdkEal::Get();
  if (eal == nullptr) return absl::FailedPreconditionError("DpdkLink needs DpdkEal::Init first");
  if (config.queues == 0) return absl::InvalidArgumentError("DpdkLink: queues must be > 0");
  if (config.mtu != 0 && config.mtu + kFrameOverhead > kPacketDataRoom) {
    return absl::InvalidArgumentError(absl::StrCat("DpdkLink: mtu ", config.mtu,
                                                   " does not fit one buffer; at most ",
                                                   kPacketDataRoom - kFrameOverhead));
  }
  absl::StatusOr<uint16_t> port = eal->FindPort(config.device);
  if (!port.ok()) return port.status();
  std::unique_ptr<DpdkLink> link(new DpdkLink(*port, config.queues));
  if (absl::Status s = link->Start(config); !s.ok()) return s;
  return link;
}

DpdkLink::DpdkLink(uint16_t port, uint16_t queues) : port_(port) {
  for (uint16_t q = 0; q < queues; ++q) queues_.push_back(std::make_unique<Queue>());
}

DpdkLink::~DpdkLink() {
  if (started_) rte_eth_dev_stop(port_);
  // Closing releases the queues and with them the mbufs they hold, so it
  // comes before the pools go.
  if (configured_) rte_eth_dev_close(port_);
  queues_.clear();
}

absl::Status DpdkLink::Start(const DpdkLinkConfig& config) {
  const uint16_t queues = config.queues;
  rte_eth_dev_info dev;
  if (int ret = rte_eth_dev_info_get(port_, &dev); ret != 0) {
    return absl::InternalError(PortError(port_, "reading device info", ret));
  }
  info_.driver = dev.driver_name;
  if (queues > dev.max_rx_queues || queues > dev.max_tx_queues) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DPDK port ", port_, " (", info_.driver, ") has at most ",
        std::min(dev.max_rx_queues, dev.max_tx_queues), " queue pairs, asked for ", queues));
  }
  int socket = rte_eth_dev_socket_id(port_);
  if (socket < 0) socket = static_cast<int>(rte_socket_id());

  const uint32_t mbufs =
      config.mbufs_per_queue != 0
          ? config.mbufs_per_queue
          : MbufsPerQueue({.rx_descriptors = config.rx_descriptors,
                           .tx_descriptors = config.tx_descriptors,
                           .burst = kMaxBurst,
                           .cache = config.mempool_cache,
                           .caching_lcores = rte_lcore_count(),
                           .inflight = config.inflight_per_queue});
  const uint16_t cache = EffectiveMempoolCache(mbufs, config.mempool_cache);
  for (uint16_t q = 0; q < queues; ++q) {
    auto pool = DpdkPacketPool::Create(port_, q, mbufs, cache, socket);
    if (!pool.ok()) return pool.status();
    queues_[q]->pool = std::move(pool).value();
  }

  rte_eth_conf conf;
  std::memset(&conf, 0, sizeof conf);
  uint64_t tx_offloads = 0;
  uint64_t rx_offloads = 0;
  if (config.checksum_offload) {
    tx_offloads = dev.tx_offload_capa &
                  (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM);
    const uint64_t rx_wanted = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
    if ((dev.rx_offload_capa & rx_wanted) == rx_wanted) {
      rx_offloads = rx_wanted | (dev.rx_offload_capa & RTE_ETH_RX_OFFLOAD_UDP_CKSUM);
    }
  }
  conf.txmode.offloads = tx_offloads;
  conf.rxmode.offloads = rx_offloads;
  conf.rxmode.mtu = config.mtu;

  // RSS: the port hashes IPv4 and TCP/UDP 4-tuples with our key. Keys
  // longer than ours (52 bytes on i40e) repeat it.
  uint8_t key[kMaxRssKey];
  const uint64_t rss_fields = dev.flow_type_rss_offloads & kRssFields;
  const bool want_rss = config.rss && queues > 1 && rss_fields != 0;
  if (want_rss) {
    const std::array<uint8_t, kRssKeyLength> ours = config.rss_key.value_or(SymmetricRssKey());
    const size_t key_length =
        dev.hash_key_size != 0 ? std::min<size_t>(dev.hash_key_size, kMaxRssKey) : kRssKeyLength;
    for (size_t i = 0; i < key_length; ++i) key[i] = ours[i % ours.size()];
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_key = key;
    conf.rx_adv_conf.rss_conf.rss_key_len = static_cast<uint8_t>(key_length);
    conf.rx_adv_conf.rss_conf.rss_hf = rss_fields;
  }

  if (int ret = rte_eth_dev_configure(port_, queues, queues, &conf); ret != 0) {
    return absl::InternalError(PortError(port_, "configure", ret));
  }
  configured_ = true;
  uint16_t rx_descriptors = config.rx_descriptors;
  uint16_t tx_descriptors = config.tx_descriptors;
  if (int ret = rte_eth_dev_adjust_nb_rx_tx_desc(port_, &rx_descriptors, &tx_descriptors);
      ret != 0) {
    return absl::InternalError(PortError(port_, "adjusting ring sizes", ret));
  }
  for (uint16_t q = 0; q < queues; ++q) {
    rte_eth_rxconf rxconf = dev.default_rxconf;
    rxconf.offloads = rx_offloads;
    if (int ret = rte_eth_rx_queue_setup(port_, q, rx_descriptors, socket, &rxconf,
                                         queues_[q]->pool->mempool());
        ret != 0) {
      return absl::InternalError(PortError(port_, "RX queue setup", ret));
    }
    rte_eth_txconf txconf = dev.default_txconf;
    txconf.offloads = tx_offloads;
    if (int ret = rte_eth_tx_queue_setup(port_, q, tx_descriptors, socket, &txconf); ret != 0) {
      return absl::InternalError(PortError(port_, "TX queue setup", ret));
    }
  }
  if (config.mtu != 0) {
    const int ret = rte_eth_dev_set_mtu(port_, config.mtu);
    uint16_t current = 0;
    if (ret != 0 && !(ret == -ENOTSUP && rte_eth_dev_get_mtu(port_, &current) == 0 &&
                      current == config.mtu)) {
      return absl::InvalidArgumentError(PortError(port_, absl::StrCat("setting MTU ", config.mtu).c_str(), ret));
    }
  }
  const int promiscuous = config.promiscuous ? rte_eth_promiscuous_enable(port_)
                                             : rte_eth_promiscuous_disable(port_);
  if (promiscuous != 0 && promiscuous != -ENOTSUP) {
    return absl::InternalError(PortError(port_, "setting promiscuous mode", promiscuous));
  }

  if (int ret = rte_eth_dev_start(port_); ret != 0) {
    return absl::InternalError(PortError(port_, "start", ret));
  }
  started_ = true;

  const Instant deadline = MonotonicNow() + config.link_up_timeout;
  rte_eth_link link;
  for (;;) {
    std::memset(&link, 0, sizeof link);
    if (rte_eth_link_get_nowait(port_, &link) == 0 && link.link_status == RTE_ETH_LINK_UP) break;
    if (MonotonicNow() >= deadline) {
      return absl::UnavailableError(absl::StrCat("DPDK port ", port_, " (", info_.driver,
                                                 ") link still down after ",
                                                 config.link_up_timeout.millis(), " ms"));
    }
    SleepMillis(10);
  }

  rte_ether_addr mac;
  if (int ret = rte_eth_macaddr_get(port_, &mac); ret != 0) {
    return absl::InternalError(PortError(port_, "reading the MAC address", ret));
  }
  info_.mac = wire::MacAddress::FromBytes(mac.addr_bytes);
  uint16_t mtu = 0;
  if (rte_eth_dev_get_mtu(port_, &mtu) == 0) info_.mtu = mtu;
  info_.rx_queues = info_.tx_queues = queues;
  info_.tx_ipv4_checksum = (tx_offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0;
  info_.tx_tcp_checksum = (tx_offloads & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) != 0;
  info_.rx_checksum = rx_offloads != 0;
  const uint32_t hw_tx_flags = (info_.tx_ipv4_checksum ? kTxIpv4Checksum : 0u) |
                               (info_.tx_tcp_checksum ? kTxTcpChecksum : 0u);
  for (auto& q : queues_) {
    q->hw_tx_flags = hw_tx_flags;
    q->rx_checksum = info_.rx_checksum;
  }

  // What the port really hashes with: only trusted when it can tell us
  // both its key and its redirection table.
  if (want_rss && dev.reta_size > 0 && dev.reta_size <= kMaxReta) {
    uint8_t actual[kMaxRssKey] = {};
    rte_eth_rss_conf rss;
    std::memset(&rss, 0, sizeof rss);
    rss.rss_key = actual;
    rss.rss_key_len = kMaxRssKey;
    rte_eth_rss_reta_entry64 reta[kMaxReta / RTE_ETH_RETA_GROUP_SIZE];
    std::memset(reta, 0, sizeof reta);
    for (auto& group : reta) group.mask = ~uint64_t{0};
    if (rte_eth_dev_rss_hash_conf_get(port_, &rss) == 0 &&
        rte_eth_dev_rss_reta_query(port_, reta, dev.reta_size) == 0) {
      info_.rss = true;
      std::copy(actual, actual + kRssKeyLength, info_.rss_key.begin());
      info_.reta.resize(dev.reta_size);
      for (uint16_t i = 0; i < dev.reta_size; ++i) {
        info_.reta[i] = reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
      }
    }
  }
  return absl::OkStatus();
}

PacketPool& DpdkLink::pool(uint16_t queue) { return *queues_[queue]->pool; }

QueueStats DpdkLink::stats(uint16_t queue) const { return queues_[queue]->counters.Snapshot(); }

uint16_t DpdkLink::Receive(uint16_t queue, Packet** packets, uint16_t max) {
  Queue& q = *queues_[queue];
  rte_mbuf* mbufs[kMaxBurst];
  uint16_t got = 0;
  uint64_t bytes = 0;
  uint64_t dropped = 0;
  while (got < max) {
    const uint16_t want = static_cast<uint16_t>(std::min<int>(kMaxBurst, max - got));
    const uint16_t n = rte_eth_rx_burst(port_, queue, mbufs, want);
    for (uint16_t i = 0; i < n; ++i) {
      rte_mbuf* m = mbufs[i];
      if (m->nb_segs != 1) {
        rte_pktmbuf_free(m);
        ++dropped;
        continue;
      }
      Packet* p = PacketOf(m);
      p->data_offset = m->data_off;
      p->length = m->data_len;
      p->l2_length = p->l3_length = p->l4_length = 0;
      p->next = nullptr;
      const uint64_t ol = m->ol_flags;
      uint32_t flags = 0;
      if (q.rx_checksum) {
        switch (ol & RTE_MBUF_F_RX_IP_CKSUM_MASK) {
          case RTE_MBUF_F_RX_IP_CKSUM_GOOD: flags |= kRxIpChecksumGood; break;
          case RTE_MBUF_F_RX_IP_CKSUM_BAD: flags |= kRxIpChecksumBad; break;
          default: break;
        }
        switch (ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) {
          case RTE_MBUF_F_RX_L4_CKSUM_GOOD: flags |= kRxL4ChecksumGood; break;
          case RTE_MBUF_F_RX_L4_CKSUM_BAD: flags |= kRxL4ChecksumBad; break;
          default: break;
        }
      }
      if (ol & RTE_MBUF_F_RX_RSS_HASH) {
        flags |= kRxRssHashValid;
        p->rss_hash = m->hash.rss;
      } else {
        p->rss_hash = 0;
      }
      p->flags = flags;
      bytes += p->length;
      packets[got++] = p;
    }
    if (n < want) break;
  }
  q.counters.rx_packets.Add(got);
  q.counters.rx_bytes.Add(bytes);
  if (dropped != 0) q.counters.rx_dropped.Add(dropped);
  return got;
}

uint16_t DpdkLink::Transmit(uint16_t queue, Packet** packets, uint16_t count) {
  Queue& q = *queues_[queue];
  rte_mbuf* mbufs[kMaxBurst];
  uint16_t lengths[kMaxBurst];
  Packet* foreign[kMaxBurst];  // the caller's packet when mbufs[i] is our copy of it
  uint16_t sent = 0;
  uint64_t bytes = 0;
  while (sent < count) {
    const uint16_t chunk = static_cast<uint16_t>(std::min<int>(kMaxBurst, count - sent));
    uint16_t n = chunk;
    bool offload = false;
    bool copied = false;
    for (uint16_t i = 0; i < n; ++i) {
      Packet* p = packets[sent + i];
      foreign[i] = nullptr;
      if (p->native == nullptr) {
        // Not an mbuf (a heap packet from another link): send a copy.
        Packet* copy = CopyIntoMbuf(*p, *q.pool);
        if (copy == nullptr) {
          n = i;  // pool empty: the rest stay with the caller
          break;
        }
        foreign[i] = p;
        copied = true;
        p = copy;
      }
      rte_mbuf* m = MbufOf(p);
      uint32_t wanted = p->flags & kTxChecksumFlags;
      if ((wanted & ~q.hw_tx_flags) != 0) {
        // Asked for what the port cannot do: the frame still leaves right.
        ApplyTxChecksums(*p);
        wanted = 0;
      }
      uint64_t ol = 0;
      if (wanted != 0) {
        ol |= RTE_MBUF_F_TX_IPV4;
        if (wanted & kTxIpv4Checksum) ol |= RTE_MBUF_F_TX_IP_CKSUM;
        if (wanted & kTxTcpChecksum) ol |= RTE_MBUF_F_TX_TCP_CKSUM;
        m->l2_len = p->l2_length;
        m->l3_len = p->l3_length;
        m->l4_len = p->l4_length;
        offload = true;
      }
      m->ol_flags = ol;
      m->data_off = p->data_offset;
      m->data_len = p->length;
      m->pkt_len = p->length;
      mbufs[i] = m;
      lengths[i] = p->length;
    }
    // Some drivers want headers adjusted for offloads; a frame they reject
    // stays with the caller like one refused by a full ring.
    const uint16_t ready = offload ? rte_eth_tx_prepare(port_, queue, mbufs, n) : n;
    const uint16_t k = n == 0 ? 0 : rte_eth_tx_burst(port_, queue, mbufs, ready);
    // Lengths saved above: a sent mbuf may already be freed and reused.
    for (uint16_t i = 0; i < k; ++i) bytes += lengths[i];
    if (copied) {
      for (uint16_t i = 0; i < n; ++i) {
        if (foreign[i] == nullptr) continue;
        if (i < k) {
          FreePacket(foreign[i]);  // its copy went out
        } else {
          rte_pktmbuf_free(mbufs[i]);  // the caller keeps the original
        }
      }
    }
    sent = static_cast<uint16_t>(sent + k);
    if (k < chunk) break;
  }
  q.counters.tx_packets.Add(sent);
  q.counters.tx_bytes.Add(bytes);
  if (sent < count) q.counters.tx_full.Add(count - sent);
  return sent;
}

}  // namespace locus::link
