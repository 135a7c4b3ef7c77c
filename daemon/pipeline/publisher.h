#pragma once
// The transport half of publishing (docs/ARCHITECTURE.md §2 publish, step 3), owned by the
// pipeline (docs/CONVENTIONS.md §10): the pipeline batches, orders, retries, splits, dead-letters
// and commits; a Publisher only carries one batch of mapped records to Salesforce and says what
// became of each. Two adapters: RestPublisher (composite sObject requests, rest_publisher.h) and
// the Pub/Sub API's (daemon/pubsub/pubsub_publisher.h). Both answer in the same terms - a
// salesforce::CompositeReply - so a record meets the same fate whichever API carried it.

#include <stop_token>
#include <string_view>
#include <vector>

#include "daemon/core/result.h"
#include "daemon/salesforce/rest_result.h"

namespace sfkb::pipeline {

class Publisher {
 public:
  virtual ~Publisher() = default;
  // Publishes `records` (1..200 sObject JSON texts from the RecordMapper, in order) as one
  // request. kPerRecord replies carry one result per record, in request order. Errors (no reply
  // at all): kRetry (network, a token endpoint that is down), kFatal (a login Salesforce
  // refused), kStopped (`stop` fired).
  virtual core::Result<salesforce::CompositeReply> publish(
      const std::vector<std::string_view>& records, std::stop_token stop) = 0;
  // Whether every publish() is one request of the org's daily API allocation (REST: yes; the
  // Pub/Sub API: no, only its events count, against the hourly publishing allocation).
  virtual bool spends_api_requests() const = 0;
};

}  // namespace sfkb::pipeline
