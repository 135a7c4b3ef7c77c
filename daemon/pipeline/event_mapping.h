#pragma once
// Event -> Kafka record (docs/ARCHITECTURE.md §2 "Kafka record made from one event"). Pure: no I/O,
// no librdkafka, so every key/header choice is unit-tested on plain values; the value's bytes come
// from the route's ValueEncoder (value_encoder.h). The subscribe pipeline resolves the per-channel
// facts that need Kafka (the topic's partition count, hence the channel's partition) and the
// channel's encoder once at start-up into a ChannelRoute and calls map_event per event.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/pipeline/value_encoder.h"
#include "daemon/salesforce/event_source.h"

namespace sfkb::pipeline {

// librdkafka's RD_KAFKA_PARTITION_UA: let the partitioner hash the key.
inline constexpr std::int32_t kUnassignedPartition = -1;

// Header names, shared with the reconciliation that reads them back. Which ones a record gets
// depends on its event's kind (README.md "Channel kinds"); a value Salesforce did not send is
// left out rather than sent empty.
// Every kind:
inline constexpr const char* kHeaderChannel = "sf.channel";
inline constexpr const char* kHeaderReplayId = "sf.replay_id";
// Platform events (and sf.schema also change events):
inline constexpr const char* kHeaderEventUuid = "sf.event_uuid";
inline constexpr const char* kHeaderSchema = "sf.schema";
// Platform events: payload.CreatedDate; PushTopic: event.createdDate; change events: the header's
// commitTimestamp written the same way (ISO 8601 UTC with milliseconds).
inline constexpr const char* kHeaderCreatedDate = "sf.created_date";
// PushTopic events: created | updated | deleted | undeleted.
inline constexpr const char* kHeaderEventType = "sf.event_type";
// Change events, from payload.ChangeEventHeader:
inline constexpr const char* kHeaderChangeType = "sf.change_type";
inline constexpr const char* kHeaderEntityName = "sf.entity_name";
inline constexpr const char* kHeaderRecordIds = "sf.record_ids";  // comma-separated
inline constexpr const char* kHeaderTransactionKey = "sf.transaction_key";
inline constexpr const char* kHeaderSequenceNumber = "sf.sequence_number";
// The Salesforce org the event came from (when known): reconciliation never resumes from another
// org's records.
inline constexpr const char* kHeaderOrgId = "sf.org_id";
// How many times the channel's subscription restarted from a fallback (a refused replay ID, an org
// change); absent means 0. Reconciliation ignores records of an older restart: their replay IDs
// belong to a sequence Salesforce no longer knows.
inline constexpr const char* kHeaderReplayEpoch = "sf.replay_epoch";

struct KafkaRecord {
  std::string topic;
  std::int32_t partition = kUnassignedPartition;
  std::optional<std::string> key;  // nullopt: a null key
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Where a channel's records go, resolved once per channel at start-up.
struct ChannelRoute {
  const config::SubscribeMapping* mapping = nullptr;  // not owned; outlives the route
  std::string topic;                                  // with kafka.topic_prefix
  std::int32_t channel_partition = 0;     // partition_for_channel(channel, partition count)
  std::string org_id;                     // sf.org_id; empty: unknown, no header
  std::uint32_t epoch = 0;                // sf.replay_epoch; 0: no header
  const ValueEncoder* encoder = nullptr;  // not owned; the mapping's record value (required)
};

struct MappedEvent {
  KafkaRecord record;
  // The key is a payload field that this event lacks (or holds null): the record got a null key
  // and the channel's partition; the caller counts it.
  bool key_field_missing = false;
};

// True when the mapping sends every event of its channel to one partition (no key), which makes
// the newest record of that partition an exact resume point (docs/ARCHITECTURE.md §4). Every keyed
// mapping spreads the channel over the topic's partitions.
bool single_partition_per_channel(const config::SubscribeMapping& mapping);

MappedEvent map_event(const salesforce::StreamEvent& event, const ChannelRoute& route);

// The value of the field at `path` (dot-separated) of the event's record object (StreamEvent::
// payload_json: data.payload, or data.sobject for PushTopic) as key bytes: strings as they are,
// an array of strings as its elements joined by ',' (a change event's recordIds: "001A,001B"),
// other scalars, objects and arrays as compact JSON. nullopt when absent, null, an empty array, or
// when the object is not a JSON object.
std::optional<std::string> payload_field(const std::string& payload_json, const std::string& path);

// Epoch milliseconds as ISO 8601 UTC with milliseconds ("2026-11-26T17:30:00.123Z", the form of
// Salesforce's CreatedDate); nullopt outside the years 0000..9999.
std::optional<std::string> iso8601_from_epoch_ms(std::int64_t epoch_ms);

}  // namespace sfkb::pipeline
