#include "daemon/pipeline/record_mapping.h"

#include <stdexcept>

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/writer.h>

namespace sfkb::pipeline {
namespace {

// rapidjson output stream appending to a std::string (no intermediate StringBuffer copy).
struct StringOut {
  using Ch = char;
  std::string* out;
  void Put(char c) { out->push_back(c); }
  void Flush() {}
};

// Output validates UTF-8 so that a key with invalid bytes is refused here rather than failing the
// whole composite request with JSON_PARSER_ERROR at Salesforce.
using Writer = rapidjson::Writer<StringOut, rapidjson::UTF8<>, rapidjson::UTF8<>,
                                 rapidjson::CrtAllocator, rapidjson::kWriteValidateEncodingFlag>;

// Iterative, so a value of a million "[" cannot exhaust the stack.
// Numbers stay text (kParseNumbersAsStrings -> RawNumber) so 12345678901234567890 or 1.10 reach
// Salesforce exactly as the producer wrote them; invalid UTF-8 is refused for the reason above.
constexpr unsigned kParseFlags = rapidjson::kParseIterativeFlag |
                                 rapidjson::kParseNumbersAsStringsFlag |
                                 rapidjson::kParseValidateEncodingFlag;

// rapidjson's Writer validates a string through an unbounded (NUL-terminated) stream, so a key
// that ends inside a multi-byte sequence made it read up to 3 bytes past the key's end (found by
// tests/fuzz/fuzz_record_mapping). The key is checked here over its bounded view first.
bool is_valid_utf8(std::string_view text) {
  rapidjson::MemoryStream input(text.data(), text.size());
  std::string sink;
  StringOut out{&sink};
  while (input.Tell() < text.size()) {
    // MemoryStream yields '\0' past its end, which no continuation byte accepts.
    if (!rapidjson::UTF8<>::Validate(input, out)) {
      return false;
    }
  }
  return true;
}

const char* json_type_name(rapidjson::Type type) {
  switch (type) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return "boolean";
    case rapidjson::kArrayType:
      return "array";
    case rapidjson::kStringType:
      return "string";
    case rapidjson::kNumberType:
      return "number";
    case rapidjson::kObjectType:
      return "object";
  }
  return "value";
}

// SAX handler copying the record's object into the writer, renaming and dropping top-level
// members on the way. depth_ counts open containers; a member being dropped is skipped by
// counting its containers in skip_depth_.
class MappingHandler {
 public:
  MappingHandler(Writer& writer, const RecordMapper& mapper, std::vector<std::string>& emitted)
      : writer_(writer), mapper_(mapper), emitted_(emitted) {}

  std::optional<rapidjson::Type> non_object_root() const { return non_object_root_; }

  bool Null() {
    return scalar(rapidjson::kNullType, [&] { return writer_.Null(); });
  }
  bool Bool(bool b) {
    return scalar(b ? rapidjson::kTrueType : rapidjson::kFalseType,
                  [&] { return writer_.Bool(b); });
  }
  // Never called with kParseNumbersAsStringsFlag; present because the handler concept needs them.
  // (Writer::RawNumber would quote the digits, hence RawValue below.)
  bool Int(int) { return false; }
  bool Uint(unsigned) { return false; }
  bool Int64(int64_t) { return false; }
  bool Uint64(uint64_t) { return false; }
  bool Double(double) { return false; }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    return scalar(rapidjson::kNumberType,
                  [&] { return writer_.RawValue(s, n, rapidjson::kNumberType); });
  }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    return scalar(rapidjson::kStringType, [&] { return writer_.String(s, n); });
  }
  bool StartObject() {
    if (depth_ == 0) {
      depth_ = 1;  // the root object itself is already open in the writer (prefix + statics)
      return true;
    }
    ++depth_;
    if (skip_depth_ > 0) {
      ++skip_depth_;
      return true;
    }
    return writer_.StartObject();
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (skip_depth_ > 0) {
      return true;
    }
    if (depth_ != 1) {
      return writer_.Key(s, n);
    }
    std::string_view name(s, n);
    const auto& rename = mapper_.spec().rename;
    if (auto it = rename.find(std::string(name)); it != rename.end()) {
      name = it->second;
    }
    for (const auto& seen : emitted_) {
      if (seen == name) {
        skip_depth_ = 1;  // skip this member's value
        return true;
      }
    }
    emitted_.emplace_back(name);
    return writer_.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
  }
  bool EndObject(rapidjson::SizeType) {
    --depth_;
    if (depth_ == 0) {
      return writer_.EndObject();
    }
    if (skip_depth_ > 0) {
      return end_skipped_container();
    }
    return writer_.EndObject();
  }
  bool StartArray() {
    if (depth_ == 0) {
      non_object_root_ = rapidjson::kArrayType;
      return false;
    }
    ++depth_;
    if (skip_depth_ > 0) {
      ++skip_depth_;
      return true;
    }
    return writer_.StartArray();
  }
  bool EndArray(rapidjson::SizeType) {
    --depth_;
    if (skip_depth_ > 0) {
      return end_skipped_container();
    }
    return writer_.EndArray();
  }

 private:
  template <typename Write>
  bool scalar(rapidjson::Type type, Write write) {
    if (depth_ == 0) {
      non_object_root_ = type;
      return false;
    }
    if (skip_depth_ > 0) {
      if (skip_depth_ == 1) {
        skip_depth_ = 0;  // the skipped member was this scalar
      }
      return true;
    }
    return write();
  }
  bool end_skipped_container() {
    --skip_depth_;
    if (skip_depth_ == 1) {
      skip_depth_ = 0;  // closed the skipped member's own container
    }
    return true;
  }

  Writer& writer_;
  const RecordMapper& mapper_;
  std::vector<std::string>& emitted_;
  int depth_ = 0;
  // 0: copying. 1: the next value belongs to a dropped member. >1: inside that value's containers.
  int skip_depth_ = 0;
  std::optional<rapidjson::Type> non_object_root_;
};

core::Error invalid(std::string message) {
  return {core::ErrorKind::kInvalidInput, std::move(message)};
}

bool is_json_scalar(const std::string& text) {
  rapidjson::Reader reader;
  rapidjson::MemoryStream stream(text.data(), text.size());
  struct ScalarCheck : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, ScalarCheck> {
    bool Default() { return true; }
    bool StartObject() { return false; }
    bool StartArray() { return false; }
  } check;
  return !reader.Parse<rapidjson::kParseValidateEncodingFlag>(stream, check).IsError();
}

}  // namespace

RecordMappingSpec mapping_spec_from(const config::PublishMapping& mapping) {
  RecordMappingSpec spec;
  spec.event = mapping.event;
  spec.rename = mapping.rename;
  spec.static_fields = mapping.static_fields;
  spec.key_field = mapping.key_field;
  return spec;
}

RecordMapper::RecordMapper(RecordMappingSpec spec) : spec_(std::move(spec)) {
  if (spec_.event.empty()) {
    throw std::invalid_argument("publish mapping: event must not be empty");
  }
  Writer writer;
  StringOut out{&attributes_};
  writer.Reset(out);
  writer.StartObject();
  writer.Key("type");
  writer.String(spec_.event.data(), static_cast<rapidjson::SizeType>(spec_.event.size()));
  writer.EndObject();
  for (const auto& [name, text] : spec_.static_fields) {
    if (!is_json_scalar(text)) {
      throw std::invalid_argument(
          "publish mapping: static field " + name +
          " is not a JSON scalar (string, number, true, false, null): " + text);
    }
  }
}

core::Result<std::string> RecordMapper::map(std::optional<std::string_view> key,
                                            std::optional<std::string_view> value) const {
  if (!value || value->empty()) {
    return invalid(value ? "empty value (a JSON object was expected)"
                         : "null value (a JSON object was expected)");
  }
  if (value->size() > spec_.max_value_bytes) {
    return invalid("value is " + std::to_string(value->size()) + " bytes, above the limit of " +
                   std::to_string(spec_.max_value_bytes) + " bytes for one event");
  }

  std::string out;
  out.reserve(attributes_.size() + value->size() + 64);
  StringOut stream{&out};
  Writer writer(stream);
  // Names already written: the first occurrence of a name wins (see the header).
  std::vector<std::string> emitted;
  emitted.reserve(spec_.static_fields.size() + 2);

  writer.StartObject();
  writer.Key("attributes");
  writer.RawValue(attributes_.data(), attributes_.size(), rapidjson::kObjectType);
  emitted.emplace_back("attributes");
  for (const auto& [name, text] : spec_.static_fields) {
    writer.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    writer.RawValue(text.data(), text.size(), rapidjson::kStringType);
    emitted.push_back(name);
  }
  if (!spec_.key_field.empty() && key && !spec_.static_fields.contains(spec_.key_field)) {
    writer.Key(spec_.key_field.data(), static_cast<rapidjson::SizeType>(spec_.key_field.size()));
    if (!is_valid_utf8(*key) ||
        !writer.String(key->data(), static_cast<rapidjson::SizeType>(key->size()))) {
      return invalid("key is not valid UTF-8, so it cannot go into field " + spec_.key_field);
    }
    emitted.push_back(spec_.key_field);
  }

  MappingHandler handler(writer, *this, emitted);
  rapidjson::Reader reader;
  rapidjson::MemoryStream input(value->data(), value->size());
  rapidjson::ParseResult parsed = reader.Parse<kParseFlags>(input, handler);
  if (auto root = handler.non_object_root()) {
    return invalid(std::string("value is a JSON ") + json_type_name(*root) + ", not an object");
  }
  if (parsed.IsError()) {
    if (parsed.Code() == rapidjson::kParseErrorTermination) {
      return invalid("value could not be re-encoded (invalid UTF-8 in a name?)");
    }
    return invalid("invalid JSON at offset " + std::to_string(parsed.Offset()) + ": " +
                   rapidjson::GetParseError_En(parsed.Code()));
  }
  return out;
}

}  // namespace sfkb::pipeline
