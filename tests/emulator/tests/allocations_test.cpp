// The org's allocations on the wire: the limits resource, Sforce-Limit-Info on REST responses,
// Salesforce's errors once an allocation is spent, and the admin call that rolls them over.

#include <gtest/gtest.h>

#include "test_support.h"

namespace sfkb::emulator::test {
namespace {

constexpr const char* kComposite = "/services/data/v62.0/composite/sobjects";
constexpr const char* kLimits = "/services/data/v62.0/limits";

std::string records(int n) {
  std::string body = R"({"allOrNone":false,"records":[)";
  for (int i = 0; i < n; ++i) {
    body += (i > 0 ? "," : "") +
            std::string(R"({"attributes":{"type":"Test_Event__e"},"Text__c":"r)") +
            std::to_string(i) + "\"}";
  }
  return body + "]}";
}

class AllocationsTest : public ::testing::Test {
 protected:
  explicit AllocationsTest(std::vector<std::string> args = {"--limit",
                                                            "HourlyPublishedPlatformEvents=3",
                                                            "--limit", "DailyApiRequests=5",
                                                            "--limit",
                                                            "DailyDeliveredPlatformEvents=4"})
      : sf_(with_args(std::move(args))) {}

  httplib::Headers auth() const { return {{"Authorization", "Bearer " + sf_.static_token()}}; }
  httplib::Result publish(int n) {
    return http_.Post(kComposite, auth(), records(n), "application/json");
  }
  httplib::Result limits() { return http_.Get(kLimits, auth()); }

  EmulatorProcess sf_;
  httplib::Client http_ = client_for(sf_);
};

TEST_F(AllocationsTest, LimitsResourceReportsMaxAndRemainingUnderSalesforceNames) {
  auto res = limits();
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  auto doc = parse(res->body);
  EXPECT_EQ(doc["HourlyPublishedPlatformEvents"]["Max"].GetInt64(), 3);
  EXPECT_EQ(doc["HourlyPublishedPlatformEvents"]["Remaining"].GetInt64(), 3);
  EXPECT_EQ(doc["DailyDeliveredPlatformEvents"]["Max"].GetInt64(), 4);
  // The limits request itself is an API request.
  EXPECT_EQ(doc["DailyApiRequests"]["Max"].GetInt64(), 5);
  EXPECT_EQ(doc["DailyApiRequests"]["Remaining"].GetInt64(), 4);
  EXPECT_FALSE(doc["DailyApiRequests"].HasMember("Used"));  // only the admin view has it
  EXPECT_EQ(res->get_header_value("Sforce-Limit-Info"), "api-usage=1/5");

  auto unauthenticated = http_.Get(kLimits);
  ASSERT_TRUE(unauthenticated);
  EXPECT_EQ(unauthenticated->status, 401);
}

TEST_F(AllocationsTest, CompositeCountsOnceAndRecordsPastTheHourlyAllocationFailOnTheirOwn) {
  auto res = publish(5);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Sforce-Limit-Info"), "api-usage=1/5");
  auto doc = parse(res->body);
  ASSERT_EQ(doc.Size(), 5u);
  for (rapidjson::SizeType i = 0; i < 5; ++i) {
    EXPECT_EQ(doc[i]["success"].GetBool(), i < 3) << res->body;
    if (i >= 3) {
      EXPECT_EQ(str(doc[i]["errors"][0], "statusCode"), "LIMIT_EXCEEDED");
    }
  }
  EXPECT_EQ(sf_.published("Test_Event__e").count, 3u);
  EXPECT_EQ(sf_.limit_used("HourlyPublishedPlatformEvents"), 3);
  EXPECT_EQ(sf_.limit_used("DailyApiRequests"), 1);

  // The hour rolls over: the allocation is back, the daily API count is not.
  sf_.limits(R"({"roll_over":"hour"})");
  EXPECT_EQ(sf_.limit_used("HourlyPublishedPlatformEvents"), 0);
  EXPECT_EQ(sf_.limit_used("DailyApiRequests"), 1);
  res = publish(2);
  ASSERT_TRUE(res);
  auto again = parse(res->body);
  EXPECT_TRUE(again[0]["success"].GetBool());
  EXPECT_TRUE(again[1]["success"].GetBool());
  EXPECT_EQ(sf_.published("Test_Event__e").count, 5u);
}

TEST_F(AllocationsTest, AllOrNoneRollBackGivesTheAllocationBack) {
  std::string body = records(4);
  body.replace(body.find("false"), 5, "true");
  auto res = http_.Post(kComposite, auth(), body, "application/json");
  ASSERT_TRUE(res);
  auto doc = parse(res->body);
  ASSERT_EQ(doc.Size(), 4u);
  for (const auto& r : doc.GetArray()) {
    EXPECT_FALSE(r["success"].GetBool());
  }
  EXPECT_EQ(sf_.limit_used("HourlyPublishedPlatformEvents"), 0);
  EXPECT_EQ(sf_.published("Test_Event__e").count, 0u);
}

TEST_F(AllocationsTest, SpentDailyApiRequestsGiveRequestLimitExceededUntilTheDayRollsOver) {
  for (int i = 0; i < 5; ++i) {
    auto res = limits();
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200);
  }
  auto res = publish(1);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  EXPECT_EQ(res->get_header_value("Sforce-Limit-Info"), "api-usage=5/5");
  auto doc = parse(res->body);
  EXPECT_EQ(str(doc[0], "errorCode"), "REQUEST_LIMIT_EXCEEDED");
  EXPECT_EQ(sf_.published("Test_Event__e").count, 0u);

  sf_.limits(R"({"roll_over":"day"})");
  res = publish(1);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Sforce-Limit-Info"), "api-usage=1/5");
}

TEST_F(AllocationsTest, DeliveryStopsAtTheDailyAllocationWithTheDailyLimitError) {
  Bayeux bayeux(sf_, sf_.static_token());
  bayeux.handshake();
  bayeux.subscribe("/event/Test_Event__e", -2);
  sf_.inject("/event/Test_Event__e", 6, R"({"Text__c":"x{seq}"})");
  std::size_t delivered = 0;
  rapidjson::Document reply;
  for (int i = 0; i < 5 && delivered < 4; ++i) {
    reply = bayeux.connect();
    delivered += events_of(reply).size();
  }
  EXPECT_EQ(delivered, 4u);  // a reply takes no more than what remains
  EXPECT_EQ(sf_.limit_used("DailyDeliveredPlatformEvents"), 4);
  reply = bayeux.connect();
  EXPECT_TRUE(events_of(reply).empty());
  const auto& meta = meta_reply(reply);
  EXPECT_FALSE(meta["successful"].GetBool());
  EXPECT_EQ(str(meta, "error"), "403::Organization total events daily limit exceeded");

  sf_.limits(R"({"roll_over":"day"})");
  reply = bayeux.connect();
  EXPECT_EQ(events_of(reply).size(), 2u);
}

TEST_F(AllocationsTest, AdminSetsAllocationsRefusesUnknownOnesAndResetRestoresTheFlags) {
  auto doc = parse(sf_.limits(R"({"set":{"HourlyPublishedPlatformEvents":{"Max":10,"Used":7}}})"));
  EXPECT_EQ(doc["HourlyPublishedPlatformEvents"]["Max"].GetInt64(), 10);
  EXPECT_EQ(doc["HourlyPublishedPlatformEvents"]["Remaining"].GetInt64(), 3);
  EXPECT_THROW(sf_.limits(R"({"set":{"DailyEmails":{"Max":1}}})"), testing::AdminError);
  EXPECT_THROW(sf_.limits(R"({"roll_over":"week"})"), testing::AdminError);
  sf_.reset();
  doc = parse(sf_.limits());
  EXPECT_EQ(doc["HourlyPublishedPlatformEvents"]["Max"].GetInt64(), 3);
  EXPECT_EQ(doc["HourlyPublishedPlatformEvents"]["Used"].GetInt64(), 0);
}

}  // namespace
}  // namespace sfkb::emulator::test
