#include "daemon/salesforce/rest_client.h"

#include <string>

#include <gtest/gtest.h>

#include "tests/unit/salesforce/fake_transport.h"

namespace sfkb::salesforce {
namespace {

using testing::FakeTransport;
using testing::json_response;

// Hands out "token-1", then "token-2" after a refresh; counts refreshes.
class ScriptedTokens final : public TokenSource {
 public:
  core::Result<Session> session(std::stop_token) override { return current_; }
  core::Result<Session> refresh(const Session& rejected, std::stop_token) override {
    ++refreshes;
    if (fail_refresh) {
      return core::Error{core::ErrorKind::kFatal, "invalid_grant: expired authorization code"};
    }
    if (rejected.generation == current_.generation) {
      current_ = {"token-" + std::to_string(current_.generation + 1), current_.instance_url,
                  current_.generation + 1, "", ""};
    }
    return current_;
  }
  int refreshes = 0;
  bool fail_refresh = false;

 private:
  Session current_{"token-1", "https://org.example.com/", 1, "", ""};
};

std::string header(const http::Request& request, const std::string& name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) {
      return value;
    }
  }
  return "";
}

class RestClientTest : public ::testing::Test {
 protected:
  FakeTransport transport;
  ScriptedTokens tokens;
  ops::Metrics metrics;
  RestClient client{transport, tokens,
                    RestClientOptions{"61.0", std::chrono::milliseconds(1234), nullptr}, metrics};
  std::vector<std::string_view> records{R"({"attributes":{"type":"A__e"},"x":1})",
                                        R"({"attributes":{"type":"A__e"},"x":2})"};
};

TEST_F(RestClientTest, ShouldPostTheConcatenatedRecordsToTheCompositeEndpoint) {
  transport.push_reply(
      json_response(200, R"([{"id":"e1","success":true},{"id":"e2","success":true}])"));

  auto reply = client.publish(records, {});

  ASSERT_TRUE(reply.is_ok());
  EXPECT_EQ(reply->kind, ReplyKind::kPerRecord);
  ASSERT_EQ(transport.requests().size(), 1u);
  const auto requests = transport.requests();
  const auto& request = requests[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "https://org.example.com/services/data/v61.0/composite/sobjects");
  EXPECT_EQ(request.body, R"({"allOrNone":false,"records":[{"attributes":{"type":"A__e"},"x":1},)"
                          R"({"attributes":{"type":"A__e"},"x":2}]})");
  EXPECT_EQ(header(request, "Authorization"), "Bearer token-1");
  EXPECT_EQ(header(request, "Content-Type"), "application/json");
  EXPECT_EQ(request.timeout, std::chrono::milliseconds(1234));
  EXPECT_NE(
      metrics.render().find(R"(sfkb_http_requests_total{endpoint="composite",status="200"} 1)"),
      std::string::npos);
}

TEST_F(RestClientTest, ShouldRefreshTheTokenOnceAndRetryOn401) {
  transport.push_reply(json_response(
      401, R"([{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])"));
  transport.push_reply(json_response(200, R"([{"success":true},{"success":true}])"));

  auto reply = client.publish(records, {});

  ASSERT_TRUE(reply.is_ok());
  EXPECT_EQ(reply->kind, ReplyKind::kPerRecord);
  EXPECT_EQ(tokens.refreshes, 1);
  ASSERT_EQ(transport.requests().size(), 2u);
  EXPECT_EQ(header(transport.requests()[1], "Authorization"), "Bearer token-2");
  EXPECT_EQ(transport.requests()[0].body, transport.requests()[1].body);
}

TEST_F(RestClientTest, ShouldReturnTheSecondRejectionInsteadOfLooping) {
  transport.set_handler([](const http::Request&) -> core::Result<http::Response> {
    return json_response(401,
                         R"([{"message":"Session expired","errorCode":"INVALID_SESSION_ID"}])");
  });

  auto reply = client.publish(records, {});

  ASSERT_TRUE(reply.is_ok());
  EXPECT_EQ(reply->kind, ReplyKind::kReauth);
  EXPECT_EQ(tokens.refreshes, 1);
  EXPECT_EQ(transport.requests().size(), 2u);
}

TEST_F(RestClientTest, ShouldPassOnARefusedLogin) {
  tokens.fail_refresh = true;
  transport.push_reply(json_response(401, "[]"));

  auto reply = client.publish(records, {});

  ASSERT_FALSE(reply.is_ok());
  EXPECT_EQ(reply.error().kind, core::ErrorKind::kFatal);
}

TEST_F(RestClientTest, ShouldReportNetworkTroubleAsRetry) {
  transport.push_reply(core::Error{core::ErrorKind::kRetry, "connection refused"});

  auto reply = client.publish(records, {});

  ASSERT_FALSE(reply.is_ok());
  EXPECT_EQ(reply.error().kind, core::ErrorKind::kRetry);
  EXPECT_NE(
      metrics.render().find(R"(sfkb_http_requests_total{endpoint="composite",status="error"} 1)"),
      std::string::npos);
}

TEST_F(RestClientTest, ShouldCountAMalformedReply) {
  transport.push_reply(json_response(200, R"([{"success":true}])"));

  auto reply = client.publish(records, {});

  ASSERT_TRUE(reply.is_ok());
  EXPECT_EQ(reply->kind, ReplyKind::kTransient);
  EXPECT_NE(metrics.render().find("sfkb_publish_malformed_replies_total 1"), std::string::npos);
}

TEST(CompositeBody, ShouldBeValidForOneRecordAndForNone) {
  EXPECT_EQ(composite_body({R"({"a":1})"}), R"({"allOrNone":false,"records":[{"a":1}]})");
  EXPECT_EQ(composite_body({}), R"({"allOrNone":false,"records":[]})");
}

}  // namespace
}  // namespace sfkb::salesforce

namespace sfkb::salesforce {
namespace {

TEST(RestClientLimitInfoTest, EveryReplysSforceLimitInfoReachesOrgLimits) {
  testing::FakeTransport transport;
  ScriptedTokens tokens;
  ops::Metrics metrics;
  auto limits = std::make_shared<OrgLimits>(0.8, metrics);
  RestClientOptions options;
  options.org_limits = limits;
  RestClient client(transport, tokens, options, metrics);
  std::vector<std::string_view> records{R"({"attributes":{"type":"A__e"},"x":1})"};
  auto ok = json_response(200, R"([{"id":"e1","success":true}])");
  ok.headers.emplace_back("sforce-limit-info", "api-usage=41/15000");
  transport.push_reply(ok);
  auto spent = json_response(403, R"([{"message":"TotalRequests Limit exceeded.",)"
                                  R"("errorCode":"REQUEST_LIMIT_EXCEEDED"}])");
  spent.headers.emplace_back("sforce-limit-info", "api-usage=15000/15000");
  transport.push_reply(spent);

  ASSERT_TRUE(client.publish(records, {}).is_ok());
  EXPECT_EQ(limits->latest(kDailyApiRequests), (Usage{41, 15000}));
  auto reply = client.publish(records, {});
  ASSERT_TRUE(reply.is_ok());
  EXPECT_EQ(reply->kind, ReplyKind::kTransient);
  EXPECT_EQ(limits->latest(kDailyApiRequests), (Usage{15000, 15000}));
  EXPECT_NE(metrics.render().find(R"(sfkb_salesforce_limit_used{limit="DailyApiRequests"} 15000)"),
            std::string::npos);
}

}  // namespace
}  // namespace sfkb::salesforce
