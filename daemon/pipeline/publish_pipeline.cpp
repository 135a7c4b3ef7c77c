#include "daemon/pipeline/publish_pipeline.h"

#include <algorithm>
#include <condition_variable>
#include <iterator>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "daemon/core/redact.h"
#include "daemon/core/stop.h"
#include "daemon/ops/log.h"
#include "daemon/ops/log_fields.h"
#include "daemon/pipeline/rest_publisher.h"

namespace sfkb::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Batches one partition may hold in the buffer before it is no longer read (update_pauses).
constexpr std::size_t kPartitionBatches = 4;

// Fires `drain` once `stop` has been requested and `budget` has passed since (or at once when
// the owner ends it). The in-flight HTTP exchange and dead-letter acknowledgements wait on
// `drain`, not on `stop`, so a batch on the wire when SIGTERM arrives is still finished.
class DrainTimer {
 public:
  DrainTimer(std::stop_token stop, milliseconds budget)
      : thread_([this, stop, budget](std::stop_token own) {
          std::stop_source either;
          std::stop_callback on_stop(stop, [&] { either.request_stop(); });
          std::stop_callback on_own(own, [&] { either.request_stop(); });
          std::mutex mutex;
          std::condition_variable_any cv;
          std::unique_lock lock(mutex);
          cv.wait(lock, either.get_token(), [] { return false; });
          if (!own.stop_requested()) {
            core::interruptible_sleep(own, budget);
          }
          drain_.request_stop();
        }) {}
  std::stop_token token() const { return drain_.get_token(); }

 private:
  std::stop_source drain_;
  std::jthread thread_;  // last: joined (and told to end) before drain_ is destroyed
};

std::string describe(const std::set<TopicPartition>& partitions) {
  std::string out;
  for (const auto& tp : partitions) {
    out += (out.empty() ? "" : ",") + tp.topic + "[" + std::to_string(tp.partition) + "]";
  }
  return out;
}

}  // namespace

PublishSettings publish_settings_from(const config::Config& config,
                                      const config::PublishMapping& mapping) {
  PublishSettings settings;
  settings.mapping = mapping;
  settings.mapping.topics.clear();
  for (const auto& topic : mapping.topics) {
    settings.mapping.topics.push_back(config::full_topic(config.kafka, topic));
  }
  if (!mapping.dead_letter_topic.empty()) {
    settings.mapping.dead_letter_topic =
        config::full_topic(config.kafka, mapping.dead_letter_topic);
  }
  settings.mapping.group_id = config::full_topic(config.kafka, mapping.group_id);
  settings.rest.api_version = config.salesforce.api_version;
  settings.rest.request_timeout = config.salesforce.request_timeout;
  settings.backoff.initial = config.salesforce.retry.initial_backoff;
  settings.backoff.max = config.salesforce.retry.max_backoff;
  settings.max_in_flight_requests = static_cast<std::size_t>(mapping.max_in_flight_requests);
  // Leave a quarter of the supervisor's budget (at least 2 s) for the final commit and leaving
  // the group.
  const auto total = config.shutdown.timeout;
  settings.drain_timeout =
      std::max(milliseconds(0), std::min(total * 3 / 4, total - milliseconds(2000)));
  return settings;
}

// One request thread's own Publisher (for REST its own HTTP session: the client is blocking and
// not thread-safe).
struct PublishPipeline::Sender {
  std::unique_ptr<Publisher> publisher;
};

PublishPipeline::PublishPipeline(PublishSettings settings,
                                 std::unique_ptr<PublishConsumer> consumer,
                                 std::unique_ptr<DeadLetterSink> dead_letters,
                                 const TransportFactory& make_transport,
                                 salesforce::TokenSource& tokens, ops::Metrics& metrics)
    : PublishPipeline(
          settings, std::move(consumer), std::move(dead_letters),
          [&make_transport, &tokens, &metrics, rest = settings.rest] {
            return std::make_unique<RestPublisher>(make_transport(), tokens, rest, metrics);
          },
          metrics) {}

PublishPipeline::PublishPipeline(PublishSettings settings,
                                 std::unique_ptr<PublishConsumer> consumer,
                                 std::unique_ptr<DeadLetterSink> dead_letters,
                                 const PublisherFactory& make_publisher, ops::Metrics& metrics)
    : settings_(std::move(settings)),
      mapper_(mapping_spec_from(settings_.mapping)),
      consumer_(std::move(consumer)),
      dead_letters_(std::move(dead_letters)),
      metrics_(metrics),
      batches_counter_(metrics.counter(ops::Metric::kPublishBatches)),
      retries_(metrics.counter(ops::Metric::kPublishRetries)),
      in_flight_(metrics.gauge(ops::Metric::kPublishInFlightRecords)),
      requests_gauge_(
          metrics.gauge(ops::Metric::kPublishRequestsInFlight, {settings_.mapping.event})),
      budget_held_(
          metrics.gauge(ops::Metric::kPublishBudgetHeldRecords, {settings_.mapping.event})),
      budget_wait_(
          metrics.gauge(ops::Metric::kPublishBudgetWaitSeconds, {settings_.mapping.event})),
      budget_holds_(metrics.counter(ops::Metric::kPublishBudgetWaits, {settings_.mapping.event})) {
  auto& batch_size = settings_.mapping.batch_size;
  if (batch_size < 1 || batch_size > static_cast<int>(salesforce::kMaxCompositeRecords)) {
    throw std::invalid_argument("publish: batch_size must be within 1..200, got " +
                                std::to_string(batch_size));
  }
  if (settings_.max_in_flight_requests < 1) {
    throw std::invalid_argument("publish: max_in_flight_requests must be at least 1");
  }
  if (settings_.max_buffered_records == 0) {
    settings_.max_buffered_records =
        kPartitionBatches * settings_.max_in_flight_requests * static_cast<std::size_t>(batch_size);
  }
  for (std::size_t i = 0; i < settings_.max_in_flight_requests; ++i) {
    senders_.push_back(std::make_unique<Sender>(Sender{make_publisher()}));
  }
}

PublishPipeline::~PublishPipeline() {
  http_stop_.request_stop();
  for (auto& thread : threads_) {
    thread.request_stop();
  }
  threads_.clear();
}

ops::Counter& PublishPipeline::consumed(const std::string& topic) {
  auto& slot = consumed_[topic];
  if (slot == nullptr) {
    slot = &metrics_.counter(ops::Metric::kRecordsConsumed, {topic});
  }
  return *slot;
}

ops::Counter& PublishPipeline::published(const std::string& topic) {
  auto& slot = published_[topic];
  if (slot == nullptr) {
    slot = &metrics_.counter(ops::Metric::kRecordsPublished, {topic});
  }
  return *slot;
}

std::size_t PublishPipeline::requests_in_flight() const {
  return static_cast<std::size_t>(std::count_if(batches_.begin(), batches_.end(),
                                                [](const auto& batch) { return batch->sending; }));
}

void PublishPipeline::update_gauges() {
  in_flight_.set(static_cast<double>(buffered_count_ + batched_count_));
  requests_gauge_.set(static_cast<double>(requests_in_flight()));
}

void PublishPipeline::on_assigned(const std::vector<TopicPartition>& partitions) {
  joined_.store(true, std::memory_order_relaxed);
  for (const auto& tp : partitions) {
    assigned_.insert(tp);
    ops::info(ops::logger("publish"), "partition assigned: {} {}", ops::field("topic", tp.topic),
              ops::field("partition", tp.partition));
  }
  ops::logger("publish")->debug("assignment now: {} partition(s) [{}]{}", assigned_.size(),
                                describe(assigned_), holding_ ? " (paused: budget)" : "");
  update_pauses();  // while the budget holds, nothing new may pile up
}

void PublishPipeline::on_revoked(const std::vector<TopicPartition>& partitions) {
  const std::set<TopicPartition> revoked(partitions.begin(), partitions.end());
  auto touches = [&](const Batch& batch) {
    return std::any_of(batch.partitions.begin(), batch.partitions.end(),
                       [&](const TopicPartition& tp) { return revoked.contains(tp); });
  };
  // A request of these partitions on the wire is waited for (bounded by the request timeout and
  // the drain), so what Salesforce accepted is committed before the partitions are handed over
  // and the new owner does not publish it again.
  auto on_wire = [&] {
    return std::any_of(batches_.begin(), batches_.end(),
                       [&](const auto& batch) { return batch->sending && touches(*batch); });
  };
  while (on_wire()) {
    handle_completions(true, Clock::now() + settings_.poll_interval);
  }
  // Whatever is done for these partitions is committed now; what is not done yet is abandoned -
  // the new owner starts after the committed offset.
  std::map<TopicPartition, std::int64_t> offsets;
  std::size_t abandoned = 0;
  for (auto it = batches_.begin(); it != batches_.end();) {
    auto& batch = **it;
    if (batch.sending || !touches(batch)) {
      ++it;
      continue;
    }
    for (const auto& [tp, offset] : done_offsets(batch)) {
      if (revoked.contains(tp)) {
        offsets[tp] = offset;
      }
    }
    std::erase_if(batch.entries, [&](const Entry& entry) {
      const bool drop = revoked.contains({entry.record.topic, entry.record.partition});
      abandoned += drop && entry.state != State::kDone ? 1 : 0;
      batched_count_ -= drop ? 1 : 0;
      return drop;
    });
    for (const auto& tp : revoked) {
      batch.partitions.erase(tp);
      busy_.erase(tp);
    }
    it = batch.entries.empty() ? batches_.erase(it) : std::next(it);
  }
  commit(offsets, true);
  for (const auto& tp : partitions) {
    if (auto it = buffered_.find(tp); it != buffered_.end()) {
      abandoned += it->second.size();
      buffered_count_ -= it->second.size();
      buffered_.erase(it);
    }
    buffered_since_.erase(tp);
    assigned_.erase(tp);
    paused_.erase(tp);
    full_.erase(tp);
    ops::info(ops::logger("publish"), "partition revoked: {} {}", ops::field("topic", tp.topic),
              ops::field("partition", tp.partition));
  }
  if (abandoned > 0) {
    ops::logger("publish")->info("{} record(s) of revoked partitions left to their new owner",
                                 abandoned);
  }
  ops::logger("publish")->debug("assignment now: {} partition(s) [{}]", assigned_.size(),
                                describe(assigned_));
  update_gauges();
}

void PublishPipeline::commit(const std::map<TopicPartition, std::int64_t>& offsets,
                             bool synchronous) {
  if (offsets.empty()) {
    return;
  }
  auto log = ops::logger("publish");
  if (log->should_log(spdlog::level::debug)) {
    for (const auto& [tp, offset] : offsets) {
      ops::debug(log, "committing offset: {} {} {} ({})", ops::field("topic", tp.topic),
                 ops::field("partition", tp.partition), ops::field("offset", offset),
                 synchronous ? "synchronous" : "asynchronous");
    }
  }
  if (auto status = consumer_->commit(offsets, synchronous); !status.is_ok()) {
    // Not fatal: the records are done; at worst they are published again after a rebalance.
    if (auto repeat = commit_warnings_.admit()) {
      log->warn("offset commit failed ({}): {}{}", core::to_string(status.kind()), status.message(),
                repeat->suffix());
    }
  }
}

std::map<TopicPartition, std::int64_t> PublishPipeline::done_offsets(const Batch& batch) {
  std::map<TopicPartition, std::int64_t> offsets;
  std::set<TopicPartition> blocked;
  for (const auto& entry : batch.entries) {
    TopicPartition tp{entry.record.topic, entry.record.partition};
    if (blocked.contains(tp)) {
      continue;
    }
    if (entry.state == State::kDone) {
      offsets[tp] = entry.record.offset + 1;
    } else {
      blocked.insert(tp);
    }
  }
  return offsets;
}

void PublishPipeline::update_pauses() {
  const auto batch_size = static_cast<std::size_t>(settings_.mapping.batch_size);
  std::set<TopicPartition> want;
  // A partition whose buffer holds kPartitionBatches batches is not read until a batch of it
  // went out (poll_into_buffer passes it as full: not a pause, which would make librdkafka drop
  // and fetch again what it had prefetched), so one partition's backlog cannot fill the whole
  // buffer while the others (and the free request threads) get nothing.
  full_.clear();
  for (const auto& tp : assigned_) {
    auto it = buffered_.find(tp);
    const std::size_t queued = it == buffered_.end() ? 0 : it->second.size();
    if (queued >= kPartitionBatches * batch_size) {
      full_.insert(tp);
    }
    if (holding_) {
      want.insert(tp);
    }
  }
  for (const auto& batch : batches_) {
    if (batch->retry_due) {
      for (const auto& tp : batch->partitions) {
        if (assigned_.contains(tp)) {
          want.insert(tp);  // backing off: nothing new of them may pile up meanwhile
        }
      }
    }
  }
  std::vector<TopicPartition> pause, resume;
  std::set_difference(want.begin(), want.end(), paused_.begin(), paused_.end(),
                      std::back_inserter(pause));
  std::set_difference(paused_.begin(), paused_.end(), want.begin(), want.end(),
                      std::back_inserter(resume));
  if (!pause.empty()) {
    consumer_->pause(pause);
  }
  if (!resume.empty()) {
    consumer_->resume(resume);
  }
  paused_ = std::move(want);
}

core::Status PublishPipeline::poll_into_buffer(milliseconds timeout) {
  // At most batch_size records per consumer poll, none of the partitions whose buffer is full
  // (update_pauses), which is recomputed in between: one poll may otherwise fill the whole buffer
  // with one partition's prefetched records while the other partitions (and the free request
  // threads) get nothing.
  const auto batch_size = static_cast<std::size_t>(settings_.mapping.batch_size);
  last_poll_ = Clock::now();
  for (int round = 0; round < 16; ++round) {
    const std::size_t room = settings_.max_buffered_records > buffered_count_
                                 ? settings_.max_buffered_records - buffered_count_
                                 : 0;
    const std::size_t want = std::min(room, batch_size);
    auto polled = consumer_->poll(round == 0 ? timeout : milliseconds(0), want, full_);
    if (!polled) {
      return polled.status();
    }
    const auto now = Clock::now();
    for (auto& record : polled.value()) {
      consumed(record.topic).inc();
      Entry entry;
      auto mapped =
          mapper_.map(record.key ? std::optional<std::string_view>(*record.key) : std::nullopt,
                      record.value ? std::optional<std::string_view>(*record.value) : std::nullopt);
      if (mapped) {
        entry.sobject = std::move(mapped).value();
      } else {
        entry.state = State::kDeadLetter;
        entry.error_code = kInvalidRecord;
        entry.error_message = mapped.error().message;
      }
      entry.published = &published(record.topic);
      entry.record = std::move(record);
      TopicPartition tp{entry.record.topic, entry.record.partition};
      auto& queue = buffered_[tp];
      if (queue.empty()) {
        buffered_since_[tp] = now;
      }
      queue.push_back(std::move(entry));
      ++buffered_count_;
    }
    if (!polled->empty()) {
      update_pauses();
      update_gauges();
    }
    if (want == 0 || polled->size() < want) {
      break;  // nothing more waiting (or no room)
    }
  }
  return core::Status::ok();
}

std::size_t PublishPipeline::sendable() const {
  std::size_t n = 0;
  for (const auto& [tp, queue] : buffered_) {
    if (!busy_.contains(tp)) {
      n += queue.size();
    }
  }
  return n;
}

std::optional<Clock::time_point> PublishPipeline::linger_deadline() const {
  std::optional<Clock::time_point> oldest;
  for (const auto& [tp, queue] : buffered_) {
    if (!busy_.contains(tp) && !queue.empty()) {
      const auto since = buffered_since_.at(tp);
      if (!oldest || since < *oldest) {
        oldest = since;
      }
    }
  }
  if (!oldest) {
    return std::nullopt;
  }
  return *oldest + settings_.mapping.linger;
}

std::unique_ptr<PublishPipeline::Batch> PublishPipeline::form_batch(std::size_t max_records) {
  // Free partitions in round-robin order from next_first_, so that a busy partition cannot
  // starve the others; each contributes its whole queue (offset order) before the next is taken,
  // so that concurrent batches cover different partitions rather than one batch all of them.
  std::vector<TopicPartition> order;
  for (auto it = buffered_.lower_bound(next_first_); it != buffered_.end(); ++it) {
    order.push_back(it->first);
  }
  for (auto it = buffered_.begin(); it != buffered_.end() && it->first < next_first_; ++it) {
    order.push_back(it->first);
  }
  auto batch = std::make_unique<Batch>(settings_.backoff);
  std::size_t bytes = 0;
  bool cut_by_bytes = false;
  const auto now = Clock::now();
  for (const auto& tp : order) {
    if (busy_.contains(tp) || batch->entries.size() >= max_records || cut_by_bytes) {
      continue;
    }
    auto& queue = buffered_[tp];
    while (!queue.empty() && batch->entries.size() < max_records) {
      const std::size_t size = queue.front().sobject.size();
      if (!batch->entries.empty() && bytes + size > settings_.max_request_bytes) {
        cut_by_bytes = true;
        break;
      }
      bytes += size;
      batch->entries.push_back(std::move(queue.front()));
      queue.pop_front();
      --buffered_count_;
      batch->partitions.insert(tp);
      if (bytes >= settings_.max_request_bytes) {
        cut_by_bytes = true;
        break;
      }
    }
    if (queue.empty()) {
      buffered_.erase(tp);
      buffered_since_.erase(tp);
    } else {
      buffered_since_[tp] = now;  // the rest waits for this batch: its linger starts again
    }
    next_first_ = tp;
    next_first_.partition += 1;  // the next batch starts after the last partition taken
  }
  if (batch->entries.empty()) {
    return nullptr;
  }
  batched_count_ += batch->entries.size();
  for (const auto& tp : batch->partitions) {
    busy_.insert(tp);
  }
  // Why the batch closed: batch_size reached (full), max_request_bytes reached (bytes), the
  // budget's allowance reached (budget), or fewer records than batch_size waited `linger`.
  const bool budget_cut = max_records < static_cast<std::size_t>(settings_.mapping.batch_size);
  const char* reason = batch->entries.size() >= max_records ? (budget_cut ? "budget" : "full")
                       : cut_by_bytes                       ? "bytes"
                                                            : "linger";
  ops::debug(ops::logger("publish"),
             "batch formed: {} record(s), {} bytes, {}, {} partition(s), {} still buffered",
             batch->entries.size(), bytes, ops::field("reason", reason), batch->partitions.size(),
             buffered_count_);
  return batch;
}

std::size_t PublishPipeline::budget_allowance(std::size_t wanted) {
  if (!settings_.budget) {
    return wanted;
  }
  auto log = ops::logger("publish");
  const auto grant = settings_.budget->grant(wanted);
  if (grant.records > 0) {
    if (holding_) {
      holding_ = false;
      const auto waited =
          std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - hold_start_);
      log->info("publish budget allows {} record(s) again after {} s; resuming", grant.records,
                waited.count());
      budget_held_.set(0);
      budget_wait_.set(0);
      update_pauses();
    }
    return grant.records;
  }
  next_budget_look_ =
      Clock::now() + std::clamp(grant.retry_after, milliseconds(1), settings_.poll_interval);
  if (!holding_) {
    holding_ = true;
    hold_start_ = Clock::now();
    budget_holds_.inc();
    update_pauses();
    log->info(
        "publish budget spent ({}): {} record(s) wait in Kafka (offsets not committed), next "
        "look in {} ms",
        grant.blocked_by, buffered_count_, grant.retry_after.count());
  }
  budget_held_.set(static_cast<double>(buffered_count_));
  budget_wait_.set(std::chrono::duration<double>(Clock::now() - hold_start_).count());
  return 0;
}

core::Status PublishPipeline::attempt(Sender& sender, Batch& batch, std::stop_token http_stop) {
  auto log = ops::logger("publish");
  auto& entries = batch.entries;
  std::vector<std::size_t> pending;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].state == State::kPending) {
      pending.push_back(i);
    }
  }
  // Work list of groups to send. A whole-request rejection (400/404/413) says nothing about which
  // record caused it, so the group is split in halves until the culprits stand alone.
  std::deque<std::vector<std::size_t>> work;
  if (!pending.empty()) {
    work.push_back(std::move(pending));
  }
  bool retry_needed = false;
  std::string retry_reason;
  while (!work.empty()) {
    std::vector<std::size_t> group = std::move(work.front());
    work.pop_front();
    std::vector<std::string_view> bodies;
    bodies.reserve(group.size());
    for (auto i : group) {
      bodies.emplace_back(entries[i].sobject);
    }
    if (settings_.budget && sender.publisher->spends_api_requests()) {
      settings_.budget->spend_request();  // every composite request is one API request
    }
    auto reply = sender.publisher->publish(bodies, http_stop);
    if (!reply) {
      if (reply.error().kind == core::ErrorKind::kRetry) {
        retry_needed = true;
        retry_reason = reply.error().message;
        break;  // later groups hold later records: sending them now would overtake these
      }
      return reply.status();  // kStopped, or kFatal (a login Salesforce refuses)
    }
    switch (reply->kind) {
      case salesforce::ReplyKind::kPerRecord: {
        // Per-partition order and per-record TEMPORARY errors. Salesforce
        // answers each record of an allOrNone:false request on its own, so in [A@1, A@2] it can
        // refuse A@1 for now and accept A@2: A@2 is then published before A@1's retry. Nothing on
        // this side can undo that (it is listed under "Known limits" in the README, and logged
        // below when it happens). What the pipeline does guarantee: no *further* request goes
        // out before the retry - later groups of a split hold later records, so they are dropped
        // from the work list here exactly as after a whole-request failure (otherwise a split
        // batch would send its second half while the first half waits for its retry), and the
        // partition has no other batch that could go meanwhile.
        std::set<TopicPartition> waiting;  // partitions with a record to retry in this reply
        std::size_t ok = 0, dead = 0, again = 0;
        for (std::size_t k = 0; k < group.size(); ++k) {
          auto& entry = entries[group[k]];
          const auto& result = reply->records[k];
          TopicPartition tp{entry.record.topic, entry.record.partition};
          if (result.outcome == salesforce::RecordOutcome::kPublished) {
            if (waiting.contains(tp)) {
              if (auto repeat = order_broken_warnings_.admit()) {
                ops::warn(log,
                          "partition order broken: {} {} {} was accepted while an earlier record "
                          "of it must be retried (Salesforce answers every record of a composite "
                          "request on its own){}",
                          ops::field("topic", tp.topic), ops::field("partition", tp.partition),
                          ops::field("offset", entry.record.offset), repeat->suffix());
              }
            }
            entry.state = State::kDone;
            entry.sobject.clear();
            entry.sobject.shrink_to_fit();
            entry.published->inc();
            ++ok;
          } else if (result.outcome == salesforce::RecordOutcome::kPermanent) {
            entry.state = State::kDeadLetter;
            entry.error_code = result.error_code;
            entry.error_message = result.error_message;
            ++dead;
          } else {
            waiting.insert(tp);
            retry_needed = true;
            retry_reason = result.error_code + ": " + result.error_message;
            ++again;
          }
        }
        log->debug(
            "composite request of {} record(s): {} published, {} to dead-letter, {} to retry",
            group.size(), ok, dead, again);
        if (again > 0) {
          work.clear();
        }
        break;
      }
      case salesforce::ReplyKind::kTransient:
      case salesforce::ReplyKind::kReauth:
        retry_needed = true;
        retry_reason = "HTTP " + std::to_string(reply->status) + " " + reply->error_code + ": " +
                       reply->error_message;
        work.clear();  // as above: nothing may overtake the records that must be retried
        break;
      case salesforce::ReplyKind::kRejected:
        if (group.size() == 1) {
          auto& entry = entries[group[0]];
          entry.state = State::kDeadLetter;
          entry.error_code = reply->error_code;
          entry.error_message = reply->error_message;
        } else {
          log->info("composite request of {} records rejected (HTTP {} {}), splitting it",
                    group.size(), reply->status, reply->error_code);
          const auto half = group.begin() + static_cast<std::ptrdiff_t>(group.size() / 2);
          work.emplace_front(half, group.end());
          work.emplace_front(group.begin(), half);
        }
        break;
      case salesforce::ReplyKind::kFatal:
        return core::fatal_error("Salesforce refused the composite request: HTTP " +
                                 std::to_string(reply->status) + " " + reply->error_code + ": " +
                                 core::redact_text(reply->error_message));
    }
  }
  if (retry_needed) {
    return core::retry_error(retry_reason);
  }
  return core::Status::ok();
}

void PublishPipeline::sender_loop(Sender& sender, std::stop_token own) {
  std::unique_lock lock(mutex_);
  while (true) {
    jobs_cv_.wait(lock, own, [&] { return !jobs_.empty(); });
    if (jobs_.empty()) {
      return;  // told to end
    }
    Batch* batch = jobs_.front();
    jobs_.pop_front();
    lock.unlock();
    auto status = attempt(sender, *batch, http_stop_.get_token());
    lock.lock();
    done_.push_back({batch, std::move(status)});
    done_cv_.notify_all();
  }
}

void PublishPipeline::dispatch(Batch& batch) {
  batch.sending = true;
  batch.retry_due = false;
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(&batch);
    ++sending_;
  }
  jobs_cv_.notify_one();
}

core::Status PublishPipeline::resolve_batch(Batch& batch) {
  std::vector<DeadLetter> letters;
  for (const auto& entry : batch.entries) {
    if (entry.state == State::kDeadLetter) {
      letters.push_back({&entry.record, entry.error_code, entry.error_message});
    }
  }
  if (!letters.empty()) {
    const auto& first = *letters.front().record;
    if (settings_.mapping.on_error == config::OnError::kFail || !dead_letters_) {
      return core::fatal_error(
          "record " + first.topic + "[" + std::to_string(first.partition) + "]@" +
          std::to_string(first.offset) + " rejected: " + letters.front().error_code + ": " +
          core::redact_text(letters.front().error_message) +
          (dead_letters_ ? " (on_error: fail)" : " (no dead_letter_topic configured)"));
    }
    auto log = ops::logger("publish");
    for (const auto& letter : letters) {
      // One line per record would flood the log when a whole topic is bad; every record is in
      // the dead-letter topic with its error headers, and counted by error code.
      if (auto repeat = dead_letter_warnings_.admit()) {
        ops::warn(log, "dead-lettering record: {} {} {} {} {}{}",
                  ops::field("topic", letter.record->topic),
                  ops::field("partition", letter.record->partition),
                  ops::field("offset", letter.record->offset),
                  ops::field("error_code", letter.error_code),
                  ops::quoted_field("error", core::redact_text(letter.error_message)),
                  repeat->suffix());
      }
    }
    if (auto written = dead_letters_->write(letters, http_stop_.get_token()); !written.is_ok()) {
      return written;
    }
    for (auto& entry : batch.entries) {
      if (entry.state == State::kDeadLetter) {
        entry.state = State::kDone;
        metrics_.counter(ops::Metric::kRecordsDeadLettered, {entry.record.topic, entry.error_code})
            .inc();
      }
    }
  }
  return core::Status::ok();
}

void PublishPipeline::remove_batch(Batch& batch) {
  for (const auto& tp : batch.partitions) {
    busy_.erase(tp);
  }
  batched_count_ -= batch.entries.size();
  batches_.remove_if([&](const auto& b) { return b.get() == &batch; });
}

void PublishPipeline::on_completion(Batch& batch, const core::Status& status,
                                    std::map<TopicPartition, std::int64_t>& to_commit) {
  auto log = ops::logger("publish");
  batch.sending = false;
  if (status.is_ok()) {
    auto resolved = resolve_batch(batch);
    if (!resolved.is_ok()) {
      if (resolved.kind() != core::ErrorKind::kStopped && fatal_.is_ok()) {
        fatal_ = resolved;
      }
      stopping_ = true;  // abandoned (drain) or fatal: its done prefix is committed at the end
      return;
    }
    // Synchronous (one commit for every batch handed back at once): a partition's next batch
    // goes out only once this one's offsets are stored, so a crash can publish again at most the
    // batch in flight of each partition (README.md "Known limits"), not also a previous one
    // whose asynchronous commit had not landed.
    for (const auto& [tp, offset] : done_offsets(batch)) {
      to_commit[tp] = offset;
    }
    batches_counter_.inc();
    if (log->should_log(spdlog::level::debug)) {
      const auto dead = std::count_if(batch.entries.begin(), batch.entries.end(),
                                      [](const Entry& e) { return !e.error_code.empty(); });
      log->debug("batch resolved: {} record(s), {} published, {} dead-lettered, {} retry(ies)",
                 batch.entries.size(), static_cast<std::ptrdiff_t>(batch.entries.size()) - dead,
                 dead, batch.retries);
    }
    remove_batch(batch);
    return;
  }
  if (status.kind() == core::ErrorKind::kRetry && !http_stop_.stop_requested() && fatal_.is_ok()) {
    // Transient: its partitions are paused (nothing piles up) and nothing else of them is sent
    // until the retry is through; other partitions go on.
    const auto wait = batch.backoff.next();
    batch.retry_due = true;
    batch.retry_at = Clock::now() + wait;
    if (auto repeat = retry_warnings_.admit()) {
      log->warn("publishing {} record(s) failed, retrying in {} ms: {}{}", batch.entries.size(),
                wait.count(), core::redact_text(status.message()), repeat->suffix());
    }
    return;
  }
  if (status.kind() == core::ErrorKind::kFatal && fatal_.is_ok()) {
    fatal_ = status;
  }
  stopping_ = true;  // kStopped: the drain is over; kFatal: the pipeline stops
}

void PublishPipeline::handle_completions(bool wait, Clock::time_point until) {
  std::deque<Completion> done;
  {
    std::unique_lock lock(mutex_);
    if (wait) {
      done_cv_.wait_until(lock, until, [&] { return !done_.empty(); });
    }
    done.swap(done_);
    sending_ -= done.size();
  }
  if (done.empty()) {
    return;
  }
  std::map<TopicPartition, std::int64_t> to_commit;
  for (auto& completion : done) {
    on_completion(*completion.batch, completion.status, to_commit);
  }
  commit(to_commit, true);
  if (!fatal_.is_ok()) {
    http_stop_.request_stop();  // the other requests are abandoned: the pipeline stops
  }
  update_pauses();
  update_gauges();
}

core::Status PublishPipeline::run(std::stop_token stop) {
  auto log = ops::logger("publish");
  DrainTimer drain_timer(stop, settings_.drain_timeout);
  const auto drain = drain_timer.token();
  // The drain ends every exchange on the wire (and dead-letter acknowledgements).
  std::stop_callback on_drain(drain, [this] { http_stop_.request_stop(); });
  if (auto subscribed = consumer_->subscribe(*this); !subscribed.is_ok()) {
    return subscribed;
  }
  for (auto& sender : senders_) {
    threads_.emplace_back([this, &sender](std::stop_token own) { sender_loop(*sender, own); });
  }
  log->info(
      "publishing topics {} as {} (group {}, batch_size {}, linger {} ms, "
      "max_in_flight_requests {})",
      fmt::join(settings_.mapping.topics, ","), settings_.mapping.event, settings_.mapping.group_id,
      settings_.mapping.batch_size, settings_.mapping.linger.count(),
      settings_.max_in_flight_requests);
  const auto batch_size = static_cast<std::size_t>(settings_.mapping.batch_size);
  const auto slots = settings_.max_in_flight_requests;
  while (true) {
    handle_completions(false, {});
    if (stop.stop_requested() && !stopping_) {
      stopping_ = true;  // no new batch; those formed are finished within the drain
    }
    const bool abandon = !fatal_.is_ok() || http_stop_.stop_requested();
    if (stopping_ && (batches_.empty() || abandon) && requests_in_flight() == 0) {
      break;
    }
    auto now = Clock::now();
    // Retries first (their partitions wait), then new batches, while request threads are free.
    std::optional<Clock::time_point> next_retry;
    for (auto& batch : batches_) {
      if (!batch->retry_due || abandon) {
        continue;
      }
      if (batch->retry_at <= now && requests_in_flight() < slots) {
        retries_.inc();
        ++batch->retries;
        dispatch(*batch);
      } else if (!next_retry || batch->retry_at < *next_retry) {
        next_retry = batch->retry_at;
      }
    }
    if (!stopping_) {
      while (requests_in_flight() < slots && !(holding_ && now < next_budget_look_)) {
        const auto ready = sendable();
        const auto lingered = linger_deadline();
        if (ready == 0 || (ready < batch_size && (!lingered || *lingered > now))) {
          break;
        }
        const std::size_t allowed = budget_allowance(batch_size);
        if (allowed == 0) {
          break;
        }
        auto batch = form_batch(allowed);
        if (!batch) {
          break;
        }
        if (settings_.budget) {
          settings_.budget->spend_records(batch->entries.size());
        }
        auto& formed = *batches_.emplace_back(std::move(batch));
        dispatch(formed);
      }
      update_gauges();
    }
    // Wait for the next thing to do: a reply, a record, a lingering batch, a retry, the budget.
    now = Clock::now();
    auto until = now + settings_.poll_interval;
    if (next_retry) {
      until = std::min(until, *next_retry);
    }
    const bool slot_free = requests_in_flight() < slots;
    if (slot_free && !stopping_) {
      if (holding_) {
        until = std::min(until, next_budget_look_);
      } else if (auto lingered = linger_deadline()) {
        until = std::min(until, std::max(now, *lingered));
      }
    }
    auto left = std::chrono::duration_cast<milliseconds>(until - now);
    left = std::clamp(left, milliseconds(0), settings_.poll_interval);
    const bool room = buffered_count_ < settings_.max_buffered_records;
    if (requests_in_flight() == 0) {
      if (auto polled = poll_into_buffer(room ? left : milliseconds(0)); !polled.is_ok()) {
        if (auto repeat = poll_warnings_.admit()) {
          log->warn("consumer poll failed: {}{}", polled.message(), repeat->suffix());
        }
      }
      if (!room) {
        core::interruptible_sleep(drain, left);  // nothing to send, no room: wait for the timer
      }
      continue;
    }
    // Requests on the wire: a reply is what usually comes next. The consumer is polled without
    // waiting (records, rebalances, group membership), then the reply is waited for - briefly
    // while a request thread is free, so that new records are picked up soon.
    const auto before = buffered_count_;
    if (room || Clock::now() - last_poll_ >= settings_.poll_interval) {
      if (auto polled = poll_into_buffer(milliseconds(0)); !polled.is_ok()) {
        if (auto repeat = poll_warnings_.admit()) {
          log->warn("consumer poll failed: {}{}", polled.message(), repeat->suffix());
        }
      }
    }
    if (buffered_count_ == before) {
      const auto brief = slot_free && !stopping_ && room ? milliseconds(5) : left;
      handle_completions(true, Clock::now() + std::min(brief, left));
    }
  }
  // Whatever is still on the wire was told to stop (drain or fatal): wait for it to come back.
  while (requests_in_flight() > 0) {
    http_stop_.request_stop();
    handle_completions(true, Clock::now() + settings_.poll_interval);
  }
  std::size_t left_over = 0;
  std::map<TopicPartition, std::int64_t> offsets;
  for (const auto& batch : batches_) {
    left_over += static_cast<std::size_t>(
        std::count_if(batch->entries.begin(), batch->entries.end(),
                      [](const Entry& e) { return e.state != State::kDone; }));
    for (const auto& [tp, offset] : done_offsets(*batch)) {
      offsets[tp] = offset;
    }
  }
  if (left_over > 0) {
    log->warn(
        "abandoning {} record(s) of the batches in flight: they are published again after the "
        "restart",
        left_over);
  }
  commit(offsets, true);
  if (!fatal_.is_ok()) {
    log->error("publish pipeline stopping: {}", fatal_.message());
  }
  for (auto& thread : threads_) {
    thread.request_stop();
  }
  threads_.clear();
  joined_.store(false, std::memory_order_relaxed);
  consumer_->close();
  log->info("publish pipeline stopped");
  return fatal_;
}

}  // namespace sfkb::pipeline
