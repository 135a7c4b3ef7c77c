#pragma once
// The Apache Kafka broker that scripts/test starts, seen from a test: create topics, write records
// into them, read everything back, look at committed offsets, and stop/restart the broker for
// outage tests. Talks to the broker with librdkafka's C API directly (not daemon/kafka), so it can
// check the daemon's Kafka layer instead of sharing its bugs.
//
//   TEST(Subscribe, WritesEveryEventOnce) {
//     SFKB_REQUIRE_KAFKA();                       // GTEST_SKIP when SFKB_KAFKA_BOOTSTRAP is unset
//     it::KafkaTestCluster kafka;
//     const auto topic = it::unique_name("events");
//     kafka.create_topic(topic, 3);
//     ...
//     auto records = kafka.consume(topic, 10000, 60s);   // sorted by (partition, offset)
//     ASSERT_EQ(records.size(), 10000u);
//     EXPECT_EQ(records[0].header("sf.replay_id"), "42");
//   }
//
// Environment (exported by scripts/test):
//   SFKB_KAFKA_BOOTSTRAP  127.0.0.1:PORT of the broker
//   SFKB_KAFKA_DIR        the broker's working dir   } needed only by stop_broker/start_broker
//   SFKB_KAFKA_SCRIPTS    <repo>/tests/kafka         }
// Every method throws std::runtime_error with librdkafka's message when the broker fails it.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

// Skips the current test (honestly: reported as skipped) when no broker is configured.
#define SFKB_REQUIRE_KAFKA()                                                                       \
  do {                                                                                             \
    if (!::sfkb::it::KafkaTestCluster::available()) {                                              \
      GTEST_SKIP() << "SFKB_KAFKA_BOOTSTRAP is not set; scripts/test starts a broker and sets it"; \
    }                                                                                              \
  } while (0)

struct rd_kafka_s;

namespace sfkb::it {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct TestRecord {
  std::optional<std::string> key;
  std::string value;
  Headers headers;
  std::int32_t partition = -1;  // -1: librdkafka's default partitioner
};

struct ConsumedRecord {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;  // nullopt: a null value (tombstone)
  Headers headers;                   // in record order; a null header value reads as ""
  std::int64_t timestamp_ms = -1;

  // The last value of header `name`, if present.
  std::optional<std::string> header(const std::string& name) const;
  std::string value_or_empty() const { return value.value_or(""); }
};

struct Watermarks {
  std::int64_t low = 0;
  std::int64_t high = 0;  // the offset the next record will get
};

class KafkaTestCluster {
 public:
  static bool available();    // SFKB_KAFKA_BOOTSTRAP is set
  static bool can_restart();  // SFKB_KAFKA_DIR and SFKB_KAFKA_SCRIPTS are set too

  KafkaTestCluster();  // throws if SFKB_KAFKA_BOOTSTRAP is unset
  explicit KafkaTestCluster(std::string bootstrap);
  ~KafkaTestCluster();
  KafkaTestCluster(const KafkaTestCluster&) = delete;
  KafkaTestCluster& operator=(const KafkaTestCluster&) = delete;

  const std::string& bootstrap() const { return bootstrap_; }

  // Creates the topic (an existing one is fine) and waits until its metadata shows every
  // partition with a leader.
  void create_topic(const std::string& topic, int partitions,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Grows an existing topic to `total` partitions and waits until metadata shows them all.
  void add_partitions(const std::string& topic, int total,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Partition count from metadata; nullopt if the topic does not exist.
  std::optional<int> partition_count(const std::string& topic,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Produces with acks=all (idempotent) and waits for every delivery; throws on any failure.
  void produce(const std::string& topic, const std::vector<TestRecord>& records,
               std::chrono::milliseconds timeout = std::chrono::seconds(60));

  // Reads every partition of `topic` from the beginning until at least `count` records arrived
  // or the deadline passed (waiting for the topic to appear if needed); returns what it read,
  // sorted by (partition, offset). With count == 0 it reads until the deadline.
  std::vector<ConsumedRecord> consume(const std::string& topic, std::size_t count,
                                      std::chrono::milliseconds timeout);
  // Reads every record up to the high watermarks as they are now; sorted by (partition, offset).
  std::vector<ConsumedRecord> read_all(
      const std::string& topic, std::chrono::milliseconds timeout = std::chrono::seconds(60));
  Watermarks watermarks(const std::string& topic, std::int32_t partition,
                        std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The offsets `group` committed for each partition of `topic` (absent: never committed).
  std::map<std::int32_t, std::int64_t> committed_offsets(
      const std::string& group, const std::string& topic,
      std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Broker control for outage tests (needs can_restart()). stop: SIGTERM (or SIGKILL with
  // kill=true) and wait for the exit; start: the same data and port again, back when it answers
  // metadata. Both throw with the scripts' output on failure.
  void stop_broker(bool kill = false);
  void start_broker();

 private:
  rd_kafka_s* producer();
  std::unique_ptr<rd_kafka_s, void (*)(rd_kafka_s*)> new_consumer();
  std::vector<std::int32_t> partitions_of(const std::string& topic,
                                          std::chrono::milliseconds timeout);
  void wait_for_partitions(const std::string& topic, int partitions,
                           std::chrono::milliseconds timeout);

  std::string bootstrap_;
  std::unique_ptr<rd_kafka_s, void (*)(rd_kafka_s*)> producer_;
};

// Stops the broker for the lifetime of the guard (or until end()), so a failing test never leaves
// the shared broker down for the tests after it.
class BrokerOutage {
 public:
  explicit BrokerOutage(KafkaTestCluster& kafka, bool kill = false);
  ~BrokerOutage();
  BrokerOutage(const BrokerOutage&) = delete;
  BrokerOutage& operator=(const BrokerOutage&) = delete;
  void end();  // restart now (idempotent)

 private:
  KafkaTestCluster& kafka_;
  bool active_ = true;
};

}  // namespace sfkb::it
