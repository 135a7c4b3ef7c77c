#include "daemon/salesforce/rest_result.h"

#include <string>

#include <gtest/gtest.h>

namespace sfkb::salesforce {
namespace {

TEST(RestResult, ShouldDecodePerRecordResultsInOrder) {
  auto reply = decode_composite_reply(
      200,
      R"([{"id":"e01","success":true,"errors":[{"statusCode":"OPERATION_ENQUEUED","message":"uuid","fields":[]}]},
          {"success":false,"errors":[{"statusCode":"INVALID_FIELD","message":"No such column 'X__c'","fields":["X__c"]}]},
          {"success":false,"errors":[{"statusCode":"PLATFORM_EVENT_PUBLISHING_UNAVAILABLE","message":"try later","fields":[]}]}])",
      3);
  ASSERT_EQ(reply.kind, ReplyKind::kPerRecord);
  ASSERT_EQ(reply.records.size(), 3u);
  EXPECT_EQ(reply.records[0].outcome, RecordOutcome::kPublished);
  EXPECT_EQ(reply.records[0].id, "e01");
  EXPECT_EQ(reply.records[1].outcome, RecordOutcome::kPermanent);
  EXPECT_EQ(reply.records[1].error_code, "INVALID_FIELD");
  EXPECT_EQ(reply.records[1].error_message, "No such column 'X__c'");
  EXPECT_EQ(reply.records[2].outcome, RecordOutcome::kTransient);
  EXPECT_FALSE(reply.malformed);
}

TEST(RestResult, ShouldGiveAFailedRecordWithoutErrorsACode) {
  auto reply = decode_composite_reply(200, R"([{"success":false}])", 1);
  ASSERT_EQ(reply.kind, ReplyKind::kPerRecord);
  EXPECT_EQ(reply.records[0].outcome, RecordOutcome::kPermanent);
  EXPECT_EQ(reply.records[0].error_code, "UNKNOWN_ERROR");
}

TEST(RestResult, ShouldAskForANewTokenOn401OrInvalidSession) {
  auto expired = decode_composite_reply(
      401, R"([{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])", 2);
  EXPECT_EQ(expired.kind, ReplyKind::kReauth);
  EXPECT_EQ(expired.error_code, "INVALID_SESSION_ID");
  EXPECT_EQ(expired.error_message, "Session expired or invalid");
  EXPECT_EQ(decode_composite_reply(401, "", 2).kind, ReplyKind::kReauth);
  EXPECT_EQ(decode_composite_reply(
                403, R"([{"message":"Session expired","errorCode":"INVALID_SESSION_ID"}])", 2)
                .kind,
            ReplyKind::kReauth);
}

TEST(RestResult, ShouldRetryServerErrorsThrottlingAndLimits) {
  EXPECT_EQ(decode_composite_reply(503, "<html>busy</html>", 1).kind, ReplyKind::kTransient);
  EXPECT_EQ(decode_composite_reply(500, "", 1).kind, ReplyKind::kTransient);
  EXPECT_EQ(decode_composite_reply(429, "", 1).kind, ReplyKind::kTransient);
  auto limit = decode_composite_reply(
      403, R"([{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}])",
      1);
  EXPECT_EQ(limit.kind, ReplyKind::kTransient);
  EXPECT_EQ(limit.error_code, "REQUEST_LIMIT_EXCEEDED");
}

TEST(RestResult, ShouldNameTheStatusWhenTheErrorBodyIsNotSalesforces) {
  auto reply = decode_composite_reply(502, "<html>\nBad gateway</html>", 1);
  EXPECT_EQ(reply.error_code, "HTTP_502");
  EXPECT_EQ(reply.error_message, "<html> Bad gateway</html>");
}

TEST(RestResult, ShouldReportAWholeRequestRejectionForBadContent) {
  auto bad = decode_composite_reply(
      400, R"([{"message":"Unexpected character","errorCode":"JSON_PARSER_ERROR"}])", 5);
  EXPECT_EQ(bad.kind, ReplyKind::kRejected);
  EXPECT_EQ(bad.error_code, "JSON_PARSER_ERROR");
  EXPECT_EQ(
      decode_composite_reply(
          404, R"([{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}])",
          5)
          .kind,
      ReplyKind::kRejected);
  EXPECT_EQ(decode_composite_reply(413, "", 5).kind, ReplyKind::kRejected);
}

TEST(RestResult, ShouldRetryABareRejectionThatSalesforceDidNotExplain) {
  auto bare = decode_composite_reply(400, "", 5);
  EXPECT_EQ(bare.kind, ReplyKind::kTransient);
  EXPECT_TRUE(bare.malformed);
  EXPECT_EQ(decode_composite_reply(404, "<html>not here</html>", 5).kind, ReplyKind::kTransient);
}

TEST(RestResult, ShouldStopOnPermissionAndRedirectProblems) {
  EXPECT_EQ(decode_composite_reply(
                403, R"([{"message":"API is disabled","errorCode":"API_DISABLED_FOR_ORG"}])", 1)
                .kind,
            ReplyKind::kFatal);
  EXPECT_EQ(decode_composite_reply(302, "", 1).kind, ReplyKind::kFatal);
}

TEST(RestResult, ShouldTreatAMalformedSuccessAsTransientWithASnippet) {
  auto not_json = decode_composite_reply(200, "<html>maintenance</html>", 1);
  EXPECT_EQ(not_json.kind, ReplyKind::kTransient);
  EXPECT_TRUE(not_json.malformed);
  EXPECT_EQ(not_json.snippet, "<html>maintenance</html>");

  auto short_reply = decode_composite_reply(200, R"([{"id":"e1","success":true}])", 2);
  EXPECT_EQ(short_reply.kind, ReplyKind::kTransient);
  EXPECT_TRUE(short_reply.malformed);
  EXPECT_EQ(short_reply.error_message, "the reply has 1 results for 2 records");

  EXPECT_TRUE(decode_composite_reply(200, R"({"success":true})", 1).malformed);
  EXPECT_TRUE(decode_composite_reply(200, R"([{"id":"e1"}])", 1).malformed);
  EXPECT_TRUE(decode_composite_reply(200, R"([1])", 1).malformed);
}

TEST(RestResult, ShouldNotDropRecordsOnAnErrorArrayBehindASuccessStatus) {
  auto reply =
      decode_composite_reply(200, R"([{"message":"bad","errorCode":"JSON_PARSER_ERROR"}])", 1);
  EXPECT_EQ(reply.kind, ReplyKind::kTransient);
  EXPECT_TRUE(reply.malformed);
}

TEST(RestResult, ShouldSurviveDeeplyNestedGarbage) {
  std::string deep(200000, '[');
  EXPECT_TRUE(decode_composite_reply(200, deep, 1).malformed);
  EXPECT_EQ(decode_composite_reply(500, deep, 1).kind, ReplyKind::kTransient);
}

TEST(RestResult, ShouldBoundTheSnippetOnACharacterBoundary) {
  std::string body = std::string(255, 'a') + "\xC3\xA9" + "tail";
  EXPECT_EQ(body_snippet(body), std::string(255, 'a') + "...");
  EXPECT_EQ(body_snippet("short"), "short");
}

TEST(RestResult, ShouldKnowTheTransientCodes) {
  EXPECT_TRUE(is_transient_error_code("REQUEST_LIMIT_EXCEEDED"));
  EXPECT_TRUE(is_transient_error_code("PLATFORM_EVENT_PUBLISHING_UNAVAILABLE"));
  EXPECT_FALSE(is_transient_error_code("INVALID_FIELD"));
  EXPECT_FALSE(is_transient_error_code(""));
}

}  // namespace
}  // namespace sfkb::salesforce
