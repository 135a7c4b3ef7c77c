#include "daemon/checkpoint/reconcile.h"

#include <map>
#include <vector>

#include <gtest/gtest.h>

namespace sfkb::checkpoint {
namespace {

core::ReplayId cometd(std::int64_t number) {
  return core::ReplayId::cometd(number);
}

// An in-memory Kafka: topic -> partitions -> records in offset order.
class FakeTail : public KafkaTail {
 public:
  void create(const std::string& topic, int partitions) {
    topics_[topic].resize(static_cast<std::size_t>(partitions));
  }
  void append(const std::string& topic, int partition, const std::string& channel,
              std::int64_t replay_id, std::optional<std::string> org_id = std::nullopt,
              std::uint32_t epoch = 0) {
    TailRecord record;
    record.channel = channel;
    record.replay_id = core::ReplayId::cometd(replay_id);
    record.org_id = std::move(org_id);
    record.epoch = epoch;
    append_record(topic, partition, std::move(record));
  }
  void append_record(const std::string& topic, int partition, TailRecord record) {
    auto& log = topics_.at(topic).at(static_cast<std::size_t>(partition));
    record.offset = static_cast<std::int64_t>(log.size());
    log.push_back(std::move(record));
  }
  void append_headerless(const std::string& topic, int partition) {
    append_record(topic, partition, TailRecord{});
  }

  core::Result<std::int32_t> partition_count(const std::string& topic) override {
    auto it = topics_.find(topic);
    if (it == topics_.end()) {
      return core::fatal_error("unknown topic " + topic);
    }
    return static_cast<std::int32_t>(it->second.size());
  }
  core::Status read_backwards(const std::string& topic, std::int32_t partition,
                              const std::function<bool(const TailRecord&)>& visit) override {
    const auto& log = topics_.at(topic).at(static_cast<std::size_t>(partition));
    for (auto it = log.rbegin(); it != log.rend(); ++it) {
      ++visited;
      if (!visit(*it)) {
        break;
      }
    }
    return core::Status::ok();
  }

  std::int64_t visited = 0;

 private:
  std::map<std::string, std::vector<std::vector<TailRecord>>> topics_;
};

// A predictable stand-in for the Kafka module's hash.
std::int32_t by_length(const std::string& channel, std::int32_t count) {
  return static_cast<std::int32_t>(channel.size() % static_cast<std::size_t>(count));
}

class ReconcileTest : public ::testing::Test {
 protected:
  ReconcileTest() {
    config_.kafka.topic_prefix = "pre.";
    options_.partition_for_channel = by_length;
  }
  config::SubscribeMapping& add(const std::string& channel, const std::string& topic) {
    config::SubscribeMapping mapping;
    mapping.channel = channel;
    mapping.topic = topic;
    config_.subscribe.push_back(mapping);
    return config_.subscribe.back();
  }
  ChannelResume only(const Checkpoints& file) {
    auto result = reconcile(config_, file, kafka_, options_);
    EXPECT_TRUE(result) << (result ? "" : result.error().message);
    EXPECT_EQ(result->size(), 1u);
    return result->front();
  }

  config::Config config_;
  ReconcileOptions options_;
  FakeTail kafka_;
};

TEST_F(ReconcileTest, SinglePartitionResumesFromKafkaWhenItIsAheadOfTheFile) {
  add("/event/A__e", "t");  // length 11 -> partition 11 % 3 = 2
  kafka_.create("pre.t", 3);
  kafka_.append("pre.t", 2, "/event/A__e", 10);
  kafka_.append("pre.t", 2, "/event/A__e", 20);
  kafka_.append("pre.t", 2, "/event/A__e", 30);

  auto resume = only({{"/event/A__e", {cometd(20), "", std::nullopt, 0, ""}}});
  EXPECT_EQ(resume.mode, ResumeMode::kSinglePartition);
  EXPECT_EQ(resume.file, cometd(20));
  EXPECT_EQ(resume.kafka_newest, cometd(30));
  EXPECT_EQ(resume.resume, cometd(30));
  EXPECT_TRUE(resume.skip.empty());
}

TEST_F(ReconcileTest, SinglePartitionIsExactWithoutAFile) {
  add("/event/A__e", "t");
  kafka_.create("pre.t", 3);
  kafka_.append("pre.t", 2, "/event/A__e", 7);
  auto resume = only({});
  EXPECT_FALSE(resume.file.has_value());
  EXPECT_EQ(resume.resume, cometd(7));
  EXPECT_TRUE(resume.warnings.empty());
}

TEST_F(ReconcileTest, SinglePartitionKeepsTheFileWhenKafkaIsBehind) {
  // e.g. the topic was recreated or retention deleted it: never go backwards.
  add("/event/A__e", "t");
  kafka_.create("pre.t", 3);
  kafka_.append("pre.t", 2, "/event/A__e", 5);
  EXPECT_EQ(only({{"/event/A__e", {cometd(9), "", std::nullopt, 0, ""}}}).resume, cometd(9));
}

TEST_F(ReconcileTest, SinglePartitionReadsThePartitionPinnedInTheFile) {
  // The topic grew from 3 to 4 partitions: the name now hashes to 11 % 4 = 3, but the channel's
  // events are in partition 2, where the file pins it.
  add("/event/A__e", "t");
  kafka_.create("pre.t", 4);
  kafka_.append("pre.t", 2, "/event/A__e", 50);
  auto resume = only({{"/event/A__e", {cometd(40), "", 2, 0, ""}}});
  EXPECT_EQ(resume.kafka_newest, cometd(50));
  EXPECT_EQ(resume.resume, cometd(50));
}

TEST(ChooseChannelPartition, HashesWithoutAPinAndKeepsAPinThatStillExists) {
  const Checkpoints none;
  EXPECT_EQ(choose_channel_partition("/event/A__e", 4, none, by_length).partition, 3);
  EXPECT_TRUE(choose_channel_partition("/event/A__e", 4, none, by_length).warning.empty());

  const Checkpoints same{{"/event/A__e", {cometd(1), "", 3, 0, ""}}};
  auto agreed = choose_channel_partition("/event/A__e", 4, same, by_length);
  EXPECT_EQ(agreed.partition, 3);
  EXPECT_TRUE(agreed.warning.empty());

  const Checkpoints grown{{"/event/A__e", {cometd(1), "", 2, 0, ""}}};
  auto pinned = choose_channel_partition("/event/A__e", 4, grown, by_length);
  EXPECT_EQ(pinned.partition, 2);
  EXPECT_NE(pinned.warning.find("stays on partition 2"), std::string::npos) << pinned.warning;
}

TEST(ChooseChannelPartition, APinBeyondTheTopicFallsBackToTheHashWithAWarning) {
  const Checkpoints shrunk{{"/event/A__e", {cometd(1), "", 5, 0, ""}}};
  auto chosen = choose_channel_partition("/event/A__e", 2, shrunk, by_length);
  EXPECT_EQ(chosen.partition, 1);  // 11 % 2
  EXPECT_NE(chosen.warning.find("re-created"), std::string::npos) << chosen.warning;
}

TEST_F(ReconcileTest, NothingAnywhereMeansTheConfiguredStart) {
  add("/event/A__e", "t");
  kafka_.create("pre.t", 3);
  auto resume = only({});
  EXPECT_FALSE(resume.resume.has_value());
}

TEST_F(ReconcileTest, SharedTopicIsFilteredByTheChannelHeader) {
  add("/event/A__e", "t");
  kafka_.create("pre.t", 3);
  kafka_.append("pre.t", 2, "/event/A__e", 100);
  kafka_.append("pre.t", 2, "/event/Z__e", 900);  // another channel in the same partition
  kafka_.append_headerless("pre.t", 2);           // a record somebody else wrote
  auto resume = only({});
  EXPECT_EQ(resume.resume, cometd(100));
}

TEST_F(ReconcileTest, SinglePartitionReadsOnlyUpToTheChannelsNewestRecord) {
  add("/event/A__e", "t");
  kafka_.create("pre.t", 3);
  for (int i = 1; i <= 1000; ++i) {
    kafka_.append("pre.t", 2, "/event/A__e", i);
  }
  EXPECT_EQ(only({}).resume, cometd(1000));
  // The newest record twice: which API wrote it (other_api_epoch), then the position.
  EXPECT_EQ(kafka_.visited, 2);
}

TEST_F(ReconcileTest, MultiPartitionResumesFromTheFileAndSkipsWhatKafkaHoldsAboveIt) {
  // Given events 1..9 spread over 3 partitions, acked up to 4 when the bridge crashed, with
  // 6 and 8 acknowledged but 5 and 7 lost in flight,
  auto& mapping = add("/event/A__e", "t");
  mapping.key = config::KeyKind::kPayloadField;
  mapping.key_field = "Id__c";
  kafka_.create("pre.t", 3);
  kafka_.append("pre.t", 0, "/event/A__e", 1);
  kafka_.append("pre.t", 1, "/event/A__e", 2);
  kafka_.append("pre.t", 2, "/event/A__e", 3);
  kafka_.append("pre.t", 0, "/event/A__e", 4);
  kafka_.append("pre.t", 2, "/event/A__e", 6);
  kafka_.append("pre.t", 0, "/event/A__e", 8);

  auto resume = only({{"/event/A__e", {cometd(4), "", std::nullopt, 0, ""}}});
  // then it resumes after 4 and skips 6 and 8 when Salesforce replays them - never after 8.
  EXPECT_EQ(resume.mode, ResumeMode::kMultiPartition);
  EXPECT_EQ(resume.resume, cometd(4));
  EXPECT_EQ(resume.skip, (std::set<core::ReplayId>{cometd(6), cometd(8)}));
  EXPECT_EQ(resume.kafka_newest, cometd(8));
  EXPECT_TRUE(resume.warnings.empty());
}

TEST_F(ReconcileTest, MultiPartitionStopsReadingEachPartitionAtTheCheckpoint) {
  auto& mapping = add("/event/A__e", "t");
  mapping.key = config::KeyKind::kReplayId;
  kafka_.create("pre.t", 2);
  for (int i = 1; i <= 1000; ++i) {
    kafka_.append("pre.t", i % 2, "/event/A__e", i);
  }
  auto resume = only({{"/event/A__e", {cometd(990), "", std::nullopt, 0, ""}}});
  EXPECT_EQ(resume.skip.size(), 10u);
  // Per partition: its newest record (which API wrote it; which restart it belongs to), then 5
  // above the checkpoint and the one at or below it.
  EXPECT_LE(kafka_.visited, 16);
}

TEST_F(ReconcileTest, MultiPartitionWithoutFileResumesFromTheLowestNewestAndWarns) {
  auto& mapping = add("/event/A__e", "t");
  mapping.key = config::KeyKind::kEventUuid;
  kafka_.create("pre.t", 3);
  kafka_.append("pre.t", 0, "/event/A__e", 1);
  kafka_.append("pre.t", 1, "/event/A__e", 2);
  kafka_.append("pre.t", 0, "/event/A__e", 3);
  kafka_.append("pre.t", 1, "/event/A__e", 5);
  kafka_.append("pre.t", 0, "/event/A__e", 9);
  // partition 2 holds nothing of the channel

  auto resume = only({});
  EXPECT_EQ(resume.resume, cometd(5));
  EXPECT_EQ(resume.skip, (std::set<core::ReplayId>{cometd(9)}));
  EXPECT_EQ(resume.kafka_newest, cometd(9));
  ASSERT_EQ(resume.warnings.size(), 1u);
  EXPECT_NE(resume.warnings[0].find("lowest"), std::string::npos);
}

TEST_F(ReconcileTest, MultiPartitionWithNothingInKafkaUsesTheFile) {
  auto& mapping = add("/event/A__e", "t");
  mapping.key = config::KeyKind::kReplayId;
  kafka_.create("pre.t", 4);
  auto resume = only({{"/event/A__e", {cometd(77), "", std::nullopt, 0, ""}}});
  EXPECT_EQ(resume.resume, cometd(77));
  EXPECT_TRUE(resume.skip.empty());
}

TEST_F(ReconcileTest, HeadersOffMeansFileOnlyWithAWarning) {
  auto& mapping = add("/event/A__e", "t");
  mapping.headers = false;
  // no topic needed: Kafka is not read at all
  auto resume = only({{"/event/A__e", {cometd(3), "", std::nullopt, 0, ""}}});
  EXPECT_EQ(resume.mode, ResumeMode::kFileOnly);
  EXPECT_EQ(resume.resume, cometd(3));
  ASSERT_EQ(resume.warnings.size(), 1u);
  EXPECT_NE(resume.warnings[0].find("headers"), std::string::npos);
}

TEST_F(ReconcileTest, MissingTopicIsFatal) {
  add("/event/A__e", "absent");
  auto result = reconcile(config_, {}, kafka_, options_);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, core::ErrorKind::kFatal);
}

TEST_F(ReconcileTest, ScanBoundFallsBackToTheFileWithAWarning) {
  add("/event/A__e", "t");
  kafka_.create("pre.t", 3);
  kafka_.append("pre.t", 2, "/event/A__e", 50);
  for (int i = 0; i < 20; ++i) {
    kafka_.append("pre.t", 2, "/event/Other__e", 1000 + i);
  }
  options_.max_records_per_partition = 10;
  auto resume = only({{"/event/A__e", {cometd(40), "", std::nullopt, 0, ""}}});
  EXPECT_EQ(resume.resume, cometd(40));
  EXPECT_EQ(resume.warnings.size(), 1u);
}

}  // namespace
}  // namespace sfkb::checkpoint

namespace sfkb::checkpoint {
namespace {

const std::string kOrgA = "00DAAAAAAAAAAAAAAA";
const std::string kOrgB = "00DBBBBBBBBBBBBBBB";

// After a restart from the fallback was checkpointed (epoch 1, -2) and before any new event
// landed, Kafka's newest record is still the refused position: it must not win again.
TEST_F(ReconcileTest, RecordsOfAnOlderRestartDoNotWinOverTheFile) {
  add("/event/A__e", "t");
  kafka_.create("pre.t", 3);
  kafka_.append("pre.t", 2, "/event/A__e", 226110);
  auto resume = only({{"/event/A__e", {cometd(-2), "", 2, 1, ""}}});
  EXPECT_EQ(resume.resume, cometd(-2));
  EXPECT_EQ(resume.epoch, 1u);
  EXPECT_FALSE(resume.restart);
  EXPECT_EQ(resume.kafka_newest, std::nullopt);
  EXPECT_NE(resume.decision.find("before the channel restarted"), std::string::npos)
      << resume.decision;
}

// A crash after new events landed but before the checkpoint caught up with the restart.
TEST_F(ReconcileTest, RecordsOfALaterRestartWinOverTheFile) {
  add("/event/A__e", "t");
  kafka_.create("pre.t", 3);
  kafka_.append("pre.t", 2, "/event/A__e", 226110);
  kafka_.append("pre.t", 2, "/event/A__e", 4, std::nullopt, 1);
  auto resume = only({{"/event/A__e", {cometd(226110), "", 2, 0, ""}}});
  EXPECT_EQ(resume.resume, cometd(4));
  EXPECT_EQ(resume.epoch, 1u);
}

TEST_F(ReconcileTest, WithoutAFileTheNewestRestartsRecordIsTheResumePoint) {
  add("/event/A__e", "t");
  kafka_.create("pre.t", 3);
  kafka_.append("pre.t", 2, "/event/A__e", 226110, kOrgA);
  kafka_.append("pre.t", 2, "/event/A__e", 6, kOrgA, 1);
  options_.org_id = kOrgA;
  auto resume = only({});
  EXPECT_EQ(resume.resume, cometd(6));
  EXPECT_EQ(resume.epoch, 1u);
  EXPECT_FALSE(resume.restart);
}

// A dyno (no file) after a sandbox refresh: the tail is the old org's.
TEST_F(ReconcileTest, AnotherOrgsRecordsAreNotAResumePoint) {
  add("/event/A__e", "t");
  kafka_.create("pre.t", 3);
  kafka_.append("pre.t", 2, "/event/A__e", 226110, kOrgA);
  options_.org_id = kOrgB;
  auto resume = only({});
  EXPECT_TRUE(resume.restart);
  EXPECT_EQ(resume.resume, std::nullopt);
  EXPECT_EQ(resume.epoch, 1u);
  EXPECT_EQ(resume.foreign_org, kOrgA);
  EXPECT_EQ(resume.foreign_replay_id, cometd(226110));
  ASSERT_EQ(resume.warnings.size(), 1u);
  EXPECT_NE(resume.warnings[0].find(kOrgA), std::string::npos);
  EXPECT_NE(resume.warnings[0].find(kOrgB), std::string::npos);
}

TEST_F(ReconcileTest, AnotherOrgsFileIsNotAResumePointButTheCurrentOrgsRecordsAre) {
  add("/event/A__e", "t");
  kafka_.create("pre.t", 3);
  kafka_.append("pre.t", 2, "/event/A__e", 226110, kOrgA);
  kafka_.append("pre.t", 2, "/event/A__e", 9, kOrgB, 1);
  options_.org_id = kOrgB;
  auto resume = only({{"/event/A__e", {cometd(226110), "", 2, 0, kOrgA}}});
  EXPECT_FALSE(resume.restart);
  EXPECT_EQ(resume.resume, cometd(9));
  EXPECT_EQ(resume.epoch, 1u);
  EXPECT_EQ(resume.foreign_org, kOrgA);
}

TEST_F(ReconcileTest, UnknownOrgsAreAccepted) {
  add("/event/A__e", "t");
  kafka_.create("pre.t", 3);
  kafka_.append("pre.t", 2, "/event/A__e", 30);  // written before records carried sf.org_id
  options_.org_id = kOrgB;
  auto resume = only({{"/event/A__e", {cometd(20), "", 2, 0, ""}}});
  EXPECT_FALSE(resume.restart);
  EXPECT_EQ(resume.resume, cometd(30));
}

TEST_F(ReconcileTest, MultiPartitionSkipSetHoldsOnlyTheCurrentRestartsRecords) {
  auto& mapping = add("/event/A__e", "t");
  mapping.key = config::KeyKind::kReplayId;
  kafka_.create("pre.t", 3);
  kafka_.append("pre.t", 0, "/event/A__e", 1000);
  kafka_.append("pre.t", 1, "/event/A__e", 1001);
  kafka_.append("pre.t", 1, "/event/A__e", 5, std::nullopt, 1);
  kafka_.append("pre.t", 2, "/event/A__e", 999);
  kafka_.append("pre.t", 2, "/event/A__e", 3, std::nullopt, 1);
  kafka_.append("pre.t", 2, "/event/A__e", 7, std::nullopt, 1);
  auto resume = only({{"/event/A__e", {cometd(-2), "", std::nullopt, 1, ""}}});
  EXPECT_EQ(resume.resume, cometd(-2));
  EXPECT_EQ(resume.epoch, 1u);
  EXPECT_EQ(resume.skip, (std::set<core::ReplayId>{cometd(3), cometd(5), cometd(7)}));
  EXPECT_EQ(resume.kafka_newest, cometd(7));
}

TEST_F(ReconcileTest, MultiPartitionOfAnotherOrgRestarts) {
  auto& mapping = add("/event/A__e", "t");
  mapping.key = config::KeyKind::kReplayId;
  kafka_.create("pre.t", 2);
  kafka_.append("pre.t", 0, "/event/A__e", 1000, kOrgA);
  kafka_.append("pre.t", 1, "/event/A__e", 1001, kOrgA, 2);
  options_.org_id = kOrgB;
  auto resume = only({});
  EXPECT_TRUE(resume.restart);
  EXPECT_EQ(resume.epoch, 3u);
  EXPECT_TRUE(resume.skip.empty());
}

// --- subscribe[].api changed (README.md "Switching a channel's API") ---------------------------

TailRecord platform_event(const std::string& channel, std::optional<core::ReplayId> replay_id,
                          bool other_api, const std::string& uuid, const std::string& created,
                          std::uint32_t epoch = 0) {
  TailRecord record;
  record.channel = channel;
  record.replay_id = std::move(replay_id);
  record.other_api = other_api;
  record.event_uuid = uuid;
  record.created_date = created;
  record.epoch = epoch;
  return record;
}

TEST_F(ReconcileTest, AChannelMovedToPubsubReplaysEverythingRetainedSkippingByEventUuid) {
  // Given a channel CometD delivered (file and records hold CometD numbers), now api: pubsub,
  auto& mapping = add("/event/A__e", "t");
  mapping.api = config::EventApi::kPubsub;
  kafka_.create("pre.t", 3);
  options_.retained_since = "2026-11-20T00:00:00.000Z";
  kafka_.append_record("pre.t", 2,
                       platform_event("/event/A__e", std::nullopt, true, "u-old",
                                      "2026-11-19T23:00:00.000Z"));  // no longer retained
  kafka_.append_record(
      "pre.t", 2,
      platform_event("/event/A__e", std::nullopt, true, "u1", "2026-11-20T01:00:00.000Z"));
  kafka_.append_record(
      "pre.t", 2,
      platform_event("/event/A__e", std::nullopt, true, "u2", "2026-11-21T01:00:00.000Z"));

  auto resume = only({{"/event/A__e", {cometd(42), "", std::nullopt, 0, ""}}});
  // then it replays from earliest in a new epoch and skips what Kafka holds by EventUuid.
  EXPECT_TRUE(resume.api_switch);
  EXPECT_EQ(resume.resume, core::ReplayId::cometd(core::ReplayPreset::kEarliest));
  EXPECT_EQ(resume.epoch, 1u);
  EXPECT_EQ(resume.skip_uuids, (std::set<std::string>{"u1", "u2"}));
  EXPECT_FALSE(resume.warnings.empty());
}

TEST_F(ReconcileTest, AChannelMovedBackToCometdIsASwitchAgainInTheNextEpoch) {
  // CometD (epoch 0), then Pub/Sub (epoch 1), now CometD again: the newest records are opaque.
  add("/event/A__e", "t");
  kafka_.create("pre.t", 3);
  kafka_.append("pre.t", 2, "/event/A__e", 41);
  kafka_.append_record("pre.t", 2, platform_event("/event/A__e", std::nullopt, true, "u7", "", 1));
  const auto opaque = core::ReplayId::opaque(std::string("\x00\x09", 2));
  auto resume = only({{"/event/A__e", {opaque, "", std::nullopt, 1, ""}}});
  EXPECT_TRUE(resume.api_switch);
  EXPECT_EQ(resume.epoch, 2u);
  EXPECT_EQ(resume.skip_uuids, (std::set<std::string>{"u7"}));
}

TEST_F(ReconcileTest, AfterTheSwitchTheNewApisPositionsWin) {
  // The switch ran (epoch 1) and wrote events of the new API: no switch any more.
  auto& mapping = add("/event/A__e", "t");
  mapping.api = config::EventApi::kPubsub;
  kafka_.create("pre.t", 3);
  kafka_.append_record("pre.t", 2, platform_event("/event/A__e", std::nullopt, true, "u1", ""));
  const auto opaque = core::ReplayId::opaque(std::string("\x00\x09", 2));
  kafka_.append_record("pre.t", 2, platform_event("/event/A__e", opaque, false, "u2", "", 1));
  auto resume = only({{"/event/A__e", {cometd(42), "", std::nullopt, 0, ""}}});
  EXPECT_FALSE(resume.api_switch);
  EXPECT_EQ(resume.resume, opaque);
  EXPECT_EQ(resume.epoch, 1u);
  EXPECT_TRUE(resume.skip_uuids.empty());
}

TEST_F(ReconcileTest, ACrashRightAfterTheSwitchStillSkipsByEventUuid) {
  // The switch's first checkpoint holds the earliest preset of epoch 1; nothing of the new API
  // reached Kafka yet.
  auto& mapping = add("/event/A__e", "t");
  mapping.api = config::EventApi::kPubsub;
  kafka_.create("pre.t", 3);
  kafka_.append_record("pre.t", 2, platform_event("/event/A__e", std::nullopt, true, "u1", ""));
  auto resume =
      only({{"/event/A__e",
             {core::ReplayId::cometd(core::ReplayPreset::kEarliest), "", std::nullopt, 1, ""}}});
  EXPECT_FALSE(resume.api_switch);
  EXPECT_EQ(resume.resume, core::ReplayId::cometd(core::ReplayPreset::kEarliest));
  EXPECT_EQ(resume.epoch, 1u);
  EXPECT_EQ(resume.skip_uuids, (std::set<std::string>{"u1"}));
}

TEST_F(ReconcileTest, WithoutHeadersAMovedChannelReplaysFromEarliestInANewEpoch) {
  auto& mapping = add("/event/A__e", "t");
  mapping.api = config::EventApi::kPubsub;
  mapping.headers = false;
  auto resume = only({{"/event/A__e", {cometd(42), "", std::nullopt, 3, ""}}});
  EXPECT_TRUE(resume.api_switch);
  EXPECT_EQ(resume.resume, core::ReplayId::cometd(core::ReplayPreset::kEarliest));
  EXPECT_EQ(resume.epoch, 4u);
}

TEST(RetentionCutoff, IsSeventyThreeHoursBeforeNowInTheHeadersForm) {
  const auto now =
      std::chrono::sys_days{std::chrono::year{2026} / 11 / 26} + std::chrono::hours(10);
  EXPECT_EQ(retention_cutoff(now), "2026-11-23T09:00:00.000Z");
}

}  // namespace
}  // namespace sfkb::checkpoint
