#include "stack/echod/echo_app.h"

#include <algorithm>
#include <cstdio>

namespace locus::echod {

namespace {
constexpr size_t kChunk = 16 * 1024;
}  // namespace

uint8_t StreamByte(uint64_t id, uint64_t offset) {
  uint64_t x = (id * 0x9e3779b97f4a7c15ULL) ^ (offset / 8 * 0xbf58476d1ce4e5b9ULL);
  x ^= x >> 31;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 29;
  return static_cast<uint8_t>(x >> ((offset % 8) * 8));
}

void ServerApp::OnStart(engine::Shard& shard, Instant now) {
  wire::Ipv4Address any = wire::Ipv4Address::Any();
  if (options_.echo_port != 0) {
    absl::StatusOr<tcp::Listener*> l = shard.tcp().Listen(any, options_.echo_port);
    if (l.ok()) {
      echo_ = *l;
    } else {
      std::fprintf(stderr, "echod: shard %u: %s\n", shard.index(), l.status().ToString().c_str());
    }
  }
  if (options_.discard_port != 0) {
    absl::StatusOr<tcp::Listener*> l = shard.tcp().Listen(any, options_.discard_port);
    if (l.ok()) {
      discard_ = *l;
    } else {
      std::fprintf(stderr, "echod: shard %u: %s\n", shard.index(), l.status().ToString().c_str());
    }
  }
}

void ServerApp::Service(tcp::Tcb* tcb, Role role) {
  if (role == Role::kEcho) {
    // Zero copy: the received buffers move into the send queue. When the
    // send buffer is full the rest stays unread and the window closes,
    // which is the backpressure an echo server needs.
    size_t moved = tcb->Splice(*tcb);
    counters_->bytes_echoed.fetch_add(moved, std::memory_order_relaxed);
  } else {
    size_t n = tcb->readable();
    tcb->Consume(n);
    counters_->bytes_discarded.fetch_add(n, std::memory_order_relaxed);
  }
  if (tcb->peer_closed() && tcb->readable() == 0) tcb->Shutdown();
}

void ServerApp::OnEvents(engine::Shard& shard, std::span<const tcp::EventRecord> events,
                         Instant now) {
  for (const tcp::EventRecord& e : events) {
    if (e.listener != nullptr) {
      Role role = e.listener == echo_ ? Role::kEcho : Role::kDiscard;
      while (tcp::Tcb* tcb = e.listener->Accept()) {
        counters_->accepted.fetch_add(1, std::memory_order_relaxed);
        tcb->set_user_data(reinterpret_cast<void*>(static_cast<uintptr_t>(role)));
        Service(tcb, role);
      }
      continue;
    }
    tcp::Tcb* tcb = e.connection;
    if (e.events & tcp::kEventClosed) {
      counters_->closed.fetch_add(1, std::memory_order_relaxed);
      tcb->Close();
      continue;
    }
    Role role = static_cast<Role>(reinterpret_cast<uintptr_t>(tcb->user_data()));
    Service(tcb, role);
    if (tcb->state() == tcp::TcpState::kLastAck || tcb->state() == tcp::TcpState::kClosing) {
      // Our FIN is queued; nothing more to do but let the handle go.
      tcb->Close();
      counters_->closed.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

void ClientApp::OnStart(engine::Shard& shard, Instant now) {
  deadline_ = now + options_.timeout;
  rounds_left_.assign(options_.connections, options_.rounds);
  for (uint32_t slot = 0; slot < options_.connections; ++slot) Open(shard, slot, now);
}

void ClientApp::Open(engine::Shard& shard, uint32_t slot, Instant now) {
  if (rounds_left_[slot] == 0) {
    if (++finished_slots_ == options_.connections) report_->done.store(true);
    return;
  }
  --rounds_left_[slot];
  absl::StatusOr<tcp::Tcb*> tcb = shard.tcp().Connect(shard.stack().interface().address,
                                                     options_.server, options_.port, now);
  if (!tcb.ok()) {
    std::fprintf(stderr, "echod: connect: %s\n", tcb.status().ToString().c_str());
    report_->failed.fetch_add(1);
    Open(shard, slot, now);
    return;
  }
  Flow flow;
  flow.id = next_id_++;
  flow.slot = slot;
  flows_[*tcb] = flow;
}

void ClientApp::Pump(tcp::Tcb* tcb, Flow& flow) {
  // Send what fits.
  uint8_t chunk[kChunk];
  while (flow.sent < options_.bytes && tcb->writable() > 0) {
    size_t n = std::min<uint64_t>({kChunk, options_.bytes - flow.sent, tcb->writable()});
    for (size_t i = 0; i < n; ++i) chunk[i] = StreamByte(flow.id, flow.sent + i);
    size_t written = tcb->Write({chunk, n});
    flow.sent += written;
    report_->bytes_sent.fetch_add(written, std::memory_order_relaxed);
    if (written < n) break;
  }
  if (flow.sent == options_.bytes && tcb->state() == tcp::TcpState::kEstablished) {
    tcb->Shutdown();
  }
  // Check what came back.
  while (tcb->readable() > 0) {
    std::span<const uint8_t> data = tcb->Peek();
    for (size_t i = 0; i < data.size(); ++i) {
      if (data[i] != StreamByte(flow.id, flow.received + i)) {
        report_->mismatches.fetch_add(1);
        break;
      }
    }
    flow.received += data.size();
    report_->bytes_verified.fetch_add(data.size(), std::memory_order_relaxed);
    tcb->Consume(data.size());
  }
}

void ClientApp::Finish(engine::Shard& shard, tcp::Tcb* tcb, bool ok, Instant now) {
  auto it = flows_.find(tcb);
  if (it == flows_.end()) return;
  uint32_t slot = it->second.slot;
  flows_.erase(it);
  if (ok) {
    report_->completed.fetch_add(1);
    tcb->Close();
  } else {
    report_->failed.fetch_add(1);
    tcb->Abort();
  }
  Open(shard, slot, now);
}

void ClientApp::OnEvents(engine::Shard& shard, std::span<const tcp::EventRecord> events,
                         Instant now) {
  for (const tcp::EventRecord& e : events) {
    tcp::Tcb* tcb = e.connection;
    if (tcb == nullptr) continue;
    auto it = flows_.find(tcb);
    if (it == flows_.end()) continue;
    Flow& flow = it->second;
    if (e.events & tcp::kEventConnected) flow.connected = true;
    Pump(tcb, flow);
    bool all_back = flow.received == options_.bytes;
    if (e.events & tcp::kEventClosed) {
      std::fprintf(stderr, "echod: connection %llu closed (%s) after %llu/%llu bytes back\n",
                   static_cast<unsigned long long>(flow.id),
                   std::string(tcp::CloseReasonName(tcb->close_reason())).c_str(),
                   static_cast<unsigned long long>(flow.received),
                   static_cast<unsigned long long>(options_.bytes));
      Finish(shard, tcb, all_back && tcb->close_reason() == tcp::CloseReason::kNormal, now);
    } else if (all_back && tcb->peer_closed()) {
      Finish(shard, tcb, true, now);
    }
  }
}

size_t ClientApp::OnPoll(engine::Shard& shard, Instant now) {
  if (now < deadline_ || flows_.empty()) return 0;
  // Out of time: everything still open failed.
  std::vector<tcp::Tcb*> open;
  for (auto& [tcb, flow] : flows_) open.push_back(tcb);
  for (tcp::Tcb* tcb : open) {
    auto it = flows_.find(tcb);
    rounds_left_[it->second.slot] = 0;
    Finish(shard, tcb, false, now);
  }
  return open.size();
}

}  // namespace locus::echod
