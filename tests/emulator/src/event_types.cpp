#include "event_types.h"

#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <yaml-cpp/yaml.h>

#include "ids.h"

namespace sfkb::emulator {
namespace {

std::optional<FieldType> parse_field_type(const std::string& s) {
  if (s == "string" || s == "text") {
    return FieldType::kString;
  }
  if (s == "number" || s == "double" || s == "integer") {
    return FieldType::kNumber;
  }
  if (s == "boolean" || s == "checkbox") {
    return FieldType::kBoolean;
  }
  if (s == "datetime") {
    return FieldType::kDatetime;
  }
  if (s == "date") {
    return FieldType::kDate;
  }
  return std::nullopt;
}

const char* type_label(FieldType t) {
  switch (t) {
    case FieldType::kString:
      return "string";
    case FieldType::kNumber:
      return "double";
    case FieldType::kBoolean:
      return "boolean";
    case FieldType::kDatetime:
      return "datetime";
    case FieldType::kDate:
      return "date";
  }
  return "?";
}

bool is_datetime(const std::string& s) {
  static const std::regex re(
      R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$)");
  return std::regex_match(s, re);
}

bool is_date(const std::string& s) {
  static const std::regex re(R"(^\d{4}-\d{2}-\d{2}$)");
  return std::regex_match(s, re);
}

std::string raw_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return sb.GetString();
}

bool value_fits(FieldType type, const rapidjson::Value& v) {
  if (v.IsNull()) {
    return true;  // Salesforce accepts null for every nillable custom field
  }
  switch (type) {
    case FieldType::kString:
      return v.IsString();
    case FieldType::kNumber:
      return v.IsNumber();
    case FieldType::kBoolean:
      return v.IsBool();
    case FieldType::kDatetime:
      return v.IsString() && is_datetime(v.GetString());
    case FieldType::kDate:
      return v.IsString() && is_date(v.GetString());
  }
  return false;
}

}  // namespace

const FieldType* EventType::field(const std::string& field_name) const {
  for (const auto& [name, type] : fields) {
    if (name == field_name) {
      return &type;
    }
  }
  return nullptr;
}

EventTypes EventTypes::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error(path + ": cannot open events file");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

EventTypes EventTypes::parse(const std::string& yaml_text, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(origin + ": " + e.what());
  }
  auto events = root["events"];
  if (!events || !events.IsMap()) {
    throw std::runtime_error(origin + ": expected a top-level map `events:` of event types");
  }
  EventTypes result;
  // `changes:` (optional): objects whose Change Data Capture events have a schema, so that the
  // Pub/Sub API can serve /data/<Object>ChangeEvent. The fields are the object's, typed as above.
  if (auto changes = root["changes"]) {
    if (!changes.IsMap()) {
      throw std::runtime_error(origin + ":" + std::to_string(changes.Mark().line + 1) +
                               ": `changes:` must map object names to their fields");
    }
    for (const auto& entry : changes) {
      EventType type;
      type.change = true;
      type.entity = entry.first.as<std::string>();
      const bool custom =
          type.entity.size() > 3 && type.entity.compare(type.entity.size() - 3, 3, "__c") == 0;
      type.name =
          (custom ? type.entity.substr(0, type.entity.size() - 1) : type.entity) + "ChangeEvent";
      std::string definition = "change|" + type.name;
      if (entry.second && entry.second.IsMap()) {
        for (const auto& f : entry.second) {
          auto name = f.first.as<std::string>();
          auto type_name = f.second.as<std::string>();
          auto parsed = parse_field_type(type_name);
          if (!parsed) {
            throw std::runtime_error(origin + ":" + std::to_string(f.second.Mark().line + 1) +
                                     ": field " + type.entity + "." + name + ": unknown type `" +
                                     type_name +
                                     "` (valid: string, number, boolean, datetime, date)");
          }
          type.fields.emplace_back(name, *parsed);
          definition += "|" + name + ":" + type_name;
        }
      } else if (entry.second && !entry.second.IsNull()) {
        throw std::runtime_error(origin + ":" + std::to_string(entry.first.Mark().line + 1) +
                                 ": object `" + type.entity + "` must map field names to types");
      }
      type.schema_id = schema_id_for(definition);
      std::string channel = type.channel();
      result.changes_.emplace(channel, std::move(type));
    }
  }
  for (const auto& entry : events) {
    EventType type;
    type.name = entry.first.as<std::string>();
    auto line = std::to_string(entry.first.Mark().line + 1);
    if (type.name.size() < 4 || type.name.substr(type.name.size() - 3) != "__e") {
      throw std::runtime_error(origin + ":" + line + ": event type `" + type.name +
                               "` must end in __e");
    }
    std::string definition = type.name;
    if (entry.second && entry.second.IsMap()) {
      for (const auto& f : entry.second) {
        auto name = f.first.as<std::string>();
        auto type_name = f.second.as<std::string>();
        auto parsed = parse_field_type(type_name);
        if (!parsed) {
          throw std::runtime_error(origin + ":" + std::to_string(f.second.Mark().line + 1) +
                                   ": field " + type.name + "." + name + ": unknown type `" +
                                   type_name +
                                   "` (valid: string, number, boolean, datetime, date)");
        }
        type.fields.emplace_back(name, *parsed);
        definition += "|" + name + ":" + type_name;
      }
    } else if (entry.second && !entry.second.IsNull()) {
      throw std::runtime_error(origin + ":" + line + ": event type `" + type.name +
                               "` must map field names to types");
    }
    type.schema_id = schema_id_for(definition);
    result.types_.emplace(type.name, std::move(type));
  }
  return result;
}

const EventType* EventTypes::find(const std::string& name) const {
  auto it = types_.find(name);
  return it == types_.end() ? nullptr : &it->second;
}

const EventType* EventTypes::find_change_by_channel(const std::string& channel) const {
  auto it = changes_.find(channel);
  return it == changes_.end() ? nullptr : &it->second;
}

const EventType* EventTypes::find_by_channel(const std::string& channel) const {
  static const std::string prefix = "/event/";
  if (channel.rfind(prefix, 0) != 0) {
    return nullptr;
  }
  return find(channel.substr(prefix.size()));
}

std::optional<RecordError> EventTypes::validate(const EventType& type,
                                                const rapidjson::Value& record) {
  if (!record.IsObject()) {
    return RecordError{
        "JSON_PARSER_ERROR", "Expected a JSON object for a record of " + type.name, {}};
  }
  for (auto it = record.MemberBegin(); it != record.MemberEnd(); ++it) {
    std::string name = it->name.GetString();
    if (name == "attributes") {
      continue;
    }
    const FieldType* ft = type.field(name);
    if (ft == nullptr) {
      return RecordError{
          "INVALID_FIELD", "No such column '" + name + "' on sobject of type " + type.name, {name}};
    }
    if (!value_fits(*ft, it->value)) {
      return RecordError{
          "INVALID_TYPE_ON_FIELD_IN_RECORD",
          name + ": value not of required type (" + type_label(*ft) + "): " + raw_json(it->value),
          {name}};
    }
  }
  return std::nullopt;
}

}  // namespace sfkb::emulator
