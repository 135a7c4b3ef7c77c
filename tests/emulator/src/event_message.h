#pragma once

#include <string>

#include "event_types.h"
#include "json_util.h"

namespace sfkb::emulator {

// The CometD message of one platform event up to `"replayId":`, the part the event bus completes
// (see EventBus::append). Shape, as Salesforce sends it:
//   {"channel":…,"data":{"schema":…,"payload":{"CreatedDate":…,"CreatedById":…,<fields>},
//    "event":{"EventUuid":…,"replayId":N}}}
// `fields_inner` is a JSON object's members without the braces (may be empty); `created` is
// prepended only when `add_created` is set (an injected payload may carry its own).
inline void append_event_prefix(std::string& out, const std::string& channel_quoted,
                                const std::string& schema_quoted, bool add_created,
                                const std::string& created_date, const std::string& created_by,
                                const std::string& fields_inner, const std::string& uuid) {
  out += "{\"channel\":";
  out += channel_quoted;
  out += ",\"data\":{\"schema\":";
  out += schema_quoted;
  out += ",\"payload\":{";
  bool any = false;
  if (add_created) {
    out += "\"CreatedDate\":\"";
    out += created_date;
    out += "\",\"CreatedById\":\"";
    out += created_by;
    out += '"';
    any = true;
  }
  if (!fields_inner.empty()) {
    if (any) {
      out += ',';
    }
    out += fields_inner;
  }
  out += "},\"event\":{\"EventUuid\":\"";
  out += uuid;
  out += "\",\"replayId\":";
}

// The members of a JSON object without its braces, leaving out `attributes` (REST metadata that
// is not an event field).
inline std::string fields_inner(const rapidjson::Value& record) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  for (auto it = record.MemberBegin(); it != record.MemberEnd(); ++it) {
    if (std::string(it->name.GetString()) == "attributes") {
      continue;
    }
    w.Key(it->name.GetString(), it->name.GetStringLength());
    it->value.Accept(w);
  }
  w.EndObject();
  std::string s(sb.GetString(), sb.GetSize());
  return s.substr(1, s.size() - 2);
}

// `inner` (a JSON object's members without braces) with `"F":null` added for every field of
// `type` it does not name: Salesforce's CometD sends a platform event's unset fields as null
// (docs/SALESFORCE_PROTOCOL.md rule 3 of "How an Avro event becomes the JSON of CometD"); the
// emulator does so with --cometd-null-fields.
inline std::string with_null_fields(const EventType& type, const std::string& inner) {
  rapidjson::Document doc;
  std::string text = "{" + inner + "}";
  doc.Parse(text.c_str(), text.size());
  std::string out = inner;
  for (const auto& [name, field_type] : type.fields) {
    if (doc.IsObject() && doc.HasMember(name.c_str())) {
      continue;
    }
    if (!out.empty()) {
      out += ',';
    }
    out += json_quoted(name);
    out += ":null";
  }
  return out;
}

constexpr const char* kCreatedById = "005xx000001SvQrAAK";  // the integration user

}  // namespace sfkb::emulator
