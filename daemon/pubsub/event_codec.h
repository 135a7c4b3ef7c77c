#pragma once
// Pub/Sub API events <-> what the rest of the bridge handles (docs/SALESFORCE_PROTOCOL.md "How an
// Avro event becomes the JSON of CometD"). Subscribe: a ConsumerEvent's Avro payload becomes a
// salesforce::StreamEvent filled exactly as the CometD decoder (daemon/salesforce/bayeux.h) fills
// it for the same event, so the records, keys and headers written to Kafka do not depend on the
// API that delivered the event. Publish: a record value (the JSON object REST publish takes)
// becomes the Avro payload of a ProducerEvent.
//
// Pure functions over strings, without the generated protobuf types, so that they are tested and
// fuzzed without gRPC. Safe on hostile input: every error is kInvalidInput with a clear message.

#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/avro/schema.h"
#include "daemon/core/result.h"
#include "daemon/salesforce/event_source.h"

namespace sfkb::pubsub {

// The fields of one eventbus.v1.ConsumerEvent the codec reads.
struct ReceivedEvent {
  std::string id;         // event.id: a platform event's EventUuid
  std::string schema_id;  // event.schema_id: the schema `schema` was parsed from
  std::string payload;    // event.payload: Avro binary
  std::string replay_id;  // replay_id: opaque bytes
};

// Decodes one event of `topic` (a /event/ or /data/ topic name, the StreamEvent's channel) with
// the schema of its schema_id. The kind is decided by the schema's shape, as the CometD decoder
// decides it by the message's: a root record with a ChangeEventHeader record is a change event,
// any other record a platform event. For a change event the header's bitmap fields
// (changedFields, nulledFields, diffFields) are replaced by field names in the record value.
core::Result<salesforce::StreamEvent> decode_event(const std::string& topic,
                                                   const avro::Schema& schema,
                                                   const ReceivedEvent& event);
// The same over views of the event's fields: what the subscribe stream calls, so that the payload
// and IDs are not copied out of the protobuf message first.
core::Result<salesforce::StreamEvent> decode_event(const std::string& topic,
                                                   const avro::Schema& schema, std::string_view id,
                                                   std::string_view schema_id,
                                                   std::string_view payload,
                                                   std::string_view replay_id);

// The field names a bitmap field of a change event's header stands for ("0x14", "1-0x04" ->
// Phone, LastModifiedDate, Name.LastName), over the event's schema. kInvalidInput for an element
// that is not a bitmap or names a position the schema does not have.
core::Result<std::vector<std::string>> bitmap_field_names(const avro::Schema& schema,
                                                          const std::vector<std::string>& bitmap);

// What Salesforce fills into every platform event but a publisher has to send anyway: the
// schema requires CreatedDate and CreatedById.
struct PublishDefaults {
  std::int64_t now_ms = 0;  // CreatedDate, epoch milliseconds
  std::string user_id;      // CreatedById: the publishing user (the identity URL's last segment)
};

// Encodes a record value (a JSON object: field -> value, "attributes" ignored as REST publish
// ignores it) as the Avro payload of `schema`. CreatedDate and CreatedById are filled from
// `defaults` when the schema has them and the record does not. kInvalidInput naming the field for
// a field the schema lacks, a value of the wrong type, a missing required field.
core::Result<std::string> encode_record(const avro::Schema& schema, std::string_view record_json,
                                        const PublishDefaults& defaults);

}  // namespace sfkb::pubsub
