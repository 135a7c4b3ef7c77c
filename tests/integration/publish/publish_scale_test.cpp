// Publish scaled out: three bridges in one consumer group share a 4-partition topic, each sending
// several composite requests at once (publish[].max_in_flight_requests, one per partition), while
// records keep arriving; one is killed with SIGKILL mid-stream (README "Known limits", docs/
// ARCHITECTURE.md §2 publish).

#include <atomic>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/integration/publish/publish_harness.h"
#include "tests/integration/support/unique_name.h"
#include "tests/support/wait.h"

namespace sfkb::it::publish {
namespace {

using namespace std::chrono_literals;
using emulator::testing::EmulatorProcess;

// The partitions a bridge owned when its output ended, from its "partition assigned" and
// "partition revoked" lines.
std::set<int> owned_at_end(const std::string& output) {
  std::set<int> owned;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    const auto at = line.find(" partition=");
    if (at == std::string::npos) {
      continue;
    }
    const int partition = std::atoi(line.c_str() + at + 11);
    if (line.find("partition assigned:") != std::string::npos) {
      owned.insert(partition);
    } else if (line.find("partition revoked:") != std::string::npos) {
      owned.erase(partition);
    }
  }
  return owned;
}

TEST(PublishScaleOut, ThreeBridgesAndAKill9PublishEveryRecordAtLeastOnceInOrderPerPartition) {
  SFKB_REQUIRE_PUBLISH_PEERS();
  KafkaTestCluster kafka;
  TempDir dir("sfkb-publish-scale");
  EmulatorProcess sf(emulator_options());
  sf.faults(R"({"latency_ms":20})");  // requests take a while: some are in flight at the kill
  const auto topic = unique_name("orders");
  constexpr int kPartitions = 4;
  constexpr int kChunk = 25;  // records per partition per produced chunk
  constexpr int kChunks = 40;
  constexpr int kPerPartition = kChunk * kChunks;
  // published(event, since) with `since` past the end: the count only, no event bodies.
  constexpr std::size_t kCountOnly = 4 * kPartitions * kPerPartition;
  kafka.create_topic(topic, kPartitions);

  PublishConfig config;
  config.salesforce_url = sf.base_url();
  config.access_token = sf.static_token();
  config.bootstrap = kafka.bootstrap();
  config.topics = {topic};
  config.dead_letter_topic = unique_name("orders-dlq");
  config.group_id = unique_name("group");
  config.batch_size = 50;
  config.mapping_yaml = "    max_in_flight_requests: 4\n";
  // The killed member keeps its partitions until its session times out: the broker's minimum.
  config.kafka_properties = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "1000"}};

  Bridge a(config, dir, "a");
  ASSERT_TRUE(a.wait_ready(60s)) << a.output();
  Bridge b(config, dir, "b");
  ASSERT_TRUE(b.wait_ready(60s)) << b.output();
  Bridge c(config, dir, "c");
  ASSERT_TRUE(c.wait_ready(60s)) << c.output();

  // A steady stream: the next chunk goes once the bridges are at most 300 records behind.
  std::atomic<int> produced{0};
  std::atomic<bool> stream_failed{false};
  std::thread stream([&] {
    for (int i = 0; i < kChunks; ++i) {
      const auto sent = static_cast<std::size_t>(produced.load());
      if (!test_support::wait_until(
              [&] { return sf.published(kEvent, kCountOnly).count + 300 >= sent; }, 60s, 5ms)) {
        stream_failed = true;
        return;
      }
      produce_orders(kafka, topic, kPartitions, kChunk, i * kChunk);
      produced += kChunk * kPartitions;
    }
  });

  // Kill b mid-stream, while its requests are on the wire.
  const bool midway = test_support::wait_until(
      [&] { return sf.published(kEvent, kCountOnly).count >= 1200; }, 60s, 5ms);
  const auto b_output_before = b.output();
  b.kill();
  const auto killed_owned = owned_at_end(b.output());
  stream.join();
  ASSERT_TRUE(midway) << a.output() << b_output_before;
  ASSERT_FALSE(stream_failed) << "the bridges fell behind the stream\n" << a.output() << c.output();
  ASSERT_LT(sf.published(kEvent, kCountOnly).count,
            static_cast<std::size_t>(kPartitions * kPerPartition))
      << "the stream was published completely before the kill; nothing was tested";
  EXPECT_FALSE(killed_owned.empty()) << "b owned no partition when it was killed\n" << b.output();

  // The survivors take b's partitions over and publish the rest.
  ASSERT_TRUE(test_support::wait_until(
      [&] {
        auto committed = kafka.committed_offsets(config.group_id, topic);
        for (int p = 0; p < kPartitions; ++p) {
          auto it = committed.find(p);
          if (it == committed.end() || it->second != kPerPartition) {
            return false;
          }
        }
        return true;
      },
      60s, 100ms))
      << a.output() << c.output();

  // Every record at least once, the first publication of each in order per partition; duplicates
  // only on the partitions b owned, at most its one batch in flight for each.
  auto by_source = published_by_source(sf);
  std::size_t duplicates = 0;
  for (int p = 0; p < kPartitions; ++p) {
    const auto& seqs = by_source[topic + "/" + std::to_string(p)];
    const std::size_t allowed = killed_owned.contains(p) ? config.batch_size : 0;
    EXPECT_EQ(check_at_least_once(seqs, kPerPartition, allowed), "")
        << "partition " << p << (killed_owned.contains(p) ? " (b's)" : " (not b's)");
    duplicates += seqs.size() - static_cast<std::size_t>(kPerPartition);
  }
  std::printf("[ info ] b owned %zu partition(s) at the kill; %zu duplicate(s) in all\n",
              killed_owned.size(), duplicates);
  EXPECT_EQ(a.terminate(), 0) << a.output();
  EXPECT_EQ(c.terminate(), 0) << c.output();
}

}  // namespace
}  // namespace sfkb::it::publish
