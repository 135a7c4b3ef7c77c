#include "daemon/ops/health_server.h"
#include "daemon/core/build_info.h"

#include <httplib.h>

#include <gtest/gtest.h>

#include <atomic>

namespace sfkb::ops {
namespace {

TEST(ResolveListen, PortEnvironmentWinsAndBindsEveryInterface) {
  auto r = resolve_listen("127.0.0.1:8080", "5000");
  ASSERT_TRUE(r.is_ok());
  ASSERT_TRUE(r.value().has_value());
  EXPECT_EQ(r.value()->host, "0.0.0.0");
  EXPECT_EQ(r.value()->port, 5000);
}

TEST(ResolveListen, EmptyListenWithoutPortIsOff) {
  auto r = resolve_listen("", nullptr);
  ASSERT_TRUE(r.is_ok());
  EXPECT_FALSE(r.value().has_value());
  auto empty_env = resolve_listen("", "");
  ASSERT_TRUE(empty_env.is_ok());
  EXPECT_FALSE(empty_env.value().has_value());
}

TEST(ResolveListen, ParsesHostPortBracketedV6AndBarePort) {
  auto v4 = resolve_listen("127.0.0.1:0", nullptr);
  ASSERT_TRUE(v4.is_ok());
  EXPECT_EQ(v4.value()->host, "127.0.0.1");
  EXPECT_EQ(v4.value()->port, 0);
  auto v6 = resolve_listen("[::1]:9100", nullptr);
  ASSERT_TRUE(v6.is_ok());
  EXPECT_EQ(v6.value()->host, "::1");
  EXPECT_EQ(v6.value()->port, 9100);
  auto any = resolve_listen(":9100", nullptr);
  ASSERT_TRUE(any.is_ok());
  EXPECT_EQ(any.value()->host, "0.0.0.0");
}

TEST(ResolveListen, RejectsGarbageNamingTheValue) {
  auto no_port = resolve_listen("localhost", nullptr);
  ASSERT_FALSE(no_port.is_ok());
  EXPECT_NE(no_port.error().message.find("'localhost'"), std::string::npos);
  EXPECT_FALSE(resolve_listen("127.0.0.1:http", nullptr).is_ok());
  EXPECT_FALSE(resolve_listen("127.0.0.1:70000", nullptr).is_ok());
  auto bad_env = resolve_listen("", "abc");
  ASSERT_FALSE(bad_env.is_ok());
  EXPECT_NE(bad_env.error().message.find("$PORT"), std::string::npos);
}

TEST(ReadinessBody, ListsTheReasonOfEveryPipelineThatIsNotReady) {
  auto [ready, body] = readiness_body(
      {{"subscribe", true, ""}, {"publish", false, "consumer has no \"partitions\""}});
  EXPECT_FALSE(ready);
  EXPECT_EQ(body,
            "{\"status\":\"not ready\",\"pipelines\":{\"subscribe\":\"ready\",\"publish\":\"not "
            "ready\"},\"reasons\":{\"publish\":\"consumer has no \\\"partitions\\\"\"}}\n");
  auto [all, ok_body] = readiness_body({{"subscribe", true, ""}});
  EXPECT_TRUE(all);
  EXPECT_EQ(ok_body, "{\"status\":\"ready\",\"pipelines\":{\"subscribe\":\"ready\"}}\n");
}

class HealthServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    register_build_info(metrics_);
    metrics_.counter("sfkb_events_received_total", "Events received", {{"channel", "/event/A__e"}})
        .inc(2);
    ASSERT_TRUE(server_.start({"127.0.0.1", 0}).is_ok());
    ASSERT_GT(server_.port(), 0);
  }

  httplib::Client client() { return httplib::Client("127.0.0.1", server_.port()); }

  Metrics metrics_;
  std::atomic<bool> subscribe_ready_{false};
  HealthServer server_{metrics_, [this] {
                         return std::vector<ReadinessState>{{"subscribe", subscribe_ready_.load(),
                                                             "CometD session not established"}};
                       }};
};

TEST_F(HealthServerTest, HealthzAnswersWhileNotReady) {
  auto res = client().Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(HealthServerTest, ReadyzIs503WithReasonUntilEveryPipelineIsReady) {
  auto before = client().Get("/readyz");
  ASSERT_TRUE(before);
  EXPECT_EQ(before->status, 503);
  EXPECT_NE(before->body.find("CometD session not established"), std::string::npos) << before->body;
  EXPECT_EQ(before->get_header_value("Content-Type"), "application/json");

  subscribe_ready_ = true;
  auto after = client().Get("/readyz");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST_F(HealthServerTest, MetricsServesPrometheusTextWithBuildInfo) {
  auto res = client().Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0), 0u);
  EXPECT_NE(res->body.find(std::string("sfkb_build_info{version=\"" SFKB_VERSION "\",commit=\"") +
                           core::git_commit() + "\"} 1\n"),
            std::string::npos)
      << res->body;
  EXPECT_NE(res->body.find("sfkb_events_received_total{channel=\"/event/A__e\"} 2\n"),
            std::string::npos);
}

TEST_F(HealthServerTest, UnknownPathIs404) {
  auto res = client().Get("/nope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

TEST(HealthServer, PortInUseIsAnErrorNotACrash) {
  Metrics metrics;
  HealthServer first(metrics, [] { return std::vector<ReadinessState>{}; });
  ASSERT_TRUE(first.start({"127.0.0.1", 0}).is_ok());
  HealthServer second(metrics, [] { return std::vector<ReadinessState>{}; });
  auto status = second.start({"127.0.0.1", first.port()});
  EXPECT_FALSE(status.is_ok());
}

TEST(HealthServer, StopsRightAfterStart) {
  Metrics metrics;
  for (int i = 0; i < 20; ++i) {
    HealthServer server(metrics, [] { return std::vector<ReadinessState>{}; });
    ASSERT_TRUE(server.start({"127.0.0.1", 0}).is_ok());
  }  // the destructor must not hang
}

}  // namespace
}  // namespace sfkb::ops
