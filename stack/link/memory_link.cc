#include "stack/link/memory_link.h"

#include <atomic>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "stack/link/checksum.h"
#include "stack/link/queue_counters.h"

namespace locus::link {
namespace {

// Ethernet header plus one 802.1Q tag on top of the MTU.
constexpr uint16_t kFrameOverhead = 18;
constexpr uint16_t kMinMtu = 68;  // RFC 791

// One direction of one (TX queue, RX queue) pair. The producer is the
// owner of the TX queue, the consumer the owner of the RX queue. Slots
// between `reclaimed` and the consumer's tail have been copied by the
// consumer; the producer returns their buffers to its own pool, as a NIC
// driver frees mbufs on TX completion.
class Channel {
 public:
  struct Slot {
    Packet* packet;
    uint32_t hash;
    bool hash_valid;
  };

  explicit Channel(size_t size) : slots_(new Slot[size]), mask_(size - 1) {}
  ~Channel() { DropAll(); }

  // Producer side.
  bool Push(const Slot& slot) {
    if (producer_.head - producer_.reclaimed > mask_) {
      Reclaim();
      if (producer_.head - producer_.reclaimed > mask_) return false;
    }
    slots_[producer_.head & mask_] = slot;
    ++producer_.head;
    return true;
  }
  void Publish() { head_.store(producer_.head, std::memory_order_release); }
  void Reclaim() {
    const uint64_t tail = tail_.load(std::memory_order_acquire);
    while (producer_.reclaimed != tail) {
      FreePacket(slots_[producer_.reclaimed & mask_].packet);
      ++producer_.reclaimed;
    }
  }

  // Consumer side.
  const Slot* Peek() {
    if (consumer_.tail == consumer_.head_cache) {
      consumer_.head_cache = head_.load(std::memory_order_acquire);
      if (consumer_.tail == consumer_.head_cache) return nullptr;
    }
    return &slots_[consumer_.tail & mask_];
  }
  void Pop() { ++consumer_.tail; }
  void Release() { tail_.store(consumer_.tail, std::memory_order_release); }

 private:
  // Only when nobody polls any more (destruction): every buffer still in
  // the ring goes back to its sender's pool.
  void DropAll() {
    while (producer_.reclaimed != producer_.head) {
      FreePacket(slots_[producer_.reclaimed & mask_].packet);
      ++producer_.reclaimed;
    }
  }

  std::unique_ptr<Slot[]> slots_;
  const uint64_t mask_;
  alignas(64) std::atomic<uint64_t> head_{0};
  alignas(64) std::atomic<uint64_t> tail_{0};
  alignas(64) struct {
    uint64_t head = 0;
    uint64_t reclaimed = 0;
  } producer_;
  alignas(64) struct {
    uint64_t tail = 0;
    uint64_t head_cache = 0;
  } consumer_;
};

}  // namespace

SteeringDecision SameQueueSteering(std::span<const uint8_t>, uint16_t tx_queue,
                                   uint16_t rx_queues) {
  return {.queue = static_cast<uint16_t>(tx_queue % rx_queues)};
}

class MemoryLinkPair::Endpoint final : public Link {
 public:
  Endpoint(const MemoryLinkConfig& config, wire::MacAddress mac,
           const SteeringFunction* steering)
      : queues_(config.queues),
        max_frame_(static_cast<uint16_t>(config.mtu + kFrameOverhead)),
        checksum_offload_(config.checksum_offload),
        steering_(steering),
        counters_(new QueueCounters[config.queues]),
        next_source_(config.queues, 0) {
    info_.driver = "memory";
    info_.mac = mac;
    info_.mtu = config.mtu;
    info_.rx_queues = info_.tx_queues = config.queues;
    info_.tx_ipv4_checksum = info_.tx_tcp_checksum = info_.rx_checksum =
        config.checksum_offload;
    info_.rss = config.rss;
    info_.rss_key = config.rss_key;
    info_.reta = config.reta;
    for (uint16_t q = 0; q < queues_; ++q) {
      pools_.push_back(std::make_unique<HeapPacketPool>(config.pool_size));
    }
    for (size_t i = 0; i < size_t{queues_} * queues_; ++i) {
      out_.push_back(std::make_unique<Channel>(config.ring_size));
    }
  }

  // Channels hold the sender's buffers, so they go before the pools.
  ~Endpoint() override { out_.clear(); }

  void Connect(Endpoint* peer) { peer_ = peer; }

  const LinkInfo& info() const override { return info_; }
  PacketPool& pool(uint16_t queue) override { return *pools_[queue]; }
  QueueStats stats(uint16_t queue) const override { return counters_[queue].Snapshot(); }

  uint16_t Transmit(uint16_t queue, Packet** packets, uint16_t count) override {
    ReclaimSent(queue);
    uint64_t touched = 0;  // bit r: channel to RX queue r needs publishing
    uint64_t bytes = 0;
    uint16_t sent = 0;
    for (; sent < count; ++sent) {
      Packet* p = packets[sent];
      const SteeringDecision d =
          (*steering_)(std::span<const uint8_t>(p->data(), p->length), queue, queues_);
      const uint16_t rx_queue = static_cast<uint16_t>(d.queue % queues_);
      if (!Out(queue, rx_queue).Push({p, d.hash, d.hash_valid})) break;
      touched |= uint64_t{1} << rx_queue;
      bytes += p->length;
    }
    for (uint16_t r = 0; touched != 0; ++r, touched >>= 1) {
      if (touched & 1) Out(queue, r).Publish();
    }
    QueueCounters& c = counters_[queue];
    c.tx_packets.Add(sent);
    c.tx_bytes.Add(bytes);
    c.tx_full.Add(count - sent);
    return sent;
  }

  uint16_t Receive(uint16_t queue, Packet** packets, uint16_t max) override {
    ReclaimSent(queue);
    QueueCounters& c = counters_[queue];
    PacketPool& pool = *pools_[queue];
    uint16_t got = 0;
    uint64_t bytes = 0;
    uint64_t dropped = 0;
    // Rotate the first source so one busy sender cannot starve the rest.
    const uint16_t first = next_source_[queue];
    next_source_[queue] = static_cast<uint16_t>((first + 1) % queues_);
    for (uint16_t k = 0; k < queues_ && got < max; ++k) {
      const uint16_t source = static_cast<uint16_t>((first + k) % queues_);
      Channel& channel = peer_->Out(source, queue);
      bool popped = false;
      while (got < max) {
        const Channel::Slot* slot = channel.Peek();
        if (slot == nullptr) break;
        Packet* copy = Deliver(*slot, pool);
        channel.Pop();
        popped = true;
        if (copy == nullptr) {
          ++dropped;
          continue;
        }
        bytes += copy->length;
        packets[got++] = copy;
      }
      if (popped) channel.Release();
    }
    c.rx_packets.Add(got);
    c.rx_bytes.Add(bytes);
    c.rx_dropped.Add(dropped);
    return got;
  }

 private:
  Channel& Out(uint16_t tx_queue, uint16_t rx_queue) {
    return *out_[size_t{tx_queue} * queues_ + rx_queue];
  }

  void ReclaimSent(uint16_t queue) {
    for (uint16_t r = 0; r < queues_; ++r) Out(queue, r).Reclaim();
  }

  // The receiver's copy of a frame, as DMA into a fresh RX buffer; null
  // when it is too long or the pool is empty (the frame is lost).
  Packet* Deliver(const Channel::Slot& slot, PacketPool& pool) {
    const Packet& source = *slot.packet;
    if (source.length > max_frame_) return nullptr;
    Packet* copy = pool.Allocate();
    if (copy == nullptr) return nullptr;
    uint8_t* data = copy->Append(source.length);
    if (data == nullptr) {
      FreePacket(copy);
      return nullptr;
    }
    std::memcpy(data, source.data(), source.length);
    if (source.flags & kTxChecksumFlags) {
      // The port fills checksums on the wire copy; the sender's buffer is
      // left as it was, as with a real NIC.
      copy->l2_length = source.l2_length;
      copy->l3_length = source.l3_length;
      copy->l4_length = source.l4_length;
      copy->flags = source.flags & kTxChecksumFlags;
      ApplyTxChecksums(*copy);
      copy->l2_length = copy->l3_length = copy->l4_length = 0;
      copy->flags = 0;
    }
    if (checksum_offload_) MarkRxChecksums(*copy);
    if (slot.hash_valid) {
      copy->flags |= kRxRssHashValid;
      copy->rss_hash = slot.hash;
    }
    return copy;
  }

  const uint16_t queues_;
  const uint16_t max_frame_;
  const bool checksum_offload_;
  const SteeringFunction* steering_;
  LinkInfo info_;
  Endpoint* peer_ = nullptr;
  std::vector<std::unique_ptr<HeapPacketPool>> pools_;
  // out_[tx * queues + rx]: frames from our TX queue tx to the peer's RX
  // queue rx.
  std::vector<std::unique_ptr<Channel>> out_;
  std::unique_ptr<QueueCounters[]> counters_;
  std::vector<uint16_t> next_source_;  // per RX queue, touched by its owner only
};

absl::StatusOr<std::unique_ptr<MemoryLinkPair>> MemoryLinkPair::Create(
    MemoryLinkConfig config) {
  if (config.queues == 0 || config.queues > kMemoryLinkMaxQueues) {
    return absl::InvalidArgumentError(absl::StrCat(
        "memory link: queues must be 1..", kMemoryLinkMaxQueues, ", got ", config.queues));
  }
  if (config.ring_size < 2 || (config.ring_size & (config.ring_size - 1)) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "memory link: ring_size must be a power of two >= 2, got ", config.ring_size));
  }
  if (config.pool_size < kMaxBurst) {
    return absl::InvalidArgumentError(absl::StrCat(
        "memory link: pool_size must be at least one burst (", kMaxBurst, "), got ",
        config.pool_size));
  }
  if (config.mtu < kMinMtu || config.mtu + kFrameOverhead > kPacketDataRoom) {
    return absl::InvalidArgumentError(absl::StrCat("memory link: mtu must be ", kMinMtu,
                                                   "..", kPacketDataRoom - kFrameOverhead,
                                                   ", got ", config.mtu));
  }
  for (uint16_t q : config.reta) {
    if (q >= config.queues) {
      return absl::InvalidArgumentError(
          absl::StrCat("memory link: reta names queue ", q, " of ", config.queues));
    }
  }
  if (!config.steering) config.steering = SameQueueSteering;
  return std::unique_ptr<MemoryLinkPair>(new MemoryLinkPair(std::move(config)));
}

MemoryLinkPair::MemoryLinkPair(MemoryLinkConfig config) : steering_(std::move(config.steering)) {
  a_ = std::make_unique<Endpoint>(config, config.mac_a, &steering_);
  b_ = std::make_unique<Endpoint>(config, config.mac_b, &steering_);
  a_->Connect(b_.get());
  b_->Connect(a_.get());
}

MemoryLinkPair::~MemoryLinkPair() = default;

Link& MemoryLinkPair::a() { return *a_; }
Link& MemoryLinkPair::b() { return *b_; }

}  // namespace locus::link
