// InjectShape in-process: the message each channel kind's inject becomes, and the inject bodies
// it refuses.

#include "event_shapes.h"

#include <gtest/gtest.h>

namespace sfkb::emulator {
namespace {

InjectShape::Context context() {
  InjectShape::Context c;
  c.created_date = "2026-11-26T17:30:00.123Z";
  c.now_ms = 1764178200123;
  c.schema_id = "schema-22-characters-x";
  c.created_by = "005xx000001SvQrAAK";
  return c;
}

std::variant<InjectShape, std::string> parse(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  EXPECT_FALSE(doc.HasParseError()) << body;
  return InjectShape::parse(doc, doc["channel"].GetString(), context());
}

// The whole message of event `seq` (the event bus's part included), parsed.
rapidjson::Document message(const std::string& body, std::uint64_t seq = 0, std::uint64_t n = 0) {
  auto parsed = parse(body);
  rapidjson::Document doc;
  if (const auto* problem = std::get_if<std::string>(&parsed)) {
    ADD_FAILURE() << body << " -> " << *problem;
    return doc;
  }
  std::string text;
  const auto& shape = std::get<InjectShape>(parsed);
  shape.append_prefix(text, seq, n, "3b2d7c1e-9d1a-4b8e-8f21-5c0f1d2e3a4b");
  EXPECT_LE(text.size() + 24, shape.size_hint()) << text;
  text += "42}}}";  // what EventBus::append adds
  doc.Parse(text.c_str());
  EXPECT_FALSE(doc.HasParseError()) << text;
  EXPECT_TRUE(doc.IsObject()) << text;
  return doc;
}

std::string names(const rapidjson::Value& object) {
  std::string out;
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    out += (out.empty() ? "" : ",") + std::string(it->name.GetString());
  }
  return out;
}

TEST(EventShapes, PlatformEventKeepsItsShape) {
  auto m = message(R"({"channel":"/event/A__e","payload":{"Text__c":"t{seq}","N__c":12.5}})", 3);
  EXPECT_EQ(names(m), "channel,data");
  EXPECT_EQ(names(m["data"]), "schema,payload,event");
  EXPECT_EQ(names(m["data"]["payload"]), "CreatedDate,CreatedById,Text__c,N__c");
  EXPECT_STREQ(m["data"]["payload"]["Text__c"].GetString(), "t3");
  EXPECT_EQ(names(m["data"]["event"]), "EventUuid,replayId");
  EXPECT_EQ(m["data"]["event"]["replayId"].GetInt64(), 42);
}

TEST(EventShapes, PushTopicHasNoSchemaNoPayloadButSobjectAndEventType) {
  auto m =
      message(R"({"channel":"/topic/Invoices","sobject":{"Name":"INV-{seq}","Amount__c":12.5},)"
              R"("type":"updated"})",
              7, 70);
  EXPECT_EQ(names(m["data"]), "sobject,event");
  EXPECT_EQ(names(m["data"]["sobject"]), "Id,Name,Amount__c");
  EXPECT_EQ(std::string(m["data"]["sobject"]["Id"].GetString()).size(), 18u);
  EXPECT_STREQ(m["data"]["sobject"]["Name"].GetString(), "INV-7");
  EXPECT_EQ(names(m["data"]["event"]), "createdDate,type,replayId");
  EXPECT_STREQ(m["data"]["event"]["type"].GetString(), "updated");
  EXPECT_STREQ(m["data"]["event"]["createdDate"].GetString(), "2026-11-26T17:30:00.123Z");
  // A given Id is kept, and the type defaults to created.
  auto given = message(R"({"channel":"/topic/Invoices","sobject":{"Id":"a07xx000003DGb2AAG"}})");
  EXPECT_EQ(names(given["data"]["sobject"]), "Id");
  EXPECT_STREQ(given["data"]["sobject"]["Id"].GetString(), "a07xx000003DGb2AAG");
  EXPECT_STREQ(given["data"]["event"]["type"].GetString(), "created");
}

TEST(EventShapes, ChangeEventHasAFullHeaderAndNoEventUuid) {
  auto m = message(R"({"channel":"/data/AccountChangeEvent","change":{"changeType":"UPDATE"},)"
                   R"("payload":{"Rating":"Hot","AnnualRevenue":12.5}})",
                   0, 9);
  EXPECT_EQ(names(m["data"]), "schema,payload,event");
  EXPECT_EQ(names(m["data"]["event"]), "replayId");
  EXPECT_EQ(names(m["data"]["payload"]), "ChangeEventHeader,Rating,AnnualRevenue");
  const auto& h = m["data"]["payload"]["ChangeEventHeader"];
  EXPECT_EQ(names(h),
            "entityName,changeType,changeOrigin,sequenceNumber,commitTimestamp,commitUser,"
            "nulledFields,diffFields,changedFields,recordIds,transactionKey,commitNumber");
  EXPECT_STREQ(h["entityName"].GetString(), "Account");
  EXPECT_STREQ(h["changeType"].GetString(), "UPDATE");
  EXPECT_EQ(h["commitTimestamp"].GetInt64(), 1764178200123);
  EXPECT_EQ(h["commitNumber"].GetInt64(), 10);
  EXPECT_STREQ(h["transactionKey"].GetString(), "3b2d7c1e-9d1a-4b8e-8f21-5c0f1d2e3a4b");
  ASSERT_EQ(h["recordIds"].Size(), 1u);
  EXPECT_EQ(std::string(h["recordIds"][0].GetString()).substr(0, 3), "001");  // an Account ID
  ASSERT_EQ(h["changedFields"].Size(), 2u);
  EXPECT_STREQ(h["changedFields"][1].GetString(), "AnnualRevenue");
}

TEST(EventShapes, ChangeEventTakesGivenHeaderFieldsSeveralRecordIdsAndCustomEntities) {
  auto m =
      message(R"({"channel":"/data/ChangeEvents","change":{"entityName":"Invoice__c",)"
              R"("recordIds":["a07xx{seq}A","a07xx{seq}B"],"changeType":"DELETE","commitNumber":5,)"
              R"("transactionKey":"tk"}})",
              4);
  const auto& h = m["data"]["payload"]["ChangeEventHeader"];
  EXPECT_STREQ(h["entityName"].GetString(), "Invoice__c");
  ASSERT_EQ(h["recordIds"].Size(), 2u);
  EXPECT_STREQ(h["recordIds"][1].GetString(), "a07xx4B");
  EXPECT_EQ(h["commitNumber"].GetInt64(), 5);
  EXPECT_STREQ(h["transactionKey"].GetString(), "tk");
  EXPECT_EQ(names(m["data"]["payload"]), "ChangeEventHeader");
  // /data/<Name>__ChangeEvent is the custom object <Name>__c.
  auto custom = message(R"({"channel":"/data/Invoice__ChangeEvent"})");
  EXPECT_STREQ(custom["data"]["payload"]["ChangeEventHeader"]["entityName"].GetString(),
               "Invoice__c");
}

TEST(EventShapes, GapEventsCarryOnlyTheHeaderAndOverflowNamesNoRecord) {
  auto gap =
      message(R"({"channel":"/data/AccountChangeEvent","change":{"changeType":"GAP_UPDATE"}})");
  EXPECT_EQ(names(gap["data"]["payload"]), "ChangeEventHeader");
  EXPECT_EQ(gap["data"]["payload"]["ChangeEventHeader"]["recordIds"].Size(), 1u);
  auto overflow =
      message(R"({"channel":"/data/AccountChangeEvent","change":{"changeType":"GAP_OVERFLOW"}})");
  EXPECT_EQ(overflow["data"]["payload"]["ChangeEventHeader"]["recordIds"].Size(), 0u);
}

TEST(EventShapes, RefusesBodiesThatDoNotFitTheChannelsKind) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"channel":"/topic/T","payload":{"A":1}})", "a /topic/ event has no payload"},
      {R"({"channel":"/topic/T","sobject":[]})", "sobject: expected a JSON object"},
      {R"({"channel":"/topic/T","type":"merged"})", "type: expected created, updated"},
      {R"({"channel":"/topic/T","change":{}})", "only for /data/ channels"},
      {R"({"channel":"/event/A__e","sobject":{}})", "only for /topic/ channels"},
      {R"({"channel":"/event/A__e","payload":[]})", "payload: expected a JSON object"},
      {R"({"channel":"/data/ChangeEvents"})", "change.entityName is required"},
      {R"({"channel":"/data/AccountChangeEvent","change":{"changeType":"MERGE"}})",
       "change.changeType: expected CREATE"},
      {R"({"channel":"/data/AccountChangeEvent","change":{"recordIds":"001"}})",
       "change.recordIds: expected an array"},
      {R"({"channel":"/data/AccountChangeEvent","change":{"recordIds":[1]}})",
       "change.recordIds: expected an array"},
      {R"({"channel":"/data/AccountChangeEvent","change":{"changeType":"GAP_CREATE"},)"
       R"("payload":{"Name":"x"}})",
       "carries only the header"},
      {R"({"channel":"/data/AccountChangeEvent","payload":{"ChangeEventHeader":{}}})",
       "give the header's fields as `change`"},
      {R"({"channel":"/data/AccountChangeEvent","change":[]})", "change: expected a JSON object"},
  };
  for (const auto& [body, problem] : cases) {
    auto parsed = parse(body);
    const auto* text = std::get_if<std::string>(&parsed);
    ASSERT_NE(text, nullptr) << body;
    EXPECT_NE(text->find(problem), std::string::npos) << body << " -> " << *text;
  }
}

TEST(EventShapes, RecordIdsAreEighteenCharactersAndUniquePerCounter) {
  EXPECT_EQ(record_id_for("001", 0), "001xx0000000001AAA");
  EXPECT_EQ(record_id_for("001", 60), "001xx000000000zAAA");
  EXPECT_EQ(record_id_for("001", 61), "001xx0000000010AAA");
  EXPECT_NE(record_id_for("001", 62), record_id_for("001", 63));
}

}  // namespace
}  // namespace sfkb::emulator
