// daemon/kafka against the real Apache Kafka broker (scripts/test starts it): what the pipelines
// rely on - records arrive with key and headers, the idempotent gapless producer keeps order over
// thousands of records and across a broker outage, consumer groups commit and resume, rebalances
// call the hooks, pause/resume neither skips nor repeats (also with a queue per partition), the
// tail reader finds the newest record.
#include <chrono>
#include <iostream>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "daemon/kafka/client_config.h"
#include "daemon/kafka/consumer.h"
#include "daemon/kafka/handles.h"
#include "daemon/kafka/partitioner.h"
#include "daemon/kafka/producer.h"
#include "tests/integration/support/kafka_cluster.h"
#include "tests/integration/support/unique_name.h"
#include "tests/support/wait.h"

namespace sfkb::kafka {
namespace {

using namespace std::chrono_literals;
using it::KafkaTestCluster;

config::KafkaConfig kafka_config(const KafkaTestCluster& cluster) {
  config::KafkaConfig kafka;
  kafka.bootstrap_servers = cluster.bootstrap();
  kafka.flush_timeout = 10s;
  return kafka;
}

// Delivery reports, collected on the thread that polls.
struct Deliveries {
  std::vector<Delivery> reports;
  std::vector<std::string> topics;
  DeliveryCallback callback() {
    return [this](const Delivery& d) {
      reports.push_back(d);
      topics.emplace_back(d.topic);
    };
  }
};

core::Status produce_retrying(Producer& producer, const OutgoingRecord& record,
                              DeliveryToken token) {
  while (true) {
    auto status = producer.produce(record, token);
    if (status || status.kind() != core::ErrorKind::kRetry) {
      return status;
    }
    producer.poll(10ms);  // queue full: serve deliveries to make room
  }
}

std::vector<Message> poll_until(Consumer& consumer, std::size_t count,
                                std::chrono::milliseconds timeout) {
  std::vector<Message> out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    auto batch = consumer.poll(100ms, count - out.size());
    if (!batch) {
      continue;  // transient (e.g. the group coordinator is loading)
    }
    for (auto& m : batch.value()) {
      out.push_back(std::move(m));
    }
  }
  return out;
}

TEST(KafkaProducer, ProducesARecordWithKeyAndHeadersThatAGroupConsumerReads) {
  SFKB_REQUIRE_KAFKA();
  KafkaTestCluster cluster;
  const auto topic = it::unique_name("kafka-one");
  cluster.create_topic(topic, 1);
  const auto kafka = kafka_config(cluster);

  Deliveries deliveries;
  {
    Producer producer(ClientConfig(kafka, Role::kProducer), deliveries.callback());
    const std::vector<Header> headers = {{"sf.channel", "/event/A__e"}, {"sf.replay_id", "42"}};
    ASSERT_TRUE(
        producer.produce({topic, 0, std::string_view("key-1"), R"({"a":1})", headers}, {7, 42}));
    ASSERT_TRUE(producer.flush(30s));
    ASSERT_EQ(deliveries.reports.size(), 1u);
    EXPECT_TRUE(deliveries.reports[0].status) << deliveries.reports[0].status.message();
    EXPECT_EQ(deliveries.reports[0].token.id, 7u);
    EXPECT_EQ(deliveries.reports[0].token.value, 42);
    EXPECT_EQ(deliveries.topics[0], topic);
    EXPECT_EQ(deliveries.reports[0].offset, 0);
    EXPECT_TRUE(producer.fatal_error());
  }

  Consumer consumer(ClientConfig(kafka, Role::kConsumer), it::unique_name("group"));
  ASSERT_TRUE(consumer.subscribe({topic}));
  auto messages = poll_until(consumer, 1, 30s);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].topic(), topic);
  EXPECT_EQ(messages[0].key(), "key-1");
  EXPECT_EQ(messages[0].value(), R"({"a":1})");
  EXPECT_EQ(messages[0].header("sf.replay_id"), "42");
  EXPECT_EQ(messages[0].to_record().header("sf.channel"), "/event/A__e");
  messages.clear();
  EXPECT_TRUE(consumer.close());
}

TEST(KafkaProducer, TenThousandRecordsOfAChannelLandInOnePartitionInOrder) {
  SFKB_REQUIRE_KAFKA();
  KafkaTestCluster cluster;
  const auto topic = it::unique_name("kafka-10k");
  cluster.create_topic(topic, 3);
  Deliveries deliveries;
  Producer producer(ClientConfig(kafka_config(cluster), Role::kProducer), deliveries.callback());
  auto count = producer.partition_count(topic, 10s);
  ASSERT_TRUE(count) << count.error().message;
  ASSERT_EQ(count.value(), 3);
  const std::string channel = "/event/Flight_Approved__e";
  const auto partition = partition_for_channel(channel, count.value());

  constexpr int kRecords = 10000;
  for (int i = 0; i < kRecords; ++i) {
    const std::string value = std::to_string(i);
    const std::vector<Header> headers = {{"sf.replay_id", value}};
    ASSERT_TRUE(
        produce_retrying(producer, {topic, partition, std::nullopt, value, headers}, {0, i}));
    producer.poll(0ms);
  }
  ASSERT_TRUE(producer.flush(60s));
  ASSERT_EQ(deliveries.reports.size(), static_cast<std::size_t>(kRecords));
  for (const auto& d : deliveries.reports) {
    ASSERT_TRUE(d.status) << d.status.message();
    // The producer keeps order, so offset == sequence number.
    ASSERT_EQ(d.offset, d.token.value);
    ASSERT_EQ(d.partition, partition);
  }

  const auto records = cluster.read_all(topic, 60s);
  ASSERT_EQ(records.size(), static_cast<std::size_t>(kRecords));
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_EQ(records[i].partition, partition);
    ASSERT_EQ(records[i].offset, i);
    ASSERT_EQ(records[i].value, std::to_string(i));
  }
}

TEST(KafkaProducer, PartitionCountOfAMissingTopicIsFatalAndDoesNotCreateIt) {
  SFKB_REQUIRE_KAFKA();
  KafkaTestCluster cluster;
  const auto topic = it::unique_name("kafka-missing");
  Producer producer(ClientConfig(kafka_config(cluster), Role::kProducer), nullptr);
  auto count = producer.partition_count(topic, 10s);
  ASSERT_FALSE(count);
  EXPECT_EQ(count.error().kind, core::ErrorKind::kFatal);
  EXPECT_FALSE(cluster.partition_count(topic, 2s).has_value());
}

TEST(KafkaProducer, RecordsProducedDuringABrokerOutageAreDeliveredInOrderAfterIt) {
  SFKB_REQUIRE_KAFKA();
  if (!KafkaTestCluster::can_restart()) {
    GTEST_SKIP() << "SFKB_KAFKA_DIR/SFKB_KAFKA_SCRIPTS not set";
  }
  KafkaTestCluster cluster;
  const auto topic = it::unique_name("kafka-outage");
  cluster.create_topic(topic, 1);
  Deliveries deliveries;
  Producer producer(ClientConfig(kafka_config(cluster), Role::kProducer), deliveries.callback());
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(
        produce_retrying(producer, {topic, 0, std::nullopt, std::to_string(i), {}}, {0, i}));
  }
  ASSERT_TRUE(producer.flush(30s));
  {
    it::BrokerOutage outage(cluster);
    for (int i = 100; i < 200; ++i) {
      ASSERT_TRUE(
          produce_retrying(producer, {topic, 0, std::nullopt, std::to_string(i), {}}, {0, i}));
    }
    producer.poll(500ms);
    EXPECT_EQ(deliveries.reports.size(), 100u);  // nothing acknowledged while the broker is down
    EXPECT_GT(producer.in_flight(), 0);
  }
  ASSERT_TRUE(producer.flush(60s));
  ASSERT_EQ(deliveries.reports.size(), 200u);
  for (const auto& d : deliveries.reports) {
    ASSERT_TRUE(d.status) << d.status.message();
  }
  EXPECT_TRUE(producer.fatal_error());
  const auto records = cluster.read_all(topic);
  ASSERT_EQ(records.size(), 200u);  // no duplicate from the retries (idempotence), no gap
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(records[i].value, std::to_string(i));
  }
}

TEST(KafkaConsumer, CommittedOffsetsAreWhereTheNextGroupMemberResumes) {
  SFKB_REQUIRE_KAFKA();
  KafkaTestCluster cluster;
  const auto topic = it::unique_name("kafka-commit");
  cluster.create_topic(topic, 1);
  std::vector<it::TestRecord> records;
  for (int i = 0; i < 100; ++i) {
    records.push_back({std::nullopt, std::to_string(i), {}, 0});
  }
  cluster.produce(topic, records);
  const auto kafka = kafka_config(cluster);
  const auto group = it::unique_name("group");

  {
    Consumer first(ClientConfig(kafka, Role::kConsumer), group);
    ASSERT_TRUE(first.subscribe({topic}));
    auto messages = poll_until(first, 40, 30s);
    ASSERT_EQ(messages.size(), 40u);
    EXPECT_EQ(messages.back().offset(), 39);
    ASSERT_TRUE(first.commit({{topic, 0, 40}}, /*synchronous=*/true));
    auto committed = first.committed({{topic, 0}}, 10s);
    ASSERT_TRUE(committed);
    ASSERT_EQ(committed.value().size(), 1u);
    EXPECT_EQ(committed.value()[0].offset, 40);
    messages.clear();
    ASSERT_TRUE(first.close());
  }
  EXPECT_EQ(cluster.committed_offsets(group, topic),
            (std::map<std::int32_t, std::int64_t>{{0, 40}}));

  Consumer second(ClientConfig(kafka, Role::kConsumer), group);
  ASSERT_TRUE(second.subscribe({topic}));
  auto rest = poll_until(second, 60, 30s);
  ASSERT_EQ(rest.size(), 60u);
  EXPECT_EQ(rest.front().offset(), 40);  // nothing auto-committed beyond 40, nothing skipped
  EXPECT_EQ(rest.back().offset(), 99);
}

TEST(KafkaConsumer, PauseAndResumeNeitherSkipNorRepeat) {
  SFKB_REQUIRE_KAFKA();
  KafkaTestCluster cluster;
  const auto topic = it::unique_name("kafka-pause");
  cluster.create_topic(topic, 1);
  std::vector<it::TestRecord> records;
  for (int i = 0; i < 300; ++i) {
    records.push_back({std::nullopt, std::to_string(i), {}, 0});
  }
  cluster.produce(topic, records);
  Consumer consumer(ClientConfig(kafka_config(cluster), Role::kConsumer), it::unique_name("group"));
  ASSERT_TRUE(consumer.subscribe({topic}));
  auto first = poll_until(consumer, 10, 30s);  // librdkafka has prefetched more than this
  ASSERT_EQ(first.size(), 10u);
  ASSERT_TRUE(consumer.pause({{topic, 0}}));
  auto while_paused = consumer.poll(300ms, 1000);
  ASSERT_TRUE(while_paused);
  EXPECT_TRUE(while_paused.value().empty());
  ASSERT_TRUE(consumer.resume({{topic, 0}}));
  auto rest = poll_until(consumer, 290, 30s);
  ASSERT_EQ(rest.size(), 290u);
  EXPECT_EQ(rest.front().offset(), 10);
  EXPECT_EQ(rest.back().offset(), 299);
}

TEST(KafkaConsumer, PartitionQueuesDeliverEachPartitionAloneAndPauseResumeNeitherSkipNorRepeat) {
  SFKB_REQUIRE_KAFKA();
  KafkaTestCluster cluster;
  const auto topic = it::unique_name("kafka-queues");
  cluster.create_topic(topic, 2);
  std::vector<it::TestRecord> records;
  for (int i = 0; i < 300; ++i) {
    records.push_back({std::nullopt, std::to_string(i), {}, 0});
    records.push_back({std::nullopt, std::to_string(i), {}, 1});
  }
  cluster.produce(topic, records);
  Consumer consumer(ClientConfig(kafka_config(cluster), Role::kConsumer), it::unique_name("group"),
                    {}, {}, /*queue_per_partition=*/true);
  ASSERT_TRUE(consumer.subscribe({topic}));
  const TopicPartition p0{topic, 0}, p1{topic, 1};
  std::size_t on_main_queue = 0;
  // Reads `count` messages of one partition (serving the main queue in between, as the owner
  // does), or fewer when the deadline passes.
  auto read = [&](const TopicPartition& tp, std::size_t count, std::chrono::milliseconds timeout) {
    std::vector<Message> out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
      if (auto events = consumer.poll(10ms, 100)) {
        on_main_queue += events->size();
      }
      auto batch = consumer.poll_partition(tp, count - out.size());
      if (!batch) {
        continue;  // transient
      }
      for (auto& m : batch.value()) {
        EXPECT_EQ(m.partition(), tp.partition);
        out.push_back(std::move(m));
      }
    }
    return out;
  };
  auto first = read(p0, 10, 30s);  // librdkafka has prefetched more than this
  ASSERT_EQ(first.size(), 10u);
  // Partition 1 is read to the end while partition 0's prefetched records wait, unread.
  auto other = read(p1, 300, 30s);
  ASSERT_EQ(other.size(), 300u);
  EXPECT_EQ(other.front().offset(), 0);
  EXPECT_EQ(other.back().offset(), 299);
  ASSERT_TRUE(consumer.pause({p0}));
  EXPECT_TRUE(read(p0, 1, 300ms).empty());
  ASSERT_TRUE(consumer.resume({p0}));
  auto rest = read(p0, 290, 30s);
  ASSERT_EQ(rest.size(), 290u);
  for (std::size_t i = 0; i < rest.size(); ++i) {
    ASSERT_EQ(rest[i].offset(), static_cast<std::int64_t>(10 + i));
  }
  EXPECT_EQ(on_main_queue, 0u);  // every record came through its partition's queue
  EXPECT_TRUE(read(p1, 1, 300ms).empty());
}

TEST(KafkaConsumer, RebalanceHooksSplitPartitionsBetweenMembersAndRevokeOnClose) {
  SFKB_REQUIRE_KAFKA();
  KafkaTestCluster cluster;
  const auto topic = it::unique_name("kafka-rebalance");
  cluster.create_topic(topic, 4);
  const auto kafka = kafka_config(cluster);
  const auto group = it::unique_name("group");

  std::set<TopicPartition> owned_a;
  std::set<TopicPartition> owned_b;
  int revoked_a = 0;
  auto hooks_for = [](std::set<TopicPartition>& owned, int* revoked) {
    RebalanceHooks hooks;
    hooks.on_assigned = [&owned](const std::vector<TopicPartition>& ps) {
      owned.insert(ps.begin(), ps.end());
    };
    hooks.on_revoked = [&owned, revoked](const std::vector<TopicPartition>& ps) {
      for (const auto& p : ps) {
        owned.erase(p);
      }
      if (revoked != nullptr) {
        *revoked += static_cast<int>(ps.size());
      }
    };
    return hooks;
  };
  Consumer a(ClientConfig(kafka, Role::kConsumer), group, hooks_for(owned_a, &revoked_a));
  ASSERT_TRUE(a.subscribe({topic}));
  ASSERT_TRUE(test_support::wait_until(
      [&] {
        (void)a.poll(50ms, 10);
        return owned_a.size() == 4;
      },
      30s));

  {
    Consumer b(ClientConfig(kafka, Role::kConsumer), group, hooks_for(owned_b, nullptr));
    ASSERT_TRUE(b.subscribe({topic}));
    ASSERT_TRUE(test_support::wait_until(
        [&] {
          (void)a.poll(20ms, 10);
          (void)b.poll(20ms, 10);
          return owned_a.size() == 2 && owned_b.size() == 2;
        },
        60s))
        << "a owns " << owned_a.size() << ", b owns " << owned_b.size();
    // Cooperative: only the two partitions that moved were revoked from a, never all four.
    EXPECT_EQ(revoked_a, 2);
    for (const auto& p : owned_b) {
      EXPECT_EQ(owned_a.count(p), 0u);
    }
    EXPECT_EQ(a.assignment().size(), 2u);
    ASSERT_TRUE(b.close());
    EXPECT_TRUE(owned_b.empty());  // close() revoked through the hook
  }
  ASSERT_TRUE(test_support::wait_until(
      [&] {
        (void)a.poll(50ms, 10);
        return owned_a.size() == 4;
      },
      60s));
}

// A member that vanished without leaving (killed, or stopped past its session) holds the group in
// its next rebalance until its session times out; a member leaving meanwhile waits for its
// JoinGroup answer. close_within() gives up at its timeout instead (the publish side's shutdown).
TEST(KafkaConsumer, CloseWithinGivesUpWhileAVanishedMemberHoldsTheGroupInARebalance) {
  SFKB_REQUIRE_KAFKA();
  KafkaTestCluster cluster;
  const auto topic = it::unique_name("kafka-close-within");
  cluster.create_topic(topic, 2);
  const auto kafka = kafka_config(cluster);
  const auto group = it::unique_name("group");
  const Properties member{{"session.timeout.ms", "30000"}, {"heartbeat.interval.ms", "100"}};

  std::set<TopicPartition> owned_a;
  RebalanceHooks hooks;
  hooks.on_assigned = [&](const std::vector<TopicPartition>& ps) {
    owned_a.insert(ps.begin(), ps.end());
  };
  hooks.on_revoked = [&](const std::vector<TopicPartition>& ps) {
    for (const auto& p : ps) {
      owned_a.erase(p);
    }
  };
  Consumer a(ClientConfig(kafka, Role::kConsumer), group, hooks, member);
  ASSERT_TRUE(a.subscribe({topic}));
  ASSERT_TRUE(test_support::wait_until(
      [&] {
        (void)a.poll(50ms, 10);
        return owned_a.size() == 2;
      },
      30s));

  // The member that vanishes: joins, takes its share, then is destroyed without leaving.
  Properties vanishing{{"group.id", group}};
  vanishing.insert(vanishing.end(), member.begin(), member.end());
  char errstr[512];
  rd_kafka_t* gone = rd_kafka_new(
      RD_KAFKA_CONSUMER, ClientConfig(kafka, Role::kConsumer).make_conf(vanishing).release(),
      errstr, sizeof errstr);
  ASSERT_NE(gone, nullptr) << errstr;
  rd_kafka_poll_set_consumer(gone);
  {
    PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
    ASSERT_EQ(rd_kafka_subscribe(gone, list.get()), RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  ASSERT_TRUE(test_support::wait_until(
      [&] {
        (void)a.poll(20ms, 10);
        if (rd_kafka_message_t* m = rd_kafka_consumer_poll(gone, 20)) {
          rd_kafka_message_destroy(m);
        }
        return owned_a.size() == 1;
      },
      60s));
  rd_kafka_destroy_flags(gone, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);

  // A third member joins: the rebalance waits for the vanished one until its session times out.
  Consumer c(ClientConfig(kafka, Role::kConsumer), group, {}, member);
  ASSERT_TRUE(c.subscribe({topic}));
  // a takes part in the rebalance once its heartbeat learns of it (within 100 ms) and it rejoins;
  // from then on a synchronous commit waits for the same answer. Bounded, every attempt gives up
  // within its timeout (kRetry) instead of waiting out the vanished member's session.
  bool gave_up = false;
  ASSERT_TRUE(test_support::wait_until(
      [&] {
        (void)a.poll(50ms, 10);
        (void)c.poll(50ms, 10);
        const auto commit_start = std::chrono::steady_clock::now();
        auto committed = a.commit({{topic, owned_a.begin()->partition, 0}}, true, 1s);
        EXPECT_LT(std::chrono::steady_clock::now() - commit_start, 3s);
        gave_up = !committed.is_ok();
        return gave_up;
      },
      25s));
  const auto start = std::chrono::steady_clock::now();
  auto closed = a.close_within(1s);
  const auto took = std::chrono::steady_clock::now() - start;
  std::cerr << "close_within(1s) took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
            << " ms: " << (closed ? std::string("ok") : closed.message()) << "\n";
  EXPECT_LT(took, 3s);  // close() waits 5 s for its LeaveGroup, then longer for the JoinGroup
  EXPECT_FALSE(closed.is_ok());
  (void)c.close_within(1s);
}

TEST(KafkaTailReader, FindsTheNewestRecordsAndReadsRanges) {
  SFKB_REQUIRE_KAFKA();
  KafkaTestCluster cluster;
  const auto topic = it::unique_name("kafka-tail");
  cluster.create_topic(topic, 2);
  std::vector<it::TestRecord> records;
  for (int i = 0; i < 250; ++i) {
    records.push_back(
        {std::nullopt, std::to_string(i), {{"sf.replay_id", std::to_string(1000 + i)}}, 1});
  }
  cluster.produce(topic, records);
  TailReader reader(ClientConfig(kafka_config(cluster), Role::kConsumer));

  EXPECT_EQ(reader.partition_count(topic, 10s).value(), 2);
  EXPECT_FALSE(reader.partition_count(it::unique_name("missing"), 10s));
  auto marks = reader.watermarks(topic, 1, 10s);
  ASSERT_TRUE(marks) << marks.error().message;
  EXPECT_EQ(marks->low, 0);
  EXPECT_EQ(marks->high, 250);
  auto empty = reader.read_range(topic, 0, 0, 100, 10s);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty.value().empty());

  auto range = reader.read_range(topic, 1, 100, 110, 10s);
  ASSERT_TRUE(range) << range.error().message;
  ASSERT_EQ(range.value().size(), 10u);
  EXPECT_EQ(range.value().front().offset, 100);
  EXPECT_EQ(range.value().back().header("sf.replay_id"), "1109");

  std::vector<std::int64_t> seen;
  ASSERT_TRUE(reader.read_backwards(
      topic, 1,
      [&](const Record& r) {
        seen.push_back(r.offset);
        return r.offset > 95;  // stop after offset 95
      },
      10s, 64));
  ASSERT_EQ(seen.size(), 250u - 95u);
  EXPECT_EQ(seen.front(), 249);
  EXPECT_EQ(seen.back(), 95);
  for (std::size_t i = 1; i < seen.size(); ++i) {
    ASSERT_EQ(seen[i], seen[i - 1] - 1);
  }
}

}  // namespace
}  // namespace sfkb::kafka
