#pragma once
// The names of the `sf.*` headers the bridge puts on Kafka records (README.md "Channel kinds" and
// "Salesforce errors and what the bridge does"), declared once: the subscribe direction writes them
// (pipeline/event_mapping.cpp), start-up reconciliation reads them back
// (kafka_adapters/tail_reader.cpp), the publish direction writes the dead-letter ones
// (kafka_adapters/publish_ports.cpp). They are part of the record format consumers rely on, so a
// name never changes.

namespace sfkb::kafka {

// --- Records made from Salesforce events. Which ones a record gets depends on its event's kind;
// a value Salesforce did not send is left out rather than sent empty.
// Every kind:
inline constexpr const char* kHeaderChannel = "sf.channel";
inline constexpr const char* kHeaderReplayId = "sf.replay_id";
// Platform events (and sf.schema also change events):
inline constexpr const char* kHeaderEventUuid = "sf.event_uuid";
inline constexpr const char* kHeaderSchema = "sf.schema";
// Platform events: payload.CreatedDate; PushTopic: event.createdDate; change events: the header's
// commitTimestamp written the same way (ISO 8601 UTC with milliseconds).
inline constexpr const char* kHeaderCreatedDate = "sf.created_date";
// PushTopic events: created | updated | deleted | undeleted.
inline constexpr const char* kHeaderEventType = "sf.event_type";
// Change events, from payload.ChangeEventHeader:
inline constexpr const char* kHeaderChangeType = "sf.change_type";
inline constexpr const char* kHeaderEntityName = "sf.entity_name";
inline constexpr const char* kHeaderRecordIds = "sf.record_ids";  // comma-separated
inline constexpr const char* kHeaderTransactionKey = "sf.transaction_key";
inline constexpr const char* kHeaderSequenceNumber = "sf.sequence_number";
// The Salesforce org the event came from (when known): reconciliation never resumes from another
// org's records.
inline constexpr const char* kHeaderOrgId = "sf.org_id";
// How many times the channel's subscription restarted from a fallback (a refused replay ID, an org
// change); absent means 0. Reconciliation ignores records of an older restart: their replay IDs
// belong to a sequence Salesforce no longer knows.
inline constexpr const char* kHeaderReplayEpoch = "sf.replay_epoch";

// --- Dead letters: a record Salesforce refused, copied with why and where it came from.
inline constexpr const char* kHeaderErrorCode = "sf.error_code";
inline constexpr const char* kHeaderErrorMessage = "sf.error_message";
inline constexpr const char* kHeaderSourceTopic = "sf.source_topic";
inline constexpr const char* kHeaderSourcePartition = "sf.source_partition";
inline constexpr const char* kHeaderSourceOffset = "sf.source_offset";

}  // namespace sfkb::kafka
