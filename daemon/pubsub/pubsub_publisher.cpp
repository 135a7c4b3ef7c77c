#include "daemon/pubsub/pubsub_publisher.h"

#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <stdexcept>

#include "daemon/avro/schema.h"
#include "daemon/core/redact.h"
#include "daemon/ops/log.h"
#include "daemon/ops/log_fields.h"
#include "daemon/pipeline/record_mapping.h"
#include "daemon/pubsub/event_codec.h"
#include "daemon/pubsub/grpc_call.h"
#include "eventbus/v1/pubsub_api.grpc.pb.h"

namespace sfkb::pubsub {
namespace {

namespace pb = eventbus::v1;
using salesforce::CompositeReply;
using salesforce::RecordOutcome;
using salesforce::RecordResult;
using salesforce::ReplyKind;

// A batch is at most 200 records of at most 1 MB each (record_mapping.h), plus the framing.
constexpr int kMaxSendBytes = 210 * 1024 * 1024;

CallStatus call_status(const grpc::Status& status, const grpc::ClientContext& context) {
  CallStatus out;
  out.code = static_cast<int>(status.error_code());
  out.message = core::redact_text(status.error_message());
  out.error_code = trailer(context, "error-code");
  return out;
}

bool contains(const std::string& text, const char* part) {
  return text.find(part) != std::string::npos;
}

// Cancels `context` when `stop` fires, so a call in flight ends at once on shutdown.
class CancelOnStop {
 public:
  CancelOnStop(grpc::ClientContext& context, std::stop_token stop)
      : callback_(stop, [&context] { context.TryCancel(); }) {}

 private:
  std::stop_callback<std::function<void()>> callback_;
};

}  // namespace

PubsubPublisherOptions pubsub_publisher_options(const config::Config& config,
                                                const config::PublishMapping& mapping) {
  PubsubPublisherOptions options;
  auto endpoint = core::parse_grpc_endpoint(config.salesforce.pubsub_endpoint);
  if (!endpoint) {
    throw std::invalid_argument(core::grpc_endpoint_problem(config.salesforce.pubsub_endpoint));
  }
  options.endpoint = *endpoint;
  options.ca_file = config.salesforce.ca_file;
  options.topic = "/event/" + mapping.event;
  options.request_timeout = config.salesforce.request_timeout;
  return options;
}

std::string encoding_error_code(const std::string& codec_message) {
  if (codec_message.starts_with("the record is not")) {
    return std::string(pipeline::kInvalidRecord);  // not JSON, or not an object: no field to name
  }
  if (contains(codec_message, "no such field")) {
    return "INVALID_FIELD";
  }
  if (contains(codec_message, "missing, and the schema")) {
    return "REQUIRED_FIELD_MISSING";
  }
  if (contains(codec_message, " where the schema has ") || contains(codec_message, " is not a") ||
      contains(codec_message, "does not fit") || contains(codec_message, "written as base64") ||
      contains(codec_message, "fixed ")) {
    return "INVALID_TYPE_ON_FIELD_IN_RECORD";
  }
  return std::string(pipeline::kInvalidRecord);
}

PubsubPublisher::PubsubPublisher(salesforce::TokenSource& tokens, PubsubPublisherOptions options,
                                 ops::Metrics& metrics)
    : tokens_(tokens),
      options_(std::move(options)),
      metrics_(metrics),
      malformed_(metrics.counter(ops::Metric::kPublishMalformedReplies)),
      ids_(std::random_device{}()) {
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(kMaxSendBytes);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 60'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20'000);
  channel_ = grpc::CreateCustomChannel(
      options_.endpoint.target, channel_credentials(options_.endpoint, options_.ca_file), args);
}

PubsubPublisher::~PubsubPublisher() = default;

void PubsubPublisher::count_call(const char* rpc, int grpc_code) {
  metrics_.counter(ops::Metric::kPubsubPublishCalls, {rpc, grpc_code_name(grpc_code)}).inc();
}

std::string PubsubPublisher::next_event_id() {
  // A version 4 UUID, as Salesforce generates when a publisher sends none; results name it back
  // in correlation_key.
  std::uint64_t hi = 0, lo = 0;
  {
    std::lock_guard lock(mutex_);
    hi = ids_();
    lo = ids_();
  }
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  char text[37];
  std::snprintf(text, sizeof text, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return text;
}

core::Result<PubsubPublisher::Current> PubsubPublisher::current_schema(
    const salesforce::Session& session, bool refresh, std::stop_token stop,
    std::optional<CompositeReply>& failed) {
  if (!refresh) {
    std::lock_guard lock(mutex_);
    if (current_) {
      return *current_;
    }
  }
  auto stub = pb::PubSub::NewStub(channel_);
  auto unary_failed = [&](const char* rpc, const grpc::Status& status,
                          const grpc::ClientContext& context) -> core::Result<Current> {
    if (stop.stop_requested()) {
      return core::Error{core::ErrorKind::kStopped, std::string(rpc) + " interrupted by stop"};
    }
    auto outcome = map_publish_outcome(call_status(status, context), {}, {});
    outcome.reply.error_message =
        std::string(rpc) + " " + options_.topic + ": " + outcome.reply.error_message;
    if (outcome.reply.kind == ReplyKind::kRejected) {
      // Nothing in a GetTopic or GetSchema depends on the batch: splitting it cannot help.
      outcome.reply.kind = ReplyKind::kFatal;
    }
    failed = std::move(outcome.reply);
    return core::retry_error(failed->error_message);
  };

  pb::TopicInfo topic;
  {
    grpc::ClientContext context;
    add_auth(context, session);
    context.set_deadline(std::chrono::system_clock::now() + options_.request_timeout);
    CancelOnStop cancel(context, stop);
    pb::TopicRequest request;
    request.set_topic_name(options_.topic);
    const auto status = stub->GetTopic(&context, request, &topic);
    count_call("GetTopic", static_cast<int>(status.error_code()));
    if (!status.ok()) {
      return unary_failed("GetTopic", status, context);
    }
  }
  if (!topic.can_publish()) {
    CompositeReply reply;
    reply.kind = ReplyKind::kFatal;
    reply.error_code = "TOPIC_NOT_PUBLISHABLE";
    reply.error_message = "GetTopic " + options_.topic + ": the user may not publish to it";
    failed = std::move(reply);
    return core::fatal_error(failed->error_message);
  }
  {
    std::lock_guard lock(mutex_);
    if (auto it = schemas_.find(topic.schema_id()); it != schemas_.end()) {
      current_ = Current{topic.schema_id(), it->second};
      return *current_;
    }
  }
  pb::SchemaInfo info;
  {
    grpc::ClientContext context;
    add_auth(context, session);
    context.set_deadline(std::chrono::system_clock::now() + options_.request_timeout);
    CancelOnStop cancel(context, stop);
    pb::SchemaRequest request;
    request.set_schema_id(topic.schema_id());
    const auto status = stub->GetSchema(&context, request, &info);
    count_call("GetSchema", static_cast<int>(status.error_code()));
    if (!status.ok()) {
      return unary_failed("GetSchema", status, context);
    }
  }
  auto parsed = avro::Schema::parse(info.schema_json());
  if (!parsed) {
    // Salesforce's own schema that we cannot read: no record could be encoded.
    CompositeReply reply;
    reply.kind = ReplyKind::kFatal;
    reply.error_code = "SCHEMA_UNREADABLE";
    reply.error_message = "GetSchema " + topic.schema_id() + " for " + options_.topic +
                          ": the schema does not parse: " + parsed.error().message;
    failed = std::move(reply);
    return core::fatal_error(failed->error_message);
  }
  auto schema = std::make_shared<const avro::Schema>(std::move(parsed).value());
  std::lock_guard lock(mutex_);
  schemas_[topic.schema_id()] = schema;
  if (current_ && current_->schema_id != topic.schema_id()) {
    ops::logger("publish")->info("the schema of {} changed: {} -> {}", options_.topic,
                                 current_->schema_id, topic.schema_id());
  }
  current_ = Current{topic.schema_id(), schema};
  return *current_;
}

core::Result<CompositeReply> PubsubPublisher::attempt(const salesforce::Session& session,
                                                      const std::vector<std::string_view>& records,
                                                      std::stop_token stop) {
  CompositeReply reply;
  reply.kind = ReplyKind::kPerRecord;
  reply.records.resize(records.size());
  // Records still to be sent (indices into `records`); the rest have their result.
  std::vector<std::size_t> pending(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    pending[i] = i;
  }
  bool refresh = false;
  std::string refused_schema;
  std::optional<CompositeReply> whole_refusal;  // the call refused the schema as a whole
  // At most twice: once with the cached schema and, when the server refuses it, once more with
  // the topic's current one if that is another.
  for (int round = 0; round < 2 && !pending.empty(); ++round) {
    std::optional<CompositeReply> failed;
    auto current = current_schema(session, refresh, stop, failed);
    if (!current) {
      if (failed) {
        return *failed;
      }
      return current.error();
    }
    if (refresh && current->schema_id == refused_schema) {
      // The schema is still the topic's: the payloads themselves are what the server refuses.
      if (whole_refusal) {
        return *whole_refusal;  // kRejected: the pipeline splits until the culprit stands alone
      }
      for (auto i : pending) {
        reply.records[i].outcome = RecordOutcome::kPermanent;
      }
      return reply;
    }
    PublishDefaults defaults;
    defaults.now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
    defaults.user_id = session.user_id;
    pb::PublishRequest request;
    request.set_topic_name(options_.topic);
    std::vector<std::size_t> sent;
    std::vector<std::string> ids;
    for (auto i : pending) {
      auto payload = encode_record(*current->schema, records[i], defaults);
      if (!payload) {
        auto& result = reply.records[i];
        result.outcome = RecordOutcome::kPermanent;
        result.error_code = encoding_error_code(payload.error().message);
        result.error_message = "cannot be encoded for the schema " + current->schema_id + " of " +
                               options_.topic + ": " + payload.error().message;
        continue;
      }
      auto* event = request.add_events();
      ids.push_back(next_event_id());
      event->set_id(ids.back());
      event->set_schema_id(current->schema_id);
      event->set_payload(std::move(payload).value());
      sent.push_back(i);
    }
    pending.clear();
    if (sent.empty()) {
      break;
    }
    pb::PublishResponse response;
    grpc::ClientContext context;
    add_auth(context, session);
    context.set_deadline(std::chrono::system_clock::now() + options_.request_timeout);
    grpc::Status status;
    {
      CancelOnStop cancel(context, stop);
      status = pb::PubSub::NewStub(channel_)->Publish(&context, request, &response);
    }
    count_call("Publish", static_cast<int>(status.error_code()));
    if (!status.ok() && stop.stop_requested()) {
      return core::Error{core::ErrorKind::kStopped, "Publish interrupted by stop"};
    }
    std::vector<EventResult> results;
    results.reserve(static_cast<std::size_t>(response.results_size()));
    for (const auto& r : response.results()) {
      EventResult e;
      e.correlation_key = r.correlation_key();
      e.replay_id = r.replay_id();
      e.has_error = r.has_error();
      if (e.has_error) {
        e.error_code = static_cast<int>(r.error().code());
        e.error_message = r.error().msg();
      }
      results.push_back(std::move(e));
    }
    auto outcome = map_publish_outcome(call_status(status, context), results, ids);
    if (outcome.reply.malformed) {
      malformed_.inc();
      std::lock_guard lock(mutex_);
      if (auto repeat = malformed_warnings_.admit()) {
        ops::warn(ops::logger("publish"), "Publish reply not understood, retrying the batch: {}{}",
                  ops::quoted_field("reason", outcome.reply.error_message), repeat->suffix());
      }
    }
    if (outcome.reply.kind != ReplyKind::kPerRecord) {
      if (outcome.schema_refused && round == 0) {
        refresh = true;
        refused_schema = current->schema_id;
        whole_refusal = outcome.reply;
        pending = sent;
        continue;
      }
      // The whole call failed: the records already refused by the encoder keep their verdict
      // only if the pipeline would split the batch down to them anyway; otherwise every record
      // waits for the same retry, and the encoder refuses them again then.
      return outcome.reply;
    }
    for (std::size_t k = 0; k < sent.size(); ++k) {
      reply.records[sent[k]] = std::move(outcome.reply.records[k]);
    }
    if (outcome.schema_refused && round == 0) {
      refresh = true;
      refused_schema = current->schema_id;
      for (auto k : outcome.schema_refused_events) {
        pending.push_back(sent[k]);
      }
    }
  }
  // Still pending after the second round: refused again with the topic's current schema.
  for (auto i : pending) {
    reply.records[i].outcome = RecordOutcome::kPermanent;
  }
  return reply;
}

core::Result<CompositeReply> PubsubPublisher::publish(const std::vector<std::string_view>& records,
                                                      std::stop_token stop) {
  auto session = tokens_.session(stop);
  if (!session) {
    return session.error();
  }
  auto reply = attempt(session.value(), records, stop);
  if (!reply || reply->kind != ReplyKind::kReauth) {
    return reply;
  }
  ops::logger("publish")->info("Pub/Sub API rejected the token ({}), re-authenticating",
                               reply->error_code);
  auto renewed = tokens_.refresh(session.value(), stop);
  if (!renewed) {
    return renewed.error();
  }
  return attempt(renewed.value(), records, stop);
}

}  // namespace sfkb::pubsub
