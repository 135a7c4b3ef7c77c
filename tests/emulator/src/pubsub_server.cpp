#include "pubsub_server.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "avro_encoding.h"
#include "event_message.h"
#include "eventbus/v1/pubsub_api.grpc.pb.h"
#include "json_util.h"

namespace sfkb::emulator {
namespace {

namespace pb = eventbus::v1;

// Salesforce's error codes, sent in the `error-code` trailer next to the gRPC status
// (tests/emulator/README.md "Pub/Sub API" lists them and which are unverified).
constexpr const char* kAuthError = "sfdc.platform.eventbus.grpc.service.auth.error";
constexpr const char* kReplayCorrupted =
    "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted";
constexpr const char* kReplayValidationFailed =
    "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.validation.failed";
constexpr const char* kRequestedEventsInvalid =
    "sfdc.platform.eventbus.grpc.subscription.fetch.requested.events.invalid";
constexpr const char* kDeliveryLimit = "sfdc.platform.eventbus.grpc.subscription.limit.exceeded";
constexpr const char* kServiceUnavailable = "sfdc.platform.eventbus.grpc.service.unavailable";
// Unverified: Salesforce's code for an unknown topic or schema is not in its published table
// (docs/SALESFORCE_PROTOCOL.md "Errors" uses the same text for the topic).
constexpr const char* kTopicNotFound = "sfdc.platform.eventbus.grpc.topic.notfound";
constexpr const char* kSchemaNotFound = "sfdc.platform.eventbus.grpc.schema.notfound";
constexpr const char* kInvalidArgument = "sfdc.platform.eventbus.grpc.invalid.argument";

// Salesforce caps what one FetchRequest asks for at 100 events.
constexpr std::int32_t kMaxNumRequested = 100;
constexpr const char* kHourlyLimitMessage =
    "The number of published platform event messages exceeded the hourly publishing limit";

std::string metadata(const grpc::CallbackServerContext* ctx, const char* key) {
  const auto& md = ctx->client_metadata();
  auto it = md.find(key);
  return it == md.end() ? std::string() : std::string(it->second.data(), it->second.size());
}

std::optional<std::int64_t> decode_replay_id(const std::string& bytes) {
  if (bytes.size() != 8) {
    return std::nullopt;
  }
  std::uint64_t v = 0;
  for (unsigned char c : bytes) {
    v = (v << 8) | c;
  }
  return static_cast<std::int64_t>(v);
}

bool loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error(path + ": cannot read");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A failure the caller turns into a gRPC status with Salesforce's error code in the trailer.
struct Failure {
  grpc::StatusCode status;
  std::string error_code;
  std::string message;
};

}  // namespace

std::string encode_replay_id(std::int64_t replay_id) {
  std::string out(8, '\0');
  auto v = static_cast<std::uint64_t>(replay_id);
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xFF);
    v >>= 8;
  }
  return out;
}

class PubSubService final : public pb::PubSub::CallbackService {
 public:
  explicit PubSubService(Org& org) : org_(org) {}

  grpc::ServerUnaryReactor* GetTopic(grpc::CallbackServerContext* ctx,
                                     const pb::TopicRequest* request,
                                     pb::TopicInfo* reply) override;
  grpc::ServerUnaryReactor* GetSchema(grpc::CallbackServerContext* ctx,
                                      const pb::SchemaRequest* request,
                                      pb::SchemaInfo* reply) override;
  grpc::ServerUnaryReactor* Publish(grpc::CallbackServerContext* ctx,
                                    const pb::PublishRequest* request,
                                    pb::PublishResponse* reply) override;
  grpc::ServerBidiReactor<pb::FetchRequest, pb::FetchResponse>* Subscribe(
      grpc::CallbackServerContext* ctx) override;
  grpc::ServerBidiReactor<pb::PublishRequest, pb::PublishResponse>* PublishStream(
      grpc::CallbackServerContext* ctx) override;
  // ManagedSubscribe is not overridden: UNIMPLEMENTED.

  Org& org() { return org_; }

  // The caller's accesstoken/instanceurl/tenantid, checked against the org. On success `token`
  // is the access token, which streams check again as they go (expire_tokens ends them).
  std::optional<Failure> authenticate(const grpc::CallbackServerContext* ctx, std::string& token);
  grpc::Status status_of(grpc::CallbackServerContext* ctx, const Failure& f);
  // The topic's event type: a platform event, or (not for publishing) a change event of the events
  // file's `changes:`.
  std::optional<Failure> find_topic(const std::string& topic_name, const EventType*& type,
                                    bool for_publish = false);
  // The fail_next and latency_ms faults for a unary call whose method path is `path`
  // (/eventbus.v1.PubSub/Publish): waits latency_ms, then takes one fail_next whose path prefix
  // matches, as the HTTP server does for REST, its HTTP status turned into a gRPC status.
  std::optional<Failure> injected_fault(const std::string& path);
  // Validates, encodes to the bus and answers one batch; shared by Publish and PublishStream.
  pb::PublishResponse publish_batch(const EventType& type, const pb::PublishRequest& request);

 private:
  Org& org_;
};

std::optional<Failure> PubSubService::authenticate(const grpc::CallbackServerContext* ctx,
                                                   std::string& token) {
  token = metadata(ctx, "accesstoken");
  std::string instance_url = metadata(ctx, "instanceurl");
  std::string tenant = metadata(ctx, "tenantid");
  std::lock_guard lock(org_.mutex);
  if (token.empty() || instance_url.empty() || tenant.empty()) {
    return Failure{grpc::StatusCode::UNAUTHENTICATED, kAuthError,
                   "Authentication failed: the accesstoken, instanceurl and tenantid metadata "
                   "headers are required"};
  }
  if (!org_.token_valid(token)) {
    return Failure{grpc::StatusCode::UNAUTHENTICATED, kAuthError,
                   "Authentication failed: the access token is invalid or expired"};
  }
  // An org ID is 18 characters; its first 15 name the same org.
  if (tenant != org_.org_id && tenant != org_.org_id.substr(0, 15)) {
    return Failure{grpc::StatusCode::UNAUTHENTICATED, kAuthError,
                   "Authentication failed: tenantid does not match the token's org"};
  }
  return std::nullopt;
}

grpc::Status PubSubService::status_of(grpc::CallbackServerContext* ctx, const Failure& f) {
  ctx->AddTrailingMetadata("error-code", f.error_code);
  return {f.status, f.message + " rpcId: " + org_.ids.uuid_v4()};
}

std::optional<Failure> PubSubService::find_topic(const std::string& topic_name,
                                                 const EventType*& type, bool for_publish) {
  type = org_.types.find_by_channel(topic_name);
  if (type == nullptr) {
    type = org_.types.find_change_by_channel(topic_name);
    if (type != nullptr && for_publish) {
      return Failure{grpc::StatusCode::INVALID_ARGUMENT, kInvalidArgument,
                     "Topic " + topic_name + " carries change events, which cannot be published"};
    }
  }
  if (type == nullptr) {
    return Failure{grpc::StatusCode::NOT_FOUND, kTopicNotFound,
                   "Topic " + topic_name +
                       " not found: the emulator serves the platform events of its events file"};
  }
  return std::nullopt;
}

grpc::ServerUnaryReactor* PubSubService::GetTopic(grpc::CallbackServerContext* ctx,
                                                  const pb::TopicRequest* request,
                                                  pb::TopicInfo* reply) {
  auto* reactor = ctx->DefaultReactor();
  std::string token;
  const EventType* type = nullptr;
  if (auto f = authenticate(ctx, token)) {
    reactor->Finish(status_of(ctx, *f));
  } else if (auto nf = find_topic(request->topic_name(), type)) {
    reactor->Finish(status_of(ctx, *nf));
  } else {
    reply->set_topic_name(request->topic_name());
    {
      std::lock_guard lock(org_.mutex);
      reply->set_tenant_guid(org_.org_id);
    }
    reply->set_can_publish(!type->change);
    reply->set_can_subscribe(true);
    reply->set_schema_id(type->schema_id);
    reply->set_rpc_id(org_.ids.uuid_v4());
    reactor->Finish(grpc::Status::OK);
  }
  return reactor;
}

grpc::ServerUnaryReactor* PubSubService::GetSchema(grpc::CallbackServerContext* ctx,
                                                   const pb::SchemaRequest* request,
                                                   pb::SchemaInfo* reply) {
  auto* reactor = ctx->DefaultReactor();
  std::string token;
  if (auto f = authenticate(ctx, token)) {
    reactor->Finish(status_of(ctx, *f));
    return reactor;
  }
  for (const auto* types : {&org_.types.all(), &org_.types.changes()}) {
    for (const auto& [name, type] : *types) {
      if (type.schema_id == request->schema_id()) {
        reply->set_schema_id(type.schema_id);
        reply->set_schema_json(avro::schema_json(type));
        reply->set_rpc_id(org_.ids.uuid_v4());
        reactor->Finish(grpc::Status::OK);
        return reactor;
      }
    }
  }
  reactor->Finish(status_of(ctx, {grpc::StatusCode::NOT_FOUND, kSchemaNotFound,
                                  "Schema " + request->schema_id() + " not found"}));
  return reactor;
}

pb::PublishResponse PubSubService::publish_batch(const EventType& type,
                                                 const pb::PublishRequest& request) {
  pb::PublishResponse reply;
  reply.set_schema_id(type.schema_id);
  reply.set_rpc_id(org_.ids.uuid_v4());
  struct Accepted {
    int index;
    std::string prefix;  // the CometD message up to "replayId":
    std::string fields;  // for /_emulator/published
  };
  std::vector<Accepted> accepted;
  const std::string created = iso_now_ms();
  const std::string channel = type.channel();
  for (int i = 0; i < request.events_size(); ++i) {
    const auto& event = request.events(i);
    auto* result = reply.add_results();
    result->set_correlation_key(event.id());
    auto fail = [&](const std::string& message) {
      result->mutable_error()->set_code(pb::PUBLISH);
      result->mutable_error()->set_msg(message);
    };
    if (event.schema_id() != type.schema_id) {
      fail("The event's schema ID " + event.schema_id() + " is not the schema of " + channel +
           " (" + type.schema_id + "); fetch it with GetTopic and GetSchema");
      continue;
    }
    std::string error;
    auto decoded = avro::decode_event(type, event.payload(), error);
    if (!decoded) {
      fail("The payload does not match the schema " + type.schema_id + ": " + error);
      continue;
    }
    Accepted a{i, {}, "{" + decoded->fields_inner + "}"};
    append_event_prefix(
        a.prefix, json_quoted(channel), json_quoted(type.schema_id), true, created, kCreatedById,
        org_.options.cometd_null_fields ? with_null_fields(type, decoded->fields_inner)
                                        : decoded->fields_inner,
        org_.ids.uuid_v4());
    accepted.push_back(std::move(a));
  }
  if (!accepted.empty()) {
    std::lock_guard lock(org_.mutex);
    auto granted = org_.allocations.take_published(static_cast<std::int64_t>(accepted.size()));
    for (std::size_t k = 0; k < accepted.size(); ++k) {
      auto* result = reply.mutable_results(accepted[k].index);
      if (static_cast<std::int64_t>(k) >= granted) {
        result->mutable_error()->set_code(pb::PUBLISH);
        result->mutable_error()->set_msg(std::string("LIMIT_EXCEEDED: ") + kHourlyLimitMessage);
        continue;
      }
      auto ids = org_.bus.append(channel, {std::move(accepted[k].prefix)});
      result->set_replay_id(encode_replay_id(ids.second));
      org_.published[type.name].push_back(std::move(accepted[k].fields));
      ++org_.stats.events_published;
      ++org_.stats.pubsub_events_published;
    }
  }
  org_.changed.notify_all();
  return reply;
}

std::optional<Failure> PubSubService::injected_fault(const std::string& path) {
  std::int64_t latency = 0;
  std::optional<Failure> failure;
  {
    std::lock_guard lock(org_.mutex);
    latency = org_.faults.latency_ms;
    auto& f = org_.faults.fail_next;
    if (f.count > 0 && path.rfind(f.path, 0) == 0) {
      --f.count;
      grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
      switch (f.status) {
        case 400:
          code = grpc::StatusCode::INVALID_ARGUMENT;
          break;
        case 401:
          code = grpc::StatusCode::UNAUTHENTICATED;
          break;
        case 403:
          code = grpc::StatusCode::PERMISSION_DENIED;
          break;
        case 404:
          code = grpc::StatusCode::NOT_FOUND;
          break;
        case 408:
        case 504:
          code = grpc::StatusCode::DEADLINE_EXCEEDED;
          break;
        case 429:
          code = grpc::StatusCode::RESOURCE_EXHAUSTED;
          break;
        case 500:
          code = grpc::StatusCode::INTERNAL;
          break;
        case 503:
          code = grpc::StatusCode::UNAVAILABLE;
          break;
        default:
          break;
      }
      failure = Failure{code, f.error_code, "Injected failure (sf-emulator fail_next)"};
    }
  }
  if (latency > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(latency));
  }
  return failure;
}

grpc::ServerUnaryReactor* PubSubService::Publish(grpc::CallbackServerContext* ctx,
                                                 const pb::PublishRequest* request,
                                                 pb::PublishResponse* reply) {
  auto* reactor = ctx->DefaultReactor();
  std::string token;
  const EventType* type = nullptr;
  if (auto injected = injected_fault("/eventbus.v1.PubSub/Publish")) {
    reactor->Finish(status_of(ctx, *injected));
  } else if (auto f = authenticate(ctx, token)) {
    reactor->Finish(status_of(ctx, *f));
  } else if (auto nf = find_topic(request->topic_name(), type, true)) {
    reactor->Finish(status_of(ctx, *nf));
  } else {
    *reply = publish_batch(*type, *request);
    reactor->Finish(grpc::Status::OK);
  }
  return reactor;
}

namespace {

// A bidirectional stream whose writes come from its own thread (the pump), which waits on the
// org's condition variable for what it may send: events, publish results, a keepalive, or the
// end of the stream (client gone, token expired, stream reset, shutdown). Reads arrive on gRPC's
// threads (OnReadDone) and only change state under the org's mutex.
template <class Req, class Resp>
class PumpedStream : public grpc::ServerBidiReactor<Req, Resp> {
 public:
  PumpedStream(PubSubService& service, grpc::CallbackServerContext* ctx)
      : service_(service), org_(service.org()), ctx_(ctx) {}

  void OnReadDone(bool ok) override {
    if (!ok) {
      {
        std::lock_guard lock(org_.mutex);
        reading_done_ = true;
      }
      org_.changed.notify_all();
      return;
    }
    bool more = handle_request(request_);
    org_.changed.notify_all();
    if (more) {
      start_read();
    }
  }
  void OnWriteDone(bool ok) override {
    {
      std::lock_guard lock(org_.mutex);
      write_in_flight_ = false;
      broken_ = broken_ || !ok;
    }
    org_.changed.notify_all();
  }
  void OnCancel() override {
    {
      std::lock_guard lock(org_.mutex);
      cancelled_ = true;
    }
    org_.changed.notify_all();
  }
  void OnDone() override {
    {
      std::lock_guard lock(org_.mutex);
      done_ = true;
      if (counted_) {
        --org_.pubsub_streams_open;
      }
    }
    org_.changed.notify_all();
    if (pump_.joinable()) {
      if (pump_.get_id() == std::this_thread::get_id()) {
        pump_.detach();
      } else {
        pump_.join();
      }
    }
    delete this;
  }

 protected:
  // Authenticates and starts reading and pumping; or finishes at once when authentication fails.
  void begin() {
    std::string token;
    if (auto f = service_.authenticate(ctx_, token)) {
      finish_with(service_.status_of(ctx_, *f));
      return;
    }
    {
      std::lock_guard lock(org_.mutex);
      token_ = token;
      generation_ = org_.pubsub_generation;
      ++org_.pubsub_streams_open;
      counted_ = true;
    }
    start_read();
    pump_ = std::thread([this] { run(); });
  }

  // Handles one request; returns false when the stream is to end (finish_ set). Called without
  // the org's mutex.
  virtual bool handle_request(const Req& request) = 0;
  // Under the org's mutex (held by `lock`; may be released and taken again): the next response
  // to write, if one is due at `now`.
  virtual std::optional<Resp> next_response(std::unique_lock<std::mutex>& lock,
                                            Clock::time_point now) = 0;
  // Under the org's mutex: when the pump must look again even if nothing is notified.
  virtual Clock::time_point wake_at() const { return Clock::time_point::max(); }
  // Under the org's mutex: the client half-closed; true: end the stream now with OK.
  virtual bool end_on_half_close() const { return true; }

  // Under the org's mutex: end the stream with this failure once the current write completed.
  void fail(const Failure& f) {
    if (!finish_) {
      finish_ = f;
    }
  }

  PubSubService& service_;
  Org& org_;
  grpc::CallbackServerContext* ctx_;
  Req request_;

 private:
  void start_read() {
    std::lock_guard ops(ops_mutex_);
    if (!finishing_) {
      this->StartRead(&request_);
    }
  }
  void finish_with(const grpc::Status& status) {
    std::lock_guard ops(ops_mutex_);
    finishing_ = true;
    this->Finish(status);
  }

  void run() {
    std::unique_lock lock(org_.mutex);
    bool clean_end = false;
    while (true) {
      if (!finish_) {
        if (cancelled_ || broken_ || done_) {
          finish_ = Failure{grpc::StatusCode::CANCELLED, kServiceUnavailable, "Stream cancelled"};
        } else if (org_.stopping) {
          finish_ = Failure{grpc::StatusCode::UNAVAILABLE, kServiceUnavailable,
                            "The Pub/Sub API service is shutting down"};
        } else if (generation_ != org_.pubsub_generation) {
          ++org_.stats.pubsub_streams_reset;
          finish_ = Failure{grpc::StatusCode::UNAVAILABLE, kServiceUnavailable,
                            "RST_STREAM closed stream (sf-emulator reset_pubsub_streams)"};
        } else if (!org_.token_valid(token_)) {
          finish_ = Failure{grpc::StatusCode::UNAUTHENTICATED, kAuthError,
                            "Authentication failed: the access token is invalid or expired"};
        }
      }
      if (finish_) {
        break;
      }
      if (!write_in_flight_) {
        if (auto response = next_response(lock, Clock::now())) {
          if (finish_) {
            break;
          }
          write_in_flight_ = true;
          response_ = std::move(*response);
          lock.unlock();
          this->StartWrite(&response_);
          lock.lock();
          continue;
        }
        if (finish_) {
          break;
        }
        if (reading_done_ && end_on_half_close()) {
          clean_end = true;
          break;
        }
      }
      // No deadline is a plain wait: a wait_until of time_point::max() is not safe everywhere.
      if (auto deadline = wake_at(); deadline == Clock::time_point::max()) {
        org_.changed.wait(lock);
      } else {
        org_.changed.wait_until(lock, deadline);
      }
    }
    // A write still in flight completes (or fails, when the client went away) first.
    org_.changed.wait(lock, [this] { return !write_in_flight_; });
    grpc::Status status = grpc::Status::OK;
    if (!clean_end) {
      Failure f = *finish_;
      lock.unlock();
      status = service_.status_of(ctx_, f);
    } else {
      lock.unlock();
    }
    // Nothing of this object is touched after Finish: OnDone may delete it.
    finish_with(status);
  }

  // All under the org's mutex.
  std::string token_;
  std::uint64_t generation_ = 0;
  bool counted_ = false;
  bool reading_done_ = false;
  bool cancelled_ = false;
  bool broken_ = false;
  bool done_ = false;
  bool write_in_flight_ = false;
  std::optional<Failure> finish_;

  Resp response_;
  std::recursive_mutex ops_mutex_;  // orders StartRead against Finish
  bool finishing_ = false;          // under ops_mutex_
  std::thread pump_;
};

class SubscribeStream final : public PumpedStream<pb::FetchRequest, pb::FetchResponse> {
 public:
  SubscribeStream(PubSubService& service, grpc::CallbackServerContext* ctx)
      : PumpedStream(service, ctx) {
    keepalive_ =
        std::chrono::milliseconds(std::max<std::int64_t>(org_.options.pubsub_keepalive_ms, 1));
    begin();
  }

 protected:
  bool handle_request(const pb::FetchRequest& request) override {
    std::lock_guard lock(org_.mutex);
    if (request.num_requested() <= 0) {
      fail({grpc::StatusCode::INVALID_ARGUMENT, kRequestedEventsInvalid,
            "The requested number of events in a fetch request must be greater than zero"});
      return false;
    }
    if (type_ == nullptr) {
      if (auto f = start(request)) {
        fail(*f);
        return false;
      }
    } else if (!request.topic_name().empty() && request.topic_name() != topic_) {
      fail({grpc::StatusCode::INVALID_ARGUMENT, kInvalidArgument,
            "The topic of a FetchRequest must be the stream's topic " + topic_ + ", not " +
                request.topic_name()});
      return false;
    }
    credits_ += std::min(request.num_requested(), kMaxNumRequested);
    return true;
  }

  std::optional<pb::FetchResponse> next_response(std::unique_lock<std::mutex>& lock,
                                                 Clock::time_point now) override {
    if (type_ == nullptr) {
      return std::nullopt;  // no FetchRequest yet
    }
    if (credits_ > 0 && org_.bus.has_events_after(topic_, cursor_)) {
      if (org_.allocations.delivery_spent()) {
        fail({grpc::StatusCode::RESOURCE_EXHAUSTED, kDeliveryLimit,
              "You have exceeded the event delivery limit for your org."});
        return std::nullopt;
      }
      std::vector<StoredEvent> events;
      std::size_t budget = 3 * 1024 * 1024;  // gRPC's default message limit is 4 MiB
      org_.bus.collect(topic_, cursor_, static_cast<std::size_t>(credits_), budget, events);
      credits_ -= static_cast<std::int32_t>(events.size());
      org_.allocations.add_delivered(static_cast<std::int64_t>(events.size()));
      org_.stats.pubsub_events_delivered += events.size();
      pb::FetchResponse response;
      response.set_latest_replay_id(encode_replay_id(cursor_));
      response.set_pending_num_requested(credits_);
      response.set_rpc_id(org_.ids.uuid_v4());
      const EventType& type = *type_;
      lock.unlock();  // encoding needs no shared state
      for (const auto& stored : events) {
        auto* consumer = response.add_events();
        consumer->set_replay_id(encode_replay_id(stored.replay_id));
        rapidjson::Document doc;
        doc.Parse(stored.json->c_str(), stored.json->size());
        const rapidjson::Value empty(rapidjson::kObjectType);
        const rapidjson::Value* data = &empty;
        if (doc.IsObject() && doc.HasMember("data") && doc["data"].IsObject()) {
          data = &doc["data"];
        }
        const rapidjson::Value& payload = data->HasMember("payload")
                                              ? (*data)["payload"]
                                              : static_cast<const rapidjson::Value&>(empty);
        std::string uuid =
            data->HasMember("event") ? member_string((*data)["event"], "EventUuid") : "";
        consumer->mutable_event()->set_id(uuid);
        consumer->mutable_event()->set_schema_id(type.schema_id);
        consumer->mutable_event()->set_payload(avro::encode_event(type, payload));
      }
      lock.lock();
      next_keepalive_ = Clock::now() + keepalive_;
      return response;
    }
    if (now >= next_keepalive_) {
      // Salesforce's keepalive: no events, the position the client may resume from.
      pb::FetchResponse response;
      response.set_latest_replay_id(encode_replay_id(cursor_));
      response.set_pending_num_requested(credits_);
      response.set_rpc_id(org_.ids.uuid_v4());
      next_keepalive_ = now + keepalive_;
      return response;
    }
    return std::nullopt;
  }

  Clock::time_point wake_at() const override {
    return type_ == nullptr ? Clock::time_point::max() : next_keepalive_;
  }

 private:
  // Under the org's mutex: the first FetchRequest names the topic and where to start.
  std::optional<Failure> start(const pb::FetchRequest& request) {
    const EventType* type = nullptr;
    if (auto f = service_.find_topic(request.topic_name(), type)) {
      return f;
    }
    if (org_.allocations.delivery_spent()) {
      return Failure{grpc::StatusCode::RESOURCE_EXHAUSTED, kDeliveryLimit,
                     "You have exceeded the event delivery limit for your org."};
    }
    const std::string& channel = request.topic_name();
    if (org_.faults.pubsub_corrupt_next_subscribes > 0) {
      --org_.faults.pubsub_corrupt_next_subscribes;
      return Failure{
          grpc::StatusCode::INVALID_ARGUMENT, kReplayCorrupted,
          "The Replay ID validation failed. (sf-emulator pubsub_corrupt_next_subscribes)"};
    }
    std::optional<std::int64_t> cursor;
    switch (request.replay_preset()) {
      case pb::LATEST:
        cursor = org_.bus.cursor_for(channel, -1);
        break;
      case pb::EARLIEST:
        cursor = org_.bus.cursor_for(channel, -2);
        break;
      case pb::CUSTOM: {
        if (request.replay_id().empty()) {
          return Failure{grpc::StatusCode::INVALID_ARGUMENT, kReplayValidationFailed,
                         "The replay_preset field in FetchRequest is set to ReplayPreset.CUSTOM, "
                         "but no Replay ID value is set"};
        }
        auto id = decode_replay_id(request.replay_id());
        if (id && *id >= 0) {
          cursor = org_.bus.cursor_for(channel, *id);
        }
        if (!cursor) {
          return Failure{
              grpc::StatusCode::INVALID_ARGUMENT, kReplayCorrupted,
              "The Replay ID validation failed: it is not in the retention window of " + channel};
        }
        break;
      }
      default:
        return Failure{grpc::StatusCode::INVALID_ARGUMENT, kReplayValidationFailed,
                       "Unknown replay_preset " + std::to_string(request.replay_preset())};
    }
    type_ = type;
    topic_ = channel;
    cursor_ = *cursor;
    next_keepalive_ = Clock::now() + keepalive_;
    return std::nullopt;
  }

  // Under the org's mutex.
  const EventType* type_ = nullptr;
  std::string topic_;
  std::int64_t cursor_ = 0;
  std::int32_t credits_ = 0;
  Clock::duration keepalive_;
  Clock::time_point next_keepalive_ = Clock::time_point::max();
};

class PublishStreamReactor final : public PumpedStream<pb::PublishRequest, pb::PublishResponse> {
 public:
  PublishStreamReactor(PubSubService& service, grpc::CallbackServerContext* ctx)
      : PumpedStream(service, ctx) {
    begin();
  }

 protected:
  bool handle_request(const pb::PublishRequest& request) override {
    const EventType* type = nullptr;
    {
      std::lock_guard lock(org_.mutex);
      if (type_ == nullptr) {
        if (auto f = service_.find_topic(request.topic_name(), type_, true)) {
          fail(*f);
          return false;
        }
        topic_ = request.topic_name();
      } else if (!request.topic_name().empty() && request.topic_name() != topic_) {
        fail({grpc::StatusCode::INVALID_ARGUMENT, kInvalidArgument,
              "The topic of a PublishRequest must be the stream's topic " + topic_ + ", not " +
                  request.topic_name()});
        return false;
      }
      type = type_;
    }
    auto reply = service_.publish_batch(*type, request);
    std::lock_guard lock(org_.mutex);
    replies_.push_back(std::move(reply));
    return true;
  }

  std::optional<pb::PublishResponse> next_response(std::unique_lock<std::mutex>&,
                                                   Clock::time_point) override {
    if (replies_.empty()) {
      return std::nullopt;
    }
    auto reply = std::move(replies_.front());
    replies_.pop_front();
    return reply;
  }

 private:
  const EventType* type_ = nullptr;  // under the org's mutex
  std::string topic_;
  std::deque<pb::PublishResponse> replies_;
};

}  // namespace

grpc::ServerBidiReactor<pb::FetchRequest, pb::FetchResponse>* PubSubService::Subscribe(
    grpc::CallbackServerContext* ctx) {
  return new SubscribeStream(*this, ctx);
}

grpc::ServerBidiReactor<pb::PublishRequest, pb::PublishResponse>* PubSubService::PublishStream(
    grpc::CallbackServerContext* ctx) {
  return new PublishStreamReactor(*this, ctx);
}

PubSubServer::PubSubServer(Org& org) : org_(org), service_(std::make_unique<PubSubService>(org)) {}

PubSubServer::~PubSubServer() {
  stop();
}

bool PubSubServer::tls() const {
  return !org_.options.pubsub_tls_cert_file.empty();
}

std::string PubSubServer::start() {
  const Options& o = org_.options;
  std::shared_ptr<grpc::ServerCredentials> credentials;
  if (tls()) {
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back(
        {read_file(o.pubsub_tls_key_file), read_file(o.pubsub_tls_cert_file)});
    credentials = grpc::SslServerCredentials(ssl);
  } else if (loopback(o.pubsub_host)) {
    credentials = grpc::InsecureServerCredentials();
  } else {
    throw std::runtime_error("--pubsub-listen " + o.pubsub_host +
                             ": plaintext gRPC only on a loopback host; give "
                             "--pubsub-tls-cert and --pubsub-tls-key");
  }
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(o.pubsub_host + ":" + std::to_string(o.pubsub_port), credentials, &port);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (!server_ || port == 0) {
    throw std::runtime_error("cannot listen for the Pub/Sub API on " + o.pubsub_host + ":" +
                             std::to_string(o.pubsub_port));
  }
  return o.pubsub_host + ":" + std::to_string(port);
}

void PubSubServer::stop() {
  if (server_) {
    org_.shutdown();  // every pump ends its stream with UNAVAILABLE
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    server_.reset();
  }
}

}  // namespace sfkb::emulator
