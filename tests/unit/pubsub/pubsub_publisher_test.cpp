// A record the event codec cannot encode for the topic's schema is dead-lettered by the Pub/Sub
// publisher under the code REST would give the same fault (pubsub_publisher.h), with the codec's
// message naming the field.

#include "daemon/pubsub/pubsub_publisher.h"

#include <gtest/gtest.h>

#include "daemon/avro/schema.h"
#include "daemon/pubsub/event_codec.h"

namespace sfkb::pubsub {
namespace {

constexpr const char* kOrder = R"({"name":"Order__e","namespace":"com.sforce.eventbus",
  "type":"record","fields":[
  {"name":"CreatedDate","type":"long","doc":"CreatedDate:DateTime"},
  {"name":"CreatedById","type":"string","doc":"CreatedBy:EntityId"},
  {"name":"Src__c","type":["null","string"],"doc":"Data:Text","default":null},
  {"name":"Seq__c","type":["null","double"],"doc":"Data:Double","default":null},
  {"name":"Urgent__c","type":"boolean","doc":"Data:Boolean"}]})";

// The code and message a record gets when the codec refuses it.
std::pair<std::string, std::string> refusal(std::string_view record) {
  auto schema = avro::Schema::parse(kOrder);
  EXPECT_TRUE(schema.is_ok());
  auto payload = encode_record(*schema, record, {.now_ms = 1, .user_id = "005xx"});
  EXPECT_FALSE(payload.is_ok());
  if (payload.is_ok()) {
    return {};
  }
  return {encoding_error_code(payload.error().message), payload.error().message};
}

TEST(PubsubPublisherEncoding, ShouldDeadLetterAnUnknownFieldAsInvalidFieldNamingIt) {
  auto [code, message] =
      refusal(R"({"attributes":{"type":"Order__e"},"Urgent__c":true,"Unknown__c":"x"})");
  EXPECT_EQ(code, "INVALID_FIELD");
  EXPECT_NE(message.find("Unknown__c"), std::string::npos) << message;
}

TEST(PubsubPublisherEncoding, ShouldDeadLetterAMissingRequiredField) {
  auto [code, message] = refusal(R"({"Src__c":"a"})");
  EXPECT_EQ(code, "REQUIRED_FIELD_MISSING");
  EXPECT_NE(message.find("Urgent__c"), std::string::npos) << message;
}

TEST(PubsubPublisherEncoding, ShouldDeadLetterAWrongTypeNamingTheField) {
  auto [code, message] = refusal(R"({"Urgent__c":"yes"})");
  EXPECT_EQ(code, "INVALID_TYPE_ON_FIELD_IN_RECORD");
  EXPECT_NE(message.find("Urgent__c"), std::string::npos) << message;
  auto [number_code, number_message] = refusal(R"({"Urgent__c":true,"Seq__c":"seven"})");
  EXPECT_EQ(number_code, "INVALID_TYPE_ON_FIELD_IN_RECORD") << number_message;
}

TEST(PubsubPublisherEncoding, ShouldDeadLetterWhatIsNoRecordAtAllAsInvalidRecord) {
  EXPECT_EQ(refusal("[1,2]").first, "INVALID_RECORD");
  EXPECT_EQ(refusal("{\"Urgent__c\": tru").first, "INVALID_RECORD");
}

TEST(PubsubPublisherOptions, ShouldPublishTheMappingsEventAtTheConfiguredEndpoint) {
  config::Config config;
  config.salesforce.pubsub_endpoint = "http://127.0.0.1:7011";
  config::PublishMapping mapping;
  mapping.event = "Order__e";
  auto options = pubsub_publisher_options(config, mapping);
  EXPECT_EQ(options.topic, "/event/Order__e");
  EXPECT_EQ(options.endpoint.target, "127.0.0.1:7011");
  EXPECT_FALSE(options.endpoint.tls);
  config.salesforce.pubsub_endpoint = "http://pubsub.example:7011";  // plain text off loopback
  EXPECT_THROW(pubsub_publisher_options(config, mapping), std::invalid_argument);
}

}  // namespace
}  // namespace sfkb::pubsub
