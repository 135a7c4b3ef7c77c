#include "daemon/pubsub/publish_result.h"

#include <array>
#include <cctype>
#include <map>
#include <set>

namespace sfkb::pubsub {
namespace {

using salesforce::CompositeReply;
using salesforce::RecordOutcome;
using salesforce::RecordResult;
using salesforce::ReplyKind;

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool is_code_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// The UPPER_SNAKE words of `message`, in order ("LIMIT_EXCEEDED: too many" -> LIMIT_EXCEEDED).
std::vector<std::string_view> code_words(std::string_view message) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < message.size()) {
    if (!is_code_char(message[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < message.size() && is_code_char(message[j])) {
      ++j;
    }
    // A code has an underscore (LIMIT_EXCEEDED), so words such as "OK" or "ID" are not codes.
    auto word = message.substr(i, j - i);
    if (word.size() >= 4 && contains(word, "_") && word.front() >= 'A' && word.front() <= 'Z') {
      words.push_back(word);
    }
    i = j;
  }
  return words;
}

const char* error_code_name(int code) {
  switch (code) {
    case 1:
      return "PUBLISH";
    case 2:
      return "COMMIT";
    default:
      return "UNKNOWN";
  }
}

// The whole call failed: what the pipeline does with every event it carried.
PublishOutcome whole_call(const CallStatus& status) {
  PublishOutcome out;
  auto& reply = out.reply;
  reply.status = 0;
  reply.error_code = status.error_code.empty() ? std::string("GRPC_") + grpc_code_name(status.code)
                                               : status.error_code;
  reply.error_message = status.message;
  const auto code = static_cast<GrpcCode>(status.code);
  const auto sf = lower(status.error_code);
  const auto text = lower(status.message);
  if (code == GrpcCode::kUnauthenticated || contains(sf, "auth.error") || contains(sf, ".auth") ||
      contains(text, "invalid_session_id")) {
    reply.kind = ReplyKind::kReauth;
    return out;
  }
  if (contains(sf, "schema") ||
      ((code == GrpcCode::kInvalidArgument || code == GrpcCode::kNotFound ||
        code == GrpcCode::kFailedPrecondition) &&
       contains(text, "schema"))) {
    // The batch was encoded for a schema the server no longer takes. Whether that is a changed
    // definition (fetch it, send again) or these payloads is for the caller to find out; until
    // then, like a whole-request rejection, nothing is dead-lettered on it.
    out.schema_refused = true;
    reply.kind = ReplyKind::kRejected;
    return out;
  }
  if (contains(sf, "limit") || contains(text, "limit_exceeded")) {
    reply.kind = ReplyKind::kTransient;  // an allocation: back off
    return out;
  }
  switch (code) {
    case GrpcCode::kCancelled:
    case GrpcCode::kUnknown:
    case GrpcCode::kDeadlineExceeded:
    case GrpcCode::kResourceExhausted:
    case GrpcCode::kAborted:
    case GrpcCode::kInternal:
    case GrpcCode::kUnavailable:
    case GrpcCode::kDataLoss:
      reply.kind = ReplyKind::kTransient;
      break;
    case GrpcCode::kInvalidArgument:
    case GrpcCode::kOutOfRange:
      // Refused for its content: the pipeline splits the batch until the culprit stands alone.
      reply.kind = ReplyKind::kRejected;
      break;
    case GrpcCode::kNotFound:          // no such topic
    case GrpcCode::kPermissionDenied:  // the user may not publish it
    case GrpcCode::kFailedPrecondition:
    case GrpcCode::kUnimplemented:
    case GrpcCode::kAlreadyExists:
    case GrpcCode::kOk:
    case GrpcCode::kUnauthenticated:
      reply.kind = ReplyKind::kFatal;
      break;
    default:
      reply.kind = ReplyKind::kTransient;  // a code from a newer gRPC: do not drop data on it
      break;
  }
  return out;
}

PublishOutcome malformed(std::string why) {
  PublishOutcome out;
  out.reply.kind = ReplyKind::kTransient;
  out.reply.malformed = true;
  out.reply.error_code = "MALFORMED_REPLY";
  out.reply.error_message = std::move(why);
  return out;
}

RecordResult event_result(const EventResult& result) {
  RecordResult record;
  if (!result.has_error) {
    record.outcome = RecordOutcome::kPublished;
    record.id = result.correlation_key;
    return record;
  }
  record.error_code = event_error_code(result.error_code, result.error_message);
  record.error_message = result.error_message;
  record.outcome = salesforce::is_transient_error_code(record.error_code)
                       ? RecordOutcome::kTransient
                       : RecordOutcome::kPermanent;
  return record;
}

}  // namespace

const char* grpc_code_name(int code) {
  static constexpr std::array<const char*, 17> kNames = {"OK",
                                                         "CANCELLED",
                                                         "UNKNOWN",
                                                         "INVALID_ARGUMENT",
                                                         "DEADLINE_EXCEEDED",
                                                         "NOT_FOUND",
                                                         "ALREADY_EXISTS",
                                                         "PERMISSION_DENIED",
                                                         "RESOURCE_EXHAUSTED",
                                                         "FAILED_PRECONDITION",
                                                         "ABORTED",
                                                         "OUT_OF_RANGE",
                                                         "UNIMPLEMENTED",
                                                         "INTERNAL",
                                                         "UNAVAILABLE",
                                                         "DATA_LOSS",
                                                         "UNAUTHENTICATED"};
  if (code < 0 || code >= static_cast<int>(kNames.size())) {
    return "UNKNOWN_STATUS";
  }
  return kNames[static_cast<std::size_t>(code)];
}

std::string event_error_code(int error_code, std::string_view message) {
  const auto words = code_words(message);
  for (auto word : words) {
    if (salesforce::is_transient_error_code(word)) {
      return std::string(word);  // "not now" wins wherever it is named: never dead-letter on it
    }
  }
  // Only a code that opens the message names the error; one further in may be quoted data.
  std::size_t start = 0;
  while (start < message.size() && message[start] == ' ') {
    ++start;
  }
  if (!words.empty() && words.front().data() == message.data() + start) {
    return std::string(words.front());
  }
  return std::string("PUBSUB_") + error_code_name(error_code);
}

PublishOutcome map_publish_outcome(const CallStatus& status,
                                   const std::vector<EventResult>& results,
                                   const std::vector<std::string>& sent_ids) {
  if (status.code != static_cast<int>(GrpcCode::kOk)) {
    return whole_call(status);
  }
  if (results.size() != sent_ids.size()) {
    return malformed("the reply has " + std::to_string(results.size()) + " results for " +
                     std::to_string(sent_ids.size()) + " events");
  }
  PublishOutcome out;
  out.reply.kind = ReplyKind::kPerRecord;
  out.reply.records.resize(sent_ids.size());
  // By correlation key when every result names a distinct event of the request.
  std::map<std::string_view, std::size_t> position;
  for (std::size_t i = 0; i < sent_ids.size(); ++i) {
    position.emplace(sent_ids[i], i);
  }
  std::set<std::size_t> matched;
  bool by_key = position.size() == sent_ids.size();
  for (const auto& result : results) {
    auto it = position.find(result.correlation_key);
    if (it == position.end() || !matched.insert(it->second).second) {
      by_key = false;
      break;
    }
  }
  for (std::size_t i = 0; i < results.size(); ++i) {
    const std::size_t at = by_key ? position.at(results[i].correlation_key) : i;
    out.reply.records[at] = event_result(results[i]);
    if (results[i].has_error && contains(lower(results[i].error_message), "schema")) {
      out.reply.records[at].outcome = RecordOutcome::kTransient;
      out.schema_refused = true;
      out.schema_refused_events.push_back(at);
    }
  }
  return out;
}

}  // namespace sfkb::pubsub
