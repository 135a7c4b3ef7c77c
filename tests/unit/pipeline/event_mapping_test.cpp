#include "daemon/pipeline/event_mapping.h"

#include <gtest/gtest.h>

namespace sfkb::pipeline {
namespace {

salesforce::StreamEvent sample_event() {
  salesforce::StreamEvent event;
  event.channel = "/event/Flight_Approved__e";
  event.replay_id = 4711;
  event.event_uuid = "3b2d7c1e-9d1a-4b8e-8f21-5c0f1d2e3a4b";
  event.schema = "dffQ2QLzDNHqwB8_sHMxdA";
  event.created_date = "2026-11-26T17:30:00.123Z";
  event.payload_json =
      R"({"CreatedDate":"2026-11-26T17:30:00.123Z","Flight_Id__c":"F-17","Seats__c":3,)"
      R"("Leg__c":{"From__c":"OSL"},"Gone__c":null})";
  event.envelope_json = R"({"schema":"dffQ2QLzDNHqwB8_sHMxdA","payload":{},"event":{}})";
  return event;
}

class EventMappingTest : public ::testing::Test {
 protected:
  EventMappingTest() {
    mapping_.channel = "/event/Flight_Approved__e";
    mapping_.topic = "flights";
    route_.mapping = &mapping_;
    route_.topic = "pre.flights";
    route_.channel_partition = 5;
  }
  const std::string* header(const KafkaRecord& record, const std::string& name) {
    for (const auto& [key, value] : record.headers) {
      if (key == name) {
        return &value;
      }
    }
    return nullptr;
  }

  config::SubscribeMapping mapping_;
  ChannelRoute route_;
};

TEST_F(EventMappingTest, DefaultsSendThePayloadWithoutKeyToTheChannelsPartition) {
  auto mapped = map_event(sample_event(), route_);
  EXPECT_EQ(mapped.record.topic, "pre.flights");
  EXPECT_EQ(mapped.record.partition, 5);
  EXPECT_FALSE(mapped.record.key.has_value());
  EXPECT_EQ(mapped.record.value, sample_event().payload_json);
  EXPECT_FALSE(mapped.key_field_missing);
}

TEST_F(EventMappingTest, HeadersCarryTheEventsIdentity) {
  auto record = map_event(sample_event(), route_).record;
  ASSERT_EQ(record.headers.size(), 5u);
  EXPECT_EQ(*header(record, "sf.channel"), "/event/Flight_Approved__e");
  EXPECT_EQ(*header(record, "sf.replay_id"), "4711");
  EXPECT_EQ(*header(record, "sf.event_uuid"), "3b2d7c1e-9d1a-4b8e-8f21-5c0f1d2e3a4b");
  EXPECT_EQ(*header(record, "sf.schema"), "dffQ2QLzDNHqwB8_sHMxdA");
  EXPECT_EQ(*header(record, "sf.created_date"), "2026-11-26T17:30:00.123Z");
}

TEST_F(EventMappingTest, HeadersNameTheOrgAndTheChannelsRestartWhenKnown) {
  route_.org_id = "00Dxx0000001gPLEAY";
  route_.epoch = 2;
  auto record = map_event(sample_event(), route_).record;
  ASSERT_EQ(record.headers.size(), 7u);
  EXPECT_EQ(*header(record, "sf.org_id"), "00Dxx0000001gPLEAY");
  EXPECT_EQ(*header(record, "sf.replay_epoch"), "2");
  // Unknown org and epoch 0 (no restart yet) add nothing: records look as before.
  route_.org_id.clear();
  route_.epoch = 0;
  record = map_event(sample_event(), route_).record;
  EXPECT_EQ(header(record, "sf.org_id"), nullptr);
  EXPECT_EQ(header(record, "sf.replay_epoch"), nullptr);
  mapping_.headers = false;
  route_.org_id = "00Dxx0000001gPLEAY";
  route_.epoch = 2;
  EXPECT_TRUE(map_event(sample_event(), route_).record.headers.empty());
}

TEST_F(EventMappingTest, HeadersCanBeTurnedOff) {
  mapping_.headers = false;
  EXPECT_TRUE(map_event(sample_event(), route_).record.headers.empty());
}

TEST_F(EventMappingTest, AbsentUuidIsLeftOutNotSentEmpty) {
  auto event = sample_event();
  event.event_uuid.clear();  // API < 52.0
  auto record = map_event(event, route_).record;
  EXPECT_EQ(header(record, "sf.event_uuid"), nullptr);
  EXPECT_NE(header(record, "sf.replay_id"), nullptr);
}

TEST_F(EventMappingTest, EnvelopeValueIsTheWholeDataObject) {
  mapping_.value = config::ValueKind::kEnvelope;
  EXPECT_EQ(map_event(sample_event(), route_).record.value, sample_event().envelope_json);
}

TEST_F(EventMappingTest, EventUuidKeyLetsThePartitionerChoose) {
  mapping_.key = config::KeyKind::kEventUuid;
  auto record = map_event(sample_event(), route_).record;
  EXPECT_EQ(record.key, "3b2d7c1e-9d1a-4b8e-8f21-5c0f1d2e3a4b");
  EXPECT_EQ(record.partition, kUnassignedPartition);
}

TEST_F(EventMappingTest, ReplayIdKeyIsItsDecimalText) {
  mapping_.key = config::KeyKind::kReplayId;
  EXPECT_EQ(map_event(sample_event(), route_).record.key, "4711");
}

TEST_F(EventMappingTest, PayloadFieldKeyTakesTheStringAsIs) {
  mapping_.key = config::KeyKind::kPayloadField;
  mapping_.key_field = "Flight_Id__c";
  auto mapped = map_event(sample_event(), route_);
  EXPECT_EQ(mapped.record.key, "F-17");
  EXPECT_EQ(mapped.record.partition, kUnassignedPartition);
}

TEST_F(EventMappingTest, PayloadFieldKeyOfANumberIsItsJsonText) {
  mapping_.key = config::KeyKind::kPayloadField;
  mapping_.key_field = "Seats__c";
  EXPECT_EQ(map_event(sample_event(), route_).record.key, "3");
}

TEST_F(EventMappingTest, PayloadFieldKeyFollowsADottedPath) {
  mapping_.key = config::KeyKind::kPayloadField;
  mapping_.key_field = "Leg__c.From__c";
  EXPECT_EQ(map_event(sample_event(), route_).record.key, "OSL");
}

TEST_F(EventMappingTest, MissingOrNullKeyFieldGivesANullKeyOnTheChannelsPartition) {
  mapping_.key = config::KeyKind::kPayloadField;
  for (const char* field : {"Nope__c", "Gone__c", "Flight_Id__c.Deeper"}) {
    mapping_.key_field = field;
    auto mapped = map_event(sample_event(), route_);
    EXPECT_TRUE(mapped.key_field_missing) << field;
    EXPECT_FALSE(mapped.record.key.has_value()) << field;
    EXPECT_EQ(mapped.record.partition, 5) << field;
  }
}

TEST_F(EventMappingTest, EventUuidKeyOnAnOldApiIsMissingToo) {
  mapping_.key = config::KeyKind::kEventUuid;
  auto event = sample_event();
  event.event_uuid.clear();
  auto mapped = map_event(event, route_);
  EXPECT_TRUE(mapped.key_field_missing);
  EXPECT_EQ(mapped.record.partition, 5);
}

TEST(PayloadField, NonObjectOrBrokenPayloadHasNoFields) {
  EXPECT_FALSE(payload_field("[1,2]", "A").has_value());
  EXPECT_FALSE(payload_field("{\"A\":", "A").has_value());
  EXPECT_EQ(payload_field("{\"A\":{\"B\":[1,true]}}", "A.B"), "[1,true]");
  EXPECT_EQ(payload_field("{\"A\":false}", "A"), "false");
}

TEST(SinglePartition, OnlyKeylessMappingsKeepAChannelInOnePartition) {
  config::SubscribeMapping mapping;
  EXPECT_TRUE(single_partition_per_channel(mapping));
  mapping.key = config::KeyKind::kReplayId;
  EXPECT_FALSE(single_partition_per_channel(mapping));
}

}  // namespace
}  // namespace sfkb::pipeline
