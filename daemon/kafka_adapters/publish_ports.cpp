#include "daemon/kafka_adapters/publish_ports.h"

#include <algorithm>
#include <set>

#include "daemon/kafka/record_headers.h"
#include "daemon/ops/log.h"

namespace sfkb::kafka_adapters {

using pipeline::DeadLetter;
using pipeline::RebalanceListener;
using pipeline::SourceRecord;
using pipeline::TopicPartition;

namespace {

using std::chrono::milliseconds;

std::vector<kafka::TopicPartition> to_kafka(const std::vector<TopicPartition>& partitions) {
  std::vector<kafka::TopicPartition> out;
  out.reserve(partitions.size());
  for (const auto& tp : partitions) {
    out.push_back({tp.topic, tp.partition});
  }
  return out;
}

std::vector<TopicPartition> from_kafka(const std::vector<kafka::TopicPartition>& partitions) {
  std::vector<TopicPartition> out;
  out.reserve(partitions.size());
  for (const auto& tp : partitions) {
    out.push_back({tp.topic, tp.partition});
  }
  return out;
}

}  // namespace

KafkaPublishConsumer::KafkaPublishConsumer(const config::KafkaConfig& kafka,
                                           const std::string& group_id,
                                           std::vector<std::string> topics,
                                           std::chrono::milliseconds close_timeout)
    : topics_(std::move(topics)), close_timeout_(close_timeout) {
  kafka::RebalanceHooks hooks;
  // Both hooks run on the pipeline thread, inside consumer_->poll() (see kafka/consumer.h).
  hooks.on_assigned = [this](const std::vector<kafka::TopicPartition>& partitions) {
    assigned_.insert(assigned_.end(), partitions.begin(), partitions.end());
    if (listener_ != nullptr) {
      listener_->on_assigned(from_kafka(partitions));
    }
  };
  hooks.on_revoked = [this](const std::vector<kafka::TopicPartition>& partitions) {
    if (listener_ != nullptr) {
      listener_->on_revoked(from_kafka(partitions));
    }
    std::erase_if(assigned_, [&](const kafka::TopicPartition& tp) {
      return std::find(partitions.begin(), partitions.end(), tp) != partitions.end();
    });
  };
  consumer_ = std::make_unique<kafka::Consumer>(kafka::ClientConfig(kafka, kafka::Role::kConsumer),
                                                group_id, std::move(hooks), kafka::Properties{},
                                                /*queue_per_partition=*/true);
}

core::Status KafkaPublishConsumer::subscribe(RebalanceListener& listener) {
  listener_ = &listener;
  return consumer_->subscribe(topics_);
}

core::Result<std::vector<SourceRecord>> KafkaPublishConsumer::poll(
    milliseconds timeout, std::size_t max_records, const std::set<TopicPartition>& full) {
  using Clock = std::chrono::steady_clock;
  // The partition queues cannot wake a wait on the main queue, so a wait is cut into short
  // slices: each serves the main queue (rebalances, heartbeats, commits) and then looks at the
  // partitions.
  constexpr milliseconds kSlice{5};
  const auto deadline = Clock::now() + timeout;
  std::vector<SourceRecord> records;
  auto take = [&](kafka::Message& message) {
    SourceRecord record;
    record.topic = std::string(message.topic());
    record.partition = message.partition();
    record.offset = message.offset();
    if (auto key = message.key()) {
      record.key = std::string(*key);
    }
    if (auto value = message.value()) {
      record.value = std::string(*value);
    }
    records.push_back(std::move(record));
  };
  for (milliseconds wait{0};;) {
    // At least one: the call also serves rebalances and heartbeats; only events come here.
    auto events = consumer_->poll(wait, 1);
    if (!events) {
      return events.error();
    }
    for (auto& message : events.value()) {
      take(message);
    }
    // In turn from the partitions with room, a share each, starting one further every call, so
    // that every partition's records reach the buffer however the fetches came in.
    std::vector<std::size_t> readable;
    for (std::size_t k = 0; k < assigned_.size(); ++k) {
      const auto& tp = assigned_[(next_ + k) % assigned_.size()];
      if (!full.contains({tp.topic, tp.partition})) {
        readable.push_back((next_ + k) % assigned_.size());
      }
    }
    next_ = assigned_.empty() ? 0 : (next_ + 1) % assigned_.size();
    for (bool progress = true; progress && records.size() < max_records;) {
      progress = false;
      const std::size_t share = std::max<std::size_t>(
          1, (max_records - records.size()) / std::max<std::size_t>(1, readable.size()));
      for (const auto index : readable) {
        if (records.size() >= max_records) {
          break;
        }
        auto polled = consumer_->poll_partition(assigned_[index],
                                                std::min(share, max_records - records.size()));
        if (!polled) {
          if (!records.empty()) {
            return records;  // the error shows again on the next poll if it lasts
          }
          return polled.error();
        }
        progress = progress || !polled->empty();
        for (auto& message : polled.value()) {
          take(message);
        }
      }
    }
    const auto now = Clock::now();
    if (!records.empty() || now >= deadline || max_records == 0) {
      return records;
    }
    wait = std::min(kSlice, std::chrono::duration_cast<milliseconds>(deadline - now));
  }
}

void KafkaPublishConsumer::pause(const std::vector<TopicPartition>& partitions) {
  if (auto status = consumer_->pause(to_kafka(partitions)); !status.is_ok()) {
    ops::logger("publish")->warn("pausing partitions failed: {}", status.message());
  }
}

void KafkaPublishConsumer::resume(const std::vector<TopicPartition>& partitions) {
  if (auto status = consumer_->resume(to_kafka(partitions)); !status.is_ok()) {
    ops::logger("publish")->warn("resuming partitions failed: {}", status.message());
  }
}

core::Status KafkaPublishConsumer::commit(
    const std::map<TopicPartition, std::int64_t>& next_offsets, bool synchronous) {
  std::vector<kafka::TopicPartitionOffset> offsets;
  offsets.reserve(next_offsets.size());
  for (const auto& [tp, offset] : next_offsets) {
    offsets.push_back({tp.topic, tp.partition, offset});
  }
  return consumer_->commit(offsets, synchronous, close_timeout_);
}

void KafkaPublishConsumer::close() {
  if (auto status = consumer_->close_within(close_timeout_); !status.is_ok()) {
    ops::logger("publish")->warn("leaving the consumer group: {}", status.message());
  }
}

KafkaDeadLetterSink::KafkaDeadLetterSink(const config::KafkaConfig& kafka, std::string topic)
    : topic_(std::move(topic)),
      producer_(std::make_unique<kafka::Producer>(
          kafka::ClientConfig(kafka, kafka::Role::kProducer), [this](const kafka::Delivery& d) {
            ++acknowledged_;
            if (!d.status.is_ok() && failure_.is_ok()) {
              failure_ = d.status;
            }
          })) {}

core::Status KafkaDeadLetterSink::write(const std::vector<DeadLetter>& letters,
                                        std::stop_token stop) {
  acknowledged_ = 0;
  failure_ = core::Status::ok();
  std::size_t produced = 0;
  for (const auto& letter : letters) {
    const auto& record = *letter.record;
    const std::vector<kafka::Header> headers = {
        {kafka::kHeaderErrorCode, letter.error_code},
        {kafka::kHeaderErrorMessage, letter.error_message},
        {kafka::kHeaderSourceTopic, record.topic},
        {kafka::kHeaderSourcePartition, std::to_string(record.partition)},
        {kafka::kHeaderSourceOffset, std::to_string(record.offset)},
    };
    kafka::OutgoingRecord out;
    out.topic = topic_;
    if (record.key) {
      out.key = std::string_view(*record.key);
    }
    out.value = record.value ? std::string_view(*record.value) : std::string_view();
    out.headers = headers;
    while (true) {
      auto status = producer_->produce(out, {produced, record.offset});
      if (status.is_ok()) {
        ++produced;
        break;
      }
      if (status.kind() != core::ErrorKind::kRetry) {
        // Too large for the producer, or a fatal producer: the record cannot be dead-lettered,
        // so its offset must not be committed.
        return core::fatal_error(
            "dead-lettering " + record.topic + "[" + std::to_string(record.partition) + "]@" +
            std::to_string(record.offset) + " to " + topic_ + " failed: " + status.message());
      }
      if (stop.stop_requested()) {
        return core::Error{core::ErrorKind::kStopped, "stopped while dead-lettering"};
      }
      producer_->poll(milliseconds(10));  // local queue full: let deliveries drain
    }
  }
  while (acknowledged_ < produced) {
    if (stop.stop_requested()) {
      return core::Error{core::ErrorKind::kStopped, "stopped while waiting for dead letters"};
    }
    producer_->poll(milliseconds(100));
  }
  if (!failure_.is_ok()) {
    return core::fatal_error("dead-letter delivery to " + topic_ +
                             " failed: " + failure_.message());
  }
  return core::Status::ok();
}

}  // namespace sfkb::kafka_adapters
