#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <rapidjson/document.h>

namespace sfkb::emulator {

enum class FieldType { kString, kNumber, kBoolean, kDatetime, kDate };

struct EventType {
  std::string name;  // Flight_Approved__e, or AccountChangeEvent for a change event
  std::vector<std::pair<std::string, FieldType>> fields;
  std::string schema_id;
  // A Change Data Capture event of the object `entity` (the events file's `changes:`), on
  // /data/<entity>ChangeEvent (Invoice__c: /data/Invoice__ChangeEvent).
  bool change = false;
  std::string entity;

  std::string channel() const { return (change ? "/data/" : "/event/") + name; }
  const FieldType* field(const std::string& field_name) const;
};

// A per-record failure in the shape Salesforce puts into `errors[]`.
struct RecordError {
  std::string status_code;  // INVALID_FIELD, INVALID_TYPE_ON_FIELD_IN_RECORD, …
  std::string message;
  std::vector<std::string> fields;
};

class EventTypes {
 public:
  // Parses the events file (`events: {Name__e: {Field__c: string|number|boolean|datetime|date}}`).
  // Throws std::runtime_error naming the file, the line and the bad value.
  static EventTypes load_file(const std::string& path);
  static EventTypes parse(const std::string& yaml_text, const std::string& origin);

  const EventType* find(const std::string& name) const;
  const EventType* find_by_channel(const std::string& channel) const;
  const std::map<std::string, EventType>& all() const { return types_; }
  // The change events of `changes:` by channel name (/data/AccountChangeEvent); never found by
  // find() or find_by_channel(), which are the platform events REST can publish.
  const EventType* find_change_by_channel(const std::string& channel) const;
  const std::map<std::string, EventType>& changes() const { return changes_; }

  // Checks a record's fields against its type; `attributes` is ignored as Salesforce does.
  static std::optional<RecordError> validate(const EventType& type, const rapidjson::Value& record);

 private:
  std::map<std::string, EventType> types_;
  std::map<std::string, EventType> changes_;  // by channel
};

}  // namespace sfkb::emulator
