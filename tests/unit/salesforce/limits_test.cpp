// Sforce-Limit-Info and the limits resource, parsed; OrgLimits' gauges and its one warning per
// crossing of the configured share.

#include "daemon/salesforce/limits.h"

#include <gtest/gtest.h>

#include "daemon/salesforce/limits_poller.h"
#include "tests/unit/salesforce/fake_transport.h"

namespace sfkb::salesforce {
namespace {

TEST(LimitInfoTest, ReadsApiUsageAmongOtherMembers) {
  EXPECT_EQ(parse_limit_info("api-usage=18/5000"), (Usage{18, 5000}));
  EXPECT_EQ(parse_limit_info("api-usage=25/5000; per-app-api-usage=17/250(appName=sample-app)"),
            (Usage{25, 5000}));
  EXPECT_EQ(parse_limit_info("per-app-api-usage=17/250(appName=x);api-usage=3/9"), (Usage{3, 9}));
  // Bursts: used beyond max is reported as is.
  EXPECT_EQ(parse_limit_info("api-usage=110018/100000; api-bursts=1/750"), (Usage{110018, 100000}));
}

TEST(LimitInfoTest, RefusesWhatIsNotApiUsage) {
  EXPECT_FALSE(parse_limit_info(""));
  EXPECT_FALSE(parse_limit_info("per-app-api-usage=17/250(appName=x)"));
  EXPECT_FALSE(parse_limit_info("api-usage=18"));
  EXPECT_FALSE(parse_limit_info("api-usage=18/"));
  EXPECT_FALSE(parse_limit_info("api-usage=-1/5000"));
  EXPECT_FALSE(parse_limit_info("api-usage=1x/5000"));
  EXPECT_FALSE(parse_limit_info("api-usage=99999999999999999999999/1"));
}

TEST(LimitsResourceTest, ReadsTheWatchedAllocations) {
  auto parsed = parse_limits_resource(
      R"({"DailyApiRequests":{"Max":15000,"Remaining":14998,"Ant Migration Tool":{"Max":0,"Remaining":0}},)"
      R"("HourlyPublishedPlatformEvents":{"Max":250000,"Remaining":249000},)"
      R"("DailyDeliveredPlatformEvents":{"Max":50000,"Remaining":-20},)"
      R"("MassEmail":{"Max":10,"Remaining":10}})");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->size(), 3u);
  EXPECT_EQ(parsed->at(kDailyApiRequests), (Usage{2, 15000}));
  EXPECT_EQ(parsed->at(kHourlyPublishedPlatformEvents), (Usage{1000, 250000}));
  EXPECT_EQ(parsed->at(kDailyDeliveredPlatformEvents), (Usage{50020, 50000}));
  EXPECT_EQ(parsed->at(kDailyDeliveredPlatformEvents).remaining(), 0);
}

TEST(LimitsResourceTest, LeavesOutWhatItCannotRead) {
  EXPECT_FALSE(parse_limits_resource("not json"));
  EXPECT_FALSE(parse_limits_resource("[]"));
  auto parsed = parse_limits_resource(
      R"({"DailyApiRequests":{"Max":"many","Remaining":1},"HourlyPublishedPlatformEvents":3})");
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->empty());
}

TEST(OrgLimitsTest, GaugesFollowEveryReadingAndListenersHearThem) {
  ops::Metrics metrics;
  OrgLimits limits(0.8, metrics);
  // The gauges exist before any reading.
  EXPECT_NE(metrics.render().find(R"(sfkb_salesforce_limit_used{limit="DailyApiRequests"} 0)"),
            std::string::npos);
  std::vector<std::pair<std::string, Usage>> heard;
  limits.listen([&](const std::string& name, const Usage& u) { heard.emplace_back(name, u); });
  limits.observe(kDailyApiRequests, {12, 100}, "test");
  limits.observe(kHourlyPublishedPlatformEvents, {5, 50}, "test");
  const auto text = metrics.render();
  EXPECT_NE(text.find(R"(sfkb_salesforce_limit_used{limit="DailyApiRequests"} 12)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(sfkb_salesforce_limit_max{limit="DailyApiRequests"} 100)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(sfkb_salesforce_limit_used{limit="HourlyPublishedPlatformEvents"} 5)"),
            std::string::npos);
  ASSERT_EQ(heard.size(), 2u);
  EXPECT_EQ(heard[1].first, kHourlyPublishedPlatformEvents);
  EXPECT_EQ(limits.latest(kDailyApiRequests), (Usage{12, 100}));
  EXPECT_FALSE(limits.latest(kDailyDeliveredPlatformEvents));
}

TEST(OrgLimitsTest, WarnsOncePerCrossingOfTheShare) {
  ops::Metrics metrics;
  OrgLimits limits(0.8, metrics);
  auto& warnings =
      metrics.counter("sfkb_salesforce_limit_warnings_total", "", {{"limit", kDailyApiRequests}});
  limits.observe(kDailyApiRequests, {79, 100}, "test");
  EXPECT_EQ(warnings.value(), 0u);
  for (int used = 80; used <= 95; ++used) {
    limits.observe(kDailyApiRequests, {used, 100}, "test");
  }
  EXPECT_EQ(warnings.value(), 1u);                      // once, not per reading
  limits.observe(kDailyApiRequests, {3, 100}, "test");  // the window rolled over
  limits.observe(kDailyApiRequests, {90, 100}, "test");
  EXPECT_EQ(warnings.value(), 2u);
  limits.observe(kDailyApiRequests, {0, 0}, "test");  // no allocation: nothing to warn about
  EXPECT_EQ(warnings.value(), 2u);
}

class OneToken final : public TokenSource {
 public:
  core::Result<Session> session(std::stop_token) override { return current; }
  core::Result<Session> refresh(const Session&, std::stop_token) override {
    ++refreshes;
    current.access_token = "token-2";
    ++current.generation;
    return current;
  }
  Session current{"token-1", "https://org.example.com/", 1, "", ""};
  int refreshes = 0;
};

TEST(LimitsPollerTest, ReadsTheResourceWithTheTokenAndFeedsOrgLimits) {
  auto transport = std::make_unique<testing::FakeTransport>();
  auto* fake = transport.get();
  OneToken tokens;
  ops::Metrics metrics;
  auto limits = std::make_shared<OrgLimits>(0.8, metrics);
  LimitsPoller poller(std::move(transport), tokens, limits,
                      {"61.0", std::chrono::minutes(5), std::chrono::seconds(30)});
  auto expired = testing::json_response(
      401, R"([{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])");
  fake->push_reply(expired);
  auto ok = testing::json_response(
      200, R"({"DailyApiRequests":{"Max":100,"Remaining":90},)"
           R"("HourlyPublishedPlatformEvents":{"Max":1000,"Remaining":400}})");
  ok.headers.emplace_back("sforce-limit-info", "api-usage=11/100");
  fake->push_reply(ok);

  ASSERT_TRUE(poller.poll_once({}).is_ok());
  const auto requests = fake->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].method, "GET");
  EXPECT_EQ(requests[1].url, "https://org.example.com/services/data/v61.0/limits");
  EXPECT_EQ(requests[1].headers[0].second, "Bearer token-2");
  EXPECT_EQ(tokens.refreshes, 1);
  // The resource's figure is read after the header's, so it is the latest.
  EXPECT_EQ(limits->latest(kDailyApiRequests), (Usage{10, 100}));
  EXPECT_EQ(limits->latest(kHourlyPublishedPlatformEvents), (Usage{600, 1000}));
  EXPECT_FALSE(limits->latest(kDailyDeliveredPlatformEvents));
}

TEST(LimitsPollerTest, AFailedReadIsARetryAndChangesNothing) {
  auto transport = std::make_unique<testing::FakeTransport>();
  auto* fake = transport.get();
  OneToken tokens;
  ops::Metrics metrics;
  auto limits = std::make_shared<OrgLimits>(0.8, metrics);
  LimitsPoller poller(std::move(transport), tokens, limits, {});
  fake->push_reply(testing::json_response(
      403, R"([{"message":"Insufficient privileges","errorCode":"INSUFFICIENT_ACCESS"}])"));
  fake->push_reply(testing::json_response(200, "<html>maintenance</html>"));
  auto first = poller.poll_once({});
  EXPECT_EQ(first.kind(), core::ErrorKind::kRetry);
  EXPECT_NE(first.message().find("403"), std::string::npos);
  EXPECT_EQ(poller.poll_once({}).kind(), core::ErrorKind::kRetry);
  EXPECT_FALSE(limits->latest(kHourlyPublishedPlatformEvents));
}

}  // namespace
}  // namespace sfkb::salesforce
