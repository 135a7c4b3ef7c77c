// Several instances share the subscribe channels through the coordination group (README "Several
// instances", docs/ARCHITECTURE.md "Several instances"): with a steady stream on six channels, a
// kill -9, a SIGSTOP past the session timeout and scaling 1 -> 3 -> 1, every event reaches Kafka
// exactly once, in order per channel.

#include <csignal>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "tests/integration/subscribe/bridge_harness.h"
#include "tests/integration/support/unique_name.h"
#include "tests/support/wait.h"

namespace sfkb::it::subscribe {
namespace {

using namespace std::chrono_literals;
using emulator::testing::EmulatorProcess;

// The session timeout (6 s, the broker's minimum) plus a rebalance, with room for a slow machine.
constexpr auto kMove = 60s;
constexpr auto kLong = 120s;

const std::vector<std::string> kChannels = {"/event/A__e", "/event/B__e", "/event/C__e",
                                            "/event/D__e", "/event/E__e", "/event/F__e"};

std::string owns(int count) {
  return "owned channels (" + std::to_string(count) + " of 6)";
}

class SubscribeOwners : public ::testing::Test {
 protected:
  void SetUp() override {
    SFKB_REQUIRE_KAFKA();
    SFKB_REQUIRE_BRIDGE();
    kafka_ = std::make_unique<KafkaTestCluster>();
    sf_ = std::make_unique<EmulatorProcess>(emulator_options());
    topic_ = unique_name("sub-owners");
    kafka_->create_topic(topic_, 6);
  }
  void TearDown() override { stop_injecting(); }

  // Each instance has a checkpoint directory of its own, as separate hosts or dynos would.
  BridgeConfig config_for(const std::string& name, bool ownership = true) {
    BridgeConfig config;
    config.salesforce_url = sf_->base_url();
    config.access_token = sf_->static_token();
    config.bootstrap = kafka_->bootstrap();
    config.checkpoint_dir = dir_.file("state-" + name);
    for (const auto& channel : kChannels) {
      config.channels.push_back({channel, topic_});
    }
    config.coordination = ownership;
    // One group for every instance of the test; without ownership each instance gets a group (and
    // so transactional IDs) of its own: nothing shares or fences anything.
    config.coordination_group = ownership ? group_ : group_ + "-" + name;
    return config;
  }

  std::unique_ptr<Bridge> start(const std::string& name, bool ownership = true) {
    BridgeLaunch launch = bridge_launch(config_for(name, ownership));
    if (ownership) {
      // Ready once it joined the group, whatever it owns.
      launch.ready_line = "owned channels (";
      launch.ready_count = 1;
    }
    return std::make_unique<Bridge>(launch, dir_, name);
  }

  // A steady stream: a few events into every channel every 50 ms until stop_injecting().
  void start_injecting() {
    injector_ = std::thread([this] {
      while (!stop_.load()) {
        for (const auto& channel : kChannels) {
          auto range = sf_->inject(channel, 3, R"({"Text__c":"s{seq}","Number__c":1})");
          std::lock_guard lock(mutex_);
          injected_[channel].add(range, 3);
        }
        std::this_thread::sleep_for(50ms);  // pacing only; nothing waits on it
      }
    });
  }
  void stop_injecting() {
    stop_ = true;
    if (injector_.joinable()) {
      injector_.join();
    }
  }

  // Waits until every channel holds at least `more` records beyond what it holds now: the
  // channels flow, whoever owns them.
  bool progressed(std::size_t more) {
    auto counts = [this] {
      std::map<std::string, std::size_t> out;
      for (const auto& [channel, seen] : by_channel(kafka_->read_all(topic_))) {
        out[channel] = seen.size();
      }
      return out;
    };
    const auto before = counts();
    return test_support::wait_until(
        [&] {
          const auto now = counts();
          for (const auto& channel : kChannels) {
            const auto was = before.contains(channel) ? before.at(channel) : 0;
            if (!now.contains(channel) || now.at(channel) < was + more) {
              return false;
            }
          }
          return true;
        },
        kMove, 200ms);
  }

  static bool logged(Bridge& bridge, const std::string& text, std::size_t times,
                     std::chrono::milliseconds timeout = kMove) {
    return test_support::wait_until(
        [&] { return bridge.process().count_lines_containing(text) >= times; }, timeout, 50ms);
  }

  // Once the stream stopped: every channel holds every injected event once, in order.
  void expect_exactly_once() {
    for (const auto& channel : kChannels) {
      wait_for_channel(*kafka_, topic_, channel, injected_[channel].total, kLong);
    }
    auto grouped = by_channel(kafka_->read_all(topic_));
    for (const auto& channel : kChannels) {
      EXPECT_EQ(check_exactly_once(grouped[channel], injected_[channel], true), "") << channel;
    }
  }

  TempDir dir_{"sfkb-it-owners"};
  std::unique_ptr<KafkaTestCluster> kafka_;
  std::unique_ptr<EmulatorProcess> sf_;
  std::string topic_;
  std::string group_ = unique_name("sfkb-it-owners");
  std::thread injector_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::map<std::string, Injected> injected_;
};

TEST_F(SubscribeOwners, ThreeInstancesShareSixChannelsExactlyOnceThroughKillStopAndScaling) {
  // Given one instance owning all six channels of a steady stream,
  auto first = start("first");
  ASSERT_TRUE(first->wait_ready()) << first->output();
  ASSERT_TRUE(logged(*first, owns(6), 1)) << first->output();
  start_injecting();
  ASSERT_TRUE(progressed(10)) << first->output();

  // when two more start, the six channels are shared two by two and keep flowing;
  auto second = start("second");
  auto third = start("third");
  ASSERT_TRUE(second->wait_ready()) << second->output();
  ASSERT_TRUE(third->wait_ready()) << third->output();
  ASSERT_TRUE(logged(*first, owns(2), 1)) << first->output();
  ASSERT_TRUE(logged(*second, owns(2), 1)) << second->output();
  ASSERT_TRUE(logged(*third, owns(2), 1)) << third->output();
  ASSERT_TRUE(progressed(10));

  // when the third is killed (-9), its channels move to the others after the session timeout;
  third->kill();
  ASSERT_TRUE(logged(*first, owns(3), 1)) << first->output();
  ASSERT_TRUE(logged(*second, owns(3), 1)) << second->output();
  ASSERT_TRUE(progressed(10));

  // when a replacement joins and the second stands still (SIGSTOP) past its session, the other
  // two take its channels over, and when it wakes it learns it lost them;
  auto fourth = start("fourth");
  ASSERT_TRUE(fourth->wait_ready()) << fourth->output();
  ASSERT_TRUE(logged(*fourth, owns(2), 1)) << fourth->output();
  ASSERT_TRUE(logged(*second, owns(2), 2)) << second->output();
  ASSERT_TRUE(progressed(10));
  ASSERT_TRUE(second->process().signal(SIGSTOP));
  ASSERT_TRUE(logged(*fourth, owns(3), 1)) << fourth->output();
  ASSERT_TRUE(progressed(10)) << first->output() << fourth->output();
  ASSERT_TRUE(second->process().signal(SIGCONT));
  ASSERT_TRUE(logged(*second, "stood still", 1)) << second->output();
  ASSERT_TRUE(logged(*second, "were lost", 1)) << second->output();
  ASSERT_TRUE(progressed(10));

  // when the others stop (SIGTERM), the first owns every channel again;
  EXPECT_EQ(fourth->terminate(), 0) << fourth->output();
  EXPECT_EQ(second->terminate(), 0) << second->output();
  ASSERT_TRUE(logged(*first, owns(6), 2)) << first->output();
  ASSERT_TRUE(progressed(10));

  // then, once the stream stops, every event is in Kafka exactly once, in order per channel.
  stop_injecting();
  expect_exactly_once();
  EXPECT_EQ(first->terminate(), 0) << first->output();
}

// The same kind of run without the group (and without shared transactional IDs): two instances
// that each subscribe every channel duplicate the stream, which is what ownership prevents - and
// what the check above would catch.
TEST_F(SubscribeOwners, WithoutOwnershipTwoInstancesDuplicateEveryEvent) {
  auto first = start("first", false);
  auto second = start("second", false);
  ASSERT_TRUE(first->wait_ready()) << first->output();
  ASSERT_TRUE(second->wait_ready()) << second->output();
  start_injecting();
  ASSERT_TRUE(progressed(10));
  stop_injecting();
  for (const auto& channel : kChannels) {
    wait_for_channel(*kafka_, topic_, channel, injected_[channel].total, kLong);
  }
  EXPECT_EQ(first->terminate(), 0) << first->output();
  EXPECT_EQ(second->terminate(), 0) << second->output();
  auto grouped = by_channel(kafka_->read_all(topic_));
  std::size_t failing = 0;
  for (const auto& channel : kChannels) {
    failing += check_exactly_once(grouped[channel], injected_[channel], true).empty() ? 0 : 1;
  }
  EXPECT_EQ(failing, kChannels.size()) << "every channel is expected to hold duplicates";
}

// Channels added to the config: the coordination topic made for fewer channels is grown to one
// partition per channel at start-up, and every channel is owned and flows (before, the start
// stopped with exit 78 and asked for kafka-topics --alter).
TEST_F(SubscribeOwners, ACoordinationTopicMadeForFewerChannelsIsGrown) {
  BridgeConfig config = config_for("grown");
  config.coordination_topic = unique_name("sub-owners-coordination");
  kafka_->create_topic(config.coordination_topic, 2);
  BridgeLaunch launch = bridge_launch(config);
  launch.ready_line = "owned channels (";
  launch.ready_count = 1;
  Bridge bridge(launch, dir_, "grown");
  ASSERT_TRUE(bridge.wait_ready()) << bridge.output();
  ASSERT_TRUE(logged(bridge, "has 2 partition(s) for 6 channel(s): adding 4", 1))
      << bridge.output();
  ASSERT_TRUE(logged(bridge, owns(6), 1)) << bridge.output();
  EXPECT_EQ(kafka_->partition_count(config.coordination_topic), 6);
  start_injecting();
  ASSERT_TRUE(progressed(5)) << bridge.output();
  stop_injecting();
  expect_exactly_once();
  EXPECT_EQ(bridge.terminate(), 0) << bridge.output();
}

}  // namespace
}  // namespace sfkb::it::subscribe
