#include "daemon/kafka/consumer.h"

#include <algorithm>
#include <cstring>
#include <mutex>

#include "daemon/kafka/error.h"
#include "daemon/kafka/metadata.h"
#include "daemon/ops/log.h"
#include "daemon/ops/metrics.h"
#include "daemon/ops/repeat_limiter.h"

namespace sfkb::kafka {
namespace {

using Clock = std::chrono::steady_clock;

std::shared_ptr<spdlog::logger> log() {
  return ops::logger("kafka");
}

// Handles that must outlive their owner (see destroy_would_abort): reachable until exit, so leak
// checkers do not count them, and never destroyed.
void park_until_exit(HandlePtr handle) {
  static std::mutex mutex;
  static auto* parked = new std::vector<rd_kafka_t*>();
  std::lock_guard lock(mutex);
  parked->push_back(handle.release());
}

std::vector<TopicPartition> to_vector(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> out;
  if (list == nullptr) {
    return out;
  }
  out.reserve(static_cast<std::size_t>(list->cnt));
  for (int i = 0; i < list->cnt; ++i) {
    out.push_back({list->elems[i].topic, list->elems[i].partition});
  }
  return out;
}

PartitionListPtr to_list(const std::vector<TopicPartition>& partitions) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const auto& tp : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
  }
  return list;
}

std::string describe(const std::vector<TopicPartition>& partitions) {
  std::string out;
  for (const auto& tp : partitions) {
    out += (out.empty() ? "" : ", ") + tp.topic + "[" + std::to_string(tp.partition) + "]";
  }
  return out.empty() ? "none" : out;
}

// Per-partition errors of a list the broker answered.
core::Status check_list(const rd_kafka_topic_partition_list_t* list, const std::string& what) {
  for (int i = 0; i < list->cnt; ++i) {
    if (list->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return check(list->elems[i].err, what + " " + list->elems[i].topic + "[" +
                                           std::to_string(list->elems[i].partition) + "]");
    }
  }
  return core::Status::ok();
}

int ms(std::chrono::milliseconds d) {
  return static_cast<int>(std::max<long long>(0, d.count()));
}

int remaining_ms(Clock::time_point deadline) {
  return ms(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
}

}  // namespace

// ---- Consumer

Consumer::Consumer(const ClientConfig& config, const std::string& group_id, RebalanceHooks hooks,
                   const Properties& extra, bool queue_per_partition)
    : hooks_(std::move(hooks)),
      queue_per_partition_(queue_per_partition),
      keep_alive_(config.keep_alive()) {
  if (config.role() != Role::kConsumer) {
    throw KafkaError("Consumer needs a ClientConfig built for Role::kConsumer");
  }
  if (group_id.empty()) {
    throw KafkaError("Kafka consumer: empty group id");
  }
  Properties properties{{"group.id", group_id}};
  properties.insert(properties.end(), extra.begin(), extra.end());
  ConfPtr conf = config.make_conf(properties);
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &Consumer::on_rebalance);
  rd_kafka_conf_set_offset_commit_cb(conf.get(), &Consumer::on_commit);
  rd_kafka_conf_set_error_cb(conf.get(), &Consumer::on_error);
  char errstr[512];
  handle_.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), errstr, sizeof errstr));
  if (!handle_) {
    throw KafkaError(std::string("Kafka consumer: ") + errstr);
  }
  conf.release();
  // Every event (rebalances, commits, errors) is served by poll() on the owner's thread.
  rd_kafka_poll_set_consumer(handle_.get());
  log()->info("consumer {} created for group {} at {}", rd_kafka_name(handle_.get()), group_id,
              config.bootstrap_servers());
}

Consumer::~Consumer() {
  if (auto status = close(); !status) {
    log()->warn("{}", status.message());
  }
  if (handle_ != nullptr && destroy_would_abort(rd_kafka_version(), subscribed_, assigned_once_)) {
    log()->info(
        "{}: stopped before its first assignment; keeping the closed handle until exit "
        "(librdkafka {} would abort destroying it, librdkafka#4312)",
        rd_kafka_name(handle_.get()), rd_kafka_version_str());
    park_until_exit(std::move(handle_));
  }
}

bool destroy_would_abort(int version, bool subscribed, bool assigned_once) {
  constexpr int kFixedIn = 0x020300ff;  // 2.3.0
  return version < kFixedIn && subscribed && !assigned_once;
}

core::Status Consumer::subscribe(const std::vector<std::string>& topics) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const auto& topic : topics) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  subscribed_ = true;
  return check(rd_kafka_subscribe(handle_.get(), list.get()), "subscribe");
}

core::Result<std::vector<Message>> Consumer::poll(std::chrono::milliseconds timeout,
                                                  std::size_t max_messages) {
  std::vector<Message> out;
  int wait = ms(timeout);
  while (out.size() < max_messages) {
    MessagePtr message(rd_kafka_consumer_poll(handle_.get(), wait));
    wait = 0;  // only the first one waits
    if (!message) {
      break;
    }
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      continue;
    }
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      auto status = message_error(*message);
      if (!out.empty()) {
        break;  // hand over what was read; the error shows again on the next poll if it lasts
      }
      return status.error();
    }
    out.emplace_back(std::move(message));
  }
  return out;
}

core::Status Consumer::message_error(const rd_kafka_message_t& message) {
  char reason[512];
  if (rd_kafka_fatal_error(handle_.get(), reason, sizeof reason) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return core::fatal_error(std::string("Kafka consumer fatal error: ") + reason);
  }
  const std::string what =
      "consume" + (message.rkt != nullptr ? std::string(" ") + rd_kafka_topic_name(message.rkt)
                                          : std::string());
  auto status = check(message.err, what);
  // Once per poll while it lasts (a topic deleted, a broker gone): rate-limited, one limiter
  // for every consumer of the process.
  static ops::RepeatLimiter limiter;
  if (auto repeat = limiter.admit()) {
    log()->warn("{}{}", status.message(), repeat->suffix());
  }
  return core::Error{
      status.kind() == core::ErrorKind::kFatal ? core::ErrorKind::kFatal : core::ErrorKind::kRetry,
      status.message()};
}

core::Result<std::vector<Message>> Consumer::poll_partition(const TopicPartition& partition,
                                                            std::size_t max_messages) {
  std::vector<Message> out;
  auto it = queues_.find(partition);
  if (it == queues_.end() || max_messages == 0) {
    return out;
  }
  std::vector<rd_kafka_message_t*> batch(max_messages);
  const auto n = rd_kafka_consume_batch_queue(it->second.get(), 0, batch.data(), max_messages);
  if (n < 0) {
    return core::retry_error(std::string("consume ") + partition.topic + "[" +
                             std::to_string(partition.partition) +
                             "]: " + rd_kafka_err2str(rd_kafka_last_error()));
  }
  std::vector<MessagePtr> taken;
  taken.reserve(static_cast<std::size_t>(n));
  for (ssize_t i = 0; i < n; ++i) {
    taken.emplace_back(batch[static_cast<std::size_t>(i)]);  // owned from here, even on error
  }
  auto& next = next_offset_[partition];
  for (auto& message : taken) {
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      continue;
    }
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      auto status = message_error(*message);
      if (!out.empty()) {
        break;  // as poll(): what follows the error is fetched again (not handed out yet)
      }
      return status.error();
    }
    if (message->offset < next) {
      // Already handed out. Not seen with librdkafka 2.0 (reading a queue advances the position
      // a resume fetches from), kept so that a re-fetch can never hand a record out twice.
      continue;
    }
    next = message->offset + 1;
    out.emplace_back(std::move(message));
  }
  return out;
}

core::Status Consumer::pause(const std::vector<TopicPartition>& partitions) {
  if (partitions.empty()) {
    return core::Status::ok();
  }
  auto list = to_list(partitions);
  if (auto status = check(rd_kafka_pause_partitions(handle_.get(), list.get()), "pause"); !status) {
    return status;
  }
  return check_list(list.get(), "pause");
}

core::Status Consumer::resume(const std::vector<TopicPartition>& partitions) {
  if (partitions.empty()) {
    return core::Status::ok();
  }
  auto list = to_list(partitions);
  if (auto status = check(rd_kafka_resume_partitions(handle_.get(), list.get()), "resume");
      !status) {
    return status;
  }
  return check_list(list.get(), "resume");
}

core::Status Consumer::commit(const std::vector<TopicPartitionOffset>& offsets, bool synchronous,
                              std::chrono::milliseconds timeout) {
  if (offsets.empty()) {
    return core::Status::ok();
  }
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& o : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), o.topic.c_str(), o.partition)->offset = o.offset;
  }
  if (synchronous && timeout != std::chrono::milliseconds::max()) {
    const auto deadline = Clock::now() + timeout;
    QueuePtr queue(rd_kafka_queue_new(handle_.get()));
    if (auto status =
            check(rd_kafka_commit_queue(handle_.get(), list.get(), queue.get(), nullptr, nullptr),
                  "commit");
        !status) {
      ops::Metrics::global().counter(ops::Metric::kKafkaCommitFailures).inc();
      return status;
    }
    while (Clock::now() < deadline) {
      rd_kafka_event_t* event = rd_kafka_queue_poll(queue.get(), remaining_ms(deadline));
      if (event == nullptr) {
        continue;
      }
      if (rd_kafka_event_type(event) != RD_KAFKA_EVENT_OFFSET_COMMIT) {
        rd_kafka_event_destroy(event);
        continue;
      }
      auto status = check(rd_kafka_event_error(event), "commit");
      if (status) {
        if (const auto* answered = rd_kafka_event_topic_partition_list(event)) {
          status = check_list(answered, "commit");
        }
      }
      rd_kafka_event_destroy(event);
      if (!status) {
        ops::Metrics::global().counter(ops::Metric::kKafkaCommitFailures).inc();
      }
      return status;
    }
    ops::Metrics::global().counter(ops::Metric::kKafkaCommitFailures).inc();
    return core::Error{core::ErrorKind::kRetry,
                       "commit: no answer from the group coordinator within " +
                           std::to_string(timeout.count()) + " ms"};
  }
  const auto err = rd_kafka_commit(handle_.get(), list.get(), synchronous ? 0 : 1);
  if (auto status = check(err, "commit"); !status) {
    ops::Metrics::global().counter(ops::Metric::kKafkaCommitFailures).inc();
    return status;
  }
  if (synchronous) {
    return check_list(list.get(), "commit");
  }
  return core::Status::ok();
}

core::Result<std::vector<TopicPartitionOffset>> Consumer::committed(
    const std::vector<TopicPartition>& partitions, std::chrono::milliseconds timeout) {
  auto list = to_list(partitions);
  if (auto status = check(rd_kafka_committed(handle_.get(), list.get(), ms(timeout)), "committed");
      !status) {
    return status.error();
  }
  std::vector<TopicPartitionOffset> out;
  for (int i = 0; i < list->cnt; ++i) {
    if (list->elems[i].err == RD_KAFKA_RESP_ERR_NO_ERROR && list->elems[i].offset >= 0) {
      out.push_back({list->elems[i].topic, list->elems[i].partition, list->elems[i].offset});
    }
  }
  return out;
}

std::vector<TopicPartition> Consumer::assignment() {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(handle_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return {};
  }
  PartitionListPtr list(raw);
  return to_vector(list.get());
}

core::Status Consumer::close() {
  if (closed_) {
    return core::Status::ok();
  }
  closed_ = true;
  auto status = check(rd_kafka_consumer_close(handle_.get()), "consumer close");
  queues_.clear();  // every partition queue is released before the handle is destroyed
  next_offset_.clear();
  return status;
}

core::Status Consumer::close_within(std::chrono::milliseconds timeout) {
  if (closed_) {
    return core::Status::ok();
  }
  closed_ = true;
  const auto deadline = Clock::now() + timeout;
  QueuePtr queue(rd_kafka_queue_new(handle_.get()));
  if (rd_kafka_error_t* error = rd_kafka_consumer_close_queue(handle_.get(), queue.get())) {
    const std::string message = rd_kafka_error_string(error);
    rd_kafka_error_destroy(error);
    queues_.clear();
    next_offset_.clear();
    return core::Error{core::ErrorKind::kRetry, "consumer close: " + message};
  }
  // The revocation (and the hooks with it) is served from this queue, on this thread.
  while (rd_kafka_consumer_closed(handle_.get()) == 0 && Clock::now() < deadline) {
    rd_kafka_queue_poll_callback(queue.get(), std::min(100, remaining_ms(deadline)));
  }
  const bool done = rd_kafka_consumer_closed(handle_.get()) != 0;
  queues_.clear();
  next_offset_.clear();
  if (done) {
    return core::Status::ok();
  }
  // The close is still waiting inside librdkafka; the handle is never destroyed.
  queue.reset();
  park_until_exit(std::move(handle_));
  return core::Error{core::ErrorKind::kRetry,
                     "consumer close: the group did not answer within " +
                         std::to_string(timeout.count()) +
                         " ms (rebalancing); left without a LeaveGroup, the group drops this "
                         "member after its session timeout"};
}

void Consumer::on_rebalance(rd_kafka_t*, rd_kafka_resp_err_t err,
                            rd_kafka_topic_partition_list_t* partitions, void* opaque) noexcept {
  try {
    static_cast<Consumer*>(opaque)->rebalance(err, partitions);
  } catch (const std::exception& e) {
    log()->error("rebalance handling threw: {}", e.what());
  } catch (...) {
    log()->error("rebalance handling threw a non-standard exception");
  }
}

void Consumer::rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions) {
  rd_kafka_t* rk = handle_.get();
  const char* protocol = rd_kafka_rebalance_protocol(rk);
  const bool cooperative = protocol != nullptr && std::strcmp(protocol, "COOPERATIVE") == 0;
  const auto list = to_vector(partitions);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    assigned_once_ = true;  // the assignor's state exists from here on
    if (queue_per_partition_) {
      // Before the assignment starts fetching: forwarding set by the application is kept when the
      // fetch starts (otherwise the first fetched messages could reach the main queue).
      for (const auto& tp : list) {
        QueuePtr queue(rd_kafka_queue_get_partition(rk, tp.topic.c_str(), tp.partition));
        if (!queue) {
          log()->error("no queue for {}[{}]", tp.topic, tp.partition);
          continue;
        }
        rd_kafka_queue_forward(queue.get(), nullptr);
        queues_[tp] = std::move(queue);
        next_offset_.erase(tp);
      }
    }
    core::Status status = cooperative ? check(rd_kafka_incremental_assign(rk, partitions), "assign")
                                      : check(rd_kafka_assign(rk, partitions), "assign");
    if (!status) {
      log()->error("{}", status.message());
      return;
    }
    log()->info("assigned: {}", describe(list));
    if (hooks_.on_assigned) {
      try {
        hooks_.on_assigned(list);
      } catch (const std::exception& e) {
        log()->error("on_assigned hook threw: {}", e.what());
      }
    }
    return;
  }
  if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    const bool lost = rd_kafka_assignment_lost(rk) != 0;
    if (lost) {
      log()->warn("partitions lost (no clean revocation; commits for them will fail): {}",
                  describe(list));
    } else {
      log()->info("revoking: {}", describe(list));
    }
    const auto& hook = lost && hooks_.on_lost ? hooks_.on_lost : hooks_.on_revoked;
    if (hook) {
      try {
        hook(list);
      } catch (const std::exception& e) {
        log()->error("on_revoked hook threw: {}", e.what());
      }
    }
    core::Status status = cooperative
                              ? check(rd_kafka_incremental_unassign(rk, partitions), "unassign")
                              : check(rd_kafka_assign(rk, nullptr), "unassign");
    if (!status) {
      log()->error("{}", status.message());
    }
    for (const auto& tp : list) {
      queues_.erase(tp);
      next_offset_.erase(tp);
    }
    return;
  }
  log()->error("rebalance failed: {}", rd_kafka_err2str(err));
  rd_kafka_assign(rk, nullptr);
  queues_.clear();
  next_offset_.clear();
}

void Consumer::on_commit(rd_kafka_t*, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t* offsets, void*) noexcept {
  try {
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET) {
      if (offsets != nullptr) {
        if (auto status = check_list(offsets, "commit"); !status) {
          log()->warn("{}", status.message());
        }
      }
      return;
    }
    ops::Metrics::global().counter(ops::Metric::kKafkaCommitFailures).inc();
    static ops::RepeatLimiter limiter;  // once per batch while the coordinator is away
    if (auto repeat = limiter.admit()) {
      log()->warn("offset commit failed: {} ({}){}", rd_kafka_err2str(err), rd_kafka_err2name(err),
                  repeat->suffix());
    }
  } catch (...) {
  }
}

void Consumer::on_error(rd_kafka_t* rk, int err, const char* reason, void*) noexcept {
  try {
    auto level = err == RD_KAFKA_RESP_ERR__FATAL ? spdlog::level::critical : spdlog::level::warn;
    log()->log(level, "consumer {}: {} ({})", rd_kafka_name(rk), reason,
               rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)));
  } catch (...) {
  }
}

// ---- TailReader

TailReader::TailReader(const ClientConfig& config) : keep_alive_(config.keep_alive()) {
  if (config.role() != Role::kConsumer) {
    throw KafkaError("TailReader needs a ClientConfig built for Role::kConsumer");
  }
  // group.id is required by librdkafka but never joined: assign() only, no commits.
  ConfPtr conf =
      config.make_conf({{"group.id", group_id_for(config.kafka(), "sf-kafka-bridge-tail-reader")},
                        {"enable.partition.eof", "true"},
                        {"auto.offset.reset", "earliest"}});
  char errstr[512];
  handle_.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), errstr, sizeof errstr));
  if (!handle_) {
    throw KafkaError(std::string("Kafka tail reader: ") + errstr);
  }
  conf.release();
}

TailReader::~TailReader() {
  rd_kafka_consumer_close(handle_.get());
}

core::Result<std::int32_t> TailReader::partition_count(const std::string& topic,
                                                       std::chrono::milliseconds timeout) {
  return metadata_partition_count(handle_.get(), topic, timeout);
}

core::Result<TailReader::Watermarks> TailReader::watermarks(const std::string& topic,
                                                            std::int32_t partition,
                                                            std::chrono::milliseconds timeout) {
  // librdkafka 2.0's watermark query can wait far past its timeout when no broker answers, so a
  // metadata request (which keeps its timeout) checks the cluster is there first.
  const auto deadline = Clock::now() + timeout;
  auto count = metadata_partition_count(handle_.get(), topic, timeout);
  if (!count) {
    return count.error();
  }
  if (partition < 0 || partition >= count.value()) {
    return core::fatal_error("topic " + topic + " has no partition " + std::to_string(partition));
  }
  Watermarks w;
  const auto err = rd_kafka_query_watermark_offsets(handle_.get(), topic.c_str(), partition, &w.low,
                                                    &w.high, std::max(1, remaining_ms(deadline)));
  if (auto status = check(err, "watermarks of " + topic + "[" + std::to_string(partition) + "]");
      !status) {
    return status.error();
  }
  return w;
}

core::Result<std::vector<Record>> TailReader::read_range(const std::string& topic,
                                                         std::int32_t partition,
                                                         std::int64_t from_offset,
                                                         std::int64_t to_offset,
                                                         std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  auto marks = watermarks(topic, partition, timeout);
  if (!marks) {
    return marks.error();
  }
  const std::int64_t from = std::max(from_offset, marks->low);
  const std::int64_t to = std::min(to_offset, marks->high);
  std::vector<Record> out;
  if (from >= to) {
    return out;
  }
  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = from;
  if (auto status = check(rd_kafka_assign(handle_.get(), list.get()), "assign"); !status) {
    return status.error();
  }
  core::Status result = core::Status::ok();
  while (true) {
    if (Clock::now() >= deadline) {
      result =
          core::retry_error("reading " + topic + "[" + std::to_string(partition) + "] " +
                            std::to_string(from) + ".." + std::to_string(to) +
                            ": deadline passed after " + std::to_string(out.size()) + " records");
      break;
    }
    MessagePtr message(
        rd_kafka_consumer_poll(handle_.get(), std::min(100, remaining_ms(deadline))));
    if (!message) {
      continue;
    }
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (message->offset >= to) {
        break;  // control records (transaction markers) may hide the last offsets
      }
      continue;
    }
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      auto status = check(message->err, "reading " + topic);
      if (status.kind() != core::ErrorKind::kRetry) {
        result = status;
        break;
      }
      continue;
    }
    if (message->offset >= to) {
      break;
    }
    out.push_back(Message(std::move(message)).to_record());
    if (out.back().offset == to - 1) {
      break;
    }
  }
  rd_kafka_assign(handle_.get(), nullptr);
  if (!result) {
    return result.error();
  }
  return out;
}

core::Status TailReader::read_backwards(const std::string& topic, std::int32_t partition,
                                        const std::function<bool(const Record&)>& visit,
                                        std::chrono::milliseconds timeout, std::int64_t batch) {
  auto marks = watermarks(topic, partition, timeout);
  if (!marks) {
    return marks.status();
  }
  batch = std::max<std::int64_t>(1, batch);
  for (std::int64_t end = marks->high; end > marks->low;) {
    const std::int64_t start = std::max(marks->low, end - batch);
    auto records = read_range(topic, partition, start, end, timeout);
    if (!records) {
      return records.status();
    }
    for (auto it = records->rbegin(); it != records->rend(); ++it) {
      if (!visit(*it)) {
        return core::Status::ok();
      }
    }
    end = start;
  }
  return core::Status::ok();
}

}  // namespace sfkb::kafka
