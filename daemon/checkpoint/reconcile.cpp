#include "daemon/checkpoint/reconcile.h"

#include <algorithm>

namespace sfkb::checkpoint {
namespace {

struct PartitionScan {
  std::optional<std::int64_t> newest;  // newest replay ID of the channel in the partition
  bool truncated = false;              // stopped at the scan bound, not at a proof
};

// Reads `partition` back from its newest record. Replay IDs of the channel above `floor` go into
// `skip` when `collect` is set; the scan ends at the first record of the channel at or below
// `floor` (everything older is at or below it too: a partition holds a channel in replay order).
// Without a floor it ends at the channel's newest record unless `collect`.
core::Result<PartitionScan> scan(KafkaTail& kafka, const std::string& topic, std::int32_t partition,
                                 const std::string& channel, std::optional<std::int64_t> floor,
                                 bool collect, std::set<std::int64_t>* skip, std::int64_t& scanned,
                                 std::int64_t max_records) {
  PartitionScan result;
  std::int64_t seen = 0;
  auto status = kafka.read_backwards(topic, partition, [&](const TailRecord& record) {
    ++seen;
    if (seen > max_records) {
      result.truncated = true;
      return false;
    }
    if (!record.channel || *record.channel != channel || !record.replay_id) {
      return true;
    }
    std::int64_t id = *record.replay_id;
    if (!result.newest) {
      result.newest = id;
    }
    if (floor && id <= *floor) {
      return false;
    }
    if (!collect) {
      return false;
    }
    skip->insert(id);
    return true;
  });
  scanned += std::min(seen, max_records);
  if (!status) {
    return status.error();
  }
  return result;
}

std::string bound_warning(const std::string& topic, std::int32_t partition, std::int64_t max) {
  return "stopped reading " + topic + "[" + std::to_string(partition) + "] back after " +
         std::to_string(max) + " records; the resume point rests on the checkpoint file";
}

core::Status reconcile_single(const config::SubscribeMapping& mapping, std::int32_t partitions,
                              const Checkpoints& file, KafkaTail& kafka,
                              const ReconcileOptions& options, ChannelResume& out) {
  // Any warning about a changed partition count is the pipeline's to log, once, at start-up.
  std::int32_t partition =
      choose_channel_partition(mapping.channel, partitions, file, options.partition_for_channel)
          .partition;
  out.partition = partition;
  auto result = scan(kafka, out.topic, partition, mapping.channel, std::nullopt, false, nullptr,
                     out.records_scanned, options.max_records_per_partition);
  if (!result) {
    return result.error();
  }
  out.kafka_newest = result->newest;
  if (result->truncated) {
    out.warnings.push_back(bound_warning(out.topic, partition, options.max_records_per_partition));
  }
  out.resume = out.file;
  if (result->newest && (!out.resume || *result->newest > *out.resume)) {
    out.resume = result->newest;
  }
  return core::Status::ok();
}

core::Status reconcile_multi(const config::SubscribeMapping& mapping, std::int32_t partitions,
                             KafkaTail& kafka, const ReconcileOptions& options,
                             ChannelResume& out) {
  std::optional<std::int64_t> floor = out.file;
  if (!floor) {
    // No file: first find each partition's newest record of the channel; the lowest of them is
    // the best floor Kafka can offer.
    std::optional<std::int64_t> lowest;
    for (std::int32_t p = 0; p < partitions; ++p) {
      auto result = scan(kafka, out.topic, p, mapping.channel, std::nullopt, false, nullptr,
                         out.records_scanned, options.max_records_per_partition);
      if (!result) {
        return result.error();
      }
      if (result->newest) {
        lowest = lowest ? std::min(*lowest, *result->newest) : *result->newest;
        out.kafka_newest =
            out.kafka_newest ? std::max(*out.kafka_newest, *result->newest) : *result->newest;
      }
    }
    if (!lowest) {
      return core::Status::ok();  // nothing in Kafka: the configured start
    }
    floor = lowest;
    out.warnings.push_back(
        "no checkpoint for a channel spread over " + std::to_string(partitions) +
        " partitions: resuming after the lowest per-partition newest replay ID " +
        std::to_string(*lowest) +
        "; an event sent to a partition that holds nothing of the channel cannot be accounted "
        "for");
  }
  out.resume = floor;
  out.kafka_newest.reset();
  for (std::int32_t p = 0; p < partitions; ++p) {
    auto result = scan(kafka, out.topic, p, mapping.channel, floor, true, &out.skip,
                       out.records_scanned, options.max_records_per_partition);
    if (!result) {
      return result.error();
    }
    if (result->newest) {
      out.kafka_newest =
          out.kafka_newest ? std::max(*out.kafka_newest, *result->newest) : *result->newest;
    }
    if (result->truncated) {
      out.warnings.push_back(bound_warning(out.topic, p, options.max_records_per_partition));
    }
  }
  return core::Status::ok();
}

}  // namespace

const char* to_string(ResumeMode mode) {
  switch (mode) {
    case ResumeMode::kSinglePartition:
      return "single-partition";
    case ResumeMode::kMultiPartition:
      return "multi-partition";
    case ResumeMode::kFileOnly:
      return "file-only";
  }
  return "?";
}

ChannelPartition choose_channel_partition(const std::string& channel, std::int32_t partition_count,
                                          const Checkpoints& file,
                                          const PartitionForChannel& hash) {
  ChannelPartition out;
  out.partition = hash(channel, partition_count);
  auto it = file.find(channel);
  if (it == file.end() || !it->second.partition || *it->second.partition == out.partition) {
    return out;
  }
  const std::int32_t pinned = *it->second.partition;
  const std::string count = std::to_string(partition_count);
  if (pinned < partition_count) {
    out.warning = "the topic has " + count + " partitions now, so the channel name hashes to " +
                  std::to_string(out.partition) + "; the channel stays on partition " +
                  std::to_string(pinned) +
                  " (pinned in the checkpoint file) to keep its order and exact resume";
    out.partition = pinned;
  } else {
    out.warning = "the checkpoint file pins the channel to partition " + std::to_string(pinned) +
                  " but the topic has only " + count +
                  " partitions (was it re-created?); writing to partition " +
                  std::to_string(out.partition) + " from now on";
  }
  return out;
}

core::Result<std::vector<ChannelResume>> reconcile(const config::Config& config,
                                                   const Checkpoints& file, KafkaTail& kafka,
                                                   const ReconcileOptions& options) {
  std::vector<ChannelResume> out;
  for (const auto& mapping : config.subscribe) {
    ChannelResume resume;
    resume.channel = mapping.channel;
    resume.topic = config::full_topic(config.kafka, mapping.topic);
    if (auto it = file.find(mapping.channel); it != file.end()) {
      resume.file = it->second.replay_id;
    }
    if (!mapping.headers) {
      resume.mode = ResumeMode::kFileOnly;
      resume.resume = resume.file;
      resume.warnings.push_back(
          "headers are off for this mapping, so Kafka cannot be read back by channel: "
          "Kafka-tail reconciliation is off and the checkpoint file alone decides");
      out.push_back(std::move(resume));
      continue;
    }
    auto partitions = kafka.partition_count(resume.topic);
    if (!partitions) {
      return partitions.error();
    }
    bool single = mapping.key == config::KeyKind::kNone;
    resume.mode = single ? ResumeMode::kSinglePartition : ResumeMode::kMultiPartition;
    core::Status status =
        single ? reconcile_single(mapping, partitions.value(), file, kafka, options, resume)
               : reconcile_multi(mapping, partitions.value(), kafka, options, resume);
    if (!status) {
      return status.error();
    }
    out.push_back(std::move(resume));
  }
  return out;
}

}  // namespace sfkb::checkpoint
