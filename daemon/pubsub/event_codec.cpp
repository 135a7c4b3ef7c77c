#include "daemon/pubsub/event_codec.h"

#include <optional>
#include <utility>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/writer.h>

#include "daemon/avro/binary.h"
#include "daemon/avro/dates.h"
#include "daemon/avro/json.h"
#include "daemon/avro/value.h"

namespace sfkb::pubsub {
namespace {

using avro::NodeId;
using avro::Schema;
using avro::Type;
using avro::Value;

constexpr const char* kHeaderField = "ChangeEventHeader";
constexpr const char* kBitmapFields[] = {"changedFields", "nulledFields", "diffFields"};

core::Error invalid(std::string message) {
  return {core::ErrorKind::kInvalidInput, std::move(message)};
}

const Value& resolved(const Schema& schema, const Value& value) {
  if (schema.node(value.node).type == Type::kUnion && value.children.size() == 1) {
    return value.children[0];
  }
  return value;
}
Value& resolved(const Schema& schema, Value& value) {
  if (schema.node(value.node).type == Type::kUnion && value.children.size() == 1) {
    return value.children[0];
  }
  return value;
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

std::string text_of(const Schema& schema, const Value& value) {
  const Value& v = resolved(schema, value);
  const Type type = schema.node(v.node).type;
  return type == Type::kString || type == Type::kEnum ? v.text : std::string();
}

std::optional<std::int64_t> integer_of(const Schema& schema, const Value& value) {
  const Value& v = resolved(schema, value);
  const Type type = schema.node(v.node).type;
  if (type == Type::kInt || type == Type::kLong) {
    return v.integer;
  }
  return std::nullopt;
}

// Reads the header the mapping acts on (the same fields and checks as the CometD decoder's) and
// replaces its bitmap fields by the names they stand for.
core::Status decode_header(const Schema& schema, Value& header_value,
                           salesforce::ChangeEventHeader& out) {
  Value& header = resolved(schema, header_value);
  const avro::Node& node = schema.node(header.node);
  if (node.type != Type::kRecord) {
    return invalid("ChangeEventHeader is not a record");
  }
  for (std::size_t i = 0; i < node.fields.size() && i < header.children.size(); ++i) {
    const std::string& name = node.fields[i].name;
    Value& child = header.children[i];
    if (name == "entityName") {
      out.entity_name = text_of(schema, child);
    } else if (name == "changeType") {
      out.change_type = text_of(schema, child);
    } else if (name == "changeOrigin") {
      out.change_origin = text_of(schema, child);
    } else if (name == "transactionKey") {
      out.transaction_key = text_of(schema, child);
    } else if (name == "commitUser") {
      out.commit_user = text_of(schema, child);
    } else if (name == "sequenceNumber") {
      out.sequence_number = integer_of(schema, child);
    } else if (name == "commitNumber") {
      out.commit_number = integer_of(schema, child);
    } else if (name == "commitTimestamp") {
      out.commit_timestamp = integer_of(schema, child);
    } else if (name == "recordIds") {
      const Value& ids = resolved(schema, child);
      if (schema.node(ids.node).type != Type::kArray) {
        return invalid("ChangeEventHeader.recordIds is not an array");
      }
      for (const Value& id : ids.children) {
        const Value& item = resolved(schema, id);
        if (schema.node(item.node).type != Type::kString) {
          return invalid("ChangeEventHeader.recordIds holds a value that is not a string");
        }
        out.record_ids.push_back(item.text);
      }
    } else {
      for (const char* bitmap_field : kBitmapFields) {
        if (name != bitmap_field) {
          continue;
        }
        Value& list = resolved(schema, child);
        if (schema.node(list.node).type != Type::kArray) {
          break;  // null (or another shape): nothing to expand, written as it is
        }
        std::vector<std::string> elements;
        for (const Value& element : list.children) {
          const Value& item = resolved(schema, element);
          if (schema.node(item.node).type != Type::kString) {
            return invalid("ChangeEventHeader." + name + " holds a value that is not a string");
          }
          elements.push_back(item.text);
        }
        auto names = bitmap_field_names(schema, elements);
        if (!names) {
          return invalid("ChangeEventHeader." + name + ": " + names.error().message);
        }
        // The array keeps its schema node; only its string items change.
        const NodeId item_node = schema.node(list.node).items;
        list.children.clear();
        for (auto& field_name : *names) {
          Value item;
          item.node = item_node;
          if (schema.node(item_node).type == Type::kUnion) {
            const auto branch = schema.branch_of(item_node, Type::kString);
            item.index = branch.value_or(0);
            item.children.resize(1);
            item.children[0].node = schema.node(item_node).branches[item.index];
            item.children[0].text = std::move(field_name);
          } else {
            item.text = std::move(field_name);
          }
          list.children.push_back(std::move(item));
        }
      }
    }
  }
  if (out.entity_name.empty()) {
    return invalid("ChangeEventHeader.entityName is missing or not a string");
  }
  if (out.change_type.empty()) {
    return invalid("ChangeEventHeader.changeType is missing or not a string");
  }
  return {};
}

// A rapidjson output stream into a std::string: the envelope is returned without a copy.
struct StringOutput {
  using Ch = char;
  std::string text;
  void Put(char c) { text.push_back(c); }
  void Flush() {}
};

void write_string(rapidjson::Writer<StringOutput>& writer, std::string_view text) {
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

// {"schema":…,"payload":…,"event":{["EventUuid":…,]"replayId":"<base64>"}}: the CometD data
// object, with the opaque position's text form as replayId.
std::string envelope(const salesforce::StreamEvent& event) {
  // One allocation: the payload plus the schema ID, UUID and replay ID and the keys around them.
  StringOutput buffer;
  buffer.text.reserve(event.payload_json.size() + event.schema.size() + event.event_uuid.size() +
                      160);
  rapidjson::Writer<StringOutput> writer(buffer);
  writer.StartObject();
  writer.Key("schema");
  write_string(writer, event.schema);
  writer.Key("payload");
  writer.RawValue(event.payload_json.data(), event.payload_json.size(), rapidjson::kObjectType);
  writer.Key("event");
  writer.StartObject();
  if (event.kind == salesforce::EventKind::kPlatformEvent && !event.event_uuid.empty()) {
    writer.Key("EventUuid");
    write_string(writer, event.event_uuid);
  }
  writer.Key("replayId");
  write_string(writer, event.replay_id.text());
  writer.EndObject();
  writer.EndObject();
  return std::move(buffer.text);
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
  auto value = avro::decode(schema, payload);
  if (!value) {
    return value.error();
  }
  salesforce::StreamEvent out;
  out.channel = topic;
  out.replay_id = core::ReplayId::opaque(std::string(replay_id));
  out.schema = schema_id;

  const auto header_index = schema.field_index(kHeaderField);
  if (header_index && record_of(schema, root.fields[*header_index].type)) {
    out.kind = salesforce::EventKind::kChangeEvent;
    salesforce::ChangeEventHeader header;
    if (auto status = decode_header(schema, value->children[*header_index], header); !status) {
      return status.error();
    }
    out.change = std::move(header);
    auto json = avro::to_json(schema, *value, {.omit_nulls = true});
    if (!json) {
      return json.error();
    }
    out.payload_json = std::move(*json);
  } else {
    out.kind = salesforce::EventKind::kPlatformEvent;
    out.event_uuid = id;
    if (const auto created = schema.field_index("CreatedDate")) {
      const Value& v = resolved(schema, value->children[*created]);
      const Type type = schema.node(v.node).type;
      if (type == Type::kString) {
        out.created_date = v.text;
      } else if (type == Type::kLong || type == Type::kInt) {
        out.created_date = avro::format_date_time(v.integer).value_or("");
      }
    }
    auto json = avro::to_json(schema, *value, {.omit_nulls = false});
    if (!json) {
      return json.error();
    }
    out.payload_json = std::move(*json);
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
