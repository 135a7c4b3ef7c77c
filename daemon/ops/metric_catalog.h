#pragma once
// Every metric the bridge exports, declared once: name, type, help text, label names and the
// README's line for it. Registration sites name a catalog entry and pass label values in the
// declared order (Metrics::counter(Metric, {...}) in metrics.h), so a name, a help text or a
// label name is spelled nowhere else. The README's metrics table is generated from this list
// (metrics_readme_table) and a unit test keeps the two equal.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace sfkb::ops {

enum class MetricType { kCounter, kGauge };

enum class Metric : std::size_t {
  kBuildInfo,
  kEventsReceived,
  kEventsProduced,
  kEventsSkippedDuplicate,
  kEventsKeyMissing,
  kEventsDropped,
  kEventsSkippedOwn,
  kEventsUnconfigured,
  kUnexpectedChannelEvents,
  kCheckpointReplayId,
  kSecondsSinceLastEvent,
  kInFlightEvents,
  kSubscribeBackpressure,
  kSubscribeFenced,
  kSubscribeTransactionAborts,
  kCheckpointWrites,
  kCheckpointWriteFailures,
  kInvalidReplayFallbacks,
  kRecordsConsumed,
  kRecordsPublished,
  kRecordsDeadLettered,
  kPublishBatches,
  kPublishRetries,
  kPublishInFlightRecords,
  kPublishBudgetHeldRecords,
  kPublishBudgetWaitSeconds,
  kPublishBudgetWaits,
  kHttpRequests,
  kTokenRefreshes,
  kAuthFailures,
  kCometdReconnects,
  kCometdRehandshakes,
  kCometdLostReplies,
  kDailyLimitExceeded,
  kSalesforceLimitUsed,
  kSalesforceLimitMax,
  kSalesforceLimitWarnings,
  kMalformedMessages,
  kPublishMalformedReplies,
  kKafkaDeliveryFailures,
  kKafkaProduceErrors,
  kKafkaCommitFailures,
  kCount
};

struct MetricSpec {
  Metric id;
  std::string_view name;
  MetricType type;
  std::string_view help;                     // Prometheus # HELP
  std::array<std::string_view, 2> labels{};  // label names in exposition order; empty: unused
  std::string_view readme;                   // the README's "meaning" column (Markdown)

  constexpr std::size_t label_count() const {
    std::size_t n = 0;
    while (n < labels.size() && !labels[n].empty()) {
      ++n;
    }
    return n;
  }
};

// In the README's order. Help texts are what /metrics has always said: dashboards may show them.
inline constexpr std::array<MetricSpec, static_cast<std::size_t>(Metric::kCount)> kMetricCatalog{{
    {Metric::kBuildInfo,
     "sfkb_build_info",
     MetricType::kGauge,
     "Version and git commit of the running sf-kafka-bridge",
     {"version", "commit"},
     "always 1; the running build"},
    {Metric::kEventsReceived,
     "sfkb_events_received_total",
     MetricType::kCounter,
     "Events received from Salesforce",
     {"channel"},
     "events from CometD"},
    {Metric::kEventsProduced,
     "sfkb_events_produced_total",
     MetricType::kCounter,
     "Events acknowledged by Kafka",
     {"channel", "topic"},
     "events Kafka acknowledged"},
    {Metric::kEventsSkippedDuplicate,
     "sfkb_events_skipped_duplicate_total",
     MetricType::kCounter,
     "Events not produced because Kafka already has them (redelivery or replay)",
     {"channel"},
     "redelivered events dropped by the high-water mark or the reconciliation skip set"},
    {Metric::kEventsKeyMissing,
     "sfkb_events_key_missing_total",
     MetricType::kCounter,
     "Events whose configured key field was absent or null (produced with a null key)",
     {"channel"},
     "events whose key field was absent or null: produced with a null key to the channel's "
     "partition"},
    {Metric::kEventsDropped,
     "sfkb_events_dropped_total",
     MetricType::kCounter,
     "Events Kafka can never take (e.g. larger than message.max.bytes): logged and skipped",
     {"channel"},
     "events Kafka can never take (larger than `message.max.bytes`): logged and passed over"},
    {Metric::kEventsSkippedOwn,
     "sfkb_events_skipped_own_total",
     MetricType::kCounter,
     "Events dropped by skip_own_events: published by the bridge's own user (its echo)",
     {"channel"},
     "events dropped by `skip_own_events`: published by the bridge's own user (its echo)"},
    {Metric::kEventsUnconfigured,
     "sfkb_events_unconfigured_total",
     MetricType::kCounter,
     "Events on a channel no mapping names (ignored)",
     {"channel"},
     "events on a channel no mapping names (ignored)"},
    {Metric::kUnexpectedChannelEvents,
     "sfkb_unexpected_channel_events_total",
     MetricType::kCounter,
     "Events received on a channel this bridge did not subscribe to",
     {"channel"},
     "events on a channel the bridge did not subscribe to (skipped)"},
    {Metric::kCheckpointReplayId,
     "sfkb_checkpoint_replay_id",
     MetricType::kGauge,
     "Replay ID checkpointed per channel (last written)",
     {"channel"},
     "the replay ID in the checkpoint: everything up to it is in Kafka"},
    {Metric::kSecondsSinceLastEvent,
     "sfkb_seconds_since_last_event",
     MetricType::kGauge,
     "Seconds since the last event of the channel (or since start)",
     {"channel"},
     "age of the newest event; alert on it for channels that should never be quiet"},
    {Metric::kInFlightEvents,
     "sfkb_in_flight_events",
     MetricType::kGauge,
     "Events handed to Kafka and not yet acknowledged",
     {},
     "produced but not yet acknowledged"},
    {Metric::kSubscribeBackpressure,
     "sfkb_subscribe_backpressure",
     MetricType::kGauge,
     "1 while the subscribe pipeline stopped pulling because too many events are in flight",
     {},
     "1 while pulling is paused (`limits.max_in_flight_events` reached)"},
    {Metric::kSubscribeFenced,
     "sfkb_subscribe_fenced_total",
     MetricType::kCounter,
     "Channels this instance stopped writing because another owner took the channel's "
     "transactional.id over (a fence)",
     {"channel"},
     "channels given up to a newer owner (fenced); expected when a channel moves"},
    {Metric::kSubscribeTransactionAborts,
     "sfkb_subscribe_transaction_aborts_total",
     MetricType::kCounter,
     "Transactions of a channel aborted after an abortable error; their events were produced "
     "again in a new transaction",
     {"channel"},
     "aborted transactions (events re-produced, nothing lost)"},
    {Metric::kCheckpointWrites,
     "sfkb_checkpoint_writes_total",
     MetricType::kCounter,
     "Checkpoint files written",
     {},
     "checkpoint file writes"},
    {Metric::kCheckpointWriteFailures,
     "sfkb_checkpoint_write_failures_total",
     MetricType::kCounter,
     "Checkpoint writes that failed (retried)",
     {},
     "checkpoint file writes that failed (retried)"},
    {Metric::kInvalidReplayFallbacks,
     "sfkb_invalid_replay_fallbacks_total",
     MetricType::kCounter,
     "Subscriptions restarted from the on_invalid_replay_id fallback because the resume point was "
     "void (refused by Salesforce, or of another org): a possible gap or replay",
     {"channel"},
     "`on_invalid_replay_id` applied (refused replay ID, or a position of another org): a "
     "possible gap or replay"},
    {Metric::kRecordsConsumed,
     "sfkb_records_consumed_total",
     MetricType::kCounter,
     "Records consumed from Kafka",
     {"topic"},
     "records consumed from Kafka (publish direction)"},
    {Metric::kRecordsPublished,
     "sfkb_records_published_total",
     MetricType::kCounter,
     "Records Salesforce accepted as platform events",
     {"topic"},
     "records Salesforce accepted as platform events"},
    {Metric::kRecordsDeadLettered,
     "sfkb_records_dead_lettered_total",
     MetricType::kCounter,
     "Records written to the dead-letter topic, by source topic and error code",
     {"topic", "error_code"},
     "records written to the dead-letter topic, by source topic and Salesforce error code"},
    {Metric::kPublishBatches,
     "sfkb_publish_batches_total",
     MetricType::kCounter,
     "Batches resolved (every record published or dead-lettered)",
     {},
     "batches resolved (every record published or dead-lettered)"},
    {Metric::kPublishRetries,
     "sfkb_publish_retries_total",
     MetricType::kCounter,
     "Composite requests retried after a transient failure",
     {},
     "composite requests retried after a transient failure"},
    {Metric::kPublishInFlightRecords,
     "sfkb_publish_in_flight_records",
     MetricType::kGauge,
     "Records polled but not yet done (buffered or in the batch)",
     {},
     "records polled but not yet done (buffered or in the batch being sent)"},
    {Metric::kPublishBudgetHeldRecords,
     "sfkb_publish_budget_held_records",
     MetricType::kGauge,
     "Records waiting in Kafka because the publish budget allows nothing now (offsets not "
     "committed)",
     {"event"},
     "records waiting in Kafka because the publish budget allows nothing now (offsets not "
     "committed)"},
    {Metric::kPublishBudgetWaitSeconds,
     "sfkb_publish_budget_wait_seconds",
     MetricType::kGauge,
     "How long the current wait for the publish budget has lasted",
     {"event"},
     "how long the current wait for the publish budget has lasted (0 when not waiting)"},
    {Metric::kPublishBudgetWaits,
     "sfkb_publish_budget_waits_total",
     MetricType::kCounter,
     "Times the publish budget stopped publishing until it refilled",
     {"event"},
     "times the publish budget stopped publishing until it refilled"},
    {Metric::kHttpRequests,
     "sfkb_http_requests_total",
     MetricType::kCounter,
     "HTTP exchanges with Salesforce",
     {"endpoint", "status"},
     "every Salesforce HTTP exchange, by endpoint (token, cometd, composite) and status (`error` "
     "for network failures)"},
    {Metric::kTokenRefreshes,
     "sfkb_token_refreshes_total",
     MetricType::kCounter,
     "Access tokens obtained from the OAuth token endpoint",
     {},
     "new access tokens"},
    {Metric::kAuthFailures,
     "sfkb_auth_failures_total",
     MetricType::kCounter,
     "Failed attempts to obtain an access token",
     {"kind"},
     "failed logins (`kind`: `fatal` for refused credentials, `retry` for the rest)"},
    {Metric::kCometdReconnects,
     "sfkb_cometd_reconnects_total",
     MetricType::kCounter,
     "CometD connects repeated after a failure or on advice",
     {},
     "CometD connects repeated after a failure or on advice"},
    {Metric::kCometdRehandshakes,
     "sfkb_cometd_rehandshakes_total",
     MetricType::kCounter,
     "CometD sessions re-established after the server lost one",
     {},
     "CometD sessions re-established after the server lost one"},
    {Metric::kCometdLostReplies,
     "sfkb_cometd_lost_replies_total",
     MetricType::kCounter,
     "CometD replies not received whole and decoded; each ended the session so that the events it "
     "may have carried are replayed from the last acknowledged replay ID",
     {"exchange", "reason"},
     "replies not received whole (`reason`: `transport`, `undecodable`, `no_meta_reply`); each "
     "one ended the session and replayed from the last acknowledged replay ID"},
    {Metric::kDailyLimitExceeded,
     "sfkb_daily_limit_exceeded_total",
     MetricType::kCounter,
     "Times Salesforce refused delivery for the daily event limit",
     {},
     "`403::Organization total events daily limit exceeded`"},
    {Metric::kSalesforceLimitUsed,
     "sfkb_salesforce_limit_used",
     MetricType::kGauge,
     "Used part of an org allocation, as Salesforce last reported it",
     {"limit"},
     "used part of an org allocation (`DailyApiRequests`, `HourlyPublishedPlatformEvents`, "
     "`DailyDeliveredPlatformEvents`) as Salesforce last reported it"},
    {Metric::kSalesforceLimitMax,
     "sfkb_salesforce_limit_max",
     MetricType::kGauge,
     "An org allocation's maximum, as Salesforce last reported it",
     {"limit"},
     "an org allocation's maximum, as Salesforce last reported it"},
    {Metric::kSalesforceLimitWarnings,
     "sfkb_salesforce_limit_warnings_total",
     MetricType::kCounter,
     "Times an org allocation's use crossed limits.warn_at (logged once per crossing)",
     {"limit"},
     "times an org allocation's use crossed `limits.warn_at` (logged once per crossing)"},
    {Metric::kMalformedMessages,
     "sfkb_malformed_messages_total",
     MetricType::kCounter,
     "Bayeux messages or bodies that could not be decoded",
     {},
     "CometD messages that could not be decoded (skipped, logged with a redacted snippet)"},
    {Metric::kPublishMalformedReplies,
     "sfkb_publish_malformed_replies_total",
     MetricType::kCounter,
     "Composite replies that could not be understood (retried)",
     {},
     "composite replies that could not be understood (the batch is retried, logged with a "
     "redacted snippet)"},
    {Metric::kKafkaDeliveryFailures,
     "sfkb_kafka_delivery_failures_total",
     MetricType::kCounter,
     "Records Kafka did not acknowledge (each one is fatal)",
     {},
     "records Kafka did not acknowledge (each one stops the pipeline)"},
    {Metric::kKafkaProduceErrors,
     "sfkb_kafka_produce_errors_total",
     MetricType::kCounter,
     "Records librdkafka refused to take (queue full excluded)",
     {},
     "records librdkafka refused to take (queue full excluded)"},
    {Metric::kKafkaCommitFailures,
     "sfkb_kafka_commit_failures_total",
     MetricType::kCounter,
     "Offset commits Kafka refused",
     {},
     "offset commits Kafka refused"},
}};

// Each entry sits at the index of its id, so spec() is an array access and a new enum value
// without its entry (or the other way round) does not compile.
constexpr bool catalog_in_order() {
  for (std::size_t i = 0; i < kMetricCatalog.size(); ++i) {
    if (static_cast<std::size_t>(kMetricCatalog[i].id) != i || kMetricCatalog[i].name.empty()) {
      return false;
    }
  }
  return true;
}
static_assert(catalog_in_order(), "kMetricCatalog must list every Metric once, in enum order");

constexpr const MetricSpec& spec(Metric metric) {
  return kMetricCatalog[static_cast<std::size_t>(metric)];
}

// The README's metrics table (Markdown, one row per metric): `name{labels}` | type | meaning.
std::string metrics_readme_table();

}  // namespace sfkb::ops
