// Every channel kind as Salesforce sends it. PushTopic (/topic/) and Change Data Capture
// (/data/) events go through the real bridge into Kafka with the value, key and sf.* headers of
// their kind (README.md "Channel kinds").

#include <gtest/gtest.h>

#include "daemon/kafka/partitioner.h"
#include "tests/integration/subscribe/bridge_harness.h"
#include "tests/integration/support/unique_name.h"

namespace sfkb::it::subscribe {
namespace {

using namespace std::chrono_literals;
using emulator::testing::EmulatorProcess;

class SubscribeKinds : public ::testing::Test {
 protected:
  void SetUp() override {
    SFKB_REQUIRE_KAFKA();
    SFKB_REQUIRE_BRIDGE();
    kafka_ = std::make_unique<KafkaTestCluster>();
  }

  TempDir dir_{"sfkb-it-kinds"};
  std::unique_ptr<KafkaTestCluster> kafka_;
};

const ConsumedRecord* find_replay(const std::vector<ConsumedRecord>& records,
                                  std::int64_t replay_id) {
  for (const auto& record : records) {
    if (record.header("sf.replay_id") == std::to_string(replay_id)) {
      return &record;
    }
  }
  return nullptr;
}

TEST_F(SubscribeKinds, PushTopicAndChangeEventsArriveWithTheirValuesKeysAndHeaders) {
  EmulatorProcess sf(emulator_options());
  const std::string topic_channel = "/topic/InvoiceUpdates";
  const std::string data_channel = "/data/AccountChangeEvent";
  // Given PushTopic events of three types and change events (one naming two records, one gap
  // overflow naming none) retained in the org,
  std::vector<emulator::testing::InjectResult> pushed;
  for (const char* type : {"created", "updated", "deleted"}) {
    pushed.push_back(sf.inject_json(
        std::string(R"({"channel":"/topic/InvoiceUpdates","type":")") + type +
        R"(","sobject":{"Id":"a07xx00000000{n}AAA","Name":"INV-{n}","Amount__c":12}})"));
  }
  const auto update = sf.inject_json(
      R"({"channel":"/data/AccountChangeEvent","change":{"changeType":"UPDATE",)"
      R"("recordIds":["001xx000003DGb2AAG","001xx000003DGb3AAG"]},"payload":{"Rating":"Hot"}})");
  const auto overflow = sf.inject_json(
      R"({"channel":"/data/AccountChangeEvent","change":{"changeType":"GAP_OVERFLOW"}})");

  // when a bridge subscribes to both channels, keyed by record ID,
  const std::string topics_topic = unique_name("kinds-topic");
  const std::string changes_topic = unique_name("kinds-data");
  kafka_->create_topic(topics_topic, 2);
  kafka_->create_topic(changes_topic, 2);
  BridgeConfig config;
  config.salesforce_url = sf.base_url();
  config.access_token = sf.static_token();
  config.bootstrap = kafka_->bootstrap();
  config.checkpoint_dir = dir_.file("state");
  config.channels = {{topic_channel, topics_topic, "payload.Id"},
                     {data_channel, changes_topic, "payload.ChangeEventHeader.recordIds"}};
  Bridge bridge(config, dir_);
  ASSERT_TRUE(bridge.wait_ready()) << bridge.output();
  const auto topic_seen = wait_for_channel(*kafka_, topics_topic, topic_channel, 3, 30s);
  const auto data_seen = wait_for_channel(*kafka_, changes_topic, data_channel, 2, 30s);
  ASSERT_EQ(bridge.terminate(), 0) << bridge.output();
  // then none of them was taken for malformed,
  EXPECT_EQ(bridge.output().find("malformed"), std::string::npos) << bridge.output();
  ASSERT_EQ(topic_seen.size(), 3u) << bridge.output();
  ASSERT_EQ(data_seen.size(), 2u) << bridge.output();

  // each PushTopic record is the sobject, keyed by its Id, with the event's type and date,
  const auto topic_records = kafka_->read_all(topics_topic);
  const char* types[] = {"created", "updated", "deleted"};
  for (std::size_t i = 0; i < pushed.size(); ++i) {
    const auto* record = find_replay(topic_records, pushed[i].first_replay_id);
    ASSERT_NE(record, nullptr) << i;
    const std::string n = std::to_string(i);
    EXPECT_EQ(record->value_or_empty(),
              R"({"Id":"a07xx00000000)" + n + R"(AAA","Name":"INV-)" + n + R"(","Amount__c":12})");
    EXPECT_EQ(record->key, "a07xx00000000" + n + "AAA");
    EXPECT_EQ(record->header("sf.channel"), topic_channel);
    EXPECT_EQ(record->header("sf.event_type"), types[i]);
    EXPECT_TRUE(record->header("sf.created_date").has_value());
    EXPECT_FALSE(record->header("sf.event_uuid").has_value());
    EXPECT_FALSE(record->header("sf.schema").has_value());
  }

  // and each change record is the payload with its header, keyed by its record IDs, with the
  // change's headers; the gap overflow, naming no record, goes key-less to the channel's
  // partition.
  const auto data_records = kafka_->read_all(changes_topic);
  const auto* changed = find_replay(data_records, update.first_replay_id);
  ASSERT_NE(changed, nullptr);
  EXPECT_NE(changed->value_or_empty().find(R"({"ChangeEventHeader":{"entityName":"Account",)"),
            std::string::npos)
      << changed->value_or_empty();
  EXPECT_NE(changed->value_or_empty().find(R"(,"Rating":"Hot"})"), std::string::npos);
  EXPECT_EQ(changed->key, "001xx000003DGb2AAG,001xx000003DGb3AAG");
  EXPECT_EQ(changed->header("sf.change_type"), "UPDATE");
  EXPECT_EQ(changed->header("sf.entity_name"), "Account");
  EXPECT_EQ(changed->header("sf.record_ids"), "001xx000003DGb2AAG,001xx000003DGb3AAG");
  EXPECT_EQ(changed->header("sf.sequence_number"), "1");
  EXPECT_TRUE(changed->header("sf.transaction_key").has_value());
  EXPECT_TRUE(changed->header("sf.schema").has_value());
  EXPECT_EQ(changed->header("sf.created_date").value_or("").size(), 24u);  // ISO 8601 with ms
  EXPECT_FALSE(changed->header("sf.event_uuid").has_value());

  const auto* gap = find_replay(data_records, overflow.first_replay_id);
  ASSERT_NE(gap, nullptr);
  EXPECT_EQ(gap->header("sf.change_type"), "GAP_OVERFLOW");
  EXPECT_FALSE(gap->header("sf.record_ids").has_value());
  EXPECT_FALSE(gap->key.has_value());
  EXPECT_EQ(gap->partition, kafka::partition_for_channel(data_channel, 2));
}

}  // namespace
}  // namespace sfkb::it::subscribe
