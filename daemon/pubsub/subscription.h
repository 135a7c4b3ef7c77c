#pragma once
// The pure decisions of the Pub/Sub API source (pubsub_client.h), apart from gRPC so that unit
// tests can drive them: how many events a Subscribe stream may ask for (flow control), where a
// (re)subscription starts, and what an ended stream asks for next (docs/ARCHITECTURE.md
// "The Pub/Sub API source").

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/core/replay_id.h"
#include "daemon/salesforce/event_source.h"

namespace sfkb::pubsub {

// The Pub/Sub API serves at most this many events per FetchRequest (num_requested).
inline constexpr std::int32_t kMaxNumRequested = 100;

// One channel's flow-control window: the events the server may still send (requested, not yet
// received) plus the events received and not yet taken by the pipeline never exceed `window`.
// While the pipeline does not take events (Kafka is slow: it stops pulling at
// limits.max_in_flight_events) the stream asks for nothing more, so the source holds at most
// `window` events of the channel, whatever the server has.
//
// Accounting is per stream: reset() when a stream ends (its outstanding request dies with it; the
// queue is emptied by the caller, since a new stream replays from the acknowledged position).
// Not thread-safe: the source guards it with its mutex.
class FlowWindow {
 public:
  explicit FlowWindow(std::size_t window);

  // The num_requested of the next FetchRequest, or 0 when none is worth sending: the free room,
  // at most kMaxNumRequested, once it reaches half a request (small top-ups would cost a message
  // per event). Counts the grant as requested.
  std::int32_t grant();
  // A FetchResponse carried `count` events: they move from requested to queued. More than was
  // requested (a server that does not honour num_requested) is queued all the same and leaves
  // nothing requested; returns the excess so that the caller can report it.
  std::size_t received(std::size_t count);
  // The pipeline took `count` queued events.
  void taken(std::size_t count);
  // The stream ended: nothing is requested any more; `dropped` queued events were discarded.
  void reset(std::size_t dropped);

  std::size_t window() const { return window_; }
  std::size_t requested() const { return requested_; }
  std::size_t queued() const { return queued_; }

 private:
  std::size_t window_;
  std::size_t requested_ = 0;
  std::size_t queued_ = 0;
};

// Splits limits.max_in_flight_events over the Pub/Sub channels (at least 1 each).
std::size_t channel_window(std::size_t max_in_flight_events, std::size_t channels);

// Where a Subscribe stream starts: a preset (LATEST, EARLIEST) or CUSTOM after `replay_id`.
struct Start {
  enum class Preset { kLatest, kEarliest, kCustom };
  Preset preset = Preset::kLatest;
  std::string replay_id;  // kCustom: the opaque bytes
  // Where the decision came from, for the log line: "last acknowledged", "configured start", ...
  std::string source;
  // The position the stream starts after, as the pipeline knows positions (ChannelRestart).
  core::ReplayId as_position() const;
};

// The start of a (re)subscription of `channel`:
//  - `fallback` (set after an invalid replay ID) wins, then the acknowledged `resumed` position,
//    then the configured start (a preset: a pubsub mapping's start is latest or earliest);
//  - "latest" applies to the first subscription only: a channel subscribed before with nothing
//    acknowledged resubscribes from EARLIEST, since "new events only" again would skip the events
//    of the gap (the duplicate filter drops what was already produced), as the CometD client does;
//  - a CometD number (the position of a channel that CometD delivered before) is no position in
//    the Pub/Sub API's sequence: nullopt, and the caller treats it as a void resume point.
std::optional<Start> choose_start(const salesforce::ChannelSubscription& channel,
                                  const std::optional<core::ReplayId>& fallback,
                                  const std::optional<core::ReplayId>& resumed,
                                  bool subscribed_before);

// What an ended Subscribe stream (or a failed GetSchema) asks for next.
enum class Reaction {
  kReauth,         // the token was refused: refresh it, then subscribe again at once
  kInvalidReplay,  // the CUSTOM replay ID was refused: on_invalid_replay_id
  // The org's delivery allocation is used up (RESOURCE_EXHAUSTED, ...limit.exceeded): wait
  // retry.daily_limit_backoff, as the CometD client does.
  kDailyLimit,
  // Anything else: subscribe again after a backoff. An unknown topic or a missing permission
  // is retried too (logged as an error), as the CometD client retries a refused subscribe: the
  // topic may be deployed or the permission granted while the bridge runs.
  kRetry,
};

// Classifies a gRPC status (its numeric code, grpc::StatusCode), Salesforce's `error-code`
// trailer (may be empty) and the status message. `custom_start`: the stream started after a
// replay ID (only then can the replay ID be what was refused).
Reaction classify(int grpc_code, std::string_view error_code, std::string_view message,
                  bool custom_start);
// A short label of a reaction's cause for sfkb_pubsub_stream_restarts_total.
const char* restart_reason(Reaction reaction, int grpc_code);

}  // namespace sfkb::pubsub
