#pragma once
// The key-less partition rule, in one place (docs/ARCHITECTURE.md §1: one partition per channel
// keeps the channel in replay order, and makes its newest record there an exact resume point).
//
//  - Which mappings: `key: none`. A keyed mapping spreads its channel over the topic's partitions
//    by key; an event whose key field is missing also goes to the channel's partition.
//  - Which partition: the one pinned in the checkpoint file while the topic still has it, else
//    the channel name hashed like Kafka's Java default partitioner, so any Kafka client can
//    recompute it (the hash itself is kafka/partitioner.h, handed in by the composition root as
//    kafka_adapters::partition_by_channel_name: this module does not link librdkafka).
//
// The subscribe pipeline writes with this rule and start-up reconciliation reads back with it:
// both must ask these functions, never decide on their own.

#include <cstdint>
#include <functional>
#include <string>

#include "daemon/checkpoint/store.h"
#include "daemon/config/config.h"

namespace sfkb::checkpoint {

// True when the mapping sends every event of its channel to one partition (no key), which makes
// the newest record of that partition an exact resume point (docs/ARCHITECTURE.md §4).
bool single_partition_per_channel(const config::SubscribeMapping& mapping);

// The hash of a channel name to a partition; a parameter so that tests can choose the partition.
using PartitionForChannel =
    std::function<std::int32_t(const std::string& channel, std::int32_t partition_count)>;

struct ChannelPartition {
  std::int32_t partition = 0;
  std::string warning;  // non-empty when the topic's partition count changed under the channel
};

// The partition of a key-less channel: the one pinned in the checkpoint file while it still
// exists, else the hash of the channel name.
ChannelPartition choose_channel_partition(const std::string& channel, std::int32_t partition_count,
                                          const Checkpoints& file, const PartitionForChannel& hash);

}  // namespace sfkb::checkpoint
