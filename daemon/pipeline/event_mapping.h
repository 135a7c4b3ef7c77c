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

#include "daemon/checkpoint/channel_partition.h"
#include "daemon/config/config.h"
#include "daemon/kafka/record_headers.h"
#include "daemon/pipeline/value_encoder.h"
#include "daemon/salesforce/event_source.h"

namespace sfkb::pipeline {

// librdkafka's RD_KAFKA_PARTITION_UA: let the partitioner hash the key.
inline constexpr std::int32_t kUnassignedPartition = -1;

// The sf.* header names (kafka/record_headers.h), as this file's code and its tests spell them.
using kafka::kHeaderChangeType;
using kafka::kHeaderChannel;
using kafka::kHeaderCreatedDate;
using kafka::kHeaderEntityName;
using kafka::kHeaderEventType;
using kafka::kHeaderEventUuid;
using kafka::kHeaderOrgId;
using kafka::kHeaderRecordIds;
using kafka::kHeaderReplayEpoch;
using kafka::kHeaderReplayId;
using kafka::kHeaderSchema;
using kafka::kHeaderSequenceNumber;
using kafka::kHeaderTransactionKey;

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

// The key-less partition rule lives in checkpoint/channel_partition.h: the reconciliation that
// reads records back must use the same one.
using checkpoint::single_partition_per_channel;

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
