#pragma once
// The subscribe direction assembled from the configuration: CometD client (its own HTTP transport
// and cookie store), Kafka producer, checkpoint file, Kafka tail reader and the pipeline. What the
// supervisor runs on a thread:
//
//   pipeline::SubscribeService subscribe(config, tokens,
//                                        std::make_unique<http::CurlTransport>(...), metrics);
//   slot.run = [&](std::stop_token stop) { return subscribe.run(stop); };
//   slot.ready = [&] { return subscribe.ready(); };

#include <memory>
#include <stop_token>
#include <string>

#include "daemon/checkpoint/file_store.h"
#include "daemon/checkpoint/kafka_tail_reader.h"
#include "daemon/config/config.h"
#include "daemon/http/transport.h"
#include "daemon/ops/metrics.h"
#include "daemon/pipeline/subscribe_kafka.h"
#include "daemon/pipeline/subscribe_pipeline.h"
#include "daemon/pipeline/subscribe_progress.h"
#include "daemon/salesforce/cometd_client.h"
#include "daemon/salesforce/token_source.h"

namespace sfkb::pipeline {

class SubscribeService {
 public:
  // `config` and `tokens` must outlive the service. Throws at start-up when a Kafka client cannot
  // be configured (kafka::KafkaError).
  SubscribeService(const config::Config& config, salesforce::TokenSource& tokens,
                   std::unique_ptr<http::Transport> cometd_transport,
                   ops::Metrics& metrics = ops::Metrics::global());
  ~SubscribeService();
  SubscribeService(const SubscribeService&) = delete;
  SubscribeService& operator=(const SubscribeService&) = delete;

  // Runs the pipeline on the calling thread until `stop` or a fatal error (SubscribePipeline::run).
  core::Status run(std::stop_token stop) { return pipeline_->run(stop); }
  bool ready() const { return pipeline_->ready(); }
  std::string not_ready_reason() const { return pipeline_->not_ready_reason(); }

 private:
  std::shared_ptr<SubscribeProgress> progress_;
  std::unique_ptr<KafkaEventProducer> producer_;
  std::unique_ptr<checkpoint::TailReaderKafkaTail> tail_;
  std::unique_ptr<checkpoint::FileStore> store_;
  std::unique_ptr<salesforce::CometdClient> source_;
  std::unique_ptr<SubscribePipeline> pipeline_;  // last: destroyed first
};

}  // namespace sfkb::pipeline
