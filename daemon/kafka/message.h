#pragma once
// Records read from Kafka. Message owns a librdkafka message (zero-copy views into its buffers;
// destroy every Message before its consumer); Record is an owned copy for longer-lived use.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/kafka/handles.h"

namespace sfkb::kafka {

struct TopicPartition {
  std::string topic;
  std::int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

struct TopicPartitionOffset {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;  // for commits: the offset of the next record to consume
};

struct Record {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::optional<std::string> key;    // nullopt: null key
  std::optional<std::string> value;  // nullopt: null value (tombstone)
  std::vector<std::pair<std::string, std::string>> headers;
  std::int64_t timestamp_ms = -1;

  // The last value of the header `name` (Kafka allows repeats), if any.
  std::optional<std::string> header(std::string_view name) const;
};

class Message {
 public:
  explicit Message(MessagePtr message) : message_(std::move(message)) {}

  std::string_view topic() const { return rd_kafka_topic_name(message_->rkt); }
  std::int32_t partition() const { return message_->partition; }
  std::int64_t offset() const { return message_->offset; }
  std::optional<std::string_view> key() const;
  std::optional<std::string_view> value() const;
  std::optional<std::string_view> header(std::string_view name) const;  // the last one
  std::vector<std::pair<std::string, std::string>> headers() const;
  std::int64_t timestamp_ms() const;

  Record to_record() const;
  const rd_kafka_message_t* get() const { return message_.get(); }

 private:
  MessagePtr message_;
};

}  // namespace sfkb::kafka
