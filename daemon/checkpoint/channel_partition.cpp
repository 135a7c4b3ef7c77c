#include "daemon/checkpoint/channel_partition.h"

namespace sfkb::checkpoint {

bool single_partition_per_channel(const config::SubscribeMapping& mapping) {
  return mapping.key == config::KeyKind::kNone;
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

}  // namespace sfkb::checkpoint
