// The transactional subscribe producer and the checkpoint topic, against librdkafka's in-process
// mock cluster: records are reported only once their transaction committed, the position commits
// with them, an abortable error aborts and produces the transaction again, and the topic's records
// decode to positions. (The mock cluster of librdkafka 2.0 does not fence older producer epochs:
// fencing is tested against the real broker, tests/integration/subscribe.)
#include <chrono>
#include <map>
#include <vector>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "daemon/checkpoint/file_store.h"
#include "daemon/kafka/client_config.h"
#include "daemon/kafka/consumer.h"
#include "daemon/kafka_adapters/topic_store.h"
#include "daemon/kafka_adapters/transactional_producer.h"
#include "daemon/ops/metrics.h"

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

// Kafka's ApiKey of a Produce request (RD_KAFKAP_Produce is not in librdkafka's public headers).
constexpr std::int16_t kProduceApiKey = 0;

// A mock cluster of the test's own, whose requests can be made to fail.
class OwnMockCluster {
 public:
  OwnMockCluster() {
    char errstr[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
    owner_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    cluster_ = rd_kafka_mock_cluster_new(owner_, 1);
  }
  ~OwnMockCluster() {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(owner_);
  }
  OwnMockCluster(const OwnMockCluster&) = delete;
  OwnMockCluster& operator=(const OwnMockCluster&) = delete;
  rd_kafka_mock_cluster_t* get() const { return cluster_; }
  std::string bootstrap() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }

 private:
  rd_kafka_t* owner_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

TEST(TransactionalEventProducer, ShouldAbortAndProduceAgainAfterAnAbortableError) {
  OwnMockCluster cluster;
  ASSERT_EQ(rd_kafka_mock_topic_create(cluster.get(), "abort.events", 1, 1),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  config::Config config = embedded_config({"/event/A__e"});
  config.kafka.embedded = false;
  config.kafka.bootstrap_servers = cluster.bootstrap();
  TransactionLimits limits;
  limits.max_records = 3;
  limits.max_age = 10min;
  limits.timeout = 10s;
  TransactionalEventProducer producer(config, std::nullopt, limits);
  std::vector<DeliveryReport> reports;
  producer.set_delivery_handler([&](const DeliveryReport& r) { reports.push_back(r); });
  ASSERT_TRUE(producer.initialize({}));
  auto& aborts =
      ops::Metrics::global().counter(ops::Metric::kSubscribeTransactionAborts, {"/event/A__e"});
  const auto aborts_before = aborts.value();
  // The broker refuses the first produce request for good: the transaction must be aborted.
  rd_kafka_mock_push_request_errors(cluster.get(), kProduceApiKey, 1,
                                    RD_KAFKA_RESP_ERR_INVALID_RECORD);
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(producer.produce(record("abort.events", 0, "a" + std::to_string(i)),
                                 {0, core::ReplayId::cometd(i), 0}));
  }
  poll_until(producer, reports, 3);
  // Every record is reported committed once, and read_committed readers find each once, in order.
  ASSERT_EQ(reports.size(), 3u);
  for (const auto& report : reports) {
    EXPECT_TRUE(report.status) << report.status.message();
  }
  // librdkafka 2.0 may need a second abort (an epoch bump after the failed batch's sequence gap).
  EXPECT_GE(aborts.value(), aborts_before + 1);
  kafka::TailReader reader(kafka::ClientConfig(config.kafka, kafka::Role::kConsumer));
  auto read = reader.read_range("abort.events", 0, 0, 1000, 10s);
  ASSERT_TRUE(read) << read.error().message;
  std::vector<std::string> values;
  for (const auto& r : read.value()) {
    values.push_back(r.value.value_or(""));
  }
  EXPECT_EQ(values, (std::vector<std::string>{"a1", "a2", "a3"}));
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
