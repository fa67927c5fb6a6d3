#include "proxy/route/retry.h"

#include "gtest/gtest.h"

namespace locus::proxy::route {
namespace {

TEST(RetryTest, ConnectFailureRetriedForAnyMethodUpToTheLimit) {
  RetryPolicy p;
  p.retry_on_connect_failure = true;
  p.num_retries = 2;
  EXPECT_TRUE(ShouldRetry(p, Method::kPost, AttemptOutcome::kConnectFailure, 0));
  EXPECT_TRUE(ShouldRetry(p, Method::kPost, AttemptOutcome::kConnectFailure, 1));
  EXPECT_FALSE(ShouldRetry(p, Method::kPost, AttemptOutcome::kConnectFailure, 2));
  p.retry_on_connect_failure = false;
  EXPECT_FALSE(ShouldRetry(p, Method::kGet, AttemptOutcome::kConnectFailure, 0));
}

TEST(RetryTest, FiveHundredsOnlyForIdempotentMethods) {
  RetryPolicy p;
  p.retry_on_5xx = true;
  p.num_retries = 1;
  EXPECT_TRUE(ShouldRetry(p, Method::kGet, AttemptOutcome::k5xx, 0));
  EXPECT_TRUE(ShouldRetry(p, Method::kPut, AttemptOutcome::k5xx, 0));
  EXPECT_TRUE(ShouldRetry(p, Method::kDelete, AttemptOutcome::k5xx, 0));
  EXPECT_FALSE(ShouldRetry(p, Method::kPost, AttemptOutcome::k5xx, 0));
  EXPECT_FALSE(ShouldRetry(p, Method::kPatch, AttemptOutcome::k5xx, 0));
  EXPECT_FALSE(ShouldRetry(p, Method::kGet, AttemptOutcome::k5xx, 1));
  p.retry_on_5xx = false;
  EXPECT_FALSE(ShouldRetry(p, Method::kGet, AttemptOutcome::k5xx, 0));
  EXPECT_FALSE(ShouldRetry(p, Method::kGet, AttemptOutcome::kOther, 0));
}

TEST(RetryTest, BudgetAtLimitAndLimitPlusOne) {
  RetryPolicy p;
  p.budget_percent = 20;
  p.min_retry_concurrency = 3;
  RetryBudget b;
  EXPECT_EQ(RetryBudget::Allowed(p, 0), 3u);
  EXPECT_EQ(RetryBudget::Allowed(p, 15), 3u);   // 20% of 15 = 3
  EXPECT_EQ(RetryBudget::Allowed(p, 100), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(b.TryStartRetry(p, 100)) << i;
  EXPECT_FALSE(b.TryStartRetry(p, 100));  // the 21st
  EXPECT_EQ(b.rejected(), 1u);
  b.RetryDone();
  EXPECT_TRUE(b.TryStartRetry(p, 100));
  EXPECT_EQ(b.in_flight(), 20u);
}

TEST(RetryTest, MinimumConcurrencyWhenIdle) {
  RetryPolicy p;  // 20%, at least 3
  RetryBudget b;
  EXPECT_TRUE(b.TryStartRetry(p, 1));
  EXPECT_TRUE(b.TryStartRetry(p, 1));
  EXPECT_TRUE(b.TryStartRetry(p, 1));
  EXPECT_FALSE(b.TryStartRetry(p, 1));
  b.RetryDone();
  b.RetryDone();
  b.RetryDone();
  b.RetryDone();  // extra Done never underflows
  EXPECT_EQ(b.in_flight(), 0u);
}

}  // namespace
}  // namespace locus::proxy::route
