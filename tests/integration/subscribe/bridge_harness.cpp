#include "tests/integration/subscribe/bridge_harness.h"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "daemon/checkpoint/file_store.h"

namespace sfkb::it::subscribe {

std::string events_yaml() {
  std::string out = "events:\n";
  for (const char* name : {"A__e", "B__e", "C__e", "D__e", "E__e", "F__e"}) {
    out += std::string("  ") + name + ":\n    Text__c: string\n    Number__c: number\n";
  }
  return out;
}

emulator::testing::EmulatorProcess::Options emulator_options(std::vector<std::string> extra_args) {
  emulator::testing::EmulatorProcess::Options options;
  options.events_yaml = events_yaml();
  options.extra_args = std::move(extra_args);
  if (std::find(options.extra_args.begin(), options.extra_args.end(), "--connect-timeout-ms") ==
      options.extra_args.end()) {
    // Short idle long polls keep every test brisk; the SIGTERM test sets its own long one.
    options.extra_args.push_back("--connect-timeout-ms");
    options.extra_args.push_back("2000");
  }
  return options;
}

std::string render_yaml(const BridgeConfig& config) {
  std::ostringstream y;
  write_salesforce_and_kafka_yaml(y, config);
  y << "checkpoint:\n"
    << "  directory: " << yaml_quoted(config.checkpoint_dir) << "\n"
    << "  interval: " << config.checkpoint_interval << "\n"
    << "  store: " << config.checkpoint_store << "\n"
    << "  topic: " << yaml_quoted(config.checkpoint_topic) << "\n"
    << "limits:\n"
    << "  max_in_flight_events: " << config.max_in_flight << "\n"
    << "subscribe:\n";
  for (const auto& channel : config.channels) {
    y << "  - channel: " << yaml_quoted(channel.channel) << "\n"
      << "    topic: " << yaml_quoted(channel.topic) << "\n"
      << "    start: " << channel.start << "\n"
      << "    key: " << channel.key << "\n"
      << "    value: " << channel.value << "\n"
      << "    headers: " << (channel.headers ? "true" : "false") << "\n"
      << "    on_invalid_replay_id: " << channel.on_invalid_replay_id << "\n";
  }
  // A different channel list needs a coordination topic of its own (one partition per channel).
  std::set<std::string> channel_names;
  for (const auto& channel : config.channels) {
    channel_names.insert(channel.channel);
  }
  std::string joined;
  for (const auto& name : channel_names) {
    joined += name + ",";
  }
  const std::string stem =
      config.coordination_group + "." + std::to_string(std::hash<std::string>{}(joined) % 100000);
  y << "coordination:\n"
    << "  enabled: " << (config.coordination ? "true" : "false") << "\n"
    << "  group: " << yaml_quoted(config.coordination_group) << "\n"
    << "  topic: "
    << yaml_quoted(config.coordination_topic.empty() ? stem + ".channels"
                                                     : config.coordination_topic)
    << "\n"
    << "  session_timeout: " << config.session_timeout << "\n";
  y << "http:\n"
    << "  listen: \"\"\n"
    << "logging:\n"
    << "  level: " << config.log_level << "\n";
  return y.str();
}

BridgeLaunch bridge_launch(const BridgeConfig& config) {
  BridgeLaunch launch;
  launch.yaml = render_yaml(config);
  launch.ready_line = "resume_after=";
  launch.ready_count = config.channels.size();
  launch.stop_timeout = std::chrono::seconds(10);
  return launch;
}

std::map<std::string, std::vector<Seen>> by_channel(const std::vector<ConsumedRecord>& records) {
  std::map<std::string, std::vector<Seen>> out;
  for (const auto& record : records) {
    auto channel = record.header("sf.channel");
    auto replay = record.header("sf.replay_id");
    if (!channel || !replay) {
      continue;
    }
    Seen seen;
    seen.partition = record.partition;
    seen.offset = record.offset;
    seen.replay_id = std::stoll(*replay);
    seen.key = record.key;
    seen.value = record.value_or_empty();
    out[*channel].push_back(std::move(seen));
  }
  return out;
}

std::string check_exactly_once(const std::vector<Seen>& seen, const Injected& injected,
                               bool one_partition) {
  std::ostringstream problems;
  if (seen.size() != injected.total) {
    problems << "expected " << injected.total << " records, Kafka holds " << seen.size() << "; ";
  }
  std::set<std::int64_t> unique;
  std::size_t duplicates = 0;
  for (const auto& s : seen) {
    if (!unique.insert(s.replay_id).second) {
      if (duplicates++ < 5) {
        problems << "duplicate replay_id " << s.replay_id << " (partition " << s.partition
                 << " offset " << s.offset << "); ";
      }
    }
  }
  if (duplicates > 0) {
    problems << duplicates << " duplicate(s) in all; ";
  }
  for (std::size_t i = 0; i < injected.ranges.size(); ++i) {
    const auto& range = injected.ranges[i];
    auto lo = unique.lower_bound(range.first_replay_id);
    auto hi = unique.upper_bound(range.last_replay_id);
    auto n = static_cast<std::size_t>(std::distance(lo, hi));
    if (n != injected.counts[i]) {
      problems << "range [" << range.first_replay_id << "," << range.last_replay_id << "] holds "
               << n << " of " << injected.counts[i] << " injected; ";
    }
  }
  std::map<std::int32_t, std::int64_t> last_by_partition;
  std::size_t out_of_order = 0;
  for (const auto& s : seen) {
    auto it = last_by_partition.find(s.partition);
    if (it != last_by_partition.end() && s.replay_id <= it->second && out_of_order++ < 5) {
      problems << "partition " << s.partition << " offset " << s.offset << " has replay_id "
               << s.replay_id << " after " << it->second << "; ";
    }
    last_by_partition[s.partition] = s.replay_id;
  }
  if (one_partition && last_by_partition.size() > 1) {
    problems << "the channel is spread over " << last_by_partition.size() << " partitions; ";
  }
  return problems.str();
}

std::vector<Seen> wait_for_channel(KafkaTestCluster& kafka, const std::string& topic,
                                   const std::string& channel, std::size_t count,
                                   std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<Seen> seen;
  while (true) {
    auto grouped = by_channel(kafka.read_all(topic));
    seen = grouped[channel];
    if (seen.size() >= count || std::chrono::steady_clock::now() >= deadline) {
      return seen;
    }
    // read_all is itself a round trip to the broker; a short pause keeps it from spinning.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

std::optional<std::int64_t> checkpointed(const std::string& dir, const std::string& channel) {
  checkpoint::FileStore store(dir);
  auto loaded = store.load();
  if (!loaded) {
    return std::nullopt;
  }
  auto it = loaded->find(channel);
  if (it == loaded->end()) {
    return std::nullopt;
  }
  return it->second.replay_id.number();
}

}  // namespace sfkb::it::subscribe
