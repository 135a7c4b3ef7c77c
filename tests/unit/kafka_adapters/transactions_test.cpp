// The transactional subscribe producer and the checkpoint topic, against librdkafka's in-process
// mock cluster: records are reported only once their transaction committed, the position commits
// with them, a second owner fences the first, and the topic's records decode to positions.
#include <chrono>
#include <map>
#include <vector>

#include <gtest/gtest.h>

#include "daemon/checkpoint/file_store.h"
#include "daemon/kafka/client_config.h"
#include "daemon/kafka_adapters/topic_store.h"
#include "daemon/kafka_adapters/transactional_producer.h"

namespace sfkb::kafka_adapters {
namespace {

using namespace std::chrono_literals;
using pipeline::DeliveryReport;
using pipeline::DeliveryTag;
using pipeline::KafkaRecord;

config::Config embedded_config(const std::vector<std::string>& channels) {
  config::Config config;
  config.kafka.embedded = true;
  config.kafka.topic_prefix = "txn.";
  for (const auto& channel : channels) {
    config::SubscribeMapping mapping;
    mapping.channel = channel;
    mapping.topic = "events";
    config.subscribe.push_back(mapping);
  }
  return config;
}

KafkaRecord record(const std::string& topic, std::int32_t partition, const std::string& value) {
  return {topic, partition, std::nullopt, value, {{"sf.org_id", "00Dorg"}}};
}

// Polls until `count` reports arrived or the deadline passed.
void poll_until(TransactionalEventProducer& producer, const std::vector<DeliveryReport>& reports,
                std::size_t count) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (reports.size() < count && std::chrono::steady_clock::now() < deadline) {
    producer.poll(50ms);
  }
}

TEST(TransactionalEventProducer, ShouldReportRecordsOnlyOnceCommittedWithTheirPositions) {
  auto cluster = kafka::EmbeddedCluster::instance();
  ASSERT_TRUE(cluster->create_topic("txn.events", 2));
  ASSERT_TRUE(cluster->create_topic("txn.positions", 1));
  const auto config = embedded_config({"/event/A__e", "/event/B__e"});
  TransactionLimits limits;
  limits.max_records = 3;
  limits.max_age = 10min;  // only the count or a flush commits
  TransactionalEventProducer producer(config, std::string("txn.positions"), limits);
  std::vector<DeliveryReport> reports;
  producer.set_delivery_handler([&](const DeliveryReport& report) { reports.push_back(report); });
  ASSERT_TRUE(producer.initialize({}));

  // Two records of A: below the count, nothing is committed nor reported.
  ASSERT_TRUE(producer.produce(record("txn.events", 0, "a1"), {0, core::ReplayId::cometd(1), 0}));
  ASSERT_TRUE(producer.produce(record("txn.events", 0, "a2"), {0, core::ReplayId::cometd(2), 0}));
  producer.poll(200ms);
  EXPECT_TRUE(reports.empty());
  // The third fills the transaction: committed and reported, in order.
  ASSERT_TRUE(producer.produce(record("txn.events", 0, "a3"), {0, core::ReplayId::cometd(3), 0}));
  poll_until(producer, reports, 3);
  ASSERT_EQ(reports.size(), 3u);
  for (std::size_t i = 0; i < reports.size(); ++i) {
    ASSERT_TRUE(reports[i].status) << reports[i].status.message();
    EXPECT_FALSE(reports[i].fenced);
    EXPECT_EQ(reports[i].tag.replay_id, core::ReplayId::cometd(static_cast<std::int64_t>(i) + 1));
    EXPECT_EQ(reports[i].partition, 0);
  }
  // B's single record is committed by the flush.
  ASSERT_TRUE(producer.produce(record("txn.events", 1, "b7"), {1, core::ReplayId::cometd(7), 2}));
  ASSERT_TRUE(producer.flush(10s));
  ASSERT_EQ(reports.size(), 4u);
  EXPECT_TRUE(reports[3].status);

  // The positions committed with the records.
  TopicStore store(config.kafka, "txn.positions", nullptr);
  auto positions = store.load();
  ASSERT_TRUE(positions) << positions.error().message;
  ASSERT_EQ(positions->size(), 2u);
  const auto& a = positions->at("/event/A__e");
  EXPECT_EQ(a.replay_id, core::ReplayId::cometd(3));
  EXPECT_EQ(a.partition, 0);
  EXPECT_EQ(a.org_id, "00Dorg");
  const auto& b = positions->at("/event/B__e");
  EXPECT_EQ(b.replay_id, core::ReplayId::cometd(7));
  EXPECT_EQ(b.epoch, 2u);
  EXPECT_EQ(b.partition, 1);
}

TEST(TransactionalEventProducer, ShouldReportEveryUncommittedRecordAsFencedWhenANewOwnerStarts) {
  auto cluster = kafka::EmbeddedCluster::instance();
  ASSERT_TRUE(cluster->create_topic("txn.fenced", 1));
  auto config = embedded_config({"/event/F__e"});
  config.kafka.topic_prefix = "fence.";
  TransactionLimits limits;
  limits.max_age = 10min;
  limits.timeout = 5s;
  TransactionalEventProducer old_owner(config, std::nullopt, limits);
  std::vector<DeliveryReport> reports;
  old_owner.set_delivery_handler([&](const DeliveryReport& r) { reports.push_back(r); });
  ASSERT_TRUE(old_owner.initialize({}));
  ASSERT_TRUE(old_owner.produce(record("txn.fenced", 0, "x"), {0, core::ReplayId::cometd(1), 0}));
  old_owner.poll(100ms);

  // A new owner of the same transactional.id,
  TransactionalEventProducer new_owner(config, std::nullopt, limits);
  ASSERT_TRUE(new_owner.initialize({}));
  // fences the old one: its open transaction and every later record are reported fenced.
  old_owner.flush(5s);
  ASSERT_TRUE(old_owner.produce(record("txn.fenced", 0, "y"), {0, core::ReplayId::cometd(2), 0}));
  poll_until(old_owner, reports, 2);
  ASSERT_EQ(reports.size(), 2u);
  for (const auto& report : reports) {
    EXPECT_FALSE(report.status);
    EXPECT_TRUE(report.fenced) << report.status.message();
  }
}

TEST(TopicStore, ShouldKeepTheNewestEntryPerChannelAndForgetTombstones) {
  checkpoint::ChannelCheckpoint first;
  first.replay_id = core::ReplayId::cometd(5);
  first.partition = 2;
  checkpoint::ChannelCheckpoint second;
  second.replay_id = core::ReplayId::cometd(9);
  second.epoch = 1;
  second.org_id = "00D";
  std::vector<kafka::Record> records(4);
  records[0].key = "/event/A__e";
  records[0].value = checkpoint::encode_checkpoint_entry(first);
  records[1].key = "/event/B__e";
  records[1].value = checkpoint::encode_checkpoint_entry(first);
  records[2].key = "/event/A__e";
  records[2].value = checkpoint::encode_checkpoint_entry(second);
  records[3].key = "/event/B__e";  // a tombstone
  auto positions = positions_from_records(records, "t");
  ASSERT_TRUE(positions) << positions.error().message;
  ASSERT_EQ(positions->size(), 1u);
  const auto& a = positions->at("/event/A__e");
  EXPECT_EQ(a.replay_id, core::ReplayId::cometd(9));
  EXPECT_EQ(a.epoch, 1u);
  EXPECT_EQ(a.org_id, "00D");
  EXPECT_FALSE(a.partition);
}

TEST(TopicStore, ShouldRefuseAnEntryThatDoesNotDecode) {
  std::vector<kafka::Record> records(1);
  records[0].partition = 0;
  records[0].offset = 17;
  records[0].key = "/event/A__e";
  records[0].value = R"({"version":99,"replay_id":1})";
  auto positions = positions_from_records(records, "cp");
  ASSERT_FALSE(positions);
  EXPECT_EQ(positions.error().kind, core::ErrorKind::kFatal);
  EXPECT_NE(positions.error().message.find("cp record 0@17"), std::string::npos)
      << positions.error().message;
}

TEST(TopicStore, ShouldSeedOnlyChannelsTheTopicDoesNotKnow) {
  checkpoint::Checkpoints topic;
  topic["/event/A__e"].replay_id = core::ReplayId::cometd(20);
  checkpoint::Checkpoints file;
  file["/event/A__e"].replay_id = core::ReplayId::cometd(10);
  file["/event/B__e"].replay_id = core::ReplayId::cometd(30);
  const auto merged = seeded_positions(topic, file);
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged.at("/event/A__e").replay_id, core::ReplayId::cometd(20));
  EXPECT_EQ(merged.at("/event/B__e").replay_id, core::ReplayId::cometd(30));
}

TEST(CheckpointEntry, ShouldRoundTripEveryField) {
  checkpoint::ChannelCheckpoint entry;
  entry.replay_id = core::ReplayId::cometd(9007199254740993);
  entry.updated = "2026-12-01T20:00:00.000Z";
  entry.partition = 3;
  entry.epoch = 4;
  entry.org_id = "00Dxx";
  const auto text = checkpoint::encode_checkpoint_entry(entry);
  EXPECT_NE(text.find("\"version\":2"), std::string::npos) << text;
  auto decoded = checkpoint::decode_checkpoint_entry(text, "/event/A__e", "here");
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->replay_id, entry.replay_id);
  EXPECT_EQ(decoded->updated, entry.updated);
  EXPECT_EQ(decoded->partition, entry.partition);
  EXPECT_EQ(decoded->epoch, entry.epoch);
  EXPECT_EQ(decoded->org_id, entry.org_id);
}

}  // namespace
}  // namespace sfkb::kafka_adapters
