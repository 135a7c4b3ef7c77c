#pragma once
// What every subscribe integration test needs: an emulated org, a config for the real
// `sf-kafka-bridge` binary pointing at it and at the test broker, the binary as a child process,
// and checks of what ended up in Kafka (exactly once, in order, with headers).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "emulator/emulator_process.h"
#include "tests/integration/support/kafka_cluster.h"
#include "tests/integration/support/process.h"
#include "tests/integration/support/temp_dir.h"

namespace sfkb::it::subscribe {

// Skips (reported as skipped, with the reason) when the binary was not built into this tree.
#define SFKB_REQUIRE_BRIDGE()                                                                 \
  do {                                                                                        \
    if (::sfkb::it::subscribe::bridge_binary().empty()) {                                     \
      GTEST_SKIP() << "the sf-kafka-bridge executable is not built (set SFKB_BRIDGE_BINARY)"; \
    }                                                                                         \
  } while (0)

std::string bridge_binary();

// Event types every test's emulator knows: A__e .. E__e with Text__c and Number__c.
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

struct BridgeConfig {
  std::string salesforce_url;  // the emulator's base URL
  std::string access_token;    // access_token flow; empty: client_credentials with the two below
  std::string client_id;
  std::string client_secret;
  std::string bootstrap;
  std::string checkpoint_dir;
  std::vector<ChannelSpec> channels;
  std::string checkpoint_interval = "200ms";
  std::size_t max_in_flight = 10000;
  std::map<std::string, std::string> kafka_properties;
  std::string log_level = "info";
};

std::string render_yaml(const BridgeConfig& config);

// The bridge as a child process: `sf-kafka-bridge run --config <file>`.
class Bridge {
 public:
  Bridge(const BridgeConfig& config, const TempDir& dir, const std::string& name = "bridge");
  Process& process() { return *process_; }
  // Waits until the pipeline reconciled and logged where each channel resumes.
  bool wait_started(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // SIGTERM and the exit code (nullopt: did not exit within `timeout`).
  std::optional<int> terminate(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  int kill() { return process_->kill(); }
  std::string output() const { return process_->output(); }

 private:
  std::unique_ptr<Process> process_;
  std::size_t channels_ = 0;
};

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

// kB of VmRSS / VmHWM of a process (0 if unreadable).
std::int64_t proc_status_kb(int pid, const std::string& field);

// The replay ID the checkpoint file holds for `channel` (nullopt: no file or no entry).
std::optional<std::int64_t> checkpointed(const std::string& dir, const std::string& channel);

}  // namespace sfkb::it::subscribe
