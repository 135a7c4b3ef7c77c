// Who caused an event, per channel kind, and the 15/18-character ID comparison.

#include "daemon/pipeline/own_events.h"

#include <gtest/gtest.h>

namespace sfkb::pipeline {
namespace {

salesforce::StreamEvent platform_event(const std::string& payload) {
  salesforce::StreamEvent e;
  e.kind = salesforce::EventKind::kPlatformEvent;
  e.channel = "/event/Order__e";
  e.payload_json = payload;
  return e;
}

TEST(OwnEventsTest, APlatformEventsAuthorIsItsCreatedById) {
  auto e = platform_event(R"({"CreatedDate":"2026-12-01T00:00:00.000Z",)"
                          R"("CreatedById":"005xx000001SvQrAAK","N__c":1})");
  EXPECT_EQ(event_author(e), "005xx000001SvQrAAK");
  EXPECT_TRUE(is_own_event(e, "005xx000001SvQrAAK"));
  EXPECT_TRUE(is_own_event(e, "005xx000001SvQr"));  // the 15-character form
  EXPECT_FALSE(is_own_event(e, "005xx000002OthRAAK"));
  EXPECT_FALSE(is_own_event(e, ""));  // unknown user: nothing is ours
  EXPECT_FALSE(event_author(platform_event(R"({"N__c":1})")));
  EXPECT_FALSE(is_own_event(platform_event("not json"), "005xx000001SvQrAAK"));
}

TEST(OwnEventsTest, AChangeEventsAuthorIsItsCommitUserAndAPushTopicHasNone) {
  salesforce::StreamEvent change;
  change.kind = salesforce::EventKind::kChangeEvent;
  change.payload_json = R"({"CreatedById":"005xx000009NoTmEAA"})";  // a field, not the author
  change.change = salesforce::ChangeEventHeader{};
  change.change->commit_user = "005xx000001SvQrAAK";
  EXPECT_EQ(event_author(change), "005xx000001SvQrAAK");
  EXPECT_TRUE(is_own_event(change, "005xx000001SvQrAAK"));

  salesforce::StreamEvent push;
  push.kind = salesforce::EventKind::kPushTopic;
  push.payload_json = R"({"Id":"a00xx","CreatedById":"005xx000001SvQrAAK"})";
  EXPECT_FALSE(event_author(push));
  EXPECT_FALSE(is_own_event(push, "005xx000001SvQrAAK"));
}

TEST(OwnEventsTest, IdsCompareCaseSensitivelyIn15Or18Characters) {
  EXPECT_TRUE(same_salesforce_id("005xx000001SvQrAAK", "005xx000001SvQrAAK"));
  EXPECT_TRUE(same_salesforce_id("005xx000001SvQr", "005xx000001SvQrAAK"));
  EXPECT_FALSE(same_salesforce_id("005xx000001svqr", "005xx000001SvQrAAK"));
  EXPECT_FALSE(same_salesforce_id("005xx000001SvQ", "005xx000001SvQrAAK"));
}

}  // namespace
}  // namespace sfkb::pipeline
