#pragma once
// What became of a Pub/Sub `Publish` call, in the publish pipeline's terms (the same
// salesforce::CompositeReply a REST composite request decodes to), so that a record meets the
// same fate - published, retried or dead-lettered - whichever API carried it. The table is in
// README.md "Salesforce errors and what the bridge does". Pure over plain values (no protobuf, no
// gRPC types, no I/O), so it is unit-tested and fuzzed on its own.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/salesforce/rest_result.h"

namespace sfkb::pubsub {

// gRPC status codes (grpc/status.h), repeated so this file needs no gRPC header.
enum class GrpcCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

const char* grpc_code_name(int code);

// The call's own status: its code, its message, and Salesforce's error code from the trailers
// (`error-code`, e.g. sfdc.platform.eventbus.grpc.service.auth.error), empty when there is none.
struct CallStatus {
  int code = 0;
  std::string message;
  std::string error_code;
};

// One eventbus.v1.PublishResult, stripped of protobuf.
struct EventResult {
  std::string correlation_key;  // the ProducerEvent.id it answers; may be empty
  std::string replay_id;        // opaque bytes, on success
  bool has_error = false;
  int error_code = 0;  // eventbus.v1.ErrorCode: 0 UNKNOWN, 1 PUBLISH, 2 COMMIT
  std::string error_message;
};

struct PublishOutcome {
  salesforce::CompositeReply reply;
  // The server refused the events' schema (a changed event definition), for the whole call or for
  // the events at `schema_refused_events` (kTransient until the caller knows better): the caller
  // fetches the topic's current schema; if its ID differs it encodes and sends them again at once,
  // otherwise the payloads themselves are at fault (kPermanent: dead letter).
  bool schema_refused = false;
  std::vector<std::size_t> schema_refused_events;
};

// Maps the outcome of one Publish call that carried events with the IDs `sent_ids` (in request
// order). Per-event results are matched by correlation key when every result has a distinct known
// one, else by position; a count that does not match is a malformed reply (retried, never
// dead-lettered). The reply's `status` is 0 (there is no HTTP status); `error_code` is
// Salesforce's trailer code or, without one, `GRPC_<CODE>`.
PublishOutcome map_publish_outcome(const CallStatus& status,
                                   const std::vector<EventResult>& results,
                                   const std::vector<std::string>& sent_ids);

// A per-event error's code: the Salesforce code at the start of the message ("LIMIT_EXCEEDED:
// ..."), or a transient code named anywhere in it, else `PUBSUB_<ErrorCode>` (PUBSUB_PUBLISH).
std::string event_error_code(int error_code, std::string_view message);

}  // namespace sfkb::pubsub
