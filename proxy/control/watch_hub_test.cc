#include "proxy/control/watch_hub.h"

#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace locus::proxy::control {
namespace {

namespace v1 = api::v1;
using ::testing::HasSubstr;
using Next = WatchHub::Subscription::Next;

ConfigChange Change(uint64_t version, const char* pool) {
  auto snapshot = std::make_shared<ConfigSnapshot>();
  snapshot->version = version;
  snapshot->config.set_version(version);
  snapshot->config.add_pools()->set_name(pool);
  ConfigChange change{snapshot, {}};
  v1::ResourceChange c;
  c.set_kind(v1::POOL);
  c.set_name(pool);
  c.set_op(v1::ResourceChange::CREATED);
  change.changes.push_back(c);
  return change;
}

TEST(WatchHubTest, InitialEventThenChangesInOrder) {
  WatchHub hub(8);
  auto sub = hub.Subscribe(ConfigChange{Change(3, "a").snapshot, {}},
                           /*include_config=*/false);
  hub.Publish(Change(4, "b"));
  hub.Publish(Change(5, "c"));

  v1::WatchEvent event;
  absl::Status closed;
  ASSERT_EQ(sub->Wait(absl::Seconds(1), &event, &closed), Next::kEvent);
  EXPECT_TRUE(event.initial());
  EXPECT_EQ(event.version(), 3u);
  EXPECT_EQ(event.changes_size(), 0);
  EXPECT_FALSE(event.has_config());
  ASSERT_EQ(sub->Wait(absl::Seconds(1), &event, &closed), Next::kEvent);
  EXPECT_FALSE(event.initial());
  EXPECT_EQ(event.version(), 4u);
  ASSERT_EQ(event.changes_size(), 1);
  EXPECT_EQ(event.changes(0).name(), "b");
  ASSERT_EQ(sub->Wait(absl::Seconds(1), &event, &closed), Next::kEvent);
  EXPECT_EQ(event.version(), 5u);
  EXPECT_EQ(sub->Wait(absl::Milliseconds(10), &event, &closed), Next::kTimeout);
}

TEST(WatchHubTest, IncludeConfigCarriesTheSnapshot) {
  WatchHub hub(8);
  auto sub = hub.Subscribe(Change(1, "a"), /*include_config=*/true);
  v1::WatchEvent event;
  absl::Status closed;
  ASSERT_EQ(sub->Wait(absl::Seconds(1), &event, &closed), Next::kEvent);
  ASSERT_TRUE(event.has_config());
  EXPECT_EQ(event.config().pools(0).name(), "a");
}

TEST(WatchHubTest, SlowWatcherIsDroppedAtTheLimitNotBefore) {
  constexpr size_t kLimit = 3;
  WatchHub hub(kLimit);
  auto slow = hub.Subscribe(Change(1, "a"), false);  // 1 queued
  auto fast = hub.Subscribe(Change(1, "a"), false);
  v1::WatchEvent event;
  absl::Status closed;
  ASSERT_EQ(fast->Wait(absl::Seconds(1), &event, &closed), Next::kEvent);

  hub.Publish(Change(2, "b"));
  hub.Publish(Change(3, "c"));  // slow holds kLimit events: still open
  EXPECT_EQ(hub.subscriber_count(), 2u);
  ASSERT_EQ(fast->Wait(absl::Seconds(1), &event, &closed), Next::kEvent);
  ASSERT_EQ(fast->Wait(absl::Seconds(1), &event, &closed), Next::kEvent);

  hub.Publish(Change(4, "d"));  // one past the limit
  EXPECT_EQ(hub.subscriber_count(), 1u);
  ASSERT_EQ(slow->Wait(absl::Seconds(1), &event, &closed), Next::kClosed);
  EXPECT_EQ(closed.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(closed.message()),
              HasSubstr("watch fell more than 3 changes behind (last delivered "
                        "version 0, now 4)"));
  // The fast one is unaffected.
  ASSERT_EQ(fast->Wait(absl::Seconds(1), &event, &closed), Next::kEvent);
  EXPECT_EQ(event.version(), 4u);
}

TEST(WatchHubTest, ShutdownEndsEveryWatchAndRefusesNewOnes) {
  WatchHub hub(8);
  auto sub = hub.Subscribe(Change(1, "a"), false);
  hub.Shutdown();
  v1::WatchEvent event;
  absl::Status closed;
  ASSERT_EQ(sub->Wait(absl::Seconds(1), &event, &closed), Next::kClosed);
  EXPECT_EQ(closed.code(), absl::StatusCode::kUnavailable);
  auto late = hub.Subscribe(Change(1, "a"), false);
  ASSERT_EQ(late->Wait(absl::Seconds(1), &event, &closed), Next::kClosed);
  EXPECT_EQ(closed.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(hub.subscriber_count(), 0u);
}

TEST(WatchHubTest, UnsubscribeStopsDelivery) {
  WatchHub hub(8);
  auto sub = hub.Subscribe(Change(1, "a"), false);
  hub.Unsubscribe(sub);
  EXPECT_EQ(hub.subscriber_count(), 0u);
  hub.Publish(Change(2, "b"));
  v1::WatchEvent event;
  absl::Status closed;
  ASSERT_EQ(sub->Wait(absl::Seconds(1), &event, &closed),
            Next::kEvent);  // initial
  EXPECT_EQ(sub->Wait(absl::Milliseconds(10), &event, &closed), Next::kTimeout);
}

}  // namespace
}  // namespace locus::proxy::control
