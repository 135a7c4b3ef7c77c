// The delivery contract (docs/ARCHITECTURE.md §1): exactly once, in order, with headers - across
// SIGTERM, kill -9 and a lost checkpoint file, for a key-less channel (one partition) and a payload
// key over 4 partitions.

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "daemon/kafka/partitioner.h"
#include "tests/integration/subscribe/bridge_harness.h"
#include "tests/integration/support/unique_name.h"
#include "tests/support/seed.h"
#include "tests/support/wait.h"

namespace sfkb::it::subscribe {
namespace {

using namespace std::chrono_literals;
using emulator::testing::EmulatorProcess;

constexpr auto kLong = 90s;

class SubscribeDelivery : public ::testing::Test {
 protected:
  void SetUp() override {
    SFKB_REQUIRE_KAFKA();
    SFKB_REQUIRE_BRIDGE();
    kafka_ = std::make_unique<KafkaTestCluster>();
  }
  // Every channel over `api_` (CometD unless a parameterised test below sets it).
  BridgeConfig config_for(const EmulatorProcess& sf, std::vector<ChannelSpec> channels) {
    BridgeConfig config;
    config.salesforce_url = sf.base_url();
    config.bootstrap = kafka_->bootstrap();
    config.checkpoint_dir = dir_.file("state");
    if (api_ == Api::kPubsub) {
      config.pubsub_endpoint = pubsub_endpoint(sf);
      // Every Pub/Sub call names the org: a token response with an identity URL.
      config.client_id = "cid";
      config.client_secret = "csecret";
      for (auto& channel : channels) {
        channel.api = "pubsub";
      }
    } else {
      config.access_token = sf.static_token();
    }
    config.channels = std::move(channels);
    return config;
  }
  // Injects `total` events in chunks, from a thread, while the test does other things.
  std::thread inject_in_background(EmulatorProcess& sf, const std::string& channel,
                                   std::size_t total, std::size_t chunk, Injected& out,
                                   std::chrono::milliseconds pace = 50ms) {
    return std::thread([&sf, channel, total, chunk, &out, pace] {
      for (std::size_t done = 0; done < total; done += chunk) {
        std::size_t n = std::min(chunk, total - done);
        out.add(sf.inject(channel, n, R"({"Text__c":"k{n}","Number__c":1})"), n);
        // Pacing spreads the stream over the crashes below; nothing waits on it.
        std::this_thread::sleep_for(pace);
      }
    });
  }

  // Runs a bridge until `channel` holds `count` records of `topic`, then stops it with SIGTERM
  // and expects exit 0. `expect_log`, when given, must appear in its output once it started.
  void run_until(const BridgeConfig& config, const std::string& name, const std::string& topic,
                 const std::string& channel, std::size_t count,
                 const std::string& expect_log = "") {
    Bridge bridge(config, dir_, name);
    ASSERT_TRUE(bridge.wait_ready()) << bridge.output();
    if (!expect_log.empty()) {
      EXPECT_TRUE(bridge.process().wait_for_output(expect_log, 1s)) << bridge.output();
    }
    wait_for_channel(*kafka_, topic, channel, count, kLong);
    ASSERT_EQ(bridge.terminate(), 0) << bridge.output();
  }

  TempDir dir_{"sfkb-it-subscribe"};
  std::unique_ptr<KafkaTestCluster> kafka_;
  Api api_ = Api::kCometd;
};

// The delivery contract is the API's too (README.md "Choosing the API"): the resume rule, the
// Kafka-tail reconciliation and kill -9 run over CometD and over the Pub/Sub API, the same tests.
class SubscribeDeliveryOverApi : public SubscribeDelivery,
                                 public ::testing::WithParamInterface<Api> {
 protected:
  SubscribeDeliveryOverApi() { api_ = GetParam(); }
};
INSTANTIATE_TEST_SUITE_P(Api, SubscribeDeliveryOverApi,
                         ::testing::Values(Api::kCometd, Api::kPubsub),
                         [](const ::testing::TestParamInfo<Api>& info) {
                           return to_string(info.param);
                         });

TEST_F(SubscribeDelivery, TenThousandEventsOnThreeChannelsArriveOnceInOrderWithHeaders) {
  // Given three channels sharing one 3-partition topic,
  EmulatorProcess sf(emulator_options());
  const std::string topic = unique_name("sub-three");
  kafka_->create_topic(topic, 3);
  const std::vector<std::string> channels = {"/event/A__e", "/event/B__e", "/event/C__e"};
  std::vector<ChannelSpec> specs;
  for (const auto& channel : channels) {
    specs.push_back({channel, topic});
  }
  Bridge bridge(config_for(sf, specs), dir_);
  ASSERT_TRUE(bridge.wait_ready()) << bridge.output();

  // when 10,000 events are injected while the bridge runs,
  std::map<std::string, Injected> injected;
  for (int round = 0; round < 10; ++round) {
    for (std::size_t c = 0; c < channels.size(); ++c) {
      std::size_t n = c == 0 ? 334 : 333;
      injected[channels[c]].add(
          sf.inject(channels[c], n, R"({"Text__c":"r)" + std::to_string(round) + R"(-{seq}"})"), n);
    }
  }
  for (const auto& channel : channels) {
    wait_for_channel(*kafka_, topic, channel, injected[channel].total, kLong);
  }
  ASSERT_EQ(bridge.terminate(), 0) << bridge.output();

  // then each channel holds each event once, in replay order, in one partition, with headers,
  const auto records = kafka_->read_all(topic);
  auto grouped = by_channel(records);
  for (const auto& channel : channels) {
    EXPECT_EQ(check_exactly_once(grouped[channel], injected[channel], true), "") << channel;
    ASSERT_FALSE(grouped[channel].empty());
    // and the final checkpoint is the channel's last event.
    EXPECT_EQ(checkpointed(dir_.file("state"), channel), grouped[channel].back().replay_id);
  }
  ASSERT_EQ(records.size(), 10000u);
  const auto& first = records.front();
  EXPECT_TRUE(first.header("sf.event_uuid").has_value());
  EXPECT_TRUE(first.header("sf.schema").has_value());
  EXPECT_TRUE(first.header("sf.created_date").has_value());
  EXPECT_FALSE(first.key.has_value());
  EXPECT_NE(first.value_or_empty().find("\"Text__c\":\"r0-"), std::string::npos)
      << first.value_or_empty();
}

TEST_P(SubscribeDeliveryOverApi, SigtermMidStreamWritesTheFinalCheckpointAndRestartLosesNothing) {
  EmulatorProcess sf(emulator_options());
  const std::string topic = unique_name("sub-sigterm");
  const std::string channel = "/event/A__e";
  kafka_->create_topic(topic, 2);
  auto config = config_for(sf, {{channel, topic}});
  config.checkpoint_interval = "10s";  // only the final checkpoint can be right after the stop

  Injected injected;
  std::thread injector = inject_in_background(sf, channel, 12000, 400, injected);
  {
    Bridge bridge(config, dir_, "first");
    ASSERT_TRUE(bridge.wait_ready()) << bridge.output();
    wait_for_channel(*kafka_, topic, channel, 2000, kLong);
    const auto started = std::chrono::steady_clock::now();
    auto code = bridge.terminate(5s);
    const auto took = std::chrono::steady_clock::now() - started;
    ASSERT_EQ(code, 0) << bridge.output();
    EXPECT_LT(took, 2s) << bridge.output();
    // The final checkpoint holds exactly what Kafka holds of the channel (one partition).
    auto seen = by_channel(kafka_->read_all(topic))[channel];
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(checkpointed(dir_.file("state"), channel), seen.back().replay_id) << bridge.output();
  }
  injector.join();
  ASSERT_NO_FATAL_FAILURE(run_until(config, "second", topic, channel, injected.total));
  EXPECT_EQ(check_exactly_once(by_channel(kafka_->read_all(topic))[channel], injected, true), "");
}

TEST_F(SubscribeDelivery, SigtermDuringAnIdleLongPollExitsWithinTwoSeconds) {
  EmulatorProcess sf(emulator_options({"--connect-timeout-ms", "60000"}));
  const std::string topic = unique_name("sub-idle");
  const std::string channel = "/event/A__e";
  kafka_->create_topic(topic, 1);
  Bridge bridge(config_for(sf, {{channel, topic}}), dir_);
  ASSERT_TRUE(bridge.wait_ready()) << bridge.output();
  Injected injected;
  injected.add(sf.inject(channel, 1, R"({"Text__c":"x"})"), 1);
  ASSERT_EQ(wait_for_channel(*kafka_, topic, channel, 1, kLong).size(), 1u);
  // The bridge is now waiting in a long poll that would last 60 s.
  ASSERT_TRUE(test_support::wait_until(
      [&] { return sf.stats().find("\"/meta/connect\"") != std::string::npos; }, 10s));
  const auto started = std::chrono::steady_clock::now();
  auto code = bridge.terminate(10s);
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(code, 0) << bridge.output();
  EXPECT_LT(took, 2s) << bridge.output();
  EXPECT_EQ(checkpointed(dir_.file("state"), channel), injected.ranges[0].last_replay_id);
}

TEST_P(SubscribeDeliveryOverApi, KillNineFiveTimesDuringAStreamLosesAndDuplicatesNothing) {
  EmulatorProcess sf(emulator_options());
  const std::string topic = unique_name("sub-kill9");
  const std::string channel = "/event/A__e";
  kafka_->create_topic(topic, 3);
  auto config = config_for(sf, {{channel, topic}});
  config.checkpoint_interval = "100ms";

  Injected injected;
  constexpr std::size_t kTotal = 15000;
  std::thread injector = inject_in_background(sf, channel, kTotal, 300, injected, 60ms);
  SCOPED_TRACE(test_support::seed_note());
  std::mt19937 random(test_support::test_seed());
  std::size_t last_count = 0;
  CrashLoop loop;
  loop.crashes = 5;
  loop.max_delay = 300ms;
  // Let it make progress, then kill it at a random moment of the stream.
  loop.progressed = [&](Bridge&, int) {
    // Capped at the total: once everything is in, a crash at the tail is a moment like any.
    last_count = wait_for_channel(*kafka_, topic, channel,
                                  std::min<std::size_t>(last_count + 200, kTotal), kLong)
                     .size();
  };
  ASSERT_NO_FATAL_FAILURE(crash_repeatedly(config, dir_, loop, random));
  injector.join();
  ASSERT_NO_FATAL_FAILURE(run_until(config, "final", topic, channel, injected.total));
  EXPECT_EQ(check_exactly_once(by_channel(kafka_->read_all(topic))[channel], injected, true), "");
}

TEST_P(SubscribeDeliveryOverApi, DeletedCheckpointResumesFromKafkasTailWithoutDuplicates) {
  EmulatorProcess sf(emulator_options());
  const std::string topic = unique_name("sub-nofile");
  const std::string channel = "/event/A__e";
  kafka_->create_topic(topic, 3);
  auto config = config_for(sf, {{channel, topic}});

  Injected injected;
  injected.add(sf.inject(channel, 3000, R"({"Text__c":"a{seq}"})"), 3000);
  ASSERT_NO_FATAL_FAILURE(run_until(config, "first", topic, channel, 3000));
  // A dyno restart: the disk is wiped.
  std::filesystem::remove_all(dir_.file("state"));
  injected.add(sf.inject(channel, 2000, R"({"Text__c":"b{seq}"})"), 2000);
  ASSERT_NO_FATAL_FAILURE(run_until(config, "second", topic, channel, 5000, "checkpoint=none"));
  EXPECT_EQ(check_exactly_once(by_channel(kafka_->read_all(topic))[channel], injected, true), "");
}

TEST_F(SubscribeDelivery, AddingPartitionsKeepsAKeylessChannelOnItsPinnedPartition) {
  EmulatorProcess sf(emulator_options());
  const std::string topic = unique_name("sub-grow");
  const std::string channel = "/event/A__e";
  kafka_->create_topic(topic, 1);
  auto config = config_for(sf, {{channel, topic}});

  Injected injected;
  injected.add(sf.inject(channel, 500, R"({"Text__c":"a{seq}"})"), 500);
  ASSERT_NO_FATAL_FAILURE(run_until(config, "first", topic, channel, 500));
  // Grow the topic to a count under which the channel name hashes away from partition 0.
  int grown = 2;
  while (kafka::partition_for_channel(channel, grown) == 0) {
    ++grown;
  }
  kafka_->add_partitions(topic, grown);

  // The operator's view: the channel is pinned to partition 0 and nothing is missing.
  const auto last = by_channel(kafka_->read_all(topic))[channel].back().replay_id;
  {
    Process::Options options;
    options.args = {bridge_binary(), "checkpoints", "--config", dir_.file("first.yaml")};
    Process report(options);
    ASSERT_EQ(report.wait_for_exit(60s), 0) << report.output();
    const auto row = report.wait_for_output(channel, 1s);
    ASSERT_TRUE(row) << report.output();
    std::istringstream fields(*row);
    std::string name, row_topic, mode, partition, file, newest, resume;
    fields >> name >> row_topic >> mode >> partition >> file >> newest >> resume;
    EXPECT_EQ(mode, "single-partition") << *row;
    EXPECT_EQ(partition, "0") << *row;
    EXPECT_EQ(file, std::to_string(last)) << *row;
    EXPECT_EQ(newest, std::to_string(last)) << *row;
    EXPECT_EQ(resume, std::to_string(last)) << *row;
  }

  injected.add(sf.inject(channel, 500, R"({"Text__c":"b{seq}"})"), 500);
  ASSERT_NO_FATAL_FAILURE(
      run_until(config, "second", topic, channel, 1000, "stays on partition 0"));
  // Still one partition, in replay order, each event once.
  EXPECT_EQ(check_exactly_once(by_channel(kafka_->read_all(topic))[channel], injected, true), "");
}

TEST_P(SubscribeDeliveryOverApi, PayloadKeyOverFourPartitionsSurvivesCrashesAndALostCheckpoint) {
  EmulatorProcess sf(emulator_options());
  const std::string topic = unique_name("sub-keyed");
  const std::string channel = "/event/B__e";
  kafka_->create_topic(topic, 4);
  ChannelSpec spec{channel, topic};
  spec.key = "payload.Text__c";
  auto config = config_for(sf, {spec});
  config.checkpoint_interval = "100ms";

  Injected injected;
  constexpr std::size_t kTotal = 9000;
  std::thread injector = inject_in_background(sf, channel, kTotal, 300, injected, 60ms);
  SCOPED_TRACE(test_support::seed_note());
  std::mt19937 random(test_support::test_seed());
  std::size_t last_count = 0;
  CrashLoop loop;
  loop.crashes = 4;
  loop.max_delay = 300ms;
  loop.before_start = [&](int crash) {
    if (crash == 2) {
      std::filesystem::remove_all(dir_.file("state"));  // once without a file
    }
  };
  loop.progressed = [&](Bridge&, int) {
    // Capped at the total: once everything is in, a crash at the tail is a moment like any.
    last_count = wait_for_channel(*kafka_, topic, channel,
                                  std::min<std::size_t>(last_count + 200, kTotal), kLong)
                     .size();
  };
  ASSERT_NO_FATAL_FAILURE(crash_repeatedly(config, dir_, loop, random));
  injector.join();
  ASSERT_NO_FATAL_FAILURE(run_until(config, "final", topic, channel, injected.total));
  auto seen = by_channel(kafka_->read_all(topic))[channel];
  EXPECT_EQ(check_exactly_once(seen, injected, false), "");
  std::set<std::int32_t> partitions;
  for (const auto& s : seen) {
    partitions.insert(s.partition);
    ASSERT_TRUE(s.key.has_value());
  }
  EXPECT_EQ(partitions.size(), 4u);
}

TEST_F(SubscribeDelivery, SwitchingAChannelsApiBackAndForthLosesAndDuplicatesNothing) {
  // README.md "Switching a channel's API": the EventUuid names an event across both APIs.
  EmulatorProcess sf(emulator_options());
  const std::string topic = unique_name("sub-switch");
  const std::string channel = "/event/A__e";
  kafka_->create_topic(topic, 1);
  Injected injected;
  injected.add(sf.inject(channel, 400, R"({"Text__c":"a{seq}"})"), 400);
  ASSERT_NO_FATAL_FAILURE(
      run_until(config_for(sf, {{channel, topic}}), "cometd", topic, channel, 400));

  // Over the Pub/Sub API: every retained event comes again, only the new ones are written.
  api_ = Api::kPubsub;
  injected.add(sf.inject(channel, 300, R"({"Text__c":"b{seq}"})"), 300);
  ASSERT_NO_FATAL_FAILURE(
      run_until(config_for(sf, {{channel, topic}}), "pubsub", topic, channel, 700, "other API"));
  EXPECT_EQ(check_exactly_once(by_channel(kafka_->read_all(topic))[channel], injected, true), "");

  // And back.
  api_ = Api::kCometd;
  injected.add(sf.inject(channel, 200, R"({"Text__c":"c{seq}"})"), 200);
  ASSERT_NO_FATAL_FAILURE(
      run_until(config_for(sf, {{channel, topic}}), "back", topic, channel, 900, "other API"));
  const auto records = kafka_->read_all(topic);
  EXPECT_EQ(check_exactly_once(by_channel(records)[channel], injected, true), "");
  // Each switch started a new epoch of the channel.
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back().header("sf.replay_epoch"), std::optional<std::string>("2"));
}

}  // namespace
}  // namespace sfkb::it::subscribe
