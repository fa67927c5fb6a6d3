// Fans config changes out to Watch streams. Publishing never blocks: each
// subscription has a bounded queue, and one that is full is closed with
// RESOURCE_EXHAUSTED instead of slowing the apply down.
#ifndef LOCUS_PROXY_CONTROL_WATCH_HUB_H_
#define LOCUS_PROXY_CONTROL_WATCH_HUB_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "locus/api/v1/control_plane.pb.h"
#include "proxy/control/data_plane.h"

namespace locus::proxy::control {

// Events a watcher may fall behind by before it is dropped.
inline constexpr size_t kDefaultWatchQueueLimit = 64;

struct ConfigChange {
  std::shared_ptr<const ConfigSnapshot> snapshot;
  std::vector<api::v1::ResourceChange> changes;
};

class WatchHub {
 public:
  class Subscription {
   public:
    enum class Next { kEvent, kTimeout, kClosed };

    // Waits up to `timeout` for the next event. kClosed: the subscription
    // ended (fell behind, or the hub shut down); `*closed` says why.
    Next Wait(absl::Duration timeout, api::v1::WatchEvent* event,
              absl::Status* closed);

   private:
    friend class WatchHub;
    Subscription(size_t limit, bool include_config)
        : limit_(limit), include_config_(include_config) {}
    // Called with the hub's lock held. False once closed (now or before).
    bool Push(ConfigChange change, bool initial);
    void Close(absl::Status reason);

    const size_t limit_;
    const bool include_config_;
    absl::Mutex mu_;
    struct Item {
      ConfigChange change;
      bool initial = false;
    };
    std::deque<Item> queue_ ABSL_GUARDED_BY(mu_);
    absl::Status closed_ ABSL_GUARDED_BY(mu_);
    uint64_t delivered_version_ ABSL_GUARDED_BY(mu_) = 0;
  };

  explicit WatchHub(size_t queue_limit = kDefaultWatchQueueLimit);

  // `current` becomes the subscription's first event (initial = true). The
  // caller must serialize Subscribe with Publish so no change falls between.
  std::shared_ptr<Subscription> Subscribe(ConfigChange current,
                                          bool include_config);
  void Unsubscribe(const std::shared_ptr<Subscription>& subscription);

  void Publish(const ConfigChange& change);

  // Ends every subscription (UNAVAILABLE) and refuses new ones.
  void Shutdown();

  size_t subscriber_count() const;

 private:
  const size_t queue_limit_;
  mutable absl::Mutex mu_;
  std::set<std::shared_ptr<Subscription>> subscriptions_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace locus::proxy::control

#endif  // LOCUS_PROXY_CONTROL_WATCH_HUB_H_
