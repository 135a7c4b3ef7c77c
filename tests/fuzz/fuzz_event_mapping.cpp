// libFuzzer target: event -> Kafka record mapping (daemon/pipeline/event_mapping.h).
// The input is a CometD response body, decoded exactly as the subscriber decodes it, so the
// mapping sees the events it can really get (whatever a server sends); each decoded event is mapped
// under every key/value choice a mapping can make. payload_field is also fed the raw bytes, since
// its contract is to answer nullopt for anything that is not a JSON object.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "daemon/config/config.h"
#include "daemon/pipeline/event_mapping.h"
#include "daemon/pipeline/json_value_encoders.h"
#include "daemon/salesforce/bayeux.h"

namespace {

using sfkb::config::KeyKind;
using sfkb::config::SubscribeMapping;
using sfkb::config::ValueKind;

std::array<SubscribeMapping, 7> make_mappings() {
  std::array<SubscribeMapping, 7> mappings;
  for (auto& mapping : mappings) {
    mapping.channel = "/event/Low_Ink__e";
    mapping.topic = "salesforce.low-ink";
  }
  mappings[1].key = KeyKind::kEventUuid;
  mappings[1].value = ValueKind::kEnvelope;
  mappings[2].key = KeyKind::kReplayId;
  mappings[2].headers = false;
  mappings[3].key = KeyKind::kPayloadField;
  mappings[3].key_field = "Printer_Model__c";
  mappings[4].key = KeyKind::kPayloadField;
  mappings[4].key_field = "Nested__c.Inner__c";
  mappings[4].value = ValueKind::kEnvelope;
  // The other kinds' keys: a PushTopic's sobject Id, a change event's recordIds array.
  mappings[5].channel = "/topic/InvoiceUpdates";
  mappings[5].key = KeyKind::kPayloadField;
  mappings[5].key_field = "Id";
  mappings[6].channel = "/data/AccountChangeEvent";
  mappings[6].key = KeyKind::kPayloadField;
  mappings[6].key_field = "ChangeEventHeader.recordIds";
  return mappings;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::array<SubscribeMapping, 7> mappings = make_mappings();
  // The encoders the daemon's make_value_encoder picks for each `value:`.
  static const sfkb::pipeline::PayloadJsonEncoder payload;
  static const sfkb::pipeline::EnvelopeJsonEncoder envelope;
  const std::string raw(reinterpret_cast<const char*>(data), size);

  (void)sfkb::pipeline::payload_field(raw, "Printer_Model__c");
  (void)sfkb::pipeline::payload_field(raw, "Nested__c.Inner__c");
  (void)sfkb::pipeline::payload_field(raw, "");
  (void)sfkb::pipeline::payload_field(raw, "ChangeEventHeader.recordIds");

  auto decoded = sfkb::salesforce::bayeux::decode_response(raw);
  if (!decoded) {
    return 0;
  }
  for (const auto& message : decoded.value().messages) {
    if (!message.event) {
      continue;
    }
    for (const auto& mapping : mappings) {
      const sfkb::pipeline::ValueEncoder* encoder =
          mapping.value == ValueKind::kEnvelope
              ? static_cast<const sfkb::pipeline::ValueEncoder*>(&envelope)
              : &payload;
      sfkb::pipeline::ChannelRoute route{&mapping, "prefix." + mapping.topic, 3, "", 0, encoder};
      auto mapped = sfkb::pipeline::map_event(*message.event, route);
      // A record always goes to the route's topic; a key-less mapping keeps the channel in one
      // partition (docs/ARCHITECTURE.md §1 order per channel), so neither may depend on the event's
      // content.
      if (mapped.record.topic != route.topic) {
        std::abort();
      }
      if (sfkb::pipeline::single_partition_per_channel(mapping) &&
          (mapped.record.partition != route.channel_partition || mapped.record.key)) {
        std::abort();
      }
      // Only a platform event has an EventUuid to put into a header (README.md "Channel kinds").
      for (const auto& [name, value] : mapped.record.headers) {
        if (name == sfkb::pipeline::kHeaderEventUuid &&
            message.event->kind != sfkb::salesforce::EventKind::kPlatformEvent) {
          std::abort();
        }
      }
    }
  }
  return 0;
}
