#pragma once
// The composition root (docs/ARCHITECTURE.md §3 "Assembly"): the one place where the loaded
// configuration becomes running parts. Every part is made by a small factory below, so a new
// source (the Pub/Sub API), a new checkpoint store (a compacted topic) or a new value encoding
// (Avro) is one adapter plus one branch in one factory. CompositionRoot owns what the factories
// build, in an order that outlives the pipeline threads, and hands supervise() one slot per
// pipeline.

#include <memory>
#include <thread>
#include <vector>

#include "daemon/app/supervision.h"
#include "daemon/checkpoint/channel_progress.h"
#include "daemon/checkpoint/kafka_tail.h"
#include "daemon/checkpoint/store.h"
#include "daemon/config/config.h"
#include "daemon/http/transport.h"
#include "daemon/kafka/client_config.h"
#include "daemon/ops/liveness.h"
#include "daemon/ops/metrics.h"
#include "daemon/ownership/channel_owner.h"
#include "daemon/pipeline/publish_budget.h"
#include "daemon/pipeline/publish_pipeline.h"
#include "daemon/pipeline/subscribe_pipeline.h"
#include "daemon/pipeline/subscribe_producer.h"
#include "daemon/pipeline/value_encoder.h"
#include "daemon/salesforce/event_source.h"
#include "daemon/salesforce/limits.h"
#include "daemon/salesforce/token_cache.h"

namespace sfkb::app {

// The HTTP transport of one Salesforce client (each has its own cookie store), wrapped so that
// every exchange beats `heartbeat` when one is given.
std::unique_ptr<http::Transport> make_salesforce_transport(const config::SalesforceConfig& sf,
                                                           ops::Heartbeat* heartbeat = nullptr);

// The TokenSource both directions share. Throws when salesforce.auth cannot be used (an unreadable
// key, ...).
std::unique_ptr<salesforce::TokenCache> make_token_source(const config::Config& config,
                                                          ops::Metrics& metrics);

// Where events come from: the CometD client. It asks `resume` where a (re)subscription resumes;
// `tokens` and `resume` must outlive it.
std::unique_ptr<salesforce::EventSource> make_event_source(const config::Config& config,
                                                           salesforce::TokenSource& tokens,
                                                           const salesforce::ResumePoints& resume,
                                                           ops::Heartbeat& heartbeat,
                                                           ops::Metrics& metrics);

// Where each channel's position is kept (checkpoint.store): the checkpoint file in
// checkpoint.directory, or the checkpoint topic (seeded from that file). The only place a store is
// built (`run` and the `checkpoints` command both come here).
std::unique_ptr<checkpoint::CheckpointStore> make_checkpoint_store(const config::Config& config);

// checkpoint.topic with kafka.topic_prefix.
std::string checkpoint_topic(const config::Config& config);

// The record value of a subscribe mapping's events (`value:`).
std::unique_ptr<pipeline::ValueEncoder> make_value_encoder(const config::SubscribeMapping& mapping);

// Where the subscribe direction's records go: a transactional librdkafka producer per channel
// (kafka_adapters/transactional_producer.h), which also writes the positions with
// checkpoint.store: kafka. Throws kafka::KafkaError at start-up.
std::unique_ptr<pipeline::EventProducer> make_event_producer(const config::Config& config);

// How reconciliation reads Kafka back. Throws kafka::KafkaError at start-up.
std::unique_ptr<checkpoint::KafkaTail> make_kafka_tail(const config::Config& config);

// One publish pipeline for `mapping`: its own consumer, dead-letter producer and HTTP session,
// the consumer and the transport wrapped so that they beat `heartbeat` (ops/liveness.h). `tokens`
// is the daemon's shared TokenSource; every REST reply's allocation reading goes to `org_limits`,
// and the mapping's budget (publish_budget.h) draws on the `allowances` all mappings share.
// Throws at start-up when the mapping or the Kafka configuration cannot work.
std::unique_ptr<pipeline::PublishPipeline> make_publish_pipeline(
    const config::Config& config, const config::PublishMapping& mapping,
    salesforce::TokenSource& tokens, ops::Heartbeat& heartbeat, ops::Metrics& metrics,
    std::shared_ptr<salesforce::OrgLimits> org_limits, pipeline::SharedAllowances& allowances);

// The subscribe side over the channels of `config.subscribe` (all of them, or the subset this
// instance owns): its progress, producer, Kafka tail, checkpoint store, event source and pipeline,
// built and destroyed together. `config`, `tokens` and `heartbeat` must outlive it.
// `may_produce` and `on_fenced` are SubscribePipelineOptions'. Throws at start-up like the
// factories.
std::unique_ptr<ownership::OwnedPipeline> make_subscribe_side(
    const config::Config& config, salesforce::TokenSource& tokens, ops::Metrics& metrics,
    ops::Heartbeat& heartbeat, std::function<bool()> may_produce,
    std::function<void(const std::string&)> on_fenced);

// Whether the channels are shared with other instances through the coordination group
// (coordination.enabled, a real cluster, something to subscribe).
bool shares_channels(const config::Config& config);

class CompositionRoot {
 public:
  // Builds every configured pipeline and its parts. `config` and `tokens` must outlive the root;
  // the heartbeats come from `liveness` ("subscribe", "publish[i]"). Throws at start-up when a
  // part cannot be built (a Kafka client that cannot be configured, an unreadable certificate,
  // the embedded cluster's topics).
  CompositionRoot(const config::Config& config, salesforce::TokenSource& tokens,
                  ops::Metrics& metrics, ops::Liveness& liveness);
  ~CompositionRoot();
  CompositionRoot(const CompositionRoot&) = delete;
  CompositionRoot& operator=(const CompositionRoot&) = delete;

  // One slot per pipeline, for supervise(); they refer to parts owned here.
  const std::vector<PipelineSlot>& slots() const { return slots_; }

 private:
  void build_subscribe(const config::Config& config, salesforce::TokenSource& tokens,
                       ops::Metrics& metrics, ops::Liveness& liveness);
  void build_publish(const config::Config& config, salesforce::TokenSource& tokens,
                     ops::Metrics& metrics, ops::Liveness& liveness);
  void start_limits_poller(const config::Config& config, salesforce::TokenSource& tokens);

  // In build order: members are destroyed in reverse, so every pipeline goes before the parts it
  // uses, and the progress object (read by both the source and the pipeline) goes last of them.
  // The org's allocations (README "Limits and loops"): readings from every REST reply and from
  // the limits poller, and the budgets' shared allowances.
  std::shared_ptr<salesforce::OrgLimits> org_limits_;
  pipeline::SharedAllowances allowances_;
  std::shared_ptr<kafka::EmbeddedCluster> embedded_;
  // Either the subscribe side over every channel, or the owner that builds one over the channels
  // this instance owns.
  std::unique_ptr<ownership::OwnedPipeline> subscribe_;
  std::unique_ptr<ownership::ChannelOwner> owner_;
  std::vector<std::unique_ptr<pipeline::PublishPipeline>> publish_;
  std::vector<PipelineSlot> slots_;
  // Last: stopped and joined first, while everything the poller uses is still there.
  std::jthread limits_thread_;
};

}  // namespace sfkb::app
