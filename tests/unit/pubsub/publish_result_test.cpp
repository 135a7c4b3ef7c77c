// Pub/Sub Publish outcomes -> the pipeline's per-record fates (README.md "Salesforce errors and
// what the bridge does"): the same RecordOutcome / ReplyKind the REST decoding gives for the same
// meaning.

#include "daemon/pubsub/publish_result.h"

#include <gtest/gtest.h>

namespace sfkb::pubsub {
namespace {

using salesforce::RecordOutcome;
using salesforce::ReplyKind;

CallStatus ok() {
  return {};
}

CallStatus failed(GrpcCode code, std::string message, std::string error_code = "") {
  return {static_cast<int>(code), std::move(message), std::move(error_code)};
}

EventResult published(std::string key) {
  EventResult r;
  r.correlation_key = std::move(key);
  r.replay_id = std::string("\x00\x01", 2);
  return r;
}

EventResult refused(std::string key, std::string message, int code = 1) {
  EventResult r;
  r.correlation_key = std::move(key);
  r.has_error = true;
  r.error_code = code;
  r.error_message = std::move(message);
  return r;
}

TEST(PubSubPublishResult, ShouldMapEveryEventToItsOwnFate) {
  auto out = map_publish_outcome(
      ok(),
      {published("a"), refused("b", "LIMIT_EXCEEDED: hourly publish allocation"),
       refused("c", "INVALID_FIELD: no such field Unknown__c")},
      {"a", "b", "c"});
  ASSERT_EQ(out.reply.kind, ReplyKind::kPerRecord);
  ASSERT_EQ(out.reply.records.size(), 3u);
  EXPECT_EQ(out.reply.records[0].outcome, RecordOutcome::kPublished);
  EXPECT_EQ(out.reply.records[1].outcome, RecordOutcome::kTransient);
  EXPECT_EQ(out.reply.records[1].error_code, "LIMIT_EXCEEDED");
  EXPECT_EQ(out.reply.records[2].outcome, RecordOutcome::kPermanent);
  EXPECT_EQ(out.reply.records[2].error_code, "INVALID_FIELD");
  EXPECT_EQ(out.reply.records[2].error_message, "INVALID_FIELD: no such field Unknown__c");
  EXPECT_FALSE(out.schema_refused);
}

TEST(PubSubPublishResult, ShouldMatchResultsByCorrelationKeyWhateverTheirOrder) {
  auto out =
      map_publish_outcome(ok(), {refused("b", "INVALID_FIELD: x"), published("a")}, {"a", "b"});
  ASSERT_EQ(out.reply.kind, ReplyKind::kPerRecord);
  EXPECT_EQ(out.reply.records[0].outcome, RecordOutcome::kPublished);
  EXPECT_EQ(out.reply.records[1].outcome, RecordOutcome::kPermanent);
}

TEST(PubSubPublishResult, ShouldMatchByPositionWhenKeysAreMissing) {
  auto out =
      map_publish_outcome(ok(), {published(""), refused("", "INVALID_FIELD: x")}, {"a", "b"});
  ASSERT_EQ(out.reply.kind, ReplyKind::kPerRecord);
  EXPECT_EQ(out.reply.records[0].outcome, RecordOutcome::kPublished);
  EXPECT_EQ(out.reply.records[1].outcome, RecordOutcome::kPermanent);
}

TEST(PubSubPublishResult, ShouldRetryAReplyWithTheWrongNumberOfResultsNeverDeadLetterIt) {
  auto out = map_publish_outcome(ok(), {published("a")}, {"a", "b"});
  EXPECT_EQ(out.reply.kind, ReplyKind::kTransient);
  EXPECT_TRUE(out.reply.malformed);
  EXPECT_TRUE(out.reply.records.empty());
}

TEST(PubSubPublishResult, ShouldRetryAnEventWhoseErrorNamesATransientCodeAnywhere) {
  EXPECT_EQ(event_error_code(1, "publish failed: PLATFORM_EVENT_PUBLISHING_UNAVAILABLE, retry"),
            "PLATFORM_EVENT_PUBLISHING_UNAVAILABLE");
  auto out = map_publish_outcome(
      ok(), {refused("a", "publish failed: PLATFORM_EVENT_PUBLISHING_UNAVAILABLE")}, {"a"});
  EXPECT_EQ(out.reply.records[0].outcome, RecordOutcome::kTransient);
}

TEST(PubSubPublishResult, ShouldNameAnEventErrorWithoutACodeByItsErrorCodeEnum) {
  EXPECT_EQ(event_error_code(1, "something went wrong"), "PUBSUB_PUBLISH");
  EXPECT_EQ(event_error_code(0, ""), "PUBSUB_UNKNOWN");
  // A code further in may be the record's own data, not the error's name.
  EXPECT_EQ(event_error_code(1, "bad value MY_FIELD__C"), "PUBSUB_PUBLISH");
  auto out = map_publish_outcome(ok(), {refused("a", "something went wrong")}, {"a"});
  EXPECT_EQ(out.reply.records[0].outcome, RecordOutcome::kPermanent);
}

TEST(PubSubPublishResult, ShouldReauthenticateOnAnAuthFailure) {
  EXPECT_EQ(
      map_publish_outcome(failed(GrpcCode::kUnauthenticated, "expired"), {}, {"a"}).reply.kind,
      ReplyKind::kReauth);
  auto out = map_publish_outcome(failed(GrpcCode::kPermissionDenied, "auth failed",
                                        "sfdc.platform.eventbus.grpc.service.auth.error"),
                                 {}, {"a"});
  EXPECT_EQ(out.reply.kind, ReplyKind::kReauth);
  EXPECT_EQ(out.reply.error_code, "sfdc.platform.eventbus.grpc.service.auth.error");
}

TEST(PubSubPublishResult, ShouldBackOffOnOutagesAndAllocations) {
  for (auto code :
       {GrpcCode::kUnavailable, GrpcCode::kDeadlineExceeded, GrpcCode::kResourceExhausted,
        GrpcCode::kInternal, GrpcCode::kAborted, GrpcCode::kUnknown}) {
    auto out = map_publish_outcome(failed(code, "x"), {}, {"a"});
    EXPECT_EQ(out.reply.kind, ReplyKind::kTransient) << grpc_code_name(static_cast<int>(code));
    EXPECT_EQ(out.reply.error_code, std::string("GRPC_") + grpc_code_name(static_cast<int>(code)));
  }
  EXPECT_EQ(map_publish_outcome(failed(GrpcCode::kPermissionDenied, "over",
                                       "sfdc.platform.eventbus.grpc.publish.limit.exceeded"),
                                {}, {"a"})
                .reply.kind,
            ReplyKind::kTransient);
}

TEST(PubSubPublishResult, ShouldSplitAContentRejectionAndStopOnAConfigurationError) {
  EXPECT_EQ(map_publish_outcome(failed(GrpcCode::kInvalidArgument, "bad payload"), {}, {"a", "b"})
                .reply.kind,
            ReplyKind::kRejected);
  EXPECT_EQ(map_publish_outcome(failed(GrpcCode::kNotFound, "no topic /event/X__e",
                                       "sfdc.platform.eventbus.grpc.topic.not.found"),
                                {}, {"a"})
                .reply.kind,
            ReplyKind::kFatal);
  EXPECT_EQ(
      map_publish_outcome(failed(GrpcCode::kPermissionDenied, "no publish permission"), {}, {"a"})
          .reply.kind,
      ReplyKind::kFatal);
}

TEST(PubSubPublishResult, ShouldReportARefusedSchemaSoTheCallerFetchesTheCurrentOne) {
  auto out = map_publish_outcome(
      failed(GrpcCode::kInvalidArgument, "schema 1a2b is not the topic's schema"), {}, {"a"});
  EXPECT_TRUE(out.schema_refused);
  EXPECT_EQ(out.reply.kind, ReplyKind::kRejected);
  EXPECT_TRUE(map_publish_outcome(
                  failed(GrpcCode::kNotFound, "x", "sfdc.platform.eventbus.grpc.schema.not.found"),
                  {}, {"a"})
                  .schema_refused);
  EXPECT_FALSE(map_publish_outcome(failed(GrpcCode::kUnavailable, "x"), {}, {"a"}).schema_refused);
}

TEST(PubSubPublishResult, ShouldHoldEventsWhoseSchemaWasRefusedUntilTheCallerKnowsWhy) {
  auto out = map_publish_outcome(
      ok(),
      {published("a"), refused("b", "The event's schema ID 1a is not the schema of /event/X__e")},
      {"a", "b"});
  ASSERT_EQ(out.reply.kind, ReplyKind::kPerRecord);
  EXPECT_TRUE(out.schema_refused);
  EXPECT_EQ(out.schema_refused_events, std::vector<std::size_t>{1});
  EXPECT_EQ(out.reply.records[0].outcome, RecordOutcome::kPublished);
  EXPECT_EQ(out.reply.records[1].outcome, RecordOutcome::kTransient);
}

TEST(PubSubPublishResult, ShouldNameAStatusCodeFromANewerGrpcWithoutCrashing) {
  EXPECT_STREQ(grpc_code_name(99), "UNKNOWN_STATUS");
  EXPECT_STREQ(grpc_code_name(-1), "UNKNOWN_STATUS");
  EXPECT_EQ(map_publish_outcome(failed(static_cast<GrpcCode>(99), "x"), {}, {"a"}).reply.kind,
            ReplyKind::kTransient);
}

}  // namespace
}  // namespace sfkb::pubsub
