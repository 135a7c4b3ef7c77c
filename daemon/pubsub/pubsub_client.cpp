#include "daemon/pubsub/pubsub_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <utility>

#include "daemon/avro/schema.h"
#include "daemon/core/backoff.h"
#include "daemon/core/redact.h"
#include "daemon/core/stop.h"
#include "daemon/ops/log.h"
#include "daemon/ops/log_fields.h"
#include "daemon/ops/repeat_limiter.h"
#include "daemon/pubsub/event_codec.h"
#include "daemon/pubsub/grpc_call.h"
#include "daemon/salesforce/invalid_replay.h"
#include "eventbus/v1/pubsub_api.grpc.pb.h"

namespace sfkb::pubsub {
namespace {

namespace pb = eventbus::v1;
using Clock = std::chrono::steady_clock;

// Events are at most 1 MB each and a FetchResponse carries at most kMaxNumRequested of them.
constexpr int kMaxReceiveBytes = (kMaxNumRequested + 8) * 1024 * 1024;

const char* preset_name(Start::Preset preset) {
  switch (preset) {
    case Start::Preset::kLatest:
      return "LATEST";
    case Start::Preset::kEarliest:
      return "EARLIEST";
    case Start::Preset::kCustom:
      return "CUSTOM";
  }
  return "?";
}

std::string describe(const grpc::Status& status, const std::string& error_code) {
  std::string text = "gRPC status " + std::to_string(static_cast<int>(status.error_code()));
  if (!status.error_message().empty()) {
    text += " (" + status.error_message() + ")";
  }
  if (!error_code.empty()) {
    text += " [error-code " + error_code + "]";
  }
  return core::redact_text(text);
}

}  // namespace

// One channel's subscription. `flow` is guarded by the client's mutex_; the call state by
// `call_mutex`; the rest belongs to the stream's thread.
struct PubsubClient::Stream {
  std::size_t index = 0;
  salesforce::ChannelSubscription subscription;
  FlowWindow flow;
  ops::Counter* received = nullptr;
  ops::Gauge* requested = nullptr;

  std::mutex call_mutex;
  grpc::ClientContext* context = nullptr;  // set while a call is open
  grpc::ClientReaderWriter<pb::FetchRequest, pb::FetchResponse>* call = nullptr;
  bool writable = false;
  std::atomic<Clock::rep> last_message{0};
  std::atomic<bool> keepalive_expired{false};
  std::atomic<bool> open{false};

  bool subscribed_before = false;
  std::optional<core::ReplayId> fallback;
  std::string org_id;  // the org of the last subscription

  explicit Stream(std::size_t window) : flow(window) {}
};

// GetSchema results by schema ID, parsed. A schema ID is a fingerprint of the schema: an ID never
// changes its schema, so entries are never invalidated. A schema that does not parse is kept as
// its error, so that its events are reported as malformed without a GetSchema each.
class PubsubClient::SchemaCache {
 public:
  using Entry = std::shared_ptr<const core::Result<avro::Schema>>;
  Entry find(const std::string& id) const {
    std::lock_guard lock(mutex_);
    const auto it = schemas_.find(id);
    return it == schemas_.end() ? nullptr : it->second;
  }
  Entry put(const std::string& id, const std::string& json) {
    auto entry = std::make_shared<const core::Result<avro::Schema>>(avro::Schema::parse(json));
    std::lock_guard lock(mutex_);
    return schemas_.emplace(id, std::move(entry)).first->second;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Entry> schemas_;
};

EventDecoder default_event_decoder() {
  return
      [](const std::string& channel, const pb::ConsumerEvent& event, const avro::Schema& schema) {
        return decode_event(channel, schema, event.event().id(), event.event().schema_id(),
                            event.event().payload(), event.replay_id());
      };
}

PubsubOptions pubsub_options(const config::Config& config) {
  PubsubOptions options;
  if (auto endpoint = core::parse_grpc_endpoint(config.salesforce.pubsub_endpoint)) {
    options.endpoint = *endpoint;
  } else {
    // The loader refuses such a value; a Config built in code must not send a token in clear.
    throw std::invalid_argument(core::grpc_endpoint_problem(config.salesforce.pubsub_endpoint));
  }
  options.ca_file = config.salesforce.ca_file;
  options.retry = config.salesforce.retry;
  options.request_timeout = config.salesforce.request_timeout;
  for (const auto& mapping : config.subscribe) {
    if (mapping.api == config::EventApi::kPubsub) {
      options.channels.push_back(
          {mapping.channel, core::ReplayId::cometd(mapping.start), mapping.on_invalid_replay_id});
    }
  }
  options.window = channel_window(config.limits.max_in_flight_events, options.channels.size());
  return options;
}

PubsubClient::PubsubClient(salesforce::TokenSource& tokens, PubsubOptions options,
                           const salesforce::ResumePoints& resume, ops::Metrics& metrics,
                           ops::Heartbeat* heartbeat)
    : tokens_(tokens),
      options_(std::move(options)),
      resume_(resume),
      metrics_(metrics),
      heartbeat_(heartbeat),
      schemas_(std::make_unique<SchemaCache>()) {
  if (!options_.decoder) {
    options_.decoder = default_event_decoder();
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxReceiveBytes);
  // HTTP/2 pings find a dead connection between keepalive responses.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 60'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20'000);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
              static_cast<int>(options_.retry.initial_backoff.count()));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
              static_cast<int>(options_.retry.max_backoff.count()));
  channel_ = grpc::CreateCustomChannel(
      options_.endpoint.target, channel_credentials(options_.endpoint, options_.ca_file), args);
  for (std::size_t i = 0; i < options_.channels.size(); ++i) {
    auto stream = std::make_unique<Stream>(options_.window);
    stream->index = i;
    stream->subscription = options_.channels[i];
    const auto& name = stream->subscription.channel;
    stream->received = &metrics.counter(ops::Metric::kEventsReceived, {name});
    stream->requested = &metrics.gauge(ops::Metric::kPubsubRequestedEvents, {name});
    streams_.push_back(std::move(stream));
  }
}

PubsubClient::~PubsubClient() {
  disconnect();
}

void PubsubClient::start_streams() {
  started_ = true;
  const auto token = stop_.get_token();
  for (auto& stream : streams_) {
    threads_.emplace_back(
        [this, &stream = *stream, token](std::stop_token) { run_stream(token, stream); });
  }
  threads_.emplace_back([this, token](std::stop_token) { watch_keepalives(token); });
}

core::Status PubsubClient::next_batch(std::stop_token stop,
                                      std::vector<salesforce::StreamEvent>& out) {
  if (heartbeat_ != nullptr) {
    heartbeat_->beat();
  }
  if (!started_) {
    start_streams();
  }
  std::vector<std::size_t> taken(streams_.size(), 0);
  {
    std::unique_lock lock(mutex_);
    ready_.wait_for(lock, stop, options_.idle_return,
                    [this] { return !queue_.empty() || fatal_.has_value(); });
    if (stop.stop_requested()) {
      return core::Error{core::ErrorKind::kStopped, "pubsub: stopped"};
    }
    // Events queued before a fatal error are still delivered; the error comes with the next call.
    if (queue_.empty() && fatal_) {
      return *fatal_;
    }
    out.reserve(out.size() + queue_.size());
    for (auto& item : queue_) {
      if (!item.event.restart) {
        ++taken[item.stream];
      }
      out.push_back(std::move(item.event));
    }
    queue_.clear();
    for (std::size_t i = 0; i < streams_.size(); ++i) {
      streams_[i]->flow.taken(taken[i]);
    }
  }
  for (std::size_t i = 0; i < streams_.size(); ++i) {
    if (taken[i] > 0) {
      top_up(*streams_[i]);
    }
  }
  if (heartbeat_ != nullptr) {
    heartbeat_->beat();
  }
  return core::Status::ok();
}

void PubsubClient::top_up(Stream& stream) {
  std::lock_guard call(stream.call_mutex);
  fill_window(stream);
}

// Asks for the window's free room, one FetchRequest of at most kMaxNumRequested at a time (the
// server adds each to what it still owes). The caller holds stream.call_mutex.
void PubsubClient::fill_window(Stream& stream) {
  while (stream.writable && stream.call != nullptr) {
    std::int32_t n = 0;
    {
      std::lock_guard lock(mutex_);
      n = stream.flow.grant();
      stream.requested->set(static_cast<double>(stream.flow.requested()));
    }
    if (n <= 0) {
      return;
    }
    pb::FetchRequest request;
    request.set_num_requested(n);
    if (!stream.call->Write(request)) {
      // The stream is ending; its reader sees the end and starts a new one with a fresh window.
      stream.writable = false;
    }
  }
}

bool PubsubClient::connected() const {
  if (!started_ || channel_->GetState(false) != GRPC_CHANNEL_READY) {
    return false;
  }
  return std::all_of(streams_.begin(), streams_.end(),
                     [](const auto& stream) { return stream->open.load(); });
}

void PubsubClient::disconnect() {
  stop_.request_stop();
  for (auto& stream : streams_) {
    std::lock_guard call(stream->call_mutex);
    if (stream->context != nullptr) {
      stream->context->TryCancel();
    }
  }
  // A cancelled call ends at once; the jthreads join here (their own stop tokens are unused).
  threads_.clear();
}

void PubsubClient::fail(core::Error error) {
  {
    std::lock_guard lock(mutex_);
    if (!fatal_) {
      fatal_ = std::move(error);
    }
  }
  ready_.notify_all();
}

void PubsubClient::watch_keepalives(std::stop_token stop) {
  const auto tick =
      std::min<std::chrono::milliseconds>(std::chrono::seconds(1), options_.keepalive_timeout / 4);
  std::mutex idle;
  std::condition_variable_any wake;
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(idle);
      wake.wait_for(lock, stop, tick, [] { return false; });
    }
    const auto now = Clock::now();
    for (auto& stream : streams_) {
      bool waiting = false;
      {
        std::lock_guard lock(mutex_);
        waiting = stream->flow.requested() > 0;
      }
      const auto last = Clock::time_point(Clock::duration(stream->last_message.load()));
      if (!waiting || now - last < options_.keepalive_timeout) {
        continue;
      }
      std::lock_guard call(stream->call_mutex);
      if (stream->context != nullptr && !stream->keepalive_expired.exchange(true)) {
        stream->context->TryCancel();
      }
    }
  }
}

core::Status PubsubClient::fall_back(Stream& stream, const core::ReplayId& refused,
                                     const std::string& previous_org, const std::string& org,
                                     const std::string& reason) {
  const auto& channel = stream.subscription;
  const std::string what =
      reason + " (replay ID " + refused.text() + " of channel " + channel.channel + ")";
  auto chosen = salesforce::invalid_replay_fallback(
      "pubsub", channel, what, refused, metrics_, [](core::ReplayPreset preset) -> std::string {
        return preset == core::ReplayPreset::kEarliest ? "EARLIEST" : "LATEST";
      });
  if (!chosen) {
    return chosen.error();
  }
  const core::ReplayId fallback = chosen.value();
  stream.fallback = fallback;
  salesforce::StreamEvent item;
  item.channel = channel.channel;
  item.restart = salesforce::ChannelRestart{refused, fallback, org, previous_org};
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({stream.index, std::move(item)});
  }
  ready_.notify_all();
  return core::Status::ok();
}

void PubsubClient::run_stream(std::stop_token stop, Stream& stream) {
  auto log = ops::logger("pubsub");
  const auto& channel = stream.subscription.channel;
  core::Backoff backoff({options_.retry.initial_backoff, options_.retry.max_backoff},
                        options_.backoff_seed + stream.index);
  std::optional<salesforce::Session> session;
  bool refresh = false;
  int auth_rejections_in_a_row = 0;
  std::chrono::milliseconds wait{0};
  while (!stop.stop_requested()) {
    if (wait.count() > 0 && !core::interruptible_sleep(stop, std::exchange(wait, {}))) {
      return;
    }
    auto token = refresh && session ? tokens_.refresh(*session, stop) : tokens_.session(stop);
    if (!token) {
      if (token.error().kind == core::ErrorKind::kRetry) {
        wait = backoff.next();
        log->warn("{}: cannot obtain an access token: {}; retrying in {} ms", channel,
                  core::redact_text(token.error().message), wait.count());
        continue;
      }
      if (token.error().kind != core::ErrorKind::kStopped) {
        fail(token.error());
      }
      return;
    }
    session = std::move(token).value();
    refresh = false;

    // A position of another org (a sandbox refresh under the bridge) means nothing here.
    std::string previous_org;
    if (!session->org_id.empty() && !stream.org_id.empty() && session->org_id != stream.org_id) {
      previous_org = stream.org_id;
    }
    if (!session->org_id.empty()) {
      stream.org_id = session->org_id;
    }
    const auto resumed = resume_.resume_point(channel);
    auto start =
        choose_start(stream.subscription, stream.fallback, resumed, stream.subscribed_before);
    if (!previous_org.empty() && !stream.fallback) {
      const core::ReplayId refused = resumed.value_or(stream.subscription.start);
      if (auto status = fall_back(stream, refused, previous_org, session->org_id,
                                  "the org changed from " + previous_org + " to " +
                                      session->org_id + " (a sandbox refresh?)");
          !status) {
        fail(status.error());
        return;
      }
      continue;
    }
    if (!start) {
      // A CometD replay ID: this channel was delivered by CometD before; its position is no
      // position of the Pub/Sub API (README.md "Switching a channel's API").
      if (auto status = fall_back(
              stream, *resumed, {}, session->org_id,
              "the channel's resume point is a CometD replay ID, which the Pub/Sub API does not "
              "know (the channel was moved from api: cometd)");
          !status) {
        fail(status.error());
        return;
      }
      continue;
    }
    const Ended ended = subscribe_once(stop, stream, *session, *start);
    if (stop.stop_requested()) {
      return;
    }
    const std::string& what = ended.what;
    const bool keepalive = stream.keepalive_expired.exchange(false);
    metrics_
        .counter(ops::Metric::kPubsubStreamRestarts,
                 {channel, keepalive ? "keepalive" : ended.reason})
        .inc();
    switch (ended.reaction) {
      case Reaction::kReauth:
        ++auth_rejections_in_a_row;
        wait = auth_rejections_in_a_row > 1 ? backoff.next() : std::chrono::milliseconds(0);
        refresh = true;
        log->warn("{}: {}: authenticating again, then subscribing again (in {} ms)", channel, what,
                  wait.count());
        break;
      case Reaction::kInvalidReplay:
        if (auto status = fall_back(stream, start->as_position(), {}, session->org_id,
                                    "Salesforce refused the replay ID as invalid (" + what +
                                        "; older than the retention window, or of another org)");
            !status) {
          fail(status.error());
          return;
        }
        break;
      case Reaction::kDailyLimit:
        metrics_.counter(ops::Metric::kDailyLimitExceeded).inc();
        wait = options_.retry.daily_limit_backoff;
        log->error(
            "{}: {}: the org's delivery allocation is used up; no events are delivered until it "
            "resets - subscribing again in {} ms",
            channel, what, wait.count());
        break;
      case Reaction::kRetry:
        auth_rejections_in_a_row = 0;
        wait = backoff.next();
        log->warn("{}: {}{}; subscribing again in {} ms from the last acknowledged replay ID",
                  channel,
                  keepalive ? "no message within the keepalive timeout, stream reset: " : "", what,
                  wait.count());
        break;
    }
  }
}

PubsubClient::Ended PubsubClient::subscribe_once(std::stop_token stop, Stream& stream,
                                                 const salesforce::Session& session,
                                                 const Start& start) {
  auto log = ops::logger("pubsub");
  const auto& channel = stream.subscription.channel;
  auto stub = pb::PubSub::NewStub(channel_);
  grpc::ClientContext context;
  add_auth(context, session);
  std::unique_ptr<grpc::ClientReaderWriter<pb::FetchRequest, pb::FetchResponse>> call;
  pb::FetchRequest first;
  first.set_topic_name(channel);
  switch (start.preset) {
    case Start::Preset::kLatest:
      first.set_replay_preset(pb::ReplayPreset::LATEST);
      break;
    case Start::Preset::kEarliest:
      first.set_replay_preset(pb::ReplayPreset::EARLIEST);
      break;
    case Start::Preset::kCustom:
      first.set_replay_preset(pb::ReplayPreset::CUSTOM);
      first.set_replay_id(start.replay_id);
      break;
  }
  {
    std::lock_guard call_lock(stream.call_mutex);
    if (stop.stop_requested()) {
      return {Reaction::kRetry, "stopped", "error"};
    }
    call = stub->Subscribe(&context);
    stream.context = &context;
    stream.call = call.get();
    stream.writable = true;
    {
      std::lock_guard lock(mutex_);
      first.set_num_requested(stream.flow.grant());
      stream.requested->set(static_cast<double>(stream.flow.requested()));
    }
    stream.last_message.store(Clock::now().time_since_epoch().count());
    if (!call->Write(first)) {
      stream.writable = false;
    }
    fill_window(stream);
  }
  // Subscribed: a later subscription of the channel without an acknowledged position must not
  // use "latest" again, and the fallback (always a preset, never refused) is spent.
  stream.subscribed_before = true;
  stream.fallback.reset();
  stream.open.store(true);
  ops::info(log, "subscribing ({}, {}, {}, num_requested {})", ops::field("channel", channel),
            ops::field("replay_preset", preset_name(start.preset)),
            ops::field("from", start.source), first.num_requested());
  pb::FetchResponse response;
  std::vector<salesforce::StreamEvent> decoded;
  while (call->Read(&response)) {
    stream.last_message.store(Clock::now().time_since_epoch().count());
    decoded.clear();
    decoded.reserve(static_cast<std::size_t>(response.events_size()));
    for (const auto& event : response.events()) {
      const std::string& schema_id = event.event().schema_id();
      auto schema = schemas_->find(schema_id);
      while (!schema && !stop.stop_requested()) {
        grpc::ClientContext schema_context;
        add_auth(schema_context, session);
        schema_context.set_deadline(std::chrono::system_clock::now() + options_.request_timeout);
        pb::SchemaRequest request;
        request.set_schema_id(schema_id);
        pb::SchemaInfo info;
        const grpc::Status status = stub->GetSchema(&schema_context, request, &info);
        if (status.ok()) {
          schema = schemas_->put(schema_id, info.schema_json());
          if (*schema) {
            ops::info(log, "schema fetched ({}, {})", ops::field("channel", channel),
                      ops::field("schema_id", schema_id));
          } else {
            ops::error(log, "schema that does not parse ({}, {}): {}; its events are skipped",
                       ops::field("channel", channel), ops::field("schema_id", schema_id),
                       (*schema).error().message);
          }
          break;
        }
        // The stream stays open while GetSchema is retried: its events wait, none is skipped.
        const auto wait = options_.retry.initial_backoff;
        log->warn("{}: GetSchema {} failed: {}; retrying in {} ms", channel, schema_id,
                  describe(status, trailer(schema_context, "error-code")), wait.count());
        stream.last_message.store(Clock::now().time_since_epoch().count());
        if (!core::interruptible_sleep(stop, wait)) {
          break;
        }
      }
      if (!schema) {
        break;  // stopping
      }
      const auto& parsed = *schema;
      auto result = parsed ? options_.decoder(channel, event, parsed.value())
                           : core::Result<salesforce::StreamEvent>(parsed.error());
      if (!result) {
        metrics_.counter(ops::Metric::kPubsubMalformedEvents, {channel}).inc();
        static ops::RepeatLimiter limiter;
        if (auto repeat = limiter.admit()) {
          ops::warn(log, "event that does not decode with its schema, skipped ({}, {}, {}): {}{}",
                    ops::field("channel", channel),
                    ops::field("replay_id", core::ReplayId::opaque(event.replay_id()).text()),
                    ops::field("schema_id", schema_id), result.error().message, repeat->suffix());
        }
        continue;
      }
      decoded.push_back(std::move(result).value());
    }
    if (stop.stop_requested()) {
      break;
    }
    const std::size_t count = static_cast<std::size_t>(response.events_size());
    if (count > 0) {
      stream.received->inc(decoded.size());
      {
        std::lock_guard lock(mutex_);
        // Skipped (malformed) events leave the window at once; the others when taken.
        const std::size_t excess = stream.flow.received(count);
        stream.flow.taken(count - decoded.size());
        stream.requested->set(static_cast<double>(stream.flow.requested()));
        for (auto& event : decoded) {
          queue_.push_back({stream.index, std::move(event)});
        }
        if (excess > 0) {
          log->warn("{}: the server sent {} events more than requested", channel, excess);
        }
      }
      ready_.notify_all();
    }
  }
  stream.open.store(false);
  grpc::Status status;
  {
    std::lock_guard call_lock(stream.call_mutex);
    stream.writable = false;
    stream.call = nullptr;
    stream.context = nullptr;
  }
  status = call->Finish();
  const std::string error_code = trailer(context, "error-code");
  Ended ended{Reaction::kRetry, describe(status, error_code), "ended"};
  // The new stream replays from the acknowledged position: events still queued from this one
  // would come again, so they leave the queue (and the window) now.
  {
    std::lock_guard lock(mutex_);
    std::size_t dropped = 0;
    std::erase_if(queue_, [&](const Item& item) {
      const bool mine = item.stream == stream.index && !item.event.restart;
      dropped += mine ? 1 : 0;
      return mine;
    });
    stream.flow.reset(dropped);
    stream.requested->set(0);
  }
  if (status.ok()) {
    return ended;  // the server ended the stream: start another one
  }
  const int code = static_cast<int>(status.error_code());
  ended.reaction =
      classify(code, error_code, status.error_message(), start.preset == Start::Preset::kCustom);
  ended.reason = restart_reason(ended.reaction, code);
  return ended;
}

}  // namespace sfkb::pubsub
