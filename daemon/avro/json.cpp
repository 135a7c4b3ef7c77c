#include "daemon/avro/json.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <vector>

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "daemon/avro/binary.h"
#include "daemon/avro/dates.h"
#include "daemon/avro/input.h"
#include "daemon/avro/utf8.h"

namespace sfkb::avro {
namespace {

// A rapidjson output stream into a std::string, so that the JSON text is returned without copying
// it out of a rapidjson::StringBuffer (one allocation and copy less per event decoded).
struct StringOutput {
  using Ch = char;
  std::string text;
  void Put(char c) { text.push_back(c); }
  void Flush() {}
};
using Writer = rapidjson::Writer<StringOutput>;

core::Error invalid(std::string message) {
  return {core::ErrorKind::kInvalidInput, std::move(message)};
}

// Where in the record a value sits, as a chain on the stack: the text ("Name.LastName",
// "recordIds[2]") is only built for an error message, not for every value of every event.
struct Path {
  const Path* parent = nullptr;
  std::string_view name;  // empty for the root and for an array index
  std::size_t index = 0;
  bool is_index = false;
};
Path child(const Path& parent, std::string_view name) {
  return {&parent, name, 0, false};
}
Path item(const Path& parent, std::size_t index) {
  return {&parent, {}, index, true};
}
std::string text_of(const Path& path) {
  if (path.parent == nullptr) {
    return {};
  }
  std::string out = text_of(*path.parent);
  if (path.is_index) {
    return out + "[" + std::to_string(path.index) + "]";
  }
  return out.empty() ? std::string(path.name) : out + "." + std::string(path.name);
}
std::string where(const Path& path) {
  const std::string text = text_of(path);
  return text.empty() ? "the record" : text;
}

void append_base64(std::string& out, std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out.reserve(out.size() + (bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto n = static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[i]) << 16 |
                                              static_cast<std::uint8_t>(bytes[i + 1]) << 8 |
                                              static_cast<std::uint8_t>(bytes[i + 2]));
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i < bytes.size()) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[i]) << 16);
    if (i + 1 < bytes.size()) {
      n |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[i + 1]) << 8);
    }
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
}

std::optional<std::string> unbase64(std::string_view text) {
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  auto digit = [](char c) -> int {
    if (c >= 'A' && c <= 'Z')
      return c - 'A';
    if (c >= 'a' && c <= 'z')
      return c - 'a' + 26;
    if (c >= '0' && c <= '9')
      return c - '0' + 52;
    if (c == '+')
      return 62;
    if (c == '/')
      return 63;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const int pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
    if (pad == 1 && text[i + 2] == '=') {
      return std::nullopt;
    }
    std::uint32_t n = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const int d = k >= 4 - static_cast<std::size_t>(pad) ? 0 : digit(text[i + k]);
      if (d < 0) {
        return std::nullopt;
      }
      n = n << 6 | static_cast<std::uint32_t>(d);
    }
    out += static_cast<char>(n >> 16);
    if (pad < 2)
      out += static_cast<char>((n >> 8) & 0xFF);
    if (pad < 1)
      out += static_cast<char>(n & 0xFF);
  }
  return out;
}

// ---- Avro -> JSON ----

// The shortest text that reads back as the same double: 12.5, 3, 1e+21. Negative zero keeps a
// fraction, as "-0" would read back as the integer 0. `real` must be finite; returns the length.
std::size_t format_real(Type type, double real, char (&text)[32]) {
  if (real == 0 && std::signbit(real)) {
    std::memcpy(text, "-0.0", 4);
    return 4;
  }
  const auto result = type == Type::kFloat
                          ? std::to_chars(text, text + sizeof text, static_cast<float>(real))
                          : std::to_chars(text, text + sizeof text, real);
  return static_cast<std::size_t>(result.ptr - text);
}

// A date's or time's text (digits, '-', ':', '.', 'T', 'Z': nothing JSON escapes); its length,
// 0 when it is out of range.
std::size_t format_temporal(Temporal temporal, std::int64_t value,
                            char (&text)[kTemporalTextSize]) {
  return temporal == Temporal::kDateTime ? format_date_time(value, text)
         : temporal == Temporal::kDate   ? format_date(value, text)
                                         : format_time(value, text);
}

core::Error outside_dates(const Path& path, std::int64_t value) {
  return invalid(where(path) + ": " + std::to_string(value) +
                 " is outside the dates and times a record can hold");
}

core::Error not_finite(const Path& path) {
  return invalid(where(path) + ": a number that is not finite has no JSON form");
}

class JsonWriter {
 public:
  JsonWriter(const Schema& schema, const JsonOptions& options)
      : schema_(schema), options_(options), writer_(buffer_) {
    buffer_.text.reserve(256);
  }

  core::Result<std::string> run(const Value& value) {
    if (auto status = write(value, Temporal::kNone, Path{}, 1); !status) {
      return status.error();
    }
    return std::move(buffer_.text);
  }

 private:
  // A union's chosen value (unions nest no deeper than one level).
  static const Value& resolved(const Schema& schema, const Value& value) {
    if (schema.node(value.node).type == Type::kUnion && value.children.size() == 1) {
      return value.children[0];
    }
    return value;
  }

  // Whether a record field is left out under omit_nulls.
  bool absent(const Value& value, int depth) const {
    if (depth > kMaxDepth) {
      return false;
    }
    const Value& v = resolved(schema_, value);
    const Node& node = schema_.node(v.node);
    if (node.type == Type::kNull) {
      return true;
    }
    if (node.type != Type::kRecord) {
      return false;
    }
    for (const Value& child : v.children) {
      if (!absent(child, depth + 1)) {
        return false;
      }
    }
    return true;
  }

  core::Status write(const Value& value, Temporal temporal, const Path& path, int depth) {
    if (depth > kMaxDepth) {
      return invalid(where(path) + ": nested deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    const Value& v = resolved(schema_, value);
    const Node& node = schema_.node(v.node);
    if (temporal == Temporal::kNone) {
      temporal = temporal_of("", node.logical_type);
    }
    switch (node.type) {
      case Type::kNull:
        writer_.Null();
        return {};
      case Type::kBoolean:
        writer_.Bool(v.boolean);
        return {};
      case Type::kInt:
      case Type::kLong: {
        if (temporal == Temporal::kNone) {
          writer_.Int64(v.integer);
          return {};
        }
        char text[kTemporalTextSize];
        const std::size_t length = format_temporal(temporal, v.integer, text);
        if (length == 0) {
          return outside_dates(path, v.integer);
        }
        writer_.String(text, static_cast<rapidjson::SizeType>(length));
        return {};
      }
      case Type::kFloat:
      case Type::kDouble: {
        if (!std::isfinite(v.real)) {
          return not_finite(path);
        }
        char text[32];
        writer_.RawValue(text, format_real(node.type, v.real, text), rapidjson::kNumberType);
        return {};
      }
      case Type::kString:
      case Type::kEnum:
        writer_.String(v.text.data(), static_cast<rapidjson::SizeType>(v.text.size()));
        return {};
      case Type::kBytes:
      case Type::kFixed: {
        std::string text;
        append_base64(text, v.text);
        writer_.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
        return {};
      }
      case Type::kRecord: {
        writer_.StartObject();
        for (std::size_t i = 0; i < node.fields.size() && i < v.children.size(); ++i) {
          const Field& field = node.fields[i];
          if (options_.omit_nulls && absent(v.children[i], depth)) {
            continue;
          }
          writer_.Key(field.name.data(), static_cast<rapidjson::SizeType>(field.name.size()));
          if (auto status = write(v.children[i], temporal_of(field.doc, ""),
                                  child(path, field.name), depth + 1);
              !status) {
            return status;
          }
        }
        writer_.EndObject();
        return {};
      }
      case Type::kArray: {
        writer_.StartArray();
        for (std::size_t i = 0; i < v.children.size(); ++i) {
          if (auto status = write(v.children[i], Temporal::kNone, item(path, i), depth + 1);
              !status) {
            return status;
          }
        }
        writer_.EndArray();
        return {};
      }
      case Type::kMap: {
        writer_.StartObject();
        for (std::size_t i = 0; i < v.children.size() && i < v.keys.size(); ++i) {
          writer_.Key(v.keys[i].data(), static_cast<rapidjson::SizeType>(v.keys[i].size()));
          if (auto status =
                  write(v.children[i], Temporal::kNone, child(path, v.keys[i]), depth + 1);
              !status) {
            return status;
          }
        }
        writer_.EndObject();
        return {};
      }
      case Type::kUnion:
        return invalid(where(path) + ": a union without its value");
    }
    return invalid(where(path) + ": unknown schema node");
  }

  const Schema& schema_;
  const JsonOptions& options_;
  StringOutput buffer_;
  Writer writer_;
};

// ---- Avro binary -> JSON, without the tree ----

// What a value's walk reports to its caller, for the tap (JsonTap): nothing (seen == nullptr), its
// scalar, and for a watched record's field, an array's string items too.
struct Watch {
  Scalar* seen = nullptr;
  bool collect = false;        // an array: gather its string items into seen->strings
  bool record_fields = false;  // a record: report its fields to the tap's watched_field()
};

// Writes what JsonWriter writes for decode()'s tree, in the same order, reading each value as
// Reader (binary.cpp) reads it: the same detail::Input calls in the same order, so the same
// inputs are refused. Under omit_nulls a record field is written, then taken back (the text cut to
// where it began) when it turns out absent: null, or a record none of whose fields was written.
class JsonStream {
 public:
  JsonStream(const Schema& schema, std::string_view bytes, const JsonOptions& options,
             std::string& out, JsonTap* tap)
      : schema_(schema), options_(options), in_(bytes), out_(out), tap_(tap) {}

  core::Status run() {
    bool absent = false;
    if (auto status = write(schema_.root(), Temporal::kNone, Path{}, 1, Watch{}, absent); !status) {
      return status;
    }
    return in_.finish();
  }

 private:
  core::Status write(NodeId id, Temporal temporal, const Path& path, int depth, const Watch& watch,
                     bool& absent) {
    if (auto status = in_.enter(depth); !status) {
      return status;
    }
    const Node& node = schema_.node(id);
    absent = false;
    if (node.type == Type::kUnion) {
      std::size_t branch = 0;
      if (auto status = in_.read_branch(node, branch); !status) {
        return status;
      }
      // JsonWriter writes the branch's value at the union's depth and path.
      return write(node.branches[branch], temporal, path, depth + 1, watch, absent);
    }
    if (watch.seen != nullptr) {
      watch.seen->type = node.type;
    }
    if (temporal == Temporal::kNone && !node.logical_type.empty()) {
      temporal = temporal_of("", node.logical_type);
    }
    switch (node.type) {
      case Type::kNull:
        absent = true;
        out_.append("null");
        return {};
      case Type::kBoolean: {
        bool value = false;
        if (auto status = in_.read_boolean(value); !status) {
          return status;
        }
        out_.append(value ? "true" : "false");
        return {};
      }
      case Type::kInt:
      case Type::kLong: {
        std::int64_t value = 0;
        if (auto status =
                node.type == Type::kInt ? in_.read_int(value) : in_.read_long(value, "a long");
            !status) {
          return status;
        }
        if (watch.seen != nullptr) {
          watch.seen->integer = value;
        }
        if (temporal == Temporal::kNone) {
          char text[24];
          const auto result = std::to_chars(text, text + sizeof text, value);
          out_.append(text, static_cast<std::size_t>(result.ptr - text));
          return {};
        }
        char text[kTemporalTextSize];
        const std::size_t length = format_temporal(temporal, value, text);
        if (length == 0) {
          return outside_dates(path, value);
        }
        out_.push_back('"');
        out_.append(text, length);
        out_.push_back('"');
        return {};
      }
      case Type::kFloat:
      case Type::kDouble: {
        double value = 0;
        if (auto status = in_.read_real(node.type, value); !status) {
          return status;
        }
        if (!std::isfinite(value)) {
          return not_finite(path);
        }
        char text[32];
        out_.append(text, format_real(node.type, value, text));
        return {};
      }
      case Type::kString:
      case Type::kBytes:
      case Type::kFixed: {
        std::string_view bytes;
        if (auto status = node.type == Type::kFixed ? in_.take(node.size, bytes, "a fixed")
                                                    : in_.read_text(node.type, bytes);
            !status) {
          return status;
        }
        if (node.type == Type::kString) {
          if (watch.seen != nullptr) {
            watch.seen->text = bytes;
          }
          append_json_string(out_, bytes);
          return {};
        }
        out_.push_back('"');
        append_base64(out_, bytes);
        out_.push_back('"');
        return {};
      }
      case Type::kEnum: {
        std::size_t index = 0;
        if (auto status = in_.read_enum(node, index); !status) {
          return status;
        }
        if (watch.seen != nullptr) {
          watch.seen->text = node.symbols[index];
        }
        append_json_string(out_, node.symbols[index]);
        return {};
      }
      case Type::kRecord:
        return write_record(node, path, depth, watch.record_fields, absent);
      case Type::kArray: {
        const bool collect = watch.seen != nullptr && watch.collect;
        if (collect) {
          strings_.clear();
        }
        bool only_strings = true;
        std::size_t count = 0;
        out_.push_back('[');
        auto status = in_.read_blocks(
            [&]() -> core::Status {
              if (count > 0) {
                out_.push_back(',');
              }
              Scalar item_seen;
              bool item_absent = false;
              const Watch item_watch{collect ? &item_seen : nullptr, false, false};
              if (auto status = write(node.items, Temporal::kNone, item(path, count), depth + 1,
                                      item_watch, item_absent);
                  !status) {
                return status;
              }
              ++count;
              if (collect) {
                if (item_seen.type == Type::kString) {
                  strings_.push_back(item_seen.text);
                } else {
                  only_strings = false;
                }
              }
              return {};
            },
            "an array block count");
        if (!status) {
          return status;
        }
        out_.push_back(']');
        if (collect) {
          watch.seen->strings = strings_;
          watch.seen->only_strings = only_strings;
        }
        return {};
      }
      case Type::kMap: {
        std::size_t count = 0;
        out_.push_back('{');
        auto status = in_.read_blocks(
            [&]() -> core::Status {
              std::string_view key;
              if (auto status = in_.read_map_key(key); !status) {
                return status;
              }
              if (count++ > 0) {
                out_.push_back(',');
              }
              append_json_string(out_, key);
              out_.push_back(':');
              bool value_absent = false;
              return write(node.items, Temporal::kNone, child(path, key), depth + 1, Watch{},
                           value_absent);
            },
            "a map block count");
        if (!status) {
          return status;
        }
        out_.push_back('}');
        return {};
      }
      case Type::kUnion:
        break;
    }
    return in_.at("unknown schema node");
  }

  core::Status write_record(const Node& node, const Path& path, int depth, bool watched,
                            bool& absent) {
    // The root record's fields go to the tap; so do a watched record's.
    const bool root = depth == 1 && tap_ != nullptr;
    out_.push_back('{');
    bool empty = true;
    for (std::size_t i = 0; i < node.fields.size(); ++i) {
      const Field& field = node.fields[i];
      const std::size_t start = out_.size();
      if (!empty) {
        out_.push_back(',');
      }
      append_json_string(out_, field.name);
      out_.push_back(':');
      const std::size_t value_start = out_.size();
      Scalar seen;
      Watch field_watch;
      if (root) {
        field_watch = {&seen, false, tap_->watch(i)};
      } else if (watched) {
        field_watch = {&seen, true, false};
      }
      bool field_absent = false;
      if (auto status = write(field.type, temporal_of(field.doc, ""), child(path, field.name),
                              depth + 1, field_watch, field_absent);
          !status) {
        return status;
      }
      if (root) {
        if (auto status = tap_->root_field(i, seen); !status) {
          return status;
        }
      } else if (watched) {
        if (auto status = tap_->watched_field(i, seen, out_, value_start); !status) {
          return status;
        }
      }
      if (options_.omit_nulls && field_absent) {
        out_.resize(start);
      } else {
        empty = false;
      }
    }
    out_.push_back('}');
    absent = empty;
    return {};
  }

  const Schema& schema_;
  const JsonOptions& options_;
  detail::Input in_;
  std::string& out_;
  JsonTap* tap_;
  std::vector<std::string_view> strings_;  // a watched array's string items
};

// ---- JSON -> Avro ----

const char* json_kind(const rapidjson::Value& json) {
  switch (json.GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return "a boolean";
    case rapidjson::kObjectType:
      return "an object";
    case rapidjson::kArrayType:
      return "an array";
    case rapidjson::kStringType:
      return "a string";
    case rapidjson::kNumberType:
      return "a number";
  }
  return "a value";
}

class JsonReader {
 public:
  explicit JsonReader(const Schema& schema) : schema_(schema) {}

  core::Result<Value> run(const rapidjson::Value& json) {
    Value out;
    if (auto status = read(json, schema_.root(), Temporal::kNone, Path{}, out, 1); !status) {
      return status.error();
    }
    return out;
  }

 private:
  // Whether `json` can be read as node `id` (used to pick a union branch; the read itself may
  // still fail on details, e.g. a date text that does not parse).
  bool fits(const rapidjson::Value& json, NodeId id, Temporal temporal) const {
    const Node& node = schema_.node(id);
    if (temporal == Temporal::kNone) {
      temporal = temporal_of("", node.logical_type);
    }
    switch (node.type) {
      case Type::kNull:
        return json.IsNull();
      case Type::kBoolean:
        return json.IsBool();
      case Type::kInt:
        return json.IsInt() || (json.IsString() && temporal != Temporal::kNone);
      case Type::kLong:
        return json.IsInt64() || (json.IsString() && temporal != Temporal::kNone);
      case Type::kFloat:
      case Type::kDouble:
        return json.IsNumber();
      case Type::kString:
        return json.IsString();
      case Type::kBytes:
      case Type::kFixed:
        return json.IsString();
      case Type::kEnum:
        if (!json.IsString()) {
          return false;
        }
        for (const auto& symbol : node.symbols) {
          if (symbol == std::string_view(json.GetString(), json.GetStringLength())) {
            return true;
          }
        }
        return false;
      case Type::kRecord:
      case Type::kMap:
        return json.IsObject();
      case Type::kArray:
        return json.IsArray();
      case Type::kUnion:
        return false;
    }
    return false;
  }

  core::Status mismatch(const rapidjson::Value& json, NodeId id, const Path& path) const {
    const Node& node = schema_.node(id);
    std::string expected = to_string(node.type);
    if (node.type == Type::kUnion) {
      expected.clear();
      for (std::size_t i = 0; i < node.branches.size(); ++i) {
        expected += (i == 0 ? "" : " or ");
        expected += to_string(schema_.node(node.branches[i]).type);
      }
    }
    return invalid(where(path) + ": " + json_kind(json) + " where the schema has " + expected);
  }

  core::Status read(const rapidjson::Value& json, NodeId id, Temporal temporal, const Path& path,
                    Value& out, int depth) {
    if (depth > kMaxDepth) {
      return invalid(where(path) + ": nested deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    const Node& node = schema_.node(id);
    out.node = id;
    if (temporal == Temporal::kNone) {
      temporal = temporal_of("", node.logical_type);
    }
    if (node.type == Type::kUnion) {
      for (std::size_t i = 0; i < node.branches.size(); ++i) {
        if (fits(json, node.branches[i], temporal)) {
          out.index = i;
          out.children.resize(1);
          return read(json, node.branches[i], temporal, path, out.children[0], depth + 1);
        }
      }
      return mismatch(json, id, path);
    }
    if (!fits(json, id, temporal)) {
      return mismatch(json, id, path);
    }
    switch (node.type) {
      case Type::kNull:
        return {};
      case Type::kBoolean:
        out.boolean = json.GetBool();
        return {};
      case Type::kInt:
      case Type::kLong: {
        if (json.IsString()) {
          const std::string_view text(json.GetString(), json.GetStringLength());
          const auto number = temporal == Temporal::kDateTime ? parse_date_time(text)
                              : temporal == Temporal::kDate   ? parse_date(text)
                                                              : parse_time(text);
          if (!number) {
            static const char* const kForms[] = {"", "2026-11-26T17:30:00.000Z", "2026-11-26",
                                                 "17:30:00.000Z"};
            return invalid(where(path) + ": \"" + std::string(text.substr(0, 40)) + "\" is not a " +
                           (temporal == Temporal::kDateTime ? "date-time"
                            : temporal == Temporal::kDate   ? "date"
                                                            : "time") +
                           " like " + kForms[static_cast<int>(temporal)]);
          }
          out.integer = *number;
        } else {
          out.integer = json.GetInt64();
        }
        if (node.type == Type::kInt && (out.integer < std::numeric_limits<std::int32_t>::min() ||
                                        out.integer > std::numeric_limits<std::int32_t>::max())) {
          return invalid(where(path) + ": " + std::to_string(out.integer) + " does not fit an int");
        }
        return {};
      }
      case Type::kFloat:
      case Type::kDouble:
        out.real = json.GetDouble();
        if (node.type == Type::kFloat && std::abs(out.real) > std::numeric_limits<float>::max()) {
          return invalid(where(path) + ": " + std::to_string(out.real) + " does not fit a float");
        }
        return {};
      case Type::kString:
        out.text.assign(json.GetString(), json.GetStringLength());
        return {};
      case Type::kBytes:
      case Type::kFixed: {
        auto bytes = unbase64(std::string_view(json.GetString(), json.GetStringLength()));
        if (!bytes) {
          return invalid(where(path) + ": bytes are written as base64, this is not");
        }
        if (node.type == Type::kFixed && bytes->size() != node.size) {
          return invalid(where(path) + ": fixed " + node.name + " needs " +
                         std::to_string(node.size) + " bytes");
        }
        out.text = std::move(*bytes);
        return {};
      }
      case Type::kEnum:
        for (std::size_t i = 0; i < node.symbols.size(); ++i) {
          if (node.symbols[i] == std::string_view(json.GetString(), json.GetStringLength())) {
            out.index = i;
            out.text = node.symbols[i];
          }
        }
        return {};
      case Type::kRecord:
        return read_record(json, id, path, out, depth);
      case Type::kArray: {
        out.children.resize(json.Size());
        for (rapidjson::SizeType i = 0; i < json.Size(); ++i) {
          if (auto status = read(json[i], node.items, Temporal::kNone, item(path, i),
                                 out.children[i], depth + 1);
              !status) {
            return status;
          }
        }
        return {};
      }
      case Type::kMap:
        for (const auto& member : json.GetObject()) {
          std::string key(member.name.GetString(), member.name.GetStringLength());
          out.children.emplace_back();
          if (auto status = read(member.value, node.items, Temporal::kNone, child(path, key),
                                 out.children.back(), depth + 1);
              !status) {
            return status;
          }
          out.keys.push_back(std::move(key));
        }
        return {};
      case Type::kUnion:
        break;
    }
    return mismatch(json, id, path);
  }

  core::Status read_record(const rapidjson::Value& json, NodeId id, const Path& path, Value& out,
                           int depth) {
    const Node& node = schema_.node(id);
    for (const auto& member : json.GetObject()) {
      const std::string_view name(member.name.GetString(), member.name.GetStringLength());
      bool known = false;
      for (const Field& field : node.fields) {
        known = known || field.name == name;
      }
      if (!known) {
        return invalid(where(child(path, name)) + ": no such field in the schema" +
                       (node.name.empty() ? "" : " of " + node.name));
      }
    }
    out.children.resize(node.fields.size());
    for (std::size_t i = 0; i < node.fields.size(); ++i) {
      const Field& field = node.fields[i];
      const Path field_path = child(path, field.name);
      const Temporal temporal = temporal_of(field.doc, "");
      const auto member = json.FindMember(field.name.c_str());
      if (member != json.MemberEnd()) {
        if (auto status =
                read(member->value, field.type, temporal, field_path, out.children[i], depth + 1);
            !status) {
          return status;
        }
        continue;
      }
      if (field.default_json) {
        rapidjson::Document def;
        def.Parse(field.default_json->data(), field.default_json->size());
        // Avro: a union's default is of its first branch.
        const Node& type = schema_.node(field.type);
        const NodeId default_type = type.type == Type::kUnion ? type.branches[0] : field.type;
        Value& slot = out.children[i];
        Value* target = &slot;
        if (type.type == Type::kUnion) {
          slot.node = field.type;
          slot.index = 0;
          slot.children.resize(1);
          target = &slot.children[0];
        }
        if (!def.HasParseError() &&
            read(def, default_type, temporal, field_path, *target, depth + 1).is_ok()) {
          continue;
        }
        return invalid(where(field_path) + ": the schema's default does not fit the field's type");
      }
      if (const auto null_branch = schema_.branch_of(field.type, Type::kNull)) {
        Value& slot = out.children[i];
        slot.node = field.type;
        if (schema_.node(field.type).type == Type::kUnion) {
          slot.index = *null_branch;
          slot.children.resize(1);
          slot.children[0].node = schema_.node(field.type).branches[*null_branch];
        }
        continue;
      }
      return invalid(where(field_path) +
                     ": missing, and the schema gives it no default and no null");
    }
    return {};
  }

  const Schema& schema_;
};

}  // namespace

core::Result<std::string> to_json(const Schema& schema, const Value& value,
                                  const JsonOptions& options) {
  return JsonWriter(schema, options).run(value);
}

core::Result<std::string> decode_to_json(const Schema& schema, std::string_view bytes,
                                         const JsonOptions& options) {
  auto value = decode(schema, bytes);
  if (!value) {
    return value.error();
  }
  return to_json(schema, *value, options);
}

core::Status transcode_to_json(const Schema& schema, std::string_view bytes,
                               const JsonOptions& options, std::string& json, JsonTap* tap) {
  return JsonStream(schema, bytes, options, json, tap).run();
}

void append_json_string(std::string& json, std::string_view text) {
  // rapidjson's Writer: control characters as \b \t \n \f \r or \u00XX, '"' and '\\' escaped,
  // everything else (UTF-8 included) as it is.
  static constexpr char kHex[] = "0123456789ABCDEF";
  static constexpr std::string_view kShortFrom = "\"\\\b\t\n\f\r";
  static constexpr std::string_view kShortTo = "\"\\btnfr";
  json.push_back('"');
  std::size_t run = 0;  // start of the bytes not yet appended
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') {
      continue;
    }
    json.append(text.data() + run, i - run);
    run = i + 1;
    json.push_back('\\');
    if (const auto short_form = kShortFrom.find(static_cast<char>(c));
        short_form != std::string_view::npos) {
      json.push_back(kShortTo[short_form]);
    } else {
      json.append("u00");
      json.push_back(kHex[c >> 4]);
      json.push_back(kHex[c & 0xF]);
    }
  }
  json.append(text.data() + run, text.size() - run);
  json.push_back('"');
}

core::Result<Value> from_json(const Schema& schema, const rapidjson::Value& json) {
  return JsonReader(schema).run(json);
}

core::Result<Value> from_json(const Schema& schema, std::string_view json) {
  rapidjson::Document doc;
  doc.Parse<kRecordParseFlags>(json.data(), json.size());
  if (doc.HasParseError()) {
    return invalid(std::string("the record is not valid JSON (") +
                   rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
                   std::to_string(doc.GetErrorOffset()) + ")");
  }
  return from_json(schema, doc);
}

core::Result<std::string> encode_json(const Schema& schema, std::string_view json) {
  auto value = from_json(schema, json);
  if (!value) {
    return value.error();
  }
  return encode(schema, *value);
}

}  // namespace sfkb::avro
