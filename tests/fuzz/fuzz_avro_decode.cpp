// libFuzzer target: Avro binary decoding and the CometD-style JSON mapping (daemon/avro), against
// the fixed schemas of pubsub_schemas.h. Byte 0 picks the schema; the rest is the payload.
// Checks beyond "no crash, no sanitizer report": whatever decodes and maps to JSON must read back
// from that JSON, encode, and decode to the same JSON text (the publish direction's inverse), and
// the JSON must parse; and transcode_to_json() (the subscribe path's decoder, without a tree) must
// write the same text as decode() + to_json(), or refuse what they refuse.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "daemon/avro/binary.h"
#include "daemon/avro/json.h"
#include "tests/fuzz/pubsub_schemas.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) {
    return 0;
  }
  const auto& schemas = sfkb::fuzz::pubsub_schemas();
  const auto& schema = schemas[data[0] % schemas.size()];
  const std::string_view payload(reinterpret_cast<const char*>(data) + 1, size - 1);

  for (const bool omit_nulls : {false, true}) {
    const sfkb::avro::JsonOptions options{.omit_nulls = omit_nulls};
    auto tree = sfkb::avro::decode_to_json(schema, payload, options);
    std::string streamed;
    auto status = sfkb::avro::transcode_to_json(schema, payload, options, streamed);
    if (tree.is_ok() != status.is_ok() || (tree.is_ok() && *tree != streamed) ||
        (!status.is_ok() && status.error().kind != sfkb::core::ErrorKind::kInvalidInput)) {
      std::abort();
    }
  }

  auto value = sfkb::avro::decode(schema, payload);
  if (!value) {
    if (value.error().kind != sfkb::core::ErrorKind::kInvalidInput ||
        value.error().message.empty()) {
      std::abort();
    }
    return 0;
  }
  (void)sfkb::avro::to_json(schema, *value, {.omit_nulls = true});
  auto json = sfkb::avro::to_json(schema, *value);
  if (!json) {
    return 0;  // NaN, a date beyond year 9999: refused with a reason
  }
  rapidjson::Document doc;
  doc.Parse(json->data(), json->size());
  if (doc.HasParseError()) {
    std::abort();
  }
  auto again = sfkb::avro::encode_json(schema, *json);
  if (!again) {
    std::abort();
  }
  auto back = sfkb::avro::decode_to_json(schema, *again);
  if (!back || *back != *json) {
    std::abort();
  }
  return 0;
}
