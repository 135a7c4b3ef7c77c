// Salesforce faults under each policy, a 20 s broker outage, odd input (an unconfigured channel, a
// 2 MB event) and connect replies that never arrive whole (unreadable, cut mid-body) - with the
// outcome checked in Kafka, on the emulator's wire statistics and in the daemon's log.

#include <atomic>
#include <filesystem>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "tests/integration/subscribe/bridge_harness.h"
#include "tests/integration/support/unique_name.h"
#include "tests/support/wait.h"

namespace sfkb::it::subscribe {
namespace {

using namespace std::chrono_literals;
using emulator::testing::EmulatorProcess;

constexpr auto kLong = 90s;
const std::string kChannel = "/event/A__e";

// A number from the emulator's /_emulator/stats JSON, e.g. "sessions_created".
std::int64_t stat(EmulatorProcess& sf, const std::string& name) {
  std::smatch match;
  const std::string stats = sf.stats();
  if (std::regex_search(stats, match, std::regex("\"" + name + "\":([0-9]+)"))) {
    return std::stoll(match[1]);
  }
  return -1;
}

class SubscribeFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    SFKB_REQUIRE_KAFKA();
    SFKB_REQUIRE_BRIDGE();
    kafka_ = std::make_unique<KafkaTestCluster>();
    topic_ = unique_name("sub-faults");
    kafka_->create_topic(topic_, 1);
  }
  BridgeConfig config_for(const EmulatorProcess& sf, ChannelSpec spec = {kChannel, ""}) {
    BridgeConfig config;
    config.salesforce_url = sf.base_url();
    if (api_ == Api::kPubsub) {
      // Every Pub/Sub call names the org: a token response with an identity URL.
      config.client_id = "cid";
      config.client_secret = "csecret";
      config.pubsub_endpoint = pubsub_endpoint(sf);
      spec.api = "pubsub";
    } else {
      config.access_token = sf.static_token();
    }
    config.bootstrap = kafka_->bootstrap();
    config.checkpoint_dir = dir_.file("state");
    if (spec.topic.empty()) {
      spec.topic = topic_;
    }
    config.channels = {spec};
    return config;
  }
  void inject(EmulatorProcess& sf, std::size_t n, Injected& injected) {
    injected.add(sf.inject(kChannel, n, R"({"Text__c":"f{n}"})"), n);
  }
  std::vector<Seen> seen() { return by_channel(kafka_->read_all(topic_))[kChannel]; }

  TempDir dir_{"sfkb-it-faults"};
  std::unique_ptr<KafkaTestCluster> kafka_;
  std::string topic_;
  Api api_ = Api::kCometd;
};

// A broker outage over either API (README.md "Choosing the API"): the same test.
class SubscribeFaultsOverApi : public SubscribeFaults, public ::testing::WithParamInterface<Api> {
 protected:
  SubscribeFaultsOverApi() { api_ = GetParam(); }
};
INSTANTIATE_TEST_SUITE_P(Api, SubscribeFaultsOverApi, ::testing::Values(Api::kCometd, Api::kPubsub),
                         [](const ::testing::TestParamInfo<Api>& info) {
                           return to_string(info.param);
                         });

TEST_F(SubscribeFaults, ExpiredTokensAreRefreshedAndNothingIsLost) {
  EmulatorProcess::Options options =
      emulator_options({"--client-id", "cid", "--client-secret", "csecret"});
  EmulatorProcess sf(options);
  auto config = config_for(sf);
  config.access_token.clear();
  config.client_id = "cid";
  config.client_secret = "csecret";
  Bridge bridge(config, dir_);
  ASSERT_TRUE(bridge.wait_ready()) << bridge.output();
  Injected injected;
  inject(sf, 500, injected);
  wait_for_channel(*kafka_, topic_, kChannel, 500, kLong);
  const auto tokens_before = stat(sf, "tokens_issued");

  sf.faults(R"({"expire_tokens":true})");
  inject(sf, 500, injected);
  wait_for_channel(*kafka_, topic_, kChannel, 1000, kLong);
  ASSERT_EQ(bridge.terminate(), 0) << bridge.output();

  EXPECT_EQ(check_exactly_once(seen(), injected, true), "");
  EXPECT_GT(stat(sf, "tokens_issued"), tokens_before);
  EXPECT_NE(bridge.output().find("401"), std::string::npos) << bridge.output();
  EXPECT_EQ(bridge.output().find("csecret"), std::string::npos) << "a secret reached the log";
}

TEST_F(SubscribeFaults, DroppedSessionsRehandshakeFromTheLastAcknowledgedEvent) {
  EmulatorProcess sf(emulator_options());
  Bridge bridge(config_for(sf), dir_);
  ASSERT_TRUE(bridge.wait_ready()) << bridge.output();
  Injected injected;
  for (int round = 0; round < 3; ++round) {
    inject(sf, 700, injected);
    wait_for_channel(*kafka_, topic_, kChannel, injected.total, kLong);
    sf.faults(R"({"drop_sessions":true})");
  }
  inject(sf, 100, injected);
  wait_for_channel(*kafka_, topic_, kChannel, injected.total, kLong);
  ASSERT_EQ(bridge.terminate(), 0) << bridge.output();

  EXPECT_EQ(check_exactly_once(seen(), injected, true), "");
  EXPECT_GE(stat(sf, "sessions_created"), 3);
  EXPECT_NE(bridge.output().find("Unknown client"), std::string::npos) << bridge.output();
}

TEST_F(SubscribeFaults, ServerTooBusyIsRetriedWithBackoff) {
  EmulatorProcess sf(emulator_options());
  Bridge bridge(config_for(sf), dir_);
  ASSERT_TRUE(bridge.wait_ready()) << bridge.output();
  Injected injected;
  sf.faults(R"({"busy_next_connects":3})");
  inject(sf, 300, injected);
  wait_for_channel(*kafka_, topic_, kChannel, 300, kLong);
  ASSERT_EQ(bridge.terminate(), 0) << bridge.output();
  EXPECT_EQ(check_exactly_once(seen(), injected, true), "");
  EXPECT_NE(bridge.output().find("busy"), std::string::npos) << bridge.output();
}

// The checkpoint falls out of retention while the bridge is down; what happens on restart
// depends on on_invalid_replay_id.
class InvalidReplay : public SubscribeFaults {
 protected:
  // Runs a first bridge over 100 events, stops it, then lets retention drop them and 50 more.
  Injected prepare(EmulatorProcess& sf) {
    Injected first;
    inject(sf, 100, first);
    {
      Bridge bridge(config_for(sf), dir_, "first");
      EXPECT_TRUE(bridge.wait_ready()) << bridge.output();
      wait_for_channel(*kafka_, topic_, kChannel, 100, kLong);
      EXPECT_EQ(bridge.terminate(), 0) << bridge.output();
    }
    sf.faults(R"({"retention":10})");
    Injected later;
    inject(sf, 60, later);  // only the last 10 of these stay replayable
    return first;
  }
};

TEST_F(InvalidReplay, EarliestReplaysWhatIsRetainedAndWarns) {
  EmulatorProcess sf(emulator_options());
  Injected expected = prepare(sf);
  ChannelSpec spec{kChannel, topic_};
  spec.on_invalid_replay_id = "earliest";
  Bridge bridge(config_for(sf, spec), dir_, "second");
  ASSERT_TRUE(bridge.wait_ready()) << bridge.output();
  auto records = wait_for_channel(*kafka_, topic_, kChannel, 110, kLong);
  ASSERT_EQ(bridge.terminate(), 0) << bridge.output();
  records = seen();
  EXPECT_EQ(records.size(), 110u);  // the first 100 and the 10 retained; 50 were never seen
  EXPECT_NE(bridge.output().find("invalid"), std::string::npos) << bridge.output();
}

TEST_F(InvalidReplay, LatestSkipsToNewEventsAndWarns) {
  EmulatorProcess sf(emulator_options());
  prepare(sf);
  ChannelSpec spec{kChannel, topic_};
  spec.on_invalid_replay_id = "latest";
  Bridge bridge(config_for(sf, spec), dir_, "second");
  ASSERT_TRUE(bridge.wait_ready()) << bridge.output();
  ASSERT_TRUE(bridge.process().wait_for_output("invalid", 30s)) << bridge.output();
  Injected fresh;
  // The resubscription with -1 may still be on its way: keep injecting until one arrives.
  ASSERT_TRUE(test_support::wait_until(
      [&] {
        inject(sf, 1, fresh);
        return wait_for_channel(*kafka_, topic_, kChannel, 101, 1s).size() > 100;
      },
      30s, 10ms));
  ASSERT_EQ(bridge.terminate(), 0) << bridge.output();
  auto records = seen();
  ASSERT_GT(records.size(), 100u);
  // Nothing of the retained backlog: every record after the first 100 is a fresh one.
  for (std::size_t i = 100; i < records.size(); ++i) {
    EXPECT_GE(records[i].replay_id, fresh.ranges.front().first_replay_id);
  }
}

TEST_F(InvalidReplay, FailStopsTheBridgeWithAnError) {
  EmulatorProcess sf(emulator_options());
  prepare(sf);
  ChannelSpec spec{kChannel, topic_};
  spec.on_invalid_replay_id = "fail";
  Bridge bridge(config_for(sf, spec), dir_, "second");
  auto code = bridge.process().wait_for_exit(30s);
  ASSERT_TRUE(code.has_value()) << bridge.output();
  EXPECT_NE(*code, 0);
  EXPECT_NE(bridge.output().find("invalid"), std::string::npos) << bridge.output();
  EXPECT_EQ(seen().size(), 100u);
}

// A sandbox refresh. The checkpoint and the Kafka tail hold replay IDs of the old org, above
// anything the refreshed org has; Salesforce refuses them. Unless the channel restarts in a new
// epoch, every event of the new org is taken for a duplicate of the old position (produced 0).
class OrgRefresh : public SubscribeFaults {
 protected:
  static constexpr const char* kOldOrg = "00Dxx0000001gPLEAY";
  static constexpr const char* kNewOrg = "00Dxx0000001REFRSH";
  BridgeConfig oauth_config(const EmulatorProcess& sf) {
    auto config = config_for(sf);
    config.access_token.clear();  // client_credentials: the token names the org
    config.client_id = "cid";
    config.client_secret = "csecret";
    return config;
  }
  // Starts a bridge, waits until the channel holds `total` records, stops it (exit 0).
  std::string run_until(const BridgeConfig& config, std::size_t total, const std::string& name) {
    Bridge bridge(config, dir_, name);
    EXPECT_TRUE(bridge.wait_ready()) << bridge.output();
    wait_for_channel(*kafka_, topic_, kChannel, total, kLong);
    EXPECT_EQ(bridge.terminate(), 0) << bridge.output();
    return bridge.output();
  }
  // Records of the channel with the org header each carries.
  std::vector<std::optional<std::string>> orgs() {
    std::vector<std::optional<std::string>> out;
    for (const auto& record : kafka_->read_all(topic_)) {
      if (record.header("sf.channel") == kChannel) {
        out.push_back(record.header("sf.org_id"));
      }
    }
    return out;
  }
};

TEST_F(OrgRefresh, EveryEventOfTheRefreshedOrgReachesKafkaOnceAndRestartsDoNotLoop) {
  EmulatorProcess sf(emulator_options({"--client-id", "cid", "--client-secret", "csecret"}));
  const auto config = oauth_config(sf);
  Injected old_org;
  inject(sf, 300, old_org);
  run_until(config, 300, "first");

  sf.faults(R"({"refresh_org":true})");
  Injected new_org;
  inject(sf, 200, new_org);  // replay IDs start low again: all below the checkpoint
  ASSERT_LT(new_org.ranges.back().last_replay_id, old_org.ranges.back().last_replay_id);
  const std::string second = run_until(config, 500, "second");

  auto records = seen();
  ASSERT_EQ(records.size(), 500u) << second;
  EXPECT_EQ(check_exactly_once({records.begin(), records.begin() + 300}, old_org, true), "");
  EXPECT_EQ(check_exactly_once({records.begin() + 300, records.end()}, new_org, true), "");
  // The warning names both orgs and the void position, and the fallback is counted.
  EXPECT_NE(second.find("EVENTS MAY HAVE BEEN MISSED"), std::string::npos) << second;
  EXPECT_NE(second.find(kOldOrg), std::string::npos) << second;
  EXPECT_NE(second.find(kNewOrg), std::string::npos) << second;
  EXPECT_NE(second.find(std::to_string(old_org.ranges.back().last_replay_id)), std::string::npos)
      << second;
  const auto headers = orgs();
  ASSERT_EQ(headers.size(), 500u);
  EXPECT_EQ(headers.front(), kOldOrg);
  EXPECT_EQ(headers.back(), kNewOrg);

  // A restart with the checkpoint file, then one without (a dyno: only the Kafka tail): neither
  // falls back again nor writes anything twice.
  inject(sf, 50, new_org);
  const std::string third = run_until(config, 550, "third");
  EXPECT_EQ(third.find("EVENTS MAY HAVE BEEN MISSED"), std::string::npos) << third;
  std::filesystem::remove_all(config.checkpoint_dir);
  inject(sf, 50, new_org);
  const std::string fourth = run_until(config, 600, "fourth");
  EXPECT_EQ(fourth.find("EVENTS MAY HAVE BEEN MISSED"), std::string::npos) << fourth;
  records = seen();
  ASSERT_EQ(records.size(), 600u);
  EXPECT_EQ(check_exactly_once({records.begin() + 300, records.end()}, new_org, true), "");
}

// The same without an org to go by (access_token flow: no identity URL) and with the Kafka tail
// of the old position: the emulator forgets every event (replay IDs start low again), so the
// checkpoint and Kafka's newest record are above the org's newest and Salesforce refuses them.
// The restart's epoch (file and sf.replay_epoch) keeps the old position from winning again.
TEST_F(OrgRefresh, RefusedPositionWithoutAKnownOrgRestartsOnceAndTheEpochHolds) {
  EmulatorProcess sf(emulator_options());
  const auto config = config_for(sf);  // access_token flow
  Injected before;
  inject(sf, 100, before);
  run_until(config, 100, "first");

  sf.reset();
  Injected after;
  inject(sf, 50, after);
  ASSERT_LT(after.ranges.back().last_replay_id, before.ranges.back().last_replay_id);
  const std::string second = run_until(config, 150, "second");
  EXPECT_NE(second.find("EVENTS MAY HAVE BEEN MISSED"), std::string::npos) << second;
  auto records = seen();
  ASSERT_EQ(records.size(), 150u) << second;
  EXPECT_EQ(check_exactly_once({records.begin(), records.begin() + 100}, before, true), "");
  EXPECT_EQ(check_exactly_once({records.begin() + 100, records.end()}, after, true), "");

  inject(sf, 20, after);
  const std::string third = run_until(config, 170, "third");
  EXPECT_EQ(third.find("EVENTS MAY HAVE BEEN MISSED"), std::string::npos) << third;
  std::filesystem::remove_all(config.checkpoint_dir);
  inject(sf, 10, after);
  const std::string fourth = run_until(config, 180, "fourth");
  EXPECT_EQ(fourth.find("EVENTS MAY HAVE BEEN MISSED"), std::string::npos) << fourth;
  records = seen();
  ASSERT_EQ(records.size(), 180u);
  EXPECT_EQ(check_exactly_once({records.begin() + 100, records.end()}, after, true), "");
}

// The refresh happens while the bridge runs: it re-authenticates, sees the new org and restarts
// the channel from the fallback at once.
TEST_F(OrgRefresh, RefreshWhileRunningRestartsTheChannelInTheNewOrg) {
  EmulatorProcess sf(emulator_options({"--client-id", "cid", "--client-secret", "csecret"}));
  const auto config = oauth_config(sf);
  Bridge bridge(config, dir_);
  ASSERT_TRUE(bridge.wait_ready()) << bridge.output();
  Injected old_org;
  inject(sf, 300, old_org);
  wait_for_channel(*kafka_, topic_, kChannel, 300, kLong);

  sf.faults(R"({"refresh_org":true})");
  Injected new_org;
  inject(sf, 200, new_org);
  wait_for_channel(*kafka_, topic_, kChannel, 500, kLong);
  ASSERT_EQ(bridge.terminate(), 0) << bridge.output();
  auto records = seen();
  ASSERT_EQ(records.size(), 500u) << bridge.output();
  EXPECT_EQ(check_exactly_once({records.begin(), records.begin() + 300}, old_org, true), "");
  EXPECT_EQ(check_exactly_once({records.begin() + 300, records.end()}, new_org, true), "");
  // The CometD client saw the new org in the new token and restarted the channel.
  const std::string restarted = std::string("org ") + kOldOrg + " -> " + kNewOrg;
  EXPECT_NE(bridge.output().find(restarted), std::string::npos) << bridge.output();

  // And the next start resumes in the new org without another fallback.
  inject(sf, 20, new_org);
  const std::string next = run_until(config, 520, "next");
  EXPECT_EQ(next.find("EVENTS MAY HAVE BEEN MISSED"), std::string::npos) << next;
  records = seen();
  ASSERT_EQ(records.size(), 520u);
  EXPECT_EQ(check_exactly_once({records.begin() + 300, records.end()}, new_org, true), "");
}

TEST_P(SubscribeFaultsOverApi, BrokerDownForTwentySecondsLosesNothingAndMemoryStaysBounded) {
  // A short reconnect window: while backpressure holds the connects, Salesforce forgets the
  // session, and the rehandshake must resume from the acknowledged watermark.
  EmulatorProcess sf(emulator_options({"--reconnect-window-ms", "5000"}));
  auto config = config_for(sf);
  config.max_in_flight = 1000;
  Bridge bridge(config, dir_);
  ASSERT_TRUE(bridge.wait_ready()) << bridge.output();
  Injected injected;
  inject(sf, 2000, injected);
  wait_for_channel(*kafka_, topic_, kChannel, 2000, kLong);

  std::int64_t peak_rss_kb = 0;
  {
    BrokerOutage outage(*kafka_);
    for (int i = 0; i < 10; ++i) {
      inject(sf, 600, injected);
      // The outage lasts 20 s by design; sampling RSS meanwhile.
      std::this_thread::sleep_for(2s);
      peak_rss_kb = std::max(peak_rss_kb, proc_status_kb(bridge.process().pid(), "VmRSS"));
    }
    ASSERT_TRUE(bridge.process().running()) << bridge.output();
  }
  wait_for_channel(*kafka_, topic_, kChannel, injected.total, 120s);
  const auto hwm_kb = proc_status_kb(bridge.process().pid(), "VmHWM");
  ASSERT_EQ(bridge.terminate(), 0) << bridge.output();
  EXPECT_EQ(check_exactly_once(seen(), injected, true), "");
  EXPECT_NE(bridge.output().find("pausing Salesforce"), std::string::npos) << bridge.output();
  // The bound is the product's (docs/ARCHITECTURE.md §1: memory stays bounded while Kafka is down).
  // Under AddressSanitizer (build-asan/) shadow memory and the quarantine roughly triple a
  // process's RSS, so there the same check uses a proportionally larger bound.
#if defined(__SANITIZE_ADDRESS__)
  constexpr std::int64_t kRssBoundKb = 3 * 128 * 1024;
#else
  constexpr std::int64_t kRssBoundKb = 128 * 1024;
#endif
  EXPECT_LT(hwm_kb, kRssBoundKb) << "peak RSS during the outage " << peak_rss_kb << " kB";
  std::cout << "[ info ] broker outage: peak VmRSS " << peak_rss_kb << " kB, VmHWM " << hwm_kb
            << " kB\n";
}

TEST_F(SubscribeFaults, OddInputIsHandledAndTheSessionKept) {
  EmulatorProcess sf(emulator_options());
  auto config = config_for(sf);
  // A 2 MB event needs a producer that accepts it; compression lets the broker's 1 MB default
  // take the batch.
  config.kafka_properties = {{"message.max.bytes", "8000000"}, {"compression.type", "lz4"}};
  Bridge bridge(config, dir_);
  ASSERT_TRUE(bridge.wait_ready()) << bridge.output();
  Injected injected;
  inject(sf, 10, injected);
  wait_for_channel(*kafka_, topic_, kChannel, 10, kLong);
  const auto sessions = stat(sf, "sessions_created");

  // An event on a channel nobody configured,
  sf.faults(
      R"({"connect_reply_extra":["{\"channel\":\"/event/D__e\",\"data\":{\"schema\":\"s\",)"
      R"(\"payload\":{\"Text__c\":\"stray\"},\"event\":{\"replayId\":99,\"EventUuid\":\"u\"}}}"]})");
  inject(sf, 5, injected);
  wait_for_channel(*kafka_, topic_, kChannel, 15, kLong);

  // then a 2 MB event.
  const std::string big(2 * 1024 * 1024, 'x');
  injected.add(sf.inject(kChannel, 1, R"({"Text__c":")" + big + R"("})"), 1);
  inject(sf, 5, injected);
  auto records = wait_for_channel(*kafka_, topic_, kChannel, 21, kLong);
  ASSERT_EQ(bridge.terminate(), 0) << bridge.output();

  records = seen();
  EXPECT_EQ(check_exactly_once(records, injected, true), "");
  bool big_seen = false;
  for (const auto& r : records) {
    big_seen = big_seen || r.value.size() > big.size();
  }
  EXPECT_TRUE(big_seen) << "the 2 MB event is not in Kafka";
  EXPECT_EQ(stat(sf, "sessions_created"), sessions) << "the session was not kept";
  for (const auto& [channel, list] : by_channel(kafka_->read_all(topic_))) {
    EXPECT_EQ(channel, kChannel) << "an unconfigured channel reached Kafka";
  }
}

// The emulator hands out at most 100 events per connect reply, so a reply spoiled by a fault
// always carries events that the server has already taken off the session's queue.
class LostConnectReplies : public SubscribeFaults {
 protected:
  void deliver_through(const std::string& fault, const std::string& reason) {
    EmulatorProcess sf(emulator_options({"--max-batch-events", "100"}));
    Bridge bridge(config_for(sf), dir_);
    ASSERT_TRUE(bridge.wait_ready()) << bridge.output();
    Injected injected;
    inject(sf, 50, injected);
    wait_for_channel(*kafka_, topic_, kChannel, 50, kLong);
    const auto sessions = stat(sf, "sessions_created");

    sf.faults(fault);
    inject(sf, 2000, injected);
    wait_for_channel(*kafka_, topic_, kChannel, injected.total, kLong);
    inject(sf, 50, injected);  // the new session goes on as usual
    wait_for_channel(*kafka_, topic_, kChannel, injected.total, kLong);
    ASSERT_EQ(bridge.terminate(), 0) << bridge.output();

    EXPECT_EQ(check_exactly_once(seen(), injected, true), "");
    EXPECT_GT(stat(sf, "sessions_created"), sessions) << "the session was not renewed";
    EXPECT_NE(bridge.output().find("connect reply lost (" + reason), std::string::npos)
        << bridge.output();
  }
};

TEST_F(LostConnectReplies, AnUnreadableConnectReplyEndsTheSessionAndLosesNothing) {
  deliver_through(R"({"connect_reply_extra":["{garbage"]})", "undecodable");
}

TEST_F(LostConnectReplies, AConnectReplyCutMidBodyEndsTheSessionAndLosesNothing) {
  deliver_through(R"({"cut_next_connects":{"count":1,"after_bytes":3000}})", "transport");
}

TEST_F(LostConnectReplies, AGarbagePageInsteadOfAConnectReplyEndsTheSession) {
  deliver_through(R"({"garbage_next_connects":1})", "undecodable");
}

}  // namespace
}  // namespace sfkb::it::subscribe
