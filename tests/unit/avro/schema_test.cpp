#include "daemon/avro/schema.h"

#include <gtest/gtest.h>

#include <string>

namespace sfkb::avro {
namespace {

std::string error_of(const std::string& json) {
  auto schema = Schema::parse(json);
  EXPECT_FALSE(schema.is_ok()) << json;
  if (schema.is_ok()) {
    return {};
  }
  EXPECT_EQ(schema.error().kind, core::ErrorKind::kInvalidInput);
  return schema.error().message;
}

TEST(AvroSchema, ParsesASalesforcePlatformEventSchema) {
  // The shape GetSchema returns for a platform event (docs/SALESFORCE_PROTOCOL.md).
  auto schema = Schema::parse(R"({"name":"Low_Ink__e","namespace":"com.sforce.eventbus",
      "type":"record","fields":[
        {"name":"CreatedDate","type":"long","doc":"CreatedDate:DateTime"},
        {"name":"CreatedById","type":"string","doc":"CreatedBy:EntityId"},
        {"name":"Printer_Model__c","type":["null","string"],"doc":"Data:Text:00N","default":null}],
      "uuid":"K98aAtiNFBjA-PJlcvaQ2g"})");
  ASSERT_TRUE(schema.is_ok()) << schema.error().message;
  const Node& root = schema->node(schema->root());
  EXPECT_EQ(root.type, Type::kRecord);
  EXPECT_EQ(root.name, "com.sforce.eventbus.Low_Ink__e");
  ASSERT_EQ(root.fields.size(), 3u);
  EXPECT_EQ(root.fields[0].doc, "CreatedDate:DateTime");
  EXPECT_EQ(schema->node(root.fields[0].type).type, Type::kLong);
  EXPECT_EQ(schema->node(root.fields[2].type).type, Type::kUnion);
  EXPECT_EQ(root.fields[2].default_json, "null");
  EXPECT_FALSE(root.fields[0].default_json.has_value());
  EXPECT_EQ(schema->field_index("CreatedById"), 1u);
  EXPECT_EQ(schema->field_index("Nope"), std::nullopt);
  EXPECT_EQ(schema->node(schema->non_null(root.fields[2].type)).type, Type::kString);
}

TEST(AvroSchema, ResolvesNamedTypesInTheirNamespaceAndAllowsRecursion) {
  auto schema = Schema::parse(R"({"type":"record","name":"Node","namespace":"a.b","fields":[
      {"name":"kind","type":{"type":"enum","name":"Kind","symbols":["LEAF","INNER"]}},
      {"name":"again","type":"Kind"},
      {"name":"full","type":"a.b.Kind"},
      {"name":"next","type":["null","Node"]}]})");
  ASSERT_TRUE(schema.is_ok()) << schema.error().message;
  const Node& root = schema->node(schema->root());
  EXPECT_EQ(root.fields[0].type, root.fields[1].type);
  EXPECT_EQ(root.fields[0].type, root.fields[2].type);
  EXPECT_EQ(schema->node(root.fields[0].type).name, "a.b.Kind");
  EXPECT_EQ(schema->node(root.fields[3].type).branches[1], schema->root());
}

TEST(AvroSchema, RefusesInvalidSchemasWithTheReason) {
  EXPECT_NE(error_of("{").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of(R"("nonsense")").find("nonsense"), std::string::npos);
  EXPECT_NE(error_of(R"({"type":"record","name":"R"})").find("fields"), std::string::npos);
  EXPECT_NE(error_of(R"({"type":"record","name":"R","fields":[{"name":"a","type":"int"},
                                                            {"name":"a","type":"long"}]})")
                .find("two fields called a"),
            std::string::npos);
  EXPECT_NE(error_of(R"(["null",["int","string"]])").find("union directly inside"),
            std::string::npos);
  EXPECT_NE(error_of(R"(["string","string"])").find("twice"), std::string::npos);
  EXPECT_NE(error_of(R"([])").find("empty union"), std::string::npos);
  EXPECT_NE(error_of(R"({"type":"enum","name":"E","symbols":["A","A"]})").find("twice"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type":"enum","name":"E","symbols":["1A"]})").find("symbol"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type":"fixed","name":"F","size":-1})").find("size"), std::string::npos);
  EXPECT_NE(error_of(R"({"type":"array"})").find("items"), std::string::npos);
  EXPECT_NE(error_of(R"({"type":"record","name":"9x","fields":[]})").find("not a valid name"),
            std::string::npos);
  EXPECT_NE(error_of(R"([{"type":"record","name":"R","fields":[]},
                         {"type":"record","name":"R","fields":[]}])")
                .find("defined twice"),
            std::string::npos);
  EXPECT_NE(error_of("42").find("neither"), std::string::npos);
}

TEST(AvroSchema, RefusesNestingBeyondTheBoundWithoutExhaustingTheStack) {
  std::string deep;
  for (int i = 0; i < 100000; ++i) {
    deep += R"({"type":"array","items":)";
  }
  deep += R"("int")";
  for (int i = 0; i < 100000; ++i) {
    deep += "}";
  }
  EXPECT_NE(error_of(deep).find("nested deeper"), std::string::npos);
}

}  // namespace
}  // namespace sfkb::avro
