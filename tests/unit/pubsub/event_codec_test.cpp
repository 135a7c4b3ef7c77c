#include "daemon/pubsub/event_codec.h"

#include <gtest/gtest.h>

#include <string>

#include "daemon/avro/binary.h"
#include "daemon/avro/json.h"
#include "daemon/salesforce/bayeux.h"
#include "tests/support/avro_c.h"

namespace sfkb::pubsub {
namespace {

using test_support::AvroC;

constexpr const char* kLowInk = R"({"name":"Low_Ink__e","namespace":"com.sforce.eventbus",
  "type":"record","fields":[
  {"name":"CreatedDate","type":"long","doc":"CreatedDate:DateTime"},
  {"name":"CreatedById","type":"string","doc":"CreatedBy:EntityId"},
  {"name":"Printer_Model__c","type":["null","string"],"doc":"Data:Text","default":null},
  {"name":"Sheets__c","type":["null","double"],"doc":"Data:Double","default":null},
  {"name":"Serviced__c","type":["null","long"],"doc":"Data:DateTime","default":null},
  {"name":"Urgent__c","type":"boolean","doc":"Data:Boolean"}]})";

// Salesforce's change event shape (docs/SALESFORCE_PROTOCOL.md): the header first, a switchable
// person name, a phone, an address, a date-time.
constexpr const char* kAccountChangeEvent = R"({"type":"record","name":"AccountChangeEvent",
  "namespace":"com.sforce.eventbus","fields":[
  {"name":"ChangeEventHeader","type":{"type":"record","name":"ChangeEventHeader","fields":[
    {"name":"entityName","type":"string"},
    {"name":"recordIds","type":{"type":"array","items":"string"}},
    {"name":"changeType","type":{"type":"enum","name":"ChangeType","symbols":["CREATE","UPDATE",
      "DELETE","UNDELETE","GAP_CREATE","GAP_UPDATE","GAP_DELETE","GAP_UNDELETE","GAP_OVERFLOW"]}},
    {"name":"changeOrigin","type":"string"},
    {"name":"transactionKey","type":"string"},
    {"name":"sequenceNumber","type":"int"},
    {"name":"commitTimestamp","type":"long"},
    {"name":"commitNumber","type":"long"},
    {"name":"commitUser","type":"string"},
    {"name":"nulledFields","type":{"type":"array","items":"string"}},
    {"name":"diffFields","type":{"type":"array","items":"string"}},
    {"name":"changedFields","type":{"type":"array","items":"string"}}]},"doc":"Data:ChangeEventHeader"},
  {"name":"Name","type":["null","string",{"type":"record","name":"Switchable_PersonName",
    "fields":[{"name":"Salutation","type":["null","string"],"default":null},
              {"name":"FirstName","type":["null","string"],"default":null},
              {"name":"LastName","type":["null","string"],"default":null}]}],
    "doc":"Data:Switchable_PersonName","default":null},
  {"name":"Phone","type":["null","string"],"doc":"Data:Phone","default":null},
  {"name":"BillingAddress","type":["null",{"type":"record","name":"Address","fields":[
    {"name":"Street","type":["null","string"],"default":null},
    {"name":"City","type":["null","string"],"default":null}]}],"doc":"Data:Address","default":null},
  {"name":"LastModifiedDate","type":["null","long"],"doc":"Data:DateTime","default":null}]})";

avro::Schema parse(const char* json) {
  return avro::Schema::parse(json).value();
}

// The one event of a CometD response, as the CometD decoder makes it.
salesforce::StreamEvent from_cometd(const std::string& message) {
  auto decoded = salesforce::bayeux::decode_response("[" + message + "]");
  EXPECT_TRUE(decoded.is_ok());
  EXPECT_EQ(decoded->malformed_count, 0u) << decoded->malformed[0].reason;
  EXPECT_EQ(decoded->messages.size(), 1u);
  return *decoded->messages.at(0).event;
}

const std::string kReplayBytes("\x00\x00\x00\x00\x00\x00\x00\x02", 8);

TEST(EventCodec, APlatformEventIsTheStreamEventCometdGives) {
  // The payload as Avro C writes it.
  AvroC c(kLowInk);
  avro_value_t f = AvroC::field(c.value(), "CreatedDate");
  avro_value_set_long(&f, 1795714200123);
  f = AvroC::field(c.value(), "CreatedById");
  avro_value_set_string(&f, "005xx000001SvQrAAK");
  f = AvroC::field(c.value(), "Printer_Model__c");
  avro_value_t model = AvroC::branch(f, 1);
  avro_value_set_string(&model, "XZO-5");
  f = AvroC::field(c.value(), "Sheets__c");
  avro_value_t sheets = AvroC::branch(f, 1);
  avro_value_set_double(&sheets, 12.5);
  f = AvroC::field(c.value(), "Serviced__c");
  AvroC::branch(f, 0);
  f = AvroC::field(c.value(), "Urgent__c");
  avro_value_set_boolean(&f, 1);
  const ReceivedEvent received{"3b2d7c1e-9d1a-4b8e-8f21-5c0f1d2e3a4b", "dffQ2QLzDNHqwB8_sHMxdA",
                               c.write(), kReplayBytes};

  auto event = decode_event("/event/Low_Ink__e", parse(kLowInk), received);
  ASSERT_TRUE(event.is_ok()) << event.error().message;

  const auto cometd = from_cometd(
      R"({"channel":"/event/Low_Ink__e","data":{"schema":"dffQ2QLzDNHqwB8_sHMxdA",)"
      R"("payload":{"CreatedDate":"2026-11-26T17:30:00.123Z","CreatedById":"005xx000001SvQrAAK",)"
      R"("Printer_Model__c":"XZO-5","Sheets__c":12.5,"Serviced__c":null,"Urgent__c":true},)"
      R"("event":{"EventUuid":"3b2d7c1e-9d1a-4b8e-8f21-5c0f1d2e3a4b","replayId":2}}})");
  EXPECT_EQ(event->channel, cometd.channel);
  EXPECT_EQ(event->kind, cometd.kind);
  EXPECT_EQ(event->event_uuid, cometd.event_uuid);
  EXPECT_EQ(event->schema, cometd.schema);
  EXPECT_EQ(event->created_date, cometd.created_date);
  EXPECT_EQ(event->payload_json, cometd.payload_json);
  EXPECT_FALSE(event->change.has_value());
  EXPECT_EQ(event->replay_id, core::ReplayId::opaque(kReplayBytes));
  // The envelope is CometD's, but for replayId: the opaque position's text form.
  EXPECT_EQ(event->envelope_json,
            R"({"schema":"dffQ2QLzDNHqwB8_sHMxdA","payload":)" + cometd.payload_json +
                R"(,"event":{"EventUuid":"3b2d7c1e-9d1a-4b8e-8f21-5c0f1d2e3a4b",)"
                R"("replayId":"AAAAAAAAAAI="}})");
}

// Fills an AccountChangeEvent header with Avro C.
void fill_header(AvroC& c, int change_type, std::initializer_list<const char*> changed,
                 std::initializer_list<const char*> nulled) {
  avro_value_t header = AvroC::field(c.value(), "ChangeEventHeader");
  avro_value_t f = AvroC::field(header, "entityName");
  avro_value_set_string(&f, "Account");
  f = AvroC::field(header, "recordIds");
  avro_value_t id = AvroC::append(f);
  avro_value_set_string(&id, "001xx000003DGb2AAG");
  f = AvroC::field(header, "changeType");
  avro_value_set_enum(&f, change_type);
  f = AvroC::field(header, "changeOrigin");
  avro_value_set_string(&f, "com/salesforce/api/rest/62.0");
  f = AvroC::field(header, "transactionKey");
  avro_value_set_string(&f, "0002ac83-fcbd-9443-f901-7d3a380feb2c");
  f = AvroC::field(header, "sequenceNumber");
  avro_value_set_int(&f, 1);
  f = AvroC::field(header, "commitTimestamp");
  avro_value_set_long(&f, 1795714200123);
  f = AvroC::field(header, "commitNumber");
  avro_value_set_long(&f, 10957268752);
  f = AvroC::field(header, "commitUser");
  avro_value_set_string(&f, "005xx000001SvQrAAK");
  f = AvroC::field(header, "changedFields");
  for (const char* bitmap : changed) {
    avro_value_t item = AvroC::append(f);
    avro_value_set_string(&item, bitmap);
  }
  f = AvroC::field(header, "nulledFields");
  for (const char* bitmap : nulled) {
    avro_value_t item = AvroC::append(f);
    avro_value_set_string(&item, bitmap);
  }
}

void set_null(avro_value_t& record, const char* name) {
  avro_value_t f = AvroC::field(record, name);
  AvroC::branch(f, 0);
}
void set_text(avro_value_t& record, const char* name, const char* text) {
  avro_value_t f = AvroC::field(record, name);
  avro_value_t branch = AvroC::branch(f, 1);
  avro_value_set_string(&branch, text);
}

TEST(EventCodec, AChangeEventIsTheStreamEventCometdGivesWithItsBitmapsAsNames) {
  AvroC c(kAccountChangeEvent);
  // Changed: Phone (2) and LastModifiedDate (4), and Name.LastName; Phone was set to null.
  fill_header(c, 1, {"0x14", "1-0x04"}, {"0x04"});
  avro_value_t name = AvroC::field(c.value(), "Name");
  avro_value_t person = AvroC::branch(name, 2);
  set_null(person, "Salutation");
  set_null(person, "FirstName");
  set_text(person, "LastName", "Lovelace");
  set_null(c.value(), "Phone");
  set_null(c.value(), "BillingAddress");  // unchanged: null on the Pub/Sub API
  avro_value_t modified = AvroC::field(c.value(), "LastModifiedDate");
  avro_value_t modified_value = AvroC::branch(modified, 1);
  avro_value_set_long(&modified_value, 1795714200000);
  const ReceivedEvent received{"", "V2MGwDA2aIP0yQS98S2L6Q", c.write(), kReplayBytes};

  auto event = decode_event("/data/AccountChangeEvent", parse(kAccountChangeEvent), received);
  ASSERT_TRUE(event.is_ok()) << event.error().message;

  // CometD leaves out unchanged and null fields.
  const auto cometd = from_cometd(
      R"({"channel":"/data/AccountChangeEvent","data":{"schema":"V2MGwDA2aIP0yQS98S2L6Q",)"
      R"("payload":{"ChangeEventHeader":{"entityName":"Account",)"
      R"("recordIds":["001xx000003DGb2AAG"],"changeType":"UPDATE",)"
      R"("changeOrigin":"com/salesforce/api/rest/62.0",)"
      R"("transactionKey":"0002ac83-fcbd-9443-f901-7d3a380feb2c","sequenceNumber":1,)"
      R"("commitTimestamp":1795714200123,"commitNumber":10957268752,)"
      R"("commitUser":"005xx000001SvQrAAK","nulledFields":["Phone"],"diffFields":[],)"
      R"("changedFields":["Phone","LastModifiedDate","Name.LastName"]},)"
      R"("Name":{"LastName":"Lovelace"},"LastModifiedDate":"2026-11-26T17:30:00.000Z"},)"
      R"("event":{"replayId":2}}})");
  EXPECT_EQ(event->kind, salesforce::EventKind::kChangeEvent);
  EXPECT_EQ(event->kind, cometd.kind);
  EXPECT_EQ(event->payload_json, cometd.payload_json);
  EXPECT_EQ(event->event_uuid, "");
  EXPECT_EQ(event->created_date, cometd.created_date);
  ASSERT_TRUE(event->change.has_value());
  const auto& ours = *event->change;
  const auto& theirs = *cometd.change;
  EXPECT_EQ(ours.entity_name, theirs.entity_name);
  EXPECT_EQ(ours.change_type, theirs.change_type);
  EXPECT_EQ(ours.record_ids, theirs.record_ids);
  EXPECT_EQ(ours.change_origin, theirs.change_origin);
  EXPECT_EQ(ours.transaction_key, theirs.transaction_key);
  EXPECT_EQ(ours.commit_user, theirs.commit_user);
  EXPECT_EQ(ours.sequence_number, theirs.sequence_number);
  EXPECT_EQ(ours.commit_number, theirs.commit_number);
  EXPECT_EQ(ours.commit_timestamp, theirs.commit_timestamp);
  EXPECT_EQ(event->envelope_json, R"({"schema":"V2MGwDA2aIP0yQS98S2L6Q","payload":)" +
                                      cometd.payload_json +
                                      R"(,"event":{"replayId":"AAAAAAAAAAI="}})");
}

TEST(EventCodec, AGapEventCarriesOnlyItsHeader) {
  AvroC c(kAccountChangeEvent);
  fill_header(c, 8, {}, {});
  set_null(c.value(), "Name");
  set_null(c.value(), "Phone");
  set_null(c.value(), "BillingAddress");
  set_null(c.value(), "LastModifiedDate");
  auto event = decode_event("/data/AccountChangeEvent", parse(kAccountChangeEvent),
                            {"", "s", c.write(), kReplayBytes});
  ASSERT_TRUE(event.is_ok()) << event.error().message;
  EXPECT_EQ(event->change->change_type, "GAP_OVERFLOW");
  EXPECT_TRUE(event->payload_json.starts_with(R"({"ChangeEventHeader":{)"));
  EXPECT_TRUE(event->payload_json.ends_with(R"("changedFields":[]}})"));
}

std::vector<std::string> names(const std::vector<std::string>& bitmap) {
  auto result = bitmap_field_names(parse(kAccountChangeEvent), bitmap);
  EXPECT_TRUE(result.is_ok()) << result.error().message;
  return result.is_ok() ? *result : std::vector<std::string>{};
}

std::string bitmap_error(const std::vector<std::string>& bitmap) {
  auto result = bitmap_field_names(parse(kAccountChangeEvent), bitmap);
  EXPECT_FALSE(result.is_ok());
  return result.is_ok() ? std::string() : result.error().message;
}

using Names = std::vector<std::string>;

TEST(EventCodec, BitmapsNameFieldsByTheirSchemaPosition) {
  EXPECT_EQ(names({}), Names{});
  EXPECT_EQ(names({"0x0"}), Names{});
  EXPECT_EQ(names({"0x1"}), Names{"ChangeEventHeader"});
  EXPECT_EQ(names({"0x1E"}), (Names{"Name", "Phone", "BillingAddress", "LastModifiedDate"}));
  EXPECT_EQ(names({"0x1e"}), (Names{"Name", "Phone", "BillingAddress", "LastModifiedDate"}));
  EXPECT_EQ(names({"0x0004"}), Names{"Phone"});  // leading zero digits change nothing
  EXPECT_EQ(names({"0x10", "3-0x2"}), (Names{"LastModifiedDate", "BillingAddress.City"}));
  EXPECT_EQ(names({"1-0x06"}), (Names{"Name.FirstName", "Name.LastName"}));
  // Every part of a compound: the compound's own name.
  EXPECT_EQ(names({"0x04", "3-0x3"}), (Names{"Phone", "BillingAddress"}));
  EXPECT_EQ(names({"1-0x07"}), Names{"Name"});
}

TEST(EventCodec, ABitmapThatDoesNotFitTheSchemaIsAnError) {
  EXPECT_NE(bitmap_error({"0x20"}).find("bit 5 is set, but the schema has 5 fields"),
            std::string::npos);
  EXPECT_NE(bitmap_error({"0x"}).find("is not a bitmap"), std::string::npos);
  EXPECT_NE(bitmap_error({"0xZ1"}).find("is not a bitmap"), std::string::npos);
  EXPECT_NE(bitmap_error({"Phone"}).find("neither 0x<bitmap> nor <position>-0x<bitmap>"),
            std::string::npos);
  EXPECT_NE(bitmap_error({"9-0x1"}).find("position 9 is beyond"), std::string::npos);
  EXPECT_NE(bitmap_error({"2-0x1"}).find("Phone at position 2 is not a compound field"),
            std::string::npos);
  EXPECT_NE(bitmap_error({"3-0x4"}).find("bit 2 is set, but the schema has 2 fields"),
            std::string::npos);
  EXPECT_NE(bitmap_error({"-0x1"}).find("neither"), std::string::npos);
}

TEST(EventCodec, ABitmapOverManyFieldsUsesEveryHexDigit) {
  std::string json = R"({"type":"record","name":"Wide","fields":[)";
  for (int i = 0; i < 70; ++i) {
    json += (i ? "," : "") + std::string(R"({"name":"F)") + std::to_string(i) +
            R"(","type":["null","string"],"default":null})";
  }
  json += "]}";
  const auto schema = avro::Schema::parse(json).value();
  // Bits 0, 64 and 69: beyond what one 64-bit number holds.
  auto result = bitmap_field_names(schema, {"0x210000000000000001"});
  ASSERT_TRUE(result.is_ok()) << result.error().message;
  EXPECT_EQ(*result, (Names{"F0", "F64", "F69"}));
}

TEST(EventCodec, MalformedEventsAreErrorsNotCrashes) {
  const auto schema = parse(kLowInk);
  auto no_replay = decode_event("/event/Low_Ink__e", schema, {"u", "s", "", ""});
  ASSERT_FALSE(no_replay.is_ok());
  EXPECT_EQ(no_replay.error().message, "the event has no replay ID");
  auto truncated = decode_event("/event/Low_Ink__e", schema, {"u", "s", "\x02", kReplayBytes});
  ASSERT_FALSE(truncated.is_ok());
  EXPECT_EQ(truncated.error().kind, core::ErrorKind::kInvalidInput);
  EXPECT_NE(truncated.error().message.find("truncated input"), std::string::npos);

  // A bitmap naming a position the schema does not have makes the event malformed.
  const auto cdc = parse(kAccountChangeEvent);
  auto payload = avro::encode_json(
      cdc, R"({"ChangeEventHeader":{"entityName":"","recordIds":[],"changeType":"CREATE",
               "changeOrigin":"","transactionKey":"","sequenceNumber":1,"commitTimestamp":1,
               "commitNumber":1,"commitUser":"","nulledFields":[],"diffFields":[],
               "changedFields":["0x80"]}})");
  ASSERT_TRUE(payload.is_ok()) << payload.error().message;
  auto bad_bitmap = decode_event("/data/AccountChangeEvent", cdc, {"", "s", *payload, "r"});
  ASSERT_FALSE(bad_bitmap.is_ok());
  EXPECT_NE(bad_bitmap.error().message.find("ChangeEventHeader.changedFields: element 0: bit 7"),
            std::string::npos)
      << bad_bitmap.error().message;
}

TEST(EventCodec, APublishedRecordEncodesForTheSchemaAndDecodesBack) {
  const auto schema = parse(kLowInk);
  auto payload = encode_record(
      schema,
      R"({"attributes":{"type":"Low_Ink__e"},"Printer_Model__c":"XZO-5","Sheets__c":12.50,)"
      R"("Serviced__c":"2026-11-26T17:30:00.000Z","Urgent__c":false})",
      {.now_ms = 1795714200123, .user_id = "005xx000001SvQrAAK"});
  ASSERT_TRUE(payload.is_ok()) << payload.error().message;
  // Avro C reads it as the same values.
  AvroC c(kLowInk);
  const auto refused = c.read(*payload);
  ASSERT_FALSE(refused.has_value()) << *refused;
  avro_value_t f = AvroC::field(c.value(), "CreatedDate");
  int64_t created = 0;
  avro_value_get_long(&f, &created);
  EXPECT_EQ(created, 1795714200123);
  f = AvroC::field(c.value(), "Serviced__c");
  avro_value_t serviced;
  avro_value_get_current_branch(&f, &serviced);
  int64_t serviced_ms = 0;
  avro_value_get_long(&serviced, &serviced_ms);
  EXPECT_EQ(serviced_ms, 1795714200000);

  auto event = decode_event("/event/Low_Ink__e", schema, {"u", "s", *payload, kReplayBytes});
  ASSERT_TRUE(event.is_ok()) << event.error().message;
  EXPECT_EQ(event->payload_json,
            R"({"CreatedDate":"2026-11-26T17:30:00.123Z","CreatedById":"005xx000001SvQrAAK",)"
            R"("Printer_Model__c":"XZO-5","Sheets__c":12.5,)"
            R"("Serviced__c":"2026-11-26T17:30:00.000Z","Urgent__c":false})");
}

TEST(EventCodec, APublishedRecordTheSchemaCannotHoldIsRefusedNamingTheField) {
  const auto schema = parse(kLowInk);
  const PublishDefaults defaults{.now_ms = 0, .user_id = "005"};
  auto unknown = encode_record(schema, R"({"Urgent__c":true,"Colour__c":"red"})", defaults);
  ASSERT_FALSE(unknown.is_ok());
  EXPECT_EQ(unknown.error().kind, core::ErrorKind::kInvalidInput);
  EXPECT_EQ(unknown.error().message,
            "Colour__c: no such field in the schema of com.sforce.eventbus.Low_Ink__e");
  auto missing = encode_record(schema, R"({"Printer_Model__c":"x"})", defaults);
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.error().message,
            "Urgent__c: missing, and the schema gives it no default and no null");
  auto not_object = encode_record(schema, "[]", defaults);
  ASSERT_FALSE(not_object.is_ok());
  EXPECT_EQ(not_object.error().message, "the record is not a JSON object");
}

}  // namespace
}  // namespace sfkb::pubsub

namespace sfkb::pubsub {
namespace {

// A header of unusual but valid shapes: behind a union, items of a union type, a bitmap that is
// null; the payload keeps an all-null compound out, writes the bitmaps as names, and refuses a
// header that is null or record IDs that are not all strings (as the tree-based decoder did).
constexpr const char* kOddChangeEvent = R"({"type":"record","name":"OddChangeEvent","fields":[
  {"name":"Phone","type":["null","string"]},
  {"name":"ChangeEventHeader","type":["null",{"type":"record","name":"H","fields":[
    {"name":"entityName","type":["null","string"]},
    {"name":"changeType","type":"string"},
    {"name":"recordIds","type":["null",{"type":"array","items":["null","string"]}]},
    {"name":"commitTimestamp","type":["null","long"],"doc":"x:DateTime"},
    {"name":"changedFields","type":["null",{"type":"array","items":["null","string"]}]},
    {"name":"nulledFields","type":["null",{"type":"array","items":"string"}]},
    {"name":"diffFields","type":{"type":"array","items":"string"}}]}]},
  {"name":"Address","type":["null",{"type":"record","name":"A","fields":[
    {"name":"Street","type":["null","string"]},{"name":"City","type":["null","string"]}]}]}]})";

TEST(EventCodec, AChangeEventHeaderOfOddShapesDecodesAsBefore) {
  const auto schema = parse(kOddChangeEvent);
  auto decode = [&](const std::string& record) {
    auto payload = avro::encode_json(schema, record);
    EXPECT_TRUE(payload.is_ok()) << payload.error().message;
    return decode_event("/data/OddChangeEvent", schema,
                        {"", "s", payload.is_ok() ? *payload : std::string(), "r"});
  };
  auto event = decode(R"({"Phone":null,"ChangeEventHeader":{"entityName":"Odd",
      "changeType":"UPDATE","recordIds":["001","002"],"commitTimestamp":1795714200123,
      "changedFields":["0x1","2-0x3"],"nulledFields":null,"diffFields":["2-0x2"]},
      "Address":{"Street":null,"City":null}})");
  ASSERT_TRUE(event.is_ok()) << event.error().message;
  EXPECT_EQ(event->payload_json,
            R"({"ChangeEventHeader":{"entityName":"Odd","changeType":"UPDATE",)"
            R"("recordIds":["001","002"],"commitTimestamp":"2026-11-26T17:30:00.123Z",)"
            R"("changedFields":["Phone","Address"],"diffFields":["Address.City"]}})");
  ASSERT_TRUE(event->change.has_value());
  EXPECT_EQ(event->change->entity_name, "Odd");
  EXPECT_EQ(event->change->record_ids, (std::vector<std::string>{"001", "002"}));
  EXPECT_EQ(event->change->commit_timestamp, 1795714200123);

  auto null_header = decode(R"({"Phone":"1","ChangeEventHeader":null,"Address":null})");
  ASSERT_FALSE(null_header.is_ok());
  EXPECT_EQ(null_header.error().message, "ChangeEventHeader is not a record");

  auto null_id = decode(R"({"ChangeEventHeader":{"entityName":"Odd","changeType":"CREATE",
      "recordIds":["001",null],"diffFields":[]}})");
  ASSERT_FALSE(null_id.is_ok());
  EXPECT_EQ(null_id.error().message,
            "ChangeEventHeader.recordIds holds a value that is not a string");

  auto no_ids = decode(R"({"ChangeEventHeader":{"entityName":"Odd","changeType":"CREATE",
      "recordIds":null,"diffFields":[]}})");
  ASSERT_FALSE(no_ids.is_ok());
  EXPECT_EQ(no_ids.error().message, "ChangeEventHeader.recordIds is not an array");

  auto no_entity = decode(R"({"ChangeEventHeader":{"entityName":null,"changeType":"CREATE",
      "recordIds":[],"diffFields":[]}})");
  ASSERT_FALSE(no_entity.is_ok());
  EXPECT_EQ(no_entity.error().message, "ChangeEventHeader.entityName is missing or not a string");
}

}  // namespace
}  // namespace sfkb::pubsub
