#pragma once
// The whole configuration as plain structs with defaults (DESIGN.md §5). Produced by
// config::load() (loader.h) after interpolation and validation; nothing else parses YAML.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sfkb::config {

enum class AuthFlow { kJwtBearer, kClientCredentials, kRefreshToken, kPassword, kAccessToken };

struct AuthConfig {
  AuthFlow flow = AuthFlow::kJwtBearer;
  std::string client_id;
  std::string client_secret;     // client_credentials, refresh_token (optional), password
  std::string username;          // jwt_bearer, password
  std::string password;          // password (security token appended by the user)
  std::string refresh_token;     // refresh_token
  std::string private_key_file;  // jwt_bearer: PEM file ...
  std::string private_key;       // ... or the PEM itself (e.g. from an environment variable)
  std::string audience;          // jwt_bearer `aud`; default: login_url
  std::string access_token;      // access_token flow (tests, the emulator, experiments)
  std::string instance_url;      // access_token flow
};

struct RetryConfig {
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30000};
  // Wait after `403::Organization total events daily limit exceeded`.
  std::chrono::milliseconds daily_limit_backoff{std::chrono::minutes(15)};
};

struct SalesforceConfig {
  std::string login_url = "https://login.salesforce.com";
  std::string api_version = "62.0";
  AuthConfig auth;
  std::string ca_file;  // empty: the system CA store. TLS verification is never off.
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds request_timeout{30000};  // non-long-poll requests
  RetryConfig retry;
};

struct KafkaConfig {
  std::string bootstrap_servers;  // host:port list; Heroku's kafka+ssl://host:port list accepted
  std::string topic_prefix;       // prefixes every topic and consumer group (Heroku KAFKA_PREFIX)
  std::map<std::string, std::string> properties;  // handed to librdkafka unchanged
  // Run against librdkafka's in-process mock cluster instead of a real cluster (demo only).
  bool embedded = false;
  std::chrono::milliseconds flush_timeout{10000};
};

struct CheckpointConfig {
  std::string directory = "/var/lib/sf-kafka-bridge";
  std::chrono::milliseconds interval{1000};  // how often acknowledged progress is persisted
};

enum class KeyKind { kNone, kEventUuid, kReplayId, kPayloadField };
enum class ValueKind { kPayload, kEnvelope };
enum class InvalidReplayPolicy { kEarliest, kLatest, kFail };

struct SubscribeMapping {
  std::string channel;  // /event/X__e, /data/..., /topic/...
  std::string topic;    // before topic_prefix
  // Replay start when nothing is checkpointed: -1 latest, -2 earliest, or a replay ID.
  std::int64_t start = -1;
  KeyKind key = KeyKind::kNone;
  std::string key_field;  // for kPayloadField: path below payload, e.g. "Flight_Id__c"
  ValueKind value = ValueKind::kPayload;
  bool headers = true;  // sf.* headers on each record
  InvalidReplayPolicy on_invalid_replay_id = InvalidReplayPolicy::kEarliest;
};

// YAML `limits:` - bounds that keep memory flat when a peer is slow (DESIGN.md §1).
struct LimitsConfig {
  std::size_t max_in_flight_events = 10000;  // produced but not yet acknowledged by Kafka
};

enum class OnError { kDeadLetter, kFail };

struct PublishMapping {
  std::vector<std::string> topics;                   // before topic_prefix
  std::string event;                                 // X__e
  std::map<std::string, std::string> rename;         // record field -> event field
  std::map<std::string, std::string> static_fields;  // event field -> constant (JSON scalar text)
  std::string key_field;                             // optional: the record key goes here
  std::string dead_letter_topic;                     // before topic_prefix; empty: none
  int batch_size = 200;                              // 1..200
  std::chrono::milliseconds linger{50};
  OnError on_error = OnError::kDeadLetter;
  std::string group_id = "sf-kafka-bridge";  // before topic_prefix
};

struct HttpConfig {
  std::string listen = "127.0.0.1:8080";  // empty: off; $PORT wins when set
};

enum class LogFormat { kText, kJson };

struct LoggingConfig {
  std::string level = "info";
  LogFormat format = LogFormat::kText;
};

struct ShutdownConfig {
  std::chrono::milliseconds timeout{20000};
};

struct Config {
  SalesforceConfig salesforce;
  KafkaConfig kafka;
  CheckpointConfig checkpoint;
  LimitsConfig limits;
  std::vector<SubscribeMapping> subscribe;
  std::vector<PublishMapping> publish;
  HttpConfig http;
  LoggingConfig logging;
  ShutdownConfig shutdown;
  std::string source;  // where the config came from (file path or environment variable), for logs
};

// The topic as it is named in Kafka: topic_prefix + topic.
inline std::string full_topic(const KafkaConfig& kafka, const std::string& topic) {
  return kafka.topic_prefix + topic;
}

}  // namespace sfkb::config
