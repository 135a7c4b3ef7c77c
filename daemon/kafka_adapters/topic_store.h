#pragma once
// checkpoint.store: kafka (docs/ARCHITECTURE.md §4): each channel's position lives in a compacted
// topic, keyed by the channel name, the value one checkpoint entry (checkpoint/file_store.h,
// encode_checkpoint_entry). The positions are written by the channel's transactional producer in
// the same transaction as its records (transactional_producer.h), so save() writes nothing: data
// and position commit together or not at all. load() reads the topic with read_committed.
//
// Migration from the file store: a channel without a position in the topic takes the one in the
// checkpoint file (`seed`), if any; its first committed transaction then writes it to the topic.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "daemon/checkpoint/store.h"
#include "daemon/config/config.h"
#include "daemon/kafka/message.h"

namespace sfkb::kafka_adapters {

class TopicStore final : public checkpoint::CheckpointStore {
 public:
  // `topic`: the full name (kafka.topic_prefix included). `seed`: the file store read for
  // channels the topic does not know yet (nullptr: none).
  TopicStore(const config::KafkaConfig& kafka, std::string topic,
             std::unique_ptr<checkpoint::CheckpointStore> seed,
             std::chrono::milliseconds timeout = std::chrono::seconds(15));

  // kFatal when the topic is missing or holds an entry that does not decode; kRetry when Kafka
  // does not answer in time.
  core::Result<checkpoint::Checkpoints> load() override;
  // Nothing to do: positions are written in the channels' transactions.
  core::Status save(const checkpoint::Checkpoints& checkpoints) override;
  std::string location() const override;

 private:
  config::KafkaConfig kafka_;
  std::string topic_;
  std::unique_ptr<checkpoint::CheckpointStore> seed_;
  std::chrono::milliseconds timeout_;
};

// The checkpoint topic's records (in offset order per partition) -> the latest entry per
// channel; a null value (a tombstone) removes the channel. Pure.
core::Result<checkpoint::Checkpoints> positions_from_records(
    const std::vector<kafka::Record>& records, const std::string& topic);

// The topic's positions, plus the seed's for channels the topic has none of. Pure.
checkpoint::Checkpoints seeded_positions(checkpoint::Checkpoints topic,
                                         const checkpoint::Checkpoints& seed);

}  // namespace sfkb::kafka_adapters
