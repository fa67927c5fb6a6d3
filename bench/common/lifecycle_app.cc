#include "bench/common/lifecycle_app.h"

#include <array>
#include <cstdio>

namespace locus::bench {

namespace {
constexpr std::array<uint8_t, kMessageBytes> kRequest = [] {
  std::array<uint8_t, kMessageBytes> a{};
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<uint8_t>('a' + i % 26);
  return a;
}();
constexpr std::array<uint8_t, kMessageBytes> kResponse = [] {
  std::array<uint8_t, kMessageBytes> a{};
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<uint8_t>('A' + i % 26);
  return a;
}();

uint32_t SlotOf(tcp::Tcb* tcb) {
  return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(tcb->user_data()) - 1);
}
}  // namespace

void LifecycleClient::OnStart(engine::Shard& shard, Instant now) {
  slots_.assign(concurrency_, Slot{});
  for (uint32_t i = 0; i < concurrency_; ++i) Open(shard, i, now);
}

void LifecycleClient::Open(engine::Shard& shard, uint32_t slot, Instant now) {
  slots_[slot] = Slot{};
  if (draining_) return;
  uint16_t port = ports_[next_port_++ % ports_.size()];
  absl::StatusOr<tcp::Tcb*> tcb =
      shard.tcp().Connect(shard.stack().interface().address, server_, port, now);
  if (!tcb.ok()) {
    stats_.connect_errors.fetch_add(1, std::memory_order_relaxed);
    retry_.push_back(slot);
    return;
  }
  (*tcb)->set_user_data(reinterpret_cast<void*>(uintptr_t{slot} + 1));
  slots_[slot].tcb = *tcb;
}

void LifecycleClient::Finish(engine::Shard& shard, uint32_t slot, bool ok, Instant now) {
  Slot& s = slots_[slot];
  if (ok) {
    stats_.completed.fetch_add(1, std::memory_order_relaxed);
    s.tcb->Close();
  } else {
    stats_.failed.fetch_add(1, std::memory_order_relaxed);
    s.tcb->Abort();
  }
  Open(shard, slot, now);
}

void LifecycleClient::OnEvents(engine::Shard& shard, std::span<const tcp::EventRecord> events,
                               Instant now) {
  for (const tcp::EventRecord& e : events) {
    if (e.connection == nullptr) continue;
    tcp::Tcb* tcb = e.connection;
    uint32_t slot = SlotOf(tcb);
    Slot& s = slots_[slot];
    if (s.tcb != tcb) continue;
    if ((e.events & tcp::kEventConnected) && !s.sent) {
      s.sent = tcb->Write(kRequest) == kRequest.size();
    }
    while (tcb->readable() > 0) {
      std::span<const uint8_t> d = tcb->Peek();
      s.received += static_cast<uint32_t>(d.size());
      tcb->Consume(d.size());
    }
    if (s.received >= kMessageBytes && !s.shut) {
      tcb->Shutdown();  // our FIN: we close first, we keep TIME-WAIT
      s.shut = true;
    }
    if (e.events & tcp::kEventClosed) {
      bool ok = tcb->close_reason() == tcp::CloseReason::kNormal && s.received == kMessageBytes;
      Finish(shard, slot, ok, now);
      continue;
    }
    if (s.shut && tcb->peer_closed() && tcb->state() == tcp::TcpState::kTimeWait) {
      Finish(shard, slot, s.received == kMessageBytes, now);
    }
  }
}

size_t LifecycleClient::OnPoll(engine::Shard& shard, Instant now) {
  if (retry_.empty()) return 0;
  std::vector<uint32_t> again;
  again.swap(retry_);
  for (uint32_t slot : again) Open(shard, slot, now);
  return again.size();
}

void LifecycleServer::OnStart(engine::Shard& shard, Instant now) {
  for (uint16_t port : ports_) {
    absl::StatusOr<tcp::Listener*> l = shard.tcp().Listen(wire::Ipv4Address::Any(), port);
    if (!l.ok()) std::fprintf(stderr, "listen %u: %s\n", port, l.status().ToString().c_str());
  }
}

void LifecycleServer::Service(tcp::Tcb* tcb) {
  // user_data: 0 before the response was queued, 1 after.
  if (tcb->user_data() == nullptr && tcb->readable() >= kMessageBytes) {
    uint8_t buf[kMessageBytes];
    tcb->Read(buf);
    tcb->Write(kResponse);
    tcb->set_user_data(reinterpret_cast<void*>(uintptr_t{1}));
  }
  if (tcb->peer_closed() && tcb->user_data() != nullptr) {
    ++served_;
    tcb->Close();  // our FIN; the connection ends in LAST-ACK -> CLOSED
  }
}

void LifecycleServer::OnEvents(engine::Shard& shard, std::span<const tcp::EventRecord> events,
                               Instant now) {
  for (const tcp::EventRecord& e : events) {
    if (e.listener != nullptr) {
      while (tcp::Tcb* tcb = e.listener->Accept()) Service(tcb);
      continue;
    }
    tcp::Tcb* tcb = e.connection;
    if (e.events & tcp::kEventClosed) {
      tcb->Close();
      continue;
    }
    Service(tcb);
  }
}

}  // namespace locus::bench
