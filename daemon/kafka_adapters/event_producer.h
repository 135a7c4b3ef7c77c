#pragma once
// The subscribe pipeline's EventProducer (pipeline/subscribe_producer.h) over the Kafka module's
// Producer (idempotent, acks=all, gapless, no message timeout - enforced by kafka::ClientConfig).

#include <atomic>
#include <memory>

#include "daemon/config/config.h"
#include "daemon/kafka/producer.h"
#include "daemon/pipeline/subscribe_producer.h"

namespace sfkb::kafka_adapters {

class KafkaEventProducer final : public pipeline::EventProducer {
 public:
  // Throws kafka::KafkaError at start-up.
  explicit KafkaEventProducer(const config::KafkaConfig& kafka);

  void set_delivery_handler(pipeline::DeliveryHandler handler) override;
  core::Status produce(const pipeline::KafkaRecord& record, pipeline::DeliveryTag tag) override;
  void poll(std::chrono::milliseconds timeout) override;
  core::Status flush(std::chrono::milliseconds timeout) override;
  core::Result<std::int32_t> partition_count(const std::string& topic) override;

 private:
  pipeline::DeliveryHandler
      handler_;  // set before the first produce; read by poll()/flush() callers
  std::unique_ptr<kafka::Producer> producer_;
};

// The key-less channel hash the daemon uses (checkpoint/channel_partition.h):
// kafka::partition_for_channel, Kafka's Java default partitioner over the channel name.
std::int32_t partition_by_channel_name(const std::string& channel, std::int32_t partition_count);

}  // namespace sfkb::kafka_adapters
