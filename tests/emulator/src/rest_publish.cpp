#include "rest_publish.h"

#include <algorithm>
#include <thread>

#include "event_message.h"
#include "json_util.h"

namespace sfkb::emulator {
namespace {

constexpr const char* kJsonType = "application/json;charset=UTF-8";
constexpr std::size_t kMaxCompositeRecords = 200;
// Salesforce's status code for a publish past HourlyPublishedPlatformEvents is LIMIT_EXCEEDED;
// this message text is ours (unverified).
constexpr const char* kHourlyLimitMessage =
    "The number of published platform event messages exceeded the hourly publishing limit";

// REST errors are arrays of {message, errorCode[, fields]}.
void send_error(httplib::Response& res, int status, const std::string& code,
                const std::string& message, const std::vector<std::string>& fields = {}) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartArray();
  w.StartObject();
  w.Key("message");
  write_string(w, message);
  w.Key("errorCode");
  write_string(w, code);
  if (!fields.empty()) {
    w.Key("fields");
    w.StartArray();
    for (const auto& f : fields) {
      write_string(w, f);
    }
    w.EndArray();
  }
  w.EndObject();
  w.EndArray();
  res.status = status;
  res.set_content(sb.GetString(), kJsonType);
}

struct Accepted {
  const EventType* type;
  std::string fields_inner;
  std::string uuid;
  std::string record_id;
};

void write_success(JsonWriter& w, const Accepted& a) {
  w.StartObject();
  w.Key("id");
  write_string(w, a.record_id);
  w.Key("success");
  w.Bool(true);
  w.Key("errors");
  w.StartArray();
  w.StartObject();
  w.Key("statusCode");
  w.String("OPERATION_ENQUEUED");
  w.Key("message");
  write_string(w, a.uuid);
  w.Key("fields");
  w.StartArray();
  w.EndArray();
  w.EndObject();
  w.EndArray();
  w.EndObject();
}

void write_failure(JsonWriter& w, const RecordError& e) {
  w.StartObject();
  w.Key("success");
  w.Bool(false);
  w.Key("errors");
  w.StartArray();
  w.StartObject();
  w.Key("statusCode");
  write_string(w, e.status_code);
  w.Key("message");
  write_string(w, e.message);
  w.Key("fields");
  w.StartArray();
  for (const auto& f : e.fields) {
    write_string(w, f);
  }
  w.EndArray();
  w.EndObject();
  w.EndArray();
  w.EndObject();
}

// Appends accepted records to their channels and to the published log, in order.
void publish(Org& org, const std::vector<Accepted>& accepted) {
  if (accepted.empty()) {
    return;
  }
  std::string created = iso_now_ms();
  std::vector<std::pair<std::string, std::string>> prefixes;  // channel, prefix
  for (const auto& a : accepted) {
    std::string prefix;
    append_event_prefix(
        prefix, json_quoted(a.type->channel()), json_quoted(a.type->schema_id), true, created,
        kCreatedById,
        org.options.cometd_null_fields ? with_null_fields(*a.type, a.fields_inner) : a.fields_inner,
        a.uuid);
    prefixes.emplace_back(a.type->channel(), std::move(prefix));
  }
  {
    std::lock_guard lock(org.mutex);
    for (std::size_t i = 0; i < accepted.size(); ++i) {
      org.bus.append(prefixes[i].first, {prefixes[i].second});
      org.published[accepted[i].type->name].push_back("{" + accepted[i].fields_inner + "}");
    }
    org.stats.events_published += accepted.size();
  }
  org.changed.notify_all();
}

}  // namespace

bool RestPublishEndpoint::admit(const httplib::Request& req, httplib::Response& res) {
  std::string token = bearer_token(req.get_header_value("Authorization"));
  std::int64_t latency;
  bool valid;
  bool within_limit = true;
  {
    std::lock_guard lock(org_.mutex);
    valid = org_.token_valid(token);
    latency = org_.faults.latency_ms;
    if (valid) {
      within_limit = org_.allocations.take_api_request();
    }
  }
  if (latency > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(latency));
  }
  if (!valid) {
    send_error(res, 401, "INVALID_SESSION_ID", "Session expired or invalid");
    return false;
  }
  if (!within_limit) {
    send_error(res, 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.");
    return false;
  }
  return true;
}

void RestPublishEndpoint::handle_limits(const httplib::Request& req, httplib::Response& res) {
  if (!admit(req, res)) {
    return;
  }
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  {
    std::lock_guard lock(org_.mutex);
    org_.allocations.write(w, false);
  }
  res.status = 200;
  res.set_content(sb.GetString(), kJsonType);
}

void RestPublishEndpoint::handle_single(const httplib::Request& req, httplib::Response& res) {
  if (!admit(req, res)) {
    return;
  }
  std::string name = req.matches[2].str();
  const EventType* type = org_.types.find(name);
  if (type == nullptr) {
    send_error(res, 404, "NOT_FOUND", "The requested resource does not exist");
    return;
  }
  rapidjson::Document doc;
  doc.Parse(req.body.c_str(), req.body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    send_error(res, 400, "JSON_PARSER_ERROR",
               doc.HasParseError() ? "Unexpected character in the request body at offset " +
                                         std::to_string(doc.GetErrorOffset())
                                   : "The request body must be a JSON object");
    return;
  }
  if (auto error = EventTypes::validate(*type, doc)) {
    send_error(res, 400, error->status_code, error->message, error->fields);
    return;
  }
  std::int64_t granted;
  {
    std::lock_guard lock(org_.mutex);
    granted = org_.allocations.take_published(1);
  }
  if (granted == 0) {
    send_error(res, 400, "LIMIT_EXCEEDED", kHourlyLimitMessage);
    return;
  }
  Accepted a{type, fields_inner(doc), org_.ids.uuid_v4(), org_.ids.record_id()};
  publish(org_, {a});
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  write_success(w, a);
  res.status = 201;
  res.set_content(sb.GetString(), kJsonType);
}

void RestPublishEndpoint::handle_composite(const httplib::Request& req, httplib::Response& res) {
  if (!admit(req, res)) {
    return;
  }
  rapidjson::Document doc;
  doc.Parse(req.body.c_str(), req.body.size());
  if (doc.HasParseError()) {
    send_error(res, 400, "JSON_PARSER_ERROR",
               "Unexpected character in the request body at offset " +
                   std::to_string(doc.GetErrorOffset()));
    return;
  }
  if (!doc.IsObject() || !doc.HasMember("records") || !doc["records"].IsArray()) {
    send_error(res, 400, "JSON_PARSER_ERROR",
               "The request body must be an object with a `records` array");
    return;
  }
  const auto& records = doc["records"].GetArray();
  if (records.Size() > kMaxCompositeRecords) {
    send_error(res, 400, "EXCEEDED_ID_LIMIT",
               "record limit reached. cannot submit more than 200 records into this call");
    return;
  }
  bool all_or_none =
      doc.HasMember("allOrNone") && doc["allOrNone"].IsBool() && doc["allOrNone"].GetBool();

  std::vector<std::optional<Accepted>> ok(records.Size());
  std::vector<RecordError> errors(records.Size());
  bool any_failed = false;
  for (rapidjson::SizeType i = 0; i < records.Size(); ++i) {
    const auto& record = records[i];
    std::string type_name;
    if (record.IsObject() && record.HasMember("attributes")) {
      type_name = member_string(record["attributes"], "type");
    }
    const EventType* type = type_name.empty() ? nullptr : org_.types.find(type_name);
    if (!record.IsObject() || type_name.empty()) {
      errors[i] = {"INVALID_TYPE", "Must send a concrete entity type.", {}};
    } else if (type == nullptr) {
      errors[i] = {"NOT_FOUND", "sObject type '" + type_name + "' is not supported.", {}};
    } else if (auto error = EventTypes::validate(*type, record)) {
      errors[i] = *error;
    } else {
      ok[i] = Accepted{type, fields_inner(record), org_.ids.uuid_v4(), org_.ids.record_id()};
      continue;
    }
    any_failed = true;
  }
  // Records past the hourly allocation fail on their own (LIMIT_EXCEEDED), later ones too.
  std::int64_t valid =
      std::count_if(ok.begin(), ok.end(), [](const auto& a) { return a.has_value(); });
  std::int64_t granted;
  {
    std::lock_guard lock(org_.mutex);
    granted = org_.allocations.take_published(valid);
  }
  if (granted < valid) {
    std::int64_t seen = 0;
    for (std::size_t i = 0; i < ok.size(); ++i) {
      if (ok[i] && ++seen > granted) {
        ok[i].reset();
        errors[i] = {"LIMIT_EXCEEDED", kHourlyLimitMessage, {}};
        any_failed = true;
      }
    }
  }
  bool roll_back = all_or_none && any_failed;
  if (roll_back && granted > 0) {
    std::lock_guard lock(org_.mutex);
    org_.allocations.give_back_published(granted);
  }

  std::vector<Accepted> accepted;
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartArray();
  for (std::size_t i = 0; i < ok.size(); ++i) {
    if (ok[i] && !roll_back) {
      write_success(w, *ok[i]);
      accepted.push_back(*ok[i]);
    } else if (ok[i]) {
      write_failure(w, {"ALL_OR_NONE_OPERATION_ROLLED_BACK",
                        "Record rolled back because not all records were valid and the request "
                        "was using AllOrNone header",
                        {}});
    } else {
      write_failure(w, errors[i]);
    }
  }
  w.EndArray();
  publish(org_, accepted);
  res.status = 200;
  res.set_content(sb.GetString(), kJsonType);
}

}  // namespace sfkb::emulator
