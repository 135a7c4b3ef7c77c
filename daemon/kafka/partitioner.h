#pragma once
// The partition of a channel's records when they have no key (docs/ARCHITECTURE.md §1: one
// partition per channel keeps the channel in replay order). Pure and stable across versions,
// platforms and restarts: it is Kafka's Java default partitioner applied to the channel name -
// (murmur2(bytes) & 0x7fffffff) % partition_count - so any Kafka client can recompute it.

#include <cstdint>
#include <string_view>

namespace sfkb::kafka {

// Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), as a signed 32-bit value.
std::int32_t murmur2(std::string_view data);

// In [0, partition_count); 0 when partition_count <= 0.
std::int32_t partition_for_channel(std::string_view channel, std::int32_t partition_count);

}  // namespace sfkb::kafka
