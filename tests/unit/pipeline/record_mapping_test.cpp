#include "daemon/pipeline/record_mapping.h"

#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

namespace sfkb::pipeline {
namespace {

RecordMappingSpec spec(std::string event = "Flight_Request__e") {
  RecordMappingSpec s;
  s.event = std::move(event);
  return s;
}

std::string map_ok(const RecordMapper& mapper, std::string_view value,
                   std::optional<std::string_view> key = std::nullopt) {
  auto result = mapper.map(key, value);
  EXPECT_TRUE(result.is_ok()) << (result.is_ok() ? "" : result.error().message);
  return result.is_ok() ? result.value() : "";
}

std::string map_error(const RecordMapper& mapper, std::optional<std::string_view> value) {
  auto result = mapper.map(std::nullopt, value);
  EXPECT_FALSE(result.is_ok());
  if (result.is_ok()) {
    return "";
  }
  EXPECT_EQ(result.error().kind, core::ErrorKind::kInvalidInput);
  return result.error().message;
}

TEST(RecordMapping, ShouldPrefixTheEventTypeAndKeepFieldsInOrder) {
  RecordMapper mapper(spec());
  EXPECT_EQ(map_ok(mapper, R"({"Flight_Id__c":"F1","Seats__c":3})"),
            R"({"attributes":{"type":"Flight_Request__e"},"Flight_Id__c":"F1","Seats__c":3})");
}

TEST(RecordMapping, ShouldCopyNumbersExactlyAsWritten) {
  RecordMapper mapper(spec());
  EXPECT_EQ(map_ok(mapper, R"({"a":12345678901234567890123,"b":1.10,"c":-0.0,"d":2E-3})"),
            R"({"attributes":{"type":"Flight_Request__e"},"a":12345678901234567890123,)"
            R"("b":1.10,"c":-0.0,"d":2E-3})");
}

TEST(RecordMapping, ShouldKeepNestedValuesAndEscapes) {
  RecordMapper mapper(spec());
  EXPECT_EQ(map_ok(mapper,
                   " {\"a\": {\"b\": [1, {\"c\": null}], \"t\": true}, \"s\": \"x\\\"\\u00e9\"} "),
            "{\"attributes\":{\"type\":\"Flight_Request__e\"},\"a\":{\"b\":[1,{\"c\":null}],"
            "\"t\":true},\"s\":\"x\\\"\xC3\xA9\"}");
}

TEST(RecordMapping, ShouldRenameTopLevelFieldsOnly) {
  auto s = spec();
  s.rename = {{"flightId", "Flight_Id__c"}, {"inner", "Never__c"}};
  RecordMapper mapper(s);
  EXPECT_EQ(
      map_ok(mapper, R"({"flightId":"F1","nested":{"inner":1}})"),
      R"({"attributes":{"type":"Flight_Request__e"},"Flight_Id__c":"F1","nested":{"inner":1}})");
}

TEST(RecordMapping, ShouldLetStaticFieldsWinOverRecordFields) {
  auto s = spec();
  s.static_fields = {{"Source__c", R"("kafka")"}, {"Priority__c", "5"}, {"Flag__c", "true"}};
  RecordMapper mapper(s);
  EXPECT_EQ(map_ok(mapper, R"({"Source__c":{"deep":[1,2,{"x":[]}]},"Other__c":"o"})"),
            R"({"attributes":{"type":"Flight_Request__e"},"Flag__c":true,"Priority__c":5,)"
            R"("Source__c":"kafka","Other__c":"o"})");
}

TEST(RecordMapping, ShouldReplaceTheRecordsOwnAttributes) {
  RecordMapper mapper(spec());
  EXPECT_EQ(map_ok(mapper, R"({"attributes":{"type":"Account","url":"/x"},"A__c":1})"),
            R"({"attributes":{"type":"Flight_Request__e"},"A__c":1})");
}

TEST(RecordMapping, ShouldKeepTheFirstOfDuplicateNamesAfterRenaming) {
  auto s = spec();
  s.rename = {{"id", "Flight_Id__c"}};
  RecordMapper mapper(s);
  EXPECT_EQ(map_ok(mapper, R"({"id":"renamed","Flight_Id__c":"original","B__c":[1]})"),
            R"({"attributes":{"type":"Flight_Request__e"},"Flight_Id__c":"renamed","B__c":[1]})");
}

TEST(RecordMapping, ShouldPutTheKeyIntoTheKeyField) {
  auto s = spec();
  s.key_field = "Key__c";
  RecordMapper mapper(s);
  EXPECT_EQ(map_ok(mapper, R"({"Key__c":"from-value","A__c":1})", "k\"1"),
            R"({"attributes":{"type":"Flight_Request__e"},"Key__c":"k\"1","A__c":1})");
  // A null key leaves the record's own field alone.
  EXPECT_EQ(map_ok(mapper, R"({"Key__c":"from-value"})"),
            R"({"attributes":{"type":"Flight_Request__e"},"Key__c":"from-value"})");
}

TEST(RecordMapping, ShouldRefuseAKeyThatIsNotUtf8) {
  auto s = spec();
  s.key_field = "Key__c";
  RecordMapper mapper(s);
  auto result = mapper.map(std::string_view("\xff\xfe", 2), R"({"a":1})");
  ASSERT_FALSE(result.is_ok());
  EXPECT_NE(result.error().message.find("UTF-8"), std::string::npos);
}

TEST(RecordMapping, ShouldExplainAnEmptyOrNullValue) {
  RecordMapper mapper(spec());
  EXPECT_EQ(map_error(mapper, ""), "empty value (a JSON object was expected)");
  EXPECT_EQ(map_error(mapper, std::nullopt), "null value (a JSON object was expected)");
}

TEST(RecordMapping, ShouldNameTheOffsetOfInvalidJson) {
  RecordMapper mapper(spec());
  EXPECT_EQ(map_error(mapper, R"({"a":1,})"),
            "invalid JSON at offset 7: Missing a name for object member.");
  EXPECT_NE(map_error(mapper, R"({"a":1} trailing)").find("invalid JSON at offset 8"),
            std::string::npos);
  EXPECT_NE(map_error(mapper, "{\"a\":\"\xff\"}").find("invalid JSON at offset"),
            std::string::npos);
  EXPECT_NE(map_error(mapper, "@{}").find("invalid JSON at offset 0: Invalid value."),
            std::string::npos);
}

TEST(RecordMapping, ShouldNameTheTypeOfAValueThatIsNotAnObject) {
  RecordMapper mapper(spec());
  EXPECT_EQ(map_error(mapper, "[1,2]"), "value is a JSON array, not an object");
  EXPECT_EQ(map_error(mapper, "\"text\""), "value is a JSON string, not an object");
  EXPECT_EQ(map_error(mapper, "42"), "value is a JSON number, not an object");
  EXPECT_EQ(map_error(mapper, "null"), "value is a JSON null, not an object");
  EXPECT_EQ(map_error(mapper, "true"), "value is a JSON boolean, not an object");
}

TEST(RecordMapping, ShouldRefuseAValueAboveTheSizeLimit) {
  auto s = spec();
  s.max_value_bytes = 20;
  RecordMapper mapper(s);
  std::string big = R"({"a":")" + std::string(20, 'x') + R"("})";
  EXPECT_EQ(map_error(mapper, big), "value is 28 bytes, above the limit of 20 bytes for one event");
  EXPECT_TRUE(mapper.map(std::nullopt, R"({"a":"x"})").is_ok());
}

TEST(RecordMapping, ShouldRefuseABadStaticFieldAtStartUp) {
  auto s = spec();
  s.static_fields = {{"A__c", "{\"x\":1}"}};
  EXPECT_THROW(RecordMapper{s}, std::invalid_argument);
  s.static_fields = {{"A__c", "unquoted"}};
  EXPECT_THROW(RecordMapper{s}, std::invalid_argument);
  EXPECT_THROW(RecordMapper{spec("")}, std::invalid_argument);
}

TEST(RecordMapping, ShouldBuildTheSpecFromTheConfig) {
  config::PublishMapping mapping;
  mapping.event = "E__e";
  mapping.rename = {{"a", "A__c"}};
  mapping.static_fields = {{"S__c", "1"}};
  mapping.key_field = "K__c";
  auto s = mapping_spec_from(mapping);
  EXPECT_EQ(s.event, "E__e");
  EXPECT_EQ(s.rename.at("a"), "A__c");
  EXPECT_EQ(s.static_fields.at("S__c"), "1");
  EXPECT_EQ(s.key_field, "K__c");
}

}  // namespace
}  // namespace sfkb::pipeline
