// kafka.embedded: the producer, consumer and tail reader against librdkafka's in-process mock
// cluster - hermetic, and the same code path as the demo.
#include <chrono>
#include <map>

#include <gtest/gtest.h>

#include "daemon/kafka/client_config.h"
#include "daemon/kafka/consumer.h"
#include "daemon/kafka/producer.h"

namespace sfkb::kafka {
namespace {

using namespace std::chrono_literals;

TEST(EmbeddedCluster, ProducesAndReadsBackThroughTheWrappers) {
  config::KafkaConfig kafka;
  kafka.embedded = true;
  ClientConfig producer_config(kafka, Role::kProducer);
  auto cluster = EmbeddedCluster::instance();
  ASSERT_TRUE(cluster->create_topic("demo.events", 2));
  EXPECT_EQ(producer_config.bootstrap_servers(), cluster->bootstrap_servers());

  std::map<std::int64_t, Delivery> deliveries;
  Producer producer(producer_config, [&](const Delivery& d) {
    ASSERT_TRUE(d.status) << d.status.message();
    deliveries[d.token.value] = d;
  });
  ASSERT_EQ(producer.partition_count("demo.events", 5s).value(), 2);
  EXPECT_FALSE(producer.partition_count("no.such.topic", 5s));
  const std::vector<Header> headers = {{"sf.replay_id", "7"}};
  for (int i = 0; i < 10; ++i) {
    const std::string value = "v" + std::to_string(i);
    ASSERT_TRUE(producer.produce({"demo.events", 1, std::nullopt, value, headers}, {1, i}));
  }
  ASSERT_TRUE(producer.flush(10s));
  ASSERT_EQ(deliveries.size(), 10u);
  EXPECT_EQ(deliveries[9].partition, 1);
  EXPECT_EQ(deliveries[9].offset, 9);

  TailReader reader(ClientConfig(kafka, Role::kConsumer));
  auto marks = reader.watermarks("demo.events", 1, 5s);
  ASSERT_TRUE(marks) << marks.error().message;
  EXPECT_EQ(marks->high, 10);
  auto tail = reader.read_range("demo.events", 1, 8, 100, 10s);
  ASSERT_TRUE(tail) << tail.error().message;
  ASSERT_EQ(tail->size(), 2u);
  EXPECT_EQ(tail.value()[1].value, "v9");
  EXPECT_EQ(tail.value()[1].header("sf.replay_id"), "7");
}

}  // namespace
}  // namespace sfkb::kafka
