#include "stack/net/arp_cache.h"

#include <vector>

namespace locus::net {

ArpCache::~ArpCache() {
  for (auto& [ip, e] : entries_) {
    while (link::Packet* p = e.pending_head) {
      e.pending_head = p->next;
      link::FreePacket(p);
    }
  }
}

ArpCache::Resolution ArpCache::Resolve(wire::Ipv4Address ip, Instant now, link::Packet* packet,
                                       bool* queued) {
  if (queued != nullptr) *queued = false;
  Resolution r;
  auto it = entries_.find(ip);
  if (it == entries_.end()) {
    if (entries_.size() >= config_.max_entries) Expire(now);
    if (entries_.size() >= config_.max_entries) return r;  // full: caller drops
    it = entries_.emplace(ip, Entry{}).first;
  }
  Entry& e = it->second;
  if (e.resolved) {
    r.mac = e.mac;
    // Past its reachable time: keep using it but ask again (rate limited).
    if (now >= e.expires && (!e.requested || now - e.last_request >= config_.request_interval)) {
      e.requested = true;
      e.last_request = now;
      r.send_request = true;
    }
    return r;
  }
  if (packet != nullptr) {
    if (e.pending < config_.max_pending_per_neighbor &&
        pending_total_ < config_.max_pending_total) {
      packet->next = nullptr;
      if (e.pending_tail == nullptr) {
        e.pending_head = packet;
      } else {
        e.pending_tail->next = packet;
      }
      e.pending_tail = packet;
      ++e.pending;
      ++pending_total_;
      if (queued != nullptr) *queued = true;
    } else {
      ++pending_dropped_;
    }
  }
  if (!e.requested || now - e.last_request >= config_.request_interval) {
    e.requested = true;
    e.last_request = now;
    r.send_request = true;
  }
  return r;
}

link::Packet* ArpCache::Store(Entry& e, wire::MacAddress mac, Instant now) {
  e.mac = mac;
  e.resolved = true;
  e.requested = false;
  e.expires = now + config_.reachable;
  link::Packet* waiting = e.pending_head;
  e.pending_head = e.pending_tail = nullptr;
  pending_total_ -= e.pending;
  e.pending = 0;
  return waiting;
}

link::Packet* ArpCache::Learn(wire::Ipv4Address ip, wire::MacAddress mac, Instant now) {
  auto it = entries_.find(ip);
  if (it == entries_.end()) {
    if (entries_.size() >= config_.max_entries) Expire(now);
    if (entries_.size() >= config_.max_entries) return nullptr;
    it = entries_.emplace(ip, Entry{}).first;
  }
  return Store(it->second, mac, now);
}

link::Packet* ArpCache::Update(wire::Ipv4Address ip, wire::MacAddress mac, Instant now) {
  auto it = entries_.find(ip);
  if (it == entries_.end()) return nullptr;
  return Store(it->second, mac, now);
}

size_t ArpCache::Expire(Instant now) {
  std::vector<wire::Ipv4Address> dead;
  for (auto& [ip, e] : entries_) {
    bool stale = e.resolved ? now >= e.expires + config_.stale_grace
                            : now - e.last_request >= config_.stale_grace;
    if (stale) dead.push_back(ip);
  }
  for (wire::Ipv4Address ip : dead) {
    auto it = entries_.find(ip);
    while (link::Packet* p = it->second.pending_head) {
      it->second.pending_head = p->next;
      ++pending_dropped_;
      link::FreePacket(p);
    }
    pending_total_ -= it->second.pending;
    entries_.erase(it);
  }
  return dead.size();
}

std::optional<wire::MacAddress> ArpCache::Peek(wire::Ipv4Address ip) const {
  auto it = entries_.find(ip);
  if (it == entries_.end() || !it->second.resolved) return std::nullopt;
  return it->second.mac;
}

}  // namespace locus::net
