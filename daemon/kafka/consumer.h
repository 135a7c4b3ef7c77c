#pragma once
// The bridge's consumer-group member (Kafka -> Salesforce). Auto-commit and auto offset store are
// off (enforced by ClientConfig): offsets move only through commit(). The assignment strategy
// defaults to cooperative-sticky (incremental rebalances); an eager strategy set in
// kafka.properties works too.
//
// Threads: one owner thread calls every member. The rebalance hooks run on that thread, from
// inside poll(), synchronously: on_revoked() runs *before* the partitions are given up, so the
// pipeline can finish or abandon their in-flight work and commit(sync) what is done; the
// partitions are released when it returns. on_assigned() runs after the new partitions were added.
// Partitions lost without a clean revocation (session timeout) are reported through on_revoked()
// too (a commit for them will then fail). Hooks must not throw (an exception is logged and
// swallowed, never let into librdkafka's C frames).

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "daemon/core/result.h"
#include "daemon/kafka/client_config.h"
#include "daemon/kafka/handles.h"
#include "daemon/kafka/message.h"

namespace sfkb::kafka {

struct RebalanceHooks {
  std::function<void(const std::vector<TopicPartition>&)> on_assigned;
  std::function<void(const std::vector<TopicPartition>&)> on_revoked;
  // When set, lost partitions (the group moved them on without us: session timeout) come here
  // instead of on_revoked: another member may own them already, so nothing more may be written
  // for them.
  std::function<void(const std::vector<TopicPartition>&)> on_lost;
};

class Consumer {
 public:
  // `group_id` is the final group.id (see group_id_for()); `extra` is applied after the client
  // config (e.g. a session timeout of this member's own). Throws KafkaError at start-up.
  // `queue_per_partition`: each assigned partition's messages stay in a queue of its own, read
  // with poll_partition(); poll() then only serves events (rebalances, commits, errors) and keeps
  // the membership alive. The owner takes from the partitions that have room and leaves the
  // others waiting where they are, so no pause (which drops the prefetched messages and fetches
  // them again on resume) is needed to keep one partition's backlog from crowding out the others.
  Consumer(const ClientConfig& config, const std::string& group_id, RebalanceHooks hooks = {},
           const Properties& extra = {}, bool queue_per_partition = false);
  // close()s if the owner did not.
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Joins the group for these (full) topic names.
  core::Status subscribe(const std::vector<std::string>& topics);
  // Up to `max_messages` messages, waiting up to `timeout` for the first; serves rebalances.
  // kRetry for a transient consumer error (broker down...), kFatal for a fatal one. Messages must
  // be destroyed before the consumer.
  core::Result<std::vector<Message>> poll(std::chrono::milliseconds timeout,
                                          std::size_t max_messages);
  // With queue_per_partition: up to `max_messages` messages of one assigned partition, without
  // waiting (none for a partition not assigned). Errors as poll().
  core::Result<std::vector<Message>> poll_partition(const TopicPartition& partition,
                                                    std::size_t max_messages);
  // A paused partition delivers nothing until resumed; resuming continues right after the last
  // message poll() returned for it (librdkafka drops what it prefetched and fetches again).
  core::Status pause(const std::vector<TopicPartition>& partitions);
  core::Status resume(const std::vector<TopicPartition>& partitions);
  // Commits, per partition, the offset of the next record to consume. synchronous: waits for the
  // broker's answer; otherwise queued (its failure is logged and counted when poll() serves it).
  // A synchronous commit waits at most `timeout`, then kRetry (nothing is known committed): while
  // a vanished member holds the group in a rebalance the broker answers only when that member's
  // session ends (see close_within()).
  core::Status commit(const std::vector<TopicPartitionOffset>& offsets, bool synchronous,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds::max());
  // The offsets committed for the group, per partition (absent: none), for start-up and tests.
  core::Result<std::vector<TopicPartitionOffset>> committed(
      const std::vector<TopicPartition>& partitions, std::chrono::milliseconds timeout);
  std::vector<TopicPartition> assignment();
  // Leaves the group (revoking through the hooks first). Idempotent. librdkafka bounds it by its
  // own timeouts; it does not commit anything itself (auto-commit is off).
  core::Status close();
  // close() that gives up after `timeout`: leaving the group waits for a JoinGroup/SyncGroup
  // answer in flight, which the broker holds while a stopped or crashed member keeps the group
  // rebalancing (up to that member's session timeout). Revocations are served meanwhile. When
  // the time is up the member is abandoned (the group notices after its session timeout) and
  // the handle is kept until exit: destroying it would wait for the same answer. kRetry then.
  core::Status close_within(std::chrono::milliseconds timeout);
  // The bound close_within() and a synchronous commit get out of the process's whole
  // shutdown.timeout: an eighth (at least 250 ms), so that a group held in a rebalance by a
  // stopped member cannot make the stop overrun the timeout, while the drain before it keeps
  // the rest.
  static std::chrono::milliseconds leave_timeout(std::chrono::milliseconds shutdown) {
    return std::max(std::chrono::milliseconds(250), shutdown / 8);
  }

  rd_kafka_t* handle() const { return handle_.get(); }

 private:
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* partitions, void* opaque) noexcept;
  static void on_commit(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t* offsets, void* opaque) noexcept;
  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) noexcept;
  void rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);
  core::Status message_error(const rd_kafka_message_t& message);

  RebalanceHooks hooks_;
  bool queue_per_partition_ = false;
  // The queues of the assigned partitions (queue_per_partition), and the offset after the last
  // message handed out of each: a message below it is a re-delivery and is skipped.
  std::map<TopicPartition, QueuePtr> queues_;
  std::map<TopicPartition, std::int64_t> next_offset_;
  std::shared_ptr<const void> keep_alive_;
  bool closed_ = false;
  bool subscribed_ = false;
  bool assigned_once_ = false;
  HandlePtr handle_;  // last: destroyed first
};

// librdkafka before 2.3.0 aborts in rd_kafka_destroy() (`rd_kafka_sticky_assignor_state_destroy:
// Assertion 'assignor_state' failed`, librdkafka#4312, fixed by #4381) when a cooperative-sticky
// consumer that joined its group is destroyed before its first assignment arrived, e.g. when the
// bridge is stopped while the group waits out a crashed member. Such a consumer is closed (it has
// left the group) and its handle is then kept until the process exits instead of destroyed.
// `version` is rd_kafka_version().
bool destroy_would_abort(int version, bool subscribed, bool assigned_once);

// Reads partitions back without joining a group: the newest records of a partition and ranges of
// offsets, for start-up reconciliation (daemon/checkpoint). Not thread-safe; one per caller.
class TailReader {
 public:
  struct Watermarks {
    std::int64_t low = 0;   // the oldest retained offset
    std::int64_t high = 0;  // the offset the next record will get
  };

  explicit TailReader(const ClientConfig& config);  // Role::kConsumer; throws KafkaError
  ~TailReader();
  TailReader(const TailReader&) = delete;
  TailReader& operator=(const TailReader&) = delete;

  // From metadata, without creating the topic. kFatal: the topic does not exist.
  core::Result<std::int32_t> partition_count(const std::string& topic,
                                             std::chrono::milliseconds timeout);
  core::Result<Watermarks> watermarks(const std::string& topic, std::int32_t partition,
                                      std::chrono::milliseconds timeout);
  // Records with from_offset <= offset < to_offset (clamped to the watermarks), in offset order.
  // kRetry when the deadline passes first.
  core::Result<std::vector<Record>> read_range(const std::string& topic, std::int32_t partition,
                                               std::int64_t from_offset, std::int64_t to_offset,
                                               std::chrono::milliseconds timeout);
  // Visits records from the newest to the oldest retained one, reading `batch` records at a time,
  // until `visit` returns false. Each batch read has `timeout`.
  core::Status read_backwards(const std::string& topic, std::int32_t partition,
                              const std::function<bool(const Record&)>& visit,
                              std::chrono::milliseconds timeout, std::int64_t batch = 100);

 private:
  std::shared_ptr<const void> keep_alive_;
  HandlePtr handle_;
};

}  // namespace sfkb::kafka
