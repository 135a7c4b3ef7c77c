#pragma once
// The bridge's Kafka producer: idempotent, acks=all, gapless, no message timeout
// (docs/ARCHITECTURE.md §4; enforced by ClientConfig whatever kafka.properties says). Records are
// handed over asynchronously; each comes back exactly once through the delivery callback.
//
// Threads: produce() may be called from any thread. The delivery callback runs on the thread
// that calls poll() or flush() - never on a librdkafka thread - so the pipeline owns its state
// without locks if it polls from its own thread. The callback must not throw (it is wrapped
// anyway: an exception is logged and swallowed, never let into librdkafka's C frames).
//
// Failure model: a failed delivery is final (the producer retries forever on its own) and is
// reported as kFatal; so is a fatal producer error (rd_kafka_fatal_error, e.g. a fenced or
// out-of-sequence idempotent producer), which fatal_error() also reports.
//
//   kafka::Producer producer(kafka::ClientConfig(config.kafka, kafka::Role::kProducer),
//                            [&](const kafka::Delivery& d) { ... d.token ... });
//   producer.produce({.topic = t, .partition = p, .value = json}, {channel_index, replay_id});
//   producer.poll(100ms);

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "daemon/core/result.h"
#include "daemon/kafka/client_config.h"
#include "daemon/kafka/handles.h"

namespace sfkb::ops {
class Counter;
}

namespace sfkb::kafka {

inline constexpr std::int32_t kPartitionUnassigned = -1;  // RD_KAFKA_PARTITION_UA

using Header = std::pair<std::string, std::string>;

// A record to produce. Views: produce() copies what it needs before returning.
struct OutgoingRecord {
  std::string_view topic;
  std::int32_t partition = kPartitionUnassigned;  // UA: murmur2 of the key (Java-compatible)
  std::optional<std::string_view> key;            // nullopt: a null key
  std::string_view value;
  std::span<const Header> headers;
};

// Two words the caller chooses (e.g. a channel index and a replay ID), and optionally bytes (a
// position that is not a number); returned in the report.
struct DeliveryToken {
  DeliveryToken() = default;
  DeliveryToken(std::uint64_t id_, std::int64_t value_, std::optional<std::string> bytes_ = {})
      : id(id_), value(value_), bytes(std::move(bytes_)) {}
  std::uint64_t id = 0;
  std::int64_t value = 0;
  std::optional<std::string> bytes;
};

struct Delivery {
  DeliveryToken token;
  core::Status status;  // ok: acknowledged by all in-sync replicas; else kFatal
  std::string_view topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
};

using DeliveryCallback = std::function<void(const Delivery&)>;

// A transactional producer's answer to a transaction call (init, begin, commit, abort), by what
// the caller does next (librdkafka's retriable / txn_requires_abort / fatal classes).
enum class TxnOutcome {
  kOk,
  kRetry,   // call the same function again
  kAbort,   // abort the transaction; its records may be produced again in a new one
  kFenced,  // another producer with the same transactional.id took over: stop for good
  kFatal,   // anything else that stops the producer
};

struct TxnResult {
  TxnOutcome outcome = TxnOutcome::kOk;
  std::string message;
  bool ok() const { return outcome == TxnOutcome::kOk; }
};

class Producer {
 public:
  // Throws KafkaError at start-up (invalid properties, handle creation). `extra` is applied after
  // the enforced properties; a `transactional.id` among them makes a transactional producer,
  // whose failed deliveries are not logged one by one (the transaction's outcome is what counts).
  Producer(const ClientConfig& config, DeliveryCallback on_delivery, const Properties& extra = {});
  // Flushes for at most kafka.flush_timeout, then drops what is left (each dropped record is
  // logged as a count; its delivery callback is not called any more).
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Hands the record to librdkafka. kRetry: the local queue is full (call poll(), then retry);
  // kInvalidInput: this record can never be produced (too large); kFatal: anything else,
  // including a fatal producer error.
  core::Status produce(const OutgoingRecord& record, DeliveryToken token);
  // Serves delivery callbacks (and error/log events), waiting up to `timeout` for the first.
  // Returns the number of events served.
  int poll(std::chrono::milliseconds timeout);
  // Waits until every produced record has its delivery callback served, or `timeout` (kRetry).
  core::Status flush(std::chrono::milliseconds timeout);
  // Records handed over but not yet reported (librdkafka's outq, including in-flight requests).
  int in_flight() const;

  // From the cluster's metadata. kFatal when the topic does not exist, kRetry on timeouts.
  core::Result<std::int32_t> partition_count(const std::string& topic,
                                             std::chrono::milliseconds timeout);
  // ok, or the fatal error that stopped the producer.
  core::Status fatal_error() const;
  // The fatal error is a fence: a newer producer with the same transactional.id exists.
  bool fenced() const;

  // Transactions (a producer built with a transactional.id). init_transactions() fences earlier
  // producers of the same transactional.id and aborts their open transaction; commit flushes and
  // serves the delivery callbacks on the calling thread.
  TxnResult init_transactions(std::chrono::milliseconds timeout);
  TxnResult begin_transaction();
  TxnResult commit_transaction(std::chrono::milliseconds timeout);
  TxnResult abort_transaction(std::chrono::milliseconds timeout);

  rd_kafka_t* handle() const { return handle_.get(); }

 private:
  static void on_delivery_report(rd_kafka_t* rk, const rd_kafka_message_t* message,
                                 void* opaque) noexcept;
  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) noexcept;
  void deliver(const rd_kafka_message_t* message);

  DeliveryCallback on_delivery_;
  std::chrono::milliseconds flush_timeout_;
  std::shared_ptr<const void> keep_alive_;
  std::atomic<bool> fatal_{false};
  std::atomic<bool> closing_{false};
  bool transactional_ = false;
  ops::Counter* produce_errors_ = nullptr;
  ops::Counter* delivery_failures_ = nullptr;
  HandlePtr handle_;  // last: destroyed first, while the members above still exist
};

}  // namespace sfkb::kafka
