// EventTypes in-process: the events file and field validation.

#include "event_types.h"

#include <gtest/gtest.h>

namespace sfkb::emulator {
namespace {

const char* kYaml =
    "events:\n"
    "  Flight_Approved__e:\n"
    "    Flight_Id__c: string\n"
    "    Amount__c: number\n"
    "    Paid__c: boolean\n"
    "    Departure__c: datetime\n"
    "    Day__c: date\n";

rapidjson::Document json(const char* text) {
  rapidjson::Document d;
  d.Parse(text);
  return d;
}

TEST(EventTypesTest, ShouldParseTypesWithChannelsAndStableSchemaIds) {
  auto types = EventTypes::parse(kYaml, "test");
  const EventType* t = types.find("Flight_Approved__e");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->channel(), "/event/Flight_Approved__e");
  EXPECT_EQ(t->fields.size(), 5u);
  EXPECT_EQ(t->schema_id.size(), 22u);
  EXPECT_EQ(EventTypes::parse(kYaml, "again").find("Flight_Approved__e")->schema_id, t->schema_id);
  auto changed = EventTypes::parse(std::string(kYaml) + "    Extra__c: string\n", "changed");
  EXPECT_NE(changed.find("Flight_Approved__e")->schema_id, t->schema_id);
  EXPECT_EQ(types.find_by_channel("/event/Flight_Approved__e"), t);
  EXPECT_EQ(types.find_by_channel("/data/Flight_Approved__e"), nullptr);
}

TEST(EventTypesTest, ErrorsNameTheLineAndTheValidChoices) {
  try {
    EventTypes::parse("events:\n  A__e:\n    F__c: blob\n", "events.yaml");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("events.yaml:3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("valid: string"), std::string::npos) << e.what();
  }
  EXPECT_THROW(EventTypes::parse("events:\n  NoSuffix:\n    F__c: string\n", "x"),
               std::runtime_error);
  EXPECT_THROW(EventTypes::parse("nothing: here\n", "x"), std::runtime_error);
}

TEST(EventTypesTest, ValidationAcceptsRightTypesNullsAndAttributes) {
  auto types = EventTypes::parse(kYaml, "test");
  const EventType& t = *types.find("Flight_Approved__e");
  EXPECT_FALSE(EventTypes::validate(
      t, json(R"({"attributes":{"type":"Flight_Approved__e"},"Flight_Id__c":"F1","Amount__c":1,)"
              R"("Paid__c":false,"Departure__c":"2026-11-26T17:30:00.000+0000","Day__c":null})")));
  auto unknown = EventTypes::validate(t, json(R"({"Nope__c":1})"));
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status_code, "INVALID_FIELD");
  EXPECT_EQ(unknown->fields, std::vector<std::string>{"Nope__c"});
  for (const char* bad :
       {R"({"Amount__c":"1"})", R"({"Paid__c":1})", R"({"Flight_Id__c":7})",
        R"({"Departure__c":"tomorrow"})", R"({"Day__c":"2026-11-26T00:00:00Z"})"}) {
    auto e = EventTypes::validate(t, json(bad));
    ASSERT_TRUE(e) << bad;
    EXPECT_EQ(e->status_code, "INVALID_TYPE_ON_FIELD_IN_RECORD") << bad;
  }
}

}  // namespace
}  // namespace sfkb::emulator
