// Transactions across owners (docs/ARCHITECTURE.md §4 "Transactions and fencing"): a second
// instance with the same transactional IDs fences the first, whose further writes never become
// visible to read_committed readers; and with checkpoint.store: kafka a keyed channel over four
// partitions is exact across a kill -9 and a new process that has no checkpoint file at all.

#include <filesystem>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "tests/integration/subscribe/bridge_harness.h"
#include "tests/integration/support/unique_name.h"
#include "tests/support/seed.h"

namespace sfkb::it::subscribe {
namespace {

using namespace std::chrono_literals;
using emulator::testing::EmulatorProcess;

constexpr auto kLong = 90s;

class SubscribeTransactions : public ::testing::Test {
 protected:
  void SetUp() override {
    SFKB_REQUIRE_KAFKA();
    SFKB_REQUIRE_BRIDGE();
    kafka_ = std::make_unique<KafkaTestCluster>();
  }
  BridgeConfig config_for(const EmulatorProcess& sf, std::vector<ChannelSpec> channels,
                          const std::string& state) {
    BridgeConfig config;
    config.salesforce_url = sf.base_url();
    config.access_token = sf.static_token();
    config.bootstrap = kafka_->bootstrap();
    config.checkpoint_dir = dir_.file(state);
    config.channels = std::move(channels);
    // Both instances write every channel, whatever the consumer group would assign: the fence,
    // not the assignment, is under test.
    config.coordination = false;
    return config;
  }

  TempDir dir_{"sfkb-it-transactions"};
  std::unique_ptr<KafkaTestCluster> kafka_;
};

TEST_F(SubscribeTransactions, ASecondOwnerFencesTheFirstWhichWritesNothingMoreAndKeepsRunning) {
  EmulatorProcess sf(emulator_options());
  const std::string topic = unique_name("sub-fence");
  const std::string channel = "/event/A__e";
  kafka_->create_topic(topic, 1);
  // Given instance A owning the channel, with everything so far in Kafka,
  auto config_a = config_for(sf, {{channel, topic}}, "state-a");
  Injected injected;
  Bridge a(config_a, dir_, "a");
  ASSERT_TRUE(a.wait_ready()) << a.output();
  injected.add(sf.inject(channel, 300, R"({"Text__c":"a{seq}"})"), 300);
  wait_for_channel(*kafka_, topic, channel, 300, kLong);

  // when instance B starts with the same configuration (same transactional IDs, its own disk)
  auto config_b = config_a;
  config_b.checkpoint_dir = dir_.file("state-b");
  Bridge b(config_b, dir_, "b");
  ASSERT_TRUE(b.wait_ready()) << b.output();
  // and both receive the next events,
  injected.add(sf.inject(channel, 300, R"({"Text__c":"b{seq}"})"), 300);
  // then A learns it was fenced, says so once, and stays up without writing;
  ASSERT_TRUE(a.process().wait_for_output("is owned by another instance now (fenced)", kLong))
      << a.output();
  wait_for_channel(*kafka_, topic, channel, 600, kLong);
  injected.add(sf.inject(channel, 100, R"({"Text__c":"c{seq}"})"), 100);
  wait_for_channel(*kafka_, topic, channel, 700, kLong);
  EXPECT_TRUE(a.process().running()) << a.output();
  ASSERT_EQ(b.terminate(), 0) << b.output();
  ASSERT_EQ(a.terminate(), 0) << a.output();
  const std::string log = a.output();
  std::size_t fences = 0;
  for (auto at = log.find("(fenced)"); at != std::string::npos; at = log.find("(fenced)", at + 1)) {
    ++fences;
  }
  EXPECT_EQ(fences, 1u) << log;
  // and read_committed readers see every event exactly once, in order: none of A's late writes.
  EXPECT_EQ(check_exactly_once(by_channel(kafka_->read_all(topic))[channel], injected, true), "");
}

TEST_F(SubscribeTransactions, KeyedChannelWithPositionsInKafkaIsExactAcrossAKillAndANewDisk) {
  EmulatorProcess sf(emulator_options());
  const std::string topic = unique_name("sub-txn-keyed");
  const std::string channel = "/event/B__e";
  kafka_->create_topic(topic, 4);
  ChannelSpec spec{channel, topic};
  spec.key = "payload.Text__c";
  auto config = config_for(sf, {spec}, "state-1");
  config.checkpoint_store = "kafka";

  // Given a bridge writing a keyed channel over four partitions while events keep coming,
  constexpr std::size_t kTotal = 6000;
  Injected injected;
  std::thread injector([&] {
    for (std::size_t done = 0; done < kTotal; done += 300) {
      injected.add(sf.inject(channel, 300, R"({"Text__c":"k{n}","Number__c":1})"), 300);
      std::this_thread::sleep_for(40ms);  // pacing spreads the stream over the crash; no wait
    }
  });
  SCOPED_TRACE(test_support::seed_note());
  std::mt19937 random(test_support::test_seed());
  {
    Bridge first(config, dir_, "first");
    ASSERT_TRUE(first.wait_ready()) << first.output();
    wait_for_channel(*kafka_, topic, channel, 1000, kLong);
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 300));  // a random moment
    // when it is killed mid-stream,
    first.kill();
  }
  // and another process takes over with an empty checkpoint directory,
  config.checkpoint_dir = dir_.file("state-2");
  Bridge second(config, dir_, "second");
  ASSERT_TRUE(second.wait_ready()) << second.output();
  injector.join();
  wait_for_channel(*kafka_, topic, channel, injected.total, kLong);
  ASSERT_EQ(second.terminate(), 0) << second.output();
  EXPECT_FALSE(std::filesystem::exists(dir_.file("state-2/checkpoints.json")));

  // then every event is in Kafka exactly once, in order per partition (so per key).
  auto seen = by_channel(kafka_->read_all(topic))[channel];
  EXPECT_EQ(check_exactly_once(seen, injected, false), "");
  std::set<std::int32_t> partitions;
  for (const auto& s : seen) {
    partitions.insert(s.partition);
  }
  EXPECT_EQ(partitions.size(), 4u);
}

}  // namespace
}  // namespace sfkb::it::subscribe
