// kafka.create_topics against the real Apache Kafka broker: missing topics are created with the
// configured partitions, replication factor and topic configs; existing topics are left as they
// are; a refusal (an invalid config, a replication factor the cluster cannot meet) names the topic
// and the broker's reason and is fatal (a restart would not help).
#include "daemon/kafka/topic_creation.h"

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon/kafka/handles.h"
#include "tests/integration/support/kafka_cluster.h"
#include "tests/integration/support/unique_name.h"

namespace sfkb::kafka {
namespace {

using namespace std::chrono_literals;
using it::KafkaTestCluster;
using ::testing::UnorderedElementsAre;

ClientConfig client_config(const KafkaTestCluster& cluster) {
  config::KafkaConfig kafka;
  kafka.bootstrap_servers = cluster.bootstrap();
  return ClientConfig(kafka, Role::kProducer);
}

// The topic's configs as the broker reports them (DescribeConfigs), for the keys asked for.
std::map<std::string, std::string> topic_configs(const KafkaTestCluster& cluster,
                                                 const std::string& topic) {
  ConfPtr conf(rd_kafka_conf_new());
  char errstr[512];
  rd_kafka_conf_set(conf.get(), "bootstrap.servers", cluster.bootstrap().c_str(), errstr,
                    sizeof errstr);
  HandlePtr rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf.release(), errstr, sizeof errstr));
  std::unique_ptr<rd_kafka_ConfigResource_t, void (*)(rd_kafka_ConfigResource_t*)> resource(
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str()),
      rd_kafka_ConfigResource_destroy);
  QueuePtr queue(rd_kafka_queue_new(rk.get()));
  rd_kafka_ConfigResource_t* resources[] = {resource.get()};
  rd_kafka_DescribeConfigs(rk.get(), resources, 1, nullptr, queue.get());
  std::unique_ptr<rd_kafka_event_t, void (*)(rd_kafka_event_t*)> event(
      rd_kafka_queue_poll(queue.get(), 30000), rd_kafka_event_destroy);
  std::map<std::string, std::string> out;
  if (!event || rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    ADD_FAILURE() << "DescribeConfigs " << topic << " failed";
    return out;
  }
  size_t count = 0;
  const auto* result = rd_kafka_event_DescribeConfigs_result(event.get());
  const rd_kafka_ConfigResource_t** described =
      rd_kafka_DescribeConfigs_result_resources(result, &count);
  for (size_t i = 0; i < count; ++i) {
    size_t entries = 0;
    const rd_kafka_ConfigEntry_t** configs =
        rd_kafka_ConfigResource_configs(described[i], &entries);
    for (size_t j = 0; j < entries; ++j) {
      const char* value = rd_kafka_ConfigEntry_value(configs[j]);
      out[rd_kafka_ConfigEntry_name(configs[j])] = value != nullptr ? value : "";
    }
  }
  return out;
}

TEST(TopicCreation, CreatesMissingTopicsWithPartitionsAndConfigs) {
  KafkaTestCluster cluster;
  const std::string events = it::unique_name("created.events");
  const std::string dead = it::unique_name("created.dlq");
  TopicSpec events_spec{
      events, 3, 1, {{"retention.ms", "3600000"}, {"max.message.bytes", "2097152"}}};
  TopicSpec dead_spec{dead, -1, -1, {{"cleanup.policy", "compact"}}};

  auto created = create_missing_topics(client_config(cluster), {events_spec, dead_spec}, 30s);
  ASSERT_TRUE(created.is_ok()) << created.error().message;
  EXPECT_THAT(created->created, UnorderedElementsAre(events, dead));
  EXPECT_TRUE(created->existing.empty());

  EXPECT_EQ(cluster.partition_count(events, 10s), 3);
  EXPECT_EQ(cluster.partition_count(dead, 10s), 1);  // -1: the broker's num.partitions (1)
  const auto events_configs = topic_configs(cluster, events);
  EXPECT_EQ(events_configs.at("retention.ms"), "3600000");
  EXPECT_EQ(events_configs.at("max.message.bytes"), "2097152");
  EXPECT_EQ(topic_configs(cluster, dead).at("cleanup.policy"), "compact");
}

TEST(TopicCreation, LeavesExistingTopicsAlone) {
  KafkaTestCluster cluster;
  const std::string existing = it::unique_name("existing");
  cluster.create_topic(existing, 2);
  TopicSpec spec{existing, 6, 1, {{"retention.ms", "1000"}}};

  auto first = create_missing_topics(client_config(cluster), {spec, spec}, 30s);
  ASSERT_TRUE(first.is_ok()) << first.error().message;
  EXPECT_TRUE(first->created.empty());
  EXPECT_THAT(first->existing, UnorderedElementsAre(existing));  // named once
  EXPECT_EQ(cluster.partition_count(existing, 10s), 2);
  EXPECT_NE(topic_configs(cluster, existing).at("retention.ms"), "1000");
}

TEST(TopicCreation, ARefusalNamesTheTopicAndTheBrokersReasonAndIsFatal) {
  KafkaTestCluster cluster;
  const std::string ok = it::unique_name("refused.ok");
  const std::string bad_config = it::unique_name("refused.config");
  const std::string too_many_replicas = it::unique_name("refused.replicas");

  auto refused = create_missing_topics(client_config(cluster),
                                       {{ok, 1, 1, {}},
                                        {bad_config, 1, 1, {{"cleanup.policy", "shred"}}},
                                        {too_many_replicas, 1, 3, {}}},
                                       30s);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.error().kind, core::ErrorKind::kFatal);
  EXPECT_NE(refused.error().message.find(bad_config + ": "), std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find(too_many_replicas + ": "), std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("INVALID_REPLICATION_FACTOR"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(refused.error().message.find(ok + ":"), std::string::npos);
}

TEST(TopicCreation, AnUnreachableClusterIsWorthARetry) {
  config::KafkaConfig kafka;
  kafka.bootstrap_servers = "127.0.0.1:1";  // nothing listens on port 1
  auto result = create_missing_topics(ClientConfig(kafka, Role::kProducer),
                                      {{"never.created", 1, 1, {}}}, 2s);
  ASSERT_FALSE(result.is_ok());
  EXPECT_EQ(result.error().kind, core::ErrorKind::kRetry) << result.error().message;
}

}  // namespace
}  // namespace sfkb::kafka
