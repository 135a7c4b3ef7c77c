#pragma once
// The production side of the publish pipeline's seams (pipeline/publish_ports.h): its
// PublishConsumer and DeadLetterSink on top of the bridge's librdkafka wrappers (daemon/kafka).

#include <memory>
#include <string>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/kafka/consumer.h"
#include "daemon/kafka/producer.h"
#include "daemon/pipeline/publish_ports.h"

namespace sfkb::kafka_adapters {

// A kafka::Consumer in group `group_id` (final name) for `topics` (final names), reading each
// assigned partition from its own queue (kafka/consumer.h) so that a full partition is simply not
// read. Runs on the pipeline thread only; rebalance hooks are forwarded to the pipeline's listener
// from poll().
class KafkaPublishConsumer final : public pipeline::PublishConsumer {
 public:
  // Throws kafka::KafkaError at start-up.
  // `close_timeout` bounds a synchronous commit and leaving the group (kafka::Consumer::commit,
  // close_within).
  KafkaPublishConsumer(const config::KafkaConfig& kafka, const std::string& group_id,
                       std::vector<std::string> topics, std::chrono::milliseconds close_timeout);

  core::Status subscribe(pipeline::RebalanceListener& listener) override;
  core::Result<std::vector<pipeline::SourceRecord>> poll(
      std::chrono::milliseconds timeout, std::size_t max_records,
      const std::set<pipeline::TopicPartition>& full) override;
  void pause(const std::vector<pipeline::TopicPartition>& partitions) override;
  void resume(const std::vector<pipeline::TopicPartition>& partitions) override;
  core::Status commit(const std::map<pipeline::TopicPartition, std::int64_t>& next_offsets,
                      bool synchronous) override;
  void close() override;

 private:
  std::vector<std::string> topics_;
  std::chrono::milliseconds close_timeout_;
  pipeline::RebalanceListener* listener_ = nullptr;
  std::vector<kafka::TopicPartition> assigned_;  // read in turn, one partition queue each
  std::size_t next_ = 0;                         // the partition the next poll() reads first
  std::unique_ptr<kafka::Consumer> consumer_;
};

// Dead letters through an idempotent acks=all kafka::Producer; write() returns once every letter
// is acknowledged. Runs on the pipeline thread only (delivery callbacks are served by its polls).
class KafkaDeadLetterSink final : public pipeline::DeadLetterSink {
 public:
  KafkaDeadLetterSink(const config::KafkaConfig& kafka, std::string topic);
  core::Status write(const std::vector<pipeline::DeadLetter>& letters,
                     std::stop_token stop) override;

 private:
  std::string topic_;
  std::size_t acknowledged_ = 0;
  core::Status failure_;
  std::unique_ptr<kafka::Producer> producer_;  // last: its destructor flushes into the above
};

}  // namespace sfkb::kafka_adapters
