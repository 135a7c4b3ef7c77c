#pragma once
// Avro datum <-> the JSON Salesforce's CometD API carries for the same event: untagged unions,
// dates and times as text (docs/SALESFORCE_PROTOCOL.md "How an Avro event becomes the JSON of
// CometD", rules 1-4). This is not Avro's own JSON encoding ({"string": "x"} for a union).

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
