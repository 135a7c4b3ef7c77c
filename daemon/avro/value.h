#pragma once
// One decoded Avro datum, typed by the schema node it was read as. A tree of plain values: the
// publish direction builds one from a JSON record to encode it. The subscribe direction does not
// build one per event: transcode_to_json (json.h) writes the JSON CometD would have sent straight
// from the binary, and decode() + to_json() stay as the reference it is tested against.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "daemon/avro/schema.h"

namespace sfkb::avro {

struct Value {
  NodeId node = 0;  // the schema node (for a union: the union; its branch is children[0])
  bool boolean = false;
  std::int64_t integer = 0;  // int, long
  double real = 0;           // float, double
  std::string text;          // string, bytes, fixed: the bytes; enum: the symbol
  std::size_t index = 0;     // union: the branch; enum: the symbol's position
  // record: one per field, in schema order; array: the items; map: the values; union: the one
  // branch value.
  std::vector<Value> children;
  std::vector<std::string> keys;  // map: the key of each child
};

}  // namespace sfkb::avro
