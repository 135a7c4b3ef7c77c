#pragma once
// The two Kafka-side seams the publish pipeline needs, owned by the pipeline (docs/CONVENTIONS.md
// §10): a consumer it polls, pauses and commits, and a dead-letter sink it writes rejected records
// to. The production adapters over the librdkafka wrappers live in kafka_adapters/publish_ports.h;
// unit tests put in-memory fakes here, never a mock of librdkafka.

#include <chrono>
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

#include "daemon/core/result.h"

namespace sfkb::pipeline {

struct TopicPartition {
  std::string topic;
  std::int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

struct SourceRecord {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::optional<std::string> key;    // nullopt: null key
  std::optional<std::string> value;  // nullopt: null value (tombstone)
};

// Called on the pipeline thread, from inside PublishConsumer::poll(), when the group rebalances.
class RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  // Partitions added to this member's assignment (possibly none: the group was joined).
  virtual void on_assigned(const std::vector<TopicPartition>& partitions) = 0;
  // Partitions taken away. Offsets committed synchronously from here still count: the partitions
  // are only handed over when this returns.
  virtual void on_revoked(const std::vector<TopicPartition>& partitions) = 0;
};

class PublishConsumer {
 public:
  virtual ~PublishConsumer() = default;
  // Joins the group and subscribes. The listener outlives the consumer's use.
  virtual core::Status subscribe(RebalanceListener& listener) = 0;
  // Up to `max_records` records (offset order per partition) within `timeout`, spread over the
  // partitions that have some; serves rebalance callbacks and keeps the group membership alive.
  // Partitions in `full` deliver nothing this time: their records wait where they are (no
  // re-fetch, unlike pause()), so the others fill the room. kRetry for a transient consumer error.
  virtual core::Result<std::vector<SourceRecord>> poll(std::chrono::milliseconds timeout,
                                                       std::size_t max_records,
                                                       const std::set<TopicPartition>& full) = 0;
  // Paused partitions deliver nothing until resumed; resuming continues after the last record
  // poll() returned.
  virtual void pause(const std::vector<TopicPartition>& partitions) = 0;
  virtual void resume(const std::vector<TopicPartition>& partitions) = 0;
  // Commits, per partition, the offset of the next record to consume. `synchronous` waits for the
  // broker (revocation, shutdown); otherwise the commit is queued (steady state, in order).
  virtual core::Status commit(const std::map<TopicPartition, std::int64_t>& next_offsets,
                              bool synchronous) = 0;
  // Leaves the group. No commit of its own (auto-commit is off).
  virtual void close() = 0;
};

struct DeadLetter {
  const SourceRecord* record = nullptr;  // valid for the duration of write()
  std::string error_code;
  std::string error_message;
};

class DeadLetterSink {
 public:
  virtual ~DeadLetterSink() = default;
  // Produces every letter (original key and value; headers sf.error_code, sf.error_message,
  // sf.source_topic, sf.source_partition, sf.source_offset) and returns ok only once Kafka has
  // acknowledged all of them. kStopped when `stop` fired first; kFatal when a delivery failed.
  virtual core::Status write(const std::vector<DeadLetter>& letters, std::stop_token stop) = 0;
};

}  // namespace sfkb::pipeline
