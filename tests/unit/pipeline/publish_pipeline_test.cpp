#include "daemon/pipeline/publish_pipeline.h"

#include <thread>

#include <gtest/gtest.h>

#include "daemon/ops/log.h"
#include "tests/support/wait.h"
#include "tests/unit/pipeline/publish_fakes.h"

namespace sfkb::pipeline {
namespace {

using namespace std::chrono_literals;
using testing::FakeConsumer;
using testing::FakeDeadLetterSink;
using testing::FakeSalesforce;
using testing::StaticTokens;

const TopicPartition kP0{"orders", 0};
const TopicPartition kP1{"orders", 1};

std::string record(int n, bool bad = false) {
  return R"({"n":)" + std::to_string(n) + (bad ? R"(,"Bad__c":1})" : "}");
}

class PublishPipelineTest : public ::testing::Test {
 protected:
  PublishPipelineTest() {
    settings.mapping.topics = {"orders"};
    settings.mapping.event = "E__e";
    settings.mapping.dead_letter_topic = "orders.dlq";
    settings.mapping.batch_size = 10;
    settings.mapping.linger = 5ms;
    settings.backoff = {1ms, 5ms};
    settings.drain_timeout = 2000ms;
    settings.poll_interval = 10ms;
    consumer->assign_on_join({kP0, kP1});
  }
  ~PublishPipelineTest() override { stop(); }

  void start() {
    pipeline = std::make_unique<PublishPipeline>(
        settings, std::unique_ptr<PublishConsumer>(consumer), std::unique_ptr<DeadLetterSink>(sink),
        [this] { return std::make_unique<sfkb::testing::FakeTransport>(salesforce.handler()); },
        tokens, metrics);
    thread = std::jthread([this](std::stop_token stop) { result = pipeline->run(stop); });
  }
  void stop() {
    if (thread.joinable()) {
      thread.request_stop();
      thread.join();
    }
  }
  bool committed(const TopicPartition& tp, std::int64_t offset) {
    return test_support::wait_until([&] { return consumer->committed(tp) == offset; }, 5000ms);
  }
  bool metric(const std::string& line) { return metrics.render().find(line) != std::string::npos; }

  PublishSettings settings;
  FakeConsumer* consumer = new FakeConsumer;  // owned by the pipeline once started
  FakeDeadLetterSink* sink = new FakeDeadLetterSink;
  FakeSalesforce salesforce;
  StaticTokens tokens;
  ops::Metrics metrics;
  std::unique_ptr<PublishPipeline> pipeline;
  std::jthread thread;
  core::Status result;
};

TEST_F(PublishPipelineTest, ShouldPublishEveryRecordInOrderPerPartitionAndCommitAfterTheLast) {
  for (int n = 0; n < 25; ++n) {
    consumer->append("orders", n % 2, record(n));
  }
  start();

  ASSERT_TRUE(committed(kP0, 13));
  ASSERT_TRUE(committed(kP1, 12));
  stop();

  auto published = salesforce.published();
  ASSERT_EQ(published.size(), 25u);
  std::vector<int> even, odd;
  for (int n : published) {
    (n % 2 ? odd : even).push_back(n);
  }
  EXPECT_TRUE(std::is_sorted(even.begin(), even.end()));
  EXPECT_TRUE(std::is_sorted(odd.begin(), odd.end()));
  for (auto size : salesforce.batch_sizes()) {
    EXPECT_LE(size, 10u);
  }
  EXPECT_TRUE(result.is_ok());
  EXPECT_TRUE(consumer->closed());
  EXPECT_TRUE(metric(R"(sfkb_records_published_total{topic="orders"} 25)"));
  EXPECT_TRUE(metric(R"(sfkb_records_consumed_total{topic="orders"} 25)"));
}

TEST_F(PublishPipelineTest, ShouldSendAPartialBatchAfterLinger) {
  settings.mapping.batch_size = 200;
  consumer->append("orders", 0, record(1));
  start();

  ASSERT_TRUE(committed(kP0, 1));
  EXPECT_EQ(salesforce.batch_sizes(), std::vector<unsigned>{1});
}

TEST_F(PublishPipelineTest, ShouldDeadLetterPermanentErrorsAndCommitPastThem) {
  for (int n = 0; n < 6; ++n) {
    consumer->append("orders", 0, record(n, n == 2), "key-" + std::to_string(n));
  }
  start();

  ASSERT_TRUE(committed(kP0, 6));
  auto letters = sink->written();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].record.offset, 2);
  EXPECT_EQ(letters[0].record.key, "key-2");
  EXPECT_EQ(letters[0].record.value, record(2, true));
  EXPECT_EQ(letters[0].error_code, "INVALID_FIELD");
  EXPECT_NE(letters[0].error_message.find("Bad__c"), std::string::npos);
  EXPECT_EQ(salesforce.published(), (std::vector<int>{0, 1, 3, 4, 5}));
  EXPECT_TRUE(
      metric(R"(sfkb_records_dead_lettered_total{error_code="INVALID_FIELD",topic="orders"} 1)") ||
      metric(R"(sfkb_records_dead_lettered_total{topic="orders",error_code="INVALID_FIELD"} 1)"));
}

TEST_F(PublishPipelineTest, ShouldDeadLetterRecordsThatAreNotJsonObjectsWithoutSendingThem) {
  consumer->append("orders", 0, record(0));
  consumer->append("orders", 0, std::string("{not json"));
  consumer->append("orders", 0, std::string(""));
  consumer->append("orders", 0, std::nullopt);
  consumer->append("orders", 0, std::string("[1]"));
  consumer->append("orders", 0, record(5));
  start();

  ASSERT_TRUE(committed(kP0, 6));
  auto letters = sink->written();
  ASSERT_EQ(letters.size(), 4u);
  for (const auto& letter : letters) {
    EXPECT_EQ(letter.error_code, "INVALID_RECORD");
  }
  EXPECT_EQ(letters[0].error_message,
            "invalid JSON at offset 1: Missing a name for object member.");
  EXPECT_EQ(letters[1].error_message, "empty value (a JSON object was expected)");
  EXPECT_EQ(letters[3].error_message, "value is a JSON array, not an object");
  EXPECT_EQ(salesforce.published(), (std::vector<int>{0, 5}));
}

TEST_F(PublishPipelineTest, ShouldRetryTheSameBatchWithPartitionsPausedOnTransientFailure) {
  salesforce.fail(3, 503, R"([{"message":"unavailable","errorCode":"SERVER_UNAVAILABLE"}])");
  for (int n = 0; n < 4; ++n) {
    consumer->append("orders", 0, record(n));
  }
  start();

  ASSERT_TRUE(committed(kP0, 4));
  EXPECT_EQ(salesforce.published(), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(salesforce.requests(), 4);
  EXPECT_GE(consumer->pauses(), 1);
  EXPECT_GE(consumer->resumes(), 1);
  EXPECT_FALSE(consumer->paused(kP0));
  EXPECT_TRUE(metric("sfkb_publish_retries_total 3"));
  // Nothing was committed while the batch failed.
  for (const auto& [tp, offset] : consumer->commit_log()) {
    EXPECT_EQ(offset, 4) << tp.topic << tp.partition;
  }
}

TEST_F(PublishPipelineTest, ShouldStopWithoutCommittingARejectedRecordWhenOnErrorIsFail) {
  settings.mapping.on_error = config::OnError::kFail;
  consumer->append("orders", 0, record(0));
  consumer->append("orders", 0, record(1, true));
  consumer->append("orders", 0, record(2));
  consumer->append("orders", 1, record(3));
  start();

  ASSERT_TRUE(test_support::wait_until([&] { return consumer->closed(); }, 5000ms));
  thread.join();
  EXPECT_EQ(result.kind(), core::ErrorKind::kFatal);
  EXPECT_NE(result.message().find("orders[0]@1 rejected: INVALID_FIELD"), std::string::npos);
  EXPECT_EQ(consumer->committed(kP0), 1);
  EXPECT_EQ(consumer->committed(kP1), 1);
  EXPECT_TRUE(sink->written().empty());
}

TEST_F(PublishPipelineTest, ShouldNarrowAWholeRequestRejectionDownToTheBadRecord) {
  salesforce.reject_whole_request_with_bad = true;
  for (int n = 0; n < 8; ++n) {
    consumer->append("orders", 0, record(n, n == 5));
  }
  start();

  ASSERT_TRUE(committed(kP0, 8));
  auto letters = sink->written();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].record.offset, 5);
  EXPECT_EQ(letters[0].error_code, "INVALID_FIELD");
  auto published = salesforce.published();
  EXPECT_EQ(published, (std::vector<int>{0, 1, 2, 3, 4, 6, 7}));
}

TEST_F(PublishPipelineTest, ShouldNotLetLaterRecordsOvertakeAHalfOfASplitBatchThatMustWait) {
  // The first request is rejected as a whole, its first half then fails transiently: the second
  // half must not go out before the first half is through.
  salesforce.reject_whole_request_with_bad = true;
  for (int n = 0; n < 8; ++n) {
    consumer->append("orders", 0, record(n, n == 7));
  }
  salesforce.fail_after_requests(1, 1, 503);
  start();

  ASSERT_TRUE(committed(kP0, 8));
  EXPECT_EQ(salesforce.published(), (std::vector<int>{0, 1, 2, 3, 4, 5, 6}));
}

TEST_F(PublishPipelineTest, ShouldNotSendASplitBatchsLaterHalfWhileARecordOfTheFirstWaits) {
  // Given a batch that is split (record 2 makes every request holding it a 400) and whose record
  // 1 gets a per-record TEMPORARY error once: the requests go [0..5] 400, [0,1,2] 400, [0] ok,
  // [1,2] 400, [1] temporary error - and then
  salesforce.reject_whole_request_with_bad = true;
  salesforce.busy(1, 1);
  for (int n = 0; n < 6; ++n) {
    consumer->append("orders", 0, record(n, n == 2));
  }
  start();

  ASSERT_TRUE(committed(kP0, 6));
  // 3, 4 and 5 must wait for 1's retry. A work list that went on with [2] and [3,4,5] would
  // give Salesforce 0, 3, 4, 5, 1.
  EXPECT_EQ(salesforce.published(), (std::vector<int>{0, 1, 3, 4, 5}));
  ASSERT_EQ(sink->written().size(), 1u);
  EXPECT_EQ(sink->written()[0].record.offset, 2);
}

TEST_F(PublishPipelineTest, ATemporaryRecordErrorAmidSuccessesIsRetriedAloneAndNothingIsSentTwice) {
  // Given one request [0, 1, 2, 3] of one partition where Salesforce refuses 1 for now but
  // accepts 2 and 3 (allOrNone:false answers each record on its own): 2 and 3 are published
  // before 1 - the one order break the protocol allows (README, "Known limits") -
  salesforce.busy(1, 2);
  for (int n = 0; n < 4; ++n) {
    consumer->append("orders", 0, record(n));
  }
  ::testing::internal::CaptureStdout();
  start();
  const bool done = committed(kP0, 4);
  stop();
  const std::string out = ::testing::internal::GetCapturedStdout();
  ASSERT_TRUE(done);

  // then the operator is told (once: the limiter holds back the repeat for offset 3),
  EXPECT_NE(out.find("partition order broken: topic=orders partition=0 offset=2 was accepted"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("offset=3 was accepted"), std::string::npos) << out;
  // 1 alone is retried until accepted, nothing is sent twice, and the partition's commit does not
  // pass 1 before it is through.
  EXPECT_EQ(salesforce.published(), (std::vector<int>{0, 2, 3, 1}));
  EXPECT_EQ(salesforce.batch_sizes(), (std::vector<unsigned>{4, 1, 1}));
  EXPECT_TRUE(sink->written().empty());
  EXPECT_TRUE(metric("sfkb_publish_retries_total 2"));
  using Commit = std::pair<TopicPartition, std::int64_t>;
  EXPECT_EQ(consumer->commit_log(), (std::vector<Commit>{{kP0, 4}}));
}

TEST_F(PublishPipelineTest, DebugLogFollowsBatchesOutcomesCommitsAndAssignmentsWithoutPayloads) {
  // Given --log-level debug and 12 records (one batch of 10 is full, 2 wait for linger; record 4
  // is dead-lettered)
  config::LoggingConfig debug;
  debug.level = "debug";
  ops::setup_logging(debug);
  ::testing::internal::CaptureStdout();
  for (int n = 0; n < 12; ++n) {
    consumer->append("orders", 0, record(n, n == 4));
  }
  start();
  const bool done = committed(kP0, 12);
  stop();
  const std::string out = ::testing::internal::GetCapturedStdout();
  ops::setup_logging(config::LoggingConfig{});
  ASSERT_TRUE(done);

  // then the publish side can be followed step by step,
  EXPECT_NE(out.find("assignment now: 2 partition(s) [orders[0],orders[1]]"), std::string::npos)
      << out;
  EXPECT_NE(out.find("batch formed: 10 record(s)"), std::string::npos) << out;
  EXPECT_NE(out.find("reason=full"), std::string::npos) << out;
  EXPECT_NE(out.find("batch formed: 2 record(s)"), std::string::npos) << out;
  EXPECT_NE(out.find("reason=linger"), std::string::npos) << out;
  EXPECT_NE(out.find("composite request of 10 record(s): 9 published, 1 to dead-letter, 0 to "
                     "retry"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("batch resolved: 10 record(s), 9 published, 1 dead-lettered, 0 retry(ies)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("committing offset: topic=orders partition=0 offset=10"), std::string::npos)
      << out;
  EXPECT_NE(out.find("committing offset: topic=orders partition=0 offset=12"), std::string::npos)
      << out;
  // and no record payload reaches the log.
  EXPECT_EQ(out.find(R"("n":)"), std::string::npos) << out;
}

TEST_F(PublishPipelineTest, ShouldNotCommitPastARecordWhoseDeadLetterFailed) {
  sink->fail = true;
  consumer->append("orders", 0, record(0));
  consumer->append("orders", 0, record(1, true));
  consumer->append("orders", 0, record(2));
  start();

  ASSERT_TRUE(test_support::wait_until([&] { return consumer->closed(); }, 5000ms));
  thread.join();
  EXPECT_EQ(result.kind(), core::ErrorKind::kFatal);
  EXPECT_EQ(consumer->committed(kP0), 1);
}

TEST_F(PublishPipelineTest, ShouldCommitDoneWorkAndDropTheRestOfARevokedPartition) {
  // Keep Salesforce failing so the batch sits in backoff while the partition is revoked.
  salesforce.fail(1000000, 503);
  for (int n = 0; n < 4; ++n) {
    consumer->append("orders", n % 2, record(n));
  }
  start();
  ASSERT_TRUE(test_support::wait_until([&] { return salesforce.requests() >= 2; }, 5000ms));
  consumer->revoke_on_next_poll({kP1});
  ASSERT_TRUE(test_support::wait_until([&] { return !consumer->revoked().empty(); }, 5000ms));
  salesforce.fail(0, 503);

  ASSERT_TRUE(committed(kP0, 2));
  stop();
  EXPECT_EQ(salesforce.published(), (std::vector<int>{0, 2}));
  EXPECT_EQ(consumer->committed(kP1), -1);
}

TEST_F(PublishPipelineTest, ShouldAbandonAStuckBatchWithinTheDrainTimeoutOnShutdown) {
  settings.drain_timeout = 100ms;
  salesforce.fail(1000000, 503);
  consumer->append("orders", 0, record(0));
  start();
  ASSERT_TRUE(test_support::wait_until([&] { return salesforce.requests() >= 1; }, 5000ms));

  const auto before = std::chrono::steady_clock::now();
  stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 2000ms);
  EXPECT_TRUE(result.is_ok());
  EXPECT_EQ(consumer->committed(kP0), -1);
  EXPECT_TRUE(consumer->closed());
}

TEST_F(PublishPipelineTest, ShouldFinishTheInFlightBatchWhenStoppedDuringBackoff) {
  settings.backoff = {200ms, 200ms};
  salesforce.fail(1, 503);
  consumer->append("orders", 0, record(0));
  start();
  ASSERT_TRUE(test_support::wait_until([&] { return salesforce.requests() >= 1; }, 5000ms));

  stop();
  EXPECT_EQ(salesforce.published(), std::vector<int>{0});
  EXPECT_EQ(consumer->committed(kP0), 1);
}

TEST_F(PublishPipelineTest, ShouldBeReadyOnceTheGroupIsJoined) {
  consumer->assign_on_join({});
  start();
  EXPECT_TRUE(test_support::wait_until([&] { return pipeline->ready(); }, 5000ms));
  stop();
  EXPECT_FALSE(pipeline->ready());
}

TEST(PublishSettings, ShouldPrefixTopicsDeadLetterTopicAndGroup) {
  config::Config config;
  config.kafka.topic_prefix = "tenant.";
  config.salesforce.api_version = "60.0";
  config.shutdown.timeout = 20000ms;
  config::PublishMapping mapping;
  mapping.topics = {"a", "b"};
  mapping.dead_letter_topic = "a.dlq";
  mapping.group_id = "g";
  auto settings = publish_settings_from(config, mapping);
  EXPECT_EQ(settings.mapping.topics, (std::vector<std::string>{"tenant.a", "tenant.b"}));
  EXPECT_EQ(settings.mapping.dead_letter_topic, "tenant.a.dlq");
  EXPECT_EQ(settings.mapping.group_id, "tenant.g");
  EXPECT_EQ(settings.rest.api_version, "60.0");
  EXPECT_EQ(settings.drain_timeout, 15000ms);
}

}  // namespace
}  // namespace sfkb::pipeline

namespace sfkb::pipeline {
namespace {

// The budget: records past it wait in Kafka (paused, not committed) while the pipeline stays
// ready, and go once the allocation is back; every composite request spends one API request.
TEST_F(PublishPipelineTest, RecordsPastTheBudgetWaitInKafkaUntilItRefills) {
  auto share = std::make_shared<ShareAllowance>("limits.budget=50%",
                                                "HourlyPublishedPlatformEvents", 0.5, 5ms);
  auto requests =
      std::make_shared<BucketAllowance>("limits.max_api_requests_per_day=100", 100, 24h);
  share->observe(14);  // 7 records this hour
  settings.budget =
      std::make_shared<PublishBudget>(std::vector<std::shared_ptr<Allowance>>{share},
                                      std::vector<std::shared_ptr<Allowance>>{requests});
  for (int n = 0; n < 12; ++n) {
    consumer->append("orders", 0, record(n));
  }
  start();

  ASSERT_TRUE(committed(kP0, 7));
  ASSERT_TRUE(test_support::wait_until([&] { return consumer->paused(kP0); }, 5000ms));
  ASSERT_TRUE(test_support::wait_until(
      [&] { return metric(R"(sfkb_publish_budget_held_records{event="E__e"} 5)"); }, 5000ms));
  EXPECT_TRUE(metric(R"(sfkb_publish_budget_waits_total{event="E__e"} 1)"));
  EXPECT_TRUE(pipeline->ready());
  EXPECT_EQ(consumer->committed(kP0), 7);  // still: nothing past the budget
  EXPECT_EQ(salesforce.published().size(), 7u);

  share->observe(7);   // the org's reading shows our 7
  share->observe(20);  // the hour rolled over: 10 more
  ASSERT_TRUE(committed(kP0, 12));
  EXPECT_EQ(salesforce.published().size(), 12u);
  EXPECT_TRUE(test_support::wait_until(
      [&] { return metric(R"(sfkb_publish_budget_held_records{event="E__e"} 0)"); }, 5000ms));
  EXPECT_FALSE(consumer->paused(kP0));
  // One API request per composite request (7 then 5 records), not per record.
  EXPECT_EQ(requests->available(BudgetClock::now()), 98);
}

}  // namespace
}  // namespace sfkb::pipeline

namespace sfkb::pipeline {
namespace {

// Publish concurrency (docs/ARCHITECTURE.md §2 publish, step 3): several composite requests at
// once, never two of one partition; order per partition and contiguous commits as with one.
// Records are {"n": partition * 1000 + seq}.
class PublishConcurrencyTest : public PublishPipelineTest {
 protected:
  PublishConcurrencyTest() {
    consumer->assign_on_join({kP0, kP1, kP2, kP3});
    settings.mapping.batch_size = 5;
  }
  void append(int partition, int count, const std::set<int>& bad = {}) {
    for (int seq = 0; seq < count; ++seq) {
      consumer->append("orders", partition, record(partition * 1000 + seq, bad.contains(seq)));
    }
  }
  // Wraps the FakeSalesforce: records which partitions have a request on the wire, and holds
  // each request until `hold_until_concurrent` requests are in flight (or 2 s passed).
  void start_watched(int hold_until_concurrent) {
    auto inner = salesforce.handler();
    auto handler = [this, inner, hold_until_concurrent](const http::Request& request) {
      rapidjson::Document doc;
      doc.Parse(request.body.c_str());
      std::set<int> partitions;
      for (const auto& r : doc["records"].GetArray()) {
        partitions.insert(r["n"].GetInt() / 1000);
      }
      {
        std::unique_lock lock(mutex_);
        for (int p : partitions) {
          if (!on_wire_.insert(p).second) {
            ++overlaps_;  // a second request of a partition that already has one
          }
        }
        ++concurrent_;
        max_concurrent_ = std::max(max_concurrent_, concurrent_);
        cv_.notify_all();
        cv_.wait_for(lock, 2000ms, [&] { return max_concurrent_ >= hold_until_concurrent; });
      }
      auto reply = inner(request);
      std::lock_guard lock(mutex_);
      --concurrent_;
      for (int p : partitions) {
        on_wire_.erase(p);
      }
      return reply;
    };
    pipeline = std::make_unique<PublishPipeline>(
        settings, std::unique_ptr<PublishConsumer>(consumer), std::unique_ptr<DeadLetterSink>(sink),
        [handler] { return std::make_unique<sfkb::testing::FakeTransport>(handler); }, tokens,
        metrics);
    thread = std::jthread([this](std::stop_token stop) { result = pipeline->run(stop); });
  }
  // The published sequence numbers of one partition, in publish order.
  std::vector<int> published_of(int partition) const {
    std::vector<int> out;
    for (int n : salesforce.published()) {
      if (n / 1000 == partition) {
        out.push_back(n % 1000);
      }
    }
    return out;
  }
  static std::vector<int> range_without(int count, const std::set<int>& left_out = {}) {
    std::vector<int> out;
    for (int i = 0; i < count; ++i) {
      if (!left_out.contains(i)) {
        out.push_back(i);
      }
    }
    return out;
  }

  const TopicPartition kP2{"orders", 2};
  const TopicPartition kP3{"orders", 3};
  std::mutex mutex_;
  std::condition_variable cv_;
  std::set<int> on_wire_;
  int overlaps_ = 0;
  int concurrent_ = 0;
  int max_concurrent_ = 0;
};

TEST_F(PublishConcurrencyTest, SendsUpToMaxInFlightRequestsAtOnceButNeverTwoOfOnePartition) {
  settings.max_in_flight_requests = 3;
  for (int p = 0; p < 4; ++p) {
    append(p, 20);
  }
  start_watched(3);

  for (const auto& tp : {kP0, kP1, kP2, kP3}) {
    ASSERT_TRUE(committed(tp, 20)) << tp.partition;
  }
  stop();
  {
    std::lock_guard lock(mutex_);
    EXPECT_EQ(max_concurrent_, 3);  // three requests were on the wire together, never four
    EXPECT_EQ(overlaps_, 0);        // and never two holding records of one partition
  }
  for (int p = 0; p < 4; ++p) {
    EXPECT_EQ(published_of(p), range_without(20)) << "partition " << p;
  }
  EXPECT_TRUE(metric(R"(sfkb_publish_requests_in_flight{event="E__e"} 0)"));
}

TEST_F(PublishConcurrencyTest,
       AFullPartitionIsLeftUnreadNotPausedWhileTheOthersKeepTheRequestsBusy) {
  // One partition's backlog is far larger than the buffer (4 x 4 batches of 5): it is not paused
  // (a pause makes librdkafka drop and fetch again what it prefetched) but simply not read while
  // it holds 4 batches, and the other partitions' requests still go out alongside it.
  settings.max_in_flight_requests = 4;
  append(0, 200);
  for (int p = 1; p < 4; ++p) {
    append(p, 20);
  }
  start_watched(4);

  for (const auto& tp : {kP1, kP2, kP3}) {
    ASSERT_TRUE(committed(tp, 20)) << tp.partition;
  }
  ASSERT_TRUE(committed(kP0, 200));
  stop();
  EXPECT_EQ(consumer->pauses(), 0);
  {
    std::lock_guard lock(mutex_);
    EXPECT_EQ(max_concurrent_, 4);
    EXPECT_EQ(overlaps_, 0);
  }
  for (int p = 0; p < 4; ++p) {
    EXPECT_EQ(published_of(p), range_without(p == 0 ? 200 : 20)) << "partition " << p;
  }
}

TEST_F(PublishConcurrencyTest, KeepsOrderPerPartitionAcrossRetriesAndSplits) {
  // Whole requests fail now and then (503) and every request holding a bad record is rejected
  // as a whole (400), so batches are split and retried while other partitions' batches go on.
  salesforce.reject_whole_request_with_bad = true;
  salesforce.fail_after_requests(2, 3, 503);
  const std::set<int> bad0{3, 11}, bad2{7};
  append(0, 15, bad0);
  append(1, 15);
  append(2, 15, bad2);
  append(3, 15);
  start_watched(4);

  for (const auto& tp : {kP0, kP1, kP2, kP3}) {
    ASSERT_TRUE(committed(tp, 15)) << tp.partition;
  }
  stop();
  EXPECT_EQ(published_of(0), range_without(15, bad0));
  EXPECT_EQ(published_of(1), range_without(15));
  EXPECT_EQ(published_of(2), range_without(15, bad2));
  EXPECT_EQ(published_of(3), range_without(15));
  std::vector<std::int64_t> letters;
  for (const auto& letter : sink->written()) {
    letters.push_back(letter.record.partition * 1000 + letter.record.offset);
  }
  std::sort(letters.begin(), letters.end());
  EXPECT_EQ(letters, (std::vector<std::int64_t>{3, 11, 2007}));
  EXPECT_FALSE(metric("sfkb_publish_retries_total 0"));
  std::lock_guard lock(mutex_);
  EXPECT_EQ(overlaps_, 0);
}

TEST_F(PublishConcurrencyTest, CommitsStopBelowARecordStillBeingRetriedWhileOtherPartitionsGoOn) {
  // Record 0@2 gets a temporary per-record error many times: its partition's commit may not pass
  // it, while partition 1 is published and committed to its end meanwhile.
  settings.backoff = {20ms, 20ms};
  salesforce.busy(2, 1000000);
  append(0, 5);
  append(1, 30);
  start_watched(1);

  ASSERT_TRUE(committed(kP1, 30));
  ASSERT_TRUE(test_support::wait_until([&] { return salesforce.requests() >= 12; }, 5000ms));
  EXPECT_LE(consumer->committed(kP0), 2);  // 0@2 is not done: nothing at or past it
  for (const auto& [tp, offset] : consumer->commit_log()) {
    if (tp == kP0) {
      EXPECT_LE(offset, 2);
    }
  }
  EXPECT_EQ(published_of(1), range_without(30));

  salesforce.busy(2, 0);
  ASSERT_TRUE(committed(kP0, 5));
  stop();
  // Commits per partition only ever go forward.
  std::map<TopicPartition, std::int64_t> last;
  for (const auto& [tp, offset] : consumer->commit_log()) {
    EXPECT_GE(offset, last[tp]) << tp.partition;
    last[tp] = offset;
  }
}

}  // namespace
}  // namespace sfkb::pipeline
