#pragma once
// KafkaTail over the Kafka module's TailReader: reads partitions back for start-up reconciliation
// and for `sf-kafka-bridge checkpoints`.

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "daemon/checkpoint/kafka_tail.h"
#include "daemon/config/config.h"
#include "daemon/kafka/consumer.h"

namespace sfkb::kafka_adapters {

class TailReaderKafkaTail final : public checkpoint::KafkaTail {
 public:
  // Throws kafka::KafkaError at start-up (invalid properties). `replay_kind`: the kind of
  // position the channels' source writes into sf.replay_id, unless `channel_kinds` names the
  // channel's (a Pub/Sub API channel's are opaque); a header that does not parse as one is
  // somebody else's and is ignored.
  explicit TailReaderKafkaTail(const config::KafkaConfig& kafka,
                               std::chrono::milliseconds timeout = std::chrono::seconds(15),
                               core::ReplayId::Kind replay_kind = core::ReplayId::Kind::kCometd,
                               std::map<std::string, core::ReplayId::Kind> channel_kinds = {});

  core::Result<std::int32_t> partition_count(const std::string& topic) override;
  core::Status read_backwards(
      const std::string& topic, std::int32_t partition,
      const std::function<bool(const checkpoint::TailRecord&)>& visit) override;

 private:
  std::unique_ptr<kafka::TailReader> reader_;
  std::chrono::milliseconds timeout_;
  core::ReplayId::Kind replay_kind_;
  std::map<std::string, core::ReplayId::Kind> channel_kinds_;
};

}  // namespace sfkb::kafka_adapters
