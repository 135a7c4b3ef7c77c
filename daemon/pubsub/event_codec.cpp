#include "daemon/pubsub/event_codec.h"

#include <algorithm>
#include <iterator>
#include <optional>
#include <utility>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "daemon/avro/binary.h"
#include "daemon/avro/dates.h"
#include "daemon/avro/json.h"

namespace sfkb::pubsub {
namespace {

using avro::NodeId;
using avro::Schema;
using avro::Type;

constexpr const char* kHeaderField = "ChangeEventHeader";
constexpr const char* kBitmapFields[] = {"changedFields", "nulledFields", "diffFields"};

core::Error invalid(std::string message) {
  return {core::ErrorKind::kInvalidInput, std::move(message)};
}

// The record type of a compound field: the field's type, or the record branch of its union
// (["null", {record}], or a switchable name's ["null", "string", {record}]).
std::optional<NodeId> record_of(const Schema& schema, NodeId id) {
  const avro::Node& node = schema.node(id);
  if (node.type == Type::kRecord) {
    return id;
  }
  if (node.type == Type::kUnion) {
    for (const NodeId branch : node.branches) {
      if (schema.node(branch).type == Type::kRecord) {
        return branch;
      }
    }
  }
  return std::nullopt;
}

// The set bits of a "0x…" hex number, lowest first, as positions among `count` fields.
core::Result<std::vector<std::size_t>> set_bits(std::string_view text, std::size_t count,
                                                const std::string& what) {
  if (text.size() < 3 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) {
    return invalid(what + ": \"" + std::string(text.substr(0, 40)) +
                   "\" is not a bitmap (0x followed by hex digits)");
  }
  std::vector<std::size_t> bits;
  const std::string_view hex = text.substr(2);
  // The last digit holds bits 0-3 of the number.
  for (std::size_t i = 0; i < hex.size(); ++i) {
    const char c = hex[hex.size() - 1 - i];
    int digit = 0;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return invalid(what + ": \"" + std::string(text.substr(0, 40)) +
                     "\" is not a bitmap (0x followed by hex digits)");
    }
    for (int bit = 0; bit < 4; ++bit) {
      if ((digit >> bit) & 1) {
        const std::size_t position = i * 4 + static_cast<std::size_t>(bit);
        if (position >= count) {
          return invalid(what + ": bit " + std::to_string(position) +
                         " is set, but the schema has " + std::to_string(count) + " fields there");
        }
        bits.push_back(position);
      }
    }
  }
  return bits;
}

std::string text_of(const avro::Scalar& value) {
  return value.type == Type::kString || value.type == Type::kEnum ? std::string(value.text)
                                                                  : std::string();
}

std::optional<std::int64_t> integer_of(const avro::Scalar& value) {
  if (value.type == Type::kInt || value.type == Type::kLong) {
    return value.integer;
  }
  return std::nullopt;
}

// A platform event: CreatedDate as CometD writes it, from a string or a DateTime's number.
class PlatformTap final : public avro::JsonTap {
 public:
  PlatformTap(std::optional<std::size_t> created, std::string& created_date)
      : created_(created), created_date_(created_date) {}

  core::Status root_field(std::size_t field, const avro::Scalar& value) override {
    if (field != created_) {
      return {};
    }
    if (value.type == Type::kString) {
      created_date_ = value.text;
    } else if (value.type == Type::kLong || value.type == Type::kInt) {
      char text[avro::kTemporalTextSize];
      created_date_.assign(text, avro::format_date_time(value.integer, text));
    }
    return {};
  }
  bool watch(std::size_t) override { return false; }
  core::Status watched_field(std::size_t, const avro::Scalar&, std::string&, std::size_t) override {
    return {};
  }

 private:
  std::optional<std::size_t> created_;
  std::string& created_date_;
};

// A change event: reads the header the mapping acts on (the same fields and checks as the CometD
// decoder's) as the walk passes it, and rewrites its bitmap fields in the JSON as the names they
// stand for.
class ChangeTap final : public avro::JsonTap {
 public:
  ChangeTap(const Schema& schema, std::size_t header_field, NodeId header_record,
            salesforce::ChangeEventHeader& out)
      : schema_(schema),
        header_field_(header_field),
        header_(schema.node(header_record)),
        out_(out) {}

  core::Status root_field(std::size_t field, const avro::Scalar& value) override {
    if (field == header_field_ && value.type != Type::kRecord) {
      return invalid("ChangeEventHeader is not a record");
    }
    return {};
  }

  bool watch(std::size_t field) override { return field == header_field_; }

  core::Status watched_field(std::size_t field, const avro::Scalar& value, std::string& json,
                             std::size_t value_start) override {
    const std::string& name = header_.fields[field].name;
    if (name == "entityName") {
      out_.entity_name = text_of(value);
    } else if (name == "changeType") {
      out_.change_type = text_of(value);
    } else if (name == "changeOrigin") {
      out_.change_origin = text_of(value);
    } else if (name == "transactionKey") {
      out_.transaction_key = text_of(value);
    } else if (name == "commitUser") {
      out_.commit_user = text_of(value);
    } else if (name == "sequenceNumber") {
      out_.sequence_number = integer_of(value);
    } else if (name == "commitNumber") {
      out_.commit_number = integer_of(value);
    } else if (name == "commitTimestamp") {
      out_.commit_timestamp = integer_of(value);
    } else if (name == "recordIds") {
      if (value.type != Type::kArray) {
        return invalid("ChangeEventHeader.recordIds is not an array");
      }
      if (!value.only_strings) {
        return invalid("ChangeEventHeader.recordIds holds a value that is not a string");
      }
      out_.record_ids.assign(value.strings.begin(), value.strings.end());
    } else if (std::find(std::begin(kBitmapFields), std::end(kBitmapFields), name) !=
                   std::end(kBitmapFields) &&
               value.type == Type::kArray) {  // null (or another shape): written as it is
      if (!value.only_strings) {
        return invalid("ChangeEventHeader." + name + " holds a value that is not a string");
      }
      auto names = bitmap_field_names(
          schema_, std::vector<std::string>(value.strings.begin(), value.strings.end()));
      if (!names) {
        return invalid("ChangeEventHeader." + name + ": " + names.error().message);
      }
      json.resize(value_start);
      json.push_back('[');
      for (std::size_t i = 0; i < names->size(); ++i) {
        if (i > 0) {
          json.push_back(',');
        }
        avro::append_json_string(json, (*names)[i]);
      }
      json.push_back(']');
    }
    return {};
  }

  // After the walk: what the header must have held.
  core::Status check() const {
    if (out_.entity_name.empty()) {
      return invalid("ChangeEventHeader.entityName is missing or not a string");
    }
    if (out_.change_type.empty()) {
      return invalid("ChangeEventHeader.changeType is missing or not a string");
    }
    return {};
  }

 private:
  const Schema& schema_;
  std::size_t header_field_;
  const avro::Node& header_;
  salesforce::ChangeEventHeader& out_;
};

// {"schema":…,"payload":…,"event":{["EventUuid":…,]"replayId":"<base64>"}}: the CometD data
// object, with the opaque position's text form as replayId. Written as rapidjson's Writer writes it
// (compact, its escapes), by hand: one allocation, no writer stack per event.
std::string envelope(const salesforce::StreamEvent& event) {
  const std::string replay_id = event.replay_id.text();
  std::string text;
  text.reserve(event.payload_json.size() + event.schema.size() + event.event_uuid.size() +
               replay_id.size() + 64);
  text.append(R"({"schema":)");
  avro::append_json_string(text, event.schema);
  text.append(R"(,"payload":)");
  text.append(event.payload_json);
  text.append(R"(,"event":{)");
  if (event.kind == salesforce::EventKind::kPlatformEvent && !event.event_uuid.empty()) {
    text.append(R"("EventUuid":)");
    avro::append_json_string(text, event.event_uuid);
    text.push_back(',');
  }
  text.append(R"("replayId":)");
  avro::append_json_string(text, replay_id);
  text.append("}}");
  return text;
}

}  // namespace

core::Result<std::vector<std::string>> bitmap_field_names(const avro::Schema& schema,
                                                          const std::vector<std::string>& bitmap) {
  const avro::Node& root = schema.node(schema.root());
  std::vector<std::string> names;
  for (std::size_t e = 0; e < bitmap.size(); ++e) {
    const std::string& element = bitmap[e];
    if (element.starts_with("0x") || element.starts_with("0X")) {
      auto bits = set_bits(element, root.fields.size(), "element " + std::to_string(e));
      if (!bits) {
        return bits.error();
      }
      for (const std::size_t position : *bits) {
        names.push_back(root.fields[position].name);
      }
      continue;
    }
    // "<parent position>-0x<nested bitmap>"
    const auto dash = element.find('-');
    std::size_t parent = 0;
    bool digits = dash != std::string::npos && dash > 0 && dash <= 6;
    for (std::size_t i = 0; digits && i < dash; ++i) {
      digits = element[i] >= '0' && element[i] <= '9';
      parent = parent * 10 + static_cast<std::size_t>(element[i] - '0');
    }
    if (!digits) {
      return invalid("element " + std::to_string(e) + ": \"" + element.substr(0, 40) +
                     "\" is neither 0x<bitmap> nor <position>-0x<bitmap>");
    }
    if (parent >= root.fields.size()) {
      return invalid("element " + std::to_string(e) + ": position " + std::to_string(parent) +
                     " is beyond the schema's " + std::to_string(root.fields.size()) + " fields");
    }
    const avro::Field& compound = root.fields[parent];
    const auto nested = record_of(schema, compound.type);
    if (!nested) {
      return invalid("element " + std::to_string(e) + ": field " + compound.name + " at position " +
                     std::to_string(parent) + " is not a compound field");
    }
    const avro::Node& record = schema.node(*nested);
    auto bits = set_bits(std::string_view(element).substr(dash + 1), record.fields.size(),
                         "element " + std::to_string(e) + " (" + compound.name + ")");
    if (!bits) {
      return bits.error();
    }
    if (!bits->empty() && bits->size() == record.fields.size()) {
      names.push_back(compound.name);  // every part: the compound's own name stands for them
      continue;
    }
    for (const std::size_t position : *bits) {
      names.push_back(compound.name + "." + record.fields[position].name);
    }
  }
  return names;
}

core::Result<salesforce::StreamEvent> decode_event(const std::string& topic,
                                                   const avro::Schema& schema,
                                                   const ReceivedEvent& event) {
  return decode_event(topic, schema, event.id, event.schema_id, event.payload, event.replay_id);
}

core::Result<salesforce::StreamEvent> decode_event(const std::string& topic,
                                                   const avro::Schema& schema, std::string_view id,
                                                   std::string_view schema_id,
                                                   std::string_view payload,
                                                   std::string_view replay_id) {
  if (replay_id.empty()) {
    return invalid("the event has no replay ID");
  }
  const avro::Node& root = schema.node(schema.root());
  if (root.type != Type::kRecord) {
    return invalid(std::string("the schema's root is a ") + avro::to_string(root.type) +
                   ", not a record");
  }
  salesforce::StreamEvent out;
  out.channel = topic;
  out.replay_id = core::ReplayId::opaque(std::string(replay_id));
  out.schema = schema_id;
  // The JSON is longer than the binary (field names, quotes, dates as text): one allocation for
  // most events, without holding much unused capacity while the event waits in the queue.
  out.payload_json.reserve(payload.size() * 2 + 64);

  const auto header_index = schema.field_index(kHeaderField);
  const auto header_record =
      header_index ? record_of(schema, root.fields[*header_index].type) : std::nullopt;
  if (header_record) {
    out.kind = salesforce::EventKind::kChangeEvent;
    salesforce::ChangeEventHeader header;
    ChangeTap tap(schema, *header_index, *header_record, header);
    if (auto status =
            avro::transcode_to_json(schema, payload, {.omit_nulls = true}, out.payload_json, &tap);
        !status) {
      return status.error();
    }
    if (auto status = tap.check(); !status) {
      return status.error();
    }
    out.change = std::move(header);
  } else {
    out.kind = salesforce::EventKind::kPlatformEvent;
    out.event_uuid = id;
    PlatformTap tap(schema.field_index("CreatedDate"), out.created_date);
    if (auto status =
            avro::transcode_to_json(schema, payload, {.omit_nulls = false}, out.payload_json, &tap);
        !status) {
      return status.error();
    }
  }
  out.envelope_json = envelope(out);
  return out;
}

core::Result<std::string> encode_record(const avro::Schema& schema, std::string_view record_json,
                                        const PublishDefaults& defaults) {
  rapidjson::Document doc;
  doc.Parse<avro::kRecordParseFlags>(record_json.data(), record_json.size());
  if (doc.HasParseError()) {
    return invalid(std::string("the record is not valid JSON (") +
                   rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
                   std::to_string(doc.GetErrorOffset()) + ")");
  }
  if (!doc.IsObject()) {
    return invalid("the record is not a JSON object");
  }
  doc.RemoveMember("attributes");
  auto& allocator = doc.GetAllocator();
  if (schema.field_index("CreatedDate") && !doc.HasMember("CreatedDate")) {
    doc.AddMember("CreatedDate", rapidjson::Value(defaults.now_ms), allocator);
  }
  if (schema.field_index("CreatedById") && !doc.HasMember("CreatedById")) {
    doc.AddMember("CreatedById", rapidjson::Value(defaults.user_id.c_str(), allocator), allocator);
  }
  auto value = avro::from_json(schema, doc);
  if (!value) {
    return value.error();
  }
  return avro::encode(schema, *value);
}

}  // namespace sfkb::pubsub
