#include "daemon/kafka/producer.h"

#include <memory>

#include "daemon/kafka/error.h"
#include "daemon/kafka/metadata.h"
#include "daemon/ops/log.h"
#include "daemon/ops/metrics.h"

namespace sfkb::kafka {
namespace {

std::shared_ptr<spdlog::logger> log() {
  return ops::logger("kafka");
}

bool is_fence(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__FENCED || err == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
         err == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
}

}  // namespace

Producer::Producer(const ClientConfig& config, DeliveryCallback on_delivery,
                   const Properties& extra)
    : on_delivery_(std::move(on_delivery)),
      flush_timeout_(config.kafka().flush_timeout),
      keep_alive_(config.keep_alive()) {
  if (config.role() != Role::kProducer) {
    throw KafkaError("Producer needs a ClientConfig built for Role::kProducer");
  }
  auto& metrics = ops::Metrics::global();
  produce_errors_ = &metrics.counter(ops::Metric::kKafkaProduceErrors);
  delivery_failures_ = &metrics.counter(ops::Metric::kKafkaDeliveryFailures);
  ConfPtr conf = config.make_conf(extra);
  for (const auto& [key, value] : extra) {
    transactional_ = transactional_ || key == "transactional.id";
  }
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &Producer::on_delivery_report);
  rd_kafka_conf_set_error_cb(conf.get(), &Producer::on_error);
  char errstr[512];
  handle_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof errstr));
  if (!handle_) {
    throw KafkaError(std::string("Kafka producer: ") + errstr);
  }
  conf.release();  // rd_kafka_new took it
  log()->info("producer {} created for {}", rd_kafka_name(handle_.get()),
              config.bootstrap_servers());
}

Producer::~Producer() {
  // From here on, reports are not handed to the owner any more: whatever it wanted to know, it
  // learned through its own flush() before letting go of the producer.
  closing_ = true;
  if (rd_kafka_flush(handle_.get(), static_cast<int>(flush_timeout_.count())) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    log()->warn("producer closing with {} records not acknowledged after {} ms; dropping them",
                rd_kafka_outq_len(handle_.get()), flush_timeout_.count());
    rd_kafka_purge(handle_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(handle_.get(), 1000);  // serves the purge reports, freeing their tokens
  }
}

core::Status Producer::produce(const OutgoingRecord& record, DeliveryToken token) {
  if (fatal_) {
    return fatal_error();
  }
  auto context = std::make_unique<DeliveryToken>(token);  // back in deliver()
  HeadersPtr headers(rd_kafka_headers_new(record.headers.size()));
  for (const auto& [name, value] : record.headers) {
    rd_kafka_header_add(headers.get(), name.data(), static_cast<ssize_t>(name.size()), value.data(),
                        static_cast<ssize_t>(value.size()));
  }
  const std::string topic(record.topic);
  const void* key = record.key ? record.key->data() : nullptr;
  const std::size_t key_len = record.key ? record.key->size() : 0;
  const rd_kafka_resp_err_t err = rd_kafka_producev(
      handle_.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(record.partition),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_VALUE(const_cast<char*>(record.value.data()), record.value.size()),
      RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_HEADERS(headers.get()),
      RD_KAFKA_V_OPAQUE(context.get()), RD_KAFKA_V_END);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    headers.release();  // owned by the message now
    context.release();  // owned by librdkafka until the delivery report
    return core::Status::ok();
  }
  if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
    return core::retry_error("produce to " + topic + ": local queue full");
  }
  produce_errors_->inc();
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    fatal_ = true;
    return fatal_error();
  }
  auto status = check(err, "produce to " + topic + " [" + std::to_string(record.partition) + "]");
  if (status.kind() == core::ErrorKind::kRetry) {
    // Anything but queue-full refused at the door will not get better by waiting.
    return core::Error{core::ErrorKind::kFatal, status.message()};
  }
  return status;
}

int Producer::poll(std::chrono::milliseconds timeout) {
  return rd_kafka_poll(handle_.get(), static_cast<int>(timeout.count()));
}

core::Status Producer::flush(std::chrono::milliseconds timeout) {
  const auto err = rd_kafka_flush(handle_.get(), static_cast<int>(timeout.count()));
  if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    return core::retry_error("flush: " + std::to_string(rd_kafka_outq_len(handle_.get())) +
                             " records not acknowledged after " + std::to_string(timeout.count()) +
                             " ms");
  }
  return check(err, "flush");
}

int Producer::in_flight() const {
  return rd_kafka_outq_len(handle_.get());
}

core::Result<std::int32_t> Producer::partition_count(const std::string& topic,
                                                     std::chrono::milliseconds timeout) {
  return metadata_partition_count(handle_.get(), topic, timeout);
}

core::Status Producer::fatal_error() const {
  char reason[512];
  const auto err = rd_kafka_fatal_error(handle_.get(), reason, sizeof reason);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    return core::Status::ok();
  }
  return core::fatal_error(std::string("Kafka producer fatal error: ") + reason + " (" +
                           rd_kafka_err2name(err) + ")");
}

bool Producer::fenced() const {
  char reason[256];
  return is_fence(rd_kafka_fatal_error(handle_.get(), reason, sizeof reason));
}

namespace {

// Takes ownership of `error` (nullptr: success).
TxnResult classify(rd_kafka_error_t* error, const std::string& what) {
  if (error == nullptr) {
    return {};
  }
  TxnResult result;
  result.message =
      what + ": " + rd_kafka_error_string(error) + " (" + rd_kafka_error_name(error) + ")";
  if (is_fence(rd_kafka_error_code(error))) {
    result.outcome = TxnOutcome::kFenced;
  } else if (rd_kafka_error_is_fatal(error)) {
    result.outcome = TxnOutcome::kFatal;
  } else if (rd_kafka_error_txn_requires_abort(error)) {
    result.outcome = TxnOutcome::kAbort;
  } else if (rd_kafka_error_is_retriable(error) ||
             rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    result.outcome = TxnOutcome::kRetry;
  } else {
    result.outcome = TxnOutcome::kFatal;
  }
  rd_kafka_error_destroy(error);
  return result;
}

}  // namespace

TxnResult Producer::init_transactions(std::chrono::milliseconds timeout) {
  auto result =
      classify(rd_kafka_init_transactions(handle_.get(), static_cast<int>(timeout.count())),
               "init_transactions");
  if (result.outcome == TxnOutcome::kFatal && fenced()) {
    result.outcome = TxnOutcome::kFenced;
  }
  return result;
}

TxnResult Producer::begin_transaction() {
  auto result = classify(rd_kafka_begin_transaction(handle_.get()), "begin_transaction");
  if (result.outcome == TxnOutcome::kFatal && fenced()) {
    result.outcome = TxnOutcome::kFenced;
  }
  return result;
}

TxnResult Producer::commit_transaction(std::chrono::milliseconds timeout) {
  auto result =
      classify(rd_kafka_commit_transaction(handle_.get(), static_cast<int>(timeout.count())),
               "commit_transaction");
  if (result.outcome == TxnOutcome::kFatal && fenced()) {
    result.outcome = TxnOutcome::kFenced;
  }
  return result;
}

TxnResult Producer::abort_transaction(std::chrono::milliseconds timeout) {
  auto result =
      classify(rd_kafka_abort_transaction(handle_.get(), static_cast<int>(timeout.count())),
               "abort_transaction");
  if (result.outcome == TxnOutcome::kFatal && fenced()) {
    result.outcome = TxnOutcome::kFenced;
  }
  return result;
}

void Producer::on_delivery_report(rd_kafka_t*, const rd_kafka_message_t* message,
                                  void* opaque) noexcept {
  try {
    static_cast<Producer*>(opaque)->deliver(message);
  } catch (const std::exception& e) {
    log()->error("delivery callback threw: {}", e.what());
  } catch (...) {
    log()->error("delivery callback threw a non-standard exception");
  }
}

void Producer::deliver(const rd_kafka_message_t* message) {
  std::unique_ptr<DeliveryToken> context(static_cast<DeliveryToken*>(message->_private));
  // A transactional producer's failed records (purged by an abort, fenced) are counted by the
  // transaction's owner, which produces them again or gives the channel up.
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR && !transactional_) {
    delivery_failures_->inc();
  }
  if (closing_ || !context || !on_delivery_) {
    return;
  }
  Delivery delivery;
  delivery.token = *context;
  delivery.topic = rd_kafka_topic_name(message->rkt);
  delivery.partition = message->partition;
  delivery.offset = message->offset;
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    auto status = check(message->err, "delivery to " + std::string(delivery.topic) + " [" +
                                          std::to_string(message->partition) + "]");
    // Final whatever the code says: the producer already retried for as long as it could.
    delivery.status = core::Error{core::ErrorKind::kFatal, status.message()};
    if (!transactional_) {
      log()->error("{}", delivery.status.message());
    }
  }
  on_delivery_(delivery);
}

void Producer::on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) noexcept {
  try {
    auto* self = static_cast<Producer*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      self->fatal_ = true;
      if (self->fenced()) {
        return;  // expected when ownership moved: the transaction's owner reports it once
      }
      log()->critical("{}", self->fatal_error().message());
      return;
    }
    // Transient (brokers down, timeouts): librdkafka keeps retrying; records wait in its queue.
    log()->warn("producer {}: {} ({})", rd_kafka_name(rk), reason,
                rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)));
  } catch (...) {
  }
}

}  // namespace sfkb::kafka
