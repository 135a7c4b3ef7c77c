// The integration-test support itself, against the real broker and real child processes: if these
// helpers lied, every other integration test would pass for the wrong reason.
#include <csignal>

#include <gtest/gtest.h>

#include "tests/integration/support/kafka_cluster.h"
#include "tests/integration/support/process.h"
#include "tests/integration/support/temp_dir.h"
#include "tests/integration/support/unique_name.h"
#include "tests/support/wait.h"

namespace sfkb::it {
namespace {

using namespace std::chrono_literals;

Process::Options shell(const std::string& script) {
  Process::Options options;
  options.args = {"/bin/sh", "-c", script};
  return options;
}

TEST(Process, ShouldSeeOutputLinesAndExitCode) {
  Process p(shell("echo hello; echo 'ready on port 5' >&2; exit 3"));
  EXPECT_EQ(p.wait_for_line("ready on", 10s), "ready on port 5");
  EXPECT_EQ(p.wait_for_exit(10s), 3);
  EXPECT_EQ(p.lines().front(), "hello");
  EXPECT_FALSE(p.wait_for_line("never", 100ms).has_value());
}

TEST(Process, ShouldPassEnvironmentAndReportSignals) {
  auto options = shell("echo \"value=$SFKB_TEST_VALUE\"; exec sleep 600");
  options.env["SFKB_TEST_VALUE"] = "42";
  Process p(options);
  ASSERT_EQ(p.wait_for_line("value=", 10s), "value=42");
  EXPECT_TRUE(p.running());
  EXPECT_FALSE(p.wait_for_exit(50ms).has_value());
  EXPECT_TRUE(p.signal(SIGTERM));
  EXPECT_EQ(p.wait_for_exit(10s), 128 + SIGTERM);
  EXPECT_FALSE(p.signal(SIGTERM));
}

TEST(Process, DestructorKillsARunningChild) {
  pid_t pid = 0;
  {
    Process p(shell("exec sleep 600"));
    pid = p.pid();
    ASSERT_TRUE(p.running());
  }
  EXPECT_NE(::kill(pid, 0), 0);  // reaped and gone
}

TEST(TempDir, IsRemovedWithItsContent) {
  std::filesystem::path path;
  {
    TempDir dir;
    path = dir.path();
    dir.write_file("a.txt", "x");
    EXPECT_TRUE(std::filesystem::exists(path / "a.txt"));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(KafkaTestCluster, ProducesAndConsumesRecordsWithKeysAndHeaders) {
  SFKB_REQUIRE_KAFKA();
  KafkaTestCluster kafka;
  const auto topic = unique_name("it-support");
  kafka.create_topic(topic, 3);
  EXPECT_EQ(kafka.partition_count(topic), 3);

  std::vector<TestRecord> records;
  for (int i = 0; i < 30; ++i) {
    records.push_back({"k" + std::to_string(i),
                       "v" + std::to_string(i),
                       {{"sf.replay_id", std::to_string(100 + i)}},
                       i % 3});
  }
  kafka.produce(topic, records);

  const auto read = kafka.consume(topic, 30, 30s);
  ASSERT_EQ(read.size(), 30u);
  EXPECT_EQ(read[0].partition, 0);
  EXPECT_EQ(read[0].offset, 0);
  EXPECT_EQ(read[0].key, "k0");
  EXPECT_EQ(read[0].value, "v0");
  EXPECT_EQ(read[0].header("sf.replay_id"), "100");
  EXPECT_EQ(read[10].partition, 1);
  EXPECT_EQ(kafka.watermarks(topic, 2).high, 10);
  EXPECT_EQ(kafka.read_all(topic).size(), 30u);
}

TEST(KafkaTestCluster, BrokerRestartKeepsAddressAndData) {
  SFKB_REQUIRE_KAFKA();
  if (!KafkaTestCluster::can_restart()) {
    GTEST_SKIP() << "SFKB_KAFKA_DIR/SFKB_KAFKA_SCRIPTS not set";
  }
  KafkaTestCluster kafka;
  const auto topic = unique_name("it-restart");
  kafka.produce(topic, {{std::nullopt, "before", {}, -1}});
  { BrokerOutage outage(kafka, /*kill=*/true); }
  kafka.produce(topic, {{std::nullopt, "after", {}, -1}});
  const auto read = kafka.read_all(topic);
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].value, "before");
  EXPECT_EQ(read[1].value, "after");
}

}  // namespace
}  // namespace sfkb::it
