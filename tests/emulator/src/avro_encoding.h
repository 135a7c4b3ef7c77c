#pragma once
// The Avro side of the emulator's Pub/Sub API (pubsub_server.h): the schema of a platform event
// type, as Salesforce writes it, and the binary encoding of its events. Written here on purpose
// instead of sharing the daemon's codec: the emulator is the other side of the wire, and a
// misunderstanding shared by both sides would pass every test (tests/emulator/CMakeLists.txt).
//
// The schema of Name__e (tests/emulator/README.md "Pub/Sub API"):
//   {"type":"record","name":"Name__e","namespace":"com.sforce.eventbus","fields":[
//     {"name":"CreatedDate","type":"long","doc":"CreatedDate:DateTime"},
//     {"name":"CreatedById","type":"string","doc":"CreatedBy:EntityId"},
//     {"name":"Field__c","type":["null",T],"doc":"Data:…","default":null}, …]}
// with T by field type: string -> "string", number -> "double", boolean -> "boolean",
// datetime -> "long" (doc Data:DateTime, epoch milliseconds), date -> "int" (doc Data:DateOnly,
// days since 1970-01-01), as docs/SALESFORCE_PROTOCOL.md "How an Avro event becomes the JSON of
// CometD" describes Salesforce's schemas.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "event_types.h"

namespace sfkb::emulator::avro {

// The Avro schema JSON of `type` (above).
std::string schema_json(const EventType& type);

// Encodes one event of `type` from its CometD `data.payload` object. CreatedDate (ISO 8601) and
// CreatedById are required by the schema: a missing or unreadable CreatedDate becomes 0, a
// missing CreatedById "". A field the type does not define is left out (the schema has no place
// for it); a defined field that is absent, null or of the wrong JSON type is encoded as null.
std::string encode_event(const EventType& type, const rapidjson::Value& payload);

struct Decoded {
  // The event's fields as the members of a JSON object without braces (CometD's payload shape,
  // as REST publish receives them): custom fields only, null ones left out. Datetimes become
  // ISO 8601 UTC with milliseconds, dates YYYY-MM-DD.
  std::string fields_inner;
};

// Decodes an Avro-encoded event of `type`; nullopt with `error` set when the bytes do not match
// the schema (truncated, a bad union index, trailing bytes, a bad UTF-8 length).
std::optional<Decoded> decode_event(const EventType& type, std::string_view bytes,
                                    std::string& error);

// Salesforce's datetime text <-> epoch milliseconds; nullopt when unreadable.
std::optional<std::int64_t> iso_to_epoch_ms(const std::string& iso);
std::string epoch_ms_to_iso(std::int64_t ms);

}  // namespace sfkb::emulator::avro
