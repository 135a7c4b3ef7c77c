#pragma once
// Which partition of the coordination topic stands for which subscribe channel (README "Several
// instances", docs/ARCHITECTURE.md "Several instances"). Pure: every instance with the same
// config computes the same answer, which is what lets Kafka's group assignment of partitions
// double as an assignment of channels.

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "daemon/config/config.h"

namespace sfkb::ownership {

// The channels in partition order: partition i stands for the i-th channel sorted by name, so
// the order of the mappings in the file does not matter.
std::vector<std::string> channels_in_partition_order(const config::Config& config);

// Empty when a topic with `partitions` partitions can stand for `channels` channels; else the
// problem, naming both counts and the fix. Extra partitions stand for no channel.
std::string partition_count_problem(const std::string& topic, std::int32_t partitions,
                                    std::size_t channels);

// The channels the partitions stand for (partitions past the channel list stand for none).
std::set<std::string> channels_of(const std::vector<std::string>& ordered,
                                  const std::vector<std::int32_t>& partitions);

// A copy of `config` whose subscribe list holds only the `owned` channels, in the file's order:
// what a subscribe pipeline over the owned set is built from.
config::Config restricted_to(const config::Config& config, const std::set<std::string>& owned);

}  // namespace sfkb::ownership
