// Publish end to end: the real sf-kafka-bridge binary between the test broker and
// the emulator. Every test uses its own topics and consumer group, so they can run after one
// another against the same broker.

#include <algorithm>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "tests/integration/publish/publish_harness.h"
#include "tests/integration/support/unique_name.h"
#include "tests/support/wait.h"

namespace sfkb::it::publish {
namespace {

using namespace std::chrono_literals;
using emulator::testing::EmulatorProcess;

class PublishIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    SFKB_REQUIRE_PUBLISH_PEERS();
    kafka = std::make_unique<KafkaTestCluster>();
  }

  PublishConfig config_for(EmulatorProcess& sf, std::vector<std::string> topics) {
    PublishConfig config;
    config.salesforce_url = sf.base_url();
    config.access_token = sf.static_token();
    config.bootstrap = kafka->bootstrap();
    config.topics = std::move(topics);
    config.group_id = unique_name("group");
    return config;
  }

  std::size_t published_count(EmulatorProcess& sf) { return sf.published(kEvent).count; }

  bool all_committed(const std::string& group, const std::string& topic, int partitions) {
    return test_support::wait_until(
        [&] {
          auto committed = kafka->committed_offsets(group, topic);
          for (int p = 0; p < partitions; ++p) {
            auto it = committed.find(p);
            if (it == committed.end() || it->second != kafka->watermarks(topic, p).high) {
              return false;
            }
          }
          return true;
        },
        30s, 200ms);
  }

  std::unique_ptr<KafkaTestCluster> kafka;
  TempDir dir{"sfkb-publish-it"};
};

// Delivery, order, dead letters, retries, re-authentication and kill -9 do not depend on the API
// that carries the records (README.md "Publish over the Pub/Sub API"): these tests run over REST
// composite requests and over the Pub/Sub API's Publish, the same tests.
class PublishOverApi : public PublishIntegration, public ::testing::WithParamInterface<Api> {
 protected:
  // The emulator with the client_credentials login: a Pub/Sub call names the org (tenantid), which
  // only a token response's identity URL gives.
  static EmulatorProcess::Options options() {
    return emulator_options({"--client-id", "it-client", "--client-secret", "it-secret"});
  }

  PublishConfig config_for(EmulatorProcess& sf, std::vector<std::string> topics) {
    auto config = PublishIntegration::config_for(sf, std::move(topics));
    if (GetParam() == Api::kPubsub) {
      config.api = "pubsub";
      config.pubsub_endpoint = pubsub_endpoint(sf);
      config.access_token.clear();
      config.client_id = "it-client";
      config.client_secret = "it-secret";
    }
    return config;
  }
};
INSTANTIATE_TEST_SUITE_P(Api, PublishOverApi, ::testing::Values(Api::kRest, Api::kPubsub),
                         [](const ::testing::TestParamInfo<Api>& info) {
                           return to_string(info.param);
                         });

// §6.1: 10,000 records on 2 topics -> each published once, in offset order per partition.
TEST_P(PublishOverApi, ShouldPublishTenThousandRecordsFromTwoTopicsOnceInOrder) {
  EmulatorProcess sf(options());
  const auto topic_a = unique_name("orders-a");
  const auto topic_b = unique_name("orders-b");
  kafka->create_topic(topic_a, 3);
  kafka->create_topic(topic_b, 2);
  produce_orders(*kafka, topic_a, 3, 2000);  // 6,000
  produce_orders(*kafka, topic_b, 2, 2000);  // 4,000
  auto config = config_for(sf, {topic_a, topic_b});
  config.dead_letter_topic = unique_name("orders-dlq");
  Bridge bridge(config, dir);

  auto published = sf.wait_for_published(kEvent, 10000, 120s);
  ASSERT_GE(published.count, 10000u) << bridge.output();
  ASSERT_TRUE(all_committed(config.group_id, topic_a, 3));
  ASSERT_TRUE(all_committed(config.group_id, topic_b, 2));
  EXPECT_EQ(bridge.terminate(), 0);

  auto by_source = published_by_source(sf);
  EXPECT_EQ(by_source.size(), 5u);
  for (int p = 0; p < 3; ++p) {
    EXPECT_EQ(check_exactly_once_in_order(by_source[topic_a + "/" + std::to_string(p)], 2000), "")
        << topic_a << "/" << p;
  }
  for (int p = 0; p < 2; ++p) {
    EXPECT_EQ(check_exactly_once_in_order(by_source[topic_b + "/" + std::to_string(p)], 2000), "")
        << topic_b << "/" << p;
  }
  EXPECT_EQ(published_count(sf), 10000u);
}

// §6.2: 1% of records with an unknown field -> exactly those dead-lettered, with headers.
TEST_P(PublishOverApi, ShouldDeadLetterExactlyTheRecordsWithAnUnknownField) {
  EmulatorProcess sf(options());
  const auto topic = unique_name("orders");
  const auto dlq = unique_name("orders-dlq");
  kafka->create_topic(topic, 2);
  kafka->create_topic(dlq, 1);
  std::vector<TestRecord> records;
  std::set<std::pair<int, int>> bad;  // (partition, seq)
  for (int seq = 0; seq < 1000; ++seq) {
    for (int p = 0; p < 2; ++p) {
      const bool unknown = (seq * 2 + p) % 100 == 7;
      if (unknown) {
        bad.insert({p, seq});
      }
      records.push_back(
          {"k" + std::to_string(seq),
           order_json(topic + "/" + std::to_string(p), seq, unknown ? R"(,"Unknown__c":"x")" : ""),
           {},
           p});
    }
  }
  kafka->produce(topic, records);
  auto config = config_for(sf, {topic});
  config.dead_letter_topic = dlq;
  Bridge bridge(config, dir);

  auto letters = kafka->consume(dlq, bad.size(), 90s);
  ASSERT_EQ(letters.size(), bad.size()) << bridge.output();
  ASSERT_TRUE(all_committed(config.group_id, topic, 2)) << bridge.output();
  EXPECT_EQ(published_count(sf), 2000u - bad.size());

  for (const auto& letter : letters) {
    EXPECT_EQ(letter.header("sf.error_code"), "INVALID_FIELD");
    EXPECT_NE(letter.header("sf.error_message").value_or("").find("Unknown__c"), std::string::npos);
    EXPECT_EQ(letter.header("sf.source_topic"), topic);
    const int p = std::stoi(letter.header("sf.source_partition").value_or("-1"));
    const auto offset = std::stoll(letter.header("sf.source_offset").value_or("-1"));
    // Records were produced seq-major, so a partition's offset equals the seq.
    EXPECT_TRUE(bad.contains({p, static_cast<int>(offset)})) << p << "@" << offset;
    EXPECT_EQ(letter.key, "k" + std::to_string(offset));
    EXPECT_EQ(letter.value,
              order_json(topic + "/" + std::to_string(p), offset, R"(,"Unknown__c":"x")"));
  }
  auto by_source = published_by_source(sf);
  for (int p = 0; p < 2; ++p) {
    const auto& seqs = by_source[topic + "/" + std::to_string(p)];
    EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end()));
    for (auto seq : seqs) {
      EXPECT_FALSE(bad.contains({p, static_cast<int>(seq)}));
    }
  }
  EXPECT_EQ(bridge.terminate(), 0);
}

// §6.3: publishes fail with 503 for a while -> everything published after recovery.
TEST_P(PublishOverApi, ShouldPublishEverythingAfterAPeriodOf503s) {
  EmulatorProcess sf(options());
  const auto topic = unique_name("orders");
  kafka->create_topic(topic, 2);
  produce_orders(*kafka, topic, 2, 200);
  // Over the Pub/Sub API the emulator answers these with gRPC UNAVAILABLE.
  sf.faults(R"({"fail_next":{"count":12,"status":503,"error_code":"SERVER_UNAVAILABLE","path":")" +
            publish_fault_path(GetParam()) + R"("}})");
  auto config = config_for(sf, {topic});
  config.dead_letter_topic = unique_name("orders-dlq");
  config.batch_size = 50;
  Bridge bridge(config, dir);

  ASSERT_TRUE(bridge.process().wait_for_output("retrying in", 30s)) << bridge.output();
  produce_orders(*kafka, topic, 2, 800, 200);
  auto published = sf.wait_for_published(kEvent, 2000, 90s);
  ASSERT_EQ(published.count, 2000u) << bridge.output();
  ASSERT_TRUE(all_committed(config.group_id, topic, 2));
  auto by_source = published_by_source(sf);
  for (int p = 0; p < 2; ++p) {
    EXPECT_EQ(check_exactly_once_in_order(by_source[topic + "/" + std::to_string(p)], 1000), "");
  }
  EXPECT_EQ(bridge.terminate(), 0);
}

// §6.4: tokens expire mid-stream (client_credentials against the emulator) -> re-auth, no loss.
TEST_P(PublishOverApi, ShouldReauthenticateWhenTokensExpireMidStream) {
  EmulatorProcess sf(options());
  const auto topic = unique_name("orders");
  kafka->create_topic(topic, 2);
  produce_orders(*kafka, topic, 2, 500);
  auto config = config_for(sf, {topic});
  config.access_token.clear();
  config.client_id = "it-client";
  config.client_secret = "it-secret";
  config.dead_letter_topic = unique_name("orders-dlq");
  Bridge bridge(config, dir);

  ASSERT_GE(sf.wait_for_published(kEvent, 1000, 60s).count, 1000u) << bridge.output();
  sf.faults(R"({"expire_tokens":true})");
  produce_orders(*kafka, topic, 2, 500, 500);
  ASSERT_GE(sf.wait_for_published(kEvent, 2000, 60s).count, 2000u) << bridge.output();
  ASSERT_TRUE(all_committed(config.group_id, topic, 2));
  EXPECT_TRUE(bridge.process().wait_for_output("re-authenticating", 1s)) << bridge.output();
  auto by_source = published_by_source(sf);
  for (int p = 0; p < 2; ++p) {
    EXPECT_EQ(check_exactly_once_in_order(by_source[topic + "/" + std::to_string(p)], 1000), "");
  }
  EXPECT_EQ(bridge.output().find("it-secret"), std::string::npos);
  EXPECT_EQ(bridge.terminate(), 0);
}

// §6.5: kill -9 mid-stream and restart -> every record at least once, duplicates at most one
// batch per partition.
TEST_P(PublishOverApi, ShouldPublishEverythingAtLeastOnceAcrossAKill9) {
  EmulatorProcess sf(options());
  sf.faults(R"({"latency_ms":20})");  // keep the stream going long enough to be interrupted
  const auto topic = unique_name("orders");
  constexpr int kPartitions = 3;
  constexpr int kPerPartition = 2000;
  kafka->create_topic(topic, kPartitions);
  produce_orders(*kafka, topic, kPartitions, kPerPartition);
  auto config = config_for(sf, {topic});
  config.dead_letter_topic = unique_name("orders-dlq");
  config.batch_size = 100;
  // The killed member stays in the group until its session times out; the broker's minimum
  // keeps the restart quick (librdkafka's default is 45 s).
  config.kafka_properties = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "1000"}};
  {
    Bridge first(config, dir, "first");
    ASSERT_TRUE(test_support::wait_until([&] { return published_count(sf) >= 1500; }, 60s))
        << first.output();
    first.kill();
  }
  const auto before_restart = published_count(sf);
  ASSERT_LT(before_restart, static_cast<std::size_t>(kPartitions * kPerPartition))
      << "the first bridge finished before it was killed; nothing was tested";
  sf.faults(R"({"latency_ms":0})");
  Bridge second(config, dir, "second");
  ASSERT_TRUE(all_committed(config.group_id, topic, kPartitions)) << second.output();
  EXPECT_EQ(second.terminate(), 0);

  auto by_source = published_by_source(sf);
  for (int p = 0; p < kPartitions; ++p) {
    EXPECT_EQ(check_at_least_once(by_source[topic + "/" + std::to_string(p)], kPerPartition,
                                  static_cast<std::size_t>(config.batch_size)),
              "")
        << "partition " << p;
  }
}

// §6.6: two bridges in one group share the partitions; when one stops the other takes over.
TEST_F(PublishIntegration, ShouldLetTheSecondBridgeTakeOverWhenTheFirstStops) {
  EmulatorProcess sf(emulator_options());
  const auto topic = unique_name("orders");
  constexpr int kPartitions = 4;
  kafka->create_topic(topic, kPartitions);
  auto config = config_for(sf, {topic});
  config.dead_letter_topic = unique_name("orders-dlq");
  config.batch_size = 50;
  Bridge a(config, dir, "a");
  ASSERT_TRUE(a.wait_ready()) << a.output();
  Bridge b(config, dir, "b");
  ASSERT_TRUE(b.wait_ready(60s)) << b.output();

  produce_orders(*kafka, topic, kPartitions, 250);
  ASSERT_GE(sf.wait_for_published(kEvent, 1000, 60s).count, 1000u);
  // Both took part: each published some records (it owned some partitions).
  EXPECT_GT(a.process().count_lines_containing("partition assigned"), 0u);
  EXPECT_GT(b.process().count_lines_containing("partition assigned"), 0u);

  EXPECT_EQ(a.terminate(), 0) << a.output();
  produce_orders(*kafka, topic, kPartitions, 250, 250);
  ASSERT_GE(sf.wait_for_published(kEvent, 2000, 60s).count, 2000u) << b.output();
  ASSERT_TRUE(all_committed(config.group_id, topic, kPartitions)) << b.output();
  auto by_source = published_by_source(sf);
  for (int p = 0; p < kPartitions; ++p) {
    // A graceful hand-over commits what is done: no duplicates are expected, but at-least-once is
    // the contract, so allow one batch.
    EXPECT_EQ(check_at_least_once(by_source[topic + "/" + std::to_string(p)], 500,
                                  static_cast<std::size_t>(config.batch_size)),
              "")
        << "partition " << p;
  }
  EXPECT_EQ(b.terminate(), 0);
}

// §6.7: invalid JSON, an empty value, a 1 MB value -> dead-lettered with a clear error; the
// records around them are published and the bridge keeps running.
TEST_F(PublishIntegration, ShouldDeadLetterUnusableValuesWithAClearErrorAndKeepGoing) {
  EmulatorProcess sf(emulator_options());
  const auto topic = unique_name("orders");
  const auto dlq = unique_name("orders-dlq");
  kafka->create_topic(topic, 1);
  kafka->create_topic(dlq, 1);
  // 10^6 bytes of text plus the rest of the JSON: above what Salesforce takes for one event, still
  // below the broker's default max.message.bytes (1,048,588).
  const std::string big =
      order_json(topic + "/0", 99, ",\"Text2__c\":\"" + std::string(1000000, 'x') + "\"");
  std::vector<TestRecord> records = {
      {"k0", order_json(topic + "/0", 0), {}, 0},
      {"k1", "{\"Src__c\": \"broken", {}, 0},
      {"k2", "", {}, 0},
      {"k3", big, {}, 0},
      {"k4", "[1,2,3]", {}, 0},
      {"k5", order_json(topic + "/0", 1), {}, 0},
  };
  produce_large(kafka->bootstrap(), topic, records);
  auto config = config_for(sf, {topic});
  config.dead_letter_topic = dlq;
  // The 1 MB record must fit through the dead-letter producer (librdkafka's default is 1,000,000).
  config.kafka_properties = {{"message.max.bytes", "2000000"}};
  Bridge bridge(config, dir);

  auto letters = kafka->consume(dlq, 4, 60s);
  ASSERT_EQ(letters.size(), 4u) << bridge.output();
  ASSERT_GE(sf.wait_for_published(kEvent, 2, 30s).count, 2u);
  EXPECT_TRUE(all_committed(config.group_id, topic, 1));
  EXPECT_TRUE(bridge.process().running());
  for (const auto& letter : letters) {
    EXPECT_EQ(letter.header("sf.error_code"), "INVALID_RECORD");
  }
  EXPECT_NE(letters[0].header("sf.error_message").value_or("").find("invalid JSON at offset"),
            std::string::npos);
  EXPECT_EQ(letters[1].header("sf.error_message"), "empty value (a JSON object was expected)");
  EXPECT_NE(letters[2].header("sf.error_message").value_or("").find("above the limit"),
            std::string::npos);
  EXPECT_EQ(letters[2].value, big);
  EXPECT_EQ(letters[3].header("sf.error_message"), "value is a JSON array, not an object");
  auto by_source = published_by_source(sf);
  EXPECT_EQ(check_exactly_once_in_order(by_source[topic + "/0"], 2), "");
  EXPECT_EQ(bridge.terminate(), 0);
}

}  // namespace
}  // namespace sfkb::it::publish
