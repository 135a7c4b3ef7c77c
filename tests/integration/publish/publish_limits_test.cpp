// The publish budget end to end: a backlog larger than the bridge's share of the org's hourly
// allocation is published up to the share, waits in Kafka with nothing lost, and goes on when
// the emulator's hour rolls over (README "Limits and loops").

#include <httplib.h>
#include <regex>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "tests/integration/publish/publish_harness.h"
#include "tests/integration/support/unique_name.h"
#include "tests/support/wait.h"

namespace sfkb::it::publish {
namespace {

using namespace std::chrono_literals;
using emulator::testing::EmulatorProcess;
using test_support::wait_until;

// Successful reads of the limits resource so far (the bridge's poller).
std::int64_t limits_reads(EmulatorProcess& sf) {
  rapidjson::Document doc;
  const auto stats = sf.stats();
  doc.Parse(stats.c_str(), stats.size());
  if (doc.HasParseError() || !doc.HasMember("requests")) {
    return -1;
  }
  const auto& requests = doc["requests"];
  auto it = requests.FindMember("GET /services/data/limits");
  if (it == requests.MemberEnd() || !it->value.HasMember("200")) {
    return 0;
  }
  return it->value["200"].GetInt64();
}

// The value of one series of the bridge's /metrics; nullopt when absent or unreachable.
std::optional<double> scrape(int port, const std::string& series) {
  httplib::Client client("127.0.0.1", port);
  auto res = client.Get("/metrics");
  if (!res || res->status != 200) {
    return std::nullopt;
  }
  const auto at = res->body.find(series + " ");
  if (at == std::string::npos) {
    return std::nullopt;
  }
  return std::stod(res->body.substr(at + series.size() + 1));
}

TEST(PublishLimitsIntegration, StopsAtItsShareOfTheHourlyAllocationAndResumesWhenTheHourRollsOver) {
  SFKB_REQUIRE_PUBLISH_PEERS();
  KafkaTestCluster kafka;
  TempDir dir{"sfkb-publish-limits-it"};
  // The org may publish 100 events an hour; the bridge takes half of what remains: 50 an hour.
  EmulatorProcess sf(emulator_options({"--limit", "HourlyPublishedPlatformEvents=100"}));
  const auto topic = unique_name("orders");
  kafka.create_topic(topic, 1);
  produce_orders(kafka, topic, 1, 120);  // the backlog: more than two hours' share
  PublishConfig config;
  config.salesforce_url = sf.base_url();
  config.access_token = sf.static_token();
  config.bootstrap = kafka.bootstrap();
  config.topics = {topic};
  config.group_id = unique_name("group");
  config.dead_letter_topic = unique_name("orders-dlq");
  config.batch_size = 20;
  config.top_yaml = "limits:\n  poll_interval: 1s\n  budget: 50%\n";
  config.http_listen = "127.0.0.1:0";
  Bridge bridge(config, dir);
  const auto listening = bridge.process().wait_for_output("http listening on 127.0.0.1:", 30s);
  ASSERT_TRUE(listening) << bridge.output();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(*listening, m, std::regex("127\\.0\\.0\\.1:([0-9]+)")));
  const int port = std::stoi(m[1]);

  auto committed = [&](std::int64_t offset) {
    return wait_until(
        [&] {
          auto c = kafka.committed_offsets(config.group_id, topic);
          return c.count(0) != 0 && c[0] == offset;
        },
        30s, 100ms);
  };
  // Each hour: exactly its share is published and committed, the rest waits in Kafka.
  std::size_t from_line = 0;
  for (const std::int64_t done : {50, 100}) {
    ASSERT_TRUE(
        bridge.process().wait_for_output("publish budget spent", 30s, from_line).has_value())
        << bridge.output();
    ASSERT_TRUE(committed(done)) << bridge.output();
    EXPECT_EQ(sf.published(kEvent).count, static_cast<std::size_t>(done));
    EXPECT_EQ(sf.limit_used("HourlyPublishedPlatformEvents"), 50);  // never past the share
    // A reading after our spending, so that the roll-over shows as a rising remainder.
    const auto reads = limits_reads(sf);
    ASSERT_TRUE(wait_until([&] { return limits_reads(sf) > reads; }, 10s, 100ms));
    // The gauges show what the emulator counts.
    for (const char* name : {"HourlyPublishedPlatformEvents", "DailyApiRequests"}) {
      const std::string series =
          std::string(R"(sfkb_salesforce_limit_used{limit=")") + name + "\"}";
      EXPECT_TRUE(wait_until(
          [&] {
            auto used = scrape(port, series);
            return used && static_cast<std::int64_t>(*used) == sf.limit_used(name);
          },
          10s, 100ms))
          << series << " = " << scrape(port, series).value_or(-1) << ", emulator "
          << sf.limit_used(name);
    }
    EXPECT_EQ(scrape(port, R"(sfkb_salesforce_limit_max{limit="HourlyPublishedPlatformEvents"})"),
              100.0);
    EXPECT_EQ(scrape(port, R"(sfkb_publish_budget_waits_total{event="Order__e"})"),
              static_cast<double>(done / 50));
    from_line = bridge.process().line_count();
    sf.limits(R"({"roll_over":"hour"})");
  }
  ASSERT_TRUE(committed(120)) << bridge.output();
  auto published = published_by_source(sf);
  EXPECT_EQ(check_exactly_once_in_order(published[topic + "/0"], 120), "");
  EXPECT_EQ(bridge.terminate(), 0) << bridge.output();
}

}  // namespace
}  // namespace sfkb::it::publish

namespace sfkb::it::publish {
namespace {

// Order__e both ways: records of topic X are published as Order__e, and Order__e is subscribed
// into topic Y. Five more events come from another user (an admin inject) after the bridge's 20.
std::vector<ConsumedRecord> echo_run(bool skip_own_events, std::size_t expect) {
  KafkaTestCluster kafka;
  TempDir dir{"sfkb-echo-it"};
  EmulatorProcess sf(emulator_options({"--client-id", "app", "--client-secret", "s3cret"}));
  const auto x = unique_name("orders-x");
  const auto y = unique_name("orders-y");
  kafka.create_topic(x, 1);
  kafka.create_topic(y, 1);
  PublishConfig config;
  config.salesforce_url = sf.base_url();
  config.client_id = "app";
  config.client_secret = "s3cret";
  config.bootstrap = kafka.bootstrap();
  config.topics = {x};
  config.group_id = unique_name("group");
  config.dead_letter_topic = unique_name("orders-dlq");
  config.top_yaml =
      "checkpoint:\n  directory: " + dir.file("checkpoints") +
      "\nsubscribe:\n  - channel: /event/Order__e\n    topic: " + y +
      "\n    start: earliest\n    skip_own_events: " + (skip_own_events ? "true" : "false") + "\n";
  Bridge bridge(config, dir);
  produce_orders(kafka, x, 1, 20);
  EXPECT_EQ(sf.wait_for_published(kEvent, 20, 30s).count, 20u) << bridge.output();
  sf.inject("/event/Order__e", 5,
            R"({"CreatedById":"005xx000002OthRAAK","Src__c":"other {seq}","Seq__c":0,)"
            R"("Text__c":"from another user"})");
  // Bounded: the other user's five come after the bridge's twenty in the channel, so once they
  // are in Y every echo was either produced or skipped.
  auto records = kafka.consume(y, expect, 30s);
  EXPECT_EQ(bridge.terminate(), 0) << bridge.output();
  return kafka.read_all(y);
}

TEST(EchoIntegration, WithSkipOwnEventsOnlyAnotherUsersEventsReachTheSubscribeTopic) {
  SFKB_REQUIRE_PUBLISH_PEERS();
  const auto records = echo_run(true, 5);
  ASSERT_EQ(records.size(), 5u);
  for (const auto& r : records) {
    ASSERT_TRUE(r.value);
    EXPECT_NE(r.value->find("005xx000002OthRAAK"), std::string::npos) << *r.value;
  }
}

TEST(EchoIntegration, WithoutItEveryPublishedRecordComesBack) {
  SFKB_REQUIRE_PUBLISH_PEERS();
  const auto records = echo_run(false, 25);
  ASSERT_EQ(records.size(), 25u);
  std::size_t own = 0;
  for (const auto& r : records) {
    own += r.value && r.value->find("005xx000001SvQrAAK") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(own, 20u);
}

}  // namespace
}  // namespace sfkb::it::publish
