#include "daemon/salesforce/rest_result.h"

#include <array>

#include <rapidjson/document.h>

namespace sfkb::salesforce {
namespace {

// Codes documented (or seen in other clients' trackers) as "try again later".
constexpr std::array<std::string_view, 8> kTransientCodes = {
    "PLATFORM_EVENT_PUBLISHING_UNAVAILABLE",  // publishing service briefly unavailable
    "UNABLE_TO_LOCK_ROW",
    "SERVER_UNAVAILABLE",
    "REQUEST_LIMIT_EXCEEDED",  // API request allocation used up (usually a 403)
    "REQUEST_RUNNING_TOO_LONG",
    "LIMIT_EXCEEDED",  // e.g. hourly platform event publishing allocation
    "TXN_SECURITY_METERING_ERROR",
    "QUERY_TIMEOUT",
};

std::string_view string_member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) {
    return {};
  }
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) {
    return {};
  }
  return {it->value.GetString(), it->value.GetStringLength()};
}

// A Salesforce error array: [{"message":"...","errorCode":"..."}, ...]. Returns false if `doc`
// is not one (then code/message stay empty).
bool read_error_array(const rapidjson::Value& doc, std::string& code, std::string& message) {
  if (!doc.IsArray() || doc.Empty() || !doc[0].IsObject()) {
    return false;
  }
  code = string_member(doc[0], "errorCode");
  message = string_member(doc[0], "message");
  return !code.empty();
}

CompositeReply malformed(long status, std::string_view body, std::string why) {
  CompositeReply reply;
  reply.kind = ReplyKind::kTransient;
  reply.status = status;
  reply.malformed = true;
  reply.error_code = "MALFORMED_REPLY";
  reply.error_message = std::move(why);
  reply.snippet = body_snippet(body);
  return reply;
}

ReplyKind classify_whole_request(long status, std::string_view code) {
  if (code == "INVALID_SESSION_ID" || status == 401) {
    return ReplyKind::kReauth;
  }
  if (is_transient_error_code(code) || status >= 500 || status == 408 || status == 429) {
    return ReplyKind::kTransient;
  }
  if (status == 400 || status == 404 || status == 413 || status == 414 || status == 422 ||
      code == "JSON_PARSER_ERROR" || code == "INVALID_FIELD" || code == "INVALID_TYPE") {
    return ReplyKind::kRejected;
  }
  return ReplyKind::kFatal;
}

RecordResult decode_record(const rapidjson::Value& item, bool& ok) {
  RecordResult result;
  ok = false;
  if (!item.IsObject()) {
    return result;
  }
  auto success = item.FindMember("success");
  if (success == item.MemberEnd() || !success->value.IsBool()) {
    return result;
  }
  ok = true;
  if (success->value.GetBool()) {
    result.outcome = RecordOutcome::kPublished;
    result.id = string_member(item, "id");
    return result;
  }
  result.outcome = RecordOutcome::kPermanent;
  auto errors = item.FindMember("errors");
  if (errors != item.MemberEnd() && errors->value.IsArray() && !errors->value.Empty()) {
    const auto& first = errors->value[0];
    result.error_code = string_member(first, "statusCode");
    if (result.error_code.empty()) {
      result.error_code = string_member(first, "errorCode");
    }
    result.error_message = string_member(first, "message");
  }
  if (result.error_code.empty()) {
    result.error_code = "UNKNOWN_ERROR";
  }
  if (is_transient_error_code(result.error_code)) {
    result.outcome = RecordOutcome::kTransient;
  }
  return result;
}

}  // namespace

const char* to_string(ReplyKind kind) {
  switch (kind) {
    case ReplyKind::kPerRecord:
      return "per_record";
    case ReplyKind::kTransient:
      return "transient";
    case ReplyKind::kReauth:
      return "reauth";
    case ReplyKind::kRejected:
      return "rejected";
    case ReplyKind::kFatal:
      return "fatal";
  }
  return "unknown";
}

bool is_transient_error_code(std::string_view code) {
  for (auto transient : kTransientCodes) {
    if (code == transient) {
      return true;
    }
  }
  return false;
}

std::string body_snippet(std::string_view body, std::size_t max_bytes) {
  std::size_t n = std::min(body.size(), max_bytes);
  // Do not cut a UTF-8 sequence in half: back up over continuation bytes.
  if (n < body.size()) {
    while (n > 0 && (static_cast<unsigned char>(body[n]) & 0xC0) == 0x80) {
      --n;
    }
  }
  std::string out;
  out.reserve(n + 3);
  for (std::size_t i = 0; i < n; ++i) {
    char c = body[i];
    out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c);
  }
  if (n < body.size()) {
    out += "...";
  }
  return out;
}

CompositeReply decode_composite_reply(long status, std::string_view body,
                                      std::size_t expected_records) {
  rapidjson::Document doc;
  // Iterative: a hostile or broken reply of deeply nested brackets must not exhaust the stack.
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  const bool json = !doc.HasParseError();

  if (status < 200 || status >= 300) {
    CompositeReply reply;
    reply.status = status;
    const bool salesforce_error =
        json && read_error_array(doc, reply.error_code, reply.error_message);
    if (!salesforce_error) {
      // An HTML error page from a proxy, an empty 503, ...: classify by status alone.
      reply.error_code = "HTTP_" + std::to_string(status);
      reply.error_message = body_snippet(body);
    }
    reply.kind = classify_whole_request(status, reply.error_code);
    if (reply.kind == ReplyKind::kRejected && !salesforce_error && status != 413) {
      // Salesforce explains every rejection with its error array. A bare 400/404 comes from
      // something in between (a proxy, a broken keep-alive connection): dead-lettering records on
      // it would drop good data, so it is retried like a malformed reply.
      reply.kind = ReplyKind::kTransient;
      reply.malformed = true;
      reply.snippet = body_snippet(body);
    }
    return reply;
  }

  if (!json) {
    return malformed(status, body, "the reply is not JSON");
  }
  if (!doc.IsArray()) {
    return malformed(status, body, "the reply is not a JSON array");
  }
  // A 2xx carrying an error array instead of results (seen behind some proxies and gateways).
  if (!doc.Empty() && doc[0].IsObject() && !doc[0].HasMember("success") &&
      doc[0].HasMember("errorCode")) {
    CompositeReply reply;
    reply.status = status;
    read_error_array(doc, reply.error_code, reply.error_message);
    reply.kind = classify_whole_request(status, reply.error_code);
    if (reply.kind == ReplyKind::kRejected || reply.kind == ReplyKind::kFatal) {
      // A success status with an error body is contradictory: do not drop records on it.
      reply.kind = ReplyKind::kTransient;
      reply.malformed = true;
      reply.snippet = body_snippet(body);
    }
    return reply;
  }
  if (doc.Size() != expected_records) {
    return malformed(status, body,
                     "the reply has " + std::to_string(doc.Size()) + " results for " +
                         std::to_string(expected_records) + " records");
  }
  CompositeReply reply;
  reply.kind = ReplyKind::kPerRecord;
  reply.status = status;
  reply.records.reserve(expected_records);
  for (const auto& item : doc.GetArray()) {
    bool ok = false;
    reply.records.push_back(decode_record(item, ok));
    if (!ok) {
      return malformed(
          status, body,
          "result " + std::to_string(reply.records.size() - 1) + " has no boolean \"success\"");
    }
  }
  return reply;
}

}  // namespace sfkb::salesforce
