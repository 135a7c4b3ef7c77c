#include "daemon/kafka_adapters/topic_store.h"

#include <limits>

#include "daemon/checkpoint/file_store.h"
#include "daemon/kafka/client_config.h"
#include "daemon/kafka/consumer.h"
#include "daemon/ops/log.h"

namespace sfkb::kafka_adapters {

TopicStore::TopicStore(const config::KafkaConfig& kafka, std::string topic,
                       std::unique_ptr<checkpoint::CheckpointStore> seed,
                       std::chrono::milliseconds timeout)
    : kafka_(kafka), topic_(std::move(topic)), seed_(std::move(seed)), timeout_(timeout) {}

std::string TopicStore::location() const {
  return "Kafka topic " + topic_;
}

core::Status TopicStore::save(const checkpoint::Checkpoints&) {
  return core::Status::ok();
}

core::Result<checkpoint::Checkpoints> TopicStore::load() {
  // isolation.level=read_committed (kafka::ClientConfig): an aborted position is never read.
  kafka::TailReader reader(kafka::ClientConfig(kafka_, kafka::Role::kConsumer));
  auto count = reader.partition_count(topic_, timeout_);
  if (!count) {
    if (count.error().kind == core::ErrorKind::kRetry) {
      return count.error();
    }
    return core::fatal_error("checkpoint topic " + topic_ +
                             " cannot be read: " + count.error().message +
                             " (checkpoint.store: kafka; `run` creates it when missing)");
  }
  std::vector<kafka::Record> records;
  for (std::int32_t partition = 0; partition < count.value(); ++partition) {
    auto read =
        reader.read_range(topic_, partition, 0, std::numeric_limits<std::int64_t>::max(), timeout_);
    if (!read) {
      return read.error();
    }
    records.insert(records.end(), std::make_move_iterator(read->begin()),
                   std::make_move_iterator(read->end()));
  }
  auto positions = positions_from_records(records, topic_);
  if (!positions || !seed_) {
    return positions;
  }
  auto seed = seed_->load();
  if (!seed) {
    return seed.error();
  }
  for (const auto& [channel, entry] : seed.value()) {
    if (positions->count(channel) == 0) {
      ops::logger("checkpoint")
          ->info("channel {} has no position in {} yet: starting from {} of {} (migration)",
                 channel, topic_, entry.replay_id.text(), seed_->location());
    }
  }
  return seeded_positions(std::move(positions).value(), seed.value());
}

core::Result<checkpoint::Checkpoints> positions_from_records(
    const std::vector<kafka::Record>& records, const std::string& topic) {
  checkpoint::Checkpoints out;
  for (const auto& record : records) {
    if (!record.key) {
      continue;  // not written by the bridge: every position is keyed by its channel
    }
    if (!record.value) {
      out.erase(*record.key);
      continue;
    }
    auto entry = checkpoint::decode_checkpoint_entry(*record.value, *record.key,
                                                     "checkpoint topic " + topic + " record " +
                                                         std::to_string(record.partition) + "@" +
                                                         std::to_string(record.offset));
    if (!entry) {
      return entry.error();
    }
    out[*record.key] = std::move(entry).value();
  }
  return out;
}

checkpoint::Checkpoints seeded_positions(checkpoint::Checkpoints topic,
                                         const checkpoint::Checkpoints& seed) {
  for (const auto& [channel, entry] : seed) {
    topic.emplace(channel, entry);  // keeps the topic's own
  }
  return topic;
}

}  // namespace sfkb::kafka_adapters
