#include "stack/core/stack.h"

#include <algorithm>
#include <cstring>

#include "stack/wire/arp.h"
#include "stack/wire/checksum.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/icmp.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/tcp.h"

namespace locus::core {

namespace {

// Frames kept for the next Flush when the TX ring is full, before dropping.
constexpr size_t kMaxTxBacklog = 4 * link::kMaxBurst;
// Ethernet's minimum frame without FCS; short frames are padded.
constexpr size_t kMinFrameLength = 60;
constexpr Duration kArpExpireInterval = Duration::Seconds(10);

}  // namespace

std::string_view NetDropName(NetDrop d) {
  switch (d) {
    case NetDrop::kEthernetMalformed: return "ethernet_malformed";
    case NetDrop::kNotOurMac: return "not_our_mac";
    case NetDrop::kUnsupportedEtherType: return "unsupported_ethertype";
    case NetDrop::kArpMalformed: return "arp_malformed";
    case NetDrop::kIpv4Malformed: return "ipv4_malformed";
    case NetDrop::kIpv4BadChecksum: return "ipv4_bad_checksum";
    case NetDrop::kIpv4Fragment: return "ipv4_fragment";
    case NetDrop::kIpv4NotOurAddress: return "ipv4_not_our_address";
    case NetDrop::kIpv4BadSource: return "ipv4_bad_source";
    case NetDrop::kIcmpMalformed: return "icmp_malformed";
    case NetDrop::kIcmpUnsupported: return "icmp_unsupported";
    case NetDrop::kUnsupportedProtocol: return "unsupported_protocol";
    case NetDrop::kNoRoute: return "no_route";
    case NetDrop::kArpUnresolved: return "arp_unresolved";
    case NetDrop::kTxRingFull: return "tx_ring_full";
    case NetDrop::kNoBuffer: return "no_buffer";
    case NetDrop::kCount: break;
  }
  return "?";
}

Stack::Stack(const StackConfig& config, link::Link& link, uint16_t queue,
             const StackSecrets& secrets, Instant now)
    : config_(config),
      link_(link),
      queue_(queue),
      pool_(link.pool(queue)),
      mac_(config.interface.mac.value_or(link.info().mac)),
      tx_ipv4_checksum_(link.info().tx_ipv4_checksum),
      tx_tcp_checksum_(link.info().tx_tcp_checksum),
      wheel_(now, config.timer_tick),
      arp_(config.arp),
      tcp_(config.tcp, link.pool(queue), *this, wheel_, secrets.isn, secrets.cookies,
           config.tcp_limits),
      now_(now),
      next_arp_expire_(now + kArpExpireInterval) {
  tx_.reserve(kMaxTxBacklog + link::kMaxBurst);
}

Stack::~Stack() {
  for (link::Packet* p : tx_) link::FreePacket(p);
}

size_t Stack::PollInput(Instant now) {
  now_ = now;
  link::Packet* burst[link::kMaxBurst];
  uint16_t n = link_.Receive(queue_, burst, link::kMaxBurst);
  for (uint16_t i = 0; i < n; ++i) ReceiveFrame(burst[i], now);
  RunTimers(now);
  return n;
}

void Stack::RunTimers(Instant now) {
  now_ = now;
  wheel_.Advance(now);
  if (now >= next_arp_expire_) {
    arp_.Expire(now);
    next_arp_expire_ = now + kArpExpireInterval;
  }
}

void Stack::LearnFromArp(link::Packet* frame, Instant now) {
  now_ = now;
  std::span<const uint8_t> bytes = frame->bytes();
  if (bytes.size() >= wire::kEthernetHeaderLength) {
    wire::ParseResult<wire::ArpPacket> arp =
        wire::ArpPacket::Parse(bytes.subspan(wire::kEthernetHeaderLength));
    if (arp.ok() && arp->sender_ip != config_.interface.address && !arp->sender_ip.is_any() &&
        !arp->sender_mac.is_multicast()) {
      // Same merge rule as HandleArp, minus the reply.
      link::Packet* waiting = arp_.Update(arp->sender_ip, arp->sender_mac, now);
      if (waiting == nullptr && arp->target_ip == config_.interface.address) {
        waiting = arp_.Learn(arp->sender_ip, arp->sender_mac, now);
      }
      if (waiting != nullptr) SendQueuedFor(waiting, arp->sender_mac);
    }
  }
  link::FreePacket(frame);
}

void Stack::ReceiveFrame(link::Packet* frame, Instant now) {
  now_ = now;
  ++counters_.rx_frames;
  counters_.rx_bytes += frame->length;
  wire::ParseResult<wire::EthernetView> eth = wire::EthernetView::Parse(frame->bytes());
  if (!eth.ok()) {
    counters_.Drop(eth.error() == wire::WireError::kUnsupported ? NetDrop::kUnsupportedEtherType
                                                                : NetDrop::kEthernetMalformed);
    link::FreePacket(frame);
    return;
  }
  wire::MacAddress destination = eth->destination();
  if (destination != mac_ && !destination.is_broadcast()) {
    counters_.Drop(NetDrop::kNotOurMac);
    link::FreePacket(frame);
    return;
  }
  switch (eth->ether_type()) {
    case wire::kEtherTypeArp:
      HandleArp(frame, eth->payload(), now);
      return;
    case wire::kEtherTypeIpv4:
      if (destination.is_broadcast()) break;  // no IPv4 broadcast service here
      HandleIpv4(frame, eth->payload(), now);
      return;
    default:
      break;
  }
  counters_.Drop(NetDrop::kUnsupportedEtherType);
  link::FreePacket(frame);
}

void Stack::HandleArp(link::Packet* frame, std::span<const uint8_t> payload, Instant now) {
  wire::ParseResult<wire::ArpPacket> parsed = wire::ArpPacket::Parse(payload);
  if (!parsed.ok()) {
    counters_.Drop(NetDrop::kArpMalformed);
    link::FreePacket(frame);
    return;
  }
  wire::ArpPacket arp = *parsed;
  link::FreePacket(frame);
  if (arp.op == wire::ArpOp::kRequest) {
    ++counters_.arp_requests_in;
  } else {
    ++counters_.arp_replies_in;
  }
  wire::Ipv4Address ours = config_.interface.address;
  if (arp.sender_ip == ours || arp.sender_ip.is_any() || arp.sender_mac.is_multicast()) return;
  // RFC 826 "packet reception": merge into an existing entry, and add one
  // when we are the target.
  link::Packet* waiting = arp_.Update(arp.sender_ip, arp.sender_mac, now);
  if (arp.target_ip == ours) {
    if (waiting == nullptr) waiting = arp_.Learn(arp.sender_ip, arp.sender_mac, now);
    if (arp.op == wire::ArpOp::kRequest) {
      SendArp(static_cast<uint16_t>(wire::ArpOp::kReply), arp.sender_mac, arp.sender_ip,
              arp.sender_mac);
    }
  }
  if (waiting != nullptr) SendQueuedFor(waiting, arp.sender_mac);
}

void Stack::SendArp(uint16_t op, wire::MacAddress target_mac, wire::Ipv4Address target_ip,
                    wire::MacAddress ethernet_destination) {
  link::Packet* p = pool_.Allocate();
  if (p == nullptr) {
    counters_.Drop(NetDrop::kNoBuffer);
    return;
  }
  uint8_t* out = p->Append(kMinFrameLength);
  std::memset(out, 0, kMinFrameLength);
  wire::EthernetHeader{ethernet_destination, mac_, wire::kEtherTypeArp}.Emit(
      std::span<uint8_t>(out, wire::kEthernetHeaderLength));
  wire::ArpPacket arp{static_cast<wire::ArpOp>(op), mac_, config_.interface.address, target_mac,
                      target_ip};
  arp.Emit(std::span<uint8_t>(out + wire::kEthernetHeaderLength, wire::kArpLength));
  if (op == static_cast<uint16_t>(wire::ArpOp::kRequest)) {
    ++counters_.arp_requests_out;
  } else {
    ++counters_.arp_replies_out;
  }
  QueueFrame(p);
}

void Stack::AnnounceAddress(Instant now) {
  now_ = now;
  // RFC 5227 §2.3: an ARP request with sender and target both our address.
  SendArp(static_cast<uint16_t>(wire::ArpOp::kRequest), wire::MacAddress(),
          config_.interface.address, wire::MacAddress::Broadcast());
}

void Stack::HandleIpv4(link::Packet* frame, std::span<const uint8_t> payload, Instant now) {
  if (frame->flags & link::kRxIpChecksumBad) {
    counters_.Drop(NetDrop::kIpv4BadChecksum);
    link::FreePacket(frame);
    return;
  }
  wire::RxChecksum mode = (frame->flags & link::kRxIpChecksumGood) ? wire::RxChecksum::kSkip
                                                                   : wire::RxChecksum::kVerify;
  wire::ParseResult<wire::Ipv4View> ip = wire::Ipv4View::Parse(payload, mode);
  if (!ip.ok()) {
    switch (ip.error()) {
      case wire::WireError::kBadChecksum:
        counters_.Drop(NetDrop::kIpv4BadChecksum);
        break;
      case wire::WireError::kFragment:
        counters_.Drop(NetDrop::kIpv4Fragment);
        break;
      default:
        counters_.Drop(NetDrop::kIpv4Malformed);
        break;
    }
    link::FreePacket(frame);
    return;
  }
  wire::Ipv4Address source = ip->source();
  if (ip->destination() != config_.interface.address) {
    counters_.Drop(NetDrop::kIpv4NotOurAddress);
    link::FreePacket(frame);
    return;
  }
  if (source.is_any() || source.is_broadcast() || source.is_multicast() ||
      source == config_.interface.address || source == config_.interface.subnet().broadcast()) {
    counters_.Drop(NetDrop::kIpv4BadSource);
    link::FreePacket(frame);
    return;
  }
  ++counters_.ipv4_in;
  size_t header_length = ip->header_length();
  size_t total_length = ip->total_length();
  // Keep exactly the datagram: drop the Ethernet header and any padding.
  frame->TrimBack(static_cast<uint16_t>(frame->length - wire::kEthernetHeaderLength - total_length));
  switch (ip->protocol()) {
    case wire::kIpProtocolTcp: {
      bool checksum_ok = (frame->flags & link::kRxL4ChecksumGood) != 0;
      if (frame->flags & link::kRxL4ChecksumBad) {
        // Let TCP count it with its own reason.
        checksum_ok = false;
      }
      wire::Ipv4Address destination = ip->destination();
      frame->TrimFront(static_cast<uint16_t>(wire::kEthernetHeaderLength + header_length));
      tcp_.Input(source, destination, frame, checksum_ok, now);
      return;
    }
    case wire::kIpProtocolIcmp:
      HandleIcmp(frame, wire::kEthernetHeaderLength, header_length, ip->payload(), now);
      return;
    default:
      // RFC 1122 §3.2.2.1 / §4.1.3.1: nothing listens on UDP, and other
      // protocols are not spoken here: say so (rate limited).
      counters_.Drop(NetDrop::kUnsupportedProtocol);
      SendUnreachable(*frame, ip->protocol() == wire::kIpProtocolUdp ? kIcmpPortUnreachable
                                                                     : kIcmpProtocolUnreachable,
                      now);
      link::FreePacket(frame);
      return;
  }
}

void Stack::SendUnreachable(const link::Packet& frame, uint8_t code, Instant now) {
  // RFC 1812 §4.3.2.8 style token bucket: a burst, then a steady rate.
  if (now - unreachable_window_ >= Duration::Seconds(1)) {
    unreachable_window_ = now;
    unreachable_sent_ = 0;
  }
  if (unreachable_sent_ >= kMaxUnreachablePerSecond) return;
  const uint8_t* original = frame.data() + wire::kEthernetHeaderLength;
  size_t original_length = frame.length - wire::kEthernetHeaderLength;
  // RFC 1812 §4.3.2.3: as much of the datagram as fits in 576 bytes.
  size_t quoted = std::min<size_t>(original_length, 576 - wire::kIpv4MinHeaderLength -
                                                        wire::kIcmpHeaderLength);
  link::Packet* p = pool_.Allocate();
  if (p == nullptr) {
    counters_.Drop(NetDrop::kNoBuffer);
    return;
  }
  size_t icmp_length = wire::kIcmpHeaderLength + quoted;
  uint8_t* out = p->Append(static_cast<uint16_t>(wire::kIpv4MinHeaderLength + icmp_length));
  uint8_t* icmp = out + wire::kIpv4MinHeaderLength;
  std::memcpy(icmp + wire::kIcmpHeaderLength, original, quoted);
  wire::IcmpHeader{wire::kIcmpTypeDestinationUnreachable, code, 0}.Emit(
      std::span<uint8_t>(icmp, icmp_length));
  wire::Ipv4Header ip{};
  ip.total_length = static_cast<uint16_t>(wire::kIpv4MinHeaderLength + icmp_length);
  ip.id = next_ip_id_++;
  ip.ttl = wire::kIpv4DefaultTtl;
  ip.protocol = wire::kIpProtocolIcmp;
  ip.source = config_.interface.address;
  ip.destination = wire::Ipv4Address(wire::LoadBe32(original + 12));
  ip.Emit(std::span<uint8_t>(out, wire::kIpv4MinHeaderLength));
  ++unreachable_sent_;
  ++counters_.icmp_unreachable_out;
  ++counters_.ipv4_out;
  SendIpv4(p, ip.destination, now);
}

void Stack::HandleIcmp(link::Packet* frame, size_t ip_offset, size_t ip_header_length,
                       std::span<const uint8_t> icmp, Instant now) {
  (void)now;
  wire::ParseResult<wire::IcmpView> view = wire::IcmpView::Parse(icmp);
  if (!view.ok()) {
    counters_.Drop(NetDrop::kIcmpMalformed);
    link::FreePacket(frame);
    return;
  }
  if (!view->is_echo_request() || view->code() != 0) {
    counters_.Drop(NetDrop::kIcmpUnsupported);
    link::FreePacket(frame);
    return;
  }
  ++counters_.icmp_echo_in;
  // Answer in place (RFC 792, RFC 1122 §3.2.2.6): the same buffer goes
  // back with addresses swapped, so an echo costs no allocation.
  uint8_t* bytes = frame->data();
  uint8_t* ip = bytes + ip_offset;
  uint8_t* message = ip + ip_header_length;
  wire::MakeEchoReplyInPlace(std::span<uint8_t>(message, icmp.size()));
  wire::Ipv4Header reply{};
  reply.total_length = static_cast<uint16_t>(wire::kIpv4MinHeaderLength + icmp.size());
  reply.id = next_ip_id_++;
  reply.ttl = wire::kIpv4DefaultTtl;
  reply.protocol = wire::kIpProtocolIcmp;
  reply.source = config_.interface.address;
  reply.destination = wire::Ipv4Address(wire::LoadBe32(ip + 12));
  if (ip_header_length > wire::kIpv4MinHeaderLength) {
    // Options are not echoed (RFC 1122 §3.2.2.6 allows it): close the gap.
    std::memmove(ip + wire::kIpv4MinHeaderLength, message, icmp.size());
    frame->TrimBack(static_cast<uint16_t>(ip_header_length - wire::kIpv4MinHeaderLength));
  }
  reply.Emit(std::span<uint8_t>(ip, wire::kIpv4MinHeaderLength));
  wire::MacAddress requester = wire::MacAddress::FromBytes(bytes + 6);
  wire::EthernetHeader{requester, mac_, wire::kEtherTypeIpv4}.Emit(
      std::span<uint8_t>(bytes, wire::kEthernetHeaderLength));
  frame->flags = 0;
  ++counters_.icmp_echo_out;
  ++counters_.ipv4_out;
  QueueFrame(frame);
}

void Stack::TransmitSegment(const tcp::FourTuple& tuple, link::Packet* segment) {
  uint16_t segment_length = segment->length;
  uint8_t* tcp = segment->data();
  // TCP emits segments with the pseudo-header sum already in the checksum
  // field (the offload convention): the NIC, or a sum over the segment as
  // it stands, completes it.
  if (tx_tcp_checksum_) {
    segment->flags |= link::kTxTcpChecksum;
    segment->l4_length = static_cast<uint8_t>((tcp[12] >> 4) * 4);
  } else {
    // The TCP layer already stored the pseudo-header sum in the checksum
    // field (TxChecksum::kOffload): summing the segment includes it once.
    wire::InternetChecksum sum;
    sum.Add(segment->bytes());
    wire::StoreBe16(tcp + 16, sum.Checksum());
  }
  wire::Ipv4Header ip{};
  ip.total_length = static_cast<uint16_t>(wire::kIpv4MinHeaderLength + segment_length);
  ip.id = next_ip_id_++;
  ip.dont_fragment = true;
  ip.ttl = wire::kIpv4DefaultTtl;
  ip.protocol = wire::kIpProtocolTcp;
  ip.source = tuple.local_ip;
  ip.destination = tuple.remote_ip;
  uint8_t* header = segment->Prepend(wire::kIpv4MinHeaderLength);
  if (header == nullptr) {
    counters_.Drop(NetDrop::kNoBuffer);
    link::FreePacket(segment);
    return;
  }
  if (tx_ipv4_checksum_) {
    ip.Emit(std::span<uint8_t>(header, wire::kIpv4MinHeaderLength), wire::TxChecksum::kOffload);
    segment->flags |= link::kTxIpv4Checksum;
  } else {
    ip.Emit(std::span<uint8_t>(header, wire::kIpv4MinHeaderLength));
  }
  segment->l3_length = wire::kIpv4MinHeaderLength;
  segment->l2_length = wire::kEthernetHeaderLength;
  ++counters_.ipv4_out;
  SendIpv4(segment, tuple.remote_ip, now_);
}

void Stack::SendIpv4(link::Packet* packet, wire::Ipv4Address destination, Instant now) {
  const InterfaceConfig& iface = config_.interface;
  wire::Ipv4Address next_hop = destination;
  if (!iface.subnet().Contains(destination)) {
    if (iface.gateway.is_any()) {
      counters_.Drop(NetDrop::kNoRoute);
      link::FreePacket(packet);
      return;
    }
    next_hop = iface.gateway;
  }
  bool queued = false;
  net::ArpCache::Resolution r = arp_.Resolve(next_hop, now, packet, &queued);
  if (r.send_request) {
    SendArp(static_cast<uint16_t>(wire::ArpOp::kRequest), wire::MacAddress(), next_hop,
            wire::MacAddress::Broadcast());
  }
  if (r.mac.has_value()) {
    SendQueuedFor(packet, *r.mac);
  } else if (!queued) {
    counters_.Drop(NetDrop::kArpUnresolved);
    link::FreePacket(packet);
  }
}

void Stack::SendQueuedFor(link::Packet* chain, wire::MacAddress mac) {
  while (chain != nullptr) {
    link::Packet* p = chain;
    chain = p->next;
    p->next = nullptr;
    uint8_t* eth = p->Prepend(wire::kEthernetHeaderLength);
    if (eth == nullptr) {
      counters_.Drop(NetDrop::kNoBuffer);
      link::FreePacket(p);
      continue;
    }
    wire::EthernetHeader{mac, mac_, wire::kEtherTypeIpv4}.Emit(
        std::span<uint8_t>(eth, wire::kEthernetHeaderLength));
    if (p->length < kMinFrameLength) {
      uint16_t pad = static_cast<uint16_t>(kMinFrameLength - p->length);
      std::memset(p->Append(pad), 0, pad);
    }
    QueueFrame(p);
  }
}

void Stack::QueueFrame(link::Packet* frame) {
  ++counters_.tx_frames;
  counters_.tx_bytes += frame->length;
  tx_.push_back(frame);
  if (tx_.size() >= link::kMaxBurst * 2) {
    uint16_t sent = link_.Transmit(queue_, tx_.data(), static_cast<uint16_t>(tx_.size()));
    tx_.erase(tx_.begin(), tx_.begin() + sent);
  }
}

void Stack::Flush(Instant now) {
  now_ = now;
  tcp_.FlushOutput(now);
  size_t offset = 0;
  while (offset < tx_.size()) {
    uint16_t count = static_cast<uint16_t>(std::min<size_t>(tx_.size() - offset, link::kMaxBurst));
    uint16_t sent = link_.Transmit(queue_, tx_.data() + offset, count);
    offset += sent;
    if (sent < count) break;  // ring full: keep the rest for next time
  }
  tx_.erase(tx_.begin(), tx_.begin() + static_cast<long>(offset));
  while (tx_.size() > kMaxTxBacklog) {
    counters_.Drop(NetDrop::kTxRingFull);
    link::FreePacket(tx_.back());
    tx_.pop_back();
  }
}

}  // namespace locus::core
