#pragma once
// What the subscribe pipeline needs from a Kafka producer (docs/ARCHITECTURE.md §3: the seam is
// owned by its user). The real one (kafka_adapters/event_producer.h) adapts the Kafka module's
// producer; unit tests use an in-memory one whose acknowledgements they control.

#include <chrono>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>

#include "daemon/core/replay_id.h"
#include "daemon/core/result.h"
#include "daemon/pipeline/event_mapping.h"

namespace sfkb::pipeline {

// Travels with a record through librdkafka and comes back in its delivery report.
struct DeliveryTag {
  std::uint32_t channel = 0;  // index of the channel's mapping in config.subscribe
  core::ReplayId replay_id;
  // The channel's restart count when the record was produced (ChannelProgress::restart): an
  // acknowledgement of the old subscription must not move the new one's watermark.
  std::uint32_t epoch = 0;
};

struct DeliveryReport {
  DeliveryTag tag;
  // ok: acknowledged by every in-sync replica (acks=all) and, for a transactional producer, its
  // transaction committed. Anything else is final: the producer retries (and re-produces an
  // aborted transaction) on its own, so a failure means the pipeline cannot go on - except:
  core::Status status;
  // The record was not written because another owner of the channel took its transactional.id
  // over (a fence, docs/ARCHITECTURE.md §4): the channel is no longer this pipeline's. Expected,
  // not fatal; status is an error then.
  bool fenced = false;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
};

using DeliveryHandler = std::function<void(const DeliveryReport&)>;

class EventProducer {
 public:
  virtual ~EventProducer() = default;
  // Set once before the first produce(). Runs on whichever thread calls poll() or flush(); it
  // must not throw.
  virtual void set_delivery_handler(DeliveryHandler handler) = 0;
  // Called once before reconciliation reads Kafka back: a transactional producer initialises its
  // transactions here, which fences earlier owners of the channels and aborts what they left
  // open (so that read_committed readers see the final state). kRetry: Kafka not reachable yet.
  virtual core::Status initialize(std::stop_token) { return core::Status::ok(); }
  // Hands the record over asynchronously; thread-safe alongside poll(). Errors: kRetry - the
  // local queue is full (serve deliveries, then try again); kInvalidInput - this record can never
  // be produced (e.g. larger than message.max.bytes); kFatal - anything else.
  virtual core::Status produce(const KafkaRecord& record, DeliveryTag tag) = 0;
  // Serves delivery reports, waiting up to `timeout` for the first one.
  virtual void poll(std::chrono::milliseconds timeout) = 0;
  // Waits until every produced record has its delivery report (served through the handler), or
  // until `timeout`: then kRetry.
  virtual core::Status flush(std::chrono::milliseconds timeout) = 0;
  // The topic's partition count from the cluster's metadata; kFatal when the topic is missing.
  virtual core::Result<std::int32_t> partition_count(const std::string& topic) = 0;
};

}  // namespace sfkb::pipeline
