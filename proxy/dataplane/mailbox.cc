#include "proxy/dataplane/mailbox.h"

#include "proxy/dataplane/config.h"
#include "proxy/lb/pool_snapshot.h"

namespace locus::proxy::dataplane {

absl::StatusOr<std::unique_ptr<ShardMailbox>> ShardMailbox::Create(unsigned shards) {
  std::unique_ptr<ShardMailbox> m(new ShardMailbox(shards));
  for (auto* rings : {&m->control_, &m->to_owner_, &m->from_owner_}) {
    for (unsigned i = 0; i < shards; ++i) {
      absl::StatusOr<std::unique_ptr<SpscRing<ShardMessage>>> ring =
          SpscRing<ShardMessage>::Create(kMailboxRingSize);
      if (!ring.ok()) return ring.status();
      rings->push_back(std::move(*ring));
    }
  }
  return m;
}

ShardMailbox::~ShardMailbox() {
  for (auto* rings : {&control_, &to_owner_, &from_owner_}) {
    for (auto& ring : *rings) {
      ShardMessage m;
      while (ring->Dequeue(&m)) Discard(m);
    }
  }
}

void ShardMailbox::Discard(const ShardMessage& m) {
  switch (m.kind) {
    case ShardMessage::Kind::kConfig:
      delete static_cast<std::shared_ptr<const CompiledConfig>*>(m.payload);
      break;
    case ShardMessage::Kind::kPoolSnapshot:
      delete static_cast<std::shared_ptr<const lb::PoolSnapshot>*>(m.payload);
      break;
    case ShardMessage::Kind::kDrain:
      delete static_cast<std::string*>(m.payload);
      break;
    case ShardMessage::Kind::kOutcome:
      break;
  }
}

EndpointCounters* EndpointTable::FindOrAdd(const std::string& pool, const lb::EndpointKey& key) {
  size_t n = size_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < n; ++i) {
    if (entries_[i].key == key && entries_[i].pool == pool) return &entries_[i];
  }
  if (n >= entries_.size()) return nullptr;
  entries_[n].pool = pool;
  entries_[n].key = key;
  size_.store(n + 1, std::memory_order_release);
  return &entries_[n];
}

ListenerGauge* ListenerGaugeTable::FindOrAdd(const std::string& name) {
  size_t n = size_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < n; ++i) {
    if (entries_[i].name == name) return &entries_[i];
  }
  if (n >= entries_.size()) return nullptr;
  entries_[n].name = name;
  size_.store(n + 1, std::memory_order_release);
  return &entries_[n];
}

}  // namespace locus::proxy::dataplane
