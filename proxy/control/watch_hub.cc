#include "proxy/control/watch_hub.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace locus::proxy::control {

WatchHub::Subscription::Next WatchHub::Subscription::Wait(
    absl::Duration timeout, api::v1::WatchEvent* event, absl::Status* closed) {
  Item item;
  {
    absl::MutexLock lock(&mu_);
    auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return !queue_.empty() || !closed_.ok();
    };
    mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
    if (!closed_.ok()) {
      *closed = closed_;
      return Next::kClosed;
    }
    if (queue_.empty()) return Next::kTimeout;
    item = std::move(queue_.front());
    queue_.pop_front();
    delivered_version_ = item.change.snapshot->version;
  }
  // Built without the lock: copying a large config must not hold up
  // Publish, which runs inside Apply.
  event->Clear();
  event->set_version(item.change.snapshot->version);
  event->set_initial(item.initial);
  for (const api::v1::ResourceChange& c : item.change.changes) {
    *event->add_changes() = c;
  }
  if (include_config_) *event->mutable_config() = item.change.snapshot->config;
  return Next::kEvent;
}

bool WatchHub::Subscription::Push(ConfigChange change, bool initial) {
  absl::MutexLock lock(&mu_);
  if (!closed_.ok()) return false;
  if (queue_.size() >= limit_) {
    closed_ = absl::ResourceExhaustedError(
        absl::StrCat("watch fell more than ", limit_,
                     " changes behind (last delivered version ",
                     delivered_version_, ", now ", change.snapshot->version,
                     "); read the config again and start a new watch"));
    queue_.clear();
    return false;
  }
  queue_.push_back(Item{std::move(change), initial});
  return true;
}

void WatchHub::Subscription::Close(absl::Status reason) {
  absl::MutexLock lock(&mu_);
  if (closed_.ok()) closed_ = std::move(reason);
  queue_.clear();
}

WatchHub::WatchHub(size_t queue_limit) : queue_limit_(queue_limit) {}

std::shared_ptr<WatchHub::Subscription> WatchHub::Subscribe(
    ConfigChange current, bool include_config) {
  // make_shared cannot reach the private constructor.
  std::shared_ptr<Subscription> sub(
      new Subscription(queue_limit_, include_config));
  absl::MutexLock lock(&mu_);
  if (shut_down_) {
    sub->Close(absl::UnavailableError("the control plane is shutting down"));
    return sub;
  }
  sub->Push(std::move(current), /*initial=*/true);
  subscriptions_.insert(sub);
  return sub;
}

void WatchHub::Unsubscribe(const std::shared_ptr<Subscription>& subscription) {
  absl::MutexLock lock(&mu_);
  subscriptions_.erase(subscription);
}

void WatchHub::Publish(const ConfigChange& change) {
  absl::MutexLock lock(&mu_);
  for (auto it = subscriptions_.begin(); it != subscriptions_.end();) {
    // A closed subscription gets nothing more; its stream reports why.
    bool open = (*it)->Push(change, /*initial=*/false);
    it = open ? std::next(it) : subscriptions_.erase(it);
  }
}

void WatchHub::Shutdown() {
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
  for (const std::shared_ptr<Subscription>& sub : subscriptions_) {
    sub->Close(absl::UnavailableError("the control plane is shutting down"));
  }
  subscriptions_.clear();
}

size_t WatchHub::subscriber_count() const {
  absl::MutexLock lock(&mu_);
  return subscriptions_.size();
}

}  // namespace locus::proxy::control
