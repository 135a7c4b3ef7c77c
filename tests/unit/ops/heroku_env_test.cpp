// Heroku: on a dyno the whole YAML comes from $SF_KAFKA_BRIDGE_CONFIG and the Apache
// Kafka add-on's KAFKA_URL / KAFKA_PREFIX configure Kafka with no `kafka:` section at all.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>

#include "daemon/config/loader.h"

namespace sfkb::config {
namespace {

constexpr const char* kNoKafkaSection = R"(
salesforce:
  login_url: https://login.salesforce.com
  auth:
    flow: client_credentials
    client_id: id
    client_secret: secret
subscribe:
  - channel: /event/Order__e
    topic: orders
)";

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

TEST(HerokuEnvironment, KafkaUrlAndPrefixConfigureKafkaWithoutAKafkaSection) {
  auto result = load_string(kNoKafkaSection, "$SF_KAFKA_BRIDGE_CONFIG",
                            env_of({{"KAFKA_URL",
                                     "kafka+ssl://b1.example.com:9096,"
                                     "kafka+ssl://b2.example.com:9096"},
                                    {"KAFKA_PREFIX", "columbia-1234."}}));
  ASSERT_TRUE(result.ok()) << (result.problems().empty() ? "" : result.problems()[0].to_string());
  const auto& kafka = result.config().kafka;
  EXPECT_EQ(kafka.bootstrap_servers,
            "kafka+ssl://b1.example.com:9096,kafka+ssl://b2.example.com:9096");
  EXPECT_EQ(kafka.topic_prefix, "columbia-1234.");
  EXPECT_EQ(full_topic(kafka, "orders"), "columbia-1234.orders");
}

TEST(HerokuEnvironment, WithoutKafkaUrlTheMissingBootstrapServersIsReported) {
  auto result = load_string(kNoKafkaSection, "test", env_of({}));
  ASSERT_FALSE(result.ok());
  bool named = false;
  for (const auto& p : result.problems()) {
    named = named || p.to_string().find("bootstrap_servers") != std::string::npos;
  }
  EXPECT_TRUE(named);
}

TEST(HerokuEnvironment, ValuesInTheFileWinOverTheEnvironment) {
  const std::string yaml = std::string(kNoKafkaSection) +
                           "kafka:\n  bootstrap_servers: local:9092\n  topic_prefix: mine.\n";
  auto result = load_string(
      yaml, "test",
      env_of({{"KAFKA_URL", "kafka+ssl://b1.example.com:9096"}, {"KAFKA_PREFIX", "theirs."}}));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.config().kafka.bootstrap_servers, "local:9092");
  EXPECT_EQ(result.config().kafka.topic_prefix, "mine.");
}

}  // namespace
}  // namespace sfkb::config
