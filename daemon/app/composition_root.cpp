#include "daemon/app/composition_root.h"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>

#include "daemon/app/heartbeat_decorators.h"
#include "daemon/checkpoint/channel_partition.h"
#include "daemon/checkpoint/file_store.h"
#include "daemon/http/curl_transport.h"
#include "daemon/kafka/consumer.h"
#include "daemon/kafka_adapters/event_producer.h"
#include "daemon/kafka_adapters/publish_ports.h"
#include "daemon/kafka_adapters/tail_reader.h"
#include "daemon/kafka_adapters/topic_store.h"
#include "daemon/kafka_adapters/transactional_producer.h"
#include "daemon/ops/log.h"
#include "daemon/pipeline/json_value_encoders.h"
#include "daemon/pipeline/rest_publisher.h"
#include "daemon/pubsub/pubsub_client.h"
#include "daemon/pubsub/pubsub_publisher.h"
#include "daemon/salesforce/cometd_client.h"
#include "daemon/salesforce/limits_poller.h"
#include "daemon/salesforce/merged_source.h"

namespace sfkb::app {
namespace {

// The publish pipeline's drain leaves at least a quarter of shutdown.timeout for its final commit
// and leaving the group (publish_settings_from); leaving gets half of that at most.
// With kafka.embedded the mock cluster would auto-create topics with one partition on first use,
// but the subscribe side asks for a topic's partition count before producing (and treats a
// missing topic as fatal, as it must against a real cluster), so every mapped topic is created
// up front.
core::Status create_embedded_topics(const config::Config& config, kafka::EmbeddedCluster& cluster) {
  std::vector<std::string> topics;
  for (const auto& s : config.subscribe) {
    topics.push_back(config::full_topic(config.kafka, s.topic));
  }
  for (const auto& p : config.publish) {
    for (const auto& t : p.topics) {
      topics.push_back(config::full_topic(config.kafka, t));
    }
    if (!p.dead_letter_topic.empty()) {
      topics.push_back(config::full_topic(config.kafka, p.dead_letter_topic));
    }
  }
  if (config.checkpoint.store == config::CheckpointStoreKind::kKafka) {
    topics.push_back(checkpoint_topic(config));
  }
  std::sort(topics.begin(), topics.end());
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  for (const auto& topic : topics) {
    if (auto status = cluster.create_topic(topic, 1); !status.is_ok()) {
      return status;
    }
  }
  ops::logger("supervisor")
      ->info("kafka.embedded: created {} topic(s) in the mock cluster", topics.size());
  return core::Status::ok();
}

}  // namespace

std::unique_ptr<http::Transport> make_salesforce_transport(const config::SalesforceConfig& sf,
                                                           ops::Heartbeat* heartbeat) {
  http::CurlTransportOptions options;
  options.ca_file = sf.ca_file;
  options.connect_timeout = sf.connect_timeout;
  auto transport = std::make_unique<http::CurlTransport>(options);
  if (heartbeat == nullptr) {
    return transport;
  }
  return std::make_unique<HeartbeatTransport>(std::move(transport), *heartbeat);
}

std::unique_ptr<salesforce::TokenCache> make_token_source(const config::Config& config,
                                                          ops::Metrics& metrics) {
  return std::make_unique<salesforce::TokenCache>(
      config.salesforce, make_salesforce_transport(config.salesforce), metrics);
}

// The CometD transport beats the subscribe heartbeat: every long poll (quiet ones return after
// ~110 s) and every failed attempt before a backoff is a turn of the pipeline's loop. The Pub/Sub
// source beats it at every next_batch (at least every second). Channels of both APIs: one source
// per API, merged into one for the pipeline (salesforce/merged_source.h).
std::unique_ptr<salesforce::EventSource> make_event_source(const config::Config& config,
                                                           salesforce::TokenSource& tokens,
                                                           const salesforce::ResumePoints& resume,
                                                           ops::Heartbeat& heartbeat,
                                                           ops::Metrics& metrics) {
  const auto uses = [&config](config::EventApi api) {
    return std::any_of(config.subscribe.begin(), config.subscribe.end(),
                       [api](const config::SubscribeMapping& m) { return m.api == api; });
  };
  std::vector<std::unique_ptr<salesforce::EventSource>> sources;
  if (uses(config::EventApi::kCometd)) {
    sources.push_back(std::make_unique<salesforce::CometdClient>(
        tokens, make_salesforce_transport(config.salesforce, &heartbeat),
        salesforce::cometd_options(config), resume, metrics));
  }
  if (uses(config::EventApi::kPubsub)) {
    sources.push_back(std::make_unique<pubsub::PubsubClient>(tokens, pubsub::pubsub_options(config),
                                                             resume, metrics, &heartbeat));
  }
  if (sources.size() == 1) {
    return std::move(sources.front());
  }
  return std::make_unique<salesforce::MergedSource>(std::move(sources));
}

std::string checkpoint_topic(const config::Config& config) {
  return config::full_topic(config.kafka, config.checkpoint.topic);
}

std::unique_ptr<checkpoint::CheckpointStore> make_checkpoint_store(const config::Config& config) {
  auto file = std::make_unique<checkpoint::FileStore>(config.checkpoint.directory);
  switch (config.checkpoint.store) {
    case config::CheckpointStoreKind::kKafka:
      // The file seeds channels the topic has no position for yet (the migration, README).
      return std::make_unique<kafka_adapters::TopicStore>(config.kafka, checkpoint_topic(config),
                                                          std::move(file));
    case config::CheckpointStoreKind::kFile:
      break;
  }
  return file;
}

std::unique_ptr<pipeline::ValueEncoder> make_value_encoder(
    const config::SubscribeMapping& mapping) {
  switch (mapping.value) {
    case config::ValueKind::kEnvelope:
      return std::make_unique<pipeline::EnvelopeJsonEncoder>();
    case config::ValueKind::kPayload:
      break;
  }
  return std::make_unique<pipeline::PayloadJsonEncoder>();
}

std::unique_ptr<pipeline::EventProducer> make_event_producer(const config::Config& config) {
  std::optional<std::string> positions;
  if (config.checkpoint.store == config::CheckpointStoreKind::kKafka) {
    positions = checkpoint_topic(config);
  }
  return std::make_unique<kafka_adapters::TransactionalEventProducer>(config, positions);
}

// Each channel's sf.replay_id headers are read back as its API's positions.
std::unique_ptr<checkpoint::KafkaTail> make_kafka_tail(const config::Config& config) {
  std::map<std::string, core::ReplayId::Kind> kinds;
  for (const auto& mapping : config.subscribe) {
    kinds[mapping.channel] = mapping.api == config::EventApi::kPubsub
                                 ? core::ReplayId::Kind::kOpaque
                                 : core::ReplayId::Kind::kCometd;
  }
  return std::make_unique<kafka_adapters::TailReaderKafkaTail>(
      config.kafka, std::chrono::seconds(15), core::ReplayId::Kind::kCometd, std::move(kinds));
}

std::unique_ptr<pipeline::PublishPipeline> make_publish_pipeline(
    const config::Config& config, const config::PublishMapping& mapping,
    salesforce::TokenSource& tokens, ops::Heartbeat& heartbeat, ops::Metrics& metrics,
    std::shared_ptr<salesforce::OrgLimits> org_limits, pipeline::SharedAllowances& allowances) {
  auto settings = pipeline::publish_settings_from(config, mapping);
  settings.rest.org_limits = std::move(org_limits);
  settings.budget = pipeline::publish_budget(mapping, allowances);
  auto consumer = std::make_unique<HeartbeatConsumer>(
      std::make_unique<kafka_adapters::KafkaPublishConsumer>(
          config.kafka, settings.mapping.group_id, settings.mapping.topics,
          kafka::Consumer::leave_timeout(config.shutdown.timeout)),
      heartbeat);
  std::unique_ptr<pipeline::DeadLetterSink> dead_letters;
  if (!settings.mapping.dead_letter_topic.empty()) {
    dead_letters = std::make_unique<kafka_adapters::KafkaDeadLetterSink>(
        config.kafka, settings.mapping.dead_letter_topic);
  }
  // One publisher per request thread (max_in_flight_requests, at most one per partition): a REST
  // client is blocking, so each has its own HTTP session; the Pub/Sub publisher is thread-safe, so
  // they share one gRPC channel and schema cache.
  pipeline::PublisherFactory make_publisher;
  switch (mapping.api) {
    case config::PublishApi::kPubSub: {
      std::shared_ptr<pipeline::Publisher> shared = std::make_shared<pubsub::PubsubPublisher>(
          tokens, pubsub::pubsub_publisher_options(config, mapping), metrics);
      make_publisher = [shared, &heartbeat]() -> std::unique_ptr<pipeline::Publisher> {
        return std::make_unique<HeartbeatPublisher>(shared, heartbeat);
      };
      break;
    }
    case config::PublishApi::kRest:
      make_publisher = [&config, &heartbeat, &tokens, &metrics,
                        rest = settings.rest]() -> std::unique_ptr<pipeline::Publisher> {
        return std::make_unique<pipeline::RestPublisher>(
            make_salesforce_transport(config.salesforce, &heartbeat), tokens, rest, metrics);
      };
      break;
  }
  return std::make_unique<pipeline::PublishPipeline>(
      std::move(settings), std::move(consumer), std::move(dead_letters), make_publisher, metrics);
}

CompositionRoot::CompositionRoot(const config::Config& config, salesforce::TokenSource& tokens,
                                 ops::Metrics& metrics, ops::Liveness& liveness)
    : org_limits_(std::make_shared<salesforce::OrgLimits>(config.limits.warn_at, metrics)),
      allowances_(pipeline::shared_allowances(config.limits)) {
  if (config.kafka.embedded) {
    embedded_ = kafka::EmbeddedCluster::instance();
    if (auto created = create_embedded_topics(config, *embedded_); !created.is_ok()) {
      throw std::runtime_error("kafka.embedded: cannot create topics: " + created.message());
    }
  }
  build_subscribe(config, tokens, metrics, liveness);
  build_publish(config, tokens, metrics, liveness);
  start_limits_poller(config, tokens);
}

CompositionRoot::~CompositionRoot() = default;

namespace {

// The parts of one subscribe side, in build order: members are destroyed in reverse, so the
// pipeline goes before the parts it uses, and the progress object (read by both the source and
// the pipeline) goes last of them.
class SubscribeSide final : public ownership::OwnedPipeline {
 public:
  SubscribeSide(const config::Config& config, salesforce::TokenSource& tokens,
                ops::Metrics& metrics, ops::Heartbeat& heartbeat, std::function<bool()> may_produce,
                std::function<void(const std::string&)> on_fenced) {
    progress_ = std::make_unique<checkpoint::ChannelProgress>(config);
    producer_ = make_event_producer(config);
    tail_ = make_kafka_tail(config);
    store_ = make_checkpoint_store(config);
    source_ = make_event_source(config, tokens, *progress_, heartbeat, metrics);

    pipeline::SubscribePipelineOptions options;
    options.metrics = &metrics;
    options.partition_for_channel = kafka_adapters::partition_by_channel_name;
    options.value_encoder = make_value_encoder;
    options.may_produce = std::move(may_produce);
    options.on_fenced = std::move(on_fenced);
    // The org of the token (its identity URL): the same session the event source then uses.
    options.org_id = [&tokens](std::stop_token stop) -> core::Result<std::string> {
      auto session = tokens.session(stop);
      if (!session) {
        return session.error();
      }
      return session->org_id;
    };
    for (const auto& mapping : config.subscribe) {
      if (mapping.skip_own_events) {
        options.skip_own_channels.push_back(mapping.channel);
      }
    }
    // The user of the same identity URL, for skip_own_events.
    options.user_id = [&tokens](std::stop_token stop) -> core::Result<std::string> {
      auto session = tokens.session(stop);
      if (!session) {
        return session.error();
      }
      return session->user_id;
    };
    pipeline_ = std::make_unique<pipeline::SubscribePipeline>(config, *source_, *producer_, *store_,
                                                              *tail_, *progress_, options);
  }

  core::Status run(std::stop_token stop) override { return pipeline_->run(stop); }
  bool ready() const override { return pipeline_->ready(); }
  std::string not_ready_reason() const override { return pipeline_->not_ready_reason(); }
  void abandon() override { pipeline_->abandon(); }

 private:
  std::unique_ptr<checkpoint::ChannelProgress> progress_;
  std::unique_ptr<pipeline::EventProducer> producer_;
  std::unique_ptr<checkpoint::KafkaTail> tail_;
  std::unique_ptr<checkpoint::CheckpointStore> store_;
  std::unique_ptr<salesforce::EventSource> source_;
  std::unique_ptr<pipeline::SubscribePipeline> pipeline_;
};

}  // namespace

std::unique_ptr<ownership::OwnedPipeline> make_subscribe_side(
    const config::Config& config, salesforce::TokenSource& tokens, ops::Metrics& metrics,
    ops::Heartbeat& heartbeat, std::function<bool()> may_produce,
    std::function<void(const std::string&)> on_fenced) {
  return std::make_unique<SubscribeSide>(config, tokens, metrics, heartbeat, std::move(may_produce),
                                         std::move(on_fenced));
}

bool shares_channels(const config::Config& config) {
  return config.coordination.enabled && !config.kafka.embedded && !config.subscribe.empty();
}

// Alone, one subscribe side over every channel (one session of the source); sharing, the owner
// builds one over the channels the coordination group gives this instance.
void CompositionRoot::build_subscribe(const config::Config& config, salesforce::TokenSource& tokens,
                                      ops::Metrics& metrics, ops::Liveness& liveness) {
  if (config.subscribe.empty()) {
    return;
  }
  auto& heartbeat = liveness.heartbeat("subscribe");
  if (!shares_channels(config)) {
    metrics.gauge(ops::Metric::kOwnedChannels).set(static_cast<double>(config.subscribe.size()));
    subscribe_ = make_subscribe_side(config, tokens, metrics, heartbeat, nullptr, nullptr);
    auto& built = *subscribe_;
    slots_.push_back({"subscribe", [&built](std::stop_token stop) { return built.run(stop); },
                      [&built] { return built.ready(); },
                      [&built] { return built.not_ready_reason(); }, nullptr});
    return;
  }
  owner_ = std::make_unique<ownership::ChannelOwner>(
      config,
      [&tokens, &metrics, &heartbeat, this](const config::Config& owned) {
        return make_subscribe_side(
            owned, tokens, metrics, heartbeat, [this] { return owner_->may_produce(); },
            [this](const std::string& channel) { owner_->fenced(channel); });
      },
      metrics, heartbeat);
  auto& owner = *owner_;
  slots_.push_back({"subscribe", [&owner](std::stop_token stop) { return owner.run(stop); },
                    [&owner] { return owner.ready(); },
                    [&owner] { return owner.not_ready_reason(); },
                    [&owner] { return owner.note(); }});
}

// A publish pipeline per mapping, each with a heartbeat of its own.
void CompositionRoot::build_publish(const config::Config& config, salesforce::TokenSource& tokens,
                                    ops::Metrics& metrics, ops::Liveness& liveness) {
  for (std::size_t i = 0; i < config.publish.size(); ++i) {
    const std::string name = "publish[" + std::to_string(i) + "]";
    auto& built = *publish_.emplace_back(make_publish_pipeline(config, config.publish[i], tokens,
                                                               liveness.heartbeat(name), metrics,
                                                               org_limits_, allowances_));
    slots_.push_back({name, [&built](std::stop_token stop) { return built.run(stop); },
                      [&built] { return built.ready(); },
                      [] { return std::string("consumer has not joined its group yet"); },
                      nullptr});
  }
}

// Every live share hears the readings of its allocation; the limits resource is read on a thread
// of its own unless limits.poll_interval is 0.
void CompositionRoot::start_limits_poller(const config::Config& config,
                                          salesforce::TokenSource& tokens) {
  org_limits_->listen(
      [shares = allowances_.shares](const std::string& name, const salesforce::Usage& usage) {
        for (const auto& share : shares) {
          if (share->allocation() == name) {
            share->observe(usage.remaining());
          }
        }
      });
  if (config.limits.poll_interval.count() <= 0) {
    ops::logger("supervisor")->info("limits.poll_interval is 0: the limits resource is not read");
    return;
  }
  auto poller = std::make_shared<salesforce::LimitsPoller>(
      make_salesforce_transport(config.salesforce), tokens, org_limits_,
      salesforce::LimitsPollerOptions{config.salesforce.api_version, config.limits.poll_interval,
                                      config.salesforce.request_timeout});
  limits_thread_ = std::jthread([poller](std::stop_token own) { poller->run(own); });
}

}  // namespace sfkb::app
