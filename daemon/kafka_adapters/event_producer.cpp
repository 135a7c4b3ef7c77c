#include "daemon/kafka_adapters/event_producer.h"

#include "daemon/kafka/client_config.h"
#include "daemon/kafka/partitioner.h"

namespace sfkb::kafka_adapters {

using pipeline::DeliveryHandler;
using pipeline::DeliveryReport;
using pipeline::DeliveryTag;
using pipeline::KafkaRecord;

KafkaEventProducer::KafkaEventProducer(const config::KafkaConfig& kafka)
    : producer_(std::make_unique<kafka::Producer>(
          kafka::ClientConfig(kafka, kafka::Role::kProducer),
          // Runs on the thread calling poll()/flush(); handler_ is set before any produce.
          [this](const kafka::Delivery& delivery) {
            if (!handler_) {
              return;
            }
            DeliveryReport report;
            report.tag.channel = static_cast<std::uint32_t>(delivery.token.id & 0xffffffffU);
            report.tag.epoch = static_cast<std::uint32_t>(delivery.token.id >> 32);
            report.tag.replay_id = delivery.token.bytes
                                       ? core::ReplayId::opaque(*delivery.token.bytes)
                                       : core::ReplayId::cometd(delivery.token.value);
            report.status = delivery.status;
            report.partition = delivery.partition;
            report.offset = delivery.offset;
            handler_(report);
          })) {}

void KafkaEventProducer::set_delivery_handler(DeliveryHandler handler) {
  handler_ = std::move(handler);
}

core::Status KafkaEventProducer::produce(const KafkaRecord& record, DeliveryTag tag) {
  kafka::OutgoingRecord out;
  out.topic = record.topic;
  out.partition = record.partition;
  if (record.key) {
    out.key = std::string_view(*record.key);
  }
  out.value = record.value;
  out.headers = record.headers;
  const std::uint64_t id = (static_cast<std::uint64_t>(tag.epoch) << 32) | tag.channel;
  kafka::DeliveryToken token{id, 0, std::nullopt};
  if (tag.replay_id.is_cometd()) {
    token.value = tag.replay_id.number();
  } else {
    token.bytes = tag.replay_id.bytes();
  }
  return producer_->produce(out, std::move(token));
}

void KafkaEventProducer::poll(std::chrono::milliseconds timeout) {
  producer_->poll(timeout);
}

core::Status KafkaEventProducer::flush(std::chrono::milliseconds timeout) {
  return producer_->flush(timeout);
}

core::Result<std::int32_t> KafkaEventProducer::partition_count(const std::string& topic) {
  return producer_->partition_count(topic, std::chrono::seconds(15));
}

std::int32_t partition_by_channel_name(const std::string& channel, std::int32_t partition_count) {
  return kafka::partition_for_channel(channel, partition_count);
}

}  // namespace sfkb::kafka_adapters
