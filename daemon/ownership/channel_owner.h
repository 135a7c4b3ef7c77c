#pragma once
// Channel ownership through a Kafka consumer group (README "Several instances",
// docs/ARCHITECTURE.md "Several instances"). Every instance joins the group over the coordination
// topic, whose partition i stands for the i-th channel (channel_partitions.h); the partitions the
// group assigns to this member are the channels it owns, and one subscribe pipeline runs over
// exactly those (one Salesforce session for all of them).
//
// The owned set is the unit: on any change the pipeline over the old set stops in order (stop
// pulling, drain, final checkpoint, disconnect) and one over the new set is built. A revocation
// is handled inside the rebalance callback, so the channel is let go only after its final
// checkpoint; lost partitions (the session timed out: another member may own them already) stop
// the pipeline at once, writing nothing more.
//
// Threads: run() is the owner's thread; the consumer's rebalance callbacks run on it, from inside
// poll(). The pipeline runs on a thread of its own. ready(), not_ready_reason(), note() and
// may_produce() are called from any thread.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/core/result.h"
#include "daemon/kafka/message.h"
#include "daemon/ops/liveness.h"
#include "daemon/ops/metrics.h"

namespace sfkb::ownership {

// A subscribe pipeline over a set of channels, as the owner drives it.
class OwnedPipeline {
 public:
  virtual ~OwnedPipeline() = default;
  // Runs until `stop` (then its orderly shutdown) or a failure (SubscribePipeline::run).
  virtual core::Status run(std::stop_token stop) = 0;
  virtual bool ready() const = 0;
  virtual std::string not_ready_reason() const = 0;
  // Called before the stop when the channels were lost: the shutdown writes nothing more (no
  // final checkpoint, nothing left unsent is sent).
  virtual void abandon() = 0;
};

// Builds the pipeline over `owned` (a config whose subscribe list is the owned channels). The
// owner keeps `owned` alive until the pipeline is destroyed. May throw (start-up errors).
using PipelineFactory = std::function<std::unique_ptr<OwnedPipeline>(const config::Config& owned)>;

class ChannelOwner {
 public:
  // `config` must outlive the owner; `factory` builds a pipeline per owned set. `heartbeat` is
  // the subscribe side's (ops/liveness.h): the pipeline beats it while one runs, the owner's loop
  // while none does.
  ChannelOwner(const config::Config& config, PipelineFactory factory, ops::Metrics& metrics,
               ops::Heartbeat& heartbeat);
  ~ChannelOwner();
  ChannelOwner(const ChannelOwner&) = delete;
  ChannelOwner& operator=(const ChannelOwner&) = delete;

  // Joins the group and follows its assignments until `stop` (then stops the pipeline in order
  // and leaves the group: its channels move at once) or until the pipeline or the group member
  // fails (that status).
  core::Status run(std::stop_token stop);

  // In the group and the owned channels flowing (or none owned).
  bool ready() const;
  std::string not_ready_reason() const;
  // "owns no channel" while ready without a pipeline; empty otherwise.
  std::string note() const;

  // False while this instance may have lost its channels without knowing yet: after its own
  // thread stood still for half a session (SIGSTOP, a long pause) until the group confirmed it
  // still a member. The pipeline produces nothing meanwhile (SubscribePipelineOptions).
  bool may_produce() const;

  // The pipeline's producer of `channel` was fenced (SubscribePipelineOptions::on_fenced): another
  // instance owns it now, whatever the group told this one so far. The owner gives the channel up
  // at its next turn (a pipeline over the rest); the group's revocation follows. Any thread.
  void fenced(const std::string& channel);

 private:
  struct Running;
  void assigned(const std::vector<kafka::TopicPartition>& partitions);
  void revoked(const std::vector<kafka::TopicPartition>& partitions, bool lost);
  // Replaces the pipeline with one over owned_ (none when owned_ is empty).
  core::Status rebuild();
  // Builds and starts a pipeline over owned_; publish() makes it (or none) the running one.
  std::unique_ptr<Running> start_pipeline();
  // Under mutex_, together: the running pipeline, the owned count, joined and settled.
  void publish(std::unique_ptr<Running> running);
  // owned_ differs from the running pipeline's set: not ready until the next publish().
  void unsettle();
  core::Status stop_pipeline(bool abandon);
  void renew_lease(std::chrono::steady_clock::time_point now);

  const config::Config& config_;
  PipelineFactory factory_;
  std::vector<std::string> ordered_;  // partition i stands for ordered_[i]
  std::string topic_;                 // with topic_prefix
  std::string group_;                 // with topic_prefix
  ops::Gauge& owned_gauge_;
  ops::Counter& rebalances_;
  ops::Heartbeat& heartbeat_;

  std::set<std::string> owned_;    // owner thread
  std::set<std::string> running_;  // the channels of the running pipeline (owner thread)
  bool changed_ = false;           // owned_ differs from running_
  bool callback_blocked_ = false;  // a revocation in this poll stopped the pipeline
  bool member_ = false;            // an assignment arrived (owner thread)
  // Readiness state, written under mutex_ together with running_pipeline_ (publish(), unsettle()).
  std::atomic<bool> joined_{false};          // the first assignment is applied
  std::atomic<bool> settled_{true};          // owned_ is what the running pipeline covers
  std::atomic<std::size_t> owned_count_{0};  // of the running pipeline
  std::atomic<bool> stopping_{false};
  std::atomic<std::int64_t> lease_until_ns_{0};

  std::mutex fenced_mutex_;
  std::set<std::string> fenced_;  // reported by the delivery thread, taken by the owner's

  mutable std::mutex mutex_;  // guards running_pipeline_ against the readiness readers
  std::unique_ptr<Running> running_pipeline_;
};

}  // namespace sfkb::ownership
