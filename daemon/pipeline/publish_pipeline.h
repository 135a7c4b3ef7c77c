#pragma once
// Kafka -> Salesforce (docs/ARCHITECTURE.md §2 publish): consume a mapping's topics in a consumer
// group, map each record once, publish batches through the composite REST API, dead-letter what
// Salesforce will never accept and commit, per partition, only offsets of records that are done.
//
// Ordering: exactly one batch is in flight per pipeline. A batch holds records of several
// partitions, in offset order per partition, and the next batch is formed only when the previous
// one is resolved - so a partition's records reach Salesforce in order, and no later request
// overtakes a retry. One exception Salesforce makes: within one composite request it may refuse a
// record for now and accept a later one (see attempt() in publish_pipeline.cpp). With one thread
// there is nothing to lock: rebalance callbacks run inside poll() on the pipeline thread, between
// HTTP attempts.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/core/backoff.h"
#include "daemon/core/result.h"
#include "daemon/http/transport.h"
#include "daemon/ops/metrics.h"
#include "daemon/ops/repeat_limiter.h"
#include "daemon/pipeline/publish_budget.h"
#include "daemon/pipeline/publish_ports.h"
#include "daemon/pipeline/publisher.h"
#include "daemon/pipeline/record_mapping.h"
#include "daemon/salesforce/rest_client.h"
#include "daemon/salesforce/token_source.h"

namespace sfkb::pipeline {

struct PublishSettings {
  config::PublishMapping mapping;  // topics and dead_letter_topic already prefixed
  salesforce::RestClientOptions rest;
  core::BackoffPolicy backoff;
  // After stop is requested, the in-flight batch may still be finished for this long; then it is
  // abandoned (not committed: it is published again after the restart).
  std::chrono::milliseconds drain_timeout{15000};
  // A request body is closed at this size even below batch_size: 200 records of up to 1 MB each
  // would make one request of 200 MB. A 413 is handled anyway (the batch is split).
  std::size_t max_request_bytes = 6 * 1024 * 1024;
  // Records held beyond the in-flight batch (polled, mapped, waiting): bounds memory when
  // Salesforce is slow (docs/ARCHITECTURE.md §1), on top of librdkafka's own prefetch.
  std::size_t max_buffered_records = 0;  // 0: 2 x batch_size
  std::chrono::milliseconds poll_interval{100};
  // What this mapping may spend of the org's allocations (publish_budget.h); null: no limit.
  // When it allows nothing, records wait in Kafka: the consumer is paused, offsets stay
  // uncommitted, /readyz stays ready.
  std::shared_ptr<PublishBudget> budget;
};

// Derives the settings of one mapping from the whole configuration (topic_prefix applied).
PublishSettings publish_settings_from(const config::Config& config,
                                      const config::PublishMapping& mapping);

class PublishPipeline final : private RebalanceListener {
 public:
  // `dead_letters` may be null when the mapping has no dead_letter_topic: a permanent error then
  // stops the pipeline as with on_error: fail. Throws std::invalid_argument on a bad mapping.
  // Publishes through REST composite requests over `transport` (a RestPublisher).
  PublishPipeline(PublishSettings settings, std::unique_ptr<PublishConsumer> consumer,
                  std::unique_ptr<DeadLetterSink> dead_letters,
                  std::unique_ptr<http::Transport> transport, salesforce::TokenSource& tokens,
                  ops::Metrics& metrics = ops::Metrics::global());
  // Publishes through `publisher` (publisher.h): REST or the Pub/Sub API.
  PublishPipeline(PublishSettings settings, std::unique_ptr<PublishConsumer> consumer,
                  std::unique_ptr<DeadLetterSink> dead_letters,
                  std::unique_ptr<Publisher> publisher,
                  ops::Metrics& metrics = ops::Metrics::global());
  ~PublishPipeline() override;
  PublishPipeline(const PublishPipeline&) = delete;
  PublishPipeline& operator=(const PublishPipeline&) = delete;

  // Runs until `stop` (then finishes or abandons the in-flight batch within drain_timeout,
  // commits what is done, leaves the group and returns ok) or a fatal error (returned after the
  // same orderly exit, without committing the failed record).
  core::Status run(std::stop_token stop);

  // For /readyz: the consumer has joined its group (it may own no partition: a second bridge
  // in a group with few partitions is still healthy). Any thread.
  bool ready() const { return joined_.load(std::memory_order_relaxed); }

 private:
  enum class State { kPending, kDone, kDeadLetter };
  struct Entry {
    SourceRecord record;
    std::string sobject;  // the mapped record; empty when mapping failed (state kDeadLetter)
    State state = State::kPending;
    std::string error_code;
    std::string error_message;
  };
  enum class BatchEnd { kResolved, kAbandoned, kFatal };

  // RebalanceListener (pipeline thread, inside poll()).
  void on_assigned(const std::vector<TopicPartition>& partitions) override;
  void on_revoked(const std::vector<TopicPartition>& partitions) override;

  core::Status poll_into_buffer(std::chrono::milliseconds timeout);
  // Up to `max_records` buffered records into batch_.
  void form_batch(std::size_t max_records);
  // How many of `wanted` records the budget lets go now; 0 starts (or continues) a hold.
  std::size_t budget_allowance(std::size_t wanted);
  // One turn of a hold: the partitions stay paused and the consumer is polled (group membership)
  // until the budget may allow something again.
  void hold_for_budget();
  // Sends the pending entries of batch_ once (splitting on whole-request rejections). Returns
  // ok when nothing is pending any more, kRetry when some are (back off), kFatal/kStopped else.
  core::Status attempt(std::stop_token http_stop);
  BatchEnd process_batch(std::stop_token drain, core::Status& fatal);
  core::Status resolve_batch(std::stop_token drain);
  // Offsets after the done prefix of each partition in batch_ (all of batch_ when resolved).
  std::map<TopicPartition, std::int64_t> done_offsets() const;
  void commit(const std::map<TopicPartition, std::int64_t>& offsets, bool synchronous);
  void pause_assigned();
  void resume_assigned();
  bool linger_elapsed() const;

  ops::Counter& consumed(const std::string& topic);
  ops::Counter& published(const std::string& topic);

  PublishSettings settings_;
  RecordMapper mapper_;
  std::unique_ptr<PublishConsumer> consumer_;
  std::unique_ptr<DeadLetterSink> dead_letters_;
  std::unique_ptr<Publisher> publisher_;
  ops::Metrics& metrics_;
  ops::Counter& batches_;
  ops::Counter& retries_;
  ops::Gauge& in_flight_;
  ops::Gauge& budget_held_;     // records held in Kafka by the budget, 0 when not holding
  ops::Gauge& budget_wait_;     // seconds the current hold has lasted
  ops::Counter& budget_holds_;  // holds begun
  std::map<std::string, ops::Counter*> consumed_;
  std::map<std::string, ops::Counter*> published_;

  std::atomic<bool> joined_{false};
  std::set<TopicPartition> assigned_;
  bool paused_ = false;
  std::map<TopicPartition, std::deque<Entry>> buffered_;
  std::size_t buffered_count_ = 0;
  std::chrono::steady_clock::time_point linger_start_;
  std::vector<Entry> batch_;
  core::Backoff backoff_;
  bool holding_ = false;  // the budget allows nothing now
  std::chrono::steady_clock::time_point hold_start_;
  std::chrono::milliseconds hold_retry_after_{0};
  ops::RepeatLimiter order_broken_warnings_;
  ops::RepeatLimiter poll_warnings_;
  ops::RepeatLimiter retry_warnings_;
  ops::RepeatLimiter dead_letter_warnings_;
  ops::RepeatLimiter commit_warnings_;
};

}  // namespace sfkb::pipeline
