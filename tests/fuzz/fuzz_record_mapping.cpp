// libFuzzer target: Kafka record -> sObject mapping (daemon/pipeline/record_mapping.h).
// A record's key and value are whatever a producer wrote to the topic. The input is split into an
// optional key and the value: byte 0 selects the key's presence (bit 0), the value's presence
// (bit 1) and a small size limit instead of the default 1 MB (bit 2, so the fuzzer reaches the
// limit too); when a key is present it runs up to the first NUL byte. Whatever map() returns as
// success must be a JSON object that starts with the configured attributes, since it is spliced
// verbatim into the composite request body.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>

#include <rapidjson/document.h>

#include "daemon/pipeline/record_mapping.h"

namespace {

sfkb::pipeline::RecordMapper make_mapper(std::size_t max_value_bytes) {
  sfkb::pipeline::RecordMappingSpec spec;
  spec.event = "Flight_Request__e";
  spec.rename = {{"flight", "Flight_Id__c"}, {"note", "Note__c"}};
  spec.static_fields = {{"Source__c", "\"kafka\""}, {"Priority__c", "3"}};
  spec.key_field = "Key__c";
  spec.max_value_bytes = max_value_bytes;
  return sfkb::pipeline::RecordMapper(spec);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const sfkb::pipeline::RecordMapper default_mapper =
      make_mapper(sfkb::pipeline::kDefaultMaxValueBytes);
  static const sfkb::pipeline::RecordMapper small_mapper = make_mapper(2048);
  if (size == 0) {
    return 0;
  }
  const unsigned selector = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);

  std::optional<std::string_view> key;
  if ((selector & 1U) != 0) {
    const auto nul = rest.find('\0');
    key = rest.substr(0, nul);
    rest = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
  }
  std::optional<std::string_view> value;
  if ((selector & 2U) != 0) {
    value = rest;
  }

  const auto& mapper = (selector & 4U) != 0 ? small_mapper : default_mapper;
  auto mapped = mapper.map(key, value);
  if (!mapped) {
    return 0;
  }
  const std::string& object = mapped.value();
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(object.data(), object.size());
  if (doc.HasParseError() || !doc.IsObject() ||
      !object.starts_with(R"({"attributes":{"type":"Flight_Request__e"})")) {
    std::abort();
  }
  return 0;
}
