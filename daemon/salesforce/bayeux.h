#pragma once
// Bayeux 1.0 as Salesforce speaks it (docs/SALESFORCE_PROTOCOL.md "CometD"): request bodies and
// response decoding, as pure functions over strings. No I/O, no logging, no clock: the CometD
// client (cometd_client.h) drives the protocol, this file only knows the shapes. Safe on hostile
// input (it is fuzzed): iterative parsing, bounded nesting, bounded snippets.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/result.h"
#include "daemon/salesforce/event_source.h"

namespace sfkb::salesforce::bayeux {

// Nesting deeper than this in one message makes the message malformed (event payloads are
// nearly flat; the bound protects the stack of whoever walks the tree).
inline constexpr int kMaxDepth = 64;
// Raw text quoted in errors and logs, at most this many bytes (after redaction).
inline constexpr std::size_t kMaxSnippet = 200;

// ---- requests ----

// Builds request bodies (each a JSON array holding one message) with ids "1", "2", ... in the
// order built. One builder per CometD session.
class RequestBuilder {
 public:
  std::string handshake();
  // ext.replay is a map with exactly one key: `channel` as given (Salesforce matches it verbatim).
  std::string subscribe(std::string_view client_id, std::string_view channel,
                        std::int64_t replay_from);
  std::string connect(std::string_view client_id);
  std::string disconnect(std::string_view client_id);
  std::uint64_t last_id() const { return next_id_ - 1; }

 private:
  std::string next_id();
  std::uint64_t next_id_ = 1;
};

// ---- responses ----

// Event messages (every message on a non-/meta/ channel). Salesforce sends three shapes of
// `data`, one per channel kind:
//   platform event  /event/X__e  {schema, payload: {CreatedDate, CreatedById, ...},
//                                 event: {EventUuid, replayId}}
//   PushTopic       /topic/Name  {event: {createdDate, replayId, type}, sobject: {Id, ...}}
//   change event    /data/...    {schema, payload: {ChangeEventHeader: {entityName, recordIds,
//                                 changeType, ...}, changed fields...}, event: {replayId}}
// Every kind needs data.event.replayId (an integer). The kind is decided by the shape present,
// not by the channel name, so a channel that carries another kind's shape is still decoded:
//   - data.payload (an object) holding ChangeEventHeader: a change event; the header must be an
//     object with entityName and changeType strings and, when present, recordIds an array of
//     strings (gap events carry only the header);
//   - data.payload (an object) without it: a platform event (EventUuid and CreatedDate are
//     optional, EventUuid exists from API 52.0);
//   - data.sobject (an object) and no payload: a PushTopic event; data.event.type must be a
//     string;
//   - anything else is malformed (reported in Decoded::malformed and skipped).

struct Advice {
  std::string reconnect;  // "retry" | "handshake" | "none" | "" when the server gave none
  std::optional<std::int64_t> interval_ms;
  std::optional<std::int64_t> timeout_ms;
};

struct Message {
  std::string channel;
  std::string id;
  std::optional<bool> successful;  // meta replies only
  std::string error;               // e.g. "403::Unknown client"
  std::string client_id;           // handshake reply
  std::string subscription;        // subscribe reply
  std::optional<Advice> advice;
  std::string failure_reason;        // ext.sfdc.failureReason, e.g. "401::Authentication invalid"
  std::optional<StreamEvent> event;  // set for every non-/meta/ message (a delivered event)

  bool is_meta() const { return channel.starts_with("/meta/"); }
};

struct Malformed {
  std::size_t index = 0;  // position in the response array
  std::string reason;     // what was wrong, e.g. "data.event.replayId is not an integer"
  std::string snippet;    // the message's raw text, redacted, at most kMaxSnippet bytes
};

struct Decoded {
  std::vector<Message> messages;     // the well-formed messages, in response order
  std::size_t malformed_count = 0;   // how many elements were skipped
  std::vector<Malformed> malformed;  // details of the first few (at most kMaxMalformedDetails)
};
inline constexpr std::size_t kMaxMalformedDetails = 8;

// Decodes one response body. A body that is not a JSON array of objects at all is an error
// (kInvalidInput) carrying a bounded, redacted snippet; within a valid array, each malformed
// element is skipped and reported while the others are kept.
core::Result<Decoded> decode_response(std::string_view body);

// A bounded, redacted excerpt of `text` for logs (cut on a UTF-8 character boundary).
std::string snippet(std::string_view text);

// The numeric code in front of "::" in a Bayeux error ("403::Unknown client" -> 403), or 0.
int error_code(std::string_view error);

// The error texts Salesforce uses (docs/SALESFORCE_PROTOCOL.md "Errors and the right reaction").
bool is_unknown_client(std::string_view text);        // 403::Unknown client
bool is_authentication_error(std::string_view text);  // 401::...
bool is_server_busy(std::string_view text);           // 503::Server is too busy
bool is_daily_limit(std::string_view text);           // 403::Organization total events daily limit
bool is_invalid_replay_id(std::string_view text);  // 400::The replayId {X} you provided was invalid

}  // namespace sfkb::salesforce::bayeux
