#include "daemon/pipeline/subscribe_pipeline.h"

#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "daemon/pipeline/json_value_encoders.h"
#include "tests/unit/pipeline/subscribe_fakes.h"

namespace sfkb::pipeline {
namespace {

using namespace std::chrono_literals;
using testing::event;
using testing::FakeProducer;
using testing::FakeSource;
using testing::FakeTail;
using testing::MemoryStore;
using testing::restart;

constexpr auto kDeadline = 10s;
const std::string kA = "/event/A__e";
const std::string kB = "/event/Bee__e";

class SubscribePipelineTest : public ::testing::Test {
 protected:
  SubscribePipelineTest() {
    config_.kafka.topic_prefix = "p.";
    config_.checkpoint.interval = 20ms;
    for (const auto& channel : {kA, kB}) {
      config::SubscribeMapping mapping;
      mapping.channel = channel;
      mapping.topic = "events";
      config_.subscribe.push_back(mapping);
    }
  }

  // A failed assertion must not leave the pipeline thread running into the join.
  ~SubscribePipelineTest() override { stop_.request_stop(); }

  void start() {
    SubscribePipelineOptions options;
    options.metrics = &metrics_;
    options.poll_interval = 5ms;
    options.partition_for_channel = [](const std::string& channel, std::int32_t count) {
      return static_cast<std::int32_t>(channel.size() % static_cast<std::size_t>(count));
    };
    if (!org_id_.empty()) {
      options.org_id = [org = org_id_](std::stop_token) -> core::Result<std::string> {
        return org;
      };
    }
    options.value_encoder = [](const config::SubscribeMapping&) {
      return std::make_unique<PayloadJsonEncoder>();
    };
    options.skip_own_channels = skip_own_channels_;
    options.on_fenced = [this](const std::string& channel) {
      std::lock_guard lock(fenced_mutex_);
      fenced_.push_back(channel);
    };
    if (user_id_) {
      options.user_id = [user = *user_id_](std::stop_token) -> core::Result<std::string> {
        return user;
      };
    }
    progress_ = std::make_unique<checkpoint::ChannelProgress>(config_);
    pipeline_ = std::make_unique<SubscribePipeline>(config_, source_, producer_, store_, tail_,
                                                    *progress_, options);
    thread_ = std::jthread([this] { result_ = pipeline_->run(stop_.get_token()); });
  }
  core::Status stop() {
    stop_.request_stop();
    thread_.join();
    return result_;
  }
  std::vector<std::int64_t> sent_ids(const std::string& channel) const {
    std::vector<std::int64_t> out;
    for (const auto& sent : producer_.sent()) {
      for (const auto& [name, value] : sent.record.headers) {
        if (name == "sf.channel" && value == channel) {
          out.push_back(sent.tag.replay_id.number());
        }
      }
    }
    return out;
  }
  std::uint64_t counter(const std::string& name, const std::string& channel) {
    return metrics_.counter(name, "", {{"channel", channel}}).value();
  }

  config::Config config_;
  ops::Metrics metrics_;
  FakeSource source_;
  FakeProducer producer_;
  MemoryStore store_;
  FakeTail tail_;
  std::stop_source stop_;
  std::unique_ptr<checkpoint::ChannelProgress> progress_;
  std::unique_ptr<SubscribePipeline> pipeline_;
  std::jthread thread_;
  core::Status result_;
  std::string org_id_;                          // what options.org_id answers; empty: not set
  std::vector<std::string> skip_own_channels_;  // options.skip_own_channels
  std::optional<std::string> user_id_;          // what options.user_id answers; unset: not set
  std::mutex fenced_mutex_;
  std::vector<std::string> fenced_;  // what options.on_fenced heard
};

std::optional<std::string> header(const KafkaRecord& record, const std::string& name) {
  for (const auto& [key, value] : record.headers) {
    if (key == name) {
      return value;
    }
  }
  return std::nullopt;
}

// Waits (bounded) until the store holds `replay_id` in `epoch` for the channel.
bool wait_checkpoint(const MemoryStore& store, const std::string& channel, std::int64_t replay_id,
                     std::uint32_t epoch) {
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < deadline) {
    auto entry = store.entry(channel);
    if (entry && entry->replay_id == core::ReplayId::cometd(replay_id) && entry->epoch == epoch) {
      return true;
    }
    std::this_thread::yield();
  }
  return false;
}

TEST_F(SubscribePipelineTest, ProducesEachEventOnceAndCheckpointsAtShutdown) {
  // Given two batches where the second redelivers 2 and 3 (a resubscribe),
  source_.push({event(kA, 1), event(kA, 2), event(kB, 10), event(kA, 3)});
  source_.push({event(kA, 2), event(kA, 3), event(kA, 4), event(kB, 10), event(kB, 11)});
  start();
  ASSERT_TRUE(source_.wait_idle(3, kDeadline));

  // when the pipeline stops,
  ASSERT_TRUE(stop());

  // then each event went to Kafka once, in order, and the final checkpoint holds the last ones.
  EXPECT_EQ(sent_ids(kA), (std::vector<std::int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(sent_ids(kB), (std::vector<std::int64_t>{10, 11}));
  EXPECT_EQ(store_.replay_id(kA), 4);
  EXPECT_EQ(store_.replay_id(kB), 11);
  EXPECT_EQ(counter("sfkb_events_skipped_duplicate_total", kA), 2u);
  EXPECT_EQ(counter("sfkb_events_skipped_duplicate_total", kB), 1u);
  EXPECT_EQ(source_.disconnects(), 1);
}

TEST_F(SubscribePipelineTest, KeylessChannelGoesToItsOwnPartitionWithHeaders) {
  source_.push({event(kA, 7)});
  start();
  ASSERT_TRUE(producer_.wait_sent(1, kDeadline));
  ASSERT_TRUE(stop());
  auto sent = producer_.sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].record.topic, "p.events");
  EXPECT_EQ(sent[0].record.partition, static_cast<std::int32_t>(kA.size() % 4));
  EXPECT_EQ(sent[0].record.value, "{\"N__c\":7}");
  // The checkpoint pins the partition, so adding partitions to the topic cannot move the channel.
  EXPECT_EQ(store_.partition(kA), static_cast<std::int32_t>(kA.size() % 4));
}

TEST_F(SubscribePipelineTest, KeylessChannelStaysOnThePartitionPinnedInItsCheckpoint) {
  // Written when the topic had fewer partitions: the hash now says 3, the file says 1.
  store_.set(kA, 6, 1);
  source_.push({event(kA, 7)});
  start();
  ASSERT_TRUE(producer_.wait_sent(1, kDeadline));
  ASSERT_TRUE(stop());
  auto sent = producer_.sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].record.partition, 1);
  EXPECT_EQ(store_.partition(kA), 1);
  EXPECT_EQ(store_.replay_id(kA), 7);
}

TEST_F(SubscribePipelineTest, CheckpointNeverPassesAnUnacknowledgedEvent) {
  producer_.auto_ack = false;
  source_.push({event(kA, 1), event(kA, 2), event(kA, 3)});
  start();
  ASSERT_TRUE(producer_.wait_sent(3, kDeadline));
  producer_.ack(1);
  producer_.ack(3);  // 2 is still in flight (another partition, say)
  ASSERT_TRUE(stop());
  EXPECT_EQ(store_.replay_id(kA), 1);
  EXPECT_EQ(progress_->resume_point(kA), core::ReplayId::cometd(1));
}

TEST_F(SubscribePipelineTest, PeriodicCheckpointFollowsAcknowledgementsWhileRunning) {
  producer_.auto_ack = false;
  source_.push({event(kA, 5), event(kA, 6)});
  start();
  ASSERT_TRUE(producer_.wait_sent(2, kDeadline));
  producer_.ack(5);
  auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (store_.replay_id(kA) != 5 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(store_.replay_id(kA), 5);
  EXPECT_EQ(progress_->resume_point(kA), core::ReplayId::cometd(5));
  producer_.ack(6);
  ASSERT_TRUE(stop());
  EXPECT_EQ(store_.replay_id(kA), 6);
}

TEST_F(SubscribePipelineTest, BackpressureStopsPullingUntilDeliveriesCatchUp) {
  config_.limits.max_in_flight_events = 3;
  producer_.auto_ack = false;
  source_.push({event(kA, 1), event(kA, 2), event(kA, 3)});
  source_.push({event(kA, 4)});
  start();
  ASSERT_TRUE(producer_.wait_sent(3, kDeadline));
  // At the cap the pipeline must not ask Salesforce for more.
  EXPECT_FALSE(source_.wait_idle(2, 200ms));
  EXPECT_EQ(producer_.sent().size(), 3u);
  EXPECT_EQ(metrics_.gauge("sfkb_subscribe_backpressure", "").value(), 1.0);

  producer_.ack(1);
  ASSERT_TRUE(producer_.wait_sent(4, kDeadline));
  producer_.ack(2);
  producer_.ack(3);
  producer_.ack(4);
  ASSERT_TRUE(stop());
  EXPECT_EQ(store_.replay_id(kA), 4);
}

TEST_F(SubscribePipelineTest, InFlightBoundIsExactEvenWithinOneConnectReply) {
  // Given a bound of 3 and one reply of 6 events (before, the bound was only checked before a
  // connect, so a reply overshot it by up to its own size: 14,767 against 10,000 in a soak),
  config_.limits.max_in_flight_events = 3;
  producer_.auto_ack = false;
  source_.push(
      {event(kA, 1), event(kA, 2), event(kA, 3), event(kA, 4), event(kA, 5), event(kA, 6)});
  start();
  ASSERT_TRUE(producer_.wait_sent(3, kDeadline));

  // then no fourth event is produced while three are unacknowledged,
  EXPECT_FALSE(producer_.wait_sent(4, 200ms));
  EXPECT_EQ(producer_.pending(), 3u);
  EXPECT_EQ(metrics_.gauge("sfkb_subscribe_backpressure", "").value(), 1.0);

  // and every acknowledgement lets exactly one more through, in order.
  producer_.ack(1);
  ASSERT_TRUE(producer_.wait_sent(4, kDeadline));
  EXPECT_FALSE(producer_.wait_sent(5, 100ms));
  EXPECT_EQ(producer_.pending(), 3u);
  for (std::int64_t id = 2; id <= 6; ++id) {
    producer_.ack(id);
    ASSERT_TRUE(producer_.wait_sent(static_cast<std::size_t>(std::min<std::int64_t>(id + 3, 6)),
                                    kDeadline));
    EXPECT_LE(producer_.pending(), 3u);
  }
  ASSERT_TRUE(stop());
  EXPECT_EQ(sent_ids(kA), (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(store_.replay_id(kA), 6);
}

TEST_F(SubscribePipelineTest, FailedDeliveryIsFatalAndTheCheckpointStaysBelowIt) {
  producer_.auto_ack = false;
  source_.push({event(kA, 1), event(kA, 2), event(kA, 3)});
  start();
  ASSERT_TRUE(producer_.wait_sent(3, kDeadline));
  producer_.ack(1);
  producer_.ack(3);
  producer_.ack(2, core::fatal_error("Broker: Topic authorization failed"));
  // The pipeline ends by itself, even though the source sits in a long poll.
  thread_.join();
  ASSERT_FALSE(result_);
  EXPECT_EQ(result_.kind(), core::ErrorKind::kFatal);
  EXPECT_NE(result_.message().find("replay_id=2"), std::string::npos) << result_.message();
  EXPECT_EQ(store_.replay_id(kA), 1);
}

TEST_F(SubscribePipelineTest, FencedChannelStopsAloneAndThePipelineGoesOn) {
  // Given a channel whose producer is fenced (another instance owns it now) at event 2,
  producer_.auto_ack = false;
  source_.push({event(kA, 1), event(kA, 2), event(kB, 10)});
  start();
  ASSERT_TRUE(producer_.wait_sent(3, kDeadline));
  EXPECT_EQ(producer_.initializations(), 1);
  producer_.ack(1);
  producer_.fence(2);
  producer_.ack(10);
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (pipeline_->fenced_channels().empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_EQ(pipeline_->fenced_channels(), std::vector<std::string>{kA});
  // when more events of both channels arrive,
  source_.push({event(kA, 3), event(kB, 11)});
  ASSERT_TRUE(producer_.wait_sent(4, kDeadline));
  producer_.ack(11);
  ASSERT_TRUE(wait_checkpoint(store_, kB, 11, 0));
  // then the fenced channel writes nothing more and keeps its last committed position, the other
  // goes on, nothing stays in flight, the fence is counted and reported once, and the pipeline
  // ends without an error.
  EXPECT_EQ(sent_ids(kA), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(sent_ids(kB), (std::vector<std::int64_t>{10, 11}));
  EXPECT_EQ(progress_->in_flight(), 0u);
  ASSERT_TRUE(stop());
  EXPECT_EQ(store_.replay_id(kA), 1);
  EXPECT_EQ(store_.replay_id(kB), 11);
  EXPECT_EQ(counter("sfkb_subscribe_fenced_total", kA), 1u);
  EXPECT_EQ(counter("sfkb_subscribe_fenced_total", kB), 0u);
  std::lock_guard lock(fenced_mutex_);
  EXPECT_EQ(fenced_, std::vector<std::string>{kA});
}

TEST_F(SubscribePipelineTest, ResumesFromKafkaAndSkipsWhatItAlreadyHolds) {
  // Given a keyed channel spread over partitions, checkpointed at 2, with 4 already in Kafka,
  config_.subscribe[0].key = config::KeyKind::kReplayId;
  store_.set(kA, 2);
  tail_.append(0, kA, 1);
  tail_.append(1, kA, 2);
  tail_.append(3, kA, 4);
  // when Salesforce replays everything after 2,
  source_.push({event(kA, 3), event(kA, 4), event(kA, 5)});
  start();
  ASSERT_TRUE(source_.wait_idle(2, kDeadline));
  ASSERT_TRUE(stop());
  // then 4 is not produced again, and the watermark passes it.
  EXPECT_EQ(sent_ids(kA), (std::vector<std::int64_t>{3, 5}));
  EXPECT_EQ(store_.replay_id(kA), 5);
  EXPECT_EQ(counter("sfkb_events_skipped_duplicate_total", kA), 1u);
}

TEST_F(SubscribePipelineTest, SinglePartitionChannelResumesAfterKafkasNewestWithoutAFile) {
  tail_.append(static_cast<int>(kA.size() % 4), kA, 8);
  source_.push({event(kA, 7), event(kA, 8), event(kA, 9)});
  start();
  ASSERT_TRUE(source_.wait_idle(2, kDeadline));
  EXPECT_EQ(pipeline_->resumes().at(0).resume, core::ReplayId::cometd(8));
  ASSERT_TRUE(stop());
  EXPECT_EQ(sent_ids(kA), (std::vector<std::int64_t>{9}));
}

TEST_F(SubscribePipelineTest, RecordKafkaCanNeverTakeIsSkippedLoudlyAndPassed) {
  producer_.max_value_bytes = 16;
  auto big = event(kA, 2);
  big.payload_json = "{\"Body__c\":\"" + std::string(100, 'x') + "\"}";
  source_.push({event(kA, 1), big, event(kA, 3)});
  start();
  ASSERT_TRUE(source_.wait_idle(2, kDeadline));
  ASSERT_TRUE(stop());
  EXPECT_EQ(sent_ids(kA), (std::vector<std::int64_t>{1, 3}));
  EXPECT_EQ(counter("sfkb_events_dropped_total", kA), 1u);
  EXPECT_EQ(store_.replay_id(kA), 3);
}

TEST_F(SubscribePipelineTest, EventsOfUnconfiguredChannelsAreCountedAndIgnored) {
  source_.push({event("/event/Nobody__e", 1), event(kA, 1)});
  start();
  ASSERT_TRUE(source_.wait_idle(2, kDeadline));
  ASSERT_TRUE(stop());
  EXPECT_EQ(sent_ids(kA).size(), 1u);
  EXPECT_EQ(counter("sfkb_events_unconfigured_total", "/event/Nobody__e"), 1u);
}

TEST_F(SubscribePipelineTest, CorruptCheckpointStopsBeforeSubscribing) {
  store_.corrupt = true;
  start();
  thread_.join();
  ASSERT_FALSE(result_);
  EXPECT_EQ(result_.kind(), core::ErrorKind::kFatal);
  EXPECT_NE(result_.message().find("checkpoints.json"), std::string::npos);
  EXPECT_EQ(source_.calls(), 0);
}

TEST_F(SubscribePipelineTest, SourceFailureIsReturnedAfterAnOrderlyShutdown) {
  source_.push({event(kA, 1)});
  start();
  ASSERT_TRUE(source_.wait_idle(2, kDeadline));
  source_.fail();
  thread_.join();
  ASSERT_FALSE(result_);
  EXPECT_EQ(result_.message(), "scripted failure");
  EXPECT_EQ(store_.replay_id(kA), 1);
  EXPECT_EQ(source_.disconnects(), 1);
}

TEST_F(SubscribePipelineTest, ReadyOnlyOnceReconciledAndConnected) {
  EXPECT_FALSE(pipeline_);
  start();
  ASSERT_TRUE(source_.wait_idle(1, kDeadline));
  EXPECT_TRUE(pipeline_->ready());
  ASSERT_TRUE(stop());
  EXPECT_FALSE(pipeline_->ready());
}

}  // namespace
}  // namespace sfkb::pipeline

namespace sfkb::pipeline {
namespace {

// A sandbox refresh: the checkpoint (or the Kafka tail) holds a replay ID above the org's newest
// (a sandbox refresh). Salesforce refuses it, the source resubscribes from -2, and the new
// subscription's replay IDs start low again.
TEST_F(SubscribePipelineTest, RefusedResumePointRestartsTheDuplicateFilterAndTheCheckpoint) {
  store_.set(kA, 226110);
  tail_.append(static_cast<int>(kA.size() % 4), kA, 226110);
  source_.push({restart(kA, 226110), event(kA, 3), event(kA, 5), event(kA, 8)});
  start();
  ASSERT_TRUE(source_.wait_idle(2, kDeadline));
  ASSERT_TRUE(stop());

  // Every event of the new subscription went to Kafka, none was taken for a duplicate,
  EXPECT_EQ(sent_ids(kA), (std::vector<std::int64_t>{3, 5, 8}));
  EXPECT_EQ(counter("sfkb_events_skipped_duplicate_total", kA), 0u);
  // marked as the channel's first restart (reconciliation ignores the older records),
  for (const auto& sent : producer_.sent()) {
    EXPECT_EQ(header(sent.record, "sf.replay_epoch"), "1");
  }
  // and the checkpoint counts in the new sequence.
  auto entry = store_.entry(kA);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->replay_id, core::ReplayId::cometd(8));
  EXPECT_EQ(entry->epoch, 1u);
  EXPECT_EQ(progress_->resume_point(kA), core::ReplayId::cometd(8));
}

TEST_F(SubscribePipelineTest, OldSubscriptionsAcknowledgementsNeverMoveTheNewCheckpoint) {
  producer_.auto_ack = false;
  store_.set(kA, 1000);
  // Two events of the old subscription are in flight when the fallback happens.
  source_.push({event(kA, 1001), event(kA, 1002)});
  source_.push({restart(kA, 1000), event(kA, 3), event(kA, 5)});
  start();
  ASSERT_TRUE(producer_.wait_sent(4, kDeadline));
  // The decision is checkpointed at once (the fallback, in the new epoch): a restart now
  // resubscribes from -2 instead of trying the refused ID again.
  ASSERT_TRUE(wait_checkpoint(store_, kA, -2, 1));
  EXPECT_EQ(progress_->resume_point(kA), core::ReplayId::cometd(-2));

  producer_.ack(3);
  producer_.ack(5);
  ASSERT_TRUE(wait_checkpoint(store_, kA, 5, 1));
  // The old subscription's late acknowledgements only count down what is in flight.
  producer_.ack(1002);
  producer_.ack(1001);
  ASSERT_TRUE(stop());
  auto entry = store_.entry(kA);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->replay_id, core::ReplayId::cometd(5));
  EXPECT_EQ(entry->epoch, 1u);
  EXPECT_EQ(producer_.pending(), 0u);
}

TEST_F(SubscribePipelineTest, PositionsOfAnotherOrgAreNotAResumePoint) {
  org_id_ = "00DBBBBBBBBBBBBBBB";
  store_.set_entry(kA,
                   {core::ReplayId::cometd(226110), "t", std::nullopt, 0, "00DAAAAAAAAAAAAAAA"});
  tail_.append(static_cast<int>(kA.size() % 4), kA, 226110, std::string("00DAAAAAAAAAAAAAAA"));
  source_.push({event(kA, 3), event(kA, 5)});
  start();
  ASSERT_TRUE(source_.wait_idle(2, kDeadline));
  const auto resume = pipeline_->resumes().at(0);
  EXPECT_TRUE(resume.restart);
  EXPECT_EQ(resume.resume, core::ReplayId::cometd(-2));  // on_invalid_replay_id: earliest
  EXPECT_EQ(resume.foreign_org, "00DAAAAAAAAAAAAAAA");
  ASSERT_TRUE(stop());

  EXPECT_EQ(sent_ids(kA), (std::vector<std::int64_t>{3, 5}));
  for (const auto& sent : producer_.sent()) {
    EXPECT_EQ(header(sent.record, "sf.org_id"), "00DBBBBBBBBBBBBBBB");
    EXPECT_EQ(header(sent.record, "sf.replay_epoch"), "1");
  }
  auto entry = store_.entry(kA);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->replay_id, core::ReplayId::cometd(5));
  EXPECT_EQ(entry->epoch, 1u);
  EXPECT_EQ(entry->org_id, "00DBBBBBBBBBBBBBBB");
  EXPECT_EQ(counter("sfkb_invalid_replay_fallbacks_total", kA), 1u);
}

TEST_F(SubscribePipelineTest, AnotherOrgsPositionStopsTheBridgeUnderPolicyFail) {
  org_id_ = "00DBBBBBBBBBBBBBBB";
  config_.subscribe[0].on_invalid_replay_id = config::InvalidReplayPolicy::kFail;
  store_.set_entry(kA,
                   {core::ReplayId::cometd(226110), "t", std::nullopt, 0, "00DAAAAAAAAAAAAAAA"});
  start();
  thread_.join();
  ASSERT_FALSE(result_);
  EXPECT_EQ(result_.kind(), core::ErrorKind::kFatal);
  EXPECT_NE(result_.message().find("00DAAAAAAAAAAAAAAA"), std::string::npos);
  EXPECT_NE(result_.message().find("00DBBBBBBBBBBBBBBB"), std::string::npos);
  EXPECT_EQ(source_.calls(), 0);
}

TEST_F(SubscribePipelineTest, OrgChangeWhileRunningMovesTheHeaderAndTheCheckpointToTheNewOrg) {
  org_id_ = "00DAAAAAAAAAAAAAAA";
  source_.push({event(kA, 900)});
  source_.push({restart(kA, 900, -2, "00DBBBBBBBBBBBBBBB", "00DAAAAAAAAAAAAAAA"), event(kA, 2)});
  start();
  ASSERT_TRUE(source_.wait_idle(3, kDeadline));
  ASSERT_TRUE(stop());
  auto sent = producer_.sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(header(sent[0].record, "sf.org_id"), "00DAAAAAAAAAAAAAAA");
  EXPECT_EQ(header(sent[0].record, "sf.replay_epoch"), std::nullopt);
  EXPECT_EQ(header(sent[1].record, "sf.org_id"), "00DBBBBBBBBBBBBBBB");
  EXPECT_EQ(header(sent[1].record, "sf.replay_epoch"), "1");
  auto entry = store_.entry(kA);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->replay_id, core::ReplayId::cometd(2));
  EXPECT_EQ(entry->org_id, "00DBBBBBBBBBBBBBBB");
}

// An org change restarts only the channels that held a position of the old org. A channel without
// one (quiet, new, or still at its fallback) must still be checkpointed under the new org: were
// the old org kept, the next start would take its entry for another org's position and fall back
// again (everything retained replayed with `earliest`, a gap with `latest`).
TEST_F(SubscribePipelineTest, OrgChangeMovesTheCheckpointOfAChannelWithoutAResumePointToo) {
  org_id_ = "00DAAAAAAAAAAAAAAA";
  source_.push({event(kA, 900)});
  // As CometdClient emits it: a restart for kA (it had a position), nothing for kB (it had none).
  source_.push({restart(kA, 900, -2, "00DBBBBBBBBBBBBBBB", "00DAAAAAAAAAAAAAAA"), event(kA, 2),
                event(kB, 7)});
  start();
  ASSERT_TRUE(source_.wait_idle(3, kDeadline));
  ASSERT_TRUE(stop());
  auto sent = producer_.sent();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(header(sent[2].record, "sf.org_id"), "00DBBBBBBBBBBBBBBB");
  auto entry = store_.entry(kB);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->replay_id, core::ReplayId::cometd(7));
  EXPECT_EQ(entry->org_id, "00DBBBBBBBBBBBBBBB");
}

}  // namespace
}  // namespace sfkb::pipeline

namespace sfkb::pipeline {
namespace {

salesforce::StreamEvent by_user(const std::string& channel, std::int64_t replay_id,
                                const std::string& user) {
  auto e = testing::event(channel, replay_id);
  e.payload_json = R"({"CreatedById":")" + user + R"(","N__c":)" + std::to_string(replay_id) + "}";
  return e;
}

// skip_own_events on channel A only, as user `user`.
class SkipOwnEventsTest : public SubscribePipelineTest {
 protected:
  void start(std::string user) {
    skip_own_channels_ = {kA};
    user_id_ = std::move(user);
    SubscribePipelineTest::start();
  }
};

const std::string kBridge = "005xx000001SvQrAAK";
const std::string kOther = "005xx000002OthRAAK";

TEST_F(SkipOwnEventsTest, OwnEventsAreDroppedCountedAndStillCheckpointedOnlyWhereConfigured) {
  source_.push({by_user(kA, 1, kBridge), by_user(kA, 2, kOther), by_user(kA, 3, kBridge),
                by_user(kB, 7, kBridge)});
  start(kBridge);
  ASSERT_TRUE(source_.wait_idle(1, kDeadline));
  ASSERT_TRUE(wait_checkpoint(store_, kA, 3, 0));  // past the dropped 3
  ASSERT_TRUE(stop().is_ok());

  std::vector<std::int64_t> sent;
  for (const auto& s : producer_.sent()) {
    sent.push_back(s.tag.replay_id.number());
  }
  EXPECT_EQ(sent, (std::vector<std::int64_t>{2, 7}));  // kB does not skip
  EXPECT_EQ(metrics_.counter("sfkb_events_skipped_own_total", "", {{"channel", kA}}).value(), 2u);
}

TEST_F(SkipOwnEventsTest, AnUnknownUserStopsTheStartInsteadOfDroppingNothing) {
  source_.push({by_user(kA, 1, kBridge)});
  start("");
  thread_.join();
  EXPECT_EQ(result_.kind(), core::ErrorKind::kFatal);
  EXPECT_NE(result_.message().find("skip_own_events"), std::string::npos);
  EXPECT_TRUE(producer_.sent().empty());
}

}  // namespace
}  // namespace sfkb::pipeline
