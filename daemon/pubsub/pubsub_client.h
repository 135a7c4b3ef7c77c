#pragma once
// The Pub/Sub API source (docs/ARCHITECTURE.md "The Pub/Sub API source",
// docs/SALESFORCE_PROTOCOL.md "Pub/Sub API"): salesforce::EventSource over Salesforce's gRPC
// Pub/Sub API, delivering the same StreamEvents as the CometD client (cometd_client.h), so that the
// subscribe pipeline and every record, key and header stay the same.
//
// One gRPC channel (one HTTP/2 connection: the "session") carries one Subscribe stream per
// channel. Each stream runs on a thread of its own: it authenticates (metadata accesstoken,
// instanceurl, tenantid from the shared TokenSource), subscribes from the ResumePoints, reads
// FetchResponses, fetches unknown schemas with GetSchema (cached by schema ID), decodes events
// with the event codec (event_codec.h) and queues them. next_batch() hands the queue to the
// pipeline's thread and asks each stream for as many events as were taken (num_requested, within
// a FlowWindow, subscription.h): memory stays bounded when Kafka is slow, because the pipeline then
// stops calling next_batch(). An ended stream is started again with backoff from the last
// acknowledged position; a refused replay ID follows on_invalid_replay_id like the CometD client.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/core/url.h"
#include "daemon/ops/liveness.h"
#include "daemon/ops/metrics.h"
#include "daemon/pubsub/subscription.h"
#include "daemon/salesforce/event_source.h"
#include "daemon/salesforce/token_source.h"

namespace grpc {
class Channel;
class ClientContext;
}  // namespace grpc
namespace eventbus::v1 {
class ConsumerEvent;
}  // namespace eventbus::v1
namespace sfkb::avro {
class Schema;
}  // namespace sfkb::avro

namespace sfkb::pubsub {

// Turns one received event into the StreamEvent the CometD client would have delivered for it
// (channel, kind, replay ID, EventUuid, payload and envelope JSON, change header), given the
// parsed Avro schema of its schema ID. kInvalidInput when the payload does not decode: the event is
// then logged, counted and skipped, as the CometD client skips a malformed message.
using EventDecoder = std::function<core::Result<salesforce::StreamEvent>(
    const std::string& channel, const eventbus::v1::ConsumerEvent& event,
    const avro::Schema& schema)>;

// The daemon's decoder: the event codec (event_codec.h decode_event).
EventDecoder default_event_decoder();

struct PubsubOptions {
  core::GrpcEndpoint endpoint{"api.pubsub.salesforce.com:7443", true};
  std::string ca_file;  // PEM roots; empty: the system store (gRPC's default roots)
  std::vector<salesforce::ChannelSubscription> channels;
  config::RetryConfig retry;
  std::chrono::milliseconds request_timeout{30000};  // GetSchema
  // Events each channel may have requested or queued (FlowWindow); pubsub_options() splits
  // limits.max_in_flight_events over the channels.
  std::size_t window = 10000;
  // Salesforce sends an empty FetchResponse at least every 270 s while events are requested: a
  // stream silent for longer than this is taken as dead and started again.
  std::chrono::milliseconds keepalive_timeout{std::chrono::seconds(300)};
  // next_batch() returns (empty) after this long without events, so that the pipeline's loop
  // turns and its heartbeat beats.
  std::chrono::milliseconds idle_return{std::chrono::seconds(1)};
  std::uint64_t backoff_seed = std::random_device{}();  // fixed in tests
  EventDecoder decoder;                                 // unset: default_event_decoder()
};

// The Pub/Sub mappings of the configuration (subscribe[].api = pubsub) as PubsubOptions: the
// endpoint, CA file, retry and request timeout, and each mapping's channel, start and
// on_invalid_replay_id.
PubsubOptions pubsub_options(const config::Config& config);

class PubsubClient final : public salesforce::EventSource {
 public:
  // `tokens` and `resume` must outlive the client. The streams start at the first next_batch()
  // (after the pipeline's reconciliation has seeded `resume`). `heartbeat`, when set, is beaten at
  // every next_batch() (the CometD source's transport beats it instead).
  PubsubClient(salesforce::TokenSource& tokens, PubsubOptions options,
               const salesforce::ResumePoints& resume,
               ops::Metrics& metrics = ops::Metrics::global(), ops::Heartbeat* heartbeat = nullptr);
  ~PubsubClient() override;
  PubsubClient(const PubsubClient&) = delete;
  PubsubClient& operator=(const PubsubClient&) = delete;

  // Waits up to idle_return for events, then hands over everything queued, in order per channel,
  // with ChannelRestart items where a channel restarted from its fallback. Not thread-safe with
  // itself or disconnect(): one pipeline thread drives the client. kFatal: a stream hit
  // on_invalid_replay_id: fail, or the login was refused.
  core::Status next_batch(std::stop_token stop, std::vector<salesforce::StreamEvent>& out) override;
  // True while the connection is up and every channel's stream is open.
  bool connected() const override;
  // Ends every stream (cancelling its call) and waits for the threads; a GetSchema in progress is
  // bounded by request_timeout.
  void disconnect() override;

 private:
  struct Stream;
  struct Item {
    std::size_t stream;
    salesforce::StreamEvent event;
  };
  class SchemaCache;
  struct Ended {
    Reaction reaction;
    std::string what;    // the status, for the log
    const char* reason;  // sfkb_pubsub_stream_restarts_total's label
  };

  void start_streams();
  void run_stream(std::stop_token stop, Stream& stream);
  // One Subscribe call from start to end; returns how it ended.
  Ended subscribe_once(std::stop_token stop, Stream& stream, const salesforce::Session& session,
                       const Start& start);
  // Queues a ChannelRestart for `stream` and sets its fallback (kFatal under `fail`).
  core::Status fall_back(Stream& stream, const core::ReplayId& refused,
                         const std::string& previous_org, const std::string& org,
                         const std::string& reason);
  // Sends the stream more num_requested if its window has room (any thread).
  void top_up(Stream& stream);
  void fill_window(Stream& stream);
  void watch_keepalives(std::stop_token stop);
  void fail(core::Error error);

  salesforce::TokenSource& tokens_;
  PubsubOptions options_;
  const salesforce::ResumePoints& resume_;
  ops::Metrics& metrics_;
  ops::Heartbeat* heartbeat_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<SchemaCache> schemas_;

  mutable std::mutex mutex_;  // queue_, every Stream's flow and the fatal error
  std::condition_variable_any ready_;
  std::deque<Item> queue_;
  std::optional<core::Error> fatal_;
  std::vector<std::unique_ptr<Stream>> streams_;

  std::stop_source stop_;  // the streams' and the watchdog's
  std::vector<std::jthread> threads_;
  bool started_ = false;
};

}  // namespace sfkb::pubsub
