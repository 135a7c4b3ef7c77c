#pragma once
// Kafka record -> sObject JSON for the composite REST call (docs/ARCHITECTURE.md §2 publish, step
// 2). Pure: no I/O, no clock. Each record is mapped once, when it is polled, and the resulting text
// is kept until its batch resolves; the request body is then built by concatenation
// (rest_client.h).

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/core/result.h"

namespace sfkb::pipeline {

// The error code a record gets when it cannot become an event at all (dead-letter header
// sf.error_code). Salesforce's own codes are never this one, so operators can tell them apart.
inline constexpr std::string_view kInvalidRecord = "INVALID_RECORD";

// Salesforce refuses platform event messages above 1 MB; refusing them here keeps one oversized
// record from failing (or bloating) a whole 200-record request.
inline constexpr std::size_t kDefaultMaxValueBytes = 1000000;

struct RecordMappingSpec {
  std::string event;                                 // X__e
  std::map<std::string, std::string> rename;         // record field -> event field
  std::map<std::string, std::string> static_fields;  // event field -> JSON scalar text
  std::string key_field;                             // empty: the key is not mapped
  std::size_t max_value_bytes = kDefaultMaxValueBytes;
};

RecordMappingSpec mapping_spec_from(const config::PublishMapping& mapping);

class RecordMapper {
 public:
  // Throws std::invalid_argument (start-up only) when the event name is empty or a static field
  // is not a JSON scalar (string, number, true, false, null).
  explicit RecordMapper(RecordMappingSpec spec);

  // The sObject for one record, `{"attributes":{"type":"<event>"},...}`, or kInvalidInput with a
  // message for a person: "empty value", "invalid JSON at offset N: ...", "value is a JSON array,
  // not an object", "value is N bytes, above the limit of M". `key` is nullopt for a null key.
  //
  // Precedence when names collide: static fields, then the key field, then the record's own
  // fields in their order (the first occurrence of a name wins, so a record cannot override
  // a configured constant, and the record's own "attributes" - e.g. from a SOQL result - is
  // replaced by the configured event type). Numbers are copied as written (no double round trip).
  core::Result<std::string> map(std::optional<std::string_view> key,
                                std::optional<std::string_view> value) const;

  const RecordMappingSpec& spec() const { return spec_; }

 private:
  RecordMappingSpec spec_;
  std::string attributes_;  // `{"type":"X__e"}`, serialized once
};

}  // namespace sfkb::pipeline
