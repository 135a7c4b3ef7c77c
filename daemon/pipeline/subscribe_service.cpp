#include "daemon/pipeline/subscribe_service.h"

namespace sfkb::pipeline {

SubscribeService::SubscribeService(const config::Config& config, salesforce::TokenSource& tokens,
                                   std::unique_ptr<http::Transport> cometd_transport,
                                   ops::Metrics& metrics)
    : progress_(SubscribeProgress::create(config)),
      producer_(std::make_unique<KafkaEventProducer>(config.kafka)),
      tail_(std::make_unique<checkpoint::TailReaderKafkaTail>(config.kafka)),
      store_(std::make_unique<checkpoint::FileStore>(config.checkpoint.directory)) {
  // The client asks the progress object, not the pipeline, where a (re)subscription resumes: it
  // exists before both, so neither has to be built half-way.
  source_ = std::make_unique<salesforce::CometdClient>(tokens, std::move(cometd_transport),
                                                       salesforce::cometd_options(config),
                                                       progress_->resume_point(), metrics);
  SubscribePipelineOptions options;
  options.metrics = &metrics;
  options.partition_for_channel = channel_partition;
  // The org of the token (its identity URL): the same session the CometD client then uses.
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
  pipeline_ = std::make_unique<SubscribePipeline>(config, *source_, *producer_, *store_, *tail_,
                                                  progress_, options);
}

SubscribeService::~SubscribeService() = default;

}  // namespace sfkb::pipeline
