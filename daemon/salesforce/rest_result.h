#pragma once
// Decoding and classifying the reply to POST /services/data/vNN.0/composite/sobjects
// (docs/SALESFORCE_PROTOCOL.md "REST publish"). Pure over (status, body): no I/O, no logging, never
// throws, so it can be fuzzed and so the publish pipeline decides what to do from values alone.
//
// Three outcomes per record: done (published), drop (permanent error ->
// dead-letter topic) or retry. A whole request can also fail as a unit: transient (back off,
// same batch again), reauth (new token, one retry), rejected (the request as sent can never
// succeed; the caller narrows it down by splitting the batch) or fatal (the org refuses us:
// stop and let an operator look).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sfkb::salesforce {

enum class RecordOutcome {
  kPublished,  // success: true (Salesforce queued the event)
  kPermanent,  // this record will never be accepted as it is: dead-letter it
  kTransient,  // Salesforce could not take it right now (e.g.
               // PLATFORM_EVENT_PUBLISHING_UNAVAILABLE)
};

struct RecordResult {
  RecordOutcome outcome = RecordOutcome::kPublished;
  std::string id;          // on success
  std::string error_code;  // first error's statusCode, e.g. INVALID_FIELD
  std::string error_message;
};

enum class ReplyKind {
  kPerRecord,  // 2xx with one result per record, in request order: see `records`
  kTransient,  // 5xx, 408, 429, REQUEST_LIMIT_EXCEEDED, or a malformed reply: retry after backoff
  kReauth,     // 401 or INVALID_SESSION_ID: get a new token and try once more
  kRejected,   // 400, 404, 413, ...: the whole request was refused because of its content
  kFatal,      // 3xx, 403 other than limits, other 4xx: configuration or permission problem
};

const char* to_string(ReplyKind kind);

struct CompositeReply {
  ReplyKind kind = ReplyKind::kTransient;
  long status = 0;
  std::vector<RecordResult> records;  // kPerRecord only; size == the number of records sent
  // Whole-request failures: the first error's errorCode (or "HTTP_<status>" when the body is not
  // Salesforce's error array) and message.
  std::string error_code;
  std::string error_message;
  // True when the reply could not be understood (not JSON, wrong shape, count mismatch): the
  // caller counts and logs it, with `snippet` (the first bytes of the body, never the request).
  bool malformed = false;
  std::string snippet;
};

// Decodes the reply to a composite request that carried `expected_records` records.
CompositeReply decode_composite_reply(long status, std::string_view body,
                                      std::size_t expected_records);

// Per-record error codes that mean "not now" rather than "never" (retried, not dead-lettered).
bool is_transient_error_code(std::string_view code);

// At most `max_bytes` of `body`, cut on a UTF-8 boundary, control characters replaced, for logs.
std::string body_snippet(std::string_view body, std::size_t max_bytes = 256);

}  // namespace sfkb::salesforce
