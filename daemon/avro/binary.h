#pragma once
// Avro's binary encoding (Apache Avro 1.11 specification, "Binary Encoding") of one datum, without
// any container or framing: what a Pub/Sub API event's `payload` holds
// (docs/SALESFORCE_PROTOCOL.md "Pub/Sub API (gRPC)").
//
// decode() is total on hostile input (it is fuzzed): every length is checked against the bytes
// left, nesting is bounded by kMaxDepth, the number of values by the input's size, and strings
// must be valid UTF-8. Errors are kInvalidInput and say what was wrong and at which byte offset.

#include <string>
#include <string_view>

#include "daemon/avro/schema.h"
#include "daemon/avro/value.h"
#include "daemon/core/result.h"

namespace sfkb::avro {

// Reads one datum of the schema's root type; the whole input must be used (trailing bytes mean
// the payload belongs to another schema).
core::Result<Value> decode(const Schema& schema, std::string_view bytes);

// Writes `value` (which must be of the schema's root type, as decode() or the JSON reader of
// json.h make it). kInvalidInput when the value does not fit its schema node (a wrong union
// index, an int out of range, a fixed of the wrong size).
core::Result<std::string> encode(const Schema& schema, const Value& value);

}  // namespace sfkb::avro
