#pragma once
// Avro datum <-> the JSON Salesforce's CometD API carries for the same event: untagged unions,
// dates and times as text (docs/SALESFORCE_PROTOCOL.md "How an Avro event becomes the JSON of
// CometD", rules 1-4). This is not Avro's own JSON encoding ({"string": "x"} for a union).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <rapidjson/document.h>
#include <rapidjson/reader.h>

#include "daemon/avro/schema.h"
#include "daemon/avro/value.h"
#include "daemon/core/result.h"

namespace sfkb::avro {

struct JsonOptions {
  // Leave out record fields whose value is null, and records whose fields are all left out (a
  // change event, as CometD sends it). The root record is always written.
  bool omit_nulls = false;
};

// Compact JSON text of `value`. kInvalidInput for what JSON cannot carry or CometD would not
// send: a NaN or infinite double, a date outside years 0000-9999.
core::Result<std::string> to_json(const Schema& schema, const Value& value,
                                  const JsonOptions& options = {});

// decode() then to_json().
core::Result<std::string> decode_to_json(const Schema& schema, std::string_view bytes,
                                         const JsonOptions& options = {});

// A value transcode_to_json() walked past, its union resolved: what a caller needs of a few fields
// (a change event's header, a platform event's CreatedDate) without a tree of the whole datum.
struct Scalar {
  Type type = Type::kNull;
  std::string_view text;     // string, enum (views into the input or the schema)
  std::int64_t integer = 0;  // int, long
  // array of a watched record's field: the items that are strings, and whether all of them are
  std::span<const std::string_view> strings;
  bool only_strings = true;
};

// What transcode_to_json() reports of the root record as it writes it. Every status that is not
// ok stops the walk and is returned.
class JsonTap {
 public:
  virtual ~JsonTap() = default;
  // Root field `field` was written; `value` is what it held.
  virtual core::Status root_field(std::size_t field, const Scalar& value) = 0;
  // Whether root field `field` is watched: when its value is a record, each of that record's
  // fields is reported to watched_field() once written.
  virtual bool watch(std::size_t field) = 0;
  // Field `field` of the watched record held `value`, written into `json` from offset
  // `value_start` on (the tap may replace that text, which is the end of `json`).
  virtual core::Status watched_field(std::size_t field, const Scalar& value, std::string& json,
                                     std::size_t value_start) = 0;
};

// decode_to_json() without the tree: the same JSON text, byte for byte, written straight from the
// binary into `json` (appended), and the same inputs refused (kInvalidInput; when an input has two
// faults, the one reported may differ). The subscribe path's per-event decoder.
core::Status transcode_to_json(const Schema& schema, std::string_view bytes,
                               const JsonOptions& options, std::string& json,
                               JsonTap* tap = nullptr);

// `text` as a JSON string (quoted and escaped as rapidjson's Writer does), appended to `json`.
void append_json_string(std::string& json, std::string_view text);

// A value of the schema's root type from JSON (the inverse of to_json): a union takes the first
// branch the JSON value fits; a record field missing from the object takes its default, else null
// when the field is nullable, else it is an error; a member the record does not have is an error
// naming it; dates and times are read from their text forms (or taken as numbers). kInvalidInput
// with the path of the offending member ("Amount__c: a string where the schema has double").
core::Result<Value> from_json(const Schema& schema, const rapidjson::Value& json);
// How a record's text is parsed for from_json: iteratively (no stack depth), UTF-8 checked, and
// decimals to the nearest double (rapidjson's default may be off by a unit in the last place).
inline constexpr unsigned kRecordParseFlags = rapidjson::kParseIterativeFlag |
                                              rapidjson::kParseValidateEncodingFlag |
                                              rapidjson::kParseFullPrecisionFlag;
core::Result<Value> from_json(const Schema& schema, std::string_view json);

// from_json() then encode().
core::Result<std::string> encode_json(const Schema& schema, std::string_view json);

}  // namespace sfkb::avro
