// Packet buffers as the stack sees them, independent of where they live.
//
// On DPDK a Packet sits in the private area of its rte_mbuf, so converting
// between the two is pointer arithmetic and costs no allocation; the DPDK
// link copies the few fields that differ at RX and TX. The in-memory link
// and tests use HeapPacketPool. Either way a Packet belongs to exactly one
// core at a time and is returned to the pool it came from.
#ifndef LOCUS_STACK_LINK_PACKET_H_
#define LOCUS_STACK_LINK_PACKET_H_

#include <cstddef>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>

namespace locus::link {

// Matches RTE_PKTMBUF_HEADROOM so that both pools leave room for headers.
inline constexpr uint16_t kPacketHeadroom = 128;
// Enough for a 1500-byte MTU frame plus headroom; matches
// RTE_MBUF_DEFAULT_DATAROOM.
inline constexpr uint16_t kPacketDataRoom = 2048;
inline constexpr uint16_t kPacketBufferSize = kPacketHeadroom + kPacketDataRoom;

// Per-packet offload requests (TX) and results (RX).
//
// TX requests (set only for an Ethernet + IPv4 frame, and only when the
// link's LinkInfo offers the offload; a link that is asked anyway computes
// the checksum in software so the frame is still right):
//   kTxIpv4Checksum: l2_length and l3_length set; the IPv4 checksum field
//     holds 0. The port writes the header checksum.
//   kTxTcpChecksum: l2_length, l3_length and l4_length set; the TCP
//     checksum field holds the pseudo-header sum, i.e. the folded, NOT
//     inverted one's-complement sum of source address, destination
//     address, zero + protocol and TCP length (IPv4 total length minus
//     l3_length), stored big-endian: Ipv4PseudoHeaderSum() in
//     stack/link/checksum.h, the same bytes as DPDK's rte_ipv4_phdr_cksum()
//     stored as-is. The port sums the segment from l2_length + l3_length
//     to the end of the IP packet, including that seed, and writes the
//     inverted result. Intel-class NICs need the seed; ports that compute
//     the pseudo-header themselves (net_tap) ignore it.
// RX results (a port sets at most one of each Good/Bad pair; neither means
// "not checked", and the stack must verify in software):
//   kRxIpChecksumGood/Bad, kRxL4ChecksumGood/Bad (TCP or UDP),
//   kRxRssHashValid: rss_hash holds the port's RSS hash of the frame.
enum PacketFlags : uint32_t {
  kTxIpv4Checksum = 1u << 0,
  kTxTcpChecksum = 1u << 1,
  kRxIpChecksumGood = 1u << 8,
  kRxIpChecksumBad = 1u << 9,
  kRxL4ChecksumGood = 1u << 10,
  kRxL4ChecksumBad = 1u << 11,
  kRxRssHashValid = 1u << 12,
  // Internal to a host: set by the multi-core dispatcher on the copy of an
  // ARP frame it sends to the other cores, which learn from it and do not
  // answer it.
  kSteerArpLearnOnly = 1u << 16,
};
inline constexpr uint32_t kTxChecksumFlags = kTxIpv4Checksum | kTxTcpChecksum;

class PacketPool;

struct Packet {
  uint8_t* buffer = nullptr;   // start of the buffer, not of the data
  uint16_t capacity = 0;       // bytes in buffer
  uint16_t data_offset = 0;    // bytes of headroom before data()
  uint16_t length = 0;         // bytes of data
  uint8_t l2_length = 0;       // header lengths, for checksum offload
  uint8_t l3_length = 0;
  uint8_t l4_length = 0;
  uint32_t flags = 0;          // PacketFlags
  uint32_t rss_hash = 0;       // valid with kRxRssHashValid
  PacketPool* pool = nullptr;  // where Free() returns it
  void* native = nullptr;      // the rte_mbuf on DPDK, else null
  Packet* next = nullptr;      // intrusive link for whoever holds the packet

  uint8_t* data() { return buffer + data_offset; }
  const uint8_t* data() const { return buffer + data_offset; }
  std::span<uint8_t> bytes() { return {data(), length}; }
  std::span<const uint8_t> bytes() const { return {data(), length}; }
  uint16_t headroom() const { return data_offset; }
  uint16_t tailroom() const {
    return static_cast<uint16_t>(capacity - data_offset - length);
  }

  // Grows the data at the front by n bytes; null when there is no headroom.
  uint8_t* Prepend(uint16_t n) {
    if (n > data_offset) return nullptr;
    data_offset = static_cast<uint16_t>(data_offset - n);
    length = static_cast<uint16_t>(length + n);
    return data();
  }
  // Grows the data at the back by n bytes and returns the first new byte;
  // null when there is no tailroom.
  uint8_t* Append(uint16_t n) {
    if (n > tailroom()) return nullptr;
    uint8_t* end = data() + length;
    length = static_cast<uint16_t>(length + n);
    return end;
  }
  // Drops n bytes from the front; false (and no change) if n > length.
  bool TrimFront(uint16_t n) {
    if (n > length) return false;
    data_offset = static_cast<uint16_t>(data_offset + n);
    length = static_cast<uint16_t>(length - n);
    return true;
  }
  // Drops n bytes from the back; false (and no change) if n > length.
  bool TrimBack(uint16_t n) {
    if (n > length) return false;
    length = static_cast<uint16_t>(length - n);
    return true;
  }
  // Empties the packet and restores the default headroom.
  void Reset() {
    data_offset = capacity < kPacketHeadroom ? 0 : kPacketHeadroom;
    length = 0;
    l2_length = l3_length = l4_length = 0;
    flags = 0;
    rss_hash = 0;
    next = nullptr;
  }
};

// A pool of packet buffers owned by one core. Not thread-safe: only its
// owner allocates from it and frees to it.
class PacketPool {
 public:
  virtual ~PacketPool() = default;
  // A reset packet with kPacketHeadroom headroom, or null when exhausted.
  virtual Packet* Allocate() = 0;
  virtual void Free(Packet* packet) = 0;
  virtual size_t available() const = 0;
  virtual size_t capacity() const = 0;
};

inline void FreePacket(Packet* packet) {
  if (packet != nullptr) packet->pool->Free(packet);
}

struct PacketDeleter {
  void operator()(Packet* packet) const { FreePacket(packet); }
};
using PacketPtr = std::unique_ptr<Packet, PacketDeleter>;

// A fixed number of heap buffers allocated up front; Allocate and Free are
// O(1) and never touch the heap afterwards. Allocate belongs to one thread
// (the first that calls it). Free may come from any thread, as with a
// DPDK mempool: a frame steered to another core is freed there; such
// remote frees go on a lock-free list that the owner takes back when its
// own list runs dry.
class HeapPacketPool final : public PacketPool {
 public:
  explicit HeapPacketPool(size_t count, uint16_t buffer_size = kPacketBufferSize);
  ~HeapPacketPool() override;
  HeapPacketPool(const HeapPacketPool&) = delete;
  HeapPacketPool& operator=(const HeapPacketPool&) = delete;

  Packet* Allocate() override;
  void Free(Packet* packet) override;
  size_t available() const override {
    return available_ + remote_count_.load(std::memory_order_relaxed);
  }
  size_t capacity() const override { return count_; }

 private:
  bool CalledByOwner() const;
  void TakeBackRemote();

  size_t count_;
  size_t available_;
  std::unique_ptr<Packet[]> packets_;
  std::unique_ptr<uint8_t[]> storage_;
  Packet* free_list_ = nullptr;
  std::atomic<const void*> owner_{nullptr};
  std::atomic<Packet*> remote_head_{nullptr};
  std::atomic<size_t> remote_count_{0};
};

}  // namespace locus::link

#endif  // LOCUS_STACK_LINK_PACKET_H_
