#pragma once
// What the subscribe pipeline needs from the Streaming API: batches of decoded events, in replay
// order per channel. The CometD client (cometd_client.h) implements it and owns the whole session
// life cycle: handshake, subscribe, connect loop, advice, re-auth, rehandshake, backoff.

#include <cstdint>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/core/result.h"

namespace sfkb::salesforce {

// Not an event: the source tells the pipeline, in order with the events of the batch, that the
// channel's subscription restarted from a fallback because its resume point was void - Salesforce
// refused the replay ID (older than retention, or newer than the org's newest: a sandbox refresh,
// a checkpoint of another org) or the org itself changed. Events after it belong to the new
// subscription and start a new replay-ID sequence; what the channel had seen before is no guide.
struct ChannelRestart {
  std::int64_t refused_replay_id = 0;  // the resume point that was void
  std::int64_t fallback = -2;          // -2 (every retained event) or -1 (new events only)
  std::string org_id;                  // the org of the new subscription; empty: unknown
  std::string previous_org_id;         // set when the org changed under the channel
};

// One item of a batch: an event, or (restart set) a ChannelRestart of `channel`.
struct StreamEvent {
  std::string channel;
  std::int64_t replay_id = 0;
  std::string event_uuid;
  std::string schema;
  std::string created_date;
  // Exactly the bytes Salesforce sent (numbers keep their digits: 12.50 stays 12.50).
  std::string payload_json;               // data.payload
  std::string envelope_json;              // the whole data object
  std::optional<ChannelRestart> restart;  // set: not an event (the other fields but channel unset)
};

struct ChannelSubscription {
  std::string channel;
  std::int64_t start = -1;  // used only when resume() has nothing for the channel
  config::InvalidReplayPolicy on_invalid_replay_id = config::InvalidReplayPolicy::kEarliest;
};

// The replay ID a (re)subscription of `channel` resumes after: the last replay ID whose event and
// all before it Kafka has acknowledged (DESIGN.md §4), or nullopt to use the configured start.
// Called on the source's thread at every (re)subscribe.
using ResumePoint = std::function<std::optional<std::int64_t>(const std::string& channel)>;

class EventSource {
 public:
  virtual ~EventSource() = default;
  // One /meta/connect round trip (handshaking and subscribing first when needed). Appends the
  // events received, in order, to `out` (nothing on a quiet long poll), and a ChannelRestart item
  // where a channel's subscription restarted from a fallback. Malformed messages are
  // logged, counted and skipped. Transient failures are handled inside with backoff; the returned
  // error is kStopped or kFatal (e.g. an invalid replay ID under policy `fail`, a login rejected).
  virtual core::Status next_batch(std::stop_token stop, std::vector<StreamEvent>& out) = 0;
  // True while a session is established (for /readyz).
  virtual bool connected() const = 0;
  // Best-effort /meta/disconnect at shutdown (bounded by a short timeout).
  virtual void disconnect() = 0;
};

}  // namespace sfkb::salesforce
