#pragma once
// The Pub/Sub API adapter of the publish pipeline's Publisher port (daemon/pipeline/publisher.h,
// docs/SALESFORCE_PROTOCOL.md "Pub/Sub API (gRPC)"): each batch is one unary `Publish` of the
// mapping's topic (/event/X__e), its records encoded to Avro (event_codec.h encode_record) with
// the topic's current schema - GetTopic names it, GetSchema fetches it, cached by schema ID and
// looked up again when the server refuses the schema. Per-event results become the same
// published / retry / dead-letter fates as REST's (publish_result.h). A record that cannot be
// encoded for the schema (an unknown field, a wrong type, a missing required field) is refused
// on its own, with the codec's message naming the field, and dead-lettered like a record
// Salesforce refused; the others of the batch still go.
//
// Thread-safe: publish() may be called from several threads at once (one batch per partition in
// flight); each call is its own gRPC call on the one shared channel (HTTP/2 multiplexes them).

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "daemon/config/config.h"
#include "daemon/core/url.h"
#include "daemon/ops/metrics.h"
#include "daemon/ops/repeat_limiter.h"
#include "daemon/pipeline/publisher.h"
#include "daemon/pubsub/publish_result.h"
#include "daemon/salesforce/token_source.h"

namespace grpc {
class Channel;
}  // namespace grpc
namespace sfkb::avro {
class Schema;
}  // namespace sfkb::avro

namespace sfkb::pubsub {

struct PubsubPublisherOptions {
  core::GrpcEndpoint endpoint{"api.pubsub.salesforce.com:7443", true};
  std::string ca_file;  // PEM roots; empty: the system store
  std::string topic;    // /event/X__e
  std::chrono::milliseconds request_timeout{30000};
};

// The options of one publish mapping with `api: pubsub`: salesforce.pubsub_endpoint, ca_file,
// request_timeout and the mapping's event. Throws std::invalid_argument on an endpoint the loader
// would have refused (a Config built in code).
PubsubPublisherOptions pubsub_publisher_options(const config::Config& config,
                                                const config::PublishMapping& mapping);

// The dead-letter code of a record the codec could not encode for the schema: INVALID_FIELD (a
// field the event does not have, as REST answers it), REQUIRED_FIELD_MISSING, or
// INVALID_TYPE_ON_FIELD_IN_RECORD; INVALID_RECORD for anything else (not a JSON object, ...).
std::string encoding_error_code(const std::string& codec_message);

class PubsubPublisher final : public pipeline::Publisher {
 public:
  // `tokens` must outlive the publisher. Throws std::runtime_error when ca_file cannot be read.
  PubsubPublisher(salesforce::TokenSource& tokens, PubsubPublisherOptions options,
                  ops::Metrics& metrics = ops::Metrics::global());
  ~PubsubPublisher() override;
  PubsubPublisher(const PubsubPublisher&) = delete;
  PubsubPublisher& operator=(const PubsubPublisher&) = delete;

  core::Result<salesforce::CompositeReply> publish(const std::vector<std::string_view>& records,
                                                   std::stop_token stop) override;
  bool spends_api_requests() const override { return false; }

 private:
  struct Current {
    std::string schema_id;
    std::shared_ptr<const avro::Schema> schema;
  };
  // The topic's schema: cached unless `refresh` (then GetTopic again, and GetSchema if its ID is
  // new). A failed call comes back as the reply its status maps to.
  core::Result<Current> current_schema(const salesforce::Session& session, bool refresh,
                                       std::stop_token stop,
                                       std::optional<salesforce::CompositeReply>& failed);
  core::Result<salesforce::CompositeReply> attempt(const salesforce::Session& session,
                                                   const std::vector<std::string_view>& records,
                                                   std::stop_token stop);
  std::string next_event_id();
  void count_call(const char* rpc, int grpc_code);

  salesforce::TokenSource& tokens_;
  PubsubPublisherOptions options_;
  ops::Metrics& metrics_;
  ops::Counter& malformed_;
  std::shared_ptr<grpc::Channel> channel_;

  std::mutex mutex_;  // everything below
  std::optional<Current> current_;
  std::map<std::string, std::shared_ptr<const avro::Schema>> schemas_;  // by schema ID
  std::mt19937_64 ids_;
  ops::RepeatLimiter malformed_warnings_;
};

}  // namespace sfkb::pubsub
