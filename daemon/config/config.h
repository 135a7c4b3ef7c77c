#pragma once
// The whole configuration as plain structs; each member's initializer is the setting's default
// (docs/ARCHITECTURE.md §5). fields.cpp declares the YAML key, bounds and doc of each member.
// Produced by config::load_file / load_string (loader.h); nothing else parses YAML.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daemon/core/replay_id.h"

namespace sfkb::config {

// The allowed range of a setting, checked when the configuration is loaded and listed in
// README.md's configuration tables; fields.cpp declares which setting has which. Every duration and
// size is bounded: a huge value is never what was meant, and past ~292 years a duration overflows
// the clocks (shutdown.timeout: 9223372036854775807 made SIGTERM exit 70 at once, without flush or
// final checkpoint).
template <typename T>
struct Range {
  T min;
  T max;
};
using DurationRange = Range<std::chrono::milliseconds>;

namespace bounds {
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// TCP + TLS to Salesforce: below 100 ms a healthy handshake across regions fails; a connection
// that needs minutes is dead, and the retry loop finds that sooner than a longer wait.
inline constexpr DurationRange kConnectTimeout{milliseconds(100), minutes(5)};
// A token or REST publish request; Salesforce itself ends a synchronous request after 10 min.
inline constexpr DurationRange kRequestTimeout{milliseconds(100), minutes(10)};
// Backoff ceilings: at least 10 ms so that retries never spin; at most 1 h, after which an
// outage is better reported by /readyz than waited out in silence.
inline constexpr DurationRange kBackoff{milliseconds(10), hours(1)};
// The daily event allocation is counted over a rolling 24 h: waiting longer never helps.
inline constexpr DurationRange kDailyLimitBackoff{seconds(1), hours(24)};
// Handed to rd_kafka_flush() as an int of milliseconds (overflows past 24 days); within the
// stop it must also fit the service manager's stop timeout, see shutdown.timeout.
inline constexpr DurationRange kFlushTimeout{milliseconds(100), minutes(10)};
// Each checkpoint is a write + fsync: more often than every 10 ms only burns the disk; less often
// than every 10 min replays (as duplicates) too much after a crash.
inline constexpr DurationRange kCheckpointInterval{milliseconds(10), minutes(10)};
// The graceful stop: at least 1 s to flush and write the final checkpoint; at most 10 min, far
// beyond what systemd (TimeoutStopSec=30s in the unit), Docker or Heroku (30 s) wait anyway.
inline constexpr DurationRange kShutdownTimeout{seconds(1), minutes(10)};
// coordination.session_timeout: the broker refuses what lies outside its
// group.min.session.timeout.ms (6 s by default) .. group.max.session.timeout.ms (30 min); below
// 1 s a missed heartbeat or a GC pause would move channels for nothing.
inline constexpr DurationRange kSessionTimeout{seconds(1), minutes(30)};
// Salesforce accepts at most 200 records per composite/sobjects request.
inline constexpr Range<long long> kBatchSize{1, 200};
// Waiting longer than a minute for a batch to fill is a delay, not batching.
inline constexpr Range<long long> kLingerMs{0, 60'000};
// Events held in memory until Kafka acknowledges them: at a few KB per event, a million is a few
// GB, beyond what the bound is for (flat memory when Kafka is slow).
inline constexpr Range<long long> kMaxInFlightEvents{1, 1'000'000};
// kafka.create_topics: -1 is the broker's default; 0 is no topic. Kafka's own partition limit per
// broker is in the thousands; a replication factor is an int16 in the protocol.
inline constexpr Range<long long> kTopicPartitions{-1, 100'000};
inline constexpr Range<long long> kReplicationFactor{-1, 32'767};
// The limits resource is refreshed by Salesforce about every 5 minutes and every read is an API
// request: 0 turns polling off; below 1 s is refused (rules.cpp), a day is the most that still
// sees a daily allocation move.
inline constexpr DurationRange kLimitsPollInterval{milliseconds(0), hours(24)};
// Events per hour / API requests per day a budget may allow: 0 is "no limit"; a billion is far
// beyond any org's allocation.
inline constexpr Range<long long> kAllocationBudget{0, 1'000'000'000};
}  // namespace bounds

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

// kafka.create_topics: the topics the bridge writes to (subscribe destinations, dead-letter
// topics) are created at start-up when missing, like Kafka Connect's topic.creation.*. Off by
// default: managed clusters often forbid it and topics are usually provisioned on purpose.
struct TopicCreationConfig {
  bool enabled = false;
  int partitions = -1;                         // -1: the broker's num.partitions
  int replication_factor = -1;                 // -1: the broker's default.replication.factor
  std::map<std::string, std::string> configs;  // topic configs (retention.ms, cleanup.policy, ...)
};

struct KafkaConfig {
  std::string bootstrap_servers;  // host:port list; Heroku's kafka+ssl://host:port list accepted
  std::string topic_prefix;       // prefixes every topic and consumer group (Heroku KAFKA_PREFIX)
  std::map<std::string, std::string> properties;  // handed to librdkafka unchanged
  // Run against librdkafka's in-process mock cluster instead of a real cluster (demo only).
  bool embedded = false;
  std::chrono::milliseconds flush_timeout{10000};
  TopicCreationConfig create_topics;
};

// YAML `coordination:` - how instances with the same config share the subscribe channels: a Kafka
// consumer group over a small topic with one partition per channel (docs/ARCHITECTURE.md
// "Several instances").
struct CoordinationConfig {
  // Off: this instance subscribes every channel, whatever else runs (the behaviour of one
  // instance). Never used with kafka.embedded, whose mock cluster lives inside one process.
  bool enabled = true;
  std::string group = "sf-kafka-bridge.subscribe";  // before topic_prefix
  std::string topic = "sf-kafka-bridge.channels";   // before topic_prefix
  // How long the group waits for a silent instance before its channels move: the failover time
  // after a kill -9, and how long a stalled owner keeps its channels. Kafka Connect's default.
  std::chrono::milliseconds session_timeout{10000};
};

// Where channel positions live (docs/ARCHITECTURE.md §4): the checkpoint file, or a compacted
// topic written in the same Kafka transaction as the channel's records.
enum class CheckpointStoreKind { kFile, kKafka };

struct CheckpointConfig {
  std::string directory = "/var/lib/sf-kafka-bridge";
  std::chrono::milliseconds interval{1000};  // how often acknowledged progress is persisted
  CheckpointStoreKind store = CheckpointStoreKind::kFile;
  std::string topic = "sf-kafka-bridge.checkpoints";  // store: kafka; after kafka.topic_prefix
};

enum class KeyKind { kNone, kEventUuid, kReplayId, kPayloadField };
enum class ValueKind { kPayload, kEnvelope };
enum class InvalidReplayPolicy { kEarliest, kLatest, kFail };

struct SubscribeMapping {
  std::string channel;  // /event/X__e, /data/..., /topic/...
  std::string topic;    // before topic_prefix
  // Replay start when nothing is checkpointed, in CometD's numbers (the source turns it into a
  // core::ReplayId): core::kCometdLatest, core::kCometdEarliest, or a replay ID.
  std::int64_t start = core::kCometdLatest;
  KeyKind key = KeyKind::kNone;
  std::string key_field;  // for kPayloadField: path below payload, e.g. "Flight_Id__c"
  ValueKind value = ValueKind::kPayload;
  bool headers = true;  // sf.* headers on each record
  InvalidReplayPolicy on_invalid_replay_id = InvalidReplayPolicy::kEarliest;
  // Drop the events the bridge's own user caused (its echo when the event is also published).
  bool skip_own_events = false;
};

// YAML `limits:` - bounds that keep memory flat when a peer is slow (docs/ARCHITECTURE.md §1).
struct LimitsConfig {
  std::size_t max_in_flight_events = 10000;  // produced but not yet acknowledged by Kafka
  // The org's allocations (README "Limits and loops"). Shares are fractions 0..1 (YAML: "50%").
  std::chrono::milliseconds poll_interval{std::chrono::minutes(5)};  // limits resource; 0: off
  double warn_at = 0.8;                    // warn once when an allocation is this much used
  long long max_events_per_hour = 0;       // all publish mappings together; 0: no limit
  double budget = 0;                       // share of HourlyPublishedPlatformEvents left; 0: off
  long long max_api_requests_per_day = 0;  // composite requests; 0: no limit
  double api_budget = 0;                   // share of DailyApiRequests left; 0: off
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
  long long max_events_per_hour = 0;         // this mapping; 0: no limit
  double budget = 0;  // this mapping's share of HourlyPublishedPlatformEvents left; 0: off
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
  CoordinationConfig coordination;
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
