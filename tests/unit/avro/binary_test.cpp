#include "daemon/avro/binary.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "daemon/avro/json.h"
#include "tests/support/avro_c.h"
#include "tests/support/seed.h"

namespace sfkb::avro {
namespace {

using test_support::AvroC;

Schema parse(const std::string& json) {
  auto schema = Schema::parse(json);
  if (!schema) {
    ADD_FAILURE() << schema.error().message;
    return Schema::parse(R"("null")").value();
  }
  return std::move(schema).value();
}

std::string bytes(std::initializer_list<int> list) {
  std::string out;
  for (const int b : list) {
    out.push_back(static_cast<char>(b));
  }
  return out;
}

std::string decoded_json(const Schema& schema, const std::string& payload) {
  auto json = decode_to_json(schema, payload);
  if (!json) {
    return "error: " + json.error().message;
  }
  return *json;
}

// The examples of the Avro 1.11 specification, "Binary Encoding", byte for byte.
TEST(AvroBinary, DecodesTheSpecificationsExamples) {
  EXPECT_EQ(decoded_json(parse(R"("long")"), bytes({0x00})), "0");
  EXPECT_EQ(decoded_json(parse(R"("long")"), bytes({0x01})), "-1");
  EXPECT_EQ(decoded_json(parse(R"("long")"), bytes({0x02})), "1");
  EXPECT_EQ(decoded_json(parse(R"("long")"), bytes({0x7f})), "-64");
  EXPECT_EQ(decoded_json(parse(R"("long")"), bytes({0x80, 0x01})), "64");
  EXPECT_EQ(decoded_json(parse(R"("string")"), bytes({0x06, 0x66, 0x6f, 0x6f})), R"("foo")");
  EXPECT_EQ(decoded_json(parse(R"({"type":"record","name":"test","fields":[
                                    {"name":"a","type":"long"},{"name":"b","type":"string"}]})"),
                         bytes({0x36, 0x06, 0x66, 0x6f, 0x6f})),
            R"({"a":27,"b":"foo"})");
  EXPECT_EQ(
      decoded_json(parse(R"({"type":"array","items":"long"})"), bytes({0x04, 0x06, 0x36, 0x00})),
      "[3,27]");
  // The same array as one block with a negative count and its byte size.
  EXPECT_EQ(decoded_json(parse(R"({"type":"array","items":"long"})"),
                         bytes({0x03, 0x04, 0x06, 0x36, 0x00})),
            "[3,27]");
  EXPECT_EQ(decoded_json(parse(R"(["null","string"])"), bytes({0x00})), "null");
  EXPECT_EQ(decoded_json(parse(R"(["null","string"])"), bytes({0x02, 0x02, 0x61})), R"("a")");
  EXPECT_EQ(decoded_json(parse(R"("boolean")"), bytes({0x01})), "true");
  // 12.5 as an IEEE 754 double, little-endian.
  EXPECT_EQ(decoded_json(parse(R"("double")"), bytes({0, 0, 0, 0, 0, 0, 0x29, 0x40})), "12.5");
  EXPECT_EQ(decoded_json(parse(R"("float")"), bytes({0, 0, 0x48, 0x41})), "12.5");
  EXPECT_EQ(decoded_json(parse(R"({"type":"map","values":"int"})"),
                         bytes({0x02, 0x02, 0x6b, 0x54, 0x00})),
            R"({"k":42})");
  EXPECT_EQ(decoded_json(parse(R"({"type":"enum","name":"E","symbols":["A","B"]})"), bytes({0x02})),
            R"("B")");
}

// A change event's schema in Salesforce's shape (docs/SALESFORCE_PROTOCOL.md), written by Avro C.
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
    {"name":"changedFields","type":{"type":"array","items":"string"}}]}},
  {"name":"Name","type":["null","string",{"type":"record","name":"Switchable_PersonName",
    "fields":[{"name":"Salutation","type":["null","string"],"default":null},
              {"name":"FirstName","type":["null","string"],"default":null},
              {"name":"LastName","type":["null","string"],"default":null}]}],"default":null},
  {"name":"AnnualRevenue","type":["null","double"],"default":null},
  {"name":"LastModifiedDate","type":["null","long"],"doc":"Data:DateTime","default":null}]})";

TEST(AvroBinary, DecodesWhatAvroCWrites) {
  AvroC c(kAccountChangeEvent);
  avro_value_t header = AvroC::field(c.value(), "ChangeEventHeader");
  avro_value_t f = AvroC::field(header, "entityName");
  avro_value_set_string(&f, "Account");
  f = AvroC::field(header, "recordIds");
  avro_value_t id = AvroC::append(f);
  avro_value_set_string(&id, "001xx000003DGb2AAG");
  f = AvroC::field(header, "changeType");
  avro_value_set_enum(&f, 1);
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
  avro_value_t bit = AvroC::append(f);
  avro_value_set_string(&bit, "0x0A");
  avro_value_t name = AvroC::field(c.value(), "Name");
  avro_value_t person = AvroC::branch(name, 2);
  avro_value_t last = AvroC::field(person, "LastName");
  avro_value_t last_text = AvroC::branch(last, 1);
  avro_value_set_string(&last_text, "Lovelace");
  avro_value_t first = AvroC::field(person, "FirstName");
  AvroC::branch(first, 0);
  avro_value_t salutation = AvroC::field(person, "Salutation");
  AvroC::branch(salutation, 0);
  avro_value_t revenue = AvroC::field(c.value(), "AnnualRevenue");
  avro_value_t revenue_value = AvroC::branch(revenue, 1);
  avro_value_set_double(&revenue_value, 12.5);
  avro_value_t modified = AvroC::field(c.value(), "LastModifiedDate");
  avro_value_t modified_value = AvroC::branch(modified, 1);
  avro_value_set_long(&modified_value, 1795714200000);
  const std::string payload = c.write();

  const Schema schema = parse(kAccountChangeEvent);
  EXPECT_EQ(decoded_json(schema, payload),
            R"({"ChangeEventHeader":{"entityName":"Account","recordIds":["001xx000003DGb2AAG"],)"
            R"("changeType":"UPDATE","changeOrigin":"com/salesforce/api/rest/62.0",)"
            R"("transactionKey":"0002ac83-fcbd-9443-f901-7d3a380feb2c","sequenceNumber":1,)"
            R"("commitTimestamp":1795714200123,"commitNumber":10957268752,)"
            R"("commitUser":"005xx000001SvQrAAK","nulledFields":[],"diffFields":[],)"
            R"("changedFields":["0x0A"]},)"
            R"("Name":{"Salutation":null,"FirstName":null,"LastName":"Lovelace"},)"
            R"("AnnualRevenue":12.5,"LastModifiedDate":"2026-11-26T17:30:00.000Z"})");

  // And back: the JSON read by from_json and encoded gives Avro C's bytes exactly.
  auto again = encode_json(schema, decoded_json(schema, payload));
  ASSERT_TRUE(again.is_ok()) << again.error().message;
  EXPECT_EQ(*again, payload);
}

// Random values of a schema with every type: encoded here, read by Avro C, written again by Avro C
// - the bytes must not change; and decoded here again to the same JSON.
TEST(AvroBinary, RandomValuesRoundTripThroughAvroC) {
  SCOPED_TRACE(test_support::seed_note());
  std::mt19937 random(test_support::test_seed());
  constexpr const char* kSchema = R"({"type":"record","name":"All","fields":[
    {"name":"b","type":"boolean"},{"name":"i","type":"int"},{"name":"l","type":"long"},
    {"name":"f","type":"float"},{"name":"d","type":"double"},{"name":"s","type":"string"},
    {"name":"y","type":"bytes"},{"name":"x","type":{"type":"fixed","name":"X","size":3}},
    {"name":"e","type":{"type":"enum","name":"E","symbols":["P","Q","R"]}},
    {"name":"a","type":{"type":"array","items":["null","long"]}},
    {"name":"m","type":{"type":"map","values":"string"}},
    {"name":"u","type":["null","string","double"]},
    {"name":"r","type":["null",{"type":"record","name":"In","fields":[{"name":"v","type":"int"}]}]}
  ]})";
  const Schema schema = parse(kSchema);
  AvroC c(kSchema);
  auto pick = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(random);
  };
  auto text = [&](std::size_t max) {
    std::string s;
    const auto n = static_cast<std::size_t>(pick(0, static_cast<std::int64_t>(max)));
    for (std::size_t i = 0; i < n; ++i) {
      s += static_cast<char>(pick('a', 'z'));
    }
    return s;
  };
  for (int round = 0; round < 300; ++round) {
    std::string json = "{";
    json += "\"b\":" + std::string(pick(0, 1) ? "true" : "false");
    json += ",\"i\":" + std::to_string(pick(INT32_MIN, INT32_MAX));
    json += ",\"l\":" + std::to_string(pick(INT64_MIN, INT64_MAX));
    json += ",\"f\":" + std::to_string(pick(-1000, 1000)) + ".25";
    json += ",\"d\":" + std::to_string(pick(-1000000, 1000000)) + ".125";
    json += ",\"s\":\"" + text(40) + "\"";
    json += ",\"y\":\"AAEC\",\"x\":\"/+8A\"";
    json += ",\"e\":\"" + std::string(1, static_cast<char>('P' + pick(0, 2))) + "\"";
    json += ",\"a\":[";
    for (std::int64_t n = pick(0, 5), k = 0; k < n; ++k) {
      json += (k ? "," : "") + (pick(0, 1) ? std::string("null") : std::to_string(pick(-99, 99)));
    }
    json += "],\"m\":{";
    for (std::int64_t n = pick(0, 3), k = 0; k < n; ++k) {
      json += (k ? ",\"k" : "\"k") + std::to_string(k) + "\":\"" + text(5) + "\"";
    }
    json += "},\"u\":";
    const auto u = pick(0, 2);
    json += u == 0 ? "null" : u == 1 ? "\"" + text(8) + "\"" : "0.5";
    json += ",\"r\":" +
            (pick(0, 1) ? std::string("null") : "{\"v\":" + std::to_string(pick(-5, 5)) + "}");
    json += "}";
    SCOPED_TRACE(json);
    auto ours = encode_json(schema, json);
    ASSERT_TRUE(ours.is_ok()) << ours.error().message;
    const auto refused = c.read(*ours);
    ASSERT_FALSE(refused.has_value()) << *refused;
    EXPECT_EQ(c.write(), *ours);
    auto back = decode_to_json(schema, *ours);
    ASSERT_TRUE(back.is_ok()) << back.error().message;
    auto again = encode_json(schema, *back);
    ASSERT_TRUE(again.is_ok()) << again.error().message;
    EXPECT_EQ(*again, *ours);
  }
}

std::string decode_error(const Schema& schema, const std::string& payload) {
  auto value = decode(schema, payload);
  EXPECT_FALSE(value.is_ok());
  if (value.is_ok()) {
    return {};
  }
  EXPECT_EQ(value.error().kind, core::ErrorKind::kInvalidInput);
  return value.error().message;
}

TEST(AvroBinary, RefusesEveryTruncationOfAValidPayload) {
  const Schema schema = parse(kAccountChangeEvent);
  auto payload = encode_json(
      schema,
      R"({"ChangeEventHeader":{"entityName":"Account","recordIds":["001"],"changeType":"CREATE",
          "changeOrigin":"o","transactionKey":"t","sequenceNumber":1,"commitTimestamp":5,
          "commitNumber":6,"commitUser":"u","nulledFields":[],"diffFields":[],
          "changedFields":["0x02"]},"Name":"Acme","AnnualRevenue":1.5})");
  ASSERT_TRUE(payload.is_ok()) << payload.error().message;
  for (std::size_t cut = 0; cut < payload->size(); ++cut) {
    const std::string message = decode_error(schema, payload->substr(0, cut));
    EXPECT_NE(message.find("truncated input"), std::string::npos) << cut << ": " << message;
  }
  EXPECT_NE(decode_error(schema, *payload + "x").find("left over"), std::string::npos);
}

TEST(AvroBinary, RefusesMalformedInputWithTheReason) {
  EXPECT_NE(decode_error(parse(R"(["null","string"])"), bytes({0x04})).find("wrong union index 2"),
            std::string::npos);
  EXPECT_NE(decode_error(parse(R"(["null","string"])"), bytes({0x01})).find("wrong union index -1"),
            std::string::npos);
  EXPECT_NE(decode_error(parse(R"("string")"), bytes({0x01})).find("negative"), std::string::npos);
  EXPECT_NE(decode_error(parse(R"("string")"), bytes({0x02, 0xff})).find("UTF-8"),
            std::string::npos);
  EXPECT_NE(decode_error(parse(R"("boolean")"), bytes({0x02})).find("not 0 or 1"),
            std::string::npos);
  EXPECT_NE(decode_error(parse(R"("int")"), bytes({0xff, 0xff, 0xff, 0xff, 0x7f}))
                .find("does not fit 32 bits"),
            std::string::npos);
  EXPECT_NE(decode_error(parse(R"("long")"), std::string(10, '\xff') + "\x01").find("64 bits"),
            std::string::npos);
  EXPECT_NE(decode_error(parse(R"("long")"), std::string(11, '\x80')).find("ten bytes"),
            std::string::npos);
  EXPECT_NE(decode_error(parse(R"({"type":"enum","name":"E","symbols":["A"]})"), bytes({0x02}))
                .find("no symbol number 1"),
            std::string::npos);
  // A billion nulls announced in five bytes.
  EXPECT_NE(decode_error(parse(R"({"type":"array","items":"null"})"),
                         bytes({0x80, 0xa8, 0xd6, 0xb9, 0x07}))
                .find("more values"),
            std::string::npos);
  // A record that contains itself consumes no bytes: the depth bound stops it.
  EXPECT_NE(
      decode_error(parse(R"({"type":"record","name":"R","fields":[{"name":"r","type":"R"}]})"), "")
          .find("nested deeper"),
      std::string::npos);
}

TEST(AvroBinary, EncodeRefusesAValueThatDoesNotFitItsSchema) {
  const Schema schema = parse(R"(["null","string"])");
  Value value;
  value.node = schema.root();
  value.index = 5;
  value.children.resize(1);
  auto bytes = encode(schema, value);
  ASSERT_FALSE(bytes.is_ok());
  EXPECT_NE(bytes.error().message.find("wrong union index 5"), std::string::npos);
}

}  // namespace
}  // namespace sfkb::avro
