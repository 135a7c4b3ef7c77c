// The Kafka adapters a position passes through, against librdkafka's in-process mock cluster:
// the producer's delivery tag and the tail reader's sf.replay_id parse.
#include <chrono>
#include <vector>

#include <gtest/gtest.h>

#include "daemon/kafka/client_config.h"
#include "daemon/kafka_adapters/event_producer.h"
#include "daemon/kafka_adapters/tail_reader.h"

namespace sfkb::kafka_adapters {
namespace {

using namespace std::chrono_literals;
using pipeline::DeliveryReport;
using pipeline::DeliveryTag;
using pipeline::KafkaRecord;

config::KafkaConfig embedded() {
  config::KafkaConfig kafka;
  kafka.embedded = true;
  return kafka;
}

TEST(KafkaEventProducer, ShouldHandBackEachPositionInItsDeliveryReport) {
  auto cluster = kafka::EmbeddedCluster::instance();
  ASSERT_TRUE(cluster->create_topic("replay-id.tags", 1));
  KafkaEventProducer producer(embedded());
  std::vector<DeliveryReport> reports;
  producer.set_delivery_handler([&](const DeliveryReport& report) { reports.push_back(report); });
  const std::vector<DeliveryTag> tags = {
      {1, core::ReplayId::cometd(9007199254740993), 3},
      {2, core::ReplayId::opaque(std::string("\x00\xff\x10", 3)), 0},
      {0, core::ReplayId::cometd(core::ReplayPreset::kEarliest), 7},
  };
  for (const auto& tag : tags) {
    ASSERT_TRUE(producer.produce({"replay-id.tags", 0, std::nullopt, "v", {}}, tag));
  }
  ASSERT_TRUE(producer.flush(10s));
  ASSERT_EQ(reports.size(), tags.size());
  for (std::size_t i = 0; i < tags.size(); ++i) {
    ASSERT_TRUE(reports[i].status) << reports[i].status.message();
    EXPECT_EQ(reports[i].tag.channel, tags[i].channel);
    EXPECT_EQ(reports[i].tag.epoch, tags[i].epoch);
    EXPECT_EQ(reports[i].tag.replay_id, tags[i].replay_id);
    EXPECT_EQ(reports[i].tag.replay_id.kind(), tags[i].replay_id.kind());
  }
}

TEST(TailReaderKafkaTail, ShouldReadBackCometdPositionsAndIgnoreOtherHeaders) {
  auto cluster = kafka::EmbeddedCluster::instance();
  ASSERT_TRUE(cluster->create_topic("replay-id.tail", 1));
  KafkaEventProducer producer(embedded());
  producer.set_delivery_handler([](const DeliveryReport&) {});
  for (const char* replay_id : {"41", "42", "not-a-number", "9223372036854775808"}) {
    KafkaRecord record{"replay-id.tail",
                       0,
                       std::nullopt,
                       "v",
                       {{"sf.channel", "/event/A__e"}, {"sf.replay_id", replay_id}}};
    ASSERT_TRUE(producer.produce(record, {}));
  }
  ASSERT_TRUE(producer.flush(10s));

  TailReaderKafkaTail tail(embedded(), 10s);
  std::vector<checkpoint::TailRecord> seen;
  ASSERT_TRUE(tail.read_backwards("replay-id.tail", 0, [&](const checkpoint::TailRecord& record) {
    seen.push_back(record);
    return true;
  }));
  ASSERT_EQ(seen.size(), 4u);
  // Newest first: somebody else's values of the header are not positions.
  EXPECT_EQ(seen[0].replay_id, std::nullopt);  // beyond 64 bits
  EXPECT_EQ(seen[1].replay_id, std::nullopt);
  EXPECT_EQ(seen[2].replay_id, core::ReplayId::cometd(42));
  EXPECT_EQ(seen[3].replay_id, core::ReplayId::cometd(41));
}

}  // namespace
}  // namespace sfkb::kafka_adapters
