#pragma once
// Salesforce -> Kafka (docs/ARCHITECTURE.md §2 "Subscribe", §4). One pipeline serves every
// configured channel over one CometD session:
//
//   pipeline thread:  reconcile -> loop { next_batch -> per event: dedupe, map, produce async }
//   delivery thread:  producer.poll -> acks advance each channel's watermark -> periodic checkpoint
//
// The checkpoint only ever holds a channel's watermark: the highest replay ID that Kafka has
// acknowledged together with every earlier event of the channel. When the channel's resume point
// turns out void (Salesforce refused it, or it is another org's), the source resubscribes from a
// fallback and says so in the batch (a ChannelRestart item): the channel starts a new epoch, with
// a fresh duplicate filter and a watermark starting at the fallback; acknowledgements of the old
// epoch still in flight no longer move it (DeliveryTag::epoch). Shutdown order: stop pulling ->
// drain in-flight deliveries -> flush (bounded) -> final checkpoint -> /meta/disconnect.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "daemon/checkpoint/channel_progress.h"
#include "daemon/checkpoint/kafka_tail.h"
#include "daemon/checkpoint/reconcile.h"
#include "daemon/checkpoint/store.h"
#include "daemon/checkpoint/watermark.h"
#include "daemon/config/config.h"
#include "daemon/core/result.h"
#include "daemon/ops/metrics.h"
#include "daemon/ops/repeat_limiter.h"
#include "daemon/pipeline/event_mapping.h"
#include "daemon/pipeline/subscribe_producer.h"
#include "daemon/pipeline/value_encoder.h"
#include "daemon/salesforce/event_source.h"

namespace sfkb::pipeline {

struct SubscribePipelineOptions {
  ops::Metrics* metrics = &ops::Metrics::global();
  // The partition a key-less channel goes to; must be the function reconciliation reads back
  // with. kafka_adapters::partition_by_channel_name in the daemon (checkpoint/channel_partition.h).
  std::function<std::int32_t(const std::string& channel, std::int32_t partition_count)>
      partition_for_channel;
  // How long the delivery thread waits in one producer poll: bounds how late a checkpoint and a
  // stop are noticed, at a cost of one wake-up per interval when idle.
  std::chrono::milliseconds poll_interval{100};
  // The org the bridge is connected to, asked once at start-up before reconciliation (it may
  // authenticate; kRetry is retried). Empty or unset: unknown - no sf.org_id header, no org
  // check. The daemon asks its TokenSource (the org of the token's identity URL).
  std::function<core::Result<std::string>(std::stop_token)> org_id;
  // The encoder of a mapping's record values, asked once per mapping at construction (required).
  // The composition root's make_value_encoder in the daemon.
  std::function<std::unique_ptr<ValueEncoder>(const config::SubscribeMapping&)> value_encoder;
  // Channels whose events by the bridge's own user are dropped, not produced (skip_own_events,
  // own_events.h); their replay IDs still count as done for the checkpoint. The user is asked once
  // at start-up through `user_id` (the daemon: the user of the token's identity URL); a start
  // without a known user fails, since dropping nothing would close the loop unnoticed.
  std::vector<std::string> skip_own_channels;
  std::function<core::Result<std::string>(std::stop_token)> user_id;
  // Asked before each record is produced: while false, the pipeline waits (it may have lost its
  // channels to another instance without knowing yet; ownership/channel_owner.h). Unset: always.
  std::function<bool()> may_produce;
  // A channel was fenced (DeliveryReport::fenced): another instance owns it now. Called once per
  // channel, on the delivery thread, after the pipeline stopped producing the channel: its
  // further events are ignored (not produced, not checkpointed - the new owner writes them), the
  // rest of the pipeline goes on. Whoever assigns channels to instances hears it here; unset:
  // only the log line and sfkb_subscribe_fenced_total say so.
  std::function<void(const std::string& channel)> on_fenced;
};

class SubscribePipeline {
 public:
  // Everything passed by reference must outlive the pipeline. `progress` holds the channels'
  // acknowledged positions; the source reads its resume points from the same object. Throws
  // std::invalid_argument when options.value_encoder is unset.
  SubscribePipeline(const config::Config& config, salesforce::EventSource& source,
                    EventProducer& producer, checkpoint::CheckpointStore& store,
                    checkpoint::KafkaTail& tail, checkpoint::ChannelProgress& progress,
                    SubscribePipelineOptions options);
  ~SubscribePipeline();
  SubscribePipeline(const SubscribePipeline&) = delete;
  SubscribePipeline& operator=(const SubscribePipeline&) = delete;

  // Runs until `stop` (then an orderly shutdown and ok) or a fatal error (kFatal, after the same
  // shutdown; the checkpoint never passes an event Kafka did not acknowledge).
  // A fenced channel is not an error: the other channels go on (options.on_fenced).
  core::Status run(std::stop_token stop);

  // Before a stop: the channels were lost to another instance, so the shutdown writes nothing
  // more - it neither waits for unacknowledged records nor writes the final checkpoint. Any
  // thread.
  void abandon() { abandoned_ = true; }

  // The channels fenced so far (any thread).
  std::vector<std::string> fenced_channels() const;

  // For /readyz: reconciled, and the CometD session is up. Any thread.
  bool ready() const;
  std::string not_ready_reason() const;

  // Start-up reconciliation's answer, per channel (empty until run() reconciled).
  std::vector<checkpoint::ChannelResume> resumes() const;

 private:
  struct Channel;

  core::Status start_up(std::stop_token stop);
  core::Status pump(std::stop_token stop);
  // Blocks while `limit` events are in flight (backpressure). False when stop came first.
  bool wait_for_room(std::size_t limit, std::stop_token stop);
  core::Status handle(const salesforce::StreamEvent& event, std::stop_token stop);
  // A ChannelRestart item: the channel's duplicate filter, watermark and epoch restart with it.
  void restart(const std::string& channel, const salesforce::ChannelRestart& restart);
  core::Status shut_down();
  void on_delivery(const DeliveryReport& report);
  void delivery_loop(std::stop_token stop);
  core::Status write_checkpoint(bool final);
  core::Status fatal_status() const;

  const config::Config& config_;
  salesforce::EventSource& source_;
  EventProducer& producer_;
  checkpoint::CheckpointStore& store_;
  checkpoint::KafkaTail& tail_;
  checkpoint::ChannelProgress& progress_;
  SubscribePipelineOptions options_;

  std::vector<std::unique_ptr<Channel>> channels_;  // config order = DeliveryTag::channel
  std::unordered_map<std::string, std::size_t> channel_index_;
  std::unordered_map<std::string, ops::Counter*> unconfigured_;

  ops::Gauge& in_flight_gauge_;
  ops::Gauge& backpressure_gauge_;
  ops::RepeatLimiter backpressure_warnings_;  // a busy bridge pauses ~20 times a second
  ops::RepeatLimiter checkpoint_warnings_;    // a full disk fails every checkpoint.interval
  ops::Counter& checkpoint_writes_;
  ops::Counter& checkpoint_failures_;

  std::stop_source pull_stop_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> failed_{false};
  std::atomic<bool> abandoned_{false};
  mutable std::mutex failure_mutex_;
  std::string failure_;

  std::mutex checkpoint_mutex_;  // the delivery thread and the final write
  checkpoint::Checkpoints checkpoints_;
  std::vector<checkpoint::ChannelProgress::Position> saved_;
  std::string org_id_;   // the pipeline thread's: the org of the current subscription
  std::string user_id_;  // the bridge's own user, when a channel skips its events

  mutable std::mutex resumes_mutex_;
  std::vector<checkpoint::ChannelResume> resumes_;

  std::jthread delivery_thread_;
};

}  // namespace sfkb::pipeline
