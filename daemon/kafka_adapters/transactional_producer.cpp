#include "daemon/kafka_adapters/transactional_producer.h"

#include <algorithm>
#include <future>
#include <limits>
#include <thread>

#include "daemon/checkpoint/file_store.h"
#include "daemon/kafka/client_config.h"
#include "daemon/kafka/record_headers.h"
#include "daemon/ops/log.h"
#include "daemon/ops/log_fields.h"
#include "daemon/ops/metrics.h"
#include "daemon/ops/repeat_limiter.h"

namespace sfkb::kafka_adapters {

using pipeline::DeliveryReport;
using pipeline::DeliveryTag;
using pipeline::KafkaRecord;
using Clock = std::chrono::steady_clock;

namespace {

// The token id of the position record: the records of the transaction use their index.
constexpr std::uint64_t kPositionToken = std::numeric_limits<std::uint64_t>::max();
// A commit that keeps timing out is aborted and its records produced again after this many tries.
constexpr int kCommitRetries = 3;
// A transaction aborted this many times in a row without a commit in between is a lasting error
// (e.g. a topic the bridge may not write): the channel's records are reported failed, and the
// pipeline stops without moving its checkpoint past them.
constexpr int kAbortsInRow = 10;

std::shared_ptr<spdlog::logger> log() {
  return ops::logger("subscribe");
}

}  // namespace

std::string coordination_group(const config::Config& config) {
  return config.coordination.group;
}

std::string transactional_id(const config::Config& config, const std::string& channel) {
  return config.kafka.topic_prefix + coordination_group(config) + "." + channel;
}

struct TransactionalEventProducer::Lane {
  struct Pending {
    KafkaRecord record;
    DeliveryTag tag;
    std::int32_t partition = -1;
    std::int64_t offset = -1;
  };

  std::string channel;
  std::string id;     // transactional.id
  std::string topic;  // the channel's destination, as named in Kafka
  std::mutex mutex;
  std::unique_ptr<kafka::Producer> producer;
  bool initialized = false;
  bool open = false;  // a transaction is begun
  Clock::time_point opened;
  std::vector<Pending> pending;  // the open transaction's records, in produce order
  std::uint64_t attempt = 0;     // callbacks of an aborted attempt are ignored
  bool fenced = false;
  bool failed = false;
  std::string failure;
  // A produce failed inside the transaction: abort it before committing.
  bool doomed = false;
  // The delivery thread is committing (without the mutex): produce() queues records in
  // `waiting`, which become the next transaction, instead of waiting for the commit.
  bool committing = false;
  std::vector<Pending> waiting;
  ops::Counter* aborts = nullptr;
  ops::RepeatLimiter abort_warnings;
};

TransactionalEventProducer::TransactionalEventProducer(const config::Config& config,
                                                       std::optional<std::string> checkpoint_topic,
                                                       TransactionLimits limits)
    : checkpoint_topic_(std::move(checkpoint_topic)), limits_(limits) {
  // Records of an open transaction count as in flight (limits.max_in_flight_events): a channel
  // commits once it holds half that bound, so that a busy pipeline does not wait for max_age. Not
  // a share per channel: Salesforce often delivers one channel's backlog at a time.
  limits_.max_records =
      std::clamp<std::size_t>(config.limits.max_in_flight_events / 2, 1, limits_.max_records);
  const kafka::ClientConfig client(config.kafka, kafka::Role::kProducer);
  auto& metrics = ops::Metrics::global();
  // librdkafka requires a bounded message timeout within the transaction timeout; a record that
  // times out makes its transaction abortable, and the abort produces it again.
  const auto transaction_timeout = std::to_string(
      std::max<long long>(60000, static_cast<long long>(limits_.timeout.count()) * 2));
  for (const auto& mapping : config.subscribe) {
    auto lane = std::make_unique<Lane>();
    Lane* raw = lane.get();
    lane->channel = mapping.channel;
    lane->id = transactional_id(config, mapping.channel);
    lane->topic = config::full_topic(config.kafka, mapping.topic);
    lane->aborts = &metrics.counter(ops::Metric::kSubscribeTransactionAborts, {mapping.channel});
    // The callback runs inside poll/commit/abort, which are called with the lane's mutex held.
    lane->producer = std::make_unique<kafka::Producer>(
        client,
        [raw](const kafka::Delivery& delivery) {
          if (delivery.token.id == kPositionToken ||
              static_cast<std::uint64_t>(delivery.token.value) != raw->attempt ||
              delivery.token.id >= raw->pending.size() || !delivery.status) {
            return;  // a failure surfaces as the transaction's error
          }
          auto& pending = raw->pending[delivery.token.id];
          pending.partition = delivery.partition;
          pending.offset = delivery.offset;
        },
        kafka::Properties{{"transactional.id", lane->id},
                          {"transaction.timeout.ms", transaction_timeout},
                          {"message.timeout.ms", transaction_timeout}});
    lanes_.push_back(std::move(lane));
  }
}

TransactionalEventProducer::~TransactionalEventProducer() {
  // What is still open was never reported as delivered: abort it, so that read_committed readers
  // of these partitions are not held up until the transaction times out.
  for (auto& lane : lanes_) {
    std::lock_guard lock(lane->mutex);
    if (lane->open && !lane->fenced && !lane->failed) {
      lane->producer->abort_transaction(std::chrono::seconds(5));
    }
  }
}

void TransactionalEventProducer::set_delivery_handler(pipeline::DeliveryHandler handler) {
  handler_ = std::move(handler);
}

core::Status TransactionalEventProducer::initialize(std::stop_token stop) {
  for (auto& lane : lanes_) {
    if (stop.stop_requested()) {
      return core::Error{core::ErrorKind::kStopped, "stopped"};
    }
    std::lock_guard lock(lane->mutex);
    if (lane->initialized || lane->fenced) {
      continue;
    }
    auto result = lane->producer->init_transactions(limits_.timeout);
    switch (result.outcome) {
      case kafka::TxnOutcome::kOk:
        lane->initialized = true;
        ops::info(log(), "{} transactional.id {} initialised (earlier owners fenced)",
                  ops::field("channel", lane->channel), lane->id);
        warm_up(*lane);
        break;
      case kafka::TxnOutcome::kRetry:
      case kafka::TxnOutcome::kAbort:
        return core::retry_error("channel " + lane->channel + ": " + result.message);
      case kafka::TxnOutcome::kFenced:
      case kafka::TxnOutcome::kFatal:
        return core::fatal_error("channel " + lane->channel + " (transactional.id " + lane->id +
                                 "): " + result.message);
    }
  }
  return core::Status::ok();
}

void TransactionalEventProducer::warm_up(Lane& lane) {
  // Each channel has a producer of its own, and a librdkafka producer that has not yet seen a
  // topic's metadata holds the first records for that topic until its next metadata refresh
  // (measured: 0.6 to 1 s, during which the transaction's commit waits for its flush). Asking
  // for the metadata now makes the first transaction as quick as the following ones
  // (bench/RESULTS.md, "transactions"). A failure is not an error here: producing reports it.
  std::vector<std::string> topics{lane.topic};
  if (checkpoint_topic_) {
    topics.push_back(*checkpoint_topic_);
  }
  for (const auto& topic : topics) {
    if (auto count = lane.producer->partition_count(topic, limits_.timeout); !count) {
      ops::debug(log(), "{} metadata of {} not loaded yet: {}", ops::field("channel", lane.channel),
                 topic, count.error().message);
    }
  }
}

core::Status TransactionalEventProducer::produce(const KafkaRecord& record, DeliveryTag tag) {
  if (tag.channel >= lanes_.size()) {
    return core::fatal_error("no producer for channel index " + std::to_string(tag.channel));
  }
  Lane& lane = *lanes_[tag.channel];
  std::vector<DeliveryReport> reports;
  bool wake = false;
  {
    std::lock_guard lock(lane.mutex);
    // A lane that gave up reports the record at once, as it reported the others.
    const auto refuse = [&] {
      DeliveryReport report;
      report.tag = tag;
      report.fenced = lane.fenced;
      report.status = core::fatal_error(lane.failure);
      reports.push_back(std::move(report));
    };
    if (lane.fenced || lane.failed) {
      refuse();
    } else if (lane.committing) {
      lane.waiting.push_back({record, tag});
    } else {
      if (!lane.open) {
        auto begun = lane.producer->begin_transaction();
        if (!begun.ok()) {
          give_up(lane, begun.message, begun.outcome == kafka::TxnOutcome::kFenced, reports);
          refuse();
          goto queue;
        }
        lane.open = true;
        lane.opened = Clock::now();
      }
      lane.pending.push_back({record, tag});
      kafka::OutgoingRecord out;
      out.topic = record.topic;
      out.partition = record.partition;
      if (record.key) {
        out.key = std::string_view(*record.key);
      }
      out.value = record.value;
      out.headers = record.headers;
      core::Status status = lane.producer->produce(
          out,
          kafka::DeliveryToken(lane.pending.size() - 1, static_cast<std::int64_t>(lane.attempt)));
      if (!status) {
        if (lane.producer->fenced()) {
          lane.pending.pop_back();
          give_up(lane, status.message(), true, reports);
          refuse();
          goto queue;
        }
        if (status.kind() == core::ErrorKind::kRetry ||
            status.kind() == core::ErrorKind::kInvalidInput) {
          lane.pending.pop_back();  // the local queue is full, or the record can never go
          return status;
        }
        // The transaction is in an error state (an earlier record failed): the record stays
        // pending, and the commit aborts and produces the whole transaction again.
        lane.doomed = true;
        wake = true;
      } else {
        wake = lane.pending.size() >= limits_.max_records;
      }
    }
  }
queue:
  if (!reports.empty()) {
    std::lock_guard lock(queued_mutex_);
    queued_.insert(queued_.end(), reports.begin(), reports.end());
    wake = true;
  }
  if (wake) {
    std::lock_guard lock(wake_mutex_);
    wake_pending_ = true;
    wake_.notify_one();
  }
  return core::Status::ok();
}

void TransactionalEventProducer::give_up(Lane& lane, const std::string& why, bool fenced,
                                         std::vector<DeliveryReport>& out) {
  const bool first = !lane.fenced && !lane.failed;
  lane.fenced = lane.fenced || fenced;
  lane.failed = lane.failed || !fenced;
  lane.failure = fenced ? "channel " + lane.channel + " fenced: transactional.id " + lane.id +
                              " belongs to a newer owner (" + why + ")"
                        : "channel " + lane.channel + ": " + why;
  if (first) {
    if (fenced) {
      ops::warn(log(),
                "{} fenced: another instance took transactional.id {} over; this instance "
                "stops writing the channel, and its {} uncommitted event(s) are left to the new "
                "owner ({})",
                ops::field("channel", lane.channel), lane.id, lane.pending.size(), why);
    } else {
      ops::error(log(), "{} transaction failed: {}", ops::field("channel", lane.channel), why);
    }
  }
  for (const auto& pending : lane.pending) {
    DeliveryReport report;
    report.tag = pending.tag;
    report.fenced = lane.fenced;
    report.status = core::fatal_error(lane.failure);
    out.push_back(std::move(report));
  }
  for (const auto& waiting : lane.waiting) {
    DeliveryReport report;
    report.tag = waiting.tag;
    report.fenced = lane.fenced;
    report.status = core::fatal_error(lane.failure);
    out.push_back(std::move(report));
  }
  lane.pending.clear();
  lane.waiting.clear();
  lane.open = false;
}

kafka::TxnResult TransactionalEventProducer::reproduce(Lane& lane) {
  auto begun = lane.producer->begin_transaction();
  if (!begun.ok()) {
    return begun;
  }
  lane.opened = Clock::now();
  return produce_all(lane);
}

kafka::TxnResult TransactionalEventProducer::produce_all(Lane& lane) {
  ++lane.attempt;  // the aborted attempt's callbacks (purged records) no longer count
  for (std::size_t i = 0; i < lane.pending.size(); ++i) {
    auto& pending = lane.pending[i];
    pending.partition = -1;
    pending.offset = -1;
    kafka::OutgoingRecord out;
    out.topic = pending.record.topic;
    out.partition = pending.record.partition;
    if (pending.record.key) {
      out.key = std::string_view(*pending.record.key);
    }
    out.value = pending.record.value;
    out.headers = pending.record.headers;
    while (true) {
      core::Status status = lane.producer->produce(
          out, kafka::DeliveryToken(i, static_cast<std::int64_t>(lane.attempt)));
      if (status) {
        break;
      }
      if (status.kind() != core::ErrorKind::kRetry) {
        if (lane.producer->fenced()) {
          return {kafka::TxnOutcome::kFenced, status.message()};
        }
        lane.doomed = true;  // the new transaction failed too: abort it as well
        return {kafka::TxnOutcome::kAbort, status.message()};
      }
      lane.producer->poll(std::chrono::milliseconds(10));  // the local queue is full
    }
  }
  return {};
}

kafka::TxnResult TransactionalEventProducer::produce_position(Lane& lane) {
  if (checkpoint_topic_ && !lane.pending.empty()) {
    const auto& last = lane.pending.back();
    checkpoint::ChannelCheckpoint position;
    position.replay_id = last.tag.replay_id;
    position.epoch = last.tag.epoch;
    position.updated = checkpoint::utc_now_rfc3339();
    if (last.record.partition >= 0) {
      position.partition = last.record.partition;
    }
    for (const auto& [name, value] : last.record.headers) {
      if (name == kafka::kHeaderOrgId) {
        position.org_id = value;
      }
    }
    const std::string value = checkpoint::encode_checkpoint_entry(position);
    kafka::OutgoingRecord record;
    record.topic = *checkpoint_topic_;
    record.key = std::string_view(lane.channel);
    record.value = value;
    core::Status status = lane.producer->produce(
        record, kafka::DeliveryToken(kPositionToken, static_cast<std::int64_t>(lane.attempt)));
    while (!status && status.kind() == core::ErrorKind::kRetry) {
      lane.producer->poll(std::chrono::milliseconds(10));
      status = lane.producer->produce(
          record, kafka::DeliveryToken(kPositionToken, static_cast<std::int64_t>(lane.attempt)));
    }
    if (!status) {
      return {lane.producer->fenced() ? kafka::TxnOutcome::kFenced : kafka::TxnOutcome::kAbort,
              "writing the position to " + *checkpoint_topic_ + ": " + status.message()};
    }
  }
  return {};
}

kafka::TxnResult TransactionalEventProducer::finish(Lane& lane) {
  if (auto written = produce_position(lane); !written.ok()) {
    if (written.outcome == kafka::TxnOutcome::kFenced) {
      return written;
    }
    lane.doomed = true;
  }
  int retries = 0;
  int aborts_in_row = 0;
  while (true) {
    auto result = lane.doomed ? kafka::TxnResult{kafka::TxnOutcome::kAbort,
                                                 "a record was refused inside the transaction"}
                              : lane.producer->commit_transaction(limits_.timeout);
    lane.doomed = false;
    if (result.ok()) {
      return result;
    }
    if (result.outcome == kafka::TxnOutcome::kRetry && ++retries < kCommitRetries) {
      continue;
    }
    if (result.outcome == kafka::TxnOutcome::kRetry ||
        result.outcome == kafka::TxnOutcome::kAbort) {
      retries = 0;
      lane.aborts->inc();
      if (auto repeat = lane.abort_warnings.admit()) {
        ops::warn(log(), "{} transaction of {} event(s) aborted ({}); producing them again{}",
                  ops::field("channel", lane.channel), lane.pending.size(), result.message,
                  repeat->suffix());
      }
      auto aborted = lane.producer->abort_transaction(limits_.timeout);
      while (aborted.outcome == kafka::TxnOutcome::kRetry) {
        aborted = lane.producer->abort_transaction(limits_.timeout);
      }
      if (aborted.ok()) {
        aborted = reproduce(lane);
      }
      if (aborted.ok()) {
        // The position record of the aborted attempt went with it: write it again.
        aborted = produce_position(lane);
        lane.doomed = lane.doomed || aborted.outcome == kafka::TxnOutcome::kAbort;
      }
      if (aborted.outcome == kafka::TxnOutcome::kAbort && ++aborts_in_row < kAbortsInRow) {
        continue;  // doomed again: the next turn aborts it
      }
      if (!aborted.ok()) {
        if (aborted.outcome != kafka::TxnOutcome::kFenced) {
          aborted.outcome = kafka::TxnOutcome::kFatal;
        }
        return aborted;
      }
      continue;
    }
    return result;
  }
}

void TransactionalEventProducer::complete(Lane& lane, const kafka::TxnResult& result,
                                          std::vector<DeliveryReport>& out) {
  lane.committing = false;
  if (!result.ok()) {
    give_up(lane, result.message, result.outcome == kafka::TxnOutcome::kFenced, out);
    return;
  }
  for (const auto& pending : lane.pending) {
    DeliveryReport report;
    report.tag = pending.tag;
    report.partition = pending.partition;
    report.offset = pending.offset;
    out.push_back(std::move(report));
  }
  lane.pending.clear();
  lane.open = false;
  if (lane.waiting.empty()) {
    return;
  }
  // What arrived during the commit is the next transaction.
  auto begun = lane.producer->begin_transaction();
  if (!begun.ok()) {
    give_up(lane, begun.message, begun.outcome == kafka::TxnOutcome::kFenced, out);
    return;
  }
  lane.open = true;
  lane.opened = Clock::now();
  lane.pending = std::move(lane.waiting);
  lane.waiting.clear();
  if (auto produced = produce_all(lane); !produced.ok()) {
    if (produced.outcome == kafka::TxnOutcome::kFenced) {
      give_up(lane, produced.message, true, out);
    }
  }
}

bool TransactionalEventProducer::serve(Due due, std::vector<DeliveryReport>& out) {
  bool any = false;
  const auto now = Clock::now();
  // While the broker commits, the pipeline goes on: produce() queues a committing channel's next
  // records. Only the committing thread touches `pending` (and the transaction) meanwhile. The
  // channels' commits are independent (a producer each) and run side by side: one round trip
  // for all of them, not one per channel.
  std::vector<Lane*> due_lanes;
  for (auto& lane : lanes_) {
    std::lock_guard lock(lane->mutex);
    lane->producer->poll(std::chrono::milliseconds(0));
    if (!lane->open) {
      continue;
    }
    if (due == Due::kAll || lane->doomed || lane->pending.size() >= limits_.max_records ||
        (!lane->pending.empty() && now - lane->opened >= limits_.max_age)) {
      lane->committing = true;
      due_lanes.push_back(lane.get());
    }
  }
  std::vector<kafka::TxnResult> results(due_lanes.size());
  if (due_lanes.size() == 1) {
    results[0] = finish(*due_lanes[0]);
  } else if (!due_lanes.empty()) {
    std::vector<std::future<kafka::TxnResult>> running;
    for (Lane* lane : due_lanes) {
      running.push_back(std::async(std::launch::async, [this, lane] { return finish(*lane); }));
    }
    for (std::size_t i = 0; i < running.size(); ++i) {
      results[i] = running[i].get();
    }
  }
  for (std::size_t i = 0; i < due_lanes.size(); ++i) {
    std::lock_guard lock(due_lanes[i]->mutex);
    complete(*due_lanes[i], results[i], out);
    any = true;
  }
  {
    std::lock_guard lock(queued_mutex_);
    if (!queued_.empty()) {
      out.insert(out.end(), queued_.begin(), queued_.end());
      queued_.clear();
      any = true;
    }
  }
  return any;
}

void TransactionalEventProducer::hand_over(std::vector<DeliveryReport>& reports) {
  if (handler_) {
    for (const auto& report : reports) {
      handler_(report);
    }
  }
  reports.clear();
}

void TransactionalEventProducer::poll(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::vector<DeliveryReport> reports;
  while (true) {
    serve(Due::kNow, reports);
    const bool served = !reports.empty();
    hand_over(reports);
    const auto now = Clock::now();
    if (now >= deadline || served) {
      return;
    }
    // Sleep until the oldest open transaction is due, a full one wakes us, or the deadline.
    auto next = deadline;
    for (auto& lane : lanes_) {
      std::lock_guard lock(lane->mutex);
      if (lane->open && !lane->pending.empty()) {
        next = std::min(next, lane->opened + limits_.max_age);
      }
    }
    std::unique_lock lock(wake_mutex_);
    wake_.wait_until(lock, next, [this] { return wake_pending_; });
    wake_pending_ = false;
  }
}

core::Status TransactionalEventProducer::flush(std::chrono::milliseconds) {
  std::vector<DeliveryReport> reports;
  // Records produced while a transaction committed form the next one: a few rounds commit them.
  for (int round = 0; round < 3; ++round) {
    serve(Due::kAll, reports);
  }
  hand_over(reports);
  for (auto& lane : lanes_) {
    std::lock_guard lock(lane->mutex);
    if (lane->open && !lane->pending.empty()) {
      return core::retry_error("channel " + lane->channel + ": a transaction is still open");
    }
  }
  return core::Status::ok();
}

core::Result<std::int32_t> TransactionalEventProducer::partition_count(const std::string& topic) {
  if (lanes_.empty()) {
    return core::fatal_error("no subscribe channel configured");
  }
  return lanes_.front()->producer->partition_count(topic, std::chrono::seconds(15));
}

}  // namespace sfkb::kafka_adapters
