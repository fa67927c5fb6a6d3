#include "proxy/tls/ticket_key_ring.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "proxy/tls/settings.h"

namespace locus::proxy::tls {

TicketKeyRing::TicketKeyRing(Duration interval, Generator generate)
    : interval_(std::clamp(interval, kMinTicketRotation, kMaxTicketRotation)),
      generate_(std::move(generate)) {}

void TicketKeyRing::AddKey() {
  absl::StatusOr<TicketKey> key = ParseTicketKey(generate_());
  if (!key.ok()) {
    // The generator makes keys of the right size by construction.
    abort();
  }
  keys_.insert(keys_.begin(), *key);
  if (keys_.size() > kRetiredTicketKeys + 1) keys_.resize(kRetiredTicketKeys + 1);
}

bool TicketKeyRing::Advance(Instant now) {
  if (keys_.empty()) {
    AddKey();
    last_rotation_ = now;
    return true;
  }
  bool changed = false;
  for (size_t i = 0; i <= kRetiredTicketKeys && now >= next_rotation(); ++i) {
    AddKey();
    last_rotation_ = last_rotation_ + interval_;
    changed = true;
  }
  // After a long pause (a stopped process, a clock jump) the schedule
  // restarts from now instead of rotating to catch up.
  if (now >= next_rotation()) last_rotation_ = now;
  return changed;
}

void TicketKeyRing::SetInterval(Duration interval) {
  interval_ = std::clamp(interval, kMinTicketRotation, kMaxTicketRotation);
}

SharedTicketKeys::SharedTicketKeys(TicketKeyRing::Generator generate)
    : generate_(std::move(generate)) {}

void SharedTicketKeys::PublishLocked() {
  auto set = std::make_shared<TicketKeySet>();
  set->generation = generation_.load(std::memory_order_relaxed) + 1;
  int64_t next = INT64_MAX;
  if (settings_->disabled) {
    // No keys: the contexts issue and accept no tickets.
  } else if (!settings_->keys.empty()) {
    set->keys = settings_->keys;
    set->lifetime_seconds = kSessionLifetimeSeconds;
  } else {
    set->keys = ring_->keys();
    set->lifetime_seconds = ring_->lifetime_hint().nanos() / 1000000000;
    next = ring_->next_rotation().nanos();
  }
  current_ = std::move(set);
  next_rotation_ns_.store(next, std::memory_order_release);
  generation_.store(current_->generation, std::memory_order_release);
}

std::shared_ptr<const TicketKeySet> SharedTicketKeys::Apply(
    const TicketSettings& settings, uint64_t version, Instant now) {
  absl::MutexLock lock(&mu_);
  if (settings_.has_value() && (*settings_ == settings || version < version_)) {
    return current_;
  }
  settings_ = settings;
  version_ = version;
  if (!settings.disabled && settings.keys.empty()) {
    // Generated keys survive changes of the interval and detours through
    // explicit keys: tickets already out keep resuming.
    if (ring_ == nullptr) {
      ring_ = std::make_unique<TicketKeyRing>(settings.rotation_interval, generate_);
    } else {
      ring_->SetInterval(settings.rotation_interval);
    }
    ring_->Advance(now);
  }
  PublishLocked();
  return current_;
}

void SharedTicketKeys::MaybeRotate(Instant now) {
  if (now.nanos() < next_rotation_ns_.load(std::memory_order_acquire)) return;
  absl::MutexLock lock(&mu_);
  // Another shard may have rotated between the check and the lock.
  if (ring_ == nullptr || !settings_.has_value() || settings_->disabled ||
      !settings_->keys.empty()) {
    return;
  }
  if (ring_->Advance(now)) PublishLocked();
}

std::shared_ptr<const TicketKeySet> SharedTicketKeys::Current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

}  // namespace locus::proxy::tls
