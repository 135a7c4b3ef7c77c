#include "daemon/avro/json.h"

#include <gtest/gtest.h>

#include <limits>

#include "daemon/avro/binary.h"

namespace sfkb::avro {
namespace {

constexpr const char* kEvent = R"({"type":"record","name":"Low_Ink__e","fields":[
  {"name":"CreatedDate","type":"long","doc":"CreatedDate:DateTime"},
  {"name":"CreatedById","type":"string"},
  {"name":"Due__c","type":["null","int"],"doc":"Data:DateOnly","default":null},
  {"name":"At__c","type":["null","long"],"doc":"Data:TimeOnly","default":null},
  {"name":"Stamp__c","type":["null",{"type":"long","logicalType":"timestamp-millis"}],"default":null},
  {"name":"Sheets__c","type":["null","double"],"default":null},
  {"name":"Note__c","type":["null","string"],"default":null},
  {"name":"Blob__c","type":["null","bytes"],"default":null},
  {"name":"Address__c","type":["null",{"type":"record","name":"Address","fields":[
    {"name":"City","type":["null","string"],"default":null},
    {"name":"Street","type":["null","string"],"default":null}]}],"default":null}]})";

Schema event_schema() {
  return Schema::parse(kEvent).value();
}

std::string round(const Schema& schema, const std::string& json, JsonOptions options = {}) {
  auto bytes = encode_json(schema, json);
  if (!bytes) {
    return "encode error: " + bytes.error().message;
  }
  auto back = decode_to_json(schema, *bytes, options);
  return back ? *back : "decode error: " + back.error().message;
}

TEST(AvroJson, WritesDatesAndNumbersAsCometdDoes) {
  const Schema schema = event_schema();
  EXPECT_EQ(round(schema, R"({"CreatedDate":"2026-11-26T17:30:00.123Z","CreatedById":"005",
                              "Due__c":"2026-11-26","At__c":"17:30:00.000Z",
                              "Stamp__c":"2026-11-26T17:30:00.000Z","Sheets__c":3,
                              "Note__c":"a\"b\u00e9","Blob__c":"AAEC",
                              "Address__c":{"City":"Paris"}})"),
            R"({"CreatedDate":"2026-11-26T17:30:00.123Z","CreatedById":"005",)"
            R"("Due__c":"2026-11-26","At__c":"17:30:00.000Z",)"
            R"("Stamp__c":"2026-11-26T17:30:00.000Z","Sheets__c":3,"Note__c":"a\"b)"
            "\xc3\xa9"
            R"(","Blob__c":"AAEC","Address__c":{"City":"Paris","Street":null}})");
}

TEST(AvroJson, WritesTheShortestTextOfADouble) {
  const Schema schema = Schema::parse(R"("double")").value();
  for (const auto& [number, text] :
       std::initializer_list<std::pair<double, const char*>>{{12.5, "12.5"},
                                                             {3, "3"},
                                                             {0.1, "0.1"},
                                                             {-0.0, "-0.0"},
                                                             {1e21, "1e+21"},
                                                             {123456789.123, "123456789.123"}}) {
    Value value;
    value.node = schema.root();
    value.real = number;
    EXPECT_EQ(to_json(schema, value).value(), text);
  }
  Value nan;
  nan.node = schema.root();
  nan.real = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(to_json(schema, nan).is_ok());
}

TEST(AvroJson, OmitsNullsAndAllNullCompoundsWhenAsked) {
  const Schema schema = event_schema();
  EXPECT_EQ(round(schema, R"({"CreatedDate":0,"CreatedById":"005","Sheets__c":1.5,
                              "Address__c":{"City":null}})",
                  {.omit_nulls = true}),
            R"({"CreatedDate":"1970-01-01T00:00:00.000Z","CreatedById":"005","Sheets__c":1.5})");
  EXPECT_EQ(round(schema, R"({"CreatedDate":0,"CreatedById":"005","Address__c":{"Street":"x"}})",
                  {.omit_nulls = true}),
            R"({"CreatedDate":"1970-01-01T00:00:00.000Z","CreatedById":"005",)"
            R"("Address__c":{"Street":"x"}})");
}

TEST(AvroJson, RefusesADateOutsideFourDigitYears) {
  const Schema schema = event_schema();
  EXPECT_NE(round(schema, R"({"CreatedDate":9223372036854775807,"CreatedById":"005"})")
                .find("CreatedDate: 9223372036854775807 is outside"),
            std::string::npos);
}

std::string from_json_error(const Schema& schema, const std::string& json) {
  auto value = from_json(schema, json);
  EXPECT_FALSE(value.is_ok()) << json;
  return value.is_ok() ? std::string() : value.error().message;
}

TEST(AvroJson, ReadingARecordNamesTheFieldThatDoesNotFit) {
  const Schema schema = event_schema();
  EXPECT_EQ(from_json_error(schema, R"({"CreatedDate":0,"CreatedById":"005","Nope__c":1})"),
            "Nope__c: no such field in the schema of Low_Ink__e");
  EXPECT_EQ(from_json_error(schema, R"({"CreatedDate":0,"CreatedById":"005","Sheets__c":"x"})"),
            "Sheets__c: a string where the schema has null or double");
  EXPECT_EQ(from_json_error(schema, R"({"CreatedDate":0})"),
            "CreatedById: missing, and the schema gives it no default and no null");
  EXPECT_EQ(from_json_error(schema, R"({"CreatedDate":"yesterday","CreatedById":"005"})"),
            "CreatedDate: \"yesterday\" is not a date-time like 2026-11-26T17:30:00.000Z");
  EXPECT_EQ(from_json_error(schema, R"({"CreatedDate":0,"CreatedById":"005",
                                        "Address__c":{"Zip":"1"}})"),
            "Address__c.Zip: no such field in the schema of Address");
  EXPECT_EQ(from_json_error(schema, R"({"CreatedDate":0,"CreatedById":"005","Blob__c":"%%"})"),
            "Blob__c: bytes are written as base64, this is not");
  EXPECT_NE(from_json_error(schema, "[1]").find("an array where the schema has record"),
            std::string::npos);
  EXPECT_NE(from_json_error(schema, "{").find("not valid JSON"), std::string::npos);
  EXPECT_EQ(from_json_error(Schema::parse(R"("int")").value(), "4294967296"),
            "the record: a number where the schema has int");
  EXPECT_EQ(from_json_error(Schema::parse(R"("float")").value(), "1e300"),
            "the record: " + std::to_string(1e300) + " does not fit a float");
}

TEST(AvroJson, AMissingFieldTakesItsDefault) {
  const Schema schema = Schema::parse(R"({"type":"record","name":"R","fields":[
      {"name":"n","type":"int","default":7},
      {"name":"u","type":["string","null"],"default":"x"}]})")
                            .value();
  EXPECT_EQ(round(schema, "{}"), R"({"n":7,"u":"x"})");
}

}  // namespace
}  // namespace sfkb::avro
