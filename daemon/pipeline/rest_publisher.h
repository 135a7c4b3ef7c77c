#pragma once
// The REST adapter of the Publisher port (publisher.h): one composite sObject request per batch
// through its own HTTP session (salesforce/rest_client.h).

#include <memory>

#include "daemon/http/transport.h"
#include "daemon/ops/metrics.h"
#include "daemon/pipeline/publisher.h"
#include "daemon/salesforce/rest_client.h"
#include "daemon/salesforce/token_source.h"

namespace sfkb::pipeline {

class RestPublisher final : public Publisher {
 public:
  RestPublisher(std::unique_ptr<http::Transport> transport, salesforce::TokenSource& tokens,
                salesforce::RestClientOptions options,
                ops::Metrics& metrics = ops::Metrics::global())
      : transport_(std::move(transport)),
        client_(*transport_, tokens, std::move(options), metrics) {}

  core::Result<salesforce::CompositeReply> publish(const std::vector<std::string_view>& records,
                                                   std::stop_token stop) override {
    return client_.publish(records, stop);
  }
  bool spends_api_requests() const override { return true; }

 private:
  std::unique_ptr<http::Transport> transport_;
  salesforce::RestClient client_;
};

}  // namespace sfkb::pipeline
