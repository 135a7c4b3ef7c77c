#include "event_shapes.h"

#include <array>
#include <string_view>

#include "event_message.h"
#include "json_util.h"

namespace sfkb::emulator {
namespace {

constexpr std::array<const char*, 4> kPushTopicTypes = {"created", "updated", "deleted",
                                                        "undeleted"};
constexpr std::array<const char*, 9> kChangeTypes = {"CREATE",     "UPDATE",       "DELETE",
                                                     "UNDELETE",   "GAP_CREATE",   "GAP_UPDATE",
                                                     "GAP_DELETE", "GAP_UNDELETE", "GAP_OVERFLOW"};
// What Salesforce puts into changeOrigin for a change made through the REST API.
constexpr const char* kChangeOrigin = "com/salesforce/api/rest/62.0;client=sf-emulator";

template <std::size_t N>
bool one_of(const std::string& value, const std::array<const char*, N>& allowed) {
  for (const char* a : allowed) {
    if (value == a) {
      return true;
    }
  }
  return false;
}

template <std::size_t N>
std::string listed(const std::array<const char*, N>& allowed) {
  std::string out;
  for (std::size_t i = 0; i < N; ++i) {
    out += i == 0 ? "" : i + 1 == N ? " or " : ", ";
    out += allowed[i];
  }
  return out;
}

// The object a change channel is about: /data/AccountChangeEvent -> Account,
// /data/Invoice__ChangeEvent -> Invoice__c; empty for /data/ChangeEvents and custom channels.
std::string entity_of_channel(const std::string& channel) {
  static constexpr std::string_view kPrefix = "/data/";
  static constexpr std::string_view kSuffix = "ChangeEvent";
  std::string_view name(channel);
  name.remove_prefix(kPrefix.size());
  if (name.size() <= kSuffix.size() || !name.ends_with(kSuffix)) {
    return {};
  }
  std::string entity(name.substr(0, name.size() - kSuffix.size()));
  return entity.ends_with("__") ? entity + "c" : entity;
}

// Key prefixes of a few standard objects, so generated IDs look like the object's.
std::string key_prefix_of(const std::string& entity) {
  static const std::array<std::pair<const char*, const char*>, 6> kPrefixes = {
      {{"Account", "001"},
       {"Contact", "003"},
       {"User", "005"},
       {"Opportunity", "006"},
       {"Lead", "00Q"},
       {"Case", "500"}}};
  for (const auto& [name, prefix] : kPrefixes) {
    if (entity == name) {
      return prefix;
    }
  }
  return "a00";
}

const rapidjson::Value* find(const rapidjson::Value& object, const char* key) {
  auto it = object.FindMember(key);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

}  // namespace

Template::Template(const std::string& text) {
  std::size_t pos = 0;
  std::string current;
  while (pos < text.size()) {
    if (text.compare(pos, 5, "{seq}") == 0) {
      literals_.push_back(std::move(current));
      current.clear();
      slots_.push_back(Slot::kSeq);
      pos += 5;
    } else if (text.compare(pos, 3, "{n}") == 0) {
      literals_.push_back(std::move(current));
      current.clear();
      slots_.push_back(Slot::kN);
      pos += 3;
    } else {
      current += text[pos++];
    }
  }
  literals_.push_back(std::move(current));
}

std::size_t Template::max_size() const {
  std::size_t size = slots_.size() * 20;  // a 64-bit number has at most 20 digits
  for (const auto& literal : literals_) {
    size += literal.size();
  }
  return size;
}

void Template::render(std::string& out, std::uint64_t seq, std::uint64_t n) const {
  out += literals_[0];
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    out += std::to_string(slots_[i] == Slot::kSeq ? seq : n);
    out += literals_[i + 1];
  }
}

ChannelKind channel_kind(const std::string& channel) {
  if (channel.starts_with("/topic/")) {
    return ChannelKind::kPushTopic;
  }
  if (channel.starts_with("/data/")) {
    return ChannelKind::kChangeEvent;
  }
  return ChannelKind::kPlatformEvent;
}

std::string record_id_for(const std::string& key_prefix, std::uint64_t n) {
  static constexpr char kAlnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  // 3-char key prefix + "xx" (the pod) + 10 base-62 digits + 3-char case-safe suffix.
  std::string digits(10, '0');
  ++n;
  for (int i = 9; i >= 0 && n > 0; --i) {
    digits[static_cast<std::size_t>(i)] = kAlnum[n % 62];
    n /= 62;
  }
  return key_prefix.substr(0, 3) + "xx" + digits + "AAA";
}

std::variant<InjectShape, std::string> InjectShape::parse(const rapidjson::Value& body,
                                                          const std::string& channel,
                                                          Context context) {
  const ChannelKind kind = channel_kind(channel);
  const rapidjson::Value* payload = find(body, "payload");
  const rapidjson::Value* sobject = find(body, "sobject");
  const rapidjson::Value* type = find(body, "type");
  const rapidjson::Value* change = find(body, "change");
  if (kind != ChannelKind::kPushTopic && (sobject != nullptr || type != nullptr)) {
    return std::string(
        "`sobject` and `type` describe a PushTopic event: only for /topic/ "
        "channels");
  }
  if (kind != ChannelKind::kChangeEvent && change != nullptr) {
    return std::string("`change` describes a change event's header: only for /data/ channels");
  }
  const rapidjson::Value empty(rapidjson::kObjectType);

  if (kind == ChannelKind::kPushTopic) {
    if (payload != nullptr) {
      return std::string(
          "a /topic/ event has no payload: give the record's fields as `sobject` and the "
          "change as `type`");
    }
    if (sobject != nullptr && !sobject->IsObject()) {
      return std::string("sobject: expected a JSON object of the record's fields");
    }
    std::string type_name = "created";
    if (type != nullptr) {
      if (!type->IsString() || !one_of(type->GetString(), kPushTopicTypes)) {
        return "type: expected " + listed(kPushTopicTypes);
      }
      type_name = type->GetString();
    }
    const rapidjson::Value& fields = sobject != nullptr ? *sobject : empty;
    InjectShape shape(kind, std::move(context), Template(fields_inner(fields)));
    shape.add_id_ = !fields.HasMember("Id");
    shape.type_quoted_ = json_quoted(type_name);
    shape.id_prefix_ = "a00";
    shape.channel_quoted_ = json_quoted(channel);
    return shape;
  }

  if (payload != nullptr && !payload->IsObject()) {
    return std::string("payload: expected a JSON object of event fields");
  }
  const rapidjson::Value& fields = payload != nullptr ? *payload : empty;

  if (kind == ChannelKind::kPlatformEvent) {
    InjectShape shape(kind, std::move(context), Template(fields_inner(fields)));
    shape.add_created_ = !fields.HasMember("CreatedDate") && !fields.HasMember("CreatedById");
    shape.channel_quoted_ = json_quoted(channel);
    return shape;
  }

  // A change event.
  if (fields.HasMember("ChangeEventHeader")) {
    return std::string("payload.ChangeEventHeader: give the header's fields as `change`");
  }
  if (change != nullptr && !change->IsObject()) {
    return std::string("change: expected a JSON object of ChangeEventHeader fields");
  }
  const rapidjson::Value& header = change != nullptr ? *change : empty;
  std::string entity = entity_of_channel(channel);
  if (const auto* given = find(header, "entityName")) {
    if (!given->IsString() || given->GetStringLength() == 0) {
      return std::string("change.entityName: expected the object's API name, e.g. Account");
    }
    entity = given->GetString();
  }
  if (entity.empty()) {
    return "change.entityName is required on " + channel +
           " (only /data/<Object>ChangeEvent names its object)";
  }
  std::string change_type = "CREATE";
  if (const auto* given = find(header, "changeType")) {
    if (!given->IsString() || !one_of(given->GetString(), kChangeTypes)) {
      return "change.changeType: expected " + listed(kChangeTypes);
    }
    change_type = given->GetString();
  }
  const bool gap = change_type.starts_with("GAP_");
  if (gap && fields.MemberCount() > 0) {
    return "a gap event (" + change_type + ") carries only the header: leave `payload` out";
  }
  const auto* record_ids = find(header, "recordIds");
  if (record_ids != nullptr) {
    bool strings = record_ids->IsArray();
    for (rapidjson::SizeType i = 0; strings && i < record_ids->Size(); ++i) {
      strings = (*record_ids)[i].IsString();
    }
    if (!strings) {
      return std::string("change.recordIds: expected an array of record IDs (strings)");
    }
  }

  // The header's members: entityName and changeType first, then what the call gave, then
  // Salesforce's other members with their usual values; recordIds, transactionKey and
  // commitNumber differ per event and are added per event when not given.
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("entityName");
  write_string(w, entity);
  w.Key("changeType");
  write_string(w, change_type);
  for (auto it = header.MemberBegin(); it != header.MemberEnd(); ++it) {
    const std::string_view name(it->name.GetString(), it->name.GetStringLength());
    if (name != "entityName" && name != "changeType") {
      w.Key(it->name.GetString(), it->name.GetStringLength());
      it->value.Accept(w);
    }
  }
  if (!header.HasMember("changeOrigin")) {
    w.Key("changeOrigin");
    w.String(kChangeOrigin);
  }
  if (!header.HasMember("sequenceNumber")) {
    w.Key("sequenceNumber");
    w.Int(1);
  }
  if (!header.HasMember("commitTimestamp")) {
    w.Key("commitTimestamp");
    w.Int64(context.now_ms);
  }
  if (!header.HasMember("commitUser")) {
    w.Key("commitUser");
    write_string(w, context.created_by);
  }
  for (const char* list : {"nulledFields", "diffFields", "changedFields"}) {
    if (header.HasMember(list)) {
      continue;
    }
    w.Key(list);
    w.StartArray();
    // An update names the fields it changed.
    if (std::string_view(list) == "changedFields" && change_type == "UPDATE") {
      for (auto it = fields.MemberBegin(); it != fields.MemberEnd(); ++it) {
        w.String(it->name.GetString(), it->name.GetStringLength());
      }
    }
    w.EndArray();
  }
  w.EndObject();
  std::string header_text(sb.GetString(), sb.GetSize());

  InjectShape shape(kind, std::move(context), Template(fields_inner(fields)));
  shape.header_ = Template(header_text.substr(1, header_text.size() - 2));
  shape.add_record_ids_ = record_ids == nullptr;
  shape.empty_record_ids_ = change_type == "GAP_OVERFLOW";
  shape.add_transaction_key_ = !header.HasMember("transactionKey");
  shape.add_commit_number_ = !header.HasMember("commitNumber");
  shape.id_prefix_ = key_prefix_of(entity);
  shape.channel_quoted_ = json_quoted(channel);
  return shape;
}

std::size_t InjectShape::size_hint() const {
  // The fixed keys, a date, a UUID, a record ID and the replay ID with its closing braces.
  return channel_quoted_.size() + schema_quoted_.size() + type_quoted_.size() + fields_.max_size() +
         header_.max_size() + 256;
}

void InjectShape::append_prefix(std::string& out, std::uint64_t seq, std::uint64_t n,
                                const std::string& uuid) const {
  out += "{\"channel\":";
  out += channel_quoted_;
  switch (kind_) {
    case ChannelKind::kPlatformEvent:
      out += ",\"data\":{\"schema\":";
      out += schema_quoted_;
      out += ",\"payload\":{";
      if (add_created_) {
        out += "\"CreatedDate\":\"";
        out += context_.created_date;
        out += "\",\"CreatedById\":\"";
        out += context_.created_by;
        out += '"';
        if (!fields_.empty()) {
          out += ',';
        }
      }
      fields_.render(out, seq, n);
      out += "},\"event\":{\"EventUuid\":\"";
      out += uuid;
      out += "\",\"replayId\":";
      return;
    case ChannelKind::kPushTopic:
      out += ",\"data\":{\"sobject\":{";
      if (add_id_) {
        out += "\"Id\":\"";
        out += record_id_for(id_prefix_, n);
        out += '"';
        if (!fields_.empty()) {
          out += ',';
        }
      }
      fields_.render(out, seq, n);
      out += "},\"event\":{\"createdDate\":\"";
      out += context_.created_date;
      out += "\",\"type\":";
      out += type_quoted_;
      out += ",\"replayId\":";
      return;
    case ChannelKind::kChangeEvent:
      out += ",\"data\":{\"schema\":";
      out += schema_quoted_;
      out += ",\"payload\":{\"ChangeEventHeader\":{";
      header_.render(out, seq, n);
      if (add_record_ids_) {
        out += ",\"recordIds\":[";
        if (!empty_record_ids_) {
          out += '"';
          out += record_id_for(id_prefix_, n);
          out += '"';
        }
        out += ']';
      }
      if (add_transaction_key_) {
        out += ",\"transactionKey\":\"";
        out += uuid;
        out += '"';
      }
      if (add_commit_number_) {
        out += ",\"commitNumber\":";
        out += std::to_string(n + 1);
      }
      out += '}';
      if (!fields_.empty()) {
        out += ',';
        fields_.render(out, seq, n);
      }
      out += "},\"event\":{\"replayId\":";
      return;
  }
}

}  // namespace sfkb::emulator
