#pragma once
// Decorators the composition root wraps around a pipeline's blocking seams so that every return
// from them beats the pipeline's heartbeat (ops/liveness.h).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <stop_token>
#include <vector>

#include "daemon/core/result.h"
#include "daemon/http/transport.h"
#include "daemon/ops/liveness.h"
#include "daemon/pipeline/publish_ports.h"
#include "daemon/pipeline/publisher.h"

namespace sfkb::app {

// Liveness at the seams (ops/liveness.h): every return from a pipeline's blocking calls - an HTTP
// exchange (a CometD long poll, a composite publish, a failed attempt before a backoff), a
// consumer poll - proves that its loop still turns, so the decorators below beat the pipeline's
// heartbeat there. A loop that wedges anywhere stops reaching them, and the watchdog stops pinging.
class HeartbeatTransport final : public http::Transport {
 public:
  HeartbeatTransport(std::unique_ptr<http::Transport> inner, ops::Heartbeat& heartbeat)
      : inner_(std::move(inner)), heartbeat_(heartbeat) {}
  core::Result<http::Response> perform(const http::Request& request,
                                       std::stop_token stop) override {
    auto result = inner_->perform(request, stop);
    heartbeat_.beat();
    return result;
  }
  void clear_cookies() override { inner_->clear_cookies(); }

 private:
  std::unique_ptr<http::Transport> inner_;
  ops::Heartbeat& heartbeat_;
};

class HeartbeatConsumer final : public pipeline::PublishConsumer {
 public:
  HeartbeatConsumer(std::unique_ptr<pipeline::PublishConsumer> inner, ops::Heartbeat& heartbeat)
      : inner_(std::move(inner)), heartbeat_(heartbeat) {}
  core::Status subscribe(pipeline::RebalanceListener& listener) override {
    return inner_->subscribe(listener);
  }
  core::Result<std::vector<pipeline::SourceRecord>> poll(
      std::chrono::milliseconds timeout, std::size_t max_records,
      const std::set<pipeline::TopicPartition>& full) override {
    auto result = inner_->poll(timeout, max_records, full);
    heartbeat_.beat();
    return result;
  }
  void pause(const std::vector<pipeline::TopicPartition>& partitions) override {
    inner_->pause(partitions);
  }
  void resume(const std::vector<pipeline::TopicPartition>& partitions) override {
    inner_->resume(partitions);
  }
  core::Status commit(const std::map<pipeline::TopicPartition, std::int64_t>& next_offsets,
                      bool synchronous) override {
    return inner_->commit(next_offsets, synchronous);
  }
  void close() override { inner_->close(); }

 private:
  std::unique_ptr<pipeline::PublishConsumer> inner_;
  ops::Heartbeat& heartbeat_;
};

// A Pub/Sub publisher has no HTTP transport to wrap: every return from publish() beats instead.
class HeartbeatPublisher final : public pipeline::Publisher {
 public:
  HeartbeatPublisher(std::shared_ptr<pipeline::Publisher> inner, ops::Heartbeat& heartbeat)
      : inner_(std::move(inner)), heartbeat_(heartbeat) {}
  core::Result<salesforce::CompositeReply> publish(const std::vector<std::string_view>& records,
                                                   std::stop_token stop) override {
    auto result = inner_->publish(records, stop);
    heartbeat_.beat();
    return result;
  }
  bool spends_api_requests() const override { return inner_->spends_api_requests(); }

 private:
  std::shared_ptr<pipeline::Publisher> inner_;  // shared by the request threads' decorators
  ops::Heartbeat& heartbeat_;
};

}  // namespace sfkb::app
