// The publish budget's arithmetic with the time passed in: the token bucket, the live share of
// an allocation's remainder, and how a PublishBudget combines them.

#include "daemon/pipeline/publish_budget.h"

#include <gtest/gtest.h>

namespace sfkb::pipeline {
namespace {

using namespace std::chrono_literals;

const BudgetClock::time_point t0{};

TEST(TokenBucketTest, StartsFullAndRefillsAtCapacityPerPeriod) {
  TokenBucket bucket(3600, 1h, t0);
  EXPECT_EQ(bucket.available(t0), 3600);
  bucket.take(3600, t0);
  EXPECT_EQ(bucket.available(t0), 0);
  EXPECT_EQ(bucket.wait_for_one(t0), 1000ms);  // one per second
  EXPECT_EQ(bucket.available(t0 + 999ms), 0);
  EXPECT_EQ(bucket.available(t0 + 1s), 1);
  EXPECT_EQ(bucket.available(t0 + 10min), 600);
  EXPECT_EQ(bucket.available(t0 + 5h), 3600);  // never above capacity
}

TEST(TokenBucketTest, DebtIsPaidBackBeforeAnythingIsAvailable) {
  TokenBucket bucket(60, 1h, t0);  // one a minute
  bucket.take(61, t0);             // a batch formed on the last token is sent whole
  EXPECT_EQ(bucket.available(t0 + 1min), 0);
  EXPECT_EQ(bucket.wait_for_one(t0 + 1min), 60000ms);
  EXPECT_EQ(bucket.available(t0 + 2min), 1);
}

TEST(LiveShareTest, NothingBeforeTheFirstReadingThenTheShareOfTheRemainder) {
  LiveShare share(0.5);
  EXPECT_FALSE(share.available());
  share.observe(100);
  EXPECT_EQ(share.available(), 50);
  share.take(30);
  EXPECT_EQ(share.available(), 20);
}

TEST(LiveShareTest, LaterReadingsInTheSameWindowDoNotGrantMore) {
  LiveShare share(0.5);
  share.observe(100);
  share.take(50);
  // Our own 50 are gone from the org's remainder: half of what is left now would be 25 more, and
  // so on until the whole remainder is spent. The allowance stays anchored at the window start.
  share.observe(50);
  EXPECT_EQ(share.available(), 0);
  share.observe(40);  // others spent too
  EXPECT_EQ(share.available(), 0);
}

TEST(LiveShareTest, ARisingRemainderIsANewWindow) {
  LiveShare share(0.5);
  share.observe(100);
  share.take(50);
  share.observe(50);
  share.observe(100);  // the hour rolled over
  EXPECT_EQ(share.available(), 50);
  share.observe(-5);                 // a burst past Max reads as nothing left
  EXPECT_EQ(share.available(), 50);  // not a new window: still what the window allowed
  share.observe(7);
  EXPECT_EQ(share.available(), 3);  // floor(0.5 x 7)
}

TEST(PublishBudgetTest, TheTightestAllowanceDecidesAndSpendingReachesAll) {
  auto mapping =
      std::make_shared<BucketAllowance>("publish[].max_events_per_hour=100", 100, 1h, t0);
  auto global = std::make_shared<BucketAllowance>("limits.max_events_per_hour=30", 30, 1h, t0);
  PublishBudget budget({mapping, global}, {});
  auto g = budget.grant(200, t0);
  EXPECT_EQ(g.records, 30u);
  budget.spend_records(g.records, t0);
  EXPECT_EQ(mapping->available(t0), 70);
  g = budget.grant(200, t0);
  EXPECT_EQ(g.records, 0u);
  EXPECT_EQ(g.blocked_by, "limits.max_events_per_hour=30");
  EXPECT_EQ(g.retry_after, 120000ms);  // 30 an hour: one every two minutes
  EXPECT_EQ(budget.grant(200, t0 + 4min).records, 2u);
}

TEST(PublishBudgetTest, ARequestAllowanceNeedsOneTokenPerRequestWhateverItsRecords) {
  auto requests =
      std::make_shared<BucketAllowance>("limits.max_api_requests_per_day=2", 2, 24h, t0);
  PublishBudget budget({}, {requests});
  EXPECT_EQ(budget.grant(200, t0).records, 200u);
  budget.spend_request(t0);
  budget.spend_request(t0);
  auto g = budget.grant(200, t0);
  EXPECT_EQ(g.records, 0u);
  EXPECT_EQ(g.blocked_by, "limits.max_api_requests_per_day=2");
  EXPECT_EQ(g.retry_after, 43200000ms);  // 2 a day
}

TEST(PublishBudgetTest, AShareWaitsForItsReadingAndFollowsRollOvers) {
  auto share = std::make_shared<ShareAllowance>("limits.budget=50%",
                                                "HourlyPublishedPlatformEvents", 0.5, 5s);
  PublishBudget budget({share}, {});
  auto g = budget.grant(10, t0);
  EXPECT_EQ(g.records, 0u);
  EXPECT_EQ(g.retry_after, 5000ms);
  share->observe(8);
  EXPECT_EQ(budget.grant(10, t0).records, 4u);
  budget.spend_records(4, t0);
  EXPECT_EQ(budget.grant(10, t0).records, 0u);
  share->observe(4);  // the reading shows our 4
  EXPECT_EQ(budget.grant(10, t0).records, 0u);
  share->observe(8);  // rolled over: more than the previous reading
  EXPECT_EQ(budget.grant(10, t0).records, 4u);
}

}  // namespace
}  // namespace sfkb::pipeline
