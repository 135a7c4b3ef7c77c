#include "daemon/ownership/channel_partitions.h"

#include <algorithm>

namespace sfkb::ownership {

std::vector<std::string> channels_in_partition_order(const config::Config& config) {
  std::vector<std::string> channels;
  channels.reserve(config.subscribe.size());
  for (const auto& mapping : config.subscribe) {
    channels.push_back(mapping.channel);
  }
  std::sort(channels.begin(), channels.end());
  return channels;
}

std::string partition_count_problem(const std::string& topic, std::int32_t partitions,
                                    std::size_t channels) {
  if (partitions >= 0 && static_cast<std::size_t>(partitions) >= channels) {
    return {};
  }
  return "coordination topic " + topic + " has " + std::to_string(partitions) +
         " partition(s) for " + std::to_string(channels) +
         " subscribe channel(s): it needs one per channel (add partitions with kafka-topics "
         "--alter --partitions " +
         std::to_string(channels) + ", or name another coordination.topic)";
}

std::set<std::string> channels_of(const std::vector<std::string>& ordered,
                                  const std::vector<std::int32_t>& partitions) {
  std::set<std::string> channels;
  for (const auto partition : partitions) {
    if (partition >= 0 && static_cast<std::size_t>(partition) < ordered.size()) {
      channels.insert(ordered[static_cast<std::size_t>(partition)]);
    }
  }
  return channels;
}

config::Config restricted_to(const config::Config& config, const std::set<std::string>& owned) {
  config::Config copy = config;
  std::erase_if(copy.subscribe, [&owned](const config::SubscribeMapping& mapping) {
    return !owned.contains(mapping.channel);
  });
  return copy;
}

}  // namespace sfkb::ownership
