#pragma once
// What the subscribe pipeline needs from the Streaming API: batches of decoded events, in replay
// order per channel. The CometD client (cometd_client.h) implements it and owns the whole session
// life cycle: handshake, subscribe, connect loop, advice, re-auth, rehandshake, backoff.

#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/core/replay_id.h"
#include "daemon/core/result.h"

namespace sfkb::salesforce {

// The three kinds of Streaming API channel. Each carries its own message shape (bayeux.h
// "Event messages"), so the decoder tells them apart and the mapping (event_mapping.h) makes the
// record value, key and headers per kind.
enum class EventKind {
  kPlatformEvent,  // /event/X__e: data = {schema, payload, event: {EventUuid, replayId}}
  kPushTopic,      // /topic/Name: data = {event: {createdDate, type, replayId}, sobject}
  kChangeEvent,    // /data/...: data = {schema, payload: {ChangeEventHeader, fields}, event}
};

// The kind a channel name announces by its prefix (/event/, /topic/, /data/); nullopt for any
// other prefix.
inline std::optional<EventKind> kind_of_channel(std::string_view channel) {
  if (channel.starts_with("/event/")) {
    return EventKind::kPlatformEvent;
  }
  if (channel.starts_with("/topic/")) {
    return EventKind::kPushTopic;
  }
  if (channel.starts_with("/data/")) {
    return EventKind::kChangeEvent;
  }
  return std::nullopt;
}

// payload.ChangeEventHeader of a Change Data Capture event, as far as the mapping uses it. The
// whole header (changedFields, nulledFields, diffFields, ...) stays in the record value.
struct ChangeEventHeader {
  std::string entity_name;  // Account, MyObject__c
  // CREATE, UPDATE, DELETE, UNDELETE, GAP_CREATE, GAP_UPDATE, GAP_DELETE, GAP_UNDELETE,
  // GAP_OVERFLOW (taken as sent: an unknown future value is passed on, not refused).
  std::string change_type;
  std::vector<std::string> record_ids;  // one change may name several records; may be empty
  std::string change_origin;
  std::string transaction_key;
  std::string commit_user;
  std::optional<std::int64_t> sequence_number;
  std::optional<std::int64_t> commit_number;
  std::optional<std::int64_t> commit_timestamp;  // epoch milliseconds
};

// Not an event: the source tells the pipeline, in order with the events of the batch, that the
// channel's subscription restarted from a fallback because its resume point was void - Salesforce
// refused the replay ID (older than retention, or newer than the org's newest: a sandbox refresh,
// a checkpoint of another org) or the org itself changed. Events after it belong to the new
// subscription and start a new replay-ID sequence; what the channel had seen before is no guide.
struct ChannelRestart {
  core::ReplayId refused_replay_id;  // the resume point that was void
  // A preset: every retained event, or new events only.
  core::ReplayId fallback = core::ReplayId::cometd(core::ReplayPreset::kEarliest);
  std::string org_id;           // the org of the new subscription; empty: unknown
  std::string previous_org_id;  // set when the org changed under the channel
};

// One item of a batch: an event, or (restart set) a ChannelRestart of `channel`.
struct StreamEvent {
  std::string channel;
  EventKind kind = EventKind::kPlatformEvent;  // decided by the message's shape
  core::ReplayId replay_id;
  std::string event_uuid;  // platform events from API 52.0; empty for the other kinds
  std::string schema;      // platform and change events; empty for PushTopic
  // Platform event: payload.CreatedDate; PushTopic: event.createdDate; change event: empty (the
  // header's commit_timestamp says when).
  std::string created_date;
  std::string event_type;                   // PushTopic only: created|updated|deleted|undeleted
  std::optional<ChangeEventHeader> change;  // change events only
  // Exactly the bytes Salesforce sent (numbers keep their digits: 12.50 stays 12.50).
  // The kind's record object: data.payload (platform event; change event, with its
  // ChangeEventHeader) or data.sobject (PushTopic).
  std::string payload_json;
  std::string envelope_json;              // the whole data object
  std::optional<ChannelRestart> restart;  // set: not an event (the other fields but channel unset)
};

struct ChannelSubscription {
  std::string channel;
  // Used only when resume() has nothing for the channel.
  core::ReplayId start = core::ReplayId::cometd(core::ReplayPreset::kLatest);
  config::InvalidReplayPolicy on_invalid_replay_id = config::InvalidReplayPolicy::kEarliest;
};

// Where a (re)subscription resumes. A source is given one at construction and asks it at every
// (re)subscribe, on the source's thread; the subscribe direction's per-channel progress
// (checkpoint/channel_progress.h) implements it, so the source never calls into the pipeline.
class ResumePoints {
 public:
  virtual ~ResumePoints() = default;
  // The replay ID a (re)subscription of `channel` resumes after: the last replay ID whose event
  // and all before it Kafka has acknowledged (docs/ARCHITECTURE.md §4), or nullopt to use the
  // configured start. Thread-safe.
  virtual std::optional<core::ReplayId> resume_point(const std::string& channel) const = 0;
};

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
