#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "daemon/config/loader.h"
#include "tests/unit/config/test_support.h"

namespace sfkb::config {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using testing::env_of;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::problem_lines;
using ::testing::SizeIs;
using testing::TempDir;

// A valid file that needs no environment and no files; tests append to or vary it.
const std::string kAuth = R"(salesforce:
  auth:
    flow: access_token
    access_token: 00Dxx0000001gPL!AQ4AQFakeToken
    instance_url: http://127.0.0.1:8443
)";
const std::string kKafka = R"(kafka:
  embedded: true
)";
const std::string kSubscribe = R"(subscribe:
  - channel: /event/Order__e
    topic: orders
)";

LoadResult load(const std::string& yaml, std::map<std::string, std::string> env = {}) {
  return load_string(yaml, "test.yaml", env_of(std::move(env)));
}

// Asserts the load failed and returns its problems as text.
std::vector<std::string> problems(const std::string& yaml,
                                  std::map<std::string, std::string> env = {}) {
  auto result = load(yaml, std::move(env));
  EXPECT_FALSE(result.ok()) << "expected problems, got a valid config";
  return problem_lines(result);
}

TEST(Loader, ShouldFillDefaultsForEverythingOptional) {
  auto result = load(kAuth + kKafka + kSubscribe);
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(problem_lines(result));
  const Config& c = result.config();
  EXPECT_EQ(c.source, "test.yaml");
  EXPECT_EQ(c.salesforce.login_url, "https://login.salesforce.com");
  EXPECT_EQ(c.salesforce.api_version, "62.0");
  EXPECT_EQ(c.salesforce.auth.flow, AuthFlow::kAccessToken);
  EXPECT_EQ(c.checkpoint.directory, "/var/lib/sf-kafka-bridge");
  EXPECT_EQ(c.shutdown.timeout, std::chrono::seconds(20));
  ASSERT_THAT(c.subscribe, SizeIs(1));
  EXPECT_EQ(c.subscribe[0].start, -1);
  EXPECT_EQ(c.subscribe[0].key, KeyKind::kNone);
  EXPECT_EQ(c.subscribe[0].value, ValueKind::kPayload);
  EXPECT_TRUE(c.subscribe[0].headers);
  EXPECT_EQ(c.subscribe[0].on_invalid_replay_id, InvalidReplayPolicy::kEarliest);
  EXPECT_THAT(c.publish, IsEmpty());
}

TEST(Loader, ShouldReadEveryField) {
  TempDir dir;
  const std::string key = dir.write("jwt.key", testing::kFakePem);
  const std::string ca = dir.write("ca.pem", "-----BEGIN CERTIFICATE-----\n");
  const std::string yaml = R"(salesforce:
  login_url: https://test.salesforce.com
  api_version: "61.0"
  auth:
    flow: jwt_bearer
    client_id: 3MVG9
    username: integration@example.com
    private_key_file: )" + key +
                           R"(
    audience: https://test.salesforce.com
  ca_file: )" + ca + R"(
  connect_timeout: 5s
  request_timeout: 45000
  retry:
    initial_backoff: 250ms
    max_backoff: 1m
    daily_limit_backoff: 1h
kafka:
  bootstrap_servers: kafka+ssl://b1.example.com:9096,kafka+ssl://b2.example.com:9096
  topic_prefix: acme.
  properties:
    compression.type: zstd
    linger.ms: 5
  flush_timeout: 3s
checkpoint:
  directory: /tmp/state
  interval: 2s
limits:
  max_in_flight_events: 500
subscribe:
  - channel: /event/Flight_Approved__e
    topic: flights
    start: earliest
    key: payload.Flight_Id__c
    value: envelope
    headers: false
    on_invalid_replay_id: fail
  - channel: /data/AccountChangeEvent
    topic: accounts
    start: 12345
    key: replay_id
publish:
  - topics: [requests, requests-eu]
    event: Flight_Request__e
    rename: {id: Request_Id__c}
    static_fields:
      Source__c: kafka
      Priority__c: 3
      Urgent__c: true
      Code__c: "042"
    key_field: Key__c
    dead_letter_topic: requests.dlq
    batch_size: 50
    linger_ms: 20
    on_error: dead_letter
    group_id: bridge-a
http:
  listen: 0.0.0.0:9000
logging:
  level: debug
  format: json
shutdown:
  timeout: 25s
)";
  auto result = load(yaml);
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(problem_lines(result));
  const Config& c = result.config();
  EXPECT_EQ(c.salesforce.login_url, "https://test.salesforce.com");
  EXPECT_EQ(c.salesforce.api_version, "61.0");
  EXPECT_EQ(c.salesforce.auth.flow, AuthFlow::kJwtBearer);
  EXPECT_EQ(c.salesforce.auth.private_key_file, key);
  EXPECT_EQ(c.salesforce.auth.audience, "https://test.salesforce.com");
  EXPECT_EQ(c.salesforce.ca_file, ca);
  EXPECT_EQ(c.salesforce.connect_timeout, std::chrono::seconds(5));
  EXPECT_EQ(c.salesforce.request_timeout, std::chrono::milliseconds(45000));
  EXPECT_EQ(c.salesforce.retry.initial_backoff, std::chrono::milliseconds(250));
  EXPECT_EQ(c.salesforce.retry.max_backoff, std::chrono::minutes(1));
  EXPECT_EQ(c.salesforce.retry.daily_limit_backoff, std::chrono::hours(1));
  EXPECT_EQ(c.kafka.topic_prefix, "acme.");
  EXPECT_EQ(c.kafka.properties.at("compression.type"), "zstd");
  EXPECT_EQ(c.kafka.properties.at("linger.ms"), "5");
  EXPECT_EQ(c.kafka.flush_timeout, std::chrono::seconds(3));
  EXPECT_EQ(c.checkpoint.interval, std::chrono::seconds(2));
  EXPECT_EQ(c.limits.max_in_flight_events, 500u);
  ASSERT_THAT(c.subscribe, SizeIs(2));
  EXPECT_EQ(c.subscribe[0].start, -2);
  EXPECT_EQ(c.subscribe[0].key, KeyKind::kPayloadField);
  EXPECT_EQ(c.subscribe[0].key_field, "Flight_Id__c");
  EXPECT_EQ(c.subscribe[0].value, ValueKind::kEnvelope);
  EXPECT_FALSE(c.subscribe[0].headers);
  EXPECT_EQ(c.subscribe[0].on_invalid_replay_id, InvalidReplayPolicy::kFail);
  EXPECT_EQ(c.subscribe[1].start, 12345);
  EXPECT_EQ(c.subscribe[1].key, KeyKind::kReplayId);
  ASSERT_THAT(c.publish, SizeIs(1));
  const auto& p = c.publish[0];
  EXPECT_THAT(p.topics, ElementsAre("requests", "requests-eu"));
  EXPECT_EQ(p.event, "Flight_Request__e");
  EXPECT_EQ(p.rename.at("id"), "Request_Id__c");
  EXPECT_EQ(p.static_fields.at("Source__c"), "\"kafka\"");
  EXPECT_EQ(p.static_fields.at("Priority__c"), "3");
  EXPECT_EQ(p.static_fields.at("Urgent__c"), "true");
  EXPECT_EQ(p.static_fields.at("Code__c"), "\"042\"") << "a quoted number stays a string";
  EXPECT_EQ(p.key_field, "Key__c");
  EXPECT_EQ(p.dead_letter_topic, "requests.dlq");
  EXPECT_EQ(p.batch_size, 50);
  EXPECT_EQ(p.linger, std::chrono::milliseconds(20));
  EXPECT_EQ(p.group_id, "bridge-a");
  EXPECT_EQ(c.http.listen, "0.0.0.0:9000");
  EXPECT_EQ(c.logging.level, "debug");
  EXPECT_EQ(c.logging.format, LogFormat::kJson);
  EXPECT_EQ(c.shutdown.timeout, std::chrono::seconds(25));
}

// Three unrelated mistakes, all reported in one pass, each with its line.
TEST(Loader, ShouldReportEveryProblemWithItsLine) {
  const std::string yaml = R"(salesforce:
  auth:
    flow: oauth_magic
kafka:
  bootstrap_servers: localhost:9092
  colour: blue
subscribe:
  - channel: /event/Order__e
    topic: ""
)";
  auto lines = problems(yaml);
  EXPECT_THAT(lines, ElementsAre(HasSubstr("salesforce.auth.flow: \"oauth_magic\" is not one of: "
                                           "jwt_bearer, client_credentials, refresh_token, "
                                           "password, access_token (line 3, column 11)"),
                                 HasSubstr("kafka.colour: unknown key; valid keys here: "
                                           "bootstrap_servers, topic_prefix, properties, "
                                           "embedded, flush_timeout, create_topics (line 6, "
                                           "column 3)"),
                                 "subscribe[0].topic: must not be empty (line 9, column 12)"));
}

TEST(Loader, ShouldReportANullValueAsEmptyAtItsKey) {
  auto lines = problems(kAuth + kKafka + "subscribe:\n  - channel: /event/A__e\n    topic:\n");
  EXPECT_THAT(lines, ElementsAre("subscribe[0].topic: must not be empty (line 10, column 5)"));
}

TEST(Loader, ShouldListValidKeysForAnUnknownTopLevelKey) {
  auto lines = problems(kAuth + kKafka + kSubscribe + "metrics:\n  port: 1\n");
  EXPECT_THAT(lines,
              ElementsAre("metrics: unknown key; valid keys here: salesforce, kafka, "
                          "coordination, checkpoint, limits, subscribe, publish, http, logging, "
                          "shutdown (line 11, column 1)"));
}

TEST(Loader, ShouldReportADuplicateKey) {
  auto lines = problems(kAuth + "kafka:\n  embedded: true\n  embedded: false\n" + kSubscribe);
  EXPECT_THAT(lines, Contains(HasSubstr("kafka.embedded: duplicate key (line 8, column 3)")));
}

TEST(Loader, ShouldReportAStringWhereANumberBelongs) {
  auto lines = problems(kAuth + kKafka + R"(publish:
  - topics: [in]
    event: In__e
    on_error: fail
    batch_size: ten
)");
  EXPECT_THAT(lines,
              ElementsAre("publish[0].batch_size: expected an integer, got \"ten\" (line 12, "
                          "column 17)"));
}

TEST(Loader, ShouldReportWrongStructuralTypes) {
  auto lines = problems(R"(salesforce: nope
kafka:
  embedded: maybe
  properties: [a, b]
subscribe:
  channel: /event/A__e
publish:
  - topics: in
    event: [In__e]
)");
  EXPECT_THAT(lines, Contains(HasSubstr("salesforce: expected a mapping, got a scalar (line 1")));
  EXPECT_THAT(lines, Contains(HasSubstr("kafka.embedded: expected true or false, got \"maybe\"")));
  EXPECT_THAT(lines,
              Contains(HasSubstr("kafka.properties: expected a mapping, got a list (line 4")));
  EXPECT_THAT(lines, Contains(HasSubstr("subscribe: expected a list of mappings, got a mapping")));
  EXPECT_THAT(lines, Contains(HasSubstr("publish[0].topics: expected a list")));
  EXPECT_THAT(lines, Contains(HasSubstr("publish[0].event: expected a single value, got a list")));
}

TEST(Loader, ShouldReportAnUnsetVariableWithItsPath) {
  auto lines = problems(R"(salesforce:
  auth:
    flow: client_credentials
    client_id: ${SF_CLIENT_ID}
    client_secret: ${SF_CLIENT_SECRET}
)" + kKafka + kSubscribe,
                        {{"SF_CLIENT_ID", "3MVG9"}});
  EXPECT_THAT(lines, ElementsAre(HasSubstr("salesforce.auth.client_secret: environment variable "
                                           "SF_CLIENT_SECRET is not set")));
  EXPECT_THAT(lines[0], HasSubstr("(line 5, column 20)"));
}

TEST(Loader, ShouldInterpolateScalarsEverywhere) {
  auto result = load(kAuth + R"(kafka:
  bootstrap_servers: ${KAFKA_URL}
  topic_prefix: ${KAFKA_PREFIX:-}
  properties:
    client.id: ${CLIENT_ID:-bridge}
subscribe:
  - channel: /event/${EVENT}__e
    topic: ${TOPIC:-orders}
    headers: ${HEADERS:-false}
publish:
  - topics: ["${IN}"]  # quoted: { starts a mapping inside [ ]
    event: In__e
    batch_size: ${BATCH:-100}
    on_error: fail
)",
                     {{"KAFKA_URL", "kafka:9092"}, {"EVENT", "Order"}, {"IN", "in"}});
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(problem_lines(result));
  const Config& c = result.config();
  EXPECT_EQ(c.kafka.bootstrap_servers, "kafka:9092");
  EXPECT_EQ(c.kafka.topic_prefix, "");
  EXPECT_EQ(c.kafka.properties.at("client.id"), "bridge");
  EXPECT_EQ(c.subscribe[0].channel, "/event/Order__e");
  EXPECT_EQ(c.subscribe[0].topic, "orders");
  EXPECT_FALSE(c.subscribe[0].headers);
  EXPECT_THAT(c.publish[0].topics, ElementsAre("in"));
  EXPECT_EQ(c.publish[0].batch_size, 100);
}

TEST(Loader, ShouldNameTheFlowOfAMissingCredential) {
  auto lines = problems(R"(salesforce:
  auth:
    flow: password
    client_id: 3MVG9
    username: u@example.com
    password: ""
)" + kKafka + kSubscribe);
  EXPECT_THAT(lines,
              ElementsAre("salesforce.auth.client_secret: is required for auth flow password "
                          "(line 3, column 5)",
                          "salesforce.auth.password: must not be empty for auth flow password "
                          "(line 6, column 15)"));
}

TEST(Loader, ShouldRequireTheFieldsOfEachFlow) {
  struct Case {
    std::string flow;
    std::vector<std::string> missing;
  };
  for (const auto& [flow, missing] :
       std::vector<Case>{{"jwt_bearer", {"client_id", "username", "private_key_file"}},
                         {"client_credentials", {"client_id", "client_secret"}},
                         {"refresh_token", {"client_id", "refresh_token"}},
                         {"password", {"client_id", "client_secret", "username", "password"}},
                         {"access_token", {"access_token", "instance_url"}}}) {
    auto lines = problems("salesforce:\n  auth:\n    flow: " + flow + "\n" + kKafka + kSubscribe);
    ASSERT_THAT(lines, SizeIs(missing.size())) << flow;
    for (std::size_t i = 0; i < missing.size(); ++i) {
      EXPECT_THAT(lines[i], HasSubstr("salesforce.auth." + missing[i] +
                                      ": is required for auth "
                                      "flow " +
                                      flow));
    }
  }
}

TEST(Loader, ShouldRequireAnAuthFlow) {
  auto lines = problems(kKafka + kSubscribe);
  EXPECT_THAT(lines, ElementsAre(HasSubstr("salesforce.auth.flow: is required; one of: "
                                           "jwt_bearer")));
}

TEST(Loader, ShouldReportAnUnreadableKeyFile) {
  TempDir dir;
  auto lines = problems(R"(salesforce:
  auth:
    flow: jwt_bearer
    client_id: 3MVG9
    username: u@example.com
    private_key_file: )" +
                        dir.path() + R"(/missing.key
)" + kKafka + kSubscribe);
  EXPECT_THAT(lines, ElementsAre("salesforce.auth.private_key_file: cannot read \"" + dir.path() +
                                 "/missing.key\": No such file or directory (line 6, column 23)"));
}

TEST(Loader, ShouldStopReadingAnEndlessKeyFile) {
  // A wrong path to a device that never ends must be an error, not a loader that hangs.
  auto lines = problems(R"(salesforce:
  auth:
    flow: jwt_bearer
    client_id: 3MVG9
    username: u@example.com
    private_key_file: /dev/zero
)" + kKafka + kSubscribe);
  EXPECT_THAT(lines, ElementsAre("salesforce.auth.private_key_file: cannot read \"/dev/zero\": "
                                 "larger than 16 MiB; is it the right file? (line 6, column 23)"));
}

TEST(Loader, ShouldReportAKeyFileWithoutAPrivateKey) {
  TempDir dir;
  const auto path = dir.write("cert.pem", "-----BEGIN CERTIFICATE-----\n");
  auto lines = problems(R"(salesforce:
  auth:
    flow: jwt_bearer
    client_id: 3MVG9
    username: u@example.com
    private_key_file: )" +
                        path + "\n" + kKafka + kSubscribe);
  EXPECT_THAT(lines, ElementsAre(HasSubstr("does not hold a PEM private key")));
}

TEST(Loader, ShouldResolveAKeyFileRelativeToTheConfigFile) {
  TempDir dir;
  dir.write("jwt.key", testing::kFakePem);
  const auto path = dir.write("bridge.yaml", R"(salesforce:
  auth:
    flow: jwt_bearer
    client_id: 3MVG9
    username: u@example.com
    private_key_file: jwt.key
)" + kKafka + kSubscribe);
  auto result = load_file(path, env_of({}));
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(problem_lines(result));
  EXPECT_EQ(result.config().salesforce.auth.private_key_file, dir.path() + "/jwt.key");
  EXPECT_EQ(result.config().source, path);
}

TEST(Loader, ShouldAcceptAnInlinePrivateKey) {
  auto result = load(R"(salesforce:
  auth:
    flow: jwt_bearer
    client_id: 3MVG9
    username: u@example.com
    private_key: ${KEY}
)" + kKafka + kSubscribe,
                     {{"KEY", testing::kFakePem}});
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(problem_lines(result));
  EXPECT_EQ(result.config().salesforce.auth.private_key, testing::kFakePem);
}

TEST(Loader, ShouldRefuseAPlainHttpLoginUrlToARemoteHost) {
  auto lines = problems("salesforce:\n  login_url: http://login.salesforce.com\n" +
                        kAuth.substr(std::string("salesforce:\n").size()) + kKafka + kSubscribe);
  EXPECT_THAT(lines, ElementsAre(HasSubstr("salesforce.login_url: \"http://login.salesforce.com\" "
                                           "uses plain http")));
}

TEST(Loader, ShouldRejectAnOldOrMalformedApiVersion) {
  const std::string rest = kAuth.substr(std::string("salesforce:\n").size()) + kKafka + kSubscribe;
  EXPECT_THAT(problems("salesforce:\n  api_version: \"36.0\"\n" + rest),
              ElementsAre(HasSubstr("must be 37.0 or later")));
  EXPECT_THAT(problems("salesforce:\n  api_version: v62\n" + rest),
              ElementsAre(HasSubstr("is not an API version")));
}

TEST(Loader, ShouldCheckKafkaPropertiesWithLibrdkafka) {
  auto lines = problems(kAuth + R"(kafka:
  embedded: true
  properties:
    compression.type: zip
    no.such.property: 1
    enable.auto.commit: true
)" + kSubscribe);
  ASSERT_THAT(lines, SizeIs(3));
  EXPECT_THAT(lines[0], HasSubstr("kafka.properties.compression.type: librdkafka: Invalid value "
                                  "\"zip\" for configuration property \"compression.codec\""));
  EXPECT_THAT(lines[0], HasSubstr("(line 9, column 5)"));
  EXPECT_THAT(lines[1], HasSubstr("kafka.properties.no.such.property: librdkafka: No such "
                                  "configuration property: \"no.such.property\""));
  EXPECT_THAT(lines[2],
              HasSubstr("kafka.properties.enable.auto.commit: cannot be set here: offsets are "
                        "committed only after Salesforce accepted the records"));
}

TEST(Loader, ShouldRequireBootstrapServersUnlessEmbedded) {
  auto lines = problems(kAuth + "kafka:\n  topic_prefix: x.\n" + kSubscribe);
  EXPECT_THAT(lines, ElementsAre(HasSubstr("kafka.bootstrap_servers: is required (unless "
                                           "kafka.embedded is true")));
  EXPECT_THAT(problems(kAuth + "kafka:\n  bootstrap_servers: nohost\n" + kSubscribe),
              ElementsAre(HasSubstr("broker \"nohost\" is not host:port")));
}

TEST(Loader, ShouldValidateChannels) {
  auto lines = problems(kAuth + kKafka + R"(subscribe:
  - channel: /event/Order__e
    topic: a
  - channel: event/Order__e
    topic: b
  - channel: /event/Order__e
    topic: c
  - channel: /topic/Accounts
    topic: d
  - channel: /event/Bad-Name__e
    topic: e
)");
  EXPECT_THAT(lines, ElementsAre(HasSubstr("subscribe[1].channel: \"event/Order__e\" is not a "
                                           "channel; expected /event/<Name>__e, /data/<Name> or "
                                           "/topic/<Name> (line 11"),
                                 "subscribe[2].channel: duplicate channel \"/event/Order__e\" "
                                 "(already in subscribe[0].channel) (line 13, column 14)",
                                 HasSubstr("subscribe[4].channel: \"/event/Bad-Name__e\" is not")));
}

TEST(Loader, ShouldRejectEventUuidKeysWhereSalesforceSendsNoEventUuid) {
  auto lines = problems(kAuth + kKafka + R"(subscribe:
  - channel: /event/Order__e
    topic: a
    key: event_uuid
  - channel: /topic/Accounts
    topic: b
    key: event_uuid
  - channel: /data/AccountChangeEvent
    topic: c
    key: event_uuid
  - channel: /topic/Contacts
    topic: d
    key: payload.Id
  - channel: /data/ChangeEvents
    topic: e
    key: payload.ChangeEventHeader.recordIds
)");
  EXPECT_THAT(lines,
              ElementsAre("subscribe[1].key: event_uuid is not available on /topic/ channels: "
                          "Salesforce sends no EventUuid for PushTopic events; use none, "
                          "replay_id or payload.<Field> (line 14, column 10)",
                          "subscribe[2].key: event_uuid is not available on /data/ channels: "
                          "Salesforce sends no EventUuid for change events; use none, "
                          "replay_id or payload.<Field> (line 17, column 10)"));
}

TEST(Loader, ShouldValidateTopicNames) {
  auto lines =
      problems(kAuth + "kafka:\n  embedded: true\n  topic_prefix: " + std::string(240, 'p') + R"(
subscribe:
  - channel: /event/A__e
    topic: "bad topic"
  - channel: /event/B__e
    topic: "0123456789"
publish:
  - topics: [ok, "a/b"]
    event: In__e
    dead_letter_topic: ".."
)");
  EXPECT_THAT(lines, ElementsAre(HasSubstr("subscribe[0].topic: \"bad topic\" is not a legal "
                                           "Kafka topic name"),
                                 HasSubstr("is longer than 249 characters (with "
                                           "kafka.topic_prefix)"),
                                 HasSubstr("publish[0].topics[1]: \"a/b\" is not a legal"),
                                 HasSubstr("publish[0].dead_letter_topic: \"..\" is not a legal")));
}

// Publishing a topic's records as the very event whose channel fills that topic would loop
// forever; a round trip into a different event (the demo's) is legitimate.
TEST(Loader, ShouldRejectPublishingATopicBackAsItsOwnEvent) {
  auto lines = problems(kAuth + kKafka + kSubscribe + R"(publish:
  - topics: [orders]
    event: Order__e
    on_error: fail
)");
  EXPECT_THAT(lines, ElementsAre("publish[0].topics[0]: topic \"orders\" is filled from "
                                 "/event/Order__e (subscribe[0]) and published back as Order__e: "
                                 "a loop (line 12, column 14)"));
}

TEST(Loader, ShouldAcceptARoundTripIntoAnotherEvent) {
  auto result = load(kAuth + kKafka + kSubscribe + R"(publish:
  - topics: [orders]
    event: Order_Copy__e
    on_error: fail
)");
  EXPECT_TRUE(result.ok()) << ::testing::PrintToString(problem_lines(result));
}

TEST(Loader, ShouldRejectADeadLetterTopicThatIsAlsoASourceOrDestination) {
  auto lines = problems(kAuth + kKafka + kSubscribe + R"(publish:
  - topics: [in]
    event: In__e
    dead_letter_topic: orders
  - topics: [in2]
    event: In__e
    dead_letter_topic: in
)");
  EXPECT_THAT(lines, ElementsAre(HasSubstr("publish[0].topics[0]: topic \"in\" is also a "
                                           "dead-letter topic (publish[1].dead_letter_topic)"),
                                 HasSubstr("publish[0].dead_letter_topic: topic \"orders\" is "
                                           "also a subscribe destination (subscribe[0].topic)")));
}

TEST(Loader, ShouldBoundTheBatchSize) {
  for (const std::string size : {"0", "201", "-1"}) {
    auto lines = problems(kAuth + kKafka +
                          "publish:\n  - topics: [in]\n    event: In__e\n"
                          "    on_error: fail\n    batch_size: " +
                          size + "\n");
    EXPECT_THAT(lines, ElementsAre(HasSubstr("publish[0].batch_size: must be between 1 and 200, "
                                             "got " +
                                             size)));
  }
}

TEST(Loader, ShouldRequireADeadLetterTopicWhenRoutingToIt) {
  auto lines = problems(kAuth + kKafka + "publish:\n  - topics: [in]\n    event: In__e\n");
  EXPECT_THAT(lines, ElementsAre(HasSubstr("publish[0].dead_letter_topic: is required with "
                                           "on_error: dead_letter (or set on_error: fail)")));
}

TEST(Loader, ShouldValidatePublishFields) {
  auto lines = problems(kAuth + kKafka + R"(publish:
  - topics: []
    event: Order
    on_error: drop
    linger_ms: 1s
)");
  EXPECT_THAT(lines,
              ElementsAre(HasSubstr("publish[0].topics: must list at least one topic"),
                          HasSubstr("publish[0].event: \"Order\" is not a platform event API "
                                    "name"),
                          HasSubstr("publish[0].on_error: \"drop\" is not one of: dead_letter, "
                                    "fail"),
                          HasSubstr("publish[0].linger_ms: expected an integer, got \"1s\"")));
}

TEST(Loader, ShouldValidateSubscribeOptions) {
  auto lines = problems(kAuth + kKafka + R"(subscribe:
  - channel: /event/A__e
    topic: a
    start: yesterday
    key: payload.
    value: body
    on_invalid_replay_id: ignore
)");
  EXPECT_THAT(lines, ElementsAre(HasSubstr("subscribe[0].start: expected latest, earliest or a "
                                           "replay ID, got \"yesterday\""),
                                 HasSubstr("subscribe[0].key: \"payload.\" is not a key"),
                                 HasSubstr("subscribe[0].value: \"body\" is not one of: payload, "
                                           "envelope"),
                                 HasSubstr("subscribe[0].on_invalid_replay_id: \"ignore\" is not "
                                           "one of: earliest, latest, fail")));
}

TEST(Loader, ShouldRejectAConfigThatBridgesNothing) {
  auto lines = problems(kAuth + kKafka + "subscribe: []\n");
  EXPECT_THAT(lines, ElementsAre("subscribe and publish are both empty: nothing to bridge "
                                 "(line 1, column 1)"));
}

TEST(Loader, ShouldValidateDurationsAndOtherSections) {
  auto lines = problems(kAuth + kKafka + kSubscribe + R"(shutdown:
  timeout: soon
checkpoint:
  interval: 0
http:
  listen: localhost
logging:
  level: loud
  format: xml
limits:
  max_in_flight_events: 0
)");
  EXPECT_THAT(lines,
              ElementsAre(HasSubstr("shutdown.timeout: expected a duration such as 250ms"),
                          HasSubstr("checkpoint.interval: must be between 10ms and 10m, got \"0\""),
                          HasSubstr("http.listen: \"localhost\" is not host:port"),
                          HasSubstr("logging.level: \"loud\" is not a log level"),
                          HasSubstr("logging.format: \"xml\" is not one of: text, json"),
                          HasSubstr("limits.max_in_flight_events: must be between 1")));
}

TEST(Loader, ShouldDefaultToOwnershipThroughTheGroupAndCheckItsNames) {
  const std::string kafka = "kafka:\n  bootstrap_servers: 127.0.0.1:9092\n  topic_prefix: p.\n";
  auto result = load(kAuth + kafka + kSubscribe);
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(problem_lines(result));
  const Config& config = result.config();
  EXPECT_TRUE(config.coordination.enabled);
  EXPECT_EQ(config.coordination.group, "sf-kafka-bridge.subscribe");
  EXPECT_EQ(config.coordination.topic, "sf-kafka-bridge.channels");
  EXPECT_EQ(config.coordination.session_timeout, std::chrono::seconds(10));

  auto lines = problems(kAuth + kafka + kSubscribe + R"(coordination:
  group: ""
  topic: "a/b"
  session_timeout: 100ms
)");
  EXPECT_THAT(lines,
              ElementsAre(HasSubstr("coordination.group: must not be empty"),
                          HasSubstr("coordination.topic: \"a/b\" is not a legal Kafka topic"),
                          HasSubstr("coordination.session_timeout: must be between 1s and 30m")));
}

TEST(Loader, ShouldNotEchoASecretInAProblem) {
  auto lines = problems(R"(salesforce:
  auth:
    flow: access_token
    access_token: [hunter2-token]
    instance_url: http://127.0.0.1:1
)" + kKafka + kSubscribe);
  ASSERT_THAT(lines, SizeIs(1));
  for (const auto& line : lines) {
    EXPECT_THAT(line, ::testing::Not(HasSubstr("hunter2")));
  }
}

TEST(Loader, ShouldReportInvalidYamlWithItsLine) {
  auto lines = problems("salesforce:\n  auth: [unclosed\nkafka: {}\n");
  ASSERT_THAT(lines, SizeIs(1));
  EXPECT_THAT(lines[0], HasSubstr("not valid YAML"));
  EXPECT_THAT(lines[0], HasSubstr("(line "));
}

TEST(Loader, ShouldReportAnEmptyDocument) {
  EXPECT_THAT(problems(""), ElementsAre("test.yaml is empty"));
  EXPECT_THAT(problems("- a\n- b\n"),
              ElementsAre("expected a mapping, got a list (line 1, column 1)"));
}

TEST(Loader, ShouldReportAMissingFile) {
  TempDir dir;
  auto result = load_file(dir.path() + "/nope.yaml", env_of({}));
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(problem_lines(result),
              ElementsAre("cannot read " + dir.path() + "/nope.yaml: No such file or directory"));
}

TEST(Loader, ShouldStopReadingAnEndlessConfigFile) {
  auto result = load_file("/dev/zero", env_of({}));
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(problem_lines(result),
              ElementsAre("cannot read /dev/zero: larger than 16 MiB; is it the right file?"));
}

// --- URLs, bounds, one-line librdkafka verdicts, one problem per cause -------------------------

namespace checks {

const std::string kAuthBody = kAuth.substr(std::string("salesforce:\n").size());

std::string with_instance_url(const std::string& url) {
  std::string yaml = kAuth;
  const std::string old = "http://127.0.0.1:8443";
  yaml.replace(yaml.find(old), old.size(), url);
  return yaml + kKafka + kSubscribe;
}

TEST(Loader, ShouldAllowPlainHttpOnlyForLoopbackLiteralsAndLocalhost) {
  for (const std::string url :
       {"http://127.attacker.example", "http://127.0.0.1.nip.io:8080", "http://localhost.example",
        "http://127.0.0.1@evil.example", "http://10.0.0.1:8443"}) {
    EXPECT_THAT(
        problems("salesforce:\n  login_url: " + url + "\n" + kAuthBody + kKafka + kSubscribe),
        ElementsAre(HasSubstr("salesforce.login_url: \"" + url + "\"")))
        << url;
    EXPECT_THAT(problems(with_instance_url(url)),
                ElementsAre(HasSubstr("salesforce.auth.instance_url: \"" + url + "\"")))
        << url;
  }
  for (const std::string url :
       {"http://127.0.0.1:8443", "http://127.9.9.9", "http://localhost:8443", "http://[::1]:8443",
        "https://127.attacker.example", "https://example.my.salesforce.com"}) {
    auto result = load("salesforce:\n  login_url: " + url + "\n" + kAuthBody + kKafka + kSubscribe);
    EXPECT_TRUE(result.ok()) << url << ": " << ::testing::PrintToString(problem_lines(result));
    auto instance = load(with_instance_url(url));
    EXPECT_TRUE(instance.ok()) << url << ": " << ::testing::PrintToString(problem_lines(instance));
  }
}

struct Bound {
  std::string yaml;     // appended to a valid file
  std::string problem;  // expected problem text (before the position)
};

TEST(Loader, ShouldBoundEveryDurationAndSize) {
  const std::string sf = "salesforce:\n" + kAuthBody;
  const std::string base_kafka_subscribe = kKafka + kSubscribe;
  const std::vector<Bound> cases = {
      {"shutdown:\n  timeout: 9223372036854775807\n",
       "shutdown.timeout: must be between 1s and 10m, got \"9223372036854775807\" (line 12, column "
       "12)"},
      {"shutdown:\n  timeout: 9999999999999999999h\n",
       "shutdown.timeout: must be between 1s and 10m, got \"9999999999999999999h\""},
      {"shutdown:\n  timeout: 11m\n", "shutdown.timeout: must be between 1s and 10m, got \"11m\""},
      {"shutdown:\n  timeout: 999ms\n",
       "shutdown.timeout: must be between 1s and 10m, got \"999ms\""},
      {"shutdown:\n  timeout: -5s\n", "shutdown.timeout: must be between 1s and 10m, got \"-5s\""},
      {"checkpoint:\n  interval: 11m\n",
       "checkpoint.interval: must be between 10ms and 10m, got \"11m\""},
      {"limits:\n  max_in_flight_events: 1000001\n",
       "limits.max_in_flight_events: must be between 1 and 1000000, got 1000001"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(problems(sf + base_kafka_subscribe + c.yaml), ElementsAre(HasSubstr(c.problem)))
        << c.yaml;
  }
  const std::vector<Bound> salesforce_cases = {
      {"  connect_timeout: 6m\n", "salesforce.connect_timeout: must be between 100ms and 5m"},
      {"  request_timeout: 11m\n", "salesforce.request_timeout: must be between 100ms and 10m"},
      {"  retry:\n    max_backoff: 2h\n",
       "salesforce.retry.max_backoff: must be between 10ms and 1h"},
      {"  retry:\n    initial_backoff: 1ms\n",
       "salesforce.retry.initial_backoff: must be between 10ms and 1h"},
      {"  retry:\n    daily_limit_backoff: 25h\n",
       "salesforce.retry.daily_limit_backoff: must be between 1s and 24h"},
  };
  for (const auto& c : salesforce_cases) {
    EXPECT_THAT(problems(sf + c.yaml + base_kafka_subscribe), ElementsAre(HasSubstr(c.problem)))
        << c.yaml;
  }
  EXPECT_THAT(problems(sf + kKafka + "  flush_timeout: 11m\n" + kSubscribe),
              ElementsAre(HasSubstr("kafka.flush_timeout: must be between 100ms and 10m")));
  // The bounds themselves are allowed.
  auto edges = load(sf +
                    "  connect_timeout: 5m\n  request_timeout: 100ms\n  retry:\n"
                    "    initial_backoff: 10ms\n    max_backoff: 1h\n"
                    "    daily_limit_backoff: 24h\n" +
                    kKafka + "  flush_timeout: 10m\n" + kSubscribe +
                    "shutdown:\n  timeout: 10m\ncheckpoint:\n  interval: 10ms\nlimits:\n"
                    "  max_in_flight_events: 1000000\n");
  ASSERT_TRUE(edges.ok()) << ::testing::PrintToString(problem_lines(edges));
  EXPECT_EQ(edges.config().shutdown.timeout, std::chrono::minutes(10));
}

// kafka.create_topics: off unless asked for; the broker's defaults unless given.
TEST(Loader, ShouldLeaveTopicCreationOffByDefault) {
  auto result = load(kAuth + kKafka + kSubscribe);
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(problem_lines(result));
  const auto& creation = result.config().kafka.create_topics;
  EXPECT_FALSE(creation.enabled);
  EXPECT_EQ(creation.partitions, -1);
  EXPECT_EQ(creation.replication_factor, -1);
  EXPECT_THAT(creation.configs, IsEmpty());
}

TEST(Loader, ShouldReadTopicCreation) {
  auto result = load(kAuth + kKafka +
                     "  create_topics:\n    enabled: true\n    partitions: 6\n"
                     "    replication_factor: 3\n    configs:\n      retention.ms: 604800000\n"
                     "      cleanup.policy: compact\n" +
                     kSubscribe);
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(problem_lines(result));
  const auto& creation = result.config().kafka.create_topics;
  EXPECT_TRUE(creation.enabled);
  EXPECT_EQ(creation.partitions, 6);
  EXPECT_EQ(creation.replication_factor, 3);
  EXPECT_EQ(creation.configs, (std::map<std::string, std::string>{{"cleanup.policy", "compact"},
                                                                  {"retention.ms", "604800000"}}));
}

TEST(Loader, ShouldRejectImpossibleTopicCreationCounts) {
  EXPECT_THAT(
      problems(kAuth + kKafka +
               "  create_topics:\n    partitions: 0\n    replication_factor: 40000\n"
               "    colour: red\n    configs:\n      retention.ms:\n" +
               kSubscribe),
      ElementsAre(HasSubstr("kafka.create_topics.partitions: must be -1 (the broker's "
                            "default) or at least 1, got 0"),
                  HasSubstr("kafka.create_topics.replication_factor: must be between -1 "
                            "and 32767, got 40000"),
                  HasSubstr("kafka.create_topics.colour: unknown key; valid keys here: "
                            "enabled, partitions, replication_factor, configs"),
                  HasSubstr("kafka.create_topics.configs.retention.ms: must have a value")));
}

// librdkafka ends some verdicts with a newline; a problem stays on one line.
TEST(Loader, ShouldKeepALibrdkafkaVerdictOnOneLine) {
  auto lines =
      problems(kAuth + "kafka:\n  embedded: true\n  properties:\n    linger.ms: -5\n" + kSubscribe);
  ASSERT_THAT(lines, SizeIs(1));
  EXPECT_THAT(lines[0], HasSubstr("kafka.properties.linger.ms: librdkafka: Configuration property "
                                  "\"queue.buffering.max.ms\" value -5 is outside allowed range "
                                  "0..900000 (line 9, column 5)"));
  EXPECT_EQ(lines[0].find('\n'), std::string::npos) << lines[0];
}

// librdkafka refuses Java's sasl.jaas.config; the problem names it without echoing the password.
TEST(Loader, ShouldNotEchoARefusedSecretProperty) {
  auto lines = problems(kAuth +
                        "kafka:\n  embedded: true\n  properties:\n    sasl.jaas.config: "
                        "\"ScramLoginModule required username=u password=jaas-pa55;\"\n" +
                        kSubscribe);
  ASSERT_THAT(lines, SizeIs(1));
  EXPECT_THAT(lines[0], HasSubstr("kafka.properties.sasl.jaas.config: librdkafka: Java JAAS"));
  EXPECT_THAT(lines[0], ::testing::Not(HasSubstr("jaas-pa55")));
}

TEST(Loader, ShouldReportAnUnsetTopicListOnce) {
  const std::string publish = "publish:\n  - event: In__e\n    on_error: fail\n    topics: ";
  EXPECT_THAT(problems(kAuth + kKafka + publish + "${TOPICS}\n"),
              ElementsAre(HasSubstr("publish[0].topics: expected a list")));
  EXPECT_THAT(
      problems(kAuth + kKafka + publish + "[\"${TOPICS}\"]\n"),
      ElementsAre(HasSubstr("publish[0].topics[0]: environment variable TOPICS is not set")));
  EXPECT_THAT(problems(kAuth + kKafka + publish + "\n"),
              ElementsAre(HasSubstr("publish[0].topics: must list at least one topic")));
}

}  // namespace checks

}  // namespace
}  // namespace sfkb::config

namespace sfkb::config {
namespace {

const std::string kClientCredentials = R"(salesforce:
  auth:
    flow: client_credentials
    client_id: app
    client_secret: s3cret
)";

TEST(LoaderLimits, ShouldReadTheAllocationSettingsAndSkipOwnEvents) {
  auto result = load(kClientCredentials + kKafka + R"(limits:
  poll_interval: 2m
  warn_at: 90%
  max_events_per_hour: 5000
  budget: 50%
  max_api_requests_per_day: 1000
  api_budget: 25
subscribe:
  - channel: /event/Order__e
    topic: orders
    skip_own_events: true
publish:
  - topics: [orders.out]
    event: Order__e
    dead_letter_topic: orders.dlq
    max_events_per_hour: 100
    budget: 10%
)");
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(problem_lines(result));
  const auto& l = result.config().limits;
  EXPECT_EQ(l.poll_interval, std::chrono::minutes(2));
  EXPECT_DOUBLE_EQ(l.warn_at, 0.9);
  EXPECT_EQ(l.max_events_per_hour, 5000);
  EXPECT_DOUBLE_EQ(l.budget, 0.5);
  EXPECT_EQ(l.max_api_requests_per_day, 1000);
  EXPECT_DOUBLE_EQ(l.api_budget, 0.25);
  EXPECT_TRUE(result.config().subscribe[0].skip_own_events);
  EXPECT_EQ(result.config().publish[0].max_events_per_hour, 100);
  EXPECT_DOUBLE_EQ(result.config().publish[0].budget, 0.1);
}

TEST(LoaderLimits, ShouldDefaultToPollingEveryFiveMinutesAndNoBudget) {
  auto result = load(kAuth + kKafka + kSubscribe);
  ASSERT_TRUE(result.ok());
  const auto& l = result.config().limits;
  EXPECT_EQ(l.poll_interval, std::chrono::minutes(5));
  EXPECT_DOUBLE_EQ(l.warn_at, 0.8);
  EXPECT_EQ(l.max_events_per_hour, 0);
  EXPECT_DOUBLE_EQ(l.budget, 0);
  EXPECT_FALSE(result.config().subscribe[0].skip_own_events);
}

TEST(LoaderLimits, ShouldRefuseWhatCannotWork) {
  EXPECT_THAT(problems(kAuth + kKafka + kSubscribe + "limits:\n  warn_at: 120%\n"),
              Contains(HasSubstr("limits.warn_at")));
  EXPECT_THAT(problems(kAuth + kKafka + kSubscribe + "limits:\n  poll_interval: 200ms\n"),
              Contains(HasSubstr("limits.poll_interval: must be 0 (off) or at least 1s")));
  EXPECT_THAT(
      problems(kAuth + kKafka + kSubscribe + "limits:\n  poll_interval: 0s\n  budget: 50%\n"),
      Contains(HasSubstr("turn polling on")));
  EXPECT_THAT(problems(kAuth + kKafka +
                       "subscribe:\n  - channel: /event/Order__e\n    topic: orders\n"
                       "    skip_own_events: true\n"),
              Contains(HasSubstr("not available with auth.flow: access_token")));
  EXPECT_THAT(problems(kClientCredentials + kKafka +
                       "subscribe:\n  - channel: /topic/Orders\n    topic: orders\n"
                       "    skip_own_events: true\n"),
              Contains(HasSubstr("a PushTopic notification names no user")));
}

}  // namespace
}  // namespace sfkb::config
