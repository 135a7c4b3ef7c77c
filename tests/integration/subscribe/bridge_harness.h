#pragma once
// What every subscribe integration test needs: an emulated org, a config for the real
// `sf-kafka-bridge` binary pointing at it and at the test broker (started as it::Bridge, see
// tests/integration/support/bridge_process.h), and checks of what ended up in Kafka (exactly once,
// in order, with headers).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "emulator/emulator_process.h"
#include "tests/integration/support/bridge_process.h"
#include "tests/integration/support/bridge_yaml.h"
#include "tests/integration/support/kafka_cluster.h"
#include "tests/integration/support/temp_dir.h"
#include "tests/integration/support/unique_name.h"

namespace sfkb::it::subscribe {

// Event types every test's emulator knows: A__e .. F__e with Text__c and Number__c.
std::string events_yaml();
emulator::testing::EmulatorProcess::Options emulator_options(
    std::vector<std::string> extra_args = {});

struct ChannelSpec {
  std::string channel;  // /event/A__e
  std::string topic;
  std::string key = "none";  // none | event_uuid | replay_id | payload.Field__c
  bool headers = true;
  std::string start = "earliest";
  std::string on_invalid_replay_id = "earliest";
  std::string value = "payload";  // payload | envelope
};

// The connection (emulator URL, credentials, broker, kafka.properties) and the subscribe part.
struct BridgeConfig : BridgeConnection {
  std::string checkpoint_dir;
  std::vector<ChannelSpec> channels;
  std::string checkpoint_interval = "200ms";
  std::string checkpoint_store = "file";  // checkpoint.store: file | kafka
  // checkpoint.topic and coordination.group, unique per config (the transactional IDs derive
  // from the group: tests sharing the broker must not fence each other); copies keep them, so a
  // restart with the same config is the same owner.
  std::string checkpoint_topic = unique_name("sfkb-it-checkpoints");
  std::string coordination_group = unique_name("sfkb-it-group");
  // coordination.enabled; false: the instance writes every channel whatever else runs.
  bool coordination = true;
  std::size_t max_in_flight = 10000;
  std::string log_level = "info";
  // coordination.topic; empty: named after the group and the channel list (a different list
  // needs a topic of its own: one partition per channel).
  std::string coordination_topic;
  std::string session_timeout = "6s";  // the test broker's group.min.session.timeout.ms
};

std::string render_yaml(const BridgeConfig& config);

// For it::Bridge: the config, ready once the pipeline reconciled and logged where each channel
// resumes; SIGTERM waits 10 s for the exit.
BridgeLaunch bridge_launch(const BridgeConfig& config);

// One event as read back from Kafka.
struct Seen {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int64_t replay_id = 0;
  std::optional<std::string> key;
  std::string value;
};

// Records of `topic` grouped by their sf.channel header, each in (partition, offset) order.
std::map<std::string, std::vector<Seen>> by_channel(const std::vector<ConsumedRecord>& records);

// What the test injected into one channel.
struct Injected {
  std::vector<emulator::testing::InjectResult> ranges;
  std::vector<std::size_t> counts;
  std::size_t total = 0;
  void add(const emulator::testing::InjectResult& range, std::size_t count) {
    ranges.push_back(range);
    counts.push_back(count);
    total += count;
  }
};

// Checks that `seen` holds every injected event exactly once: as many records as injected,
// unique replay IDs, each range holding exactly the count injected into it. With `one_partition`
// also that they sit in one partition in strictly increasing replay order; otherwise that each
// partition holds its share in increasing replay order. Returns "" when all is well, else what is
// wrong (for the assertion message).
std::string check_exactly_once(const std::vector<Seen>& seen, const Injected& injected,
                               bool one_partition);

// Reads `topic` until the channel has at least `count` records or the deadline; returns them.
std::vector<Seen> wait_for_channel(KafkaTestCluster& kafka, const std::string& topic,
                                   const std::string& channel, std::size_t count,
                                   std::chrono::milliseconds timeout);

// The replay ID the checkpoint file holds for `channel` (nullopt: no file or no entry).
std::optional<std::int64_t> checkpointed(const std::string& dir, const std::string& channel);

}  // namespace sfkb::it::subscribe
