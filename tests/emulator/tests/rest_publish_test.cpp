// REST publishing on the wire: single and composite endpoints, validation errors, allOrNone, and
// that accepted events reach subscribers and the published log.

#include <gtest/gtest.h>

#include "test_support.h"

namespace sfkb::emulator::test {
namespace {

constexpr const char* kSingle = "/services/data/v62.0/sobjects/Test_Event__e/";
constexpr const char* kComposite = "/services/data/v62.0/composite/sobjects";

class RestPublishTest : public ::testing::Test {
 protected:
  httplib::Result post(const std::string& path, const std::string& body,
                       const std::string& token = "") {
    httplib::Headers headers{
        {"Authorization", "Bearer " + (token.empty() ? sf_.static_token() : token)}};
    return http_.Post(path.c_str(), headers, body, "application/json");
  }

  void expect_error(const httplib::Result& res, int status, const std::string& code) {
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, status) << res->body;
    auto doc = parse(res->body);
    ASSERT_TRUE(doc.IsArray()) << res->body;
    EXPECT_EQ(str(doc[0], "errorCode"), code) << res->body;
    EXPECT_FALSE(str(doc[0], "message").empty());
  }

  EmulatorProcess sf_;
  httplib::Client http_ = client_for(sf_);
};

TEST_F(RestPublishTest, SingleEventIsEnqueuedDeliveredAndLogged) {
  Bayeux bayeux(sf_, sf_.static_token());
  bayeux.handshake();
  bayeux.subscribe("/event/Test_Event__e", -1);

  auto res = post(
      kSingle,
      R"({"Text__c":"hello","Number__c":42,"Flag__c":true,"When__c":"2026-11-26T17:30:00.000Z"})");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  auto doc = parse(res->body);
  EXPECT_TRUE(doc["success"].GetBool());
  EXPECT_EQ(str(doc, "id").rfind("e00", 0), 0u);
  EXPECT_EQ(str(doc, "id").size(), 18u);
  EXPECT_EQ(str(doc["errors"][0], "statusCode"), "OPERATION_ENQUEUED");
  std::string uuid = str(doc["errors"][0], "message");
  EXPECT_EQ(uuid.size(), 36u);
  EXPECT_TRUE(doc["errors"][0]["fields"].IsArray());

  auto events = events_of(bayeux.connect());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(str((*events[0])["data"]["event"], "EventUuid"), uuid);
  EXPECT_EQ(str((*events[0])["data"]["payload"], "Text__c"), "hello");

  auto published = sf_.published("Test_Event__e");
  ASSERT_EQ(published.count, 1u);
  EXPECT_EQ(
      published.events[0],
      R"({"Text__c":"hello","Number__c":42,"Flag__c":true,"When__c":"2026-11-26T17:30:00.000Z"})");
}

TEST_F(RestPublishTest, SingleEndpointErrors) {
  expect_error(post("/services/data/v62.0/sobjects/Nope__e/", "{}"), 404, "NOT_FOUND");
  expect_error(post(kSingle, R"({"Unknown__c":1})"), 400, "INVALID_FIELD");
  expect_error(post(kSingle, R"({"Number__c":"not a number"})"), 400,
               "INVALID_TYPE_ON_FIELD_IN_RECORD");
  expect_error(post(kSingle, R"({"When__c":"yesterday"})"), 400, "INVALID_TYPE_ON_FIELD_IN_RECORD");
  expect_error(post(kSingle, R"({"Text__c": )"), 400, "JSON_PARSER_ERROR");
  auto res = post(kSingle, "{}", "bad-token");
  expect_error(res, 401, "INVALID_SESSION_ID");
  EXPECT_EQ(str(parse(res->body)[0], "message"), "Session expired or invalid");
  EXPECT_EQ(sf_.published("Test_Event__e").count, 0u);
}

TEST_F(RestPublishTest, CompositeGivesPerRecordResultsInOrder) {
  auto res = post(kComposite, R"({"allOrNone":false,"records":[
      {"attributes":{"type":"Test_Event__e"},"Text__c":"a"},
      {"attributes":{"type":"Test_Event__e"},"Bogus__c":"b"},
      {"attributes":{"type":"Nope__e"},"Text__c":"c"},
      {"attributes":{"type":"Test_Event__e"},"Flag__c":"yes"},
      {"attributes":{"type":"Test_Event__e"},"Text__c":"e"}]})");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  auto doc = parse(res->body);
  ASSERT_EQ(doc.Size(), 5u);
  EXPECT_TRUE(doc[0]["success"].GetBool());
  EXPECT_EQ(str(doc[0]["errors"][0], "statusCode"), "OPERATION_ENQUEUED");
  EXPECT_FALSE(doc[1]["success"].GetBool());
  EXPECT_EQ(str(doc[1]["errors"][0], "statusCode"), "INVALID_FIELD");
  EXPECT_EQ(std::string(doc[1]["errors"][0]["fields"][0].GetString()), "Bogus__c");
  EXPECT_EQ(str(doc[2]["errors"][0], "statusCode"), "NOT_FOUND");
  EXPECT_EQ(str(doc[3]["errors"][0], "statusCode"), "INVALID_TYPE_ON_FIELD_IN_RECORD");
  EXPECT_TRUE(doc[4]["success"].GetBool());

  auto published = sf_.published("Test_Event__e");
  ASSERT_EQ(published.count, 2u);
  EXPECT_EQ(published.events[0], R"({"Text__c":"a"})");
  EXPECT_EQ(published.events[1], R"({"Text__c":"e"})");
  EXPECT_EQ(sf_.published("Test_Event__e", 1).events.size(), 1u);  // since=1
}

TEST_F(RestPublishTest, CompositeAllOrNoneRollsBackEverything) {
  auto res = post(kComposite, R"({"allOrNone":true,"records":[
      {"attributes":{"type":"Test_Event__e"},"Text__c":"a"},
      {"attributes":{"type":"Test_Event__e"},"Bogus__c":"b"}]})");
  ASSERT_TRUE(res);
  auto doc = parse(res->body);
  ASSERT_EQ(doc.Size(), 2u);
  EXPECT_FALSE(doc[0]["success"].GetBool());
  EXPECT_EQ(str(doc[0]["errors"][0], "statusCode"), "ALL_OR_NONE_OPERATION_ROLLED_BACK");
  EXPECT_EQ(str(doc[1]["errors"][0], "statusCode"), "INVALID_FIELD");
  EXPECT_EQ(sf_.published("Test_Event__e").count, 0u);
}

TEST_F(RestPublishTest, CompositeLimitsAndMalformedBodies) {
  std::string records;
  for (int i = 0; i < 201; ++i) {
    records += std::string(i ? "," : "") + R"({"attributes":{"type":"Test_Event__e"}})";
  }
  expect_error(post(kComposite, R"({"allOrNone":false,"records":[)" + records + "]}"), 400,
               "EXCEEDED_ID_LIMIT");
  expect_error(post(kComposite, "[not json"), 400, "JSON_PARSER_ERROR");
  expect_error(post(kComposite, R"({"records":{}})"), 400, "JSON_PARSER_ERROR");
  expect_error(post(kComposite, "{}", "bad-token"), 401, "INVALID_SESSION_ID");

  // Exactly 200 is fine.
  records.clear();
  for (int i = 0; i < 200; ++i) {
    records +=
        std::string(i ? "," : "") + R"({"attributes":{"type":"Test_Event__e"},"Text__c":"x"})";
  }
  auto res = post(kComposite, R"({"allOrNone":false,"records":[)" + records + "]}");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(sf_.published("Test_Event__e").count, 200u);
}

TEST_F(RestPublishTest, FailNextFaultAppliesToMatchingPathsOnly) {
  sf_.faults(
      R"({"fail_next":{"count":2,"status":503,"error_code":"SERVER_UNAVAILABLE","path":"/services/data"}})");
  expect_error(post(kSingle, R"({"Text__c":"a"})"), 503, "SERVER_UNAVAILABLE");
  // Not matching the prefix: unaffected, and does not consume the count.
  Bayeux bayeux(sf_, sf_.static_token());
  EXPECT_TRUE(bayeux.handshake()[0]["successful"].GetBool());
  expect_error(post(kSingle, R"({"Text__c":"b"})"), 503, "SERVER_UNAVAILABLE");
  auto res = post(kSingle, R"({"Text__c":"c"})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 201);
  auto published = sf_.published("Test_Event__e");
  ASSERT_EQ(published.count, 1u);
  EXPECT_EQ(published.events[0], R"({"Text__c":"c"})");
}

TEST_F(RestPublishTest, LatencyFaultDelaysPublishing) {
  sf_.faults(R"({"latency_ms":300})");
  auto started = std::chrono::steady_clock::now();
  auto res = post(kSingle, R"({"Text__c":"slow"})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 201);
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(300));
}

TEST_F(RestPublishTest, FailNextCanTargetCometdAndTheTokenEndpoint) {
  sf_.faults(R"({"fail_next":{"count":1,"status":503,"path":"/cometd"}})");
  Bayeux bayeux(sf_, sf_.static_token());
  auto res = bayeux.post("[]");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  sf_.faults(R"({"fail_next":{"count":1,"status":500,"error_code":"UNKNOWN_EXCEPTION",)"
             R"("path":"/services/oauth2/token"}})");
  res = http_.Post("/services/oauth2/token", "grant_type=password",
                   "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
}

TEST_F(RestPublishTest, RequestLimitFaultLooksLikeSalesforce) {
  sf_.faults(R"({"fail_next":{"count":1,"status":403,"error_code":"REQUEST_LIMIT_EXCEEDED"}})");
  expect_error(post(kComposite, R"({"records":[]})"), 403, "REQUEST_LIMIT_EXCEEDED");
}

}  // namespace
}  // namespace sfkb::emulator::test
