#include "daemon/pipeline/publish_pipeline.h"

#include <algorithm>
#include <condition_variable>
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
  // Leave a quarter of the supervisor's budget (at least 2 s) for the final commit and leaving
  // the group.
  const auto total = config.shutdown.timeout;
  settings.drain_timeout =
      std::max(milliseconds(0), std::min(total * 3 / 4, total - milliseconds(2000)));
  return settings;
}

PublishPipeline::PublishPipeline(PublishSettings settings,
                                 std::unique_ptr<PublishConsumer> consumer,
                                 std::unique_ptr<DeadLetterSink> dead_letters,
                                 std::unique_ptr<http::Transport> transport,
                                 salesforce::TokenSource& tokens, ops::Metrics& metrics)
    : PublishPipeline(
          settings, std::move(consumer), std::move(dead_letters),
          std::make_unique<RestPublisher>(std::move(transport), tokens, settings.rest, metrics),
          metrics) {}

PublishPipeline::PublishPipeline(PublishSettings settings,
                                 std::unique_ptr<PublishConsumer> consumer,
                                 std::unique_ptr<DeadLetterSink> dead_letters,
                                 std::unique_ptr<Publisher> publisher, ops::Metrics& metrics)
    : settings_(std::move(settings)),
      mapper_(mapping_spec_from(settings_.mapping)),
      consumer_(std::move(consumer)),
      dead_letters_(std::move(dead_letters)),
      publisher_(std::move(publisher)),
      metrics_(metrics),
      batches_(metrics.counter(ops::Metric::kPublishBatches)),
      retries_(metrics.counter(ops::Metric::kPublishRetries)),
      in_flight_(metrics.gauge(ops::Metric::kPublishInFlightRecords)),
      budget_held_(
          metrics.gauge(ops::Metric::kPublishBudgetHeldRecords, {settings_.mapping.event})),
      budget_wait_(
          metrics.gauge(ops::Metric::kPublishBudgetWaitSeconds, {settings_.mapping.event})),
      budget_holds_(metrics.counter(ops::Metric::kPublishBudgetWaits, {settings_.mapping.event})),
      backoff_(settings_.backoff) {
  auto& batch_size = settings_.mapping.batch_size;
  if (batch_size < 1 || batch_size > static_cast<int>(salesforce::kMaxCompositeRecords)) {
    throw std::invalid_argument("publish: batch_size must be within 1..200, got " +
                                std::to_string(batch_size));
  }
  if (settings_.max_buffered_records == 0) {
    settings_.max_buffered_records = 2 * static_cast<std::size_t>(batch_size);
  }
}

PublishPipeline::~PublishPipeline() = default;

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

void PublishPipeline::on_assigned(const std::vector<TopicPartition>& partitions) {
  joined_.store(true, std::memory_order_relaxed);
  for (const auto& tp : partitions) {
    assigned_.insert(tp);
    ops::info(ops::logger("publish"), "partition assigned: {} {}", ops::field("topic", tp.topic),
              ops::field("partition", tp.partition));
  }
  ops::logger("publish")->debug("assignment now: {} partition(s) [{}]{}", assigned_.size(),
                                describe(assigned_), paused_ ? " (paused: backing off)" : "");
  if (paused_ && !partitions.empty()) {
    consumer_->pause(partitions);  // backing off: nothing new may pile up meanwhile
  }
}

void PublishPipeline::on_revoked(const std::vector<TopicPartition>& partitions) {
  const std::set<TopicPartition> revoked(partitions.begin(), partitions.end());
  // Whatever is done for these partitions is committed now, before they are handed over; what is
  // not done yet is abandoned - the new owner starts after the committed offset.
  std::map<TopicPartition, std::int64_t> offsets;
  for (const auto& [tp, offset] : done_offsets()) {
    if (revoked.contains(tp)) {
      offsets[tp] = offset;
    }
  }
  commit(offsets, true);
  std::size_t abandoned = 0;
  std::erase_if(batch_, [&](const Entry& entry) {
    bool drop = revoked.contains({entry.record.topic, entry.record.partition});
    abandoned += drop && entry.state != State::kDone ? 1 : 0;
    return drop;
  });
  for (const auto& tp : partitions) {
    if (auto it = buffered_.find(tp); it != buffered_.end()) {
      abandoned += it->second.size();
      buffered_count_ -= it->second.size();
      buffered_.erase(it);
    }
    assigned_.erase(tp);
    ops::info(ops::logger("publish"), "partition revoked: {} {}", ops::field("topic", tp.topic),
              ops::field("partition", tp.partition));
  }
  if (abandoned > 0) {
    ops::logger("publish")->info("{} record(s) of revoked partitions left to their new owner",
                                 abandoned);
  }
  ops::logger("publish")->debug("assignment now: {} partition(s) [{}]", assigned_.size(),
                                describe(assigned_));
  in_flight_.set(static_cast<double>(buffered_count_ + batch_.size()));
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

std::map<TopicPartition, std::int64_t> PublishPipeline::done_offsets() const {
  std::map<TopicPartition, std::int64_t> offsets;
  std::set<TopicPartition> blocked;
  for (const auto& entry : batch_) {
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

void PublishPipeline::pause_assigned() {
  if (!paused_ && !assigned_.empty()) {
    consumer_->pause({assigned_.begin(), assigned_.end()});
  }
  paused_ = true;
}

void PublishPipeline::resume_assigned() {
  if (paused_ && !assigned_.empty()) {
    consumer_->resume({assigned_.begin(), assigned_.end()});
  }
  paused_ = false;
}

core::Status PublishPipeline::poll_into_buffer(milliseconds timeout) {
  const std::size_t room = settings_.max_buffered_records > buffered_count_
                               ? settings_.max_buffered_records - buffered_count_
                               : 0;
  auto polled = consumer_->poll(timeout, room);
  if (!polled) {
    return polled.status();
  }
  if (polled->empty()) {
    return core::Status::ok();
  }
  if (buffered_count_ == 0) {
    linger_start_ = Clock::now();
  }
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
    entry.record = std::move(record);
    TopicPartition tp{entry.record.topic, entry.record.partition};
    buffered_[tp].push_back(std::move(entry));
    ++buffered_count_;
  }
  in_flight_.set(static_cast<double>(buffered_count_ + batch_.size()));
  return core::Status::ok();
}

bool PublishPipeline::linger_elapsed() const {
  return buffered_count_ > 0 && Clock::now() - linger_start_ >= settings_.mapping.linger;
}

void PublishPipeline::form_batch(std::size_t max_records) {
  // Round robin over partitions so a busy partition cannot starve the others; within a
  // partition, offset order.
  std::size_t bytes = 0;
  bool cut_by_bytes = false;
  bool progress = true;
  while (batch_.size() < max_records && progress) {
    progress = false;
    for (auto it = buffered_.begin(); it != buffered_.end() && batch_.size() < max_records;) {
      auto& queue = it->second;
      const std::size_t size = queue.front().sobject.size();
      if (!batch_.empty() && bytes + size > settings_.max_request_bytes) {
        progress = false;
        cut_by_bytes = true;
        break;
      }
      bytes += size;
      batch_.push_back(std::move(queue.front()));
      queue.pop_front();
      --buffered_count_;
      progress = true;
      it = queue.empty() ? buffered_.erase(it) : std::next(it);
    }
    if (bytes >= settings_.max_request_bytes) {
      cut_by_bytes = true;
      break;
    }
  }
  if (buffered_count_ > 0) {
    linger_start_ = Clock::now();
  }
  // Why the batch closed: batch_size reached (full), max_request_bytes reached (bytes), the
  // budget's allowance reached (budget), or fewer records than batch_size waited `linger`.
  const bool budget_cut = max_records < static_cast<std::size_t>(settings_.mapping.batch_size);
  const char* reason = batch_.size() >= max_records ? (budget_cut ? "budget" : "full")
                       : cut_by_bytes               ? "bytes"
                                                    : "linger";
  ops::debug(ops::logger("publish"), "batch formed: {} record(s), {} bytes, {}, {} still buffered",
             batch_.size(), bytes, ops::field("reason", reason), buffered_count_);
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
      resume_assigned();
    }
    return grant.records;
  }
  hold_retry_after_ = grant.retry_after;
  if (!holding_) {
    holding_ = true;
    hold_start_ = Clock::now();
    budget_holds_.inc();
    pause_assigned();
    log->info(
        "publish budget spent ({}): {} record(s) wait in Kafka (offsets not committed), next "
        "look in {} ms",
        grant.blocked_by, buffered_count_, grant.retry_after.count());
  }
  budget_held_.set(static_cast<double>(buffered_count_));
  budget_wait_.set(std::chrono::duration<double>(Clock::now() - hold_start_).count());
  return 0;
}

void PublishPipeline::hold_for_budget() {
  const auto wait = std::clamp(hold_retry_after_, milliseconds(1), settings_.poll_interval);
  if (auto polled = poll_into_buffer(wait); !polled.is_ok()) {
    if (auto repeat = poll_warnings_.admit()) {
      ops::logger("publish")->warn("consumer poll failed while waiting for the budget: {}{}",
                                   polled.message(), repeat->suffix());
    }
  }
}

core::Status PublishPipeline::attempt(std::stop_token http_stop) {
  auto log = ops::logger("publish");
  std::vector<std::size_t> pending;
  for (std::size_t i = 0; i < batch_.size(); ++i) {
    if (batch_[i].state == State::kPending) {
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
      bodies.emplace_back(batch_[i].sobject);
    }
    if (settings_.budget && publisher_->spends_api_requests()) {
      settings_.budget->spend_request();  // every composite request is one API request
    }
    auto reply = publisher_->publish(bodies, http_stop);
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
        // batch would send its second half while the first half waits for its retry).
        std::set<TopicPartition> waiting;  // partitions with a record to retry in this reply
        std::size_t ok = 0, dead = 0, again = 0;
        for (std::size_t k = 0; k < group.size(); ++k) {
          auto& entry = batch_[group[k]];
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
            published(entry.record.topic).inc();
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
          auto& entry = batch_[group[0]];
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

core::Status PublishPipeline::resolve_batch(std::stop_token drain) {
  std::vector<DeadLetter> letters;
  for (const auto& entry : batch_) {
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
    if (auto written = dead_letters_->write(letters, drain); !written.is_ok()) {
      return written;
    }
    for (auto& entry : batch_) {
      if (entry.state == State::kDeadLetter) {
        entry.state = State::kDone;
        metrics_.counter(ops::Metric::kRecordsDeadLettered, {entry.record.topic, entry.error_code})
            .inc();
      }
    }
  }
  return core::Status::ok();
}

PublishPipeline::BatchEnd PublishPipeline::process_batch(std::stop_token drain,
                                                         core::Status& fatal) {
  auto log = ops::logger("publish");
  backoff_.reset();
  int retries = 0;
  while (!batch_.empty()) {
    auto sent = attempt(drain);
    if (sent.is_ok()) {
      auto resolved = resolve_batch(drain);
      if (!resolved.is_ok()) {
        if (resolved.kind() != core::ErrorKind::kStopped) {
          fatal = resolved;
          return BatchEnd::kFatal;
        }
        return BatchEnd::kAbandoned;
      }
      // Synchronous: the next batch goes out only once this one's offsets are stored, so a crash
      // can publish again at most the one batch in flight (README.md "Known limits": at most one
      // batch per partition), not also a previous batch whose asynchronous commit had not landed.
      commit(done_offsets(), true);
      batches_.inc();
      if (log->should_log(spdlog::level::debug)) {
        const auto dead = std::count_if(batch_.begin(), batch_.end(),
                                        [](const Entry& e) { return !e.error_code.empty(); });
        log->debug("batch resolved: {} record(s), {} published, {} dead-lettered, {} retry(ies)",
                   batch_.size(), static_cast<std::ptrdiff_t>(batch_.size()) - dead, dead, retries);
      }
      batch_.clear();
      resume_assigned();
      in_flight_.set(static_cast<double>(buffered_count_));
      return BatchEnd::kResolved;
    }
    if (sent.kind() == core::ErrorKind::kStopped) {
      return BatchEnd::kAbandoned;
    }
    if (sent.kind() != core::ErrorKind::kRetry) {
      fatal = sent;
      return BatchEnd::kFatal;
    }
    // Transient: hold the partitions (nothing piles up) and keep polling so the group keeps us.
    pause_assigned();
    const auto wait = backoff_.next();
    if (auto repeat = retry_warnings_.admit()) {
      log->warn("publishing {} record(s) failed, retrying in {} ms: {}{}", batch_.size(),
                wait.count(), core::redact_text(sent.message()), repeat->suffix());
    }
    const auto until = Clock::now() + wait;
    while (Clock::now() < until && !drain.stop_requested()) {
      auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now());
      if (auto polled =
              poll_into_buffer(std::clamp(left, milliseconds(1), settings_.poll_interval));
          !polled.is_ok()) {
        if (auto repeat = poll_warnings_.admit()) {
          log->warn("consumer poll failed while backing off: {}{}", polled.message(),
                    repeat->suffix());
        }
      }
    }
    if (drain.stop_requested()) {
      return BatchEnd::kAbandoned;
    }
    retries_.inc();
    ++retries;
  }
  // Every entry of the batch belonged to revoked partitions.
  resume_assigned();
  return BatchEnd::kResolved;
}

core::Status PublishPipeline::run(std::stop_token stop) {
  auto log = ops::logger("publish");
  DrainTimer drain_timer(stop, settings_.drain_timeout);
  const auto drain = drain_timer.token();
  if (auto subscribed = consumer_->subscribe(*this); !subscribed.is_ok()) {
    return subscribed;
  }
  log->info("publishing topics {} as {} (group {}, batch_size {}, linger {} ms)",
            fmt::join(settings_.mapping.topics, ","), settings_.mapping.event,
            settings_.mapping.group_id, settings_.mapping.batch_size,
            settings_.mapping.linger.count());
  core::Status result = core::Status::ok();
  const auto batch_size = static_cast<std::size_t>(settings_.mapping.batch_size);
  while (!stop.stop_requested()) {
    if (batch_.empty()) {
      const bool full = buffered_count_ >= batch_size;
      milliseconds timeout = settings_.poll_interval;
      if (full) {
        timeout = milliseconds(0);
      } else if (buffered_count_ > 0) {
        auto left = std::chrono::duration_cast<milliseconds>(
            linger_start_ + settings_.mapping.linger - Clock::now());
        timeout = std::clamp(left, milliseconds(0), settings_.poll_interval);
      }
      if (!full || buffered_count_ < settings_.max_buffered_records) {
        if (auto polled = poll_into_buffer(timeout); !polled.is_ok()) {
          if (auto repeat = poll_warnings_.admit()) {
            log->warn("consumer poll failed: {}{}", polled.message(), repeat->suffix());
          }
        }
      }
      if (buffered_count_ >= batch_size || linger_elapsed()) {
        const std::size_t allowed = budget_allowance(batch_size);
        if (allowed == 0) {
          hold_for_budget();
          continue;
        }
        form_batch(allowed);
        if (settings_.budget) {
          settings_.budget->spend_records(batch_.size());
        }
      }
      if (batch_.empty()) {
        continue;
      }
    }
    core::Status fatal;
    const auto end = process_batch(drain, fatal);
    if (end == BatchEnd::kFatal) {
      log->error("publish pipeline stopping: {}", fatal.message());
      result = fatal;
      break;
    }
    if (end == BatchEnd::kAbandoned) {
      break;
    }
  }
  // A batch still here was interrupted (shutdown) or failed: on shutdown with time left, finish
  // it; then commit only its done prefix.
  if (!batch_.empty() && result.is_ok() && !drain.stop_requested()) {
    core::Status fatal;
    if (process_batch(drain, fatal) == BatchEnd::kFatal) {
      result = fatal;
    }
  }
  if (!batch_.empty()) {
    log->warn(
        "abandoning {} record(s) of the in-flight batch: they are published again after "
        "the restart",
        std::count_if(batch_.begin(), batch_.end(),
                      [](const Entry& e) { return e.state != State::kDone; }));
  }
  commit(done_offsets(), true);
  joined_.store(false, std::memory_order_relaxed);
  consumer_->close();
  log->info("publish pipeline stopped");
  return result;
}

}  // namespace sfkb::pipeline
