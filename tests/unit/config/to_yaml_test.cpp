#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon/config/loader.h"
#include "daemon/core/redact.h"
#include "tests/unit/config/test_support.h"

namespace sfkb::config {
namespace {

using testing::env_of;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::problem_lines;

const std::string kFull = R"(salesforce:
  auth:
    flow: password
    client_id: 3MVG9-client-id
    client_secret: s3cr3t-client-secret
    username: integration@example.com
    password: pa55word-and-token
kafka:
  bootstrap_servers: localhost:9092
  topic_prefix: acme.
  properties:
    sasl.password: kafka-sasl-pa55
    client.id: bridge-1
subscribe:
  - channel: /event/Order__e
    topic: orders
    start: 42
    key: payload.Order_Id__c
publish:
  - topics: [requests]
    event: Request__e
    rename: {id: Request_Id__c}
    static_fields: {Source__c: "kafka $${literal}", Priority__c: 3, Urgent__c: false}
    dead_letter_topic: requests.dlq
    linger_ms: 75
)";

TEST(ToYaml, ShouldHideEverySecretAndShowEverythingElse) {
  auto result = load_string(kFull, "full.yaml", env_of({}));
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(problem_lines(result));
  const std::string yaml = to_yaml(result.config());
  for (const char* secret : {"s3cr3t-client-secret", "pa55word-and-token", "kafka-sasl-pa55"}) {
    EXPECT_THAT(yaml, Not(HasSubstr(secret)));
  }
  EXPECT_THAT(yaml, HasSubstr("client_secret: \"***\""));
  EXPECT_THAT(yaml, HasSubstr("    password: \"***\""));
  EXPECT_THAT(yaml, HasSubstr("sasl.password: \"***\""));
  EXPECT_THAT(yaml, HasSubstr("client_id: \"3MVG9-client-id\""));
  EXPECT_THAT(yaml, HasSubstr("client.id: \"bridge-1\""));
  EXPECT_THAT(yaml, HasSubstr("refresh_token: \"\"")) << "an unset secret is shown as empty";
  EXPECT_THAT(yaml, HasSubstr("timeout: 20s"));
  EXPECT_THAT(yaml, HasSubstr("key: payload.Order_Id__c"));
  EXPECT_THAT(yaml, HasSubstr("linger_ms: 75"));
}

TEST(ToYaml, ShouldShowTheKeyFilePathButNotAnInlineKey) {
  Config config;
  config.salesforce.auth.private_key_file = "/etc/sf-kafka-bridge/jwt.key";
  const std::string yaml = to_yaml(config);
  EXPECT_THAT(yaml, HasSubstr("private_key_file: \"/etc/sf-kafka-bridge/jwt.key\""));
  config.salesforce.auth.private_key = testing::kFakePem;
  EXPECT_THAT(to_yaml(config), Not(HasSubstr("MIIB")));
}

// The dump reads back to the same configuration (secrets aside): check-config shows exactly what
// the daemon would run with.
TEST(ToYaml, ShouldLoadBackToTheSameConfiguration) {
  auto env = env_of({});
  auto first = load_string(kFull, "full.yaml", env);
  ASSERT_TRUE(first.ok());
  // Secrets do not survive the dump by design: keep only one, and put it back by hand.
  Config config = first.config();
  config.salesforce.auth = AuthConfig{};
  config.salesforce.auth.flow = AuthFlow::kAccessToken;
  config.salesforce.auth.access_token = "token-value";
  config.salesforce.auth.instance_url = "https://example.my.salesforce.com";
  config.kafka.properties.erase("sasl.password");
  const std::string dumped = to_yaml(config);
  std::string restored = dumped;
  const std::string hidden = "access_token: \"***\"";
  ASSERT_NE(restored.find(hidden), std::string::npos) << dumped;
  restored.replace(restored.find(hidden), hidden.size(), "access_token: token-value");

  auto second = load_string(restored, "dump.yaml", env);
  ASSERT_TRUE(second.ok()) << ::testing::PrintToString(problem_lines(second)) << "\n" << dumped;
  EXPECT_EQ(to_yaml(second.config()), dumped);
  EXPECT_EQ(second.config().publish[0].static_fields.at("Source__c"), "\"kafka ${literal}\"");
  EXPECT_EQ(second.config().publish[0].static_fields.at("Priority__c"), "3");
  EXPECT_EQ(second.config().subscribe[0].start, 42);
}

TEST(RegisterSecrets, ShouldMakeRedactTextHideLoadedSecrets) {
  auto result = load_string(kFull, "full.yaml", env_of({}));
  ASSERT_TRUE(result.ok());
  register_secrets(result.config());
  EXPECT_EQ(core::redact_text("server said: bad pa55word-and-token"), "server said: bad ***");
  EXPECT_EQ(core::redact_text("sasl kafka-sasl-pa55 refused"), "sasl *** refused");
}

// Hidden: what librdkafka flags sensitive, what a name says is secret, and any PEM block.
TEST(ToYaml, ShouldHideEverySensitiveKafkaPropertyAndAnyPemBlock) {
  auto result = load_string(R"(salesforce:
  auth: {flow: access_token, access_token: tok-abcdef, instance_url: "https://x.example.com"}
kafka:
  bootstrap_servers: localhost:9092
  properties:
    ssl.key.pem: "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq\n-----END PRIVATE KEY-----\n"
    ssl.ca.pem: "-----BEGIN CERTIFICATE-----\nMIIBcaPemCA\n-----END CERTIFICATE-----\n"
    ssl.key.password: key-pa55
    ssl.keystore.password: store-pa55
    sasl.username: kafka-user-7
    sasl.password: sasl-pa55
    sasl.oauthbearer.config: "principal=admin clientSecret=oidc-s3cr3t"
    client.id: bridge-1
subscribe: [{channel: /event/A__e, topic: a}]
publish:
  - topics: [in]
    event: In__e
    on_error: fail
    key_field: Order_Key__c
    static_fields: {Note__c: "-----BEGIN CERTIFICATE-----\nMIIBstaticPem\n-----END CERTIFICATE-----"}
)",
                            "secrets.yaml", env_of({}));
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(problem_lines(result));
  const std::string yaml = to_yaml(result.config());
  for (const char* secret :
       {"MIIEvQIBADANBgkq", "MIIBcaPemCA", "key-pa55", "store-pa55", "kafka-user-7", "sasl-pa55",
        "oidc-s3cr3t", "principal=admin", "MIIBstaticPem"}) {
    EXPECT_THAT(yaml, Not(HasSubstr(secret))) << yaml;
  }
  for (const char* hidden :
       {"ssl.key.pem: \"***\"", "ssl.ca.pem: \"***\"", "ssl.key.password: \"***\"",
        "sasl.oauthbearer.config: \"***\"", "sasl.username: \"***\"", "Note__c: \"***\""}) {
    EXPECT_THAT(yaml, HasSubstr(hidden)) << yaml;
  }
  EXPECT_THAT(yaml, HasSubstr("client.id: \"bridge-1\""));
  EXPECT_THAT(yaml, HasSubstr("key_field: \"Order_Key__c\"")) << "a field name, not a secret";
}

}  // namespace
}  // namespace sfkb::config
