// Session ticket keys as every core uses them: either the keys an operator
// configured, or a ring of generated keys that rotates on a schedule.
//
// TicketKeyRing is the rotation schedule alone: a state machine that owns
// no clock (the caller passes `now`), so tests drive it in virtual time.
// SharedTicketKeys is the one place per process (per data plane) that holds
// the keys in force; shards pull an immutable TicketKeySet from it in their
// housekeeping when its generation changes, never on the handshake path.
#ifndef LOCUS_PROXY_TLS_TICKET_KEY_RING_H_
#define LOCUS_PROXY_TLS_TICKET_KEY_RING_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "proxy/tls/ticket_keys.h"
#include "stack/base/time.h"

namespace locus::proxy::tls {

// Generated keys kept for decryption after they stop encrypting: a ticket
// is accepted for up to this many intervals plus the one it was issued in.
inline constexpr size_t kRetiredTicketKeys = 2;
// The lifetime hint sent to clients, in rotation intervals. One less than
// the keys' reach, so a client never holds a ticket whose key is gone.
inline constexpr int64_t kTicketLifetimeIntervals = 2;
// Bounds of a generated key's rotation interval (the API's 60s..86400s).
inline constexpr Duration kMinTicketRotation = Duration::Seconds(60);
inline constexpr Duration kMaxTicketRotation = Duration::Seconds(86400);
inline constexpr Duration kDefaultTicketRotation = Duration::Seconds(3600);

// What a config says about tickets (Config.session_tickets).
struct TicketSettings {
  // Explicit keys, first encrypts. Empty: generated keys.
  std::vector<TicketKey> keys;
  // Generated keys only.
  Duration rotation_interval = kDefaultTicketRotation;
  // No tickets issued or accepted.
  bool disabled = false;
  bool operator==(const TicketSettings&) const = default;
};

class TicketKeyRing {
 public:
  using Generator = std::function<std::string()>;

  // `interval` is clamped to kMinTicketRotation..kMaxTicketRotation (the
  // control plane refuses anything else; the clamp keeps a bad caller from
  // rotating in a loop). `generate` returns the bytes of a new key (80).
  explicit TicketKeyRing(Duration interval,
                         Generator generate = GenerateTicketKeyBytes);

  // Creates the first key on the first call; after that, rotates once per
  // elapsed interval (at most kRetiredTicketKeys + 1 times: older keys would
  // be dropped again at once). True when the keys changed.
  bool Advance(Instant now);
  // A new interval counts from the last rotation: the key in use keeps
  // encrypting until last rotation + interval.
  void SetInterval(Duration interval);

  // Newest (encrypting) first; empty before the first Advance.
  const std::vector<TicketKey>& keys() const { return keys_; }
  Duration interval() const { return interval_; }
  Duration lifetime_hint() const { return interval_ * kTicketLifetimeIntervals; }
  // When Advance will next rotate (meaningless before the first Advance).
  Instant next_rotation() const { return last_rotation_ + interval_; }

 private:
  void AddKey();

  Duration interval_;
  Generator generate_;
  std::vector<TicketKey> keys_;
  Instant last_rotation_;
};

// The keys in force, immutable once published.
struct TicketKeySet {
  uint64_t generation = 0;
  // First encrypts, all decrypt. Empty: tickets are off.
  std::vector<TicketKey> keys;
  // Session (and ticket) lifetime sent to clients.
  int64_t lifetime_seconds = 0;
};

class SharedTicketKeys {
 public:
  explicit SharedTicketKeys(
      TicketKeyRing::Generator generate = GenerateTicketKeyBytes);

  // Called by every shard that applies config `version`: the first call
  // with new settings publishes a new set (a new generation), later calls
  // with the same settings return it unchanged, so all shards end up on
  // one set. A shard that is behind (an older version than one already
  // applied) gets the current set: it never turns the keys back.
  std::shared_ptr<const TicketKeySet> Apply(const TicketSettings& settings,
                                            uint64_t version, Instant now);
  // Housekeeping on any shard: rotates generated keys when due. Cheap when
  // not due (one atomic load).
  void MaybeRotate(Instant now);
  // Lock-free: shards compare it with the generation they built from.
  uint64_t generation() const {
    return generation_.load(std::memory_order_acquire);
  }
  std::shared_ptr<const TicketKeySet> Current() const;

 private:
  void PublishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const TicketKeyRing::Generator generate_;
  mutable absl::Mutex mu_;
  std::optional<TicketSettings> settings_ ABSL_GUARDED_BY(mu_);
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  std::unique_ptr<TicketKeyRing> ring_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const TicketKeySet> current_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> generation_{0};
  // Nanoseconds of the next due rotation; max when nothing rotates.
  std::atomic<int64_t> next_rotation_ns_{INT64_MAX};
};

}  // namespace locus::proxy::tls

#endif  // LOCUS_PROXY_TLS_TICKET_KEY_RING_H_
