// libFuzzer target: the Pub/Sub API's subscribe response mapping. The input is a serialized
// eventbus.v1.FetchResponse (proto/eventbus/v1/pubsub_api.proto); each of its events is decoded by
// the event codec (daemon/pubsub/event_codec.h) with the schema its schema_id names ("0".."3": the
// schemas of pubsub_schemas.h), as the subscribe source does. Checks: every decoded event's
// payload and envelope are JSON objects, a change event has the header fields the mapping keys
// on, the position is the opaque bytes received, and a platform event's record value encodes back
// (publish) to a payload that decodes to the same record.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <rapidjson/document.h>

#include "daemon/pubsub/event_codec.h"
#include "eventbus/v1/pubsub_api.pb.h"
#include "tests/fuzz/pubsub_schemas.h"

namespace {

bool is_object(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  return !doc.HasParseError() && doc.IsObject();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  eventbus::v1::FetchResponse response;
  if (!response.ParseFromArray(data, static_cast<int>(size))) {
    return 0;
  }
  const auto& schemas = sfkb::fuzz::pubsub_schemas();
  for (const auto& consumer : response.events()) {
    const auto& event = consumer.event();
    if (event.schema_id().size() != 1 || event.schema_id()[0] < '0' ||
        event.schema_id()[0] >= static_cast<char>('0' + schemas.size())) {
      continue;  // the source would fetch an unknown schema with GetSchema first
    }
    const auto& schema = schemas[static_cast<std::size_t>(event.schema_id()[0] - '0')];
    const sfkb::pubsub::ReceivedEvent received{event.id(), event.schema_id(), event.payload(),
                                               consumer.replay_id()};
    const std::string topic =
        event.schema_id() == "1" ? "/data/AccountChangeEvent" : "/event/Low_Ink__e";
    auto decoded = sfkb::pubsub::decode_event(topic, schema, received);
    if (!decoded) {
      if (decoded.error().kind != sfkb::core::ErrorKind::kInvalidInput) {
        std::abort();
      }
      continue;
    }
    if (!is_object(decoded->payload_json) || !is_object(decoded->envelope_json) ||
        decoded->channel != topic || decoded->replay_id.bytes() != consumer.replay_id()) {
      std::abort();
    }
    if (decoded->kind == sfkb::salesforce::EventKind::kChangeEvent) {
      if (!decoded->change || decoded->change->entity_name.empty() ||
          decoded->change->change_type.empty()) {
        std::abort();
      }
      continue;
    }
    if (event.schema_id() != "0") {
      continue;
    }
    // Subscribe then publish: the record value encodes for its own schema and reads back as is.
    auto payload = sfkb::pubsub::encode_record(schema, decoded->payload_json, {});
    if (!payload) {
      std::abort();
    }
    auto again = sfkb::pubsub::decode_event(
        topic, schema, {event.id(), event.schema_id(), *payload, consumer.replay_id()});
    if (!again || again->payload_json != decoded->payload_json) {
      std::abort();
    }
  }
  return 0;
}
