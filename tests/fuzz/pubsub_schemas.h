#pragma once
// The fixed Avro schemas the Pub/Sub fuzz targets decode against (fuzz_avro_decode,
// fuzz_pubsub_response): Salesforce's platform event and change event shapes
// (docs/SALESFORCE_PROTOCOL.md "How an Avro event becomes the JSON of CometD"), one schema with
// every Avro type, and a recursive one. The seed corpora are encoded for them, in this order.

#include <array>

#include "daemon/avro/schema.h"

namespace sfkb::fuzz {

inline constexpr std::array<const char*, 4> kPubsubSchemas = {
    // 0: a platform event
    R"({"name":"Low_Ink__e","namespace":"com.sforce.eventbus","type":"record","fields":[
      {"name":"CreatedDate","type":"long","doc":"CreatedDate:DateTime"},
      {"name":"CreatedById","type":"string","doc":"CreatedBy:EntityId"},
      {"name":"Printer_Model__c","type":["null","string"],"doc":"Data:Text","default":null},
      {"name":"Sheets__c","type":["null","double"],"doc":"Data:Double","default":null},
      {"name":"Due__c","type":["null","int"],"doc":"Data:DateOnly","default":null},
      {"name":"At__c","type":["null","long"],"doc":"Data:TimeOnly","default":null},
      {"name":"Urgent__c","type":"boolean","doc":"Data:Boolean"}]})",
    // 1: a change event
    R"({"type":"record","name":"AccountChangeEvent","namespace":"com.sforce.eventbus","fields":[
      {"name":"ChangeEventHeader","type":{"type":"record","name":"ChangeEventHeader","fields":[
        {"name":"entityName","type":"string"},
        {"name":"recordIds","type":{"type":"array","items":"string"}},
        {"name":"changeType","type":{"type":"enum","name":"ChangeType","symbols":["CREATE",
          "UPDATE","DELETE","UNDELETE","GAP_CREATE","GAP_UPDATE","GAP_DELETE","GAP_UNDELETE",
          "GAP_OVERFLOW"]}},
        {"name":"changeOrigin","type":"string"},
        {"name":"transactionKey","type":"string"},
        {"name":"sequenceNumber","type":"int"},
        {"name":"commitTimestamp","type":"long"},
        {"name":"commitNumber","type":"long"},
        {"name":"commitUser","type":"string"},
        {"name":"nulledFields","type":{"type":"array","items":"string"}},
        {"name":"diffFields","type":{"type":"array","items":"string"}},
        {"name":"changedFields","type":{"type":"array","items":"string"}}]}},
      {"name":"Name","type":["null","string",{"type":"record","name":"Switchable_PersonName",
        "fields":[{"name":"Salutation","type":["null","string"],"default":null},
                  {"name":"FirstName","type":["null","string"],"default":null},
                  {"name":"LastName","type":["null","string"],"default":null}]}],"default":null},
      {"name":"Phone","type":["null","string"],"default":null},
      {"name":"BillingAddress","type":["null",{"type":"record","name":"Address","fields":[
        {"name":"Street","type":["null","string"],"default":null},
        {"name":"City","type":["null","string"],"default":null}]}],"default":null},
      {"name":"LastModifiedDate","type":["null","long"],"doc":"Data:DateTime","default":null}]})",
    // 2: every Avro type
    R"({"type":"record","name":"All","fields":[
      {"name":"b","type":"boolean"},{"name":"i","type":"int"},{"name":"l","type":"long"},
      {"name":"f","type":"float"},{"name":"d","type":"double"},{"name":"s","type":"string"},
      {"name":"y","type":"bytes"},{"name":"x","type":{"type":"fixed","name":"X","size":3}},
      {"name":"e","type":{"type":"enum","name":"E","symbols":["P","Q","R"]}},
      {"name":"a","type":{"type":"array","items":["null","long"]}},
      {"name":"m","type":{"type":"map","values":"string"}},
      {"name":"u","type":["null","string","double"]},
      {"name":"t","type":{"type":"long","logicalType":"timestamp-millis"}}]})",
    // 3: a recursive list
    R"({"type":"record","name":"Cell","fields":[{"name":"v","type":"int"},
      {"name":"next","type":["null","Cell"]}]})",
};

inline const std::array<avro::Schema, kPubsubSchemas.size()>& pubsub_schemas() {
  static const auto schemas = [] {
    std::array<avro::Schema, kPubsubSchemas.size()> out{
        avro::Schema::parse(kPubsubSchemas[0]).value(),
        avro::Schema::parse(kPubsubSchemas[1]).value(),
        avro::Schema::parse(kPubsubSchemas[2]).value(),
        avro::Schema::parse(kPubsubSchemas[3]).value()};
    return out;
  }();
  return schemas;
}

}  // namespace sfkb::fuzz
