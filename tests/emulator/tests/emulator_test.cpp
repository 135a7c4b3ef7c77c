// The process and the admin API: start-up line, clean exit on SIGTERM, start-up errors, inject
// templating, published log, faults validation, stats and reset.

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <deque>
#include <fstream>
#include <thread>

#include <future>

#include "test_support.h"

namespace sfkb::emulator::test {
namespace {

TEST(EmulatorProcessTest, PrintsListeningLineAndExitsZeroOnSigterm) {
  EmulatorProcess sf;
  EXPECT_EQ(sf.base_url().rfind("http://127.0.0.1:", 0), 0u);
  EXPECT_GT(sf.port(), 0);
  auto http = client_for(sf);
  auto res = http.Get("/_emulator/stats");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);

  auto started = std::chrono::steady_clock::now();
  int status = sf.stop(std::chrono::milliseconds(10000));
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST(EmulatorProcessTest, SigtermEndsAWaitingLongPoll) {
  EmulatorProcess sf(with_args({"--connect-timeout-ms", "60000"}));
  Bayeux bayeux(sf, sf.static_token());
  bayeux.handshake();
  bayeux.subscribe("/event/Test_Event__e", -1);
  bayeux.connect();  // answered at once: the first after the handshake
  auto poll = std::async(std::launch::async, [&] { return bayeux.connect_raw(); });
  ASSERT_EQ(poll.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  int status = sf.stop(std::chrono::milliseconds(10000));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(poll.wait_for(std::chrono::seconds(5)), std::future_status::ready);
}

TEST(EmulatorProcessTest, StopsWhenItsStdinCloses) {
  // What happens when the test process dies: the pipe's write end closes with it.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ScopedTempFile events_file("sf-emulator-stdin-eof-events");
  const std::string& events = events_file.path();
  {
    std::ofstream out(events);
    out << "events:\n  A__e:\n    F__c: string\n";
  }
  // Everything the child needs is prepared before fork: only async-signal-safe calls after it.
  const std::string bin = EmulatorProcess::default_binary();
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(fds[0], STDIN_FILENO);
    ::close(fds[1]);
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, STDOUT_FILENO);
    ::execl(bin.c_str(), bin.c_str(), "--events", events.c_str(), "--exit-on-stdin-eof",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[0]);
  ::close(fds[1]);
  int status = 0;
  pid_t done = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((done = ::waitpid(pid, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (done == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    FAIL() << "sf-emulator kept running after its stdin closed";
  }
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(EmulatorProcessTest, BadEventsFileFailsToStart) {
  EmulatorProcess::Options o;
  o.events_yaml = "events:\n  Bad__e:\n    Field__c: blob\n";
  EXPECT_THROW(EmulatorProcess{o}, std::runtime_error);
}

class AdminTest : public ::testing::Test {
 protected:
  EmulatorProcess sf_;
  httplib::Client http_ = client_for(sf_);
};

TEST_F(AdminTest, InjectReturnsReplayIdRangeAndTemplatesFields) {
  auto a = sf_.inject("/event/Test_Event__e", 3, R"({"Text__c":"s{seq}-n{n}"})");
  auto b = sf_.inject("/event/Test_Event__e", 2, R"({"Text__c":"s{seq}-n{n}"})");
  EXPECT_LT(a.first_replay_id, a.last_replay_id);
  EXPECT_GT(b.first_replay_id, a.last_replay_id);

  Bayeux bayeux(sf_, sf_.static_token());
  bayeux.handshake();
  bayeux.subscribe("/event/Test_Event__e", -2);
  std::vector<std::string> texts;
  for (const auto* e : events_of(bayeux.connect())) {
    texts.push_back(str((*e)["data"]["payload"], "Text__c"));
  }
  EXPECT_EQ(texts, (std::vector<std::string>{"s0-n0", "s1-n1", "s2-n2", "s0-n3", "s1-n4"}));
}

TEST_F(AdminTest, LargeInjectArrivesCompleteAndInOrder) {
  auto ids = sf_.inject("/event/Test_Event__e", 25'000, R"({"Text__c":"{seq}"})");
  Bayeux bayeux(sf_, sf_.static_token());
  bayeux.handshake();
  bayeux.subscribe("/event/Test_Event__e", -2);
  std::vector<long long> replay_ids;
  std::size_t in_order = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (replay_ids.size() < 25'000 && std::chrono::steady_clock::now() < deadline) {
    auto reply = bayeux.connect();
    for (const auto* e : events_of(reply)) {
      in_order += str((*e)["data"]["payload"], "Text__c") == std::to_string(replay_ids.size());
      replay_ids.push_back((*e)["data"]["event"]["replayId"].GetInt64());
    }
  }
  ASSERT_EQ(replay_ids.size(), 25'000u);
  EXPECT_EQ(in_order, 25'000u);
  EXPECT_EQ(replay_ids.front(), ids.first_replay_id);
  EXPECT_EQ(replay_ids.back(), ids.last_replay_id);
}

TEST_F(AdminTest, InjectOnAnyChannelIncludingDataChannels) {
  auto ids = sf_.inject("/data/AccountChangeEvent", 1, R"({"Name":"Acme"})");
  EXPECT_GT(ids.first_replay_id, 0);
  Bayeux bayeux(sf_, sf_.static_token());
  bayeux.handshake();
  ASSERT_TRUE(bayeux.subscribe("/data/AccountChangeEvent", -2)[0]["successful"].GetBool());
  auto events = events_of(bayeux.connect());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(str((*events[0])["data"]["payload"]["ChangeEventHeader"], "entityName"), "Account");
  EXPECT_EQ(str((*events[0])["data"]["payload"], "Name"), "Acme");
}

TEST_F(AdminTest, PushTopicAndChangeEventsArriveInSalesforcesShapes) {
  // Injected on each kind's channel,
  auto topic = sf_.inject_json(R"({"channel":"/topic/InvoiceUpdates","count":2,"type":"deleted",)"
                               R"("sobject":{"Id":"a07xx00000{seq}AAA","Amount__c":12.50}})");
  auto change = sf_.inject_json(
      R"({"channel":"/data/ChangeEvents","change":{"entityName":"Account","changeType":"UPDATE",)"
      R"("recordIds":["001xx000003DGb2AAG","001xx000003DGb3AAG"]},"payload":{"Rating":"Hot"}})");
  auto gap = sf_.inject_json(
      R"({"channel":"/data/ChangeEvents","change":{"entityName":"Account","changeType":"GAP_OVERFLOW"}})");
  Bayeux bayeux(sf_, sf_.static_token());
  bayeux.handshake();
  ASSERT_TRUE(bayeux.subscribe("/topic/InvoiceUpdates", -2)[0]["successful"].GetBool());
  ASSERT_TRUE(bayeux.subscribe("/data/ChangeEvents", -2)[0]["successful"].GetBool());
  std::deque<rapidjson::Document> replies;  // stable addresses for the pointers below
  std::vector<const rapidjson::Value*> events;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (events.size() < 4 && std::chrono::steady_clock::now() < deadline) {
    replies.push_back(bayeux.connect());
    for (const auto* e : events_of(replies.back())) {
      events.push_back(e);
    }
  }
  ASSERT_EQ(events.size(), 4u);
  std::vector<const rapidjson::Value*> topics, changes;
  for (const auto* e : events) {
    (str(*e, "channel") == "/topic/InvoiceUpdates" ? topics : changes).push_back(e);
  }
  ASSERT_EQ(topics.size(), 2u);
  ASSERT_EQ(changes.size(), 2u);

  // a PushTopic event has no schema and no payload, only event and sobject,
  const auto& t = (*topics[1])["data"];
  EXPECT_FALSE(t.HasMember("schema"));
  EXPECT_FALSE(t.HasMember("payload"));
  EXPECT_EQ(str(t["event"], "type"), "deleted");
  EXPECT_FALSE(str(t["event"], "createdDate").empty());
  EXPECT_FALSE(t["event"].HasMember("EventUuid"));
  EXPECT_EQ(t["event"]["replayId"].GetInt64(), topic.last_replay_id);
  EXPECT_EQ(str(t["sobject"], "Id"), "a07xx000001AAA");
  // (the raw reply keeps 12.50 as sent)
  EXPECT_EQ(t["sobject"]["Amount__c"].GetDouble(), 12.5);

  // and a change event has a header, several record IDs, no EventUuid; a gap only the header.
  const auto& c = (*changes[0])["data"];
  EXPECT_FALSE(str(c, "schema").empty());
  EXPECT_EQ(c["event"]["replayId"].GetInt64(), change.first_replay_id);
  EXPECT_FALSE(c["event"].HasMember("EventUuid"));
  EXPECT_FALSE(c["payload"].HasMember("CreatedDate"));
  const auto& header = c["payload"]["ChangeEventHeader"];
  EXPECT_EQ(str(header, "changeType"), "UPDATE");
  ASSERT_EQ(header["recordIds"].Size(), 2u);
  EXPECT_STREQ(header["recordIds"][1].GetString(), "001xx000003DGb3AAG");
  EXPECT_TRUE(header["commitTimestamp"].IsInt64());
  EXPECT_EQ(str(c["payload"], "Rating"), "Hot");
  const auto& g = (*changes[1])["data"];
  EXPECT_EQ(g["event"]["replayId"].GetInt64(), gap.first_replay_id);
  EXPECT_EQ(g["payload"].MemberCount(), 1u);
  EXPECT_EQ(str(g["payload"]["ChangeEventHeader"], "changeType"), "GAP_OVERFLOW");
  EXPECT_EQ(g["payload"]["ChangeEventHeader"]["recordIds"].Size(), 0u);
}

TEST_F(AdminTest, InjectRefusesAShapeThatDoesNotFitTheChannel) {
  EXPECT_THROW(sf_.inject("/topic/InvoiceUpdates", 1, R"({"Name":"x"})"), testing::AdminError);
  auto res =
      http_.Post("/_emulator/inject", R"({"channel":"/data/ChangeEvents","payload":{"Name":"x"}})",
                 "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("change.entityName is required"), std::string::npos) << res->body;
}

TEST_F(AdminTest, InjectRejectsBadRequests) {
  for (const char* body : {R"({"count":1})", R"({"channel":"/event/X__e","count":0})",
                           R"({"channel":"/event/X__e","payload":[]})", "nope"}) {
    auto res = http_.Post("/_emulator/inject", body, "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << body;
  }
}

TEST_F(AdminTest, PublishedRequiresEventParameter) {
  auto res = http_.Get("/_emulator/published");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(sf_.published("Never_Published__e").count, 0u);
}

TEST_F(AdminTest, FaultsRejectUnknownKeysAndListValidOnes) {
  auto res = http_.Post("/_emulator/faults", R"({"explode":true})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("expire_tokens"), std::string::npos);
  res = http_.Post("/_emulator/faults", R"({"latency_ms":"slow"})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
}

TEST_F(AdminTest, StatsCountRequestsSessionsAndDeliveries) {
  Bayeux bayeux(sf_, sf_.static_token());
  bayeux.handshake();
  bayeux.subscribe("/event/Test_Event__e", -1);
  sf_.inject("/event/Test_Event__e", 4);
  EXPECT_EQ(events_of(bayeux.connect()).size(), 4u);
  auto stats = parse(sf_.stats());
  EXPECT_EQ(stats["sessions"].GetInt(), 1);
  EXPECT_EQ(stats["events_delivered"].GetInt(), 4);
  EXPECT_EQ(stats["events_injected"].GetInt(), 4);
  EXPECT_EQ(stats["connects_in_flight"].GetInt(), 0);
  EXPECT_EQ(stats["requests"]["POST /cometd"]["200"].GetInt(), 3);
  EXPECT_EQ(stats["bayeux"]["/meta/connect"].GetInt(), 1);
  EXPECT_EQ(sf_.stat("sessions_created"), 1);
  EXPECT_THROW(sf_.stat("no_such_stat"), testing::AdminError);
}

TEST_F(AdminTest, ResetForgetsEventsSessionsFaultsAndPublished) {
  Bayeux bayeux(sf_, sf_.static_token());
  bayeux.handshake();
  sf_.inject("/event/Test_Event__e", 2);
  sf_.faults(R"({"busy_next_connects":5})");
  sf_.reset();
  auto stats = parse(sf_.stats());
  EXPECT_EQ(stats["sessions"].GetInt(), 0);
  EXPECT_EQ(stats["faults"]["busy_next_connects"].GetInt(), 0);
  EXPECT_EQ(stats["channels"].Size(), 0u);
  EXPECT_EQ(str(bayeux.connect()[0], "error"), "403::Unknown client");
}

}  // namespace
}  // namespace sfkb::emulator::test
