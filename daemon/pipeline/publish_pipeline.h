#pragma once
// Kafka -> Salesforce (docs/ARCHITECTURE.md §2 publish): consume a mapping's topics in a consumer
// group, map each record once, publish batches through a Publisher (publisher.h: REST composite
// requests or the Pub/Sub API), dead-letter what Salesforce will never accept and commit, per
// partition, only offsets of records that are done.
//
// Concurrency and order (docs/ARCHITECTURE.md §2 publish, §4 threads): up to
// `max_in_flight_requests` requests are on the wire at once, each sent by one of as many request
// threads, each with its own Publisher (for REST its own RestClient and HTTP transport, since that
// client is blocking; for the Pub/Sub API one thread-safe publisher behind them all).
// A batch is formed only from partitions that have no batch of theirs in flight or waiting for a
// retry, so at most one request per partition is outstanding: a partition's records reach
// Salesforce in offset order and no later request overtakes a retry. One exception Salesforce
// makes: within one composite request it may refuse a record for now and accept a later one (see
// attempt() in publish_pipeline.cpp). The pipeline thread alone touches the consumer (poll, pause,
// commit; rebalance callbacks run inside poll()), the buffers and the dead-letter sink; a request
// thread touches only the batch it was handed, until it hands it back.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
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
  // Composite requests on the wire at once (publish[].max_in_flight_requests), at most one per
  // partition.
  std::size_t max_in_flight_requests = 4;
  // Records held beyond the batches in flight (polled, mapped, waiting): bounds memory when
  // Salesforce is slow (docs/ARCHITECTURE.md §1), on top of librdkafka's own prefetch. A partition
  // that alone holds 4 x batch_size of them is not read (its records wait in the consumer, not
  // paused) until a batch of it went out, so that one busy partition cannot fill the buffer while
  // the others have nothing to send.
  std::size_t max_buffered_records = 0;  // 0: 4 x batch_size x max_in_flight_requests
  std::chrono::milliseconds poll_interval{100};
  // What this mapping may spend of the org's allocations (publish_budget.h); null: no limit.
  // When it allows nothing, records wait in Kafka: the consumer is paused, offsets stay
  // uncommitted, /readyz stays ready.
  std::shared_ptr<PublishBudget> budget;
};

// Derives the settings of one mapping from the whole configuration (topic_prefix applied).
PublishSettings publish_settings_from(const config::Config& config,
                                      const config::PublishMapping& mapping);

// Makes the HTTP transport of one request thread (each has its own session and connection).
using TransportFactory = std::function<std::unique_ptr<http::Transport>()>;
// Makes the Publisher (publisher.h: REST or the Pub/Sub API) of one request thread.
using PublisherFactory = std::function<std::unique_ptr<Publisher>()>;

class PublishPipeline final : private RebalanceListener {
 public:
  // `dead_letters` may be null when the mapping has no dead_letter_topic: a permanent error then
  // stops the pipeline as with on_error: fail. Throws std::invalid_argument on a bad mapping.
  PublishPipeline(PublishSettings settings, std::unique_ptr<PublishConsumer> consumer,
                  std::unique_ptr<DeadLetterSink> dead_letters,
                  const TransportFactory& make_transport, salesforce::TokenSource& tokens,
                  ops::Metrics& metrics = ops::Metrics::global());
  // The same over any Publisher: each request thread gets one from `make_publisher`.
  PublishPipeline(PublishSettings settings, std::unique_ptr<PublishConsumer> consumer,
                  std::unique_ptr<DeadLetterSink> dead_letters,
                  const PublisherFactory& make_publisher,
                  ops::Metrics& metrics = ops::Metrics::global());
  ~PublishPipeline() override;
  PublishPipeline(const PublishPipeline&) = delete;
  PublishPipeline& operator=(const PublishPipeline&) = delete;

  // Runs until `stop` (then finishes or abandons the batches in flight within drain_timeout,
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
    ops::Counter* published = nullptr;  // sfkb_records_published_total of its topic
  };
  // Records of partitions that have no other batch; sent whole (split on rejections) by one
  // request thread at a time, retried after a backoff until every entry is done.
  struct Batch {
    explicit Batch(const core::BackoffPolicy& policy) : backoff(policy) {}
    std::vector<Entry> entries;
    std::set<TopicPartition> partitions;
    core::Backoff backoff;
    int retries = 0;
    bool sending = false;  // a request thread has it: the pipeline thread leaves entries alone
    bool retry_due = false;
    std::chrono::steady_clock::time_point retry_at{};
  };
  struct Completion {
    Batch* batch;
    core::Status status;
  };
  struct Sender;  // a request thread's Publisher (publish_pipeline.cpp)

  // RebalanceListener (pipeline thread, inside poll()).
  void on_assigned(const std::vector<TopicPartition>& partitions) override;
  void on_revoked(const std::vector<TopicPartition>& partitions) override;

  core::Status poll_into_buffer(std::chrono::milliseconds timeout);
  // Forms one batch of up to `max_records` buffered records of free partitions (whole queues
  // first, so that concurrent batches cover different partitions); null when none is free.
  std::unique_ptr<Batch> form_batch(std::size_t max_records);
  // Buffered records of partitions without a batch, and when the oldest of them has lingered.
  std::size_t sendable() const;
  std::optional<std::chrono::steady_clock::time_point> linger_deadline() const;
  // How many of `wanted` records the budget lets go now; 0 starts (or continues) a hold.
  std::size_t budget_allowance(std::size_t wanted);
  // Sends the pending entries of `batch` once (splitting on whole-request rejections), on a
  // request thread. Returns ok when nothing is pending any more, kRetry when some are (back
  // off), kFatal/kStopped else.
  core::Status attempt(Sender& sender, Batch& batch, std::stop_token http_stop);
  void sender_loop(Sender& sender, std::stop_token own);
  void dispatch(Batch& batch);
  // Handles the batches the request threads handed back (resolve, dead-letter, schedule a
  // retry) and commits what they finished, in one synchronous commit. `wait`: block until at
  // least one comes back (or `until`).
  void handle_completions(bool wait, std::chrono::steady_clock::time_point until);
  void on_completion(Batch& batch, const core::Status& status,
                     std::map<TopicPartition, std::int64_t>& to_commit);
  core::Status resolve_batch(Batch& batch);
  void remove_batch(Batch& batch);
  // Offsets after the done prefix of each partition of `batch` (all of it when resolved).
  static std::map<TopicPartition, std::int64_t> done_offsets(const Batch& batch);
  void commit(const std::map<TopicPartition, std::int64_t>& offsets, bool synchronous);
  // Pauses exactly the partitions that must not deliver now: all while the budget holds and
  // those of a batch waiting for its retry; and marks full_ those whose buffer is full.
  void update_pauses();
  void update_gauges();
  std::size_t requests_in_flight() const;

  ops::Counter& consumed(const std::string& topic);
  ops::Counter& published(const std::string& topic);

  PublishSettings settings_;
  RecordMapper mapper_;
  std::unique_ptr<PublishConsumer> consumer_;
  std::unique_ptr<DeadLetterSink> dead_letters_;
  std::vector<std::unique_ptr<Sender>> senders_;
  ops::Metrics& metrics_;
  ops::Counter& batches_counter_;
  ops::Counter& retries_;
  ops::Gauge& in_flight_;
  ops::Gauge& requests_gauge_;  // composite requests on the wire
  ops::Gauge& budget_held_;     // records held in Kafka by the budget, 0 when not holding
  ops::Gauge& budget_wait_;     // seconds the current hold has lasted
  ops::Counter& budget_holds_;  // holds begun
  std::map<std::string, ops::Counter*> consumed_;
  std::map<std::string, ops::Counter*> published_;

  std::atomic<bool> joined_{false};
  std::set<TopicPartition> assigned_;
  std::set<TopicPartition> paused_;
  std::set<TopicPartition> full_;  // not read: their buffer holds kPartitionBatches batches
  std::map<TopicPartition, std::deque<Entry>> buffered_;
  std::map<TopicPartition, std::chrono::steady_clock::time_point> buffered_since_;
  std::size_t buffered_count_ = 0;
  std::size_t batched_count_ = 0;  // entries of batches_
  TopicPartition next_first_;      // form_batch starts here (round robin across batches)
  std::list<std::unique_ptr<Batch>> batches_;  // formed, not yet resolved
  std::set<TopicPartition> busy_;              // partitions of batches_
  std::chrono::steady_clock::time_point last_poll_{};
  bool stopping_ = false;
  core::Status fatal_;
  std::stop_source http_stop_;  // the request threads' exchanges: drain fired, or a fatal error
  bool holding_ = false;        // the budget allows nothing now
  std::chrono::steady_clock::time_point hold_start_;
  std::chrono::steady_clock::time_point next_budget_look_{};

  // Between the pipeline thread and the request threads.
  std::mutex mutex_;
  std::condition_variable_any jobs_cv_;
  std::condition_variable_any done_cv_;
  std::deque<Batch*> jobs_;
  std::deque<Completion> done_;
  std::size_t sending_ = 0;  // batches handed to request threads and not handled back yet

  ops::RepeatLimiter order_broken_warnings_;
  ops::RepeatLimiter poll_warnings_;
  ops::RepeatLimiter retry_warnings_;
  ops::RepeatLimiter dead_letter_warnings_;
  ops::RepeatLimiter commit_warnings_;
  std::vector<std::jthread> threads_;  // last: joined before what they use is destroyed
};

}  // namespace sfkb::pipeline
