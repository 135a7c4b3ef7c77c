#include "daemon/pipeline/event_mapping.h"

#include <gtest/gtest.h>

#include "daemon/pipeline/json_value_encoders.h"

namespace sfkb::pipeline {
namespace {

salesforce::StreamEvent sample_event() {
  salesforce::StreamEvent event;
  event.channel = "/event/Flight_Approved__e";
  event.replay_id = core::ReplayId::cometd(4711);
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
    route_.encoder = &payload_;  // value: payload, the default
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
  PayloadJsonEncoder payload_;
  EnvelopeJsonEncoder envelope_;
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
  route_.encoder = &envelope_;  // value: envelope (make_value_encoder)
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

salesforce::StreamEvent push_topic_event() {
  salesforce::StreamEvent event;
  event.channel = "/topic/InvoiceUpdates";
  event.kind = salesforce::EventKind::kPushTopic;
  event.replay_id = core::ReplayId::cometd(17);
  event.event_type = "deleted";
  event.created_date = "2026-11-26T17:31:02.000Z";
  event.payload_json = R"({"Id":"a07xx000003DGb2AAG","Amount__c":12.50})";
  event.envelope_json =
      R"({"event":{"createdDate":"2026-11-26T17:31:02.000Z","replayId":17,"type":"deleted"},)"
      R"("sobject":{"Id":"a07xx000003DGb2AAG","Amount__c":12.50}})";
  return event;
}

salesforce::StreamEvent change_event(std::vector<std::string> record_ids) {
  salesforce::StreamEvent event;
  event.channel = "/data/AccountChangeEvent";
  event.kind = salesforce::EventKind::kChangeEvent;
  event.replay_id = core::ReplayId::cometd(6);
  event.schema = "IeRuaY6cbI_HsV8Rv1Mc5g";
  salesforce::ChangeEventHeader change;
  change.entity_name = "Account";
  change.change_type = "UPDATE";
  change.transaction_key = "0002343d-9d90-e395-ed20-cf416ba652ad";
  change.sequence_number = 2;
  change.commit_timestamp = 1764178262042;
  change.commit_user = "005xx000001SvQrAAK";
  std::string ids;
  for (const auto& id : record_ids) {
    ids += (ids.empty() ? "\"" : ",\"") + id + "\"";
  }
  change.record_ids = std::move(record_ids);
  event.change = change;
  event.payload_json = R"({"ChangeEventHeader":{"entityName":"Account","recordIds":[)" + ids +
                       R"(],"changeType":"UPDATE"},"Rating":"Hot"})";
  event.envelope_json = R"({"schema":"IeRuaY6cbI_HsV8Rv1Mc5g","payload":)" + event.payload_json +
                        R"(,"event":{"replayId":6}})";
  return event;
}

TEST_F(EventMappingTest, PushTopicValueIsTheSobjectAndEnvelopeTheWholeData) {
  mapping_.channel = "/topic/InvoiceUpdates";
  EXPECT_EQ(map_event(push_topic_event(), route_).record.value,
            R"({"Id":"a07xx000003DGb2AAG","Amount__c":12.50})");
  route_.encoder = &envelope_;  // value: envelope (make_value_encoder)
  EXPECT_EQ(map_event(push_topic_event(), route_).record.value, push_topic_event().envelope_json);
}

TEST_F(EventMappingTest, PushTopicHeadersCarryTheTypeAndCreatedDateButNoUuidOrSchema) {
  auto record = map_event(push_topic_event(), route_).record;
  EXPECT_EQ(*header(record, "sf.channel"), "/topic/InvoiceUpdates");
  EXPECT_EQ(*header(record, "sf.replay_id"), "17");
  ASSERT_NE(header(record, "sf.event_type"), nullptr);
  EXPECT_EQ(*header(record, "sf.event_type"), "deleted");
  EXPECT_EQ(*header(record, "sf.created_date"), "2026-11-26T17:31:02.000Z");
  EXPECT_EQ(header(record, "sf.event_uuid"), nullptr);
  EXPECT_EQ(header(record, "sf.schema"), nullptr);
  EXPECT_EQ(header(record, "sf.change_type"), nullptr);
  EXPECT_EQ(record.headers.size(), 4u);
}

TEST_F(EventMappingTest, PushTopicPayloadKeyResolvesInsideTheSobject) {
  mapping_.key = config::KeyKind::kPayloadField;
  mapping_.key_field = "Id";
  auto mapped = map_event(push_topic_event(), route_);
  EXPECT_EQ(mapped.record.key, "a07xx000003DGb2AAG");
  EXPECT_FALSE(mapped.key_field_missing);
}

TEST_F(EventMappingTest, ChangeEventValueIsThePayloadWithItsHeader) {
  auto event = change_event({"001xx000003DGb2AAG"});
  EXPECT_EQ(map_event(event, route_).record.value, event.payload_json);
  route_.encoder = &envelope_;  // value: envelope (make_value_encoder)
  EXPECT_EQ(map_event(event, route_).record.value, event.envelope_json);
}

TEST_F(EventMappingTest, ChangeEventHeadersCarryTheChangeAndItsCommitTime) {
  auto record =
      map_event(change_event({"001xx000003DGb2AAG", "001xx000003DGb3AAG"}), route_).record;
  EXPECT_EQ(*header(record, "sf.channel"), "/data/AccountChangeEvent");
  EXPECT_EQ(*header(record, "sf.replay_id"), "6");
  EXPECT_EQ(*header(record, "sf.schema"), "IeRuaY6cbI_HsV8Rv1Mc5g");
  ASSERT_NE(header(record, "sf.change_type"), nullptr);
  EXPECT_EQ(*header(record, "sf.change_type"), "UPDATE");
  EXPECT_EQ(*header(record, "sf.entity_name"), "Account");
  EXPECT_EQ(*header(record, "sf.record_ids"), "001xx000003DGb2AAG,001xx000003DGb3AAG");
  EXPECT_EQ(*header(record, "sf.transaction_key"), "0002343d-9d90-e395-ed20-cf416ba652ad");
  EXPECT_EQ(*header(record, "sf.sequence_number"), "2");
  // 1764178262042 ms after the epoch, in CreatedDate's form.
  EXPECT_EQ(*header(record, "sf.created_date"), "2025-11-26T17:31:02.042Z");
  EXPECT_EQ(header(record, "sf.event_uuid"), nullptr);
  EXPECT_EQ(header(record, "sf.event_type"), nullptr);
  EXPECT_EQ(record.headers.size(), 9u);
}

TEST_F(EventMappingTest, GapOverflowWithoutRecordIdsHasNoRecordIdsHeaderAndAMissingKey) {
  auto event = change_event({});
  event.change->change_type = "GAP_OVERFLOW";
  event.change->sequence_number.reset();
  event.change->commit_timestamp.reset();
  auto record = map_event(event, route_).record;
  EXPECT_EQ(*header(record, "sf.change_type"), "GAP_OVERFLOW");
  EXPECT_EQ(header(record, "sf.record_ids"), nullptr);
  EXPECT_EQ(header(record, "sf.sequence_number"), nullptr);
  EXPECT_EQ(header(record, "sf.created_date"), nullptr);

  mapping_.key = config::KeyKind::kPayloadField;
  mapping_.key_field = "ChangeEventHeader.recordIds";
  auto mapped = map_event(event, route_);
  EXPECT_TRUE(mapped.key_field_missing);
  EXPECT_EQ(mapped.record.partition, 5);
}

TEST_F(EventMappingTest, ChangeEventRecordIdsKeyIsTheIdsJoinedByComma) {
  mapping_.key = config::KeyKind::kPayloadField;
  mapping_.key_field = "ChangeEventHeader.recordIds";
  EXPECT_EQ(map_event(change_event({"001xx000003DGb2AAG"}), route_).record.key,
            "001xx000003DGb2AAG");
  auto mapped = map_event(change_event({"001xx000003DGb2AAG", "001xx000003DGb3AAG"}), route_);
  EXPECT_EQ(mapped.record.key, "001xx000003DGb2AAG,001xx000003DGb3AAG");
  EXPECT_EQ(mapped.record.partition, kUnassignedPartition);
  mapping_.key_field = "ChangeEventHeader.changeType";
  EXPECT_EQ(map_event(change_event({"001"}), route_).record.key, "UPDATE");
}

TEST(Iso8601, EpochMillisecondsInCreatedDatesForm) {
  EXPECT_EQ(iso8601_from_epoch_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso8601_from_epoch_ms(951782400999), "2000-02-29T00:00:00.999Z");
  EXPECT_EQ(iso8601_from_epoch_ms(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(iso8601_from_epoch_ms(253402300799999), "9999-12-31T23:59:59.999Z");
  EXPECT_FALSE(iso8601_from_epoch_ms(253402300800000).has_value());
  EXPECT_FALSE(iso8601_from_epoch_ms(INT64_MIN).has_value());
}

TEST(PayloadField, NonObjectOrBrokenPayloadHasNoFields) {
  EXPECT_FALSE(payload_field("[1,2]", "A").has_value());
  EXPECT_FALSE(payload_field("{\"A\":", "A").has_value());
  EXPECT_EQ(payload_field("{\"A\":{\"B\":[1,true]}}", "A.B"), "[1,true]");
  EXPECT_EQ(payload_field("{\"A\":[\"x\",1]}", "A"), "[\"x\",1]");
  EXPECT_EQ(payload_field("{\"A\":[\"x\",\"y\"]}", "A"), "x,y");
  EXPECT_FALSE(payload_field("{\"A\":[]}", "A").has_value());
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
