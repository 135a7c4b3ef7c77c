#pragma once
// The subscribe pipeline's EventProducer (pipeline/subscribe_producer.h) with Kafka transactions
// (docs/ARCHITECTURE.md §4 "Transactions and fencing"): one transactional kafka::Producer per
// channel, its transactional.id stable for the channel (transactional_id()), so that a new owner's
// init_transactions fences the old one.
//
// A channel's records go into its open transaction; the transaction is committed on the thread
// that calls poll() or flush() once it holds `max_records` records or its first record is
// `max_age` old. Only then are the records' delivery reports handed to the pipeline (ok), so the
// pipeline's watermark and checkpoint never pass an uncommitted event. The open transaction's
// records stay in memory: on an abortable error the transaction is aborted and they are produced
// again in a new one (nothing lost, nothing duplicated for read_committed readers). A fence is
// reported for every record not committed (DeliveryReport::fenced), and again for every record
// produced to the channel afterwards.
//
// checkpoint.store: kafka - the channel's position (the last record of the transaction, as a
// checkpoint entry, checkpoint/file_store.h) is written to the checkpoint topic in the same
// transaction, keyed by the channel name: data and position commit together.
//
// Threads: produce() from the pipeline thread, poll()/flush() from the delivery thread. A commit
// runs without the channel's mutex: records produced meanwhile wait in memory and form the next
// transaction, so the pipeline thread never waits for the broker.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/kafka/producer.h"
#include "daemon/pipeline/subscribe_producer.h"

namespace sfkb::ops {
class Counter;
}

namespace sfkb::kafka_adapters {

// The coordination group whose members own channels; transactional IDs and the ownership
// group's name derive from it.
std::string coordination_group(const config::Config& config);

// `<kafka.topic_prefix><coordination group>.<channel>`: the same for every instance started with
// the same configuration, so that the channel's next owner fences its previous one.
std::string transactional_id(const config::Config& config, const std::string& channel);

struct TransactionLimits {
  std::size_t max_records = 5000;            // a transaction is committed at this many records
  std::chrono::milliseconds max_age{100};    // or when its first record is this old
  std::chrono::milliseconds timeout{30000};  // each init/commit/abort call
};

class TransactionalEventProducer final : public pipeline::EventProducer {
 public:
  // One producer per config.subscribe mapping (DeliveryTag::channel). `checkpoint_topic`: the
  // full name of the checkpoint topic (checkpoint.store: kafka), or nullopt. Throws
  // kafka::KafkaError at start-up.
  TransactionalEventProducer(const config::Config& config,
                             std::optional<std::string> checkpoint_topic,
                             TransactionLimits limits = {});
  ~TransactionalEventProducer() override;

  core::Status initialize(std::stop_token stop) override;
  void set_delivery_handler(pipeline::DeliveryHandler handler) override;
  core::Status produce(const pipeline::KafkaRecord& record, pipeline::DeliveryTag tag) override;
  void poll(std::chrono::milliseconds timeout) override;
  core::Status flush(std::chrono::milliseconds timeout) override;
  core::Result<std::int32_t> partition_count(const std::string& topic) override;

 private:
  struct Lane;
  enum class Due { kNow, kAll };

  // After init_transactions: loads the metadata of the lane's topic (and the checkpoint topic)
  // into its producer, so that its first transaction does not wait for a metadata refresh.
  void warm_up(Lane& lane);
  // The commit itself (aborting and re-producing as needed), without the lane's mutex while
  // lane.committing: ok, kFenced or kFatal.
  kafka::TxnResult finish(Lane& lane);
  // Lane mutex held, after finish(): the reports it settles are appended to `out`, and what was
  // produced meanwhile becomes the next transaction.
  void complete(Lane& lane, const kafka::TxnResult& result,
                std::vector<pipeline::DeliveryReport>& out);
  // Produces every pending record into the open transaction (a new attempt).
  kafka::TxnResult produce_all(Lane& lane);
  // Lane mutex held. checkpoint.store: kafka - produces the position after the transaction's last
  // record to the checkpoint topic (nothing otherwise).
  kafka::TxnResult produce_position(Lane& lane);
  // Lane mutex held. Produces the pending records again into a fresh transaction.
  kafka::TxnResult reproduce(Lane& lane);
  // Lane mutex held. Every pending record is reported as fenced (or failed with `status`).
  void give_up(Lane& lane, const std::string& why, bool fenced,
               std::vector<pipeline::DeliveryReport>& out);
  // Serves every lane once: callbacks, then commits that are due. Returns whether any work was
  // done.
  bool serve(Due due, std::vector<pipeline::DeliveryReport>& out);
  void hand_over(std::vector<pipeline::DeliveryReport>& reports);

  std::optional<std::string> checkpoint_topic_;
  TransactionLimits limits_;
  pipeline::DeliveryHandler handler_;
  std::vector<std::unique_ptr<Lane>> lanes_;

  std::mutex wake_mutex_;
  std::condition_variable wake_;  // a transaction reached max_records, or reports are queued
  bool wake_pending_ = false;
  std::mutex queued_mutex_;
  std::vector<pipeline::DeliveryReport> queued_;  // fenced reports from produce()
};

}  // namespace sfkb::kafka_adapters
